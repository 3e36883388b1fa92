#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vnvme-kernels: 6.1 6.12
# Nested suite, run in L1: an L2 Debian guest (same kernel) with
# -device vfio-pci,sysfsdev=<instance> uses the controller with its inbox
# nvme driver: nvme-cli, fio with verify, ext4, hot attach/detach, reset.
# Then L1 checks the data in the backing file and that nothing leaked.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/ktap.sh
. tests/l1/lib/vnvme.sh

ktap_start e2e-linux-guest

work=${VNVME_OUT:-$(mktemp -d)}/e2e-linux
mkdir -p "$work/mbox"
ktap_check "module loads" vnvme_load
uuid=$(vnvme_create medium)
dev=$VNVME_DEVICES/$uuid
ns1=$(vnvme_loop 64)
ns2=$(vnvme_loop 48)	# a size of its own: a swapped namespace shows in id-ns
ns3=$(vnvme_loop 16)
ns2_file=$(losetup -nO BACK-FILE "$ns2")
ktap_check "namespaces 1 and 2 attach" sh -c "echo $ns1 > $dev/ns1/device_path && echo 1 > $dev/ns1/enable && echo $ns2 > $dev/ns2/device_path && echo 1 > $dev/ns2/enable && echo $ns3 > $dev/ns3/device_path"

# A second instance in the other doorbell mode, with its namespace at NSID 5 (an NSID
# the first does not use): the guest runs fio with verification on both data paths.
other_uuid=$(vnvme_create small)
other_dev=$VNVME_DEVICES/$other_uuid
other_ns=$(vnvme_loop 16)
mode=$(cat "$dev/vnvme/doorbell_mode")
other_mode=$([ "$mode" = mapped ] && echo trapped || echo mapped)
ktap_check "the second instance takes the other doorbell mode ($other_mode; the first: $mode)" \
	sh -c "echo $other_mode > $other_dev/vnvme/doorbell_mode && echo e2e-other > $other_dev/vnvme/serial && echo $other_ns > $other_dev/ns5/device_path && echo 1 > $other_dev/ns5/enable"

# Mailbox: the guest asks, L1 does it and answers.
serve_mailbox() {
	local mbox=$1
	while [ ! -e "$mbox/l2-finished" ]; do
		if [ -e "$mbox/attach.request" ] && [ ! -e "$mbox/attach.done" ]; then
			# The guest driver is up and has done I/O by now.
			cat "$dev/vnvme/shadow_doorbells" > "$mbox/shadow-doorbells.l1"
			userspace/vnvmectl stats "$uuid" > "$mbox/stats.l1" 2>&1
			echo 1 > "$dev/ns3/enable" && touch "$mbox/attach.done"
		fi
		if [ -e "$mbox/detach.request" ] && [ ! -e "$mbox/detach.done" ]; then
			echo 0 > "$dev/ns3/enable" && touch "$mbox/detach.done"
		fi
		sleep 1
	done
}
serve_mailbox "$work/mbox" &
mailbox_pid=$!

run_l2() {
	local start status
	start=$(date +%s)
	VNVME_SERIAL=$(cat "$dev/vnvme/serial") VNVME_NS1_LBAS=$((64 * 2048)) VNVME_NS3_LBAS=$((16 * 2048)) \
		VNVME_OTHER_SERIAL=e2e-other VNVME_OTHER_NSID=5 \
		tools/vm/run --kernel "$(uname -r)" --smp 2 --mem 768 --timeout 2400 --out "$work/mbox" \
		--qemu-arg -device --qemu-arg "vfio-pci,sysfsdev=$dev" \
		--qemu-arg -device --qemu-arg "vfio-pci,sysfsdev=$other_dev" \
		-- tests/e2e/guest/linux-guest.sh > "$work/l2-console.log" 2>&1
	status=$?
	ktap_diag "L2 run took $(($(date +%s) - start)) s, exit status $status"
	if [ $status -ne 0 ]; then
		ktap_diag "last L2 console lines:" "$(tail -20 "$work/l2-console.log")"
	fi
	return $status
}
# tools/vm/run boots L2 again by itself when its kernel dies or hangs before the guest
# script starts (nested TCG has crashed there on its own: EFLAGS with NT set at an IRET in
# text_poke_early); any later failure counts as it is.
run_l2
kill "$mailbox_pid" 2>/dev/null
ktap_check "the L2 guest ran to the end" test -e "$work/mbox/l2-finished"

# Each guest-side check becomes a test of this suite.
while IFS= read -r line; do
	case $line in
	"PASS "*) ktap_ok "guest: ${line#PASS }" ;;
	"FAIL "*) name=${line#FAIL }; ktap_not_ok "guest: ${name%%: *}" "${name#*: }" ;;
	esac
done < "$work/mbox/results"

ktap_check "the guest's nvme driver uses shadow doorbells (seen from L1)" \
	grep -qx 1 "$work/mbox/shadow-doorbells.l1"
# On failure, say where the marker went: another namespace's file means misrouted I/O.
marker_in_ns2_file() {
	grep -aq VNVME-E2E-MARKER-64 "$ns2_file" && return 0
	local loop file
	for loop in "$ns1" "$ns2" "$ns3"; do
		file=$(losetup -nO BACK-FILE "$loop")
		echo "$loop ($file): $(grep -ac VNVME-E2E-MARKER "$file") marker lines in the file," \
			"$(grep -ac VNVME-E2E-MARKER "$loop") through the loop device"
	done
	return 1
}
# The verified fio runs must have spread over at least 4 queues: the guest's
# writes, verify reads and polled I/O go to separate queue sets.
io_queues_used() {
	local used
	used=$(awk '$1 ~ /^q[0-9]+$/ && $2 > 0 { n++ } END { print n + 0 }' "$work/mbox/stats.l1")
	echo "$used I/O queues carried commands (vnvmectl stats before the hot attach):"
	cat "$work/mbox/stats.l1"
	((used >= 4))
}
ktap_check "the guest's fio runs used at least 4 I/O queues (seen from L1)" io_queues_used
ktap_check "the file system data is in the backing file (read from L1)" marker_in_ns2_file
ktap_check "no pinned guest pages remain after QEMU exits" grep -qx 0 "$dev/vnvme/pinned_pages"
ktap_check "controller state is off after QEMU exits" grep -qx off "$dev/vnvme/state"
ktap_check "no pinned guest pages remain in the other instance" grep -qx 0 "$other_dev/vnvme/pinned_pages"
ktap_check "the instance can be removed" sh -c "echo 1 > $dev/remove"
ktap_check "the other instance can be removed" sh -c "echo 1 > $other_dev/remove"
ktap_check "the module unloads" rmmod vnvme
ktap_check "L1 kernel log has no oops, warning or lockdep report" dmesg_clean
losetup -D
ktap_finish
