#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# host-deps: the dependency installer on systems that lack packages. The machine running
# the tests has every package by now (tests/run installed them), which once hid an
# installer that found nothing missing on a fresh machine (dpkg-query's exit status for a
# never-installed package, lost in a process substitution under pipefail). So:
#  - apt_missing and apt_ensure are run on package names that are not installed;
#  - tools/deps.sh --missing runs inside a minimal Debian 12 root made by debootstrap
#    (cached under build/, rebuilt when older than VNVME_FRESH_ROOT_DAYS, default 30),
#    with the host's package lists, and must list exactly the packages that root lacks:
#    every package of tools/deps.sh --list that its dpkg database does not hold.
# shellcheck disable=SC2317 # the check_* functions run through ktap_check
set -euo pipefail
repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$repo/tests/lib/ktap.sh"
# shellcheck source=tools/lib/common.sh
source "$repo/tools/lib/common.sh"
# shellcheck source=tools/lib/fresh-root.sh
source "$repo/tools/lib/fresh-root.sh"
cd "$repo"
# No Debian package has this name.
ABSENT=vnvme-test-no-such-package

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# In a new bash as strict as the tools' own, with the lists taken the way the tools take
# them: ktap_check runs a check inside $(...), where bash ignores set -e, and the old
# apt_missing only lost its list where set -e was in force (mapfile < <(...) at top level).
check_apt_missing() {
	ABSENT=$ABSENT bash -c '
		set -euo pipefail
		source tools/lib/common.sh
		source tools/lib/apt.sh
		mapfile -t missing < <(apt_missing bash "$ABSENT" coreutils "$ABSENT-2")
		echo "apt_missing (process substitution): ${missing[*]}"
		[[ ${missing[*]} == "$ABSENT $ABSENT-2" ]]
		lines_of missing apt_missing "$ABSENT"
		echo "apt_missing (lines_of): ${missing[*]}"
		[[ ${missing[*]} == "$ABSENT" ]]
		lines_of missing apt_missing bash coreutils
		((${#missing[@]} == 0))
	'
}

# apt_ensure must go on to install a package that is not installed (the old one returned 0
# without a word). apt-get, apt-cache and dpkg are stand-ins that log and fail: the host's
# package state and lists stay as they are, and no network is needed.
check_apt_ensure_installs() {
	local tool status=0
	mkdir -p "$tmp/fake-bin"
	for tool in apt-get apt-cache dpkg; do
		# "apt-get update" succeeds, so that the install comes next.
		cat >"$tmp/fake-bin/$tool" <<-FAKE
			#!/bin/sh
			echo "$tool \$*" >>"$tmp/apt.log"
			case " \$* " in *" update "*) exit 0 ;; esac
			exit 100
		FAKE
		chmod +x "$tmp/fake-bin/$tool"
	done
	: >"$tmp/apt.log"
	PATH=$tmp/fake-bin:$PATH ABSENT=$ABSENT bash -c '
		set -euo pipefail
		source tools/lib/common.sh
		source tools/lib/apt.sh
		apt_ensure bash "$ABSENT"
	' >"$tmp/ensure" 2>&1 || status=$?
	cat "$tmp/ensure" "$tmp/apt.log"
	((status != 0)) && grep -q "^apt-get install .* -- $ABSENT\$" "$tmp/apt.log" &&
		grep -q "installing 1 packages (with what they depend on): $ABSENT\$" "$tmp/ensure"
}

# The installer and the host's package lists (a fresh machine that ran apt-get update),
# copied in anew for every run.
# shellcheck disable=SC2317 # invoked through with_lock
fresh_root_stage() {
	rm -rf -- "$FRESH_ROOT/vnvme"
	mkdir -p "$FRESH_ROOT/vnvme/tools/lib"
	cp tools/deps.sh "$FRESH_ROOT/vnvme/tools/"
	cp tools/lib/*.sh "$FRESH_ROOT/vnvme/tools/lib/"
	fresh_root_apt_setup "$FRESH_ROOT" 1
}

check_fresh_root_missing() {
	local status=0
	# Under one lock: concurrent runs share the root.
	with_lock "${FRESH_ROOT%/*}/.lock" fresh_root_missing
}

# shellcheck disable=SC2317 # invoked through with_lock
fresh_root_missing() {
	local status=0
	fresh_root_make || { echo "debootstrap failed"; return 1; }
	fresh_root_stage
	tools/deps.sh --list | sort >"$tmp/all"
	awk '/^Package: / { p = $2 } /^Status: .* installed$/ { print p }' "$FRESH_ROOT/var/lib/dpkg/status" |
		sort >"$tmp/root-installed"
	comm -23 "$tmp/all" "$tmp/root-installed" >"$tmp/expected"
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		chroot "$FRESH_ROOT" /bin/bash /vnvme/tools/deps.sh --missing >"$tmp/got.raw" 2>"$tmp/got.err" ||
		status=$?
	sort "$tmp/got.raw" >"$tmp/got"
	echo "deps.sh --missing in the fresh root: exit $status, $(wc -l <"$tmp/got") of" \
		"$(wc -l <"$tmp/all") packages missing (expected $(wc -l <"$tmp/expected"))"
	cat "$tmp/got.err"
	diff -u "$tmp/expected" "$tmp/got" || return 1
	# The root must really lack most of the set, or the comparison proves little.
	((status == 0)) && (($(wc -l <"$tmp/expected") * 2 > $(wc -l <"$tmp/all"))) &&
		grep -qx qemu-system-x86 "$tmp/got" && grep -qx sparse "$tmp/got"
}

main() {
	ktap_start host-deps
	ktap_plan 3
	ktap_check "apt_missing lists packages that were never installed" check_apt_missing
	ktap_check "apt_ensure installs a package that is not installed, fails when apt fails" \
		check_apt_ensure_installs
	if ! command -v debootstrap >/dev/null; then
		ktap_not_ok "deps.sh --missing in a fresh Debian 12 root lists what it lacks" \
			"debootstrap is not installed: tools/deps.sh should have installed it"
	else
		ktap_check "deps.sh --missing in a fresh Debian 12 root lists what it lacks" \
			check_fresh_root_missing
	fi
	ktap_finish
}

# On one line: bash reads scripts as it runs them; an edit during a run must not derail it.
main "$@"; exit
