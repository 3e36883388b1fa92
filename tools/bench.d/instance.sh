# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Sourced by the first-level benchmark bodies: loads the modules and null_blk
# (/dev/nullb0, 4 GiB, 4 KiB blocks, completions inline), and creates a
# vnvme-small instance with it as namespace 1: sets uuid and dev.
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
