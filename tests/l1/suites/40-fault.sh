#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite: faults under a vnvme instance and its VFIO client. Backing-device errors from
# device-mapper (an error target inside a linear table, flakey with error_writes, a live
# linear <-> error table swap) must give the NVMe media statuses,
# Error Information entries and SMART media-error counts; a null_blk device removed and a
# loop device detached under I/O; dma_unmap, controller reset, namespace detach and Delete SQ
# with I/O in flight (held in a suspended device-mapper table; dma_unmap must leave no pin,
# zero-copy data pages included, and the held commands end with success or Data Transfer
# Error); instance removal while the
# client holds the device (REQ fires, removal completes after the close); the client killed
# with SIGKILL with I/O in flight; Delete SQ with synchronous commands held (those not started
# are dropped); a second instance serving I/O while the first one's commands are held; rmmod while an instance is open (EBUSY); shutdown with
# writes held longer than the controller waits; flushes that fail (Flush of one and of every
# namespace, shutdown, Write Zeroes with FUA or the volatile write cache off).
#
# Namespace 1 is always a healthy loop device; the faulty device is namespace 2. Every case
# runs on a fresh module and instance and ends with the postcondition (tests/l1/lib/checks.sh
# post_check): clean kernel log, no pinned pages, verified I/O, removal, module unload.
# vnvme-timeout: 1800
set -u
SUITE_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SUITE_DIR/../../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$ROOT/tests/lib/ktap.sh"
# shellcheck source=tests/l1/lib/checks.sh
source "$ROOT/tests/l1/lib/checks.sh"

FAULT=$CHK_BIN/fault
SECTORS=131072			# 64 MiB backing devices, 512-byte blocks
BAD_START=65536
BAD_COUNT=2048
faults_total=0
case_dir=

ktap_start fault

# ---- backing devices ---------------------------------------------------------------------

dm_create() {	# dm_create NAME TABLE: prints /dev/mapper/NAME
	modprobe -a dm-mod dm-flakey dm-delay >/dev/null 2>&1
	# No udev in the VM: dmsetup makes the device node itself.
	dmsetup create --noudevsync "$1" <<<"$2" || return 1
	dmsetup mknodes "$1" >/dev/null 2>&1
	[[ -b /dev/mapper/$1 ]] || return 1
	echo "/dev/mapper/$1"
}

nullb_create() {	# nullb_create NAME: prints its device node
	local d=/sys/kernel/config/nullb/$1
	modprobe null_blk nr_devices=0 || return 1
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	mkdir "$d" || return 1
	echo 64 >"$d/size" && echo 512 >"$d/blocksize" && echo 1 >"$d/memory_backed" || return 1
	echo 1 >"$d/power" || return 1
	# The disk is named after the configfs item (older kernels: nullbN);
	# devtmpfs creates the node asynchronously.
	for _ in $(seq 1 40); do
		[[ -b /dev/$1 ]] && { echo "/dev/$1"; return 0; }
		[[ -b /dev/nullb$(cat "$d/index") ]] && { echo "/dev/nullb$(cat "$d/index")"; return 0; }
		sleep 0.25
	done
	return 1
}

# The devices are made in $(...) subshells, so they are found by their vnvme- prefix rather
# than remembered. A device under another one goes on a later pass.
backing_cleanup() {
	local n d pass
	for pass in 1 2 3; do
		while read -r n _; do
			[[ $n == vnvme-* ]] || continue
			dmsetup resume --noudevsync "$n" >/dev/null 2>&1
			dmsetup remove --noudevsync "$n" >/dev/null 2>&1
		done < <(dmsetup ls 2>/dev/null)
		dmsetup ls 2>/dev/null | grep -q '^vnvme-' || break
		((pass < 3)) && sleep 0.2
	done
	for d in /sys/kernel/config/nullb/vnvme-*; do
		[[ -d $d ]] || continue
		echo 0 >"$d/power" 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
}

# ---- one case ----------------------------------------------------------------------------

# begin_case NAME: fresh module, instance, healthy namespace 1. Sets uuid, l1.
begin_case() {
	case_name=$(chk_mode_prefix)$1
	case_start=$SECONDS
	case_fail=()
	case_faults=0
	case_dir=$(mktemp -d /tmp/vnvme-fault.XXXXXX)
	chk_kmsg_mark
	chk_load || { case_fail+=("module load failed"); return 1; }
	uuid=$(chk_instance small) || { case_fail+=("instance"); return 1; }
	l1=$(chk_loop 64) || { case_fail+=("loop"); return 1; }
	chk_ns "$uuid" 1 "$l1" || { case_fail+=("namespace 1"); return 1; }
}

# ns2 DEVICE: the faulty namespace.
ns2() {
	chk_ns "$uuid" 2 "$1" || { case_fail+=("namespace 2 on $1"); return 1; }
}

# run_fault CASE [--set k=v...]: the client program's case on namespace 2.
run_fault() {
	local name=$1 log status=0
	shift
	log=$case_dir/$name.log
	# shellcheck disable=SC2046 # the option is two words or none
	timeout 900 "$FAULT" --health --timeout 600 --nsid 2 --set health_nsid=1 "$@" \
		$(chk_doorbell_opts "$uuid") --case "$name" "$uuid" >"$log" 2>&1 || status=$?
	case_faults=$((case_faults + $(chk_sum_faults "$log")))
	if ! grep -q "^ok 1 $name\\( \\|$\\)" "$log"; then
		case_fail+=("$(grep -v '^KTAP\|^1\.\.' "$log" | tail -n 40)")
		return 1
	fi
	grep -E '^# ' "$log" | grep -v '^# fault:\|: faults injected: ' | sed 's/^# //' >"$case_dir/diag"
	return 0
}

# end_case [removed]: postcondition, cleanup, one KTAP line.
end_case() {
	local post
	post=$(post_check "$uuid" 1 ${1:-} 2>&1) || case_fail+=("postcondition: $post")
	backing_cleanup
	faults_total=$((faults_total + case_faults))
	if ((${#case_fail[@]} == 0)); then
		ktap_ok "$case_name"
		[[ -s $case_dir/diag ]] && ktap_diag "$(cat "$case_dir/diag")"
		((case_faults)) && ktap_diag "$case_name: faults injected: $case_faults"
		ktap_diag "$case_name: $((SECONDS - case_start)) s"
	else
		ktap_not_ok "$case_name" "${case_fail[@]}"
	fi
	rm -rf "$case_dir"
}

skip_case() {
	ktap_skip "$(chk_mode_prefix)$1" "$2"
}

have_dm() {
	command -v dmsetup >/dev/null && modprobe -a dm-mod dm-flakey dm-delay >/dev/null 2>&1
}

# ---- cases -------------------------------------------------------------------------------

case_dm_error_target() {
	local l2 dev
	begin_case dm_error_target || { end_case; return; }
	l2=$(chk_loop 64) &&
		dev=$(dm_create "vnvme-err-$$" "0 $BAD_START linear $l2 0
$BAD_START $BAD_COUNT error
$((BAD_START + BAD_COUNT)) $((SECTORS - BAD_START - BAD_COUNT)) linear $l2 $((BAD_START + BAD_COUNT))") &&
		ns2 "$dev" &&
		run_fault media_errors --set bad_slba=$BAD_START --set bad_nlb=$BAD_COUNT
	end_case
}

case_dm_flakey_error_writes() {
	local l2 dev
	begin_case dm_flakey_error_writes || { end_case; return; }
	l2=$(chk_loop 64) &&
		dev=$(dm_create "vnvme-flk-$$" "0 $SECTORS flakey $l2 0 0 3600 1 error_writes") &&
		ns2 "$dev" &&
		run_fault write_errors --set bad_slba=0 --set bad_nlb=$SECTORS
	end_case
}

case_dm_table_swap() {
	local l2 dev name=vnvme-swp-$$
	begin_case dm_table_swap || { end_case; return; }
	l2=$(chk_loop 64) &&
		echo "0 $SECTORS linear $l2 0" >"$case_dir/good" &&
		echo "0 $SECTORS error" >"$case_dir/bad" &&
		dev=$(dm_create "$name" "0 $SECTORS linear $l2 0") &&
		ns2 "$dev" &&
		run_fault table_swap --set dm="$name" --set good_table="$case_dir/good" \
			--set bad_table="$case_dir/bad" --set bad_slba=4096 --set rounds=10
	end_case
}

case_null_blk_removed() {
	local dev dir=/sys/kernel/config/nullb/vnvme-rm-$$
	begin_case null_blk_removed_mid_io || { end_case; return; }
	if dev=$(nullb_create "vnvme-rm-$$") && ns2 "$dev"; then
		run_fault backing_removed --set remove_cmd="echo 0 > $dir/power"
		# The namespace goes, the instance stays (checked by post_check on namespace 1).
		timeout 120 sh -c "echo 0 > $CHK_DEVICES/$uuid/ns2/enable" ||
			case_fail+=("disabling namespace 2 after its device went away failed or hung")
	fi
	end_case
}

case_loop_detach() {
	local l2
	begin_case loop_detach_mid_io || { end_case; return; }
	if l2=$(chk_loop 64) && ns2 "$l2"; then
		run_fault loop_detach --set detach_cmd="losetup -d $l2"
		timeout 120 sh -c "echo 0 > $CHK_DEVICES/$uuid/ns2/enable" ||
			case_fail+=("disabling namespace 2 failed or hung")
		# Its last user gone, the detached loop device is released.
		if losetup "$l2" >/dev/null 2>&1; then
			case_fail+=("$l2 still attached after the namespace let go")
		fi
	fi
	end_case
}

# A linear dm device for the cases that hold I/O in it by suspending it.
held_dm() {
	local l2
	l2=$(chk_loop 64) && dm_create "$1" "0 $SECTORS linear $l2 0"
}

# held_case NAME FAULT_CASE: the fault program's case with I/O held in a suspended dm device
# (namespace 2).
held_case() {
	local dev name=vnvme-$2-$$
	begin_case "$1" || { end_case; return; }
	dev=$(held_dm "$name") && ns2 "$dev" && run_fault "$2" --set dm="$name"
	end_case
}

case_dma_unmap_inflight() { held_case dma_unmap_inflight unmap_inflight; }
case_reset_inflight() { held_case reset_inflight reset_inflight; }
case_detach_delete_inflight() { held_case detach_and_delete_queue_inflight detach_and_delete_inflight; }
case_delete_sq_drops_unstarted() { held_case delete_sq_drops_unstarted delete_sq_drops_unstarted; }

# A second instance serves verified I/O while the first one's synchronous commands are held
# in its suspended backing device.
case_instances_isolated() {
	local dev name=vnvme-is-$$ other='' lo
	begin_case instances_isolated || { end_case; return; }
	if other=$(chk_instance small) && lo=$(chk_loop 64) && chk_ns "$other" 1 "$lo"; then
		dev=$(held_dm "$name") && ns2 "$dev" &&
			run_fault instances_isolated --set dm="$name" --set other="$other" --set cli="$CHK_CLI"
	else
		case_fail+=("second instance")
	fi
	if [[ -n $other ]] && ! chk_remove "$other" >/dev/null; then
		case_fail+=("removing the second instance failed or hung")
	fi
	end_case
}

case_shutdown_io_stuck() { held_case shutdown_io_stuck shutdown_io_stuck; }

# A device whose reads and writes work and whose flushes fail: dm-delay (no delay) sends
# reads and writes to a loop device and flushes to a flakey device that fails every write
# (an empty flush is a write to device-mapper).
flush_failing_dm() {	# flush_failing_dm NAME: prints /dev/mapper/NAME
	local l2 l3 fl
	l2=$(chk_loop 64) && l3=$(chk_loop 64) &&
		fl=$(dm_create "$1-fl" "0 $SECTORS flakey $l3 0 0 3600 1 error_writes") &&
		dm_create "$1" "0 $SECTORS delay $l2 0 0 $l2 0 0 $fl 0 0"
}

case_flush_errors() {
	local dev
	begin_case flush_errors || { end_case; return; }
	dev=$(flush_failing_dm "vnvme-fe-$$") && ns2 "$dev" && run_fault flush_errors
	end_case
}

case_write_zeroes_durable() {
	local dev
	begin_case write_zeroes_durable || { end_case; return; }
	dev=$(flush_failing_dm "vnvme-wz-$$") && ns2 "$dev" && run_fault write_zeroes_durable
	end_case
}

# wait_line FILE TEXT SECONDS
wait_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qx "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Removal while the client holds the device: REQ fires, removal waits for the close.
case_remove_while_open() {
	local dev name=vnvme-ro-$$ out remover client
	begin_case remove_while_open || { end_case removed; return; }
	if ! dev=$(held_dm "$name") || ! ns2 "$dev"; then
		end_case
		return
	fi
	out=$case_dir/client.out
	mkfifo "$case_dir/in"
	"$FAULT" hold "$uuid" "$name" <"$case_dir/in" >"$out" 2>&1 &
	client=$!
	exec {wfd}>"$case_dir/in"
	if ! wait_line "$out" ready 120; then
		case_fail+=("client not ready: $(cat "$out")")
	else
		sh -c "echo 1 > $CHK_DEVICES/$uuid/remove" &
		remover=$!
		case_faults=$((case_faults + 1))
		if ! wait_line "$out" req 120; then
			case_fail+=("no REQ interrupt after remove: $(cat "$out")")
		fi
		sleep 1
		kill -0 "$remover" 2>/dev/null ||
			case_fail+=("removal finished while the client still held the device")
		dmsetup resume --noudevsync "$name"
		echo close >&"$wfd"
		timeout 120 tail --pid="$client" -f /dev/null || case_fail+=("client did not close")
		timeout 120 tail --pid="$remover" -f /dev/null || case_fail+=("removal hangs after the close")
		[[ ! -e $CHK_DEVICES/$uuid ]] || case_fail+=("instance still there after removal")
	fi
	exec {wfd}>&-
	kill -9 "$client" 2>/dev/null
	wait 2>/dev/null
	end_case removed
}

# SIGKILL with I/O in flight: the process exits once the I/O drains, nothing stays pinned.
case_sigkill_mid_io() {
	local dev name=vnvme-kill-$$ out client
	begin_case sigkill_mid_io || { end_case; return; }
	if dev=$(held_dm "$name") && ns2 "$dev"; then
		out=$case_dir/client.out
		"$FAULT" busy "$uuid" "$name" >"$out" 2>&1 &
		client=$!
		if wait_line "$out" ready 120; then
			kill -9 "$client"
			case_faults=$((case_faults + 1))
			sleep 1
			dmsetup resume --noudevsync "$name"
			timeout 120 tail --pid="$client" -f /dev/null ||
				case_fail+=("the killed client never exited")
		else
			case_fail+=("client not ready: $(cat "$out")")
			kill -9 "$client"
		fi
		wait 2>/dev/null
	fi
	end_case
}

# rmmod with an instance open (idle, then with I/O held): EBUSY, and nothing breaks.
case_rmmod_while_open() {
	local dev name=vnvme-rm-$$ out client msg round
	begin_case rmmod_while_open || { end_case; return; }
	if dev=$(held_dm "$name") && ns2 "$dev"; then
		for round in idle held; do
			out=$case_dir/client-$round.out
			if [[ $round == idle ]]; then
				"$FAULT" busy "$uuid" >"$out" 2>&1 &
			else
				"$FAULT" busy "$uuid" "$name" >"$out" 2>&1 &
			fi
			client=$!
			if wait_line "$out" ready 120; then
				if msg=$(rmmod vnvme 2>&1); then
					case_fail+=("rmmod succeeded with the instance open ($round)")
				elif [[ $msg != *"in use"* ]]; then
					case_fail+=("rmmod ($round): '$msg', expected 'in use' (EBUSY)")
				fi
				case_faults=$((case_faults + 1))
				[[ -d /sys/module/vnvme ]] || case_fail+=("module gone after a failed rmmod")
			else
				case_fail+=("client not ready: $(cat "$out")")
			fi
			kill -9 "$client"
			dmsetup resume --noudevsync "$name" 2>/dev/null
			timeout 120 tail --pid="$client" -f /dev/null || case_fail+=("client never exited")
			wait 2>/dev/null
			[[ -d /sys/module/vnvme ]] || break
		done
	fi
	end_case
}

# ---- the mapped doorbell page's poller (mapped pass only) ------------------------------

case_poller_park_race() {
	local l2
	begin_case poller_park_race || { end_case; return; }
	l2=$(chk_loop 64) && ns2 "$l2" && run_fault poller_park_race
	end_case
}

# poller_field UUID FIELD: a field of vnvme/doorbell_poller ("STATE pid N parks N ...").
poller_field() {
	local -a f
	read -r -a f <"$CHK_DEVICES/$1/vnvme/doorbell_poller" || return 1
	case $2 in
	state) echo "${f[0]}" ;;
	pid) echo "${f[2]}" ;;
	parks) echo "${f[4]}" ;;
	esac
}

# CPU ticks (utime + stime, /proc/PID/stat fields 14 and 15) of a thread.
cpu_ticks() {
	local stat
	local -a f
	stat=$(<"/proc/$1/stat") || return 1
	stat=${stat##*) }	# past the command name, which may hold spaces
	read -r -a f <<<"$stat"
	echo $((f[11] + f[12]))
}

# An idle instance costs ~0 CPU: a client brings the controller up (admin commands and I/O
# queue creation ring doorbells through the page) and then sits idle with the device open;
# once the poller has parked, its CPU time over 10 s must stay below 5 ticks (50 ms at
# USER_HZ 100, i.e. 0.5% of one CPU).  The number is printed.
case_poller_idle_cpu() {
	local out client pid t0 t1 state i parks hz
	begin_case poller_idle_cpu || { end_case; return; }
	out=$case_dir/client
	"$FAULT" busy "$uuid" >"$out" 2>&1 &
	client=$!
	if ! wait_line "$out" ready 120; then
		case_fail+=("client not ready: $(cat "$out")")
	else
		for ((i = 0; i < 300; i++)); do
			state=$(poller_field "$uuid" state)
			[[ $state == parked ]] && break
			sleep 0.1
		done
		pid=$(poller_field "$uuid" pid)
		parks=$(poller_field "$uuid" parks)
		hz=$(getconf CLK_TCK)
		if [[ $state != parked || -z $pid || $pid == 0 ]]; then
			case_fail+=("the poller did not park within 30 s of going idle: $(cat "$CHK_DEVICES/$uuid/vnvme/doorbell_poller")")
		elif ! t0=$(cpu_ticks "$pid"); then
			case_fail+=("no /proc/$pid/stat for the poller")
		else
			sleep 10
			t1=$(cpu_ticks "$pid")
			state=$(poller_field "$uuid" state)
			ktap_diag "poller_idle_cpu: poller $pid used $((t1 - t0)) ticks (1/$hz s) in 10 s idle, $parks parks so far, now $state"
			((t1 - t0 < 5)) || case_fail+=("the idle poller used $((t1 - t0)) ticks in 10 s")
			[[ $state == parked ]] || case_fail+=("the idle poller did not stay parked: $state")
		fi
	fi
	kill -9 "$client" 2>/dev/null
	wait "$client" 2>/dev/null
	end_case
}

# ---- main --------------------------------------------------------------------------------

if ! chk_build fault; then
	ktap_not_ok build "tools/vfio or tests/l1/conformance/fault did not build"
	ktap_finish
	exit
fi
all_cases=(
	dm_error_target dm_flakey_error_writes dm_table_swap
	null_blk_removed loop_detach dma_unmap_inflight reset_inflight detach_delete_inflight
	delete_sq_drops_unstarted instances_isolated shutdown_io_stuck flush_errors write_zeroes_durable
	remove_while_open sigkill_mid_io rmmod_while_open
)
# Every case in each doorbell mode, in this boot (the mapped pass names them mapped_*),
# then the cases of the mapped page's poller.
for CHK_DOORBELLS in trapped mapped; do
	cases=("${all_cases[@]}")
	[[ $CHK_DOORBELLS == mapped ]] && cases+=(poller_park_race poller_idle_cpu)
	for c in "${cases[@]}"; do
		[[ -z ${VNVME_FAULT_CASES:-} || ",$VNVME_FAULT_CASES," == *",$c,"* ]] || continue
		case $c in
		dm_* | dma_* | reset_* | detach_* | delete_* | instances_* | shutdown_* | flush_* | \
			write_zeroes_* | remove_* | sigkill_* | rmmod_*)
			if ! have_dm; then
				skip_case "$c" "dmsetup or the dm-mod/dm-flakey/dm-delay modules are missing"
				continue
			fi
			;;
		esac
		"case_$c"
	done
done
ktap_diag "fault: faults injected $faults_total"
ktap_finish
