#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested benchmark body, run in the first-level VM by tools/bench: one L2
# guest (stock kernel, inbox nvme driver) sees two NVMe controllers at once,
#   (a) a vnvme instance (vfio-pci, mdev) on null_blk device 0, and
#   (b) QEMU's emulated NVMe controller (-device nvme) on null_blk device 1,
# and runs the same fio jobs on both; (c) is fio (io_uring) on null_blk
# device 0 in this VM.  Prints a markdown table with the ratios a/b and a/c.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${VNVME_BENCH_SECONDS:-5}
shadow=${VNVME_BENCH_SHADOW:-1}

modprobe vfio_iommu_type1
modprobe mdev
modprobe libcrc32c
modprobe null_blk nr_devices=2 gb=4 bs=512 irqmode=0
insmod "build/kmod/$(uname -r)/vnvme.ko" shadow_doorbells="$shadow"
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "$uuid" > /sys/class/mdev_bus/vnvme/mdev_supported_types/vnvme-small/create
dev=/sys/bus/mdev/devices/$uuid
echo /dev/nullb0 > "$dev/ns1/device_path"
echo 1 > "$dev/ns1/enable"

out=$(mktemp -d)
# Whether the guest's driver set up shadow doorbells, sampled while it runs.
while sleep 1; do cat "$dev/vnvme/shadow_doorbells"; done > "$out/shadow-samples" &
sampler=$!
VNVME_BENCH_SECONDS=$seconds tools/vm/run --kernel "$(uname -r)" --smp 2 --mem 768 \
	--timeout 1800 --out "$out" \
	--qemu-arg -device --qemu-arg "vfio-pci,sysfsdev=$dev" \
	--qemu-arg -drive --qemu-arg "file=/dev/nullb1,if=none,id=qnvme,format=raw,cache=none,aio=native" \
	--qemu-arg -device --qemu-arg "nvme,serial=qemu-nvme,drive=qnvme" \
	-- tools/bench.d/l2.sh > "$out/l2-console.log" 2>&1 || {
	echo "the nested guest failed; last console lines:" >&2
	tail -20 "$out/l2-console.log" >&2
	exit 1
}
kill "$sampler"
shadow_used=$(grep -qx 1 "$out/shadow-samples" && echo 1 || echo 0)

# fio_iops_p50 FILE JOB -> "iops p50_us" from fio JSON
fio_iops_p50() {
	python3 - "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
d = j["write"] if j["write"]["total_ios"] else j["read"]
p50 = d["clat_ns"]["percentile"].get("50.000000", 0) / 1000
print(f'{d["iops"]:.0f} {p50:.0f}')
PY
}

echo "# Nested: stock nvme driver in an L2 guest, vnvme vs QEMU's emulated NVMe"
echo
echo "$(uname -r) L1 and L2, L2 on $(tools/vm/run --accel | cut -d' ' -f1), 2 vCPUs each level, null_blk backing," \
	"${seconds}s per job; vnvme shadow doorbells offered: $shadow, used by the guest: $shadow_used"
echo
echo "| job | vnvme IOPS | QEMU nvme IOPS | L1 io_uring IOPS | vnvme/QEMU | vnvme/L1 | vnvme p50 us | QEMU p50 us |"
echo "|---|---|---|---|---|---|---|---|"
while read -r name rw bs qd; do
	fio --name=b --filename=/dev/nullb0 --ioengine=io_uring --direct=1 --rw="$rw" \
		--bs="$bs" --iodepth="$qd" --time_based --runtime="$seconds" \
		--output-format=json > "$out/l1-$name.json"
	read -r a_iops a_p50 < <(fio_iops_p50 "$out/vnvme-$name.json")
	read -r b_iops b_p50 < <(fio_iops_p50 "$out/qemu-$name.json")
	read -r c_iops _ < <(fio_iops_p50 "$out/l1-$name.json")
	ab=$(awk -v a="$a_iops" -v b="$b_iops" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
	ac=$(awk -v a="$a_iops" -v c="$c_iops" 'BEGIN { printf "%.2f", c ? a / c : 0 }')
	echo "| $name | $a_iops | $b_iops | $c_iops | $ab | $ac | $a_p50 | $b_p50 |"
done < tools/bench.d/jobs
echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
rm -rf "$out"
echo 1 > "$dev/remove"
rmmod vnvme
