# SPDX-License-Identifier: GPL-2.0
# Choose QEMU's accelerator for tools/vm/run: KVM only where a probe boot has shown that it
# works, TCG otherwise; sourced after tools/lib/common.sh.
#
# A writable /dev/kvm proves nothing: on machines of the kind CI runs on, QEMU has aborted
# at once under KVM ("failed to set MSR 0x10a", kvm_buf_set_msrs) with -cpu host, and the
# guest has hung right after the boot loader with other CPU models. So a short KVM boot of
# the runner's own kernel and initramfs, whose PID 1 only exits, decides; the
# verdict is cached for the machine's boot (keyed by its boot_id) and the QEMU binary.
# shellcheck shell=bash

# The QEMU of this level. Not passed on to a nested guest, which uses its own system QEMU.
VM_QEMU=${VNVME_QEMU:-qemu-system-x86_64}
# Overridable so that the host tests can fake a writable device node.
VM_KVM_DEVICE=${VNVME_KVM_DEVICE:-/dev/kvm}
# A working KVM reaches PID 1 in about a second; a broken one aborts at once or hangs.
VM_KVM_PROBE_TIMEOUT=${VNVME_KVM_PROBE_TIMEOUT:-15}

# shellcheck disable=SC2034 # used by tools/vm/run
VM_ACCEL_KVM=(-accel kvm -cpu host)
# shellcheck disable=SC2034,SC2054 # used by tools/vm/run; the comma belongs to the value
VM_ACCEL_TCG=(-accel tcg,thread=multi)
# The machine every boot of the runner's, the probe's included, gets. -nodefaults: no
# CD-ROM, VGA or NIC the tests never use; QEMU 10's q35 under TCG spends about 33 s at boot
# with its default devices (3 s without), and QEMU 7.2 has less to emulate.
# shellcheck disable=SC2034 # used by tools/vm/run
VM_MACHINE=(-machine q35 -nodefaults -nographic -no-reboot -net none)

# Identity of the QEMU binary: a changed or replaced binary is probed again.
accel_qemu_identity() {
	local path
	path=$(command -v -- "$VM_QEMU") || return 1
	path=$(readlink -f -- "$path")
	stat -c '%n %s %Y' -- "$path"
}

# Cache file for the verdict of this boot of the machine, this QEMU, this device node (its
# change time moves when it is made again, as a reloaded kvm module does) and KVM's module
# parameters (kvm ignore_msrs=1 can cure the MSR abort).
accel_cache_file() {
	local boot_id identity
	boot_id=$(cat /proc/sys/kernel/random/boot_id)
	identity=$(accel_qemu_identity) || return 1
	printf '%s/accel/kvm-%s\n' "$VNVME_CACHE" "$({
		printf '%s\n' "$boot_id" "$identity" "$VM_KVM_DEVICE"
		stat -c %Z -- "$VM_KVM_DEVICE"
		grep -r . /sys/module/kvm*/parameters 2>/dev/null || true
	} | sha256sum | cut -c1-16)"
}

# Boot KERNEL with INITRD under KVM on the machine the command's boot gets (SMP CPUs, MEM
# MiB); PID 1 is busybox running "true". Its exit makes the kernel panic with "Attempted to
# kill init" (KERN_EMERG: printed whatever the log level), which proves the guest ran to
# user space; then (panic=-1, -no-reboot) QEMU exits. Prints "yes", "timeout: REASON" or
# "no: REASON".
accel_kvm_probe() {
	local kernel=$1 initrd=$2 smp=$3 mem=$4 deadline=$5 log status=0 reason
	log=$(mktemp "${TMPDIR:-/tmp}/vnvme-kvm-probe.XXXXXX")
	# No core file of an aborting QEMU in the caller's directory.
	(
		ulimit -c 0
		exec timeout -k 2 "$deadline" "$VM_QEMU" "${VM_MACHINE[@]}" "${VM_ACCEL_KVM[@]}" \
			-smp "$smp" -m "$mem" -serial stdio -kernel "$kernel" -initrd "$initrd" \
			-append "console=ttyS0 panic=-1 quiet rdinit=/bin/busybox true"
	) </dev/null >"$log" 2>&1 || status=$?
	if grep -q "Attempted to kill init" "$log"; then
		echo yes
	elif ((status == 124 || status == 137)); then
		echo "timeout: the probe guest did not reach its first process within ${deadline}s"
	else
		# QEMU's own complaint (an abort's assertion, an ioctl error) is its last line.
		reason=$(grep -v '^[[:space:]]*$' "$log" | tr -d '\r' | tail -n1 | cut -c1-200)
		echo "no: QEMU exited with status $status${reason:+ (\"$reason\")}"
	fi
	rm -f -- "$log"
}

# Print the verdict on KVM: "yes", or "no: REASON". Probes once per machine boot, QEMU
# binary and KVM configuration; FRESH=1 probes again whatever the cache says. A probe that
# times out is repeated once with twice the deadline (a loaded machine), and a second
# timeout counts as no: a KVM whose guests hang would otherwise cost every run its wait.
accel_kvm_verdict() {
	local kernel=$1 initrd=$2 smp=$3 mem=$4 fresh=$5 cache verdict
	if [[ ! -e $VM_KVM_DEVICE ]]; then
		echo "no: $VM_KVM_DEVICE does not exist"
		return 0
	elif [[ ! -w $VM_KVM_DEVICE ]]; then
		echo "no: $VM_KVM_DEVICE is not writable"
		return 0
	fi
	cache=$(accel_cache_file) || { echo "no: cannot run $VM_QEMU"; return 0; }
	if [[ -f $cache ]] && ((!fresh)); then
		cat -- "$cache"
		return 0
	fi
	verdict=$(accel_kvm_probe "$kernel" "$initrd" "$smp" "$mem" "$VM_KVM_PROBE_TIMEOUT")
	if [[ $verdict == timeout:* ]]; then
		verdict=$(accel_kvm_probe "$kernel" "$initrd" "$smp" "$mem" $((2 * VM_KVM_PROBE_TIMEOUT)))
		verdict=no:${verdict#timeout:}
	fi
	mkdir -p -- "${cache%/*}"
	# Verdicts of earlier boots are worthless: drop them.
	find "${cache%/*}" -maxdepth 1 -name 'kvm-*' -mtime +1 -delete 2>/dev/null || true
	printf '%s\n' "$verdict" >"$cache.tmp.$$" && mv -- "$cache.tmp.$$" "$cache"
	echo "$verdict"
}

# Set vm_accel to QEMU's accelerator arguments for a boot of KERNEL and INITRD with SMP
# CPUs and MEM MiB, following VNVME_VM_ACCEL (kvm, tcg, or auto: KVM where it works), and
# vm_accel_why to the reason in a few words. A forced kvm that does not work ends the run
# with status 125, and is probed anew rather than taken from the cache. QUIET=1 leaves out
# the note on falling back to TCG (for --accel, which prints the reason itself).
# shellcheck disable=SC2034 # vm_accel and vm_accel_why are read by tools/vm/run
accel_choose() {
	local kernel=$1 initrd=$2 smp=$3 mem=$4 quiet=${5:-0} mode=${VNVME_VM_ACCEL:-auto} verdict
	case $mode in
	tcg)
		vm_accel=("${VM_ACCEL_TCG[@]}")
		vm_accel_why="VNVME_VM_ACCEL=tcg"
		return 0
		;;
	kvm | auto) ;;
	*) die "VNVME_VM_ACCEL must be kvm, tcg or auto, not '$mode'" ;;
	esac
	verdict=$(accel_kvm_verdict "$kernel" "$initrd" "$smp" "$mem" "$([[ $mode == kvm ]] && echo 1 || echo 0)")
	if [[ $verdict == yes ]]; then
		vm_accel=("${VM_ACCEL_KVM[@]}")
		vm_accel_why="a KVM boot of the runner's kernel works"
	elif [[ $mode == kvm ]]; then
		note "VNVME_VM_ACCEL=kvm, but KVM does not work here: ${verdict#no: }"
		exit 125
	else
		vm_accel=("${VM_ACCEL_TCG[@]}")
		vm_accel_why=${verdict#no: }
		# No device node is the normal case (a nested guest under TCG): nothing to say.
		if [[ -e $VM_KVM_DEVICE ]] && ((!quiet)); then
			note "$VM_KVM_DEVICE is present but KVM does not work, using TCG: ${verdict#no: }"
		fi
	fi
	return 0
}
