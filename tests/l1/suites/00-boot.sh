#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# l1-boot: the L1 guest is what the other suites assume: the requested Debian generic kernel,
# the VFIO/mdev core loadable, and a vnvme.ko built for exactly this kernel.
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$repo/tests/lib/ktap.sh"

release=$(uname -r)

# The runner exports the series or release it was asked for as VNVME_KERNEL (tests/run).
check_requested_kernel() {
	local want=${VNVME_KERNEL:-}
	[[ -n $want ]] || { echo "VNVME_KERNEL not set"; return 1; }
	[[ $release == "$want" || $release == "$want".* ]] || { echo "want $want, running $release"; return 1; }
}

check_generic_flavour() {
	# -cloud-amd64 kernels have no mdev.ko.
	[[ $release == *-amd64 && $release != *-cloud-amd64 && $release != *-rt-amd64 ]] || {
		echo "not the generic flavour: $release"
		return 1
	}
	grep -q "Debian" /proc/version || { cat /proc/version; return 1; }
}

check_vermagic() {
	local vermagic
	vermagic=$(modinfo -F vermagic "$VNVME_KO")
	echo "vermagic: $vermagic"
	[[ ${vermagic%% *} == "$release" ]]
}

# A nested boot picks its accelerator by the host's rule (tools/vm/accel.sh): here, under
# TCG, there is no /dev/kvm, so TCG and not a word about it; a guest with nested KVM
# probes it. The caller's VNVME_VM_ACCEL would decide instead: leave it out.
check_nested_accel() {
	local choice status=0 errors
	errors=$(mktemp)
	choice=$(env -u VNVME_VM_ACCEL "$repo/tools/vm/run" --accel 2>"$errors") || status=$?
	echo "tools/vm/run --accel: $choice (exit $status)"
	cat "$errors"
	if ((status != 0)); then
		status=1
	elif [[ -e /dev/kvm ]]; then
		[[ $choice == kvm\ \(* || $choice == tcg\ \(* ]] || status=1
	else
		[[ $choice == "tcg (/dev/kvm does not exist)" && ! -s $errors ]] || status=1
	fi
	rm -f -- "$errors"
	return "$status"
}

ktap_start l1-boot
ktap_plan 7
ktap_check "kernel is the requested one" check_requested_kernel
ktap_check "kernel is Debian's generic flavour" check_generic_flavour
ktap_check "modprobe vfio_iommu_type1" modprobe vfio_iommu_type1
ktap_check "modprobe mdev" modprobe mdev
if [[ -f ${VNVME_KO:-} ]]; then
	ktap_ok "vnvme.ko exists"
	ktap_check "vnvme.ko vermagic matches uname -r" check_vermagic
else
	ktap_not_ok "vnvme.ko exists" "no file ${VNVME_KO:-(VNVME_KO unset)}; did 'make modules-all' build it?"
	ktap_not_ok "vnvme.ko vermagic matches uname -r" "no module to check"
fi
ktap_check "a nested vm/run chooses its accelerator by the same rule" check_nested_accel
ktap_finish
