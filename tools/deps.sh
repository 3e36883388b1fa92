#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install (from Debian's apt, only what is missing) everything vnvme's build, tests and demo
# need, including the headers of every supported kernel. Silent when nothing is missing.
set -euo pipefail
here=$(dirname -- "${BASH_SOURCE[0]}")
# shellcheck source=tools/lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=tools/lib/apt.sh
source "$here/lib/apt.sh"
# shellcheck source=tools/lib/kernels.sh
source "$here/lib/kernels.sh"

PACKAGES=(
	# VM runner (tools/vm/run)
	qemu-system-x86 qemu-utils busybox-static cpio kmod xz-utils zstd seabios
	# kernel module build (make modules-all) and static checks
	gcc make bc flex bison libelf-dev libssl-dev sparse linux-source-6.1 shellcheck
	# userspace tools
	libnl-3-dev libnl-genl-3-dev pkg-config
	# tests and demo
	fio nvme-cli mdevctl uuid-runtime e2fsprogs jq dmsetup python3 iproute2 util-linux
	# libvirt interop (tests/l1/suites/50-netlink-userspace.sh)
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
)

main() {
	local series release headers=()
	apt_ensure "${PACKAGES[@]}"
	# Resolved after the base install: the release names come from apt's package lists.
	for series in "${VNVME_SERIES[@]}"; do
		release=$(kernel_release "$series")
		headers+=("linux-headers-$release")
	done
	apt_ensure "${headers[@]}"
}

# On one line: bash reads scripts as it runs them, so an edit during a run must not
# make it read on past the call.
main "$@"; exit
