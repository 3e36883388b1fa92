#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite (runs as root inside the VM): the VFIO-level contract of a vnvme mdev instance.
# Loads the module, creates two instances (the second only to compare serial numbers),
# attaches a loop device as namespace 1 when the instance offers that attribute, runs
# tools/vfio/vfio_device_test (which prints one KTAP case per check; its cases are folded
# into this suite's KTAP), then removes the instances and unloads what it loaded.
#
# Environment: VNVME_KO         the module built for the running kernel (else searched)
#              VNVME_VFIO_TYPE  mdev type to test (default vnvme-small)
#              VNVME_VFIO_ARGS  extra vfio_device_test arguments (e.g. --iommufd)
set -u

SUITE_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SUITE_DIR/../../.." && pwd)
TEST_BIN=$ROOT/tools/vfio/vfio_device_test
TYPE=${VNVME_VFIO_TYPE:-vnvme-small}
PARENT=/sys/class/mdev_bus/vnvme
MDEV_DEVICES=/sys/bus/mdev/devices

if [[ -r $ROOT/tests/lib/ktap.sh ]]; then
	# shellcheck source=tests/lib/ktap.sh
	source "$ROOT/tests/lib/ktap.sh"
else
	# Stand-in with the same contract until the shared library exists.
	ktap_count=0 ktap_passed=0 ktap_failed=0 ktap_skipped=0
	echo "KTAP version 1"
	ktap_ok() { echo "ok $((++ktap_count)) $1"; ((++ktap_passed)); }
	ktap_not_ok() {
		[[ -n ${2:-} ]] && echo "# $2"
		echo "not ok $((++ktap_count)) $1"
		((++ktap_failed))
	}
	ktap_skip() { echo "ok $((++ktap_count)) $1 # SKIP $2"; ((++ktap_skipped)); }
	ktap_check() {
		local name=$1
		shift
		if "$@"; then ktap_ok "$name"; else ktap_not_ok "$name"; fi
	}
	ktap_finish() {
		echo "1..$ktap_count"
		echo "# $ktap_passed passed, $ktap_failed failed, $ktap_skipped skipped"
		((ktap_failed == 0))
	}
fi

loaded_vnvme=0
instances=()
loop_dev=
loop_file=

diag() { echo "# $*"; }

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
	modprobe -a vfio vfio_iommu_type1 mdev || return 1
	[[ -d /sys/module/vnvme ]] && return 0
	local ko
	if ! ko=$(find_module); then
		diag "no vnvme.ko for $(uname -r) (set VNVME_KO)"
		return 1
	fi
	diag "insmod $ko"
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

# Namespace 1 on a loop device over a tmpfs file, if the instance has the attribute.
attach_namespace() {
	local ns=$MDEV_DEVICES/$1/ns1
	loop_file=$(mktemp /tmp/vnvme-vfio-ns.XXXXXX) &&
		truncate -s 64M "$loop_file" &&
		loop_dev=$(losetup -f --show "$loop_file") &&
		echo "$loop_dev" >"$ns/device_path" &&
		echo 1 >"$ns/enable"
}

# Re-emit the test program's KTAP cases through this suite's ktap functions, passing
# diagnostics through. A crash or hang leaves cases missing: those are reported too.
fold_ktap() {
	local line rest name planned=0 seen=0
	while IFS= read -r line; do
		case $line in
		"KTAP version"*) ;;
		1..*) planned=${line#1..} ;;
		"ok "*" # SKIP"*)
			rest=${line#ok }
			rest=${rest#* }
			((++seen))
			ktap_skip "${rest%% # SKIP*}" "${rest#* # SKIP }"
			;;
		"ok "*)
			rest=${line#ok }
			((++seen))
			ktap_ok "${rest#* }"
			;;
		"not ok "*)
			rest=${line#not ok }
			((++seen))
			ktap_not_ok "${rest#* }"
			;;
		"Bail out!"*) diag "vfio_device_test: $line" ;;
		*) echo "$line" ;;
		esac
	done
	if ((seen < planned)); then
		ktap_not_ok "vfio_device_test_completed" "$((planned - seen)) of $planned cases did not run"
	fi
}

cleanup() {
	local uuid ok=1
	for uuid in "${instances[@]}"; do
		if [[ -e $MDEV_DEVICES/$uuid ]]; then
			echo 1 >"$MDEV_DEVICES/$uuid/remove" || ok=0
		fi
		[[ -e $MDEV_DEVICES/$uuid ]] && ok=0
	done
	if [[ -n $loop_dev ]]; then
		losetup -d "$loop_dev" || ok=0
	fi
	[[ -n $loop_file ]] && rm -f "$loop_file"
	((ok))
}

if [[ ! -x $TEST_BIN ]]; then
	make -s -C "$ROOT/tools/vfio" >/dev/null 2>&1
fi

if ! ktap_check "vfio_modules_loaded" load_modules; then
	ktap_skip "vfio_device_test" "modules not loaded"
	ktap_finish
	exit
fi
if [[ ! -x $TEST_BIN ]]; then
	ktap_not_ok "vfio_device_test_built" "$TEST_BIN missing (make -C tools/vfio)"
elif ktap_check "mdev_instances_created" eval 'create_instance && create_instance'; then
	if [[ -e $MDEV_DEVICES/${instances[0]}/ns1/device_path ]]; then
		ktap_check "namespace1_attached" attach_namespace "${instances[0]}"
	else
		ktap_skip "namespace1_attached" "instance has no ns1/device_path attribute"
	fi
	diag "vfio_device_test ${VNVME_VFIO_ARGS:-} --peer ${instances[1]} ${instances[0]}"
	# shellcheck disable=SC2086 # VNVME_VFIO_ARGS is a word list
	fold_ktap < <(timeout 1800 "$TEST_BIN" ${VNVME_VFIO_ARGS:-} --peer "${instances[1]}" \
		"${instances[0]}" 2>&1)
	wait $! || diag "vfio_device_test exited with status $?"
fi
ktap_check "mdev_instances_removed" cleanup
if ((loaded_vnvme)); then
	ktap_check "vnvme_module_unloaded" rmmod vnvme
fi
ktap_finish
