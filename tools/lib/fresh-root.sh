# SPDX-License-Identifier: GPL-2.0
# A minimal Debian 12 root made by debootstrap (variant minbase), cached, for running the
# project's commands where none of its packages is installed; sourced after
# tools/lib/common.sh. Used by tests/host/01-deps.sh and tools/fresh-machine.
# shellcheck shell=bash

FRESH_ROOT_MIRROR=${VNVME_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# shellcheck disable=SC2034 # used by the scripts that source this file
FRESH_ROOT=$VNVME_CACHE/fresh-root/bookworm-minbase
FRESH_ROOT_STALE_DAYS=${VNVME_FRESH_ROOT_DAYS:-30}

# debootstrap the cached root unless one younger than FRESH_ROOT_STALE_DAYS is there.
# Call it under with_lock "${FRESH_ROOT%/*}/.lock": concurrent runs share the root.
# shellcheck disable=SC2317 # invoked through with_lock
fresh_root_make() {
	local marker=$FRESH_ROOT/.vnvme-complete log
	if [[ -f $marker && -z $(find "$marker" -mtime "+$FRESH_ROOT_STALE_DAYS") ]]; then
		return 0
	fi
	rm -rf -- "$FRESH_ROOT.tmp"
	mkdir -p -- "${FRESH_ROOT%/*}"
	log=${FRESH_ROOT%/*}/debootstrap.log
	debootstrap --variant=minbase bookworm "$FRESH_ROOT.tmp" "$FRESH_ROOT_MIRROR" >"$log" 2>&1 ||
		{ tail -n 20 "$log"; return 1; }
	touch "$FRESH_ROOT.tmp/.vnvme-complete"
	rm -rf -- "$FRESH_ROOT"
	mv -- "$FRESH_ROOT.tmp" "$FRESH_ROOT"
}

# Give ROOT the apt sources a default Debian 12 install has (the host's Debian entries),
# with the keyrings they name; with LISTS=1 also the host's package lists (a machine that
# has run apt-get update).
fresh_root_apt_setup() {
	local root=$1 lists=$2 file
	rm -rf -- "$root/etc/apt/sources.list.d" "$root/var/lib/apt/lists"
	rm -f -- "$root/etc/apt/sources.list"
	mkdir -p "$root/etc/apt/sources.list.d"
	for file in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
		if [[ -f $file ]] && grep -q 'debian\.org' "$file"; then
			cp -- "$file" "$root${file}"
		fi
	done
	cp -a /usr/share/keyrings/. "$root/usr/share/keyrings/"
	if ((lists)); then
		cp -a /var/lib/apt/lists "$root/var/lib/apt/lists"
	else
		mkdir -p "$root/var/lib/apt/lists/partial"
	fi
}
