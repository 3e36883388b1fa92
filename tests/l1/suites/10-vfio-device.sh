#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite (runs as root inside the VM): the VFIO-level contract of a vnvme mdev instance.
# Loads the module, creates two instances, attaches a loop device as namespace 1 of each
# (when the instance offers that attribute), runs tools/vfio/vfio_device_test on the first
# with the second as its serial-number peer (it prints one KTAP case per check; its cases
# are folded into this suite's KTAP), drives the second with the vnvme-vfio CLI, then
# removes the instances and unloads what it loaded.
#
# Environment: VNVME_KO         the module built for the running kernel (else searched)
#              VNVME_VFIO_TYPE  mdev type to test (default vnvme-small)
#              VNVME_VFIO_ARGS  extra vfio_device_test arguments (e.g. --iommufd)
# vnvme-timeout: 1200
set -u

SUITE_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SUITE_DIR/../../.." && pwd)
TEST_BIN=$ROOT/tools/vfio/vfio_device_test
CLI=$ROOT/tools/vfio/vnvme-vfio
TYPE=${VNVME_VFIO_TYPE:-vnvme-small}
PARENT=/sys/class/mdev_bus/vnvme
MDEV_DEVICES=/sys/bus/mdev/devices

# shellcheck source=tests/lib/ktap.sh
source "$ROOT/tests/lib/ktap.sh"
# shellcheck source=tests/l1/lib/checks.sh
source "$ROOT/tests/l1/lib/checks.sh"	# fold_ktap

loaded_vnvme=0
instances=()
loop_devs=()
loop_files=()
work_dir=

# step NAME FUNC ARGS...: a setup step as a test case. Unlike ktap_check it runs FUNC in
# this shell, so what FUNC records (modules, instances, loop devices) is kept for cleanup.
step() {
	local name=$1 log status=0
	shift
	log=$(mktemp)
	"$@" >"$log" 2>&1 </dev/null || status=$?
	if ((status == 0)); then
		ktap_ok "$name"
	else
		ktap_not_ok "$name" "$*: exit status $status" "$(cat "$log")"
	fi
	rm -f "$log"
	return "$status"
}

find_module() {
	local ko
	for ko in "${VNVME_KO:-}" "$ROOT/build/kmod/$(uname -r)/vnvme.ko" "$ROOT/kernel/vnvme.ko"; do
		if [[ -n $ko && -r $ko ]] &&
			[[ $(modinfo -F vermagic "$ko" 2>/dev/null) == "$(uname -r) "* ]]; then
			echo "$ko"
			return 0
		fi
	done
	return 1
}

load_modules() {
	modprobe -a vfio vfio_iommu_type1 mdev libcrc32c || return 1
	[[ -d /sys/module/vnvme ]] && return 0
	local ko
	if ! ko=$(find_module); then
		echo "no vnvme.ko for $(uname -r) (set VNVME_KO)"
		return 1
	fi
	insmod "$ko" || return 1
	loaded_vnvme=1
}

create_instance() {
	local uuid
	uuid=$(cat /proc/sys/kernel/random/uuid)
	echo "$uuid" >"$PARENT/mdev_supported_types/$TYPE/create" || return 1
	[[ -e $MDEV_DEVICES/$uuid ]] || return 1
	instances+=("$uuid")
}

# Namespace 1 of instance $1 on a loop device over a 64 MiB file in the tmpfs overlay.
attach_namespace() {
	local ns=$MDEV_DEVICES/$1/ns1 file dev
	file=$work_dir/ns-$1.img
	truncate -s 64M "$file" || return 1
	loop_files+=("$file")
	dev=$(losetup -f --show "$file") || return 1
	loop_devs+=("$dev")
	echo "$dev" >"$ns/device_path" && echo 1 >"$ns/enable"
}

attach_namespaces() {
	local uuid
	modprobe loop || return 1
	for uuid in "${instances[@]}"; do
		attach_namespace "$uuid" || return 1
	done
}

cleanup() {
	local uuid ok=1
	for uuid in "${instances[@]}"; do
		if [[ -e $MDEV_DEVICES/$uuid ]]; then
			echo 1 >"$MDEV_DEVICES/$uuid/remove" || ok=0
		fi
		[[ -e $MDEV_DEVICES/$uuid ]] && ok=0
	done
	for dev in "${loop_devs[@]}"; do
		losetup -d "$dev" || ok=0
	done
	rm -rf "$work_dir"
	((ok))
}

# cli_case NAME EXPECTED_STATUS CLI_ARGS...: run vnvme-vfio, show its output as diagnostics.
# tc_file_echo VALUE FILE: write VALUE to a sysfs FILE.
tc_file_echo() {
	echo "$1" >"$2"
}

cli_case() {
	local name=$1 want=$2 status output
	shift 2
	output=$("$CLI" "$@" 2>&1 </dev/null)
	status=$?
	[[ -n $output ]] && ktap_diag "$(head -n 40 <<<"$output")"
	if ((status == want)); then
		ktap_ok "$name"
	else
		ktap_not_ok "$name" "vnvme-vfio $* exited with $status, expected $want"
	fi
	cli_output=$output
}

# json_check PYTHON_EXPR: evaluate EXPR on the JSON in $cli_output (as d).
json_check() {
	python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); sys.exit(0 if eval(sys.argv[1]) else 1)' \
		"$1" <<<"$cli_output"
}

# cli_output_has PATTERN: the last vnvme-vfio output matches the grep pattern.
cli_output_has() {
	grep -q -- "$1" <<<"$cli_output"
}

# 64-byte Identify SQE (CNS in cdw10) as hex: opcode, flags, CID 0x1234, then zeros.
identify_sqe_hex() {
	printf '%02x00341200000000%s%s%08x%s' "$1" "$(printf '0%.0s' {1..32})" \
		"$(printf '0%.0s' {1..32})" $((($2 & 0xff) << 24)) "$(printf '0%.0s' {1..40})"
}

cli_cases() {
	local uuid=$1 have_ns=$2 data=$work_dir/cli-data
	cli_case cli_info_json 0 "$uuid" info --json
	ktap_check cli_info_json_valid json_check 'd["device"]["num_regions"] == 9 and d["pci"]["class"] == 0x010802'
	cli_case cli_id_ctrl 0 "$uuid" id-ctrl
	cli_case cli_raw_identify 0 "$uuid" raw --admin "$(identify_sqe_hex 6 1)" --data-in 4096
	ktap_check cli_raw_identify_cid cli_output_has "cid 4660 status 0x0000"
	cli_case cli_raw_invalid_opcode 1 "$uuid" raw --admin "$(identify_sqe_hex 0xff 0)"
	cli_case cli_usage_error 2 "$uuid" read 1
	cli_case cli_missing_instance 3 00000000-0000-0000-0000-000000000000 info
	if ((!have_ns)); then
		ktap_skip cli_io "no namespace attached"
		return
	fi
	cli_case cli_id_ns 0 "$uuid" id-ns 1
	head -c $((8 * 4096)) /dev/urandom >"$data.in"
	cli_case cli_write 0 "$uuid" write 1 16 64 "$data.in"
	cli_case cli_read 0 "$uuid" read 1 16 64 "$data.out"
	ktap_check cli_read_matches_write cmp -n $((8 * 4096)) "$data.in" "$data.out"
	cli_case cli_verify_io 0 "$uuid" verify-io 1 --lba-count 2048 --queues 2 --qd 8
	cli_case cli_verify_io_irq 0 "$uuid" verify-io 1 --lba-count 2048 --queues 2 --qd 4 \
		--bs 64k --irq --seed 7
	cli_case cli_bench_randread 0 "$uuid" bench 1 --rw randread --bs 4k --qd 8 --ios 4000 --json
	ktap_check cli_bench_json_valid json_check 'd["ios"] == 4000 and d["iops"] > 0 and d["lat_us"]["p99"] >= d["lat_us"]["p50"] > 0'
	cli_case cli_bench_randwrite_irq 0 "$uuid" bench 1 --rw randwrite --bs 4k --qd 16 \
		--queues 2 --seconds 1 --irq
	cli_case cli_bench_write_verify 0 "$uuid" bench 1 --rw write --bs 128k --qd 4 \
		--lba-count 8192 --ios 64 --verify
	cli_case cli_bench_read_verify 0 "$uuid" bench 1 --rw read --bs 128k --qd 4 \
		--lba-count 8192 --ios 64 --verify
}

ktap_start vfio-device
if [[ ! -x $TEST_BIN || ! -x $CLI ]]; then
	make -s -C "$ROOT/tools/vfio" >/dev/null 2>&1
fi

if ! step "vfio_modules_loaded" load_modules; then
	ktap_skip "vfio_device_test" "modules not loaded"
	ktap_finish
	exit
fi
if [[ ! -x $TEST_BIN ]]; then
	ktap_not_ok "vfio_device_test_built" "$TEST_BIN missing (make -C tools/vfio)"
elif step "mdev_instances_created" eval 'create_instance && create_instance'; then
	work_dir=$(mktemp -d /tmp/vnvme-vfio.XXXXXX)
	have_ns=0
	if [[ ! -e $MDEV_DEVICES/${instances[0]}/ns1/device_path ]]; then
		ktap_skip "namespaces_attached" "instance has no ns1/device_path attribute"
	elif step "namespaces_attached" attach_namespaces; then
		have_ns=1
	fi
	# A tcase program: --timeout per case (a hung case bails out), --set peer= its
	# serial-number peer. Its cases keep their names; a crash or hang that leaves some
	# unrun adds vfio_device_test_completed. With a namespace, --health makes every case
	# also prove that a fresh controller still serves verified I/O after it.
	args=(--timeout 120 --set "peer=${instances[1]}")
	((have_ns)) && args+=(--health)
	ktap_diag "vfio_device_test ${args[*]} ${VNVME_VFIO_ARGS:-} ${instances[0]}"
	# shellcheck disable=SC2086 # VNVME_VFIO_ARGS is a word list
	fold_ktap "" vfio_device_test_completed < <(timeout 1800 "$TEST_BIN" "${args[@]}" \
		${VNVME_VFIO_ARGS:-} "${instances[0]}" 2>&1)
	wait $! || ktap_diag "vfio_device_test exited with status $?"
	cli_cases "${instances[1]}" "$have_ns"
	# Mapped doorbells: a third instance switched to mapped mode (changeable while nobody
	# has it open; the test's last case removed the first), region info and mmap of BAR0
	# again, and the client writing doorbells into the page.
	if step "mapped_instance_created" create_instance &&
		mapped=${instances[-1]} &&
		step "doorbell_mode_mapped" tc_file_echo mapped "$MDEV_DEVICES/$mapped/vnvme/doorbell_mode"; then
		((have_ns)) && attach_namespace "$mapped"
		fold_ktap mapped_ vfio_device_test_mapped_completed < <(timeout 600 "$TEST_BIN" \
			"${args[@]}" --case region_bar0,bar0_doorbell_mmap "$mapped" 2>&1)
		if ((have_ns)); then
			cli_case cli_verify_io_mapped_poll 0 "$mapped" --doorbells mapped --poll \
				verify-io 1 --lba-count 2048 --queues 2 --qd 8
			cli_case cli_bench_mapped_poll 0 "$mapped" --doorbells mapped --poll \
				bench 1 --rw randread --bs 4k --qd 8 --ios 4000
		fi
		cli_case cli_mapped_on_trapped_instance 3 "${instances[1]}" --doorbells mapped info
	fi
fi
step "mdev_instances_removed" cleanup
if ((loaded_vnvme)); then
	step "vnvme_module_unloaded" rmmod vnvme
fi
ktap_finish
