#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# host-tools: the contract of the test tooling itself: kernel resolution, and tools/vm/run
# booting, streaming output, propagating exit status, sharing the out dir and environment,
# and booting again only when a guest dies or hangs before its command starts.
# Set VNVME_TEST_NESTED=1 to also boot a nested guest (takes minutes).
# shellcheck disable=SC2317 # the check_* functions run through ktap_check
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$repo/tests/lib/ktap.sh"
cd "$repo"

# The scripts of the test tooling, which must stay shellcheck-clean.
TOOLING_SCRIPTS=(tools/deps.sh tools/kernels.sh tools/lib/*.sh tools/vm/run tools/vm/initramfs.sh
	tools/vm/accel.sh tools/vm/qemu-backports tools/vm/boot-stats tools/vm/guest.sh tests/run
	tests/lib/*.sh tests/l1/run-in-vm tests/l1/suites/00-boot.sh tests/host/00-tools.sh
	tests/host/01-deps.sh tests/host/05-vm-accel.sh tools/demo tools/bench tools/fresh-machine tools/debug-kernel .ci/run
	packaging/deb tests/l1/suites/60-packaging.sh)

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# Run tools/vm/run ARGS...; expect exit status WANT. A boot takes seconds: the default
# limit makes a VM that hangs fail its own check instead of the whole suite's time limit.
expect_status() {
	local want=$1 status=0
	shift
	tools/vm/run --timeout 300 "$@" >"$tmp/out" 2>&1 || status=$?
	((status == want)) || { echo "tools/vm/run $*: exit $status, want $want"; cat "$tmp/out"; return 1; }
}

check_release() {
	local release
	release=$(tools/kernels.sh release "$1")
	echo "$1 -> $release"
	[[ $release =~ ^$2$ ]]
}

# tests/run installed everything just before: a second run must do and say nothing.
check_deps_silent() {
	local output status=0
	output=$(tools/deps.sh 2>&1) || status=$?
	echo "$output"
	((status == 0)) && [[ -z $output ]]
}

check_release_echo() {
	[[ $(tools/kernels.sh release 6.1.0-99-amd64) == 6.1.0-99-amd64 ]] &&
		! tools/kernels.sh release 5.10 2>/dev/null
}

# shellcheck disable=SC2016 # expanded in the guest
# One boot checks that only the command's output arrives (no boot noise), in the caller's
# cwd, with the caller's VNVME_* variables, and that the guest can write to --out. The
# runner's own notes (a KVM that does not work here) go to stderr, not into the stream.
check_streaming_and_sharing() {
	local expected
	VNVME_TEST_TOKEN="a 'quoted' \$value" tools/vm/run --timeout 300 --out "$tmp/share" -- \
		sh -c 'echo hello; pwd; echo "$VNVME_TEST_TOKEN"; echo from-guest >"$VNVME_OUT/file"' \
		>"$tmp/stream" 2>"$tmp/stream-err" ||
		{ echo "exit status $?"; cat "$tmp/stream" "$tmp/stream-err"; return 1; }
	cat "$tmp/stream-err"
	expected=$(printf '%s\n' hello "$repo" "a 'quoted' \$value")
	diff -u <(echo "$expected") "$tmp/stream" && [[ $(cat "$tmp/share/file") == from-guest ]]
}

check_initrd_only() {
	printf 'echo in-initrd\nexit 4\n' >"$tmp/script.sh"
	expect_status 4 --initrd-only -- "$tmp/script.sh" && grep -qx in-initrd "$tmp/out"
}

check_kernel_612() {
	expect_status 0 --kernel 6.12 -- uname -r && grep -q '^6\.12\.' "$tmp/out"
}

# A guest whose PID 1 exits before the command starts (kernel panic) is booted again once,
# and each boot's failure is reported.
check_boot_death_retried() {
	expect_status 125 --append "rdinit=/bin/busybox false" -- true &&
		[[ $(grep -c "the VM stopped without reporting a status" "$tmp/out") == 2 ]] &&
		grep -q "booting again (attempt 2 of 2)" "$tmp/out"
}

# A guest that hangs before the command starts is stopped after --boot-timeout, as often as
# --boot-attempts allows.
check_boot_hang_stopped() {
	expect_status 125 --boot-timeout 8 --boot-attempts 3 --append "rdinit=/bin/busybox sleep 600" \
		-- true && [[ $(grep -c "did not start the command within 8s" "$tmp/out") == 3 ]]
}

# A command that started is never run again, whatever its status.
check_started_not_retried() {
	expect_status 125 -- sh -c 'exit 125' && ! grep -q "booting again" "$tmp/out"
}

# The command reports its status and then the guest does not power off: vm/run stops QEMU
# after --exit-grace and still returns the command's status.
check_exit_grace() {
	# shellcheck disable=SC2016 # expanded in the guest
	printf '%s\n' 'job=$(sed -n "s/.*vnvme_job=\([^ ]*\).*/\1/p" /proc/cmdline)' \
		'echo "VNVME-EXIT $(sed -n "s/^VNVME_GUEST_NONCE=//p" "$job") 6"' 'sleep 600' >"$tmp/no-poweroff.sh"
	expect_status 6 --exit-grace 5 -- sh "$tmp/no-poweroff.sh" &&
		grep -q "did not power off within 5s of the command's exit" "$tmp/out"
}

# shellcheck disable=SC2016 # expanded in the guest
check_nested() {
	expect_status 9 --timeout 1500 -- tools/vm/run --timeout 1200 -- \
		sh -c 'echo "depth $VNVME_VM_DEPTH"; exit 9' && grep -qx "depth 2" "$tmp/out"
}

main() {
	ktap_start host-tools
	# The plan comes at the end (ktap_finish): the nested check is optional.
	ktap_check "kernels.sh list names both series" diff <(printf '6.1\n6.12\n') <(tools/kernels.sh list)
	ktap_check "kernels.sh release 6.1" check_release 6.1 '6\.1\.0-[0-9]+-amd64'
	ktap_check "kernels.sh release 6.12" check_release 6.12 '6\.12\.[0-9]+\+deb12-amd64'
	ktap_check "kernels.sh release echoes a release, rejects others" check_release_echo
	ktap_check "deps.sh is silent when nothing is missing" check_deps_silent
	ktap_check "vm/run -- false exits 1" expect_status 1 -- false
	ktap_check "vm/run -- sh -c 'exit 7' exits 7" expect_status 7 -- sh -c 'exit 7'
	ktap_check "vm/run exits 0, streams output, shares cwd, env and --out" check_streaming_and_sharing
	ktap_check "vm/run --timeout exits 124" expect_status 124 --timeout 15 -- sleep 600
	ktap_check "vm/run --initrd-only runs a script" check_initrd_only
	ktap_check "vm/run --kernel 6.12 boots 6.12" check_kernel_612
	ktap_check "vm/run boots once more when the guest dies before the command starts" \
		check_boot_death_retried
	ktap_check "vm/run stops a boot that hangs (--boot-timeout, --boot-attempts)" check_boot_hang_stopped
	ktap_check "vm/run never repeats a command that started" check_started_not_retried
	ktap_check "vm/run stops a guest that does not power off, keeps the status (--exit-grace)" \
		check_exit_grace
	if [[ ${VNVME_TEST_NESTED:-0} == 1 ]]; then
		ktap_check "vm/run works nested" check_nested
	else
		# Not a test here: every e2e suite boots its nested guest with vm/run.
		ktap_diag "nested vm/run is exercised by the e2e suites (VNVME_TEST_NESTED=1 tests it here too)"
	fi
	if command -v shellcheck >/dev/null; then
		ktap_check "tooling scripts are shellcheck-clean" shellcheck -x "${TOOLING_SCRIPTS[@]}"
	else
		ktap_skip "tooling scripts are shellcheck-clean" "shellcheck not installed"
	fi
	ktap_finish
}

# On one line: bash reads scripts as it runs them; an edit during a run must not derail it.
main "$@"; exit
