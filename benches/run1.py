#!/usr/bin/env python3
"""Runs one command as a whole process, its standard output into a file, and prints
"WALL_S PEAK_KB USER_S SYS_S": wall time from fork to exit (perf_counter, nanoseconds), and the
child's own resource usage from wait4 (peak resident set in KiB, CPU in microseconds), which GNU
time gives only in hundredths of a second. This runner's own start is not counted.

Usage: python3 benches/run1.py OUT COMMAND [ARGS...]   (exits with the command's status)
"""
import os
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
start = time.perf_counter_ns()
pid = os.fork()
if pid == 0:
    os.dup2(fd, 1)
    os.execvp(cmd[0], cmd)
_, status, usage = os.wait4(pid, 0)
end = time.perf_counter_ns()
print(f"{(end - start) / 1e9:.4f} {usage.ru_maxrss} {usage.ru_utime:.6f} {usage.ru_stime:.6f}")
sys.exit(os.waitstatus_to_exitcode(status))
