# SPDX-License-Identifier: GPL-2.0
# PID 1 of a tools/vm/run guest after /init: sets up the environment, runs the job's command
# between two marker lines on the console, and powers off. POSIX sh: it runs under the host's
# dash on the 9p root and under busybox sh in --initrd-only mode.
# Usage: sh guest.sh JOB   (JOB sets VNVME_GUEST_* and the command as "$@"; see tools/vm/run)
# shellcheck shell=sh

# Wait until the console has sent everything: the runner reads the marker from the serial
# line, and powering off with bytes still queued in the UART driver would lose them.
guest_drain_console() {
	busybox stty -F /dev/console "$(busybox stty -F /dev/console -g)" 2>/dev/null
}

guest_fail() {
	# No exit marker: the runner counts this as a failed boot and shows the console.
	echo "vnvme-guest: $*"
	guest_drain_console
	busybox poweroff -f
}

# Mounts that an init system would make; best effort, some file systems may be absent.
guest_mount_basics() {
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620 devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	# A fresh /run: the host's own /run (visible through 9p) describes the host, not us.
	mount -t tmpfs -o mode=0755 tmpfs /run
	mount -t debugfs debugfs /sys/kernel/debug
	mount -t configfs configfs /sys/kernel/config
	mount -t tracefs tracefs /sys/kernel/tracing
	# devtmpfs has no /dev/fd; bash process substitution needs it.
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
	ip link set lo up || busybox ip link set lo up
	hostname "vnvme-vm$VNVME_VM_DEPTH"
} >/dev/null 2>&1

guest_setup() {
	guest_mount_basics
	if [ -n "$VNVME_GUEST_MODULES" ]; then
		# The image was extracted, not installed: give modprobe its usual path.
		mkdir -p "/lib/modules/$VNVME_GUEST_RELEASE"
		mount --bind "$VNVME_GUEST_MODULES" "/lib/modules/$VNVME_GUEST_RELEASE" ||
			guest_fail "cannot bind $VNVME_GUEST_MODULES"
	fi
	mkdir -p "$VNVME_GUEST_OUT"
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vnvmeout "$VNVME_GUEST_OUT" ||
		guest_fail "cannot mount the out dir $VNVME_GUEST_OUT"
	cd "$VNVME_GUEST_CWD" || guest_fail "no directory $VNVME_GUEST_CWD in the guest"
}

guest_run() {
	if [ "$VNVME_GUEST_SHELL" = 1 ]; then
		# A controlling terminal gives the interactive shell job control and ^C.
		setsid -c "$@" </dev/ttyS0 >/dev/ttyS0 2>&1
	else
		"$@" </dev/null
	fi
}

# shellcheck disable=SC1090 # the job is generated per run
. "$1" || guest_fail "cannot read job $1"
guest_setup
echo "VNVME-START $VNVME_GUEST_NONCE"
guest_run "$@"
status=$?
sync
guest_drain_console
echo "VNVME-EXIT $VNVME_GUEST_NONCE $status"
guest_drain_console
busybox poweroff -f
