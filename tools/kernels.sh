#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Resolve the Debian kernels vnvme supports: release strings, header dirs, extracted images.
set -euo pipefail
here=$(dirname -- "${BASH_SOURCE[0]}")
# shellcheck source=tools/lib/common.sh
source "$here/lib/common.sh"
# shellcheck source=tools/lib/apt.sh
source "$here/lib/apt.sh"
# shellcheck source=tools/lib/kernels.sh
source "$here/lib/kernels.sh"

usage() {
	cat <<USAGE
usage: ${0##*/} release SERIES|RELEASE   print the release string (6.1 -> 6.1.0-NN-amd64)
       ${0##*/} kdir SERIES|RELEASE      install headers if needed, print the kbuild dir
       ${0##*/} image SERIES|RELEASE     download+extract the image into the cache, print its dir
       ${0##*/} list                     print the supported series
cache: \$VNVME_CACHE (default: <repo>/build/cache), now $VNVME_CACHE
USAGE
}

main() {
	local cmd=${1:-}
	case $cmd in
	list) printf '%s\n' "${VNVME_SERIES[@]}" ;;
	release | kdir | image)
		(($# == 2)) || { usage >&2; exit 2; }
		local release
		release=$(kernel_release "$2")
		case $cmd in
		release) echo "$release" ;;
		kdir) kernel_kdir "$release" ;;
		image) kernel_image_dir "$release" ;;
		esac
		;;
	-h | --help) usage ;;
	*) usage >&2; exit 2 ;;
	esac
}

# On one line: bash reads scripts as it runs them, so an edit during a run must not
# make it read on past the call.
main "$@"; exit
