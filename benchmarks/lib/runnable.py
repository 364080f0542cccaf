#!/usr/bin/env python3
"""Counts the runnable threads of a command while it runs (standard library only).

    runnable.py [--interval S] CMD

Runs CMD under `bash -euo pipefail -c` in its own process group and, every S seconds
(default 0.005), counts the threads of that group in state R (running or waiting for a CPU)
from /proc/PID/task/TID/stat. Prints one line:

    <samples> <mean runnable> <max runnable> <share of samples above the CPU count> <most threads>

Only samples with at least one runnable thread count towards the mean and the share (the
command waiting on I/O is not what is measured). The sampler is a process of its own and
reads /proc only, so it never counts itself.
"""
import os
import subprocess
import sys
import time


def group_members(pgid):
    """The processes of process group `pgid`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:      # fields after the name: state, ppid, pgrp, ...
            pids.append(entry)
    return pids


def thread_states(pids):
    states = []
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                pass
    return states


def main(argv):
    interval = 0.005
    if argv and argv[0] == "--interval":
        interval, argv = float(argv[1]), argv[2:]
    if len(argv) != 1:
        sys.exit(__doc__)
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", argv[0]], start_new_session=True)
    cpus = os.cpu_count() or 1
    samples, busy, total, peak, above, most = 0, 0, 0, 0, 0, 0
    pids, refreshed = [], 0.0
    while proc.poll() is None:
        now = time.monotonic()
        if now - refreshed > 0.1:      # a new process (the shell's child) shows up within 0.1 s
            pids, refreshed = group_members(proc.pid), now
        states = thread_states(pids)
        running = states.count("R")
        samples += 1
        most = max(most, len(states))
        if running:
            busy += 1
            total += running
            peak = max(peak, running)
            above += running > cpus
        time.sleep(interval)
    if proc.returncode != 0:
        sys.exit(f"runnable.py: command failed ({proc.returncode}): {argv[0]}")
    print(samples, f"{total / max(1, busy):.2f}", peak, f"{above / max(1, busy):.3f}", most)


if __name__ == "__main__":
    main(sys.argv[1:])
