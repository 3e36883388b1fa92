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
cd "$repo"

MIRROR=${VNVME_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOT=$VNVME_CACHE/fresh-root/bookworm-minbase
STALE_DAYS=${VNVME_FRESH_ROOT_DAYS:-30}
# No Debian package has this name.
ABSENT=vnvme-test-no-such-package

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# In a shell as strict as the tools' own: the old apt_missing printed nothing here.
check_apt_missing() {
	(
		set -euo pipefail
		source tools/lib/apt.sh
		local list missing=()
		list=$(apt_missing bash "$ABSENT" coreutils "$ABSENT-2")
		echo "apt_missing: $list"
		[[ $list == "$ABSENT"$'\n'"$ABSENT-2" ]] || exit 1
		mapfile -t missing < <(apt_missing "$ABSENT")
		[[ ${missing[*]} == "$ABSENT" ]] || exit 1
		list=$(apt_missing bash coreutils)
		[[ -z $list ]]
	)
}

# apt_ensure must try to install a package that is not installed and fail when apt cannot:
# the old one returned 0 without a word.
check_apt_ensure_fails_loudly() {
	local status=0
	(
		set -euo pipefail
		source tools/lib/apt.sh
		apt_ensure bash "$ABSENT"
	) >"$tmp/ensure" 2>&1 || status=$?
	cat "$tmp/ensure"
	((status != 0)) && grep -q "installing 1 packages (with what they depend on): $ABSENT\$" "$tmp/ensure"
}

# debootstrap a minimal bookworm root into the cache unless a recent one is there.
fresh_root_make() {
	local marker=$ROOT/.vnvme-complete
	if [[ -f $marker && -z $(find "$marker" -mtime "+$STALE_DAYS") ]]; then
		return 0
	fi
	rm -rf -- "$ROOT.tmp"
	mkdir -p -- "${ROOT%/*}"
	debootstrap --variant=minbase bookworm "$ROOT.tmp" "$MIRROR" >"$tmp/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$tmp/debootstrap.log"; return 1; }
	touch "$ROOT.tmp/.vnvme-complete"
	rm -rf -- "$ROOT"
	mv -- "$ROOT.tmp" "$ROOT"
}

# The installer and the host's package lists (a fresh machine that ran apt-get update),
# copied in anew for every run.
fresh_root_stage() {
	rm -rf -- "$ROOT/vnvme" "$ROOT/var/lib/apt/lists" "$ROOT/etc/apt/sources.list.d"
	mkdir -p "$ROOT/vnvme/tools/lib"
	cp tools/deps.sh "$ROOT/vnvme/tools/"
	cp tools/lib/*.sh "$ROOT/vnvme/tools/lib/"
	cp -a /var/lib/apt/lists "$ROOT/var/lib/apt/lists"
	cp -a /etc/apt/sources.list.d "$ROOT/etc/apt/"
	if [[ -f /etc/apt/sources.list ]]; then
		cp /etc/apt/sources.list "$ROOT/etc/apt/"
	else
		rm -f "$ROOT/etc/apt/sources.list"
	fi
	# Keyrings the copied sources name (Signed-By).
	cp -a /usr/share/keyrings/. "$ROOT/usr/share/keyrings/"
}

check_fresh_root_missing() {
	local status=0
	fresh_root_make || { echo "debootstrap failed"; return 1; }
	fresh_root_stage
	tools/deps.sh --list | sort >"$tmp/all"
	awk '/^Package: / { p = $2 } /^Status: .* installed$/ { print p }' "$ROOT/var/lib/dpkg/status" |
		sort >"$tmp/root-installed"
	comm -23 "$tmp/all" "$tmp/root-installed" >"$tmp/expected"
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		chroot "$ROOT" /bin/bash /vnvme/tools/deps.sh --missing >"$tmp/got.raw" 2>"$tmp/got.err" ||
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
	ktap_check "apt_ensure tries and fails loudly on a package it cannot install" \
		check_apt_ensure_fails_loudly
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
