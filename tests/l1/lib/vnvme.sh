# SPDX-License-Identifier: GPL-2.0
# Shared helpers for L1 suites: load the module, create instances and
# backing devices, check sysfs write errors.  Source after tests/lib/ktap.sh.

VNVME_PARENT=/sys/class/mdev_bus/vnvme
VNVME_TYPES=$VNVME_PARENT/mdev_supported_types
VNVME_DEVICES=/sys/bus/mdev/devices
# tests/l1/run-in-vm sets it; default to the build for the running kernel.
: "${VNVME_KO:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build/kmod/$(uname -r)/vnvme.ko}"
export VNVME_KO

# vnvme_load [module params...]: (re)loads vnvme.ko with the given parameters.
vnvme_load() {
	modprobe -a vfio_iommu_type1 mdev libcrc32c || return 1
	if [ -d /sys/module/vnvme ]; then
		vnvme_remove_all
		rmmod vnvme || return 1
	fi
	insmod "${VNVME_KO:?VNVME_KO is not set}" "$@"
}

vnvme_remove_all() {
	local dev
	for dev in "$VNVME_DEVICES"/*; do
		[ -e "$dev/vnvme" ] && echo 1 > "$dev/remove"
	done
	return 0
}

vnvme_unload() {
	vnvme_remove_all
	[ -d /sys/module/vnvme ] && rmmod vnvme
	return 0
}

# vnvme_create TYPE [UUID]: prints the UUID of a new instance.
vnvme_create() {
	local type=$1 uuid=${2:-$(cat /proc/sys/kernel/random/uuid)}
	echo "$uuid" > "$VNVME_TYPES/vnvme-$type/create" || return 1
	echo "$uuid"
}

vnvme_count_instances() {
	local n=0 dev
	for dev in "$VNVME_DEVICES"/*; do
		[ -e "$dev/vnvme" ] && n=$((n + 1))
	done
	echo "$n"
}

# vnvme_loop SIZE_MIB: prints a new loop device over a sparse file in /tmp.
vnvme_loop() {
	local file
	modprobe loop 2>/dev/null
	file=$(mktemp /tmp/vnvme-backing.XXXXXX)
	truncate -s "${1}M" "$file"
	losetup --find --show "$file"
}

# write_fails FILE VALUE ERRTEXT: the write must fail with that strerror text.
write_fails() {
	local out
	out=$( { printf '%s\n' "$2" > "$1"; } 2>&1 ) && {
		echo "write of '$2' to $1 succeeded; expected: $3"
		return 1
	}
	case $out in
	*"$3"*) return 0 ;;
	esac
	echo "write of '$2' to $1: got '$out', expected '$3'"
	return 1
}

# dmesg_clean: no oops, warning, BUG, lockdep or refcount report so far.
dmesg_clean() {
	! dmesg | grep -E 'Oops|BUG:|WARNING:|refcount_t|list_(add|del) corruption|possible circular locking|KASAN|general protection'
}
