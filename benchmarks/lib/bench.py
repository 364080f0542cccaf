#!/usr/bin/env python3
"""Timing helper for the benchmark scripts (standard library only).

    bench.py ROUNDS CMD [CMD ...]

Runs every shell command once as a warm-up (page cache, dynamic loader), then ROUNDS
rounds, each running every command once in the given order (interleaved, so drift in
machine load hits all commands alike). Prints one line per command, in order:

    <total wall seconds> <total CPU seconds (user+sys, command and its children)>

Commands run under `bash -o pipefail -c`; a failing command aborts with status 1.
"""
import os
import subprocess
import sys
import time


def run(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(["bash", "-euo", "pipefail", "-c", cmd])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"bench.py: command failed with status {proc.returncode}: {cmd}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    rounds, cmds = int(sys.argv[1]), sys.argv[2:]
    for cmd in cmds:
        run(cmd)
    totals = [[0.0, 0.0] for _ in cmds]
    for _ in range(rounds):
        for i, cmd in enumerate(cmds):
            wall, cpu = run(cmd)
            totals[i][0] += wall
            totals[i][1] += cpu
    for wall, cpu in totals:
        print(f"{wall:.3f} {cpu:.3f}")


if __name__ == "__main__":
    main()
