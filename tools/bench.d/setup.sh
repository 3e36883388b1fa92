# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced by the benchmark's first-level bodies (in-vm.sh, profile.sh): the modules,
# null_blk devices 0-3 and new_instance.
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
