# SPDX-License-Identifier: GPL-2.0
# Idempotent Debian package installation; sourced after tools/lib/common.sh.
# shellcheck shell=bash

# apt must never prompt: CI has no stdin and no terminal.
export DEBIAN_FRONTEND=noninteractive

# Wait for a concurrent apt/dpkg run (another engineer, unattended-upgrades) instead of failing.
APT_OPTS=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=900)

# Print those of the given packages that are not fully installed (one dpkg-query for all:
# it is slow to start). dpkg-query exits 1 when any package was never installed, which on a
# fresh machine is the common case: that answer must not be mistaken for "nothing missing",
# so its status is judged here, not left to pipefail (a failed $(...) or <(...) yields
# nothing). Any other failure (no dpkg database) is an error. Plain bash from there on: a
# grep -f <(...) needs /dev/fd, which a bare chroot lacks, and its failure read as "none".
apt_missing() {
	local status=0 records state name pkg
	local -A installed=()
	records=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' -- "$@" 2>/dev/null) || status=$?
	((status <= 1)) || { note "dpkg-query failed (exit $status)"; return 1; }
	while read -r state name; do
		if [[ $state == installed ]]; then
			installed[$name]=1
		fi
	done <<<"$records"
	for pkg in "$@"; do
		[[ -n ${installed[$pkg]:-} ]] || echo "$pkg"
	done
}

apt_has_candidate() {
	local candidate
	candidate=$(apt-cache policy -- "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	[[ -n $candidate && $candidate != "(none)" ]]
}

# Install the packages that are not installed yet; silent when there is nothing to do.
apt_ensure() {
	local pkg missing=() unknown=0
	lines_of missing apt_missing "$@" || die "cannot tell which packages are installed"
	((${#missing[@]})) || return 0
	in_vm && die "missing packages inside the VM (install them on the host): ${missing[*]}"
	((EUID == 0)) || die "need root to install: ${missing[*]}"

	# Refresh the package lists only when they don't know a package (fresh machine, new ABI).
	for pkg in "${missing[@]}"; do
		apt_has_candidate "$pkg" || unknown=1
	done
	if ((unknown)); then
		note "updating package lists"
		apt-get -qq update </dev/null >&2
	fi

	note "installing ${#missing[@]} packages (with what they depend on): ${missing[*]}"
	if ! apt-get install "${APT_OPTS[@]}" -- "${missing[@]}" </dev/null >&2; then
		# An interrupted earlier install leaves packages half configured and apt refusing.
		note "apt-get failed; finishing interrupted installs and retrying"
		dpkg --configure -a </dev/null >&2 || true
		apt-get install "${APT_OPTS[@]}" -- "${missing[@]}" </dev/null >&2
	fi
}
