#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite: namespaces on the kinds of block devices admins use — a loop
# device over a file, null_blk, a device-mapper linear volume, and an
# NVMe/TCP namespace over loopback (nvmet-tcp target + nvme-tcp host) —
# each driven through VFIO with a verified write/read pattern.
set -u
cd "$(dirname "$0")/../../.."
. tests/lib/ktap.sh
. tests/l1/lib/vnvme.sh

ktap_start backing-devices
client=tools/vfio/vnvme-vfio

ktap_check "module loads" vnvme_load
uuid=$(vnvme_create small)
dev=$VNVME_DEVICES/$uuid

# attach_and_verify NAME DEVICE: namespace 1 on DEVICE, verified I/O, detach.
attach_and_verify() {
	local name=$1 bdev=$2 lbs lbads
	lbs=$(blockdev --getss "$bdev")
	lbads=$(awk -v n="$lbs" 'BEGIN { print log(n) / log(2) }')
	ktap_check "$name: attach $bdev" sh -c "echo $bdev > $dev/ns1/device_path && echo 1 > $dev/ns1/enable"
	ktap_check "$name: Identify Namespace reports LBA size $lbs" sh -c \
		"$client $uuid id-ns 1 | grep -q 'lbads $lbads .*in use'"
	ktap_check "$name: verified I/O over 2 queues" \
		$client "$uuid" verify-io 1 --lba-count 256 --queues 2 --qd 8
	ktap_check "$name: detach" sh -c "echo 0 > $dev/ns1/enable"
}

attach_and_verify loop "$(vnvme_loop 32)"

# A memory-backed null_blk with 4 KiB blocks (configfs: the module
# parameters cannot make it keep data).
make_nullb() {
	local d=/sys/kernel/config/nullb/vnvme name
	# A fresh module: an earlier suite may have left nullb0 behind.
	rmmod null_blk 2>/dev/null
	modprobe null_blk nr_devices=0 || return 1
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	mkdir "$d" && echo 4096 > "$d/blocksize" && echo 1 > "$d/memory_backed" &&
		echo 256 > "$d/size" && echo 1 > "$d/power" || return 1
	# The disk is nullb<index> (6.1) or named after the configfs item
	# (newer kernels); devtmpfs creates the node asynchronously.
	for _ in $(seq 1 40); do
		for name in "nullb$(cat "$d/index")" vnvme; do
			[ -b "/dev/$name" ] && { echo "/dev/$name"; return 0; }
		done
		sleep 0.25
	done
	echo "no null_blk device node; /sys/block has: $(ls /sys/block | tr '\n' ' ')"
	return 1
}
nullb=$(make_nullb)
if [ -b "$nullb" ]; then
	attach_and_verify null_blk-4k "$nullb"
else
	ktap_not_ok "null_blk-4k: create a memory-backed null_blk" "$nullb"
fi

loop=$(vnvme_loop 32)
# No udev in the VM: dmsetup makes the device node itself.
if dmsetup create --noudevsync vnvme-lin --table "0 32768 linear $loop 0" &&
	dmsetup mknodes vnvme-lin; then
	attach_and_verify dm-linear /dev/mapper/vnvme-lin
	dmsetup remove vnvme-lin
else
	ktap_not_ok "dm-linear: create" "dmsetup create failed"
fi

# NVMe/TCP over loopback: the target exports a loop device, the host side
# connects, and its namespace backs the vnvme namespace.
setup_nvme_tcp() {
	local cfg=/sys/kernel/config/nvmet nqn=nqn.2026-11.io.vnvme:tcp-test back
	ip link set lo up
	modprobe nvmet-tcp && modprobe nvme-tcp || return 1
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	back=$(vnvme_loop 32)
	mkdir "$cfg/subsystems/$nqn" &&
		echo 1 > "$cfg/subsystems/$nqn/attr_allow_any_host" &&
		mkdir "$cfg/subsystems/$nqn/namespaces/1" &&
		echo "$back" > "$cfg/subsystems/$nqn/namespaces/1/device_path" &&
		echo 1 > "$cfg/subsystems/$nqn/namespaces/1/enable" &&
		mkdir "$cfg/ports/1" &&
		echo tcp > "$cfg/ports/1/addr_trtype" &&
		echo ipv4 > "$cfg/ports/1/addr_adrfam" &&
		echo 127.0.0.1 > "$cfg/ports/1/addr_traddr" &&
		echo 4420 > "$cfg/ports/1/addr_trsvcid" &&
		ln -s "$cfg/subsystems/$nqn" "$cfg/ports/1/subsystems/$nqn" &&
		nvme connect -t tcp -a 127.0.0.1 -s 4420 -n "$nqn" >/dev/null || return 1
	for _ in $(seq 1 40); do
		tcp_ns=$(nvme list -o json 2>/dev/null | grep -o '"DevicePath" *: *"[^"]*"' | cut -d'"' -f4 | head -1)
		[ -n "$tcp_ns" ] && [ -b "$tcp_ns" ] && { echo "$tcp_ns" > /tmp/vnvme-tcp-ns; return 0; }
		sleep 0.5
	done
	return 1
}
rm -f /tmp/vnvme-tcp-ns
ktap_check "nvme-tcp: loopback target and host connect" setup_nvme_tcp
if [ -s /tmp/vnvme-tcp-ns ]; then
	attach_and_verify nvme-tcp "$(cat /tmp/vnvme-tcp-ns)"
fi
nvme disconnect-all >/dev/null 2>&1

ktap_check "instance removed" sh -c "echo 1 > $dev/remove"
ktap_check "module unloads" rmmod vnvme
ktap_check "kernel log has no oops, warning or lockdep report" dmesg_clean
losetup -D
ktap_finish
