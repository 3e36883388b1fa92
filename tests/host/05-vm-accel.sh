#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# host-vm-accel: tools/vm/run's choice between KVM and TCG. A /dev/kvm that is there and
# writable but does not work must give TCG with one line saying why, whatever way KVM fails
# (QEMU aborts, as on this project's CI machines, or the guest hangs); a working KVM is
# used; VNVME_VM_ACCEL=tcg never tries KVM; VNVME_VM_ACCEL=kvm that cannot work exits 125;
# the verdict is probed once per machine boot and QEMU binary.
#
# The machine's own /dev/kvm may work or not, so every case fakes both sides: a writable
# file stands for the device node (VNVME_KVM_DEVICE) and a wrapper around the real QEMU
# (VNVME_QEMU) fails under "-accel kvm" the way a broken KVM does, or, for a working KVM,
# runs the guest under TCG instead. Every wrapper logs its KVM invocations.
# shellcheck disable=SC2317 # the check_* functions run through ktap_check
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$repo/tests/lib/ktap.sh"
cd "$repo"

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
# The QEMU the runner would use here (tests/run's first-level one, if it set one).
real_qemu=$(command -v "${VNVME_QEMU:-qemu-system-x86_64}")
touch "$tmp/kvm"

# make_qemu NAME BEHAVIOUR: a QEMU wrapper at $tmp/NAME whose "-accel kvm" runs abort
# (QEMU's kvm_buf_set_msrs assertion), hang (the guest never boots), or work (TCG stands
# in). Each such run appends a line to $tmp/NAME.kvm-runs. A new wrapper is a new QEMU
# binary for the verdict cache.
make_qemu() {
	local name=$1 behaviour=$2
	cat >"$tmp/$name" <<-WRAPPER
		#!/bin/bash
		case " \$* " in
		*" -accel kvm "*) echo run >>"$tmp/$name.kvm-runs" ;;
		*) exec "$real_qemu" "\$@" ;;
		esac
		case $behaviour in
		abort)
			echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion \\\`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
			kill -ABRT \$\$
			;;
		hang) exec sleep 600 ;;
		work)
			args=()
			while ((\$#)); do
				case \$1 in
				-accel) args+=(-accel tcg); shift 2 ;;
				-cpu) shift 2 ;;
				*) args+=("\$1"); shift ;;
				esac
			done
			exec "$real_qemu" "\${args[@]}"
			;;
		esac
	WRAPPER
	chmod +x "$tmp/$name"
}

kvm_runs() {
	if [[ -f $tmp/$1.kvm-runs ]]; then
		wc -l <"$tmp/$1.kvm-runs"
	else
		echo 0
	fi
}

# vm_run QEMU-NAME [VAR=VALUE...] -- COMMAND...: tools/vm/run with the fake device node and
# the wrapper; stdout to $tmp/out, stderr to $tmp/err; prints nothing, returns run's status.
vm_run() {
	local name=$1 env=()
	shift
	while [[ $1 != -- ]]; do
		env+=("$1")
		shift
	done
	# The caller's VNVME_VM_ACCEL (tests/run under VNVME_VM_ACCEL=tcg) must not decide here.
	env -u VNVME_VM_ACCEL VNVME_KVM_DEVICE="$tmp/kvm" VNVME_QEMU="$tmp/$name" \
		VNVME_KVM_PROBE_TIMEOUT=5 "${env[@]}" tools/vm/run --timeout 300 "$@" >"$tmp/out" 2>"$tmp/err"
}

# vm_accel QEMU-NAME [VAR=VALUE...]: tools/vm/run --accel, the choice without a boot;
# stdout to $tmp/out, stderr to $tmp/err.
vm_accel() {
	local name=$1
	shift
	env -u VNVME_VM_ACCEL VNVME_KVM_DEVICE="$tmp/kvm" VNVME_QEMU="$tmp/$name" \
		VNVME_KVM_PROBE_TIMEOUT=5 "$@" tools/vm/run --accel >"$tmp/out" 2>"$tmp/err"
}

show() {
	echo "stdout:"
	cat "$tmp/out"
	echo "stderr:"
	cat "$tmp/err"
	echo "KVM runs of $1: $(kvm_runs "$1")"
}

# The command's status and output come through; stderr has exactly the one line.
check_abort_falls_back() {
	local status=0
	vm_run abort -- sh -c 'echo guest-ran; exit 3' || status=$?
	show abort
	((status == 3)) && [[ $(<"$tmp/out") == guest-ran ]] &&
		[[ $(grep -c "KVM does not work, using TCG" "$tmp/err") == 1 ]] &&
		grep -q "status 134.*kvm_buf_set_msrs" "$tmp/err" && (($(kvm_runs abort) == 1))
}

# Same QEMU, same boot: the cached verdict stands, QEMU is not started with KVM again.
# Only two checks boot a guest (the fallback's and the working KVM's): the choice is made
# before the boot, and --accel shows it.
check_verdict_cached() {
	vm_accel abort || { show abort; return 1; }
	show abort
	[[ $(<"$tmp/out") == "tcg (QEMU exited with status 134 "* ]] && (($(kvm_runs abort) == 1))
}

# A probe that times out is tried once more with twice the deadline (a loaded machine).
check_hang_falls_back() {
	vm_accel hang || { show hang; return 1; }
	show hang
	[[ $(<"$tmp/out") == "tcg (the probe guest did not reach its first process within 10s)" ]] &&
		(($(kvm_runs hang) == 2))
}

# A working KVM is used for the command's boot too: one probe and one real run.
check_working_kvm_used() {
	# Under TCG the probe boot takes seconds, not the fraction of a second KVM would.
	vm_run work VNVME_KVM_PROBE_TIMEOUT=120 -- sh -c 'echo guest-ran' || { show work; return 1; }
	show work
	[[ $(<"$tmp/out") == guest-ran && ! -s $tmp/err ]] && (($(kvm_runs work) == 2))
}

check_forced_tcg_never_tries() {
	make_qemu abort-tcg abort
	vm_accel abort-tcg VNVME_VM_ACCEL=tcg || { show abort-tcg; return 1; }
	show abort-tcg
	[[ $(<"$tmp/out") == "tcg (VNVME_VM_ACCEL=tcg)" && ! -s $tmp/err ]] &&
		(($(kvm_runs abort-tcg) == 0))
}

# A forced kvm does not take a cached "no" for an answer: it probes again (KVM may have
# been mended since), then gives up with 125 before the command runs.
check_forced_kvm_fails() {
	local status=0 before
	before=$(kvm_runs abort)
	vm_run abort VNVME_VM_ACCEL=kvm -- sh -c 'echo must-not-run' || status=$?
	show abort
	((status == 125)) && [[ ! -s $tmp/out ]] && (($(kvm_runs abort) == before + 1)) &&
		grep -q "VNVME_VM_ACCEL=kvm, but KVM does not work here: QEMU exited with status 134" "$tmp/err"
}

check_forced_kvm_no_device() {
	local status=0
	vm_run abort VNVME_VM_ACCEL=kvm VNVME_KVM_DEVICE="$tmp/no-such-kvm" -- true || status=$?
	show abort
	((status == 125)) && grep -q "KVM does not work here: $tmp/no-such-kvm does not exist" "$tmp/err"
}

# Without a device node (a nested guest under TCG) TCG is chosen silently.
check_no_device_silent() {
	local before
	before=$(kvm_runs abort)
	vm_run abort VNVME_KVM_DEVICE="$tmp/no-such-kvm" -- sh -c 'echo guest-ran' || { show abort; return 1; }
	show abort
	[[ $(<"$tmp/out") == guest-ran && ! -s $tmp/err ]] && (($(kvm_runs abort) == before))
}

# --accel says what a boot would use and why, from the cached verdicts of the checks above.
check_accel_option() {
	local broken working before_abort before_work
	before_abort=$(kvm_runs abort)
	before_work=$(kvm_runs work)
	broken=$(env -u VNVME_VM_ACCEL VNVME_KVM_DEVICE="$tmp/kvm" VNVME_QEMU="$tmp/abort" tools/vm/run --accel 2>&1)
	working=$(env -u VNVME_VM_ACCEL VNVME_KVM_DEVICE="$tmp/kvm" VNVME_QEMU="$tmp/work" tools/vm/run --accel 2>&1)
	echo "broken KVM: $broken"
	echo "working KVM: $working"
	[[ $broken == "tcg (QEMU exited with status 134 "* && $working == "kvm ("* ]] &&
		(($(kvm_runs abort) == before_abort && $(kvm_runs work) == before_work))
}

check_bad_mode_refused() {
	local status=0
	vm_run abort VNVME_VM_ACCEL=fast -- true || status=$?
	show abort
	((status != 0)) && grep -q "VNVME_VM_ACCEL must be kvm, tcg or auto, not 'fast'" "$tmp/err"
}

main() {
	ktap_start host-vm-accel
	ktap_plan 10
	make_qemu abort abort
	make_qemu hang hang
	make_qemu work work
	ktap_check "KVM that aborts QEMU: TCG, one line saying why" check_abort_falls_back
	ktap_check "the verdict is cached for the boot and the QEMU binary" check_verdict_cached
	ktap_check "KVM whose guest hangs: TCG after the probe's deadline" check_hang_falls_back
	ktap_check "working KVM is used" check_working_kvm_used
	ktap_check "VNVME_VM_ACCEL=tcg never starts QEMU with KVM" check_forced_tcg_never_tries
	ktap_check "VNVME_VM_ACCEL=kvm on a broken KVM exits 125 and says why" check_forced_kvm_fails
	ktap_check "VNVME_VM_ACCEL=kvm without a device node exits 125" check_forced_kvm_no_device
	ktap_check "no device node: TCG without a word" check_no_device_silent
	ktap_check "VNVME_VM_ACCEL with another value is refused" check_bad_mode_refused
	ktap_check "vm/run --accel prints the choice and why" check_accel_option
	ktap_finish
}

# On one line: bash reads scripts as it runs them; an edit during a run must not derail it.
main "$@"; exit
