#!/usr/bin/env python3
"""perf/alternation/pairs.py LOG [SKIP]: compares code variants that took turns inside one switch
process (see variants.patch and docs/perf.md, "Alternating variants in one process").

LOG has one line per interval: "<epoch s> <variant> <Mpps>", variant 0 being the baseline, which
alternates with the others (0, a, 0, b, ...). Each interval of a variant is divided by the mean of
the two baseline intervals around it, so that the machine's phases (10-40 s) hit both sides of a
pair alike; the pairs are split by the baseline's speed (fast phase: above FAST Mpps). Prints the
median ratio per variant and phase. SKIP: intervals to leave out at the start (JIT warm-up)."""
import statistics
import sys

FAST = 8.0  # Mpps: p2p on this machine runs 9-12 in the fast phase, 3.5-6 in the slow one


def main():
    rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
    rows = [(int(v), float(r)) for _, v, r in rows][int(sys.argv[2]) if len(sys.argv) > 2 else 5:]
    ratios = {}
    for i in range(1, len(rows) - 1):
        (before, a), (variant, r), (after, b) = rows[i - 1], rows[i], rows[i + 1]
        if variant == 0 or before != 0 or after != 0 or a + b <= 0:
            continue
        base = (a + b) / 2
        ratios.setdefault(variant, []).append((r / base, base > FAST))

    def median(xs):
        return "%.3f (n=%d)" % (statistics.median(xs), len(xs)) if xs else "-"

    for variant, pairs in sorted(ratios.items()):
        print("variant %d: all %s, fast phase %s, slow phase %s" % (
            variant, median([x for x, _ in pairs]), median([x for x, f in pairs if f]), median([x for x, f in pairs if not f])))


if __name__ == "__main__":
    main()
