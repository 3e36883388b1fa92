#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Demo, nested guest: a stock kernel's nvme driver on the vnvme controller.
set -euo pipefail
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] &&
		echo "== PCI ${d##*/}: $(cat "$d/vendor"):$(cat "$d/device") class $(cat "$d/class") (NVM Express)"
done
modprobe nvme
for _ in $(seq 1 120); do [ -b /dev/nvme0n1 ] && break; sleep 0.5; done
echo "== nvme list"
nvme list
echo "== nvme id-ctrl (excerpt)"
nvme id-ctrl /dev/nvme0 | grep -E '^(vid|sn|mn|fr|mdts|ver|nn|oncs|sgls) '
echo "== fio: 4 KiB random writes with crc32c verification, iodepth 16"
fio --name=demo --filename=/dev/nvme0n1 --ioengine=libaio --direct=1 --rw=randwrite \
	--bs=4k --iodepth=16 --size=4m --verify=crc32c --verify_fatal=1 \
	| grep -E 'write:|read:|err=|verify'
echo "== demo finished: data written and verified through vnvme"
