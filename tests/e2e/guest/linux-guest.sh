#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the L2 guest (stock Debian kernel, inbox nvme driver) that sees
# a vnvme instance as a PCI device.  Writes one "PASS name" or
# "FAIL name: reason" line per check to $VNVME_OUT/results; the L1 side
# turns them into KTAP.  Talks to L1 through files in $VNVME_OUT (mailbox).
set -u
out=${VNVME_OUT:?}
results=$out/results
: > "$results"

pass() { echo "PASS $1" >> "$results"; echo "PASS $1"; }
fail() { echo "FAIL $1: $2" >> "$results"; echo "FAIL $1: $2"; }
check() {
	local name=$1 output
	shift
	if output=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(echo "$output" | tail -5 | tr '\n' ' ')"
	fi
	echo "$output" >> "$out/l2-detail.log"
}
wait_for() {	# wait_for SECONDS TEST-ARGS...
	local i
	for ((i = 0; i < $1 * 2; i++)); do
		test "${@:2}" && return 0
		sleep 0.5
	done
	return 1
}
# ask_l1 ACTION: the L1 side performs ACTION and answers with ACTION.done.
ask_l1() {
	touch "$out/$1.request"
	wait_for 120 -e "$out/$1.done"
}

find_vnvme_pci() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/class")" = 0x010802 ] && { echo "$d"; return 0; }
	done
	return 1
}

pci=$(find_vnvme_pci) && pass "a PCI device of class 0x010802 is present" ||
	fail "a PCI device of class 0x010802 is present" "$(grep -H . /sys/bus/pci/devices/*/class | tr '\n' ' ')"
check "it has an MSI-X capability" sh -c "od -An -tx1 -v /sys/bus/pci/devices/${pci##*/}/config | tr -s ' \n' ' ' | grep -q ' 11 '"

modprobe nvme
check "the inbox nvme driver binds and creates nvme0" wait_for 60 -e /dev/nvme0
check "namespace 1 appears as nvme0n1" wait_for 60 -b /dev/nvme0n1
check "namespace 2 appears as nvme0n2" wait_for 30 -b /dev/nvme0n2
dmesg | grep -i nvme > "$out/l2-dmesg-nvme.log"
check "the driver uses MSI-X vectors" sh -c "ls /sys/bus/pci/devices/${pci##*/}/msi_irqs | wc -l | grep -qv '^0$'"
# One I/O queue per vCPU (2; the L1 VM has 2 vCPUs and more L2 vCPUs only slow TCG down).
check "the driver created one I/O queue per vCPU" sh -c "dmesg | grep -E 'nvme nvme0: [0-9]+/[0-9]+/[0-9]+ default/read/poll queues' | grep -qE \": \$(nproc)/\""

check "nvme id-ctrl reports the instance serial" sh -c "nvme id-ctrl /dev/nvme0 | grep -E '^sn ' | grep -q '$VNVME_SERIAL'"
check "nvme id-ctrl reports 16 namespaces and VER 1.4" sh -c "nvme id-ctrl /dev/nvme0 | grep -Eq '^nn +: 16' && nvme id-ctrl /dev/nvme0 | grep -Eq '^ver +: 0x10400'"
# nvme-cli prints NSZE in hex.
check "nvme id-ns reports the namespace size" sh -c "nvme id-ns /dev/nvme0n1 | grep -Eq '^nsze +: $(printf '0x%x' "$VNVME_NS1_LBAS")\$'"
check "nvme list-ns lists namespaces 1 and 2" sh -c "nvme list-ns /dev/nvme0 | tr -d ' ' | grep -q '\[0\]:0x1' && nvme list-ns /dev/nvme0 | tr -d ' ' | grep -q '\[1\]:0x2'"
check "nvme ns-descs returns NGUID and EUI-64" sh -c "nvme ns-descs /dev/nvme0n1 | grep -qi nguid && nvme ns-descs /dev/nvme0n1 | grep -qi eui64"
check "nvme smart-log answers" sh -c "nvme smart-log /dev/nvme0 | grep -q 'power_cycles'"
check "nvme error-log answers" nvme error-log /dev/nvme0 -e 4
check "nvme get-feature number of queues" sh -c "nvme get-feature /dev/nvme0 -f 7 | grep -q 'Current value'"
check "nvme get-feature volatile write cache is enabled" sh -c "nvme get-feature /dev/nvme0 -f 6 | grep -q 'Current value:0x0*1'"
check "nvme fw-log answers" nvme fw-log /dev/nvme0

fio_common=(--ioengine=libaio --direct=1 --group_reporting --verify_fatal=1)
check "fio 4k randwrite crc32c verify, iodepth 16, one job per queue" \
	fio --name=vq "${fio_common[@]}" --filename=/dev/nvme0n1 --rw=randwrite --bs=4k \
	--iodepth=16 --numjobs="$(nproc)" --size=512k --offset_increment=1m --verify=crc32c \
	--cpus_allowed=0-$(($(nproc) - 1)) --cpus_allowed_policy=split
check "fio 256k sequential (PRP lists) md5 verify" \
	fio --name=big "${fio_common[@]}" --filename=/dev/nvme0n1 --rw=write --bs=256k \
	--iodepth=4 --size=4m --offset=8m --verify=md5
check "fio 512k (MDTS) reads and writes verify" \
	fio --name=mdts "${fio_common[@]}" --filename=/dev/nvme0n1 --rw=randwrite --bs=512k \
	--iodepth=2 --size=4m --offset=16m --verify=crc32c

check "mkfs.ext4 on namespace 2" mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 /dev/nvme0n2
mkdir -p /mnt/ns2
check "mount namespace 2" mount /dev/nvme0n2 /mnt/ns2
check "write a file on it" sh -c "for i in \$(seq 1 64); do echo VNVME-E2E-MARKER-\$i; done > /mnt/ns2/marker.txt && dd if=/dev/urandom of=/mnt/ns2/blob bs=64k count=16 status=none && md5sum /mnt/ns2/blob > $out/blob.md5 && sync"
check "umount" umount /mnt/ns2
check "mount again and the data is intact" sh -c "mount /dev/nvme0n2 /mnt/ns2 && grep -q VNVME-E2E-MARKER-64 /mnt/ns2/marker.txt && (cd / && md5sum -c $out/blob.md5 | sed 's|/mnt/ns2/blob|x|') && umount /mnt/ns2"
touch "$out/fs-written"

check "hot attach: L1 enables namespace 3" ask_l1 attach
check "hot attach: the guest sees nvme0n3" wait_for 60 -b /dev/nvme0n3
# The driver reads (and so clears) the Changed Namespace List on the AEN; a
# second read must find it empty. Raw binary: nvme-cli's text format varies.
check "hot attach: the driver consumed the changed-namespace log" sh -c "test \"\$(nvme get-log /dev/nvme0 --log-id=4 --log-len=8 --raw-binary | od -An -tx4 | tr -d ' \n')\" = 0000000000000000"
check "hot detach: L1 disables namespace 3" ask_l1 detach
check "hot detach: nvme0n3 goes away" wait_for 60 ! -b /dev/nvme0n3

fio --name=prep "${fio_common[@]}" --filename=/dev/nvme0n1 --rw=write --bs=4k --iodepth=16 \
	--size=2m --offset=32m --verify=crc32c --do_verify=0 > "$out/fio-reset.log" 2>&1 &
fio_pid=$!
sleep 3
check "nvme reset during I/O" nvme reset /dev/nvme0
# wait only works in this shell, not in check's subshell.
wait "$fio_pid"
fio_status=$?
check "fio survives the reset" sh -c "test $fio_status -eq 0 || { tail -5 $out/fio-reset.log; exit 1; }"
check "controller is live after reset" wait_for 30 -b /dev/nvme0n1
check "data written across the reset verifies" \
	fio --name=prep "${fio_common[@]}" --filename=/dev/nvme0n1 --rw=write --bs=4k --iodepth=16 \
	--size=2m --offset=32m --verify=crc32c --verify_only
# Case-sensitive kernel markers: "oops" alone also matches loops_per_jiffy.
check "guest kernel log has no nvme errors or timeouts" sh -c "! dmesg | grep -iE 'nvme.*(timeout|I/O error|failed)' && ! dmesg | grep -E 'Oops|BUG:|WARNING:'"
echo done > "$out/l2-finished"
