#!/usr/bin/env python3
"""Timing helper for the benchmark scripts (standard library only).

    bench.py [--cpu N] ROUNDS CMD [CMD ...]

Runs every shell command once as a warm-up (page cache, dynamic loader), then ROUNDS
rounds, each running every command once in the given order (interleaved, so drift in
machine load hits all commands alike). --cpu N pins everything to CPU N. Prints one line
per command, in order:

    <total wall s> <total CPU s (user+sys, incl. children)> <best round wall s> <other load>

"other load" is the CPU time the rest of the machine used while this command ran, as a
fraction of one core (from /proc/stat): well above 0 means the numbers are disturbed.
Commands run under `bash -euo pipefail -c`; a failing command aborts with status 1.
"""
import os
import signal
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def machine_busy():
    """Busy CPU seconds of the whole machine so far (all fields of /proc/stat but idle, iowait)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def run(cmd):
    busy, start = machine_busy(), time.perf_counter()
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", cmd], start_new_session=True)
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # interrupted: take the command's whole process group down with us
        os.killpg(proc.pid, signal.SIGTERM)
        raise
    wall, busy = time.perf_counter() - start, machine_busy() - busy
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench.py: command failed ({os.waitstatus_to_exitcode(status)}): {cmd}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, max(0.0, busy - cpu)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = sys.argv[1:]
    if args[0] == "--cpu":
        os.sched_setaffinity(0, {int(args[1])})
        args = args[2:]
    rounds, cmds = int(args[0]), args[1:]
    for cmd in cmds:
        run(cmd)
    wall, cpu, best, other = ([0.0] * len(cmds) for _ in range(4))
    best = [float("inf")] * len(cmds)
    for _ in range(rounds):
        for i, cmd in enumerate(cmds):
            w, c, o = run(cmd)
            wall[i] += w
            cpu[i] += c
            other[i] += o
            best[i] = min(best[i], w)
    for i in range(len(cmds)):
        print(f"{wall[i]:.3f} {cpu[i]:.3f} {best[i]:.3f} {other[i] / wall[i]:.2f}")


if __name__ == "__main__":
    main()
