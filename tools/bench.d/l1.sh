#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark body, run in the first-level VM by tools/bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${VNVME_BENCH_SECONDS:-5}
client=tools/vfio/vnvme-vfio

modprobe vfio_iommu_type1
modprobe mdev
modprobe libcrc32c
modprobe null_blk nr_devices=1 gb=4 bs=4096 irqmode=0
insmod "build/kmod/$(uname -r)/vnvme.ko"
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "$uuid" > /sys/class/mdev_bus/vnvme/mdev_supported_types/vnvme-small/create
dev=/sys/bus/mdev/devices/$uuid
echo /dev/nullb0 > "$dev/ns1/device_path"
echo 1 > "$dev/ns1/enable"

# Busy jiffies of the whole machine (user+nice+system+irq+softirq).
busy() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
hz=$(getconf CLK_TCK)

# run_vnvme RW BS QD -> "iops p50_us cpu_us_per_io"
run_vnvme() {
	local b0 b1 json
	b0=$(busy)
	json=$($client --json --irq "$uuid" bench 1 --rw "$1" --bs "$2" --qd "$3" \
		--queues 1 --seconds "$seconds")
	b1=$(busy)
	python3 - "$json" "$b0" "$b1" "$hz" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); b0, b1, hz = map(float, sys.argv[2:5])
ios = max(r["ios"], 1)
print(f'{r["iops"]:.0f} {r["lat_us"]["p50"]:.1f} {(b1 - b0) / hz * 1e6 / ios:.1f}')
PY
}

# run_fio RW BS QD -> "iops p50_us cpu_us_per_io"
run_fio() {
	local b0 b1 json
	b0=$(busy)
	json=$(fio --name=b --filename=/dev/nullb0 --ioengine=io_uring --direct=1 \
		--rw="$1" --bs="$2" --iodepth="$3" --time_based --runtime="$seconds" \
		--output-format=json)
	b1=$(busy)
	python3 - "$json" "$b0" "$b1" "$hz" "$1" <<'PY'
import json, sys
j = json.loads(sys.argv[1])["jobs"][0]; b0, b1, hz = map(float, sys.argv[2:5])
d = j["write"] if "write" in sys.argv[5] else j["read"]
ios = max(d["total_ios"], 1)
p50 = d["clat_ns"]["percentile"].get("50.000000", 0) / 1000
print(f'{d["iops"]:.0f} {p50:.1f} {(b1 - b0) / hz * 1e6 / ios:.1f}')
PY
}

echo "# vnvme benchmark: $(uname -r), $(nproc) vCPUs under QEMU TCG, null_blk backing, ${seconds}s per job"
echo
echo "| job | vnvme IOPS | io_uring IOPS | IOPS a/b | vnvme p50 us | io_uring p50 us | vnvme CPU us/IO | io_uring CPU us/IO |"
echo "|---|---|---|---|---|---|---|---|"
while read -r name rw bs qd; do
	read -r a_iops a_p50 a_cpu < <(run_vnvme "$rw" "$bs" "$qd")
	read -r b_iops b_p50 b_cpu < <(run_fio "$rw" "$bs" "$qd")
	ratio=$(awk -v a="$a_iops" -v b="$b_iops" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
	echo "| $name | $a_iops | $b_iops | $ratio | $a_p50 | $b_p50 | $a_cpu | $b_cpu |"
done < tools/bench.d/jobs
echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), guest RAM $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB"
echo 1 > "$dev/remove"
rmmod vnvme
