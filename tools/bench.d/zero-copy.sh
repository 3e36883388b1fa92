#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Zero-copy against the bounce path, in one first-level VM boot:
#   tools/vm/run --kernel 6.1 --smp 2 -- tools/bench.d/zero-copy.sh
# The userspace VFIO client (tools/vfio) reads from null_blk through one
# vnvme instance whose vnvme/zero_copy flips between rounds (it may change
# only while the client has the device closed, which it has between jobs).
# Rounds alternate the two modes so that drift of the host (other VMs on
# the cores) falls on both; each job prints the median IOPS of the rounds,
# the spread (min-max) and the ratio of the medians.
# VNVME_BENCH_SECONDS (default 5) per job, VNVME_BENCH_ROUNDS (default 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${VNVME_BENCH_SECONDS:-5}
rounds=${VNVME_BENCH_ROUNDS:-5}
client=tools/vfio/vnvme-vfio
jobs=("4k-randread-qd1 randread 4096 1" "4k-randread-qd32 randread 4096 32"
	"128k-read-qd32 read 131072 32")

# shellcheck source=tools/bench.d/instance.sh
source tools/bench.d/instance.sh

results=$(mktemp)
for ((round = 1; round <= rounds; round++)); do
	for mode in 1 0; do
		echo "$mode" > "$dev/vnvme/zero_copy"
		for job in "${jobs[@]}"; do
			read -r name rw bs qd <<<"$job"
			iops=$($client --json --irq "$uuid" bench 1 --rw "$rw" --bs "$bs" --qd "$qd" \
				--queues 1 --seconds "$seconds" |
				python3 -c 'import json, sys; print(round(json.load(sys.stdin)["iops"]))')
			echo "$name $mode $iops" >>"$results"
			echo "round $round zero_copy=$mode $name: $iops IOPS" >&2
		done
	done
done

echo "# zero-copy vs bounce: $(uname -r), $(nproc) vCPUs, null_blk, ${seconds}s x $rounds rounds per job"
echo
echo "| job | zero-copy IOPS median (min-max) | bounce IOPS median (min-max) | zero-copy / bounce |"
echo "|---|---|---|---|"
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, mode, iops = line.split()
    rows.setdefault(name, {}).setdefault(mode, []).append(int(iops))
for name, m in rows.items():
    zc, bb = m["1"], m["0"]
    mz, mb = statistics.median(zc), statistics.median(bb)
    print(f"| {name} | {mz:.0f} ({min(zc)}-{max(zc)}) | {mb:.0f} ({min(bb)}-{max(bb)}) "
          f"| {mz / mb if mb else 0:.2f} |")
PY
echo
echo "pin cache: $(tr '\n' ' ' <"$dev/vnvme/pin_cache")"
rm -f "$results"
echo 1 > "$dev/remove"
rmmod vnvme
