# SPDX-License-Identifier: GPL-2.0
# Shared helpers for vnvme's shell tools; sourced, never executed.
# shellcheck shell=bash

# Repository root, derived from this file's location so tools work from any cwd.
VNVME_REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)

# Every derived artifact (kernel images, initramfs) lives here; build/ is gitignored.
VNVME_CACHE=${VNVME_CACHE:-$VNVME_REPO/build/cache}

# Kernel series the project supports, in test order.
# shellcheck disable=SC2034 # used by the scripts that source this file
VNVME_SERIES=(6.1 6.12)

die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

note() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# True inside a guest booted by tools/vm/run: no network, no apt, cache not to be rebuilt.
in_vm() {
	[[ ${VNVME_IN_VM:-0} == 1 ]]
}

# Set array NAME to the output lines of COMMAND, failing when COMMAND fails. Not
# mapfile < <(COMMAND): a process substitution's failure is lost, and the empty list it
# leaves reads as "nothing to do" (how the installer once found no package missing).
lines_of() {
	local -n lines_of_array=$1
	local lines_of_output
	shift
	lines_of_output=$("$@") || return
	lines_of_array=()
	# shellcheck disable=SC2034 # a nameref: this sets the caller's array
	[[ -z $lines_of_output ]] || mapfile -t lines_of_array <<<"$lines_of_output"
}

# Run a command holding an exclusive lock, so concurrent runs don't build the same cache entry.
with_lock() {
	local lock=$1
	shift
	mkdir -p -- "$(dirname -- "$lock")"
	(
		flock 9
		"$@"
	) 9>"$lock"
}
