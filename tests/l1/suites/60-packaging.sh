#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vnvme-timeout: 1500
# vnvme-own-boot: systemd
# L1 suite: the Debian packages (make deb) on a systemd-booted L1, over two boots of the same
# persistent root (tools/vm/run --systemd --upper IMG; tests/run boots them, in this order):
#
# VNVME_PKG_PHASE=install (a fresh root)
#   apt-get install of vnvme-dkms and vnvme-utils builds vnvme.ko for the running kernel with
#   DKMS (and dkms builds it for a kernel installed later: its kernel hook for the other
#   series); modprobe loads it; vnvmectl and vnvmed are on PATH; the unit is enabled and
#   vnvmed runs under it; an instance defined in /etc/vnvme is created on 'systemctl reload';
#   headers without mdev support fail with a clear message (dkms and make).
# VNVME_PKG_PHASE=reboot (the same root booted again: a reboot)
#   vnvmed started at boot by its unit, the module by modules-load.d; the instance is back;
#   it is back after 'modprobe -r vnvme && modprobe vnvme'; 'systemctl reload vnvmed' applies
#   a changed and a new definition; removing the packages removes the module and the tools.
#
# A DKMS build under TCG takes minutes: by default the install builds for the running kernel
# only (the other kernels' module dirs are hidden while apt-get runs); VNVME_PKG_ALL_KERNELS=1
# lets the package build for the newest kernel as well and checks dkms's kernel hook for the
# other series (a kernel installed later).
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

if [[ $PHASE != install && $PHASE != reboot ]] || [[ $(cat /proc/1/comm) != systemd ]]; then
	ktap_skip "packaging" "needs tests/run's own systemd boots (VNVME_PKG_PHASE=install|reboot, systemd as PID 1)"
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

phase_install() {
	local start out status=0 other hidden=()
	if [[ ${VNVME_PKG_ALL_KERNELS:-0} != 1 ]]; then
		for other in $(other_kernels); do
			mount -t tmpfs -o size=1m vnvme-hide "/lib/modules/$other" && hidden+=("$other")
		done
	fi
	# The man-db trigger re-indexes every manual page over 9p: minutes under TCG, and not
	# what this tests.
	echo 'man-db man-db/auto-update boolean false' | debconf-set-selections
	start=$SECONDS
	# Offline: everything the packages depend on is installed in the root the VM sees.
	out=$(apt-get install -y --no-install-recommends \
		"$DEBS"/vnvme-dkms_*.deb "$DEBS"/vnvme-utils_*.deb 2>&1) || status=$?
	if ((status == 0)); then
		ktap_ok "apt-get install ./vnvme-dkms_*.deb ./vnvme-utils_*.deb"
		ktap_diag "install took $((SECONDS - start)) s"
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

	# A kernel installed later: dkms's kernel hook (what the kernel's postinst runs) builds for it.
	other=$(other_kernels | sort -V | tail -n1)
	if [[ ${VNVME_PKG_ALL_KERNELS:-0} != 1 ]]; then
		ktap_skip "a kernel installed later gets the module too" \
			"one more DKMS build under TCG; VNVME_PKG_ALL_KERNELS=1 runs it"
	elif [[ -n $other ]]; then
		start=$SECONDS
		if ! dkms status vnvme/"$VERSION" -k "$other" 2>/dev/null | grep ': installed' >/dev/null; then
			/etc/kernel/postinst.d/dkms "$other" >/dev/null 2>&1
		fi
		ktap_check "a kernel installed later ($other) gets the module too" \
			sh -c "dkms status vnvme/$VERSION -k $other 2>/dev/null | grep ': installed' >/dev/null && ls /lib/modules/$other/updates/dkms/vnvme.ko*"
		ktap_diag "built for $other in $((SECONDS - start)) s"
	else
		ktap_skip "a kernel installed later gets the module too" "no headers of another kernel"
	fi

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

# ---- boot 2: reboot ------------------------------------------------------------------------
phase_reboot() {
	local start out status=0
	wait_for 30 vnvmed_under_unit
	ktap_check "vnvmed was started at boot by its unit" vnvmed_under_unit
	ktap_check "modules-load.d loaded vnvme at boot" test -d /sys/module/vnvme
	if wait_for 30 instance_is PKG-1; then
		ktap_ok "the instance is back after the reboot"
	else
		ktap_not_ok "the instance is back after the reboot" "$(instance_state)"
	fi

	if modprobe -r vnvme && [[ ! -d /sys/module/vnvme ]] && modprobe vnvme && wait_for 30 instance_is PKG-1; then
		ktap_ok "the instance is back after modprobe -r vnvme && modprobe vnvme"
	else
		ktap_not_ok "the instance is back after modprobe -r vnvme && modprobe vnvme" "$(instance_state)"
	fi

	sed -i 's/^vnvme\/serial = PKG-1$/vnvme\/serial = PKG-2/' /etc/vnvme/61.conf
	printf 'uuid = %s\ntype = vnvme-medium\n' "$U2" >/etc/vnvme/62.conf
	systemctl reload vnvmed
	if wait_for 30 instance_is PKG-2 && wait_for 10 test -d "$DEV/$U2"; then
		ktap_ok "systemctl reload vnvmed applies a changed and a new definition"
	else
		ktap_not_ok "systemctl reload vnvmed applies a changed and a new definition" "$(instance_state)"
	fi

	start=$SECONDS
	out=$(apt-get remove -y vnvme-dkms vnvme-utils 2>&1) || status=$?
	if ((status == 0)); then
		ktap_ok "apt-get remove vnvme-dkms vnvme-utils"
		ktap_diag "removal took $((SECONDS - start)) s"
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
elif [[ $PHASE == install ]]; then
	phase_install
else
	phase_reboot
fi
ktap_finish
