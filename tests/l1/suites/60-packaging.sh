#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vnvme-timeout: 2400
# vnvme-own-boot: systemd
# L1 suite: the Debian packages (make deb) on a systemd-booted L1, over the boots of one
# persistent root (tools/vm/run --systemd --upper IMG), the life of a KVM host that installs
# vnvme, gets a kernel upgrade, reboots into it and back. tests/run boots them in this order:
#
# VNVME_PKG_PHASE=install (a fresh root, the first kernel of the run: 6.1)
#   apt-get install of vnvme-dkms and vnvme-utils builds vnvme.ko for the running kernel with
#   DKMS; modprobe loads it; vnvmectl and vnvmed are on PATH; the unit is enabled and vnvmed
#   runs under it; each kernel of VNVME_PKG_LATER_KERNELS (the run's other series: 6.12) is
#   then "installed later": dkms's kernel hook, what a kernel package's postinst runs, builds
#   the module for it; headers without mdev support fail with a clear message (dkms and
#   make); an instance defined in /etc/vnvme is created on 'systemctl reload'.
# VNVME_PKG_PHASE=upgrade (the same root, booted into each later kernel: the upgrade)
#   vnvmed started at boot by its unit, DKMS's module for this kernel by modules-load.d; the
#   instance is back; it is back after 'modprobe -r vnvme && modprobe vnvme'; 'systemctl
#   reload vnvmed' applies a changed and a new definition.
# VNVME_PKG_PHASE=reboot (the same root, booted into the first kernel again)
#   the same boot checks, with the definitions as the last boot left them (the reload
#   change is made here when no upgrade boot ran); removing the packages removes the module
#   from every kernel, the tools and the unit.
#
# The other kernels' module directories are hidden while apt-get runs: Debian's postinst
# would also build for the newest kernel, and the kernel hook is what a later kernel gets.
# A boot's /lib/modules/<release> is the runner's copy of that kernel's modules, bound over
# the root's directory (tools/vm/init); VNVME_PKG_MODULE_TREES names each kernel's copy, and
# the suite binds a later kernel's the same way while DKMS installs into it or removes from
# it, as a host with that kernel's package installed has one tree.
# Needs: VNVME_PKG_DEBS, the directory with the .debs (packaging/deb on the host); systemd
# as PID 1; null_blk.
set -u
cd "$(dirname "$0")/../../.." || exit 1
# shellcheck source=tests/lib/ktap.sh
. tests/lib/ktap.sh
# shellcheck source=tests/lib/wait.sh
. tests/lib/wait.sh

PHASE=${VNVME_PKG_PHASE:-}
DEBS=${VNVME_PKG_DEBS:-}
DEV=/sys/bus/mdev/devices
U1=5a000000-0000-4000-8000-000000000061
U2=5a000000-0000-4000-8000-000000000062
KVER=$(uname -r)
VERSION=$(sed -n 's/^VERSION := //p' Makefile)

ktap_start "packaging-${PHASE:-none}"

if [[ $PHASE != install && $PHASE != upgrade && $PHASE != reboot ]] ||
	[[ $(cat /proc/1/comm) != systemd ]]; then
	ktap_skip "packaging" "needs tests/run's own systemd boots (VNVME_PKG_PHASE=install|upgrade|reboot, systemd as PID 1)"
	ktap_finish
	exit
fi

attr_is() { [[ $(cat "$DEV/$1/$2" 2>/dev/null) == "$3" ]]; }

# The instance U1 as its definition says: created, serial SERIAL, ns1 on /dev/nullb0, enabled.
instance_is() {
	attr_is "$U1" vnvme/serial "$1" && attr_is "$U1" ns1/device_path /dev/nullb0 &&
		attr_is "$U1" ns1/enable 1
}

instance_state() {
	echo "instances: $(find "$DEV" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null)"
	for f in vnvme/serial ns1/device_path ns1/enable; do
		echo "$f: $(cat "$DEV/$U1/$f" 2>&1)"
	done
	echo "vnvmed: $(systemctl is-active vnvmed 2>&1)"
	journalctl -b -u vnvmed --no-pager -n 15 2>&1
}

# 'systemctl is-system-running --wait' ends when the boot has: running or degraded.
boot_finished() {
	local state
	state=$(timeout 300 systemctl is-system-running --wait 2>&1)
	[[ $state == running || $state == degraded ]] && return 0
	echo "state: $state"
	return 1
}

vnvmed_under_unit() {
	local pid
	systemctl is-active -q vnvmed || { systemctl status vnvmed --no-pager; return 1; }
	pid=$(systemctl show -p MainPID --value vnvmed)
	[[ $(readlink "/proc/$pid/exe") == /usr/sbin/vnvmed ]] || { echo "MainPID $pid: $(readlink "/proc/$pid/exe")"; return 1; }
}

ktap_check "systemd finished booting" boot_finished
systemctl --failed --no-legend --plain 2>/dev/null | sed 's/^/failed unit: /' | while read -r l; do ktap_diag "$l"; done

# ---- boot 1: install -----------------------------------------------------------------------
module_from_dkms() {
	local file
	file=$(modinfo -F filename vnvme 2>&1)
	case $file in
	"/lib/modules/$KVER/updates/dkms/vnvme.ko" | "/lib/modules/$KVER/updates/dkms/vnvme.ko".[gxz]*) ;;
	*) echo "modinfo: $file" && return 1 ;;
	esac
}

# Installed kernels with headers other than the running one.
other_kernels() {
	local k
	for k in /lib/modules/*; do
		k=${k##*/}
		[[ $k != "$KVER" && -f /lib/modules/$k/build/Makefile ]] && echo "$k"
	done
}

# Each line of stdin prefixed with the seconds since the first: where an install's minutes
# go under TCG (apt, dkms's steps, depmod) is in the suite's output.
elapsed_lines() {
	local line t0=$SECONDS
	while IFS= read -r line; do
		printf '%4d s  %s\n' $((SECONDS - t0)) "$line"
	done
}

# Bind kernel REL's module tree (VNVME_PKG_MODULE_TREES: "release=dir ...") over
# /lib/modules/REL, where its own boots will have it.
bind_module_tree() {
	local rel=$1 pair dir=
	for pair in ${VNVME_PKG_MODULE_TREES:-}; do
		[[ ${pair%%=*} == "$rel" ]] && dir=${pair#*=}
	done
	if [[ -z $dir ]] || ! dir=$(realpath -e "$dir"); then
		echo "no module tree of $rel in VNVME_PKG_MODULE_TREES"
		return 1
	fi
	mountpoint -q "/lib/modules/$rel" || mount --bind "$dir" "/lib/modules/$rel"
}

# Seconds DKMS's make took for kernel K: its make.log starts with the date, and was last
# written when make ended.
dkms_make_seconds() {
	local log started
	log=/var/lib/dkms/vnvme/$VERSION/$1/$(uname -m)/log/make.log
	if started=$(date -d "$(sed -n 2p "$log" 2>/dev/null)" +%s 2>/dev/null); then
		echo $(($(stat -c %Y "$log") - started))
	else
		echo "?"
	fi
}

phase_install() {
	local start out status=0 other hidden=()
	for other in $(other_kernels); do
		mount -t tmpfs -o size=1m vnvme-hide "/lib/modules/$other" && hidden+=("$other")
	done
	# The host's root, which the VM boots, may come from a container image whose
	# policy-rc.d forbids maintainer scripts to start or stop services (exit 101): then
	# removal would leave vnvmed running. A KVM host has none; this overlay root drops it.
	if [[ -e /usr/sbin/policy-rc.d ]]; then
		ktap_diag "removed the root's /usr/sbin/policy-rc.d (the host's is untouched)"
		rm -f /usr/sbin/policy-rc.d
	fi
	# The man-db trigger re-indexes every manual page over 9p: minutes under TCG, and not
	# what this tests.
	echo 'man-db man-db/auto-update boolean false' | debconf-set-selections
	start=$SECONDS
	# Offline: everything the packages depend on is installed in the root the VM sees.
	out=$(apt-get install -y --no-install-recommends \
		"$DEBS"/vnvme-dkms_*.deb "$DEBS"/vnvme-utils_*.deb 2>&1 | elapsed_lines
		exit "${PIPESTATUS[0]}") || status=$?
	if ((status == 0)); then
		ktap_ok "apt-get install ./vnvme-dkms_*.deb ./vnvme-utils_*.deb"
		ktap_diag "install took $((SECONDS - start)) s, of which DKMS's make $(dkms_make_seconds "$KVER") s:"
		ktap_diag "$out"
	else
		ktap_not_ok "apt-get install ./vnvme-dkms_*.deb ./vnvme-utils_*.deb" "exit $status" "$out"
	fi
	for other in "${hidden[@]}"; do
		umount "/lib/modules/$other"
	done

	ktap_check "dkms status: vnvme/$VERSION installed for $KVER" \
		sh -c "dkms status vnvme/$VERSION -k $KVER 2>/dev/null | grep ': installed' >/dev/null; r=\$?; dkms status; exit \$r"
	# vnvme.ko.xz on 6.12: dkms compresses like the kernel's own modules.
	ktap_check "the module is in /lib/modules/$KVER/updates/dkms" module_from_dkms
	ktap_check "modprobe vnvme loads it" sh -c "modprobe vnvme && [ -d /sys/class/mdev_bus/vnvme ]"
	ktap_check "vnvmectl runs from PATH" sh -c "[ \"\$(command -v vnvmectl)\" = /usr/sbin/vnvmectl ] && vnvmectl types | grep -q vnvme-small"
	ktap_check "vnvmed.service is enabled" sh -c "[ \"\$(systemctl is-enabled vnvmed)\" = enabled ]"
	# The udev rule starts it when the module registers its parent: give it a moment.
	wait_for 20 vnvmed_under_unit
	ktap_check "vnvmed runs under its unit" vnvmed_under_unit

	# The kernels this run boots later: dkms's kernel hook (what a kernel package's postinst
	# runs) builds for each, as for a kernel installed after the packages.
	if [[ -z ${VNVME_PKG_LATER_KERNELS:-} ]]; then
		ktap_skip "a kernel installed later gets the module too" \
			"this run boots one kernel series (VNVME_PKG_LATER_KERNELS is empty)"
	fi
	for other in ${VNVME_PKG_LATER_KERNELS:-}; do
		start=$SECONDS
		status=0
		out=$(bind_module_tree "$other" 2>&1 && /etc/kernel/postinst.d/dkms "$other" 2>&1 | elapsed_lines
			exit "${PIPESTATUS[0]}") || status=$?
		if dkms status "vnvme/$VERSION" -k "$other" 2>/dev/null | grep -q ': installed' &&
			compgen -G "/lib/modules/$other/updates/dkms/vnvme.ko*" >/dev/null; then
			ktap_ok "a kernel installed later ($other) gets the module too"
			ktap_diag "built for $other in $((SECONDS - start)) s, of which DKMS's make $(dkms_make_seconds "$other") s:" "$out"
		else
			ktap_not_ok "a kernel installed later ($other) gets the module too" \
				"kernel hook exit $status" "$out" "$(dkms status 2>&1)"
		fi
	done

	# Headers without mdev support: a copy of the running kernel's config without VFIO_MDEV.
	local fake=6.1.0-99-nomdev dir
	dir=$(mktemp -d /var/tmp/vnvme-nomdev.XXXXXX)
	grep -v '^CONFIG_VFIO_MDEV=' "/lib/modules/$KVER/build/.config" >"$dir/.config"
	printf 'all:\n\t@false\n' >"$dir/Makefile"
	mkdir -p "$dir/include" "/lib/modules/$fake" && ln -sfn "$dir" "/lib/modules/$fake/build"
	out=$(dkms build "vnvme/$VERSION" -k "$fake" 2>&1)
	status=$?
	if ((status == 77)) && grep -q 'BUILD_EXCLUSIVE' <<<"$out"; then
		ktap_ok "dkms build for headers without mdev fails with BUILD_EXCLUSIVE"
	else
		ktap_not_ok "dkms build for headers without mdev fails with BUILD_EXCLUSIVE" "exit $status" "$out"
	fi
	out=$(make -C "/usr/src/vnvme-$VERSION" KDIR="$dir" module 2>&1)
	status=$?
	if ((status != 0)) && grep -q 'has no mdev support (CONFIG_VFIO_MDEV is not set' <<<"$out"; then
		ktap_ok "make module for headers without mdev says why it fails"
	else
		ktap_not_ok "make module for headers without mdev says why it fails" "exit $status" "$out"
	fi
	rm -rf "$dir" "/lib/modules/$fake"

	# What an admin does: load vnvme (and a backing device, here null_blk) at boot, define one.
	cp /usr/share/doc/vnvme-utils/examples/modules-load.d/vnvme.conf /etc/modules-load.d/vnvme.conf
	echo null_blk >/etc/modules-load.d/vnvme-test-nullb.conf
	modprobe null_blk
	cat >/etc/vnvme/61.conf <<-EOF
		uuid = $U1
		type = vnvme-small
		vnvme/serial = PKG-1
		ns1/device_path = /dev/nullb0
	EOF
	systemctl reload vnvmed
	if wait_for 30 instance_is PKG-1; then
		ktap_ok "systemctl reload vnvmed creates the instance of /etc/vnvme/61.conf"
	else
		ktap_not_ok "systemctl reload vnvmed creates the instance of /etc/vnvme/61.conf" "$(instance_state)"
	fi
	sync
}

vnvmed_gone() {
	local state
	state=$(systemctl is-active vnvmed 2>&1)
	if [[ $state == active || $state == activating || $state == reloading ]] ||
		[[ -e /lib/systemd/system/vnvmed.service || -e /usr/lib/systemd/system/vnvmed.service ]]; then
		echo "vnvmed: $state"
		ls -l /lib/systemd/system/vnvmed.service /usr/lib/systemd/system/vnvmed.service 2>&1
		systemctl status vnvmed --no-pager 2>&1 | head -n 12
		return 1
	fi
}

# ---- later boots: the kernel upgrade, the reboot -------------------------------------------
# Both instances as the definitions say, once the reload change has been made.
instances_are() {
	instance_is "$1" && { [[ $1 == PKG-1 ]] || test -d "$DEV/$U2"; }
}

# What every later boot shows: vnvmed and the module started at boot, the instances back,
# and back again after a module reload. The definitions: PKG-1 alone, or PKG-2 and U2 once
# an earlier boot's reload changed them; the first later boot makes that change.
boot_checks() {
	local serial=PKG-1
	[[ -f /etc/vnvme/62.conf ]] && serial=PKG-2
	wait_for 30 vnvmed_under_unit
	ktap_check "vnvmed was started at boot by its unit" vnvmed_under_unit
	ktap_check "modules-load.d loaded vnvme at boot" test -d /sys/module/vnvme
	ktap_check "the loaded module is DKMS's build for $KVER" module_from_dkms
	if wait_for 30 instances_are "$serial"; then
		ktap_ok "the instances are back after the reboot"
	else
		ktap_not_ok "the instances are back after the reboot" "$(instance_state)"
	fi
	if modprobe -r vnvme && [[ ! -d /sys/module/vnvme ]] && modprobe vnvme &&
		wait_for 30 instances_are "$serial"; then
		ktap_ok "the instances are back after modprobe -r vnvme && modprobe vnvme"
	else
		ktap_not_ok "the instances are back after modprobe -r vnvme && modprobe vnvme" "$(instance_state)"
	fi
	[[ $serial == PKG-2 ]] || reload_change
}

# A changed definition (serial PKG-1 -> PKG-2) and a new one (U2) applied by a reload.
reload_change() {
	sed -i 's/^vnvme\/serial = PKG-1$/vnvme\/serial = PKG-2/' /etc/vnvme/61.conf
	printf 'uuid = %s\ntype = vnvme-medium\n' "$U2" >/etc/vnvme/62.conf
	systemctl reload vnvmed
	if wait_for 30 instances_are PKG-2; then
		ktap_ok "systemctl reload vnvmed applies a changed and a new definition"
	else
		ktap_not_ok "systemctl reload vnvmed applies a changed and a new definition" "$(instance_state)"
	fi
}

phase_upgrade() {
	boot_checks
	sync
}

phase_reboot() {
	local start out status=0 other
	boot_checks
	# The later kernels' trees, where their module is: the removal must take it from there.
	for other in ${VNVME_PKG_LATER_KERNELS:-}; do
		out=$(bind_module_tree "$other" 2>&1) || ktap_diag "$out"
	done

	start=$SECONDS
	out=$(apt-get remove -y vnvme-dkms vnvme-utils 2>&1 | elapsed_lines
		exit "${PIPESTATUS[0]}") || status=$?
	if ((status == 0)); then
		ktap_ok "apt-get remove vnvme-dkms vnvme-utils"
		ktap_diag "removal took $((SECONDS - start)) s:"
		ktap_diag "$out"
	else
		ktap_not_ok "apt-get remove vnvme-dkms vnvme-utils" "exit $status" "$out"
	fi
	ktap_check "vnvmed is stopped and its unit gone" vnvmed_gone
	ktap_check "the tools are gone from PATH" sh -c "! command -v vnvmectl && ! command -v vnvmed && [ ! -e /usr/sbin/vnvmectl ]"
	ktap_check "dkms no longer knows vnvme" sh -c "[ -z \"\$(dkms status vnvme)\" ] && [ ! -d /usr/src/vnvme-$VERSION ]"
	ktap_check "no kernel has the module any more" \
		sh -c "! ls /lib/modules/*/updates/dkms/vnvme.ko* 2>/dev/null && ! modinfo vnvme >/dev/null 2>&1"
	# (modprobe -r looks the module up in modules.dep, which no longer has it: rmmod.)
	ktap_check "the loaded module unloads, and modprobe vnvme finds none" \
		sh -c "rmmod vnvme && ! modprobe vnvme 2>/dev/null"
}

if [[ -z $DEBS ]] || ! compgen -G "$DEBS/vnvme-dkms_*.deb" >/dev/null; then
	ktap_not_ok "the packages are there" "no vnvme-dkms_*.deb in '$DEBS' (VNVME_PKG_DEBS)"
else
	"phase_$PHASE"
fi
ktap_finish
