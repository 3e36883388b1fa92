#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Demo, first-level VM: load vnvme, create an instance on the embedded
# default backing store, hand it to a nested guest with vfio-pci.
set -euo pipefail
cd "$(dirname "$0")/../.."

modprobe vfio_iommu_type1
modprobe mdev
modprobe libcrc32c
modprobe loop
insmod "build/kmod/$(uname -r)/vnvme.ko"
echo "== mdev types offered by the vnvme parent"
for t in /sys/class/mdev_bus/vnvme/mdev_supported_types/*; do
	printf '  %-14s %s (available: %s)\n' "${t##*/}" "$(cat "$t/description")" \
		"$(cat "$t/available_instances")"
done

uuid=$(cat /proc/sys/kernel/random/uuid)
echo "$uuid" > /sys/class/mdev_bus/vnvme/mdev_supported_types/vnvme-small/create
dev=/sys/bus/mdev/devices/$uuid
echo "== created instance $uuid (serial $(cat "$dev/vnvme/serial"))"

# The embedded default backing store: a 1 GiB sparse file on a loop device.
backing=/var/tmp/vnvme-demo.img
truncate -s 1G "$backing"
loop=$(losetup --find --show "$backing")
echo "$loop" > "$dev/ns1/device_path"
echo 1 > "$dev/ns1/enable"
echo "== namespace 1 = $loop (sparse file $backing)"

echo "== starting the nested guest: qemu -device vfio-pci,sysfsdev=$dev"
tools/vm/run --kernel "$(uname -r)" --smp 2 --mem 768 \
	--qemu-arg -device --qemu-arg "vfio-pci,sysfsdev=$dev" -- tools/demo.d/l2.sh
status=$?
echo "== back in the first-level VM: controller state $(cat "$dev/vnvme/state"), pinned pages $(cat "$dev/vnvme/pinned_pages")"
echo 1 > "$dev/remove"
rmmod vnvme
losetup -d "$loop"
exit $status
