# SPDX-License-Identifier: GPL-2.0
# PID 1 of a tools/vm/run guest after /init: sets up the environment, runs the job's command
# between two marker lines on the console, and powers off. Runs under busybox sh, on the 9p
# root as in --initrd-only mode.
# Usage: busybox sh guest.sh JOB   (JOB sets VNVME_GUEST_* and the command as "$@"; see tools/vm/run)
# shellcheck shell=sh

# Only the static busybox, never the host's tools: in a nested guest every program loaded
# over 9p costs seconds, and busybox is loaded once.
bb() {
	/bin/busybox "$@"
}

# Wait until the console has sent everything: the runner reads the marker from the serial
# line, and powering off with bytes still queued in the UART driver would lose them.
guest_drain_console() {
	bb stty -F /dev/console "$(bb stty -F /dev/console -g)" 2>/dev/null
}

# With tools/vm/run --verbose: when each stage starts, to see where a slow boot spends time.
guest_trace() {
	[ "$VNVME_GUEST_VERBOSE" = 1 ] || return 0
	read -r uptime _ </proc/uptime
	echo "vnvme-guest: [$uptime] $*"
}

guest_fail() {
	# No exit marker: the runner counts this as a failed boot and shows the console.
	echo "vnvme-guest: $*"
	guest_drain_console
	bb poweroff -f
}

# Mounts that an init system would make; best effort, some file systems may be absent.
# Under systemd (tools/vm/run --systemd) it has made /dev/pts, /dev/shm and /run already.
guest_mount_basics() {
	if [ "$VNVME_GUEST_INIT" != systemd ]; then
		bb mkdir -p /dev/pts /dev/shm
		bb mount -t devpts -o gid=5,mode=620 devpts /dev/pts
		bb mount -t tmpfs tmpfs /dev/shm
		# A fresh /run: the host's own /run (visible through 9p) describes the host, not us.
		bb mount -t tmpfs -o mode=0755 tmpfs /run
	fi
	bb mount -t debugfs debugfs /sys/kernel/debug
	bb mount -t configfs configfs /sys/kernel/config
	bb mount -t tracefs tracefs /sys/kernel/tracing
	# devtmpfs has no /dev/fd; bash process substitution needs it.
	bb ln -sfn /proc/self/fd /dev/fd
	bb ln -sfn /proc/self/fd/0 /dev/stdin
	bb ln -sfn /proc/self/fd/1 /dev/stdout
	bb ln -sfn /proc/self/fd/2 /dev/stderr
	bb ip link set lo up
	bb hostname "vnvme-vm$VNVME_VM_DEPTH"
} >/dev/null 2>&1

guest_setup() {
	guest_trace "setup"
	guest_mount_basics
	guest_trace "basic mounts done"
	# tools/vm/init has done it before starting systemd.
	if [ -n "$VNVME_GUEST_MODULES" ] && [ "$VNVME_GUEST_INIT" != systemd ]; then
		# The image was extracted, not installed: give modprobe its usual path.
		bb mkdir -p "/lib/modules/$VNVME_GUEST_RELEASE"
		bb mount --bind "$VNVME_GUEST_MODULES" "/lib/modules/$VNVME_GUEST_RELEASE" ||
			guest_fail "cannot bind $VNVME_GUEST_MODULES"
	fi
	bb mkdir -p "$VNVME_GUEST_OUT"
	bb mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vnvmeout "$VNVME_GUEST_OUT" ||
		guest_fail "cannot mount the out dir $VNVME_GUEST_OUT"
	cd "$VNVME_GUEST_CWD" || guest_fail "no directory $VNVME_GUEST_CWD in the guest"
	guest_trace "running the command"
}

guest_run() {
	if [ "$VNVME_GUEST_SHELL" = 1 ]; then
		# A controlling terminal gives the interactive shell job control and ^C.
		bb setsid -c "$@" </dev/ttyS0 >/dev/ttyS0 2>&1
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
guest_trace "command exited with $status"
bb sync
guest_drain_console
echo "VNVME-EXIT $VNVME_GUEST_NONCE $status"
guest_drain_console
bb poweroff -f
