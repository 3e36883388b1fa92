#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vnvme-kernels: 6.1 6.12
# Nested suite, run in L1: SeaBIOS (QEMU's firmware) finds the vnvme
# controller, reads the boot sector of namespace 1 through its own NVMe
# driver (polled I/O queue, no Number of Queues feature) and runs it; the
# boot sector prints a marker on the serial port.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/ktap.sh
. tests/l1/lib/vnvme.sh

ktap_start e2e-seabios
marker=VNVME-SEABIOS-BOOT-OK

# 16-bit real mode: DS=0, print the string at 0x7c15 on COM1, halt.
write_boot_sector() {
	{
		printf '\x31\xc0\x8e\xd8\xbe\x15\x7c\xba\xf8\x03'	# xor ax,ax; mov ds,ax; mov si,0x7c15; mov dx,0x3f8
		printf '\xac\x84\xc0\x74\x03\xee\xeb\xf8'		# lodsb; test al,al; jz +3; out dx,al; jmp -8
		printf '\xf4\xeb\xfd'					# hlt; jmp -3
		printf '%s\r\n\0' "$marker"
	} > "$1"
	truncate -s 510 "$1"
	printf '\x55\xaa' >> "$1"
}

work=$(mktemp -d)
ktap_check "module loads" vnvme_load
uuid=$(vnvme_create small)
dev=$VNVME_DEVICES/$uuid
ns1=$(vnvme_loop 8)
# bash's printf (not dash's) understands \x escapes: build it here.
write_boot_sector "$work/mbr"
ktap_check "boot sector is 512 bytes with the 55aa signature" sh -c \
	"test \$(stat -c %s $work/mbr) -eq 512 && od -An -tx1 -j510 $work/mbr | grep -q '55 aa'"
# fsync: the namespace reads the device with bios, below the page cache.
ktap_check "boot sector written to the backing device" \
	dd if="$work/mbr" of="$ns1" conv=notrunc,fsync status=none
ktap_check "namespace 1 attaches" sh -c "echo $ns1 > $dev/ns1/device_path && echo 1 > $dev/ns1/enable"

# SeaBIOS never exits after booting: run it in the background, watch the log.
qemu-system-x86_64 -machine q35 -accel tcg -m 256 -nographic -no-reboot -net none \
	-device "vfio-pci,sysfsdev=$dev,bootindex=1" -boot strict=on \
	< /dev/null > "$work/serial.log" 2>&1 &
qemu_pid=$!
booted=false
for _ in $(seq 1 300); do
	grep -q "$marker" "$work/serial.log" && { booted=true; break; }
	kill -0 "$qemu_pid" 2>/dev/null || break
	sleep 1
done
kill "$qemu_pid" 2>/dev/null
wait "$qemu_pid" 2>/dev/null
if $booted; then
	ktap_ok "SeaBIOS boots the boot sector from namespace 1"
else
	ktap_not_ok "SeaBIOS boots the boot sector from namespace 1" "$(tail -c 2000 "$work/serial.log")"
fi
ktap_check "no pinned guest pages remain after QEMU exits" grep -qx 0 "$dev/vnvme/pinned_pages"
ktap_check "the instance can be removed" sh -c "echo 1 > $dev/remove"
ktap_check "the module unloads" rmmod vnvme
ktap_check "L1 kernel log has no oops, warning or lockdep report" dmesg_clean
losetup -D
ktap_finish
