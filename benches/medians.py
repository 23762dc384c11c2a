"""Medians of interleaved benchmark runs, and the ratio of one side to the fastest other side.

Usage: python3 benches/medians.py RESULTS OURS OTHER...
RESULTS holds one line per run, "LABEL SIDE SECONDS PEAK_KB" (the labels and sides without
spaces), as the benchmark scripts' `measure` writes it. For each label, in the order first seen,
prints each side's median wall time, its range and its peak memory, then OURS's median over the
fastest OTHER's median.
"""
import statistics
import sys
from collections import defaultdict

results, ours, others = sys.argv[1], sys.argv[2], sys.argv[3:]
times, peaks, order = defaultdict(list), defaultdict(list), []
for line in open(results):
    label, side, secs, kb = line.split()
    if label not in order:
        order.append(label)
    times[label, side].append(float(secs))
    peaks[label, side].append(int(kb))
print(f"{'query':16} {'side':10} {'median s':>9} {'min-max s':>12} {'peak MB':>8}")
for label in order:
    for side in [ours, *others]:
        v = times[label, side]
        print(f"{label:16} {side:10} {statistics.median(v):9.3f} {min(v):5.3f}-{max(v):<6.3f}"
              f" {max(peaks[label, side]) / 1024:8.0f}")
    best = min(statistics.median(times[label, s]) for s in others)
    ratio = statistics.median(times[label, ours]) / best
    print(f"{'':16} {ours} / fastest of {', '.join(others)}: {ratio:.2f}")
