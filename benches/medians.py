"""Medians of interleaved benchmark runs, and the ratio of our sides to the fastest other side.

Usage: python3 benches/medians.py RESULTS OURS OTHER...
RESULTS holds one line per run, "LABEL SIDE SECONDS PEAK_KB [CPU_S]" (the labels and sides
without spaces), as the benchmark scripts' `measure` writes it; CPU_S, when there, is the
process's user + system CPU seconds. OURS may name several sides, comma-separated (each is
compared on its own). For each label, in the order first seen, prints each side's median wall
time, its range, its peak memory and (when given) its median CPU with its range, then each of
OURS's median over the fastest OTHER's median, by wall and by CPU. A side without runs for a
label is left out of it.
"""
import statistics
import sys
from collections import defaultdict

results, ours, others = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
times, peaks, cpus, order = defaultdict(list), defaultdict(list), defaultdict(list), []
for line in open(results):
    label, side, secs, kb, *cpu = line.split()
    if label not in order:
        order.append(label)
    times[label, side].append(float(secs))
    peaks[label, side].append(int(kb))
    if cpu:
        cpus[label, side].append(float(cpu[0]))
print(f"{'query':16} {'side':15} {'median s':>9} {'min-max s':>13} {'peak MB':>8} {'CPU ms':>8} {'min-max CPU ms':>15}")
for label in order:
    sides = [s for s in [*ours, *others] if times[label, s]]
    for side in sides:
        v, c = times[label, side], cpus[label, side]
        cpu = f"{statistics.median(c) * 1e3:8.1f} {min(c) * 1e3:7.1f}-{max(c) * 1e3:<7.1f}" if c else ""
        print(f"{label:16} {side:15} {statistics.median(v):9.3f} {min(v):6.3f}-{max(v):<6.3f}"
              f" {max(peaks[label, side]) / 1024:8.0f} {cpu}")
    theirs = [s for s in others if times[label, s]]
    if not theirs:
        continue
    for side in [s for s in ours if times[label, s]]:
        best = min(statistics.median(times[label, s]) for s in theirs)
        line = f"{'':16} {side} / fastest of {', '.join(theirs)}: wall {statistics.median(times[label, side]) / best:.2f}"
        if all(cpus[label, s] for s in [side, *theirs]):
            best_cpu = min(statistics.median(cpus[label, s]) for s in theirs)
            line += f", CPU {statistics.median(cpus[label, side]) / best_cpu:.2f}"
        print(line)
