# SPDX-License-Identifier: GPL-2.0
# Setup and postconditions shared by the conformance, hostile, fuzz and fault suites
# (tests/l1/suites/3x-*.sh, 4x-*.sh); 10-vfio-device.sh uses fold_ktap. Source after
# tests/lib/ktap.sh.
#
# The postcondition of every hostile and fault test (post_check): the kernel log gained no
# Oops/BUG/WARNING/refcount/list-corruption/lockdep/hung-task report, the instance still
# serves a verified write and read (unless the test removed it), no guest page stays pinned
# once the client closed the device, the instance can be removed and the module unloads.
# shellcheck shell=bash

CHK_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../../.." && pwd)
CHK_CLI=$CHK_ROOT/tools/vfio/vnvme-vfio
CHK_BIN=$CHK_ROOT/tests/l1/conformance
CHK_TYPES=/sys/class/mdev_bus/vnvme/mdev_supported_types
CHK_DEVICES=/sys/bus/mdev/devices
CHK_KERNEL_BAD='Oops|BUG:|WARNING:|kernel BUG|general protection|Call Trace|refcount_t|list_add corruption|list_del corruption|possible circular locking|possible recursive locking|lockdep|blocked for more than|soft lockup|hard LOCKUP|self-detected stall|rcu: INFO|UBSAN|KASAN|unable to handle|use-after-free|bad page state'

# Doorbell mode of the pass a suite runs (trapped or mapped): chk_load makes it the default
# of new instances (module parameter doorbell_mode); the clients follow the instance.
CHK_DOORBELLS=trapped

chk_loops=()
chk_files=()
chk_uuids=()
chk_work=

# chk_build PROGRAM...: the client and these test programs, built if needed (the host build
# normally did it; the VM's root is read-only, the tmpfs overlay takes the objects).
chk_build() {
	local p
	make -s -C "$CHK_ROOT/tools/vfio" >/dev/null 2>&1
	[[ -x $CHK_CLI ]] || return 1
	for p in "$@"; do
		[[ -x $CHK_BIN/$p ]] || make -s -C "$CHK_BIN" "$p" >/dev/null 2>&1
		[[ -x $CHK_BIN/$p ]] || return 1
	done
}

chk_module() {
	local ko
	for ko in "${VNVME_KO:-}" "$CHK_ROOT/build/kmod/$(uname -r)/vnvme.ko"; do
		[[ -n $ko && -r $ko ]] && { echo "$ko"; return 0; }
	done
	return 1
}

# chk_load [PARAM=VALUE...]: a fresh vnvme.ko (unloading any previous one).
chk_load() {
	local ko
	modprobe -a vfio vfio_iommu_type1 mdev loop libcrc32c || return 1
	if [[ -d /sys/module/vnvme ]]; then
		chk_remove_all
		rmmod vnvme || return 1
	fi
	ko=$(chk_module) || { echo "no vnvme.ko for $(uname -r)"; return 1; }
	insmod "$ko" "doorbell_mode=$CHK_DOORBELLS" "$@"
}

# chk_doorbell_opts UUID: the client option that matches the instance's doorbell mode.
chk_doorbell_opts() {
	[[ $(cat "$CHK_DEVICES/$1/vnvme/doorbell_mode" 2>/dev/null) == mapped ]] &&
		echo "--doorbells mapped"
	return 0
}

# chk_mode_prefix: case-name prefix of the pass ("" trapped, "mapped_" mapped).
chk_mode_prefix() {
	[[ $CHK_DOORBELLS == mapped ]] && echo mapped_
	return 0
}

# chk_poller_gone UUID: once the client closed the device no poller thread is left.
chk_poller_gone() {
	local state
	state=$(cat "$CHK_DEVICES/$1/vnvme/doorbell_poller" 2>/dev/null) || return 0
	[[ $state == none* ]] && return 0
	echo "doorbell poller of $1 still there after the client closed it: $state"
	return 1
}

chk_remove_all() {
	local dev
	for dev in "$CHK_DEVICES"/*; do
		[[ -e $dev/vnvme ]] && echo 1 >"$dev/remove"
	done
	return 0
}

chk_workdir() {
	[[ -n $chk_work ]] || chk_work=$(mktemp -d /tmp/vnvme-chk.XXXXXX)
	echo "$chk_work"
}

# chk_instance TYPE: prints the UUID of a new instance of vnvme-TYPE.
chk_instance() {
	local uuid
	uuid=$(cat /proc/sys/kernel/random/uuid)
	echo "$uuid" >"$CHK_TYPES/vnvme-$1/create" || return 1
	chk_uuids+=("$uuid")
	echo "$uuid"
}

# chk_loop SIZE_MIB [SECTOR_SIZE]: prints a new loop device over a sparse file.
chk_loop() {
	local file dev
	file=$(mktemp "$(chk_workdir)/backing.XXXXXX") || return 1
	truncate -s "${1}M" "$file" || return 1
	dev=$(losetup -f --show ${2:+--sector-size "$2"} "$file") || return 1
	chk_files+=("$file")
	chk_loops+=("$dev")
	echo "$dev"
}

# chk_ns UUID N DEVICE [readonly] [noenable]: namespace N of UUID on DEVICE.
chk_ns() {
	local ns=$CHK_DEVICES/$1/ns$2
	if [[ ${4:-} == readonly ]]; then
		echo 1 >"$ns/readonly" || return 1
	fi
	echo "$3" >"$ns/device_path" || return 1
	[[ ${5:-} == noenable ]] || echo 1 >"$ns/enable"
}

# Kernel log: mark now, then check that nothing bad was logged since.
chk_kmsg_mark() {
	chk_kmsg_lines=$(dmesg | wc -l)
}

chk_kmsg_clean() {
	local bad
	bad=$(dmesg | tail -n "+$((chk_kmsg_lines + 1))" | grep -E "$CHK_KERNEL_BAD")
	[[ -z $bad ]] && return 0
	echo "kernel log: $(head -n 20 <<<"$bad")"
	return 1
}

chk_pinned_zero() {
	local n
	n=$(cat "$CHK_DEVICES/$1/vnvme/pinned_pages" 2>/dev/null) || { echo "no pinned_pages for $1"; return 1; }
	[[ $n == 0 ]] && return 0
	echo "$n guest pages still pinned after the client closed $1"
	return 1
}

# chk_verified_io UUID NSID: a fresh client writes a stamped pattern and reads it back.
chk_verified_io() {
	local out
	# shellcheck disable=SC2046 # the option is two words or none
	out=$(timeout 300 "$CHK_CLI" $(chk_doorbell_opts "$1") "$1" verify-io "$2" --lba-count 256 --bs 16k --qd 4 --seed "$RANDOM" 2>&1) && return 0
	echo "verified write+read on $1 namespace $2 failed: $out"
	return 1
}

# chk_remove UUID: removal must complete (nobody holds the device now).
chk_remove() {
	[[ -e $CHK_DEVICES/$1 ]] || return 0
	if ! timeout 120 sh -c "echo 1 > $CHK_DEVICES/$1/remove"; then
		echo "removing $1 failed or hung"
		return 1
	fi
	[[ ! -e $CHK_DEVICES/$1 ]] || { echo "$1 still exists after remove"; return 1; }
}

chk_unload() {
	[[ -d /sys/module/vnvme ]] || return 0
	chk_remove_all
	timeout 120 rmmod vnvme || { echo "rmmod vnvme failed"; return 1; }
}

chk_release_loops() {
	local dev ok=0
	for dev in "${chk_loops[@]}"; do
		losetup -d "$dev" 2>/dev/null || true
	done
	chk_loops=()
	rm -f -- "${chk_files[@]}"
	chk_files=()
	return $ok
}

# post_check UUID NSID [removed]: the postcondition after a hostile or fault test.
# Prints what failed; returns non-zero on any failure.
post_check() {
	local uuid=$1 nsid=$2 removed=${3:-} fail=0
	if [[ $removed != removed ]]; then
		chk_pinned_zero "$uuid" || fail=1
		chk_poller_gone "$uuid" || fail=1
		chk_verified_io "$uuid" "$nsid" || fail=1
		chk_pinned_zero "$uuid" || fail=1
		chk_poller_gone "$uuid" || fail=1
		chk_remove "$uuid" || fail=1
	elif [[ -e $CHK_DEVICES/$uuid ]]; then
		echo "$uuid was to be removed but still exists"
		fail=1
	fi
	chk_unload || fail=1
	chk_kmsg_clean || fail=1
	chk_release_loops
	return $fail
}

# fold_ktap [PREFIX [MISSING_NAME]]: re-emit a test program's KTAP through this suite's
# ktap functions, case names prefixed with PREFIX. Cases that did not run (a crash or a
# hang) are reported as one more failure, named MISSING_NAME (default PREFIXcompleted).
fold_ktap() {
	local prefix=${1:-} line rest planned=0 seen=0
	local missing=${2:-${prefix}completed}
	while IFS= read -r line; do
		case $line in
		"KTAP version"*) ;;
		1..*) planned=${line#1..} ;;
		"ok "*" # SKIP"*)
			rest=${line#ok }
			rest=${rest#* }
			((++seen))
			ktap_skip "$prefix${rest%% # SKIP*}" "${rest#* # SKIP }"
			;;
		"ok "*)
			rest=${line#ok }
			((++seen))
			ktap_ok "$prefix${rest#* }"
			;;
		"not ok "*)
			rest=${line#not ok }
			((++seen))
			ktap_not_ok "$prefix${rest#* }"
			;;
		"#"*) echo "$line" ;;
		*) ktap_diag "$line" ;;
		esac
	done
	if ((seen < planned)); then
		ktap_not_ok "$missing" "$((planned - seen)) of $planned cases did not run"
	fi
}

# chk_run_watched SECONDS LOG CMD...: runs CMD with its output in LOG. If it is still running
# after SECONDS (a hang, possibly in the kernel), the stacks of its threads and the kernel's
# blocked-task report are appended to LOG, it is killed, and the status is 124.
chk_run_watched() {
	local limit=$1 log=$2 pid start=$SECONDS t
	shift 2
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS - start >= limit)); then
			{
				echo "# hung after $limit s: $*"
				for t in /proc/"$pid"/task/*; do
					echo "# thread ${t##*/}: $(tr '\n' ' ' <"$t/stack" 2>/dev/null)"
				done
				echo w >/proc/sysrq-trigger 2>/dev/null
				sleep 1
				dmesg | tail -n 60 | sed 's/^/# kernel: /'
			} >>"$log"
			kill -9 "$pid" 2>/dev/null
			return 124
		fi
		sleep 1
	done
	wait "$pid"
}

# Sum of the "faults injected: N" diagnostics in a file of KTAP output.
chk_sum_faults() {
	awk '/faults injected: [0-9]+$/ { s += $NF } END { print s + 0 }' "$1"
}

# chk_setup_or_exit FUNCTION: runs the suite's setup FUNCTION in this shell (it sets the
# suite's variables); if it fails, reports "setup" with its output, unloads the module
# and ends the suite.
chk_setup_or_exit() {
	local out
	out=$(mktemp)
	if ! "$1" >"$out" 2>&1; then
		ktap_not_ok setup "$(cat "$out")"
		chk_unload >/dev/null
		rm -f "$out"
		ktap_finish
		exit
	fi
	rm -f "$out"
}
