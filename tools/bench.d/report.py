#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tables of the benchmark (tools/bench) from its records.

Each record is one job of one configuration in one round:
    section job config round iops p50_us p99_us cpu_us_per_io
A cell is the median over the rounds; the spread after it is (max - min) / median of
the rounds.  Ratios are of medians.
Usage: report.py RECORDS.tsv MACHINE_FILE ACCEL
"""
import statistics
import sys
from collections import defaultdict

# Per section, the configurations every row is compared with: IOPS and CPU per I/O.
BASELINES = {
    "l1": ["io_uring", "io_uring-hipri"],
    "nested": ["qemu-nvme", "virtio-blk"],
}
TITLES = {
    "l1": "First-level VM: the tools/vfio client vs fio on the same null_blk",
    "nested": "Nested guest (inbox drivers): vnvme vs QEMU's NVMe vs virtio-blk",
}
METRICS = [("IOPS", "{:.0f}"), ("p50 us", "{:.1f}"), ("p99 us", "{:.1f}"),
           ("CPU us/IO", "{:.2f}")]


def cell(values, fmt):
    """The median of the rounds and their spread, (max - min) / median."""
    med = statistics.median(values)
    spread = (max(values) - min(values)) / med * 100 if med else 0
    return f"{fmt.format(med)} ±{spread:.0f}%"


def main():
    records, machine, accel = sys.argv[1:4]
    data = defaultdict(lambda: defaultdict(list))   # (section, job) -> config -> rows
    jobs, configs = defaultdict(list), defaultdict(list)
    rounds = set()
    for line in open(records):
        section, job, config, rnd, *vals = line.rstrip("\n").split("\t")
        data[(section, job)][config].append([float(v) for v in vals])
        rounds.add(rnd)
        if job not in jobs[section]:
            jobs[section].append(job)
        if config not in configs[section]:
            configs[section].append(config)
    print("# vnvme benchmark")
    print()
    print(f"{open(machine).read().strip()}; accelerator: {accel}; {len(rounds)} round(s)")
    print("Cells: median of the rounds ± spread ((max - min) / median).")
    for section in ("l1", "nested"):
        if section not in jobs:
            continue
        bases = [b for b in BASELINES[section] if b in configs[section]]
        head = ["job", "configuration"] + [m[0] for m in METRICS]
        head += [f"IOPS / {b}" for b in bases] + [f"CPU / {b}" for b in bases]
        print()
        print(f"## {TITLES[section]}")
        print()
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for job in jobs[section]:
            medians = {}
            for config in configs[section]:
                rows = data[(section, job)].get(config)
                if rows:
                    medians[config] = [statistics.median(r[i] for r in rows)
                                       for i in range(len(METRICS))]
            for config in configs[section]:
                rows = data[(section, job)].get(config)
                if not rows:
                    continue
                line = [job, config]
                line += [cell([r[i] for r in rows], fmt) for i, (_, fmt) in enumerate(METRICS)]
                for idx in (0, 3):
                    for b in bases:
                        mine, theirs = medians[config][idx], medians.get(b, [0] * 4)[idx]
                        line.append(f"{mine / theirs:.2f}" if theirs else "-")
                print("| " + " | ".join(line) + " |")

if __name__ == "__main__":
    main()
