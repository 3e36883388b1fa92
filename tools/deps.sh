#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install (from Debian's apt, only what is missing) everything vnvme's build, tests and demo
# need, including the headers of every supported kernel. Says what it installs; silent when
# nothing is missing.
#
# Usage: tools/deps.sh [--list | --missing]
#   --list     print every package vnvme needs, one per line; install nothing
#   --missing  print those of them that are not installed; install nothing
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
	# host unit tests: the libFuzzer build of the PRP fuzz target (clang and its runtime)
	clang libclang-rt-14-dev
	# tests and demo (debootstrap: the host test of this installer on a fresh root)
	debootstrap fio nvme-cli mdevctl uuid-runtime e2fsprogs jq dmsetup python3 iproute2 util-linux
	# libvirt interop (tests/l1/suites/50-netlink-userspace.sh)
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
	# packaging (make deb, tests/l1/suites/60-packaging.sh: the L1 VM installs the packages
	# on the host's root, so what they depend on must be installed here); fakeroot for
	# dpkg-buildpackage
	dkms debhelper dh-dkms lintian fakeroot systemd-sysv
)

# The headers of every supported kernel; their release names come from apt's package lists.
# shellcheck disable=SC2317 # invoked through lines_of
header_packages() {
	local series release
	for series in "${VNVME_SERIES[@]}"; do
		release=$(kernel_release "$series") || return 1
		echo "linux-headers-$release"
	done
}

main() {
	local headers=()
	case ${1:-} in
	--list | --missing) ;;
	"") apt_ensure "${PACKAGES[@]}" ;;
	*) die "unknown option '$1' (usage: tools/deps.sh [--list | --missing])" ;;
	esac
	# After the base install: on a fresh machine the first apt_ensure fetches the package
	# lists that name the headers. A failure to resolve them is an error, not a shorter list.
	lines_of headers header_packages || die "cannot resolve the kernel header packages"
	case ${1:-} in
	--list) printf '%s\n' "${PACKAGES[@]}" "${headers[@]}" ;;
	--missing) apt_missing "${PACKAGES[@]}" "${headers[@]}" ;;
	*) apt_ensure "${headers[@]}" ;;
	esac
}

# On one line: bash reads scripts as it runs them, so an edit during a run must not
# make it read on past the call.
main "$@"; exit
