#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the L2 guest (stock Debian kernel, inbox nvme driver) that sees
# a vnvme instance as a PCI device.  Writes one "PASS name" or
# "FAIL name: reason" line per check to $VNVME_OUT/results; the L1 side
# turns them into KTAP.  Talks to L1 through files in $VNVME_OUT (mailbox).
#
# A nested guest under TCG pays seconds for every program it starts, so the
# checks are shell functions that start only the tools under test (nvme,
# fio, mkfs, mount...) and match their output with bash itself.
set -u
out=${VNVME_OUT:?}
results=$out/results
detail=$out/l2-detail.log
: > "$results"

# A pipe nobody writes to: read -t on it sleeps without starting a process.
exec {nap_fd}<> <(:)
nap() { read -rt "$1" -u "$nap_fd" || :; }

pass() { echo "PASS $1" >> "$results"; echo "PASS $1"; }
fail() { echo "FAIL $1: $2" >> "$results"; echo "FAIL $1: $2"; }
# check NAME COMMAND...: COMMAND (often a function below) decides; its output
# goes to the detail log, and its last lines into the failure reason.
check() {
	local name=$1 status started=${EPOCHREALTIME/[.,]/}
	shift
	"$@" > "$out/check.out" 2>&1
	status=$?
	cat_file "$out/check.out" >> "$detail"
	echo "# $name: $(((${EPOCHREALTIME/[.,]/} - started) / 1000)) ms" >> "$detail"
	if ((status == 0)); then
		pass "$name"
	else
		fail "$name" "$(last_lines 5 "$out/check.out")"
	fi
}
# Builtin stand-ins for cat and tail -n N | tr '\n' ' '.
cat_file() {
	local -a lines
	mapfile -t lines < "$1"
	printf '%s\n' "${lines[@]}"
}
last_lines() {
	local -a lines
	mapfile -t lines < "$2"
	((${#lines[@]} > $1)) && lines=("${lines[@]:${#lines[@]}-$1}")
	echo "${lines[*]}"
}
# wait_until SECONDS COMMAND...: polls COMMAND twice a second until it succeeds.
wait_until() {
	local i
	for ((i = 0; i < $1 * 2; i++)); do
		"${@:2}" && return 0
		nap 0.5
	done
	return 1
}
wait_for() {	# wait_for SECONDS TEST-ARGS...
	wait_until "$1" test "${@:2}"
}
# ask_l1 ACTION: the L1 side performs ACTION and answers with ACTION.done.
ask_l1() {
	: > "$out/$1.request"
	wait_for 120 -e "$out/$1.done"
}
# matches TEXT REGEX: like grep -qE on a variable, printing TEXT if it fails.
matches() {
	[[ $1 =~ $2 ]] && return 0
	printf '%s\n(no match for /%s/)\n' "$1" "$2"
	return 1
}
# run_matching REGEX COMMAND...: COMMAND succeeds and its output matches.
run_matching() {
	local regex=$1 text
	shift
	text=$("$@" 2>&1) || { printf '%s\n' "$text"; return 1; }
	matches "$text" "$regex"
}

# find_ns NSID VAR: sets VAR to the block device of namespace NSID.  Disk
# names do not follow NSIDs: since Linux 6.8 the driver scans namespaces
# asynchronously and names them in the order the scans finish.  The guest
# has two controllers (the instance under test and the one in the other
# doorbell mode); their NSIDs differ, so an NSID names one disk.
find_ns() {
	local d nsid
	for d in /sys/block/nvme*n*; do
		[ -e "$d/nsid" ] || continue
		read -r nsid < "$d/nsid"
		if ((nsid == $1)) && [ -b "/dev/${d##*/}" ]; then
			printf -v "$2" '%s' "/dev/${d##*/}"
			return 0
		fi
	done
	printf -v "$2" '%s' "/dev/no-namespace-$1"
	return 1
}
# wait_ns SECONDS NSID VAR: waits for namespace NSID to appear, as find_ns.
wait_ns() {
	wait_until "$1" find_ns "$2" "$3" && return 0
	echo "no block device with nsid $2 in /sys/block after $1 s"
	return 1
}
ns_absent() {
	# shellcheck disable=SC2034 # find_ns sets it (printf -v)
	local unused
	! find_ns "$1" unused
}
wait_ns_gone() {	# wait_ns_gone SECONDS NSID
	wait_until "$1" ns_absent "$2" && return 0
	echo "a block device with nsid $2 is still there after $1 s"
	return 1
}

# ctrl_by_serial SERIAL VAR: sets VAR to the nvmeN whose serial is SERIAL.
# Controllers probe in parallel: their numbers do not follow PCI order.
ctrl_by_serial() {
	local c serial
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/serial" ] || continue
		read -r serial < "$c/serial"
		[ "$serial" = "$1" ] && { printf -v "$2" '%s' "${c##*/}"; return 0; }
	done
	return 1
}

find_vnvme_pci() {
	local d class
	for d in /sys/bus/pci/devices/*; do
		read -r class < "$d/class"
		[ "$class" = 0x010802 ] && { pci=${d##*/}; return 0; }
	done
	return 1
}

# Walks the capability list from 0x34 (config space as hex bytes from od).
has_msix_cap() {
	local -a cfg
	local ptr hops=0
	read -r -d '' -a cfg < <(od -An -tx1 -v "/sys/bus/pci/devices/$pci/config")
	ptr=$((0x${cfg[0x34]} & 0xfc))
	while ((ptr && hops++ < 48)); do
		((0x${cfg[ptr]} == 0x11)) && return 0
		ptr=$((0x${cfg[ptr + 1]} & 0xfc))
	done
	echo "no capability 0x11 in the list"
	return 1
}

has_msi_irqs() {
	local -a irqs=("/sys/bus/pci/devices/$pci/msi_irqs/"*)
	[ -e "${irqs[0]}" ]
}

# With write_queues=N and poll_queues=N (N = vCPUs, 2 here: more L2 vCPUs
# would only slow TCG down) Linux makes N default (write) queues, N read
# queues and N polled queues.
io_queue_sets() {
	local n=${#cpus[@]}
	matches "$kmsg" "nvme $ctrl: $n/$n/$n default/read/poll queues"
}

fio_reset_status() {
	((fio_status == 0)) && return 0
	last_lines 5 "$out/fio-reset.log"
	return 1
}

write_marker_file() {
	local i
	for ((i = 1; i <= 64; i++)); do
		echo "VNVME-E2E-MARKER-$i"
	done > /mnt/ns2/marker.txt
	dd if=/dev/urandom of=/mnt/ns2/blob bs=64k count=16 status=none &&
		md5sum /mnt/ns2/blob > "$out/blob.md5" && sync
}

remount_and_verify() {
	local -a lines
	mount "$ns2_dev" /mnt/ns2 || return 1
	mapfile -t lines < /mnt/ns2/marker.txt
	matches "${lines[63]-}" '^VNVME-E2E-MARKER-64$' &&
		(cd / && md5sum --quiet -c "$out/blob.md5")
	local status=$?
	umount /mnt/ns2
	return $status
}

# The driver reads (and so clears) the Changed Namespace List on the AEN; a
# second read must find it empty.  Raw binary: nvme-cli's text format varies.
changed_ns_log_empty() {
	local bytes
	bytes=$(nvme get-log "/dev/$ctrl" --log-id=4 --log-len=8 --raw-binary | od -An -tx1 -v)
	matches "${bytes//[$' \n']/}" '^0000000000000000$'
}

# Case-sensitive kernel markers: "oops" alone also matches loops_per_jiffy.
guest_log_clean() {
	local log line bad=0
	log=$(dmesg) || return 1
	while IFS= read -r line; do
		if [[ ${line,,} =~ nvme.*(timeout|i/o\ error|failed) || $line =~ Oops|BUG:|WARNING: ]]; then
			echo "$line"
			bad=1
		fi
	done <<< "$log"
	return $bad
}

if find_vnvme_pci; then
	pass "a PCI device of class 0x010802 is present"
else
	fail "a PCI device of class 0x010802 is present" "no such device in /sys/bus/pci/devices"
	pci=none
fi
check "it has an MSI-X capability" has_msix_cap

# Separate read and polled queues: fio's writes, verify reads and polled I/O
# then travel on 3 x vCPUs I/O queues (the L1 side counts them).
cpus=(/sys/devices/system/cpu/cpu[0-9]*)
modprobe nvme write_queues=${#cpus[@]} poll_queues=${#cpus[@]}
ns1_dev=/dev/no-namespace-1 ns2_dev=/dev/no-namespace-2 ns3_dev=/dev/no-namespace-3
ctrl=nvme-not-found other=nvme-not-found
check "the inbox nvme driver binds the instance under test" wait_until 60 ctrl_by_serial "$VNVME_SERIAL" ctrl
check "the inbox nvme driver binds the instance in the other doorbell mode" \
	wait_until 60 ctrl_by_serial "$VNVME_OTHER_SERIAL" other
check "the two instances are two controllers" test "$ctrl" != "$other"
check "namespace 1 appears as a block device" wait_ns 60 1 ns1_dev
check "namespace 2 appears as a block device" wait_ns 30 2 ns2_dev
kmsg=$(dmesg)
while IFS= read -r line; do
	[[ ${line,,} == *nvme* ]] && echo "$line"
done <<< "$kmsg" > "$out/l2-dmesg-nvme.log"
check "the driver uses MSI-X vectors" has_msi_irqs
check "the driver created default, read and poll queues, one each per vCPU" io_queue_sets

id_ctrl=$(nvme id-ctrl "/dev/$ctrl" 2>&1)
check "nvme id-ctrl reports the instance serial" matches "$id_ctrl" $'(^|\n)sn +: '"$VNVME_SERIAL"
check "nvme id-ctrl reports 16 namespaces and VER 1.4" \
	matches "$id_ctrl" $'(^|\n)nn +: 16\n.*(^|\n)ver +: 0x10400\n|(^|\n)ver +: 0x10400\n.*(^|\n)nn +: 16\n'
# nvme-cli prints NSZE in hex.
check "nvme id-ns reports the namespace size" \
	run_matching $'(^|\n)nsze +: '"$(printf '0x%x' "$VNVME_NS1_LBAS")"$'\n' nvme id-ns "$ns1_dev"
check "nvme list-ns lists namespaces 1 and 2" \
	run_matching $'\\[ *0\\]: *0x1\n\\[ *1\\]: *0x2' nvme list-ns "/dev/$ctrl"
check "nvme ns-descs returns NGUID and EUI-64" run_matching '[Nn][Gg][Uu][Ii][Dd].*[Ee][Uu][Ii]64|[Ee][Uu][Ii]64.*[Nn][Gg][Uu][Ii][Dd]' \
	nvme ns-descs "$ns1_dev"
check "nvme smart-log answers" run_matching 'power_cycles' nvme smart-log "/dev/$ctrl"
check "nvme error-log answers" nvme error-log "/dev/$ctrl" -e 4
check "nvme get-feature number of queues" run_matching 'Current value' nvme get-feature "/dev/$ctrl" -f 7
check "nvme get-feature volatile write cache is enabled" \
	run_matching 'Current value:0x0*1' nvme get-feature "/dev/$ctrl" -f 6
check "nvme fw-log answers" nvme fw-log "/dev/$ctrl"

# The same data path in the other doorbell mode (the L1 side says which).
other_ns=/dev/no-namespace-$VNVME_OTHER_NSID
check "the other instance's namespace appears" wait_ns 60 "$VNVME_OTHER_NSID" other_ns

# One fio process runs every verified job, one after another (stonewall): a
# fio start costs seconds, and up to a minute on a busy host, in a nested TCG
# guest (64 shared libraries to map and relocate).  Each job is a reporting group of its own, and its terse line
# says whether it failed and how much it read back to verify.
fio_common=(--ioengine=libaio --direct=1 --group_reporting --verify_fatal=1)
write_verify_jobs() {
	local last_cpu=$((${#cpus[@]} - 1))
	printf '%s\n' \
		"[vq]" "filename=$ns1_dev" "rw=randwrite" "bs=4k" "iodepth=16" \
		"numjobs=${#cpus[@]}" "size=512k" "offset_increment=1m" "verify=crc32c" \
		"cpus_allowed=0-$last_cpu" "cpus_allowed_policy=split" \
		"[big]" "stonewall" "filename=$ns1_dev" "rw=write" "bs=256k" "iodepth=4" \
		"size=4m" "offset=8m" "verify=md5" \
		"[mdts]" "stonewall" "filename=$ns1_dev" "rw=randwrite" "bs=512k" "iodepth=2" \
		"size=4m" "offset=16m" "verify=crc32c" \
		"[polled]" "stonewall" "ioengine=io_uring" "hipri" "filename=$ns1_dev" \
		"rw=randwrite" "bs=16k" "iodepth=4" "size=1m" "offset=24m" "verify=crc32c" \
		"[other]" "stonewall" "filename=$other_ns" "rw=randwrite" "bs=4k" "iodepth=16" \
		"numjobs=${#cpus[@]}" "size=512k" "offset_increment=1m" "verify=crc32c" \
		"[other-seq]" "stonewall" "filename=$other_ns" "rw=write" "bs=128k" "iodepth=8" \
		"size=4m" "offset=4m" "verify=md5"
}
write_verify_jobs > "$out/verify.fio"
fio "${fio_common[@]}" --output-format=normal,terse --terse-version=3 "$out/verify.fio" \
	> "$out/fio-verify.log" 2>&1
cat_file "$out/fio-verify.log" >> "$detail"
# fio_job_verified JOB: JOB's terse line (3;version;name;group;error;read KiB;...)
# reports no error and a verify read-back.
fio_job_verified() {
	local -a f
	local line
	while IFS= read -r line; do
		IFS=';' read -r -a f <<< "$line"
		[[ ${f[0]} == 3 && ${f[2]-} == "$1" ]] || continue
		((f[4] == 0 && f[5] > 0)) && return 0
		echo "fio job $1: error ${f[4]}, ${f[5]} KiB read back"
		return 1
	done < "$out/fio-verify.log"
	echo "fio job $1: no result line (fio did not run it)"
	last_lines 5 "$out/fio-verify.log"
	return 1
}
check "fio 4k randwrite crc32c verify, iodepth 16, one job per queue" fio_job_verified vq
check "fio 256k sequential (PRP lists) md5 verify" fio_job_verified big
check "fio 512k (MDTS) reads and writes verify" fio_job_verified mdts
check "fio polled I/O (io_uring hipri, poll queues) verifies" fio_job_verified polled
check "fio 4k randwrite crc32c verify on the instance in the other doorbell mode" \
	fio_job_verified other
check "fio 128k sequential md5 verify in the other doorbell mode" fio_job_verified other-seq

check "mkfs.ext4 on namespace 2" mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 "$ns2_dev"
mkdir -p /mnt/ns2
check "mount namespace 2" mount "$ns2_dev" /mnt/ns2
check "write a file on it" write_marker_file
check "umount" umount /mnt/ns2
check "mount again and the data is intact" remount_and_verify
: > "$out/fs-written"

check "hot attach: L1 enables namespace 3" ask_l1 attach
check "hot attach: the guest sees namespace 3" wait_ns 60 3 ns3_dev
check "hot attach: namespace 3 reports its own size" \
	run_matching $'(^|\n)nsze +: '"$(printf '0x%x' "$VNVME_NS3_LBAS")"$'\n' nvme id-ns "$ns3_dev"
check "hot attach: the driver consumed the changed-namespace log" changed_ns_log_empty
check "hot detach: L1 disables namespace 3" ask_l1 detach
check "hot detach: namespace 3 goes away" wait_ns_gone 60 3

fio --name=prep "${fio_common[@]}" --filename="$ns1_dev" --rw=write --bs=4k --iodepth=16 \
	--size=2m --offset=32m --verify=crc32c --do_verify=0 > "$out/fio-reset.log" 2>&1 &
fio_pid=$!
nap 3
check "nvme reset during I/O" nvme reset "/dev/$ctrl"
wait "$fio_pid"
fio_status=$?
check "fio survives the reset" fio_reset_status
check "controller is live after reset" wait_ns 30 1 ns1_dev
check "data written across the reset verifies" \
	fio --name=prep "${fio_common[@]}" --filename="$ns1_dev" --rw=write --bs=4k --iodepth=16 \
	--size=2m --offset=32m --verify=crc32c --verify_only
check "guest kernel log has no nvme errors or timeouts" guest_log_clean
echo "done" > "$out/l2-finished"
