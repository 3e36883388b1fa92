#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark's one first-level VM boot (tools/bench starts it): null_blk devices 0-3,
# two vnvme instances, the first-level rounds (l1.sh), then the nested rounds (nested.sh).
# Records go to $VNVME_OUT/records.tsv, the machine's description to $VNVME_OUT/machine.
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
cd "$here/../.."
rounds=${VNVME_BENCH_ROUNDS:-3}
seconds=${VNVME_BENCH_SECONDS:-5}
export BENCH_RECORDS=${VNVME_OUT:?}/records.tsv
: > "$BENCH_RECORDS"

modprobe vfio_iommu_type1
modprobe mdev
modprobe libcrc32c
# One device per disk of the nested guest; poll queues for fio's hipri rows; commands up to
# 512 KiB (vnvme's MDTS), so that no job's I/O is split (a split polled bio never completes
# on 6.1: a 128 KiB hipri job hung with null_blk's default of 255 sectors).
modprobe null_blk nr_devices=4 gb=4 bs=512 irqmode=0 submit_queues=2 poll_queues=2 max_sectors=1024
insmod "build/kmod/$(uname -r)/vnvme.ko"

# new_instance NULLB -> UUID of a vnvme-small instance with namespace 1 on /dev/NULLB
new_instance() {
	local uuid dev
	uuid=$(cat /proc/sys/kernel/random/uuid)
	echo "$uuid" > /sys/class/mdev_bus/vnvme/mdev_supported_types/vnvme-small/create
	dev=/sys/bus/mdev/devices/$uuid
	echo "/dev/$1" > "$dev/ns1/device_path"
	echo 1 > "$dev/ns1/enable"
	echo "$uuid"
}
first=$(new_instance nullb0)
second=$(new_instance nullb3)

{
	echo "kernel $(uname -r); $(nproc) vCPUs, $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB"
	echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "rounds $rounds; ${seconds} s per job; null_blk irqmode=0 bs=512"
} > "$VNVME_OUT/machine"

tools/bench.d/l1.sh "$first" "$rounds" "$seconds"
if [[ ${VNVME_BENCH_NESTED:-1} == 1 ]]; then
	tools/bench.d/nested.sh "$first" "$second" "$rounds" "$seconds"
fi
for uuid in "$first" "$second"; do
	echo 1 > "/sys/bus/mdev/devices/$uuid/remove"
done
rmmod vnvme
