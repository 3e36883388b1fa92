#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite: the mdev parent, types and per-instance sysfs ABI.
set -u
cd "$(dirname "$0")/../../.."
. tests/lib/ktap.sh
. tests/l1/lib/vnvme.sh

ktap_start sysfs

ktap_check "module loads with max_instances=8" vnvme_load max_instances=8
ktap_check "parent has class vnvme" test -e /sys/class/vnvme/vnvme
for t in small medium large; do
	d=$VNVME_TYPES/vnvme-$t
	ktap_check "type $t: device_api is vfio-pci" grep -qx vfio-pci "$d/device_api"
	ktap_check "type $t: name" grep -qx "vnvme-$t" "$d/name"
	ktap_check "type $t: description names its queue budget" grep -q "I/O queue pairs" "$d/description"
	ktap_check "type $t: available_instances starts at 8" grep -qx 8 "$d/available_instances"
done

# ktap_check runs its command in a subshell: keep state in files.
uuid_list=$(mktemp)
create_eight() {
	local i t
	for i in 1 2 3 4 5 6 7 8; do
		case $((i % 3)) in 0) t=small ;; 1) t=medium ;; *) t=large ;; esac
		vnvme_create $t >> "$uuid_list" || return 1
		grep -qx $((8 - i)) "$VNVME_TYPES/vnvme-small/available_instances" || {
			echo "available_instances after $i creates:"; cat "$VNVME_TYPES/vnvme-small/available_instances"
			return 1
		}
	done
}
ktap_check "create 8 instances, available_instances counts down to 0" create_eight
mapfile -t uuids < "$uuid_list"
ktap_check "every type reports 0 available" sh -c "cat $VNVME_TYPES/*/available_instances | grep -qvx 0 && exit 1 || exit 0"
ktap_check "9th create fails (Too many users)" write_fails "$VNVME_TYPES/vnvme-small/create" \
	"$(cat /proc/sys/kernel/random/uuid)" "Too many users"
ktap_check "over-limit create leaves nothing behind" test "$(vnvme_count_instances)" -eq 8

serials_unique() {
	local u n
	n=$(for u in "${uuids[@]}"; do cat "$VNVME_DEVICES/$u/vnvme/serial"; done | sort -u | wc -l)
	[ "$n" -eq 8 ]
}
ktap_check "serial numbers are unique per instance" serials_unique
u0=${uuids[0]}
ktap_check "serial is derived from the UUID" grep -qx "VN$(echo "$u0" | tr -d - | cut -c1-18)" "$VNVME_DEVICES/$u0/vnvme/serial"
ktap_check "new instance state is off" grep -qx off "$VNVME_DEVICES/$u0/vnvme/state"
ktap_check "instance has an iommu group and vfio-dev" test -e "$VNVME_DEVICES/$u0/iommu_group"

remove_all_eight() {
	local u
	for u in "${uuids[@]}"; do echo 1 > "$VNVME_DEVICES/$u/remove" || return 1; done
	grep -qx 8 "$VNVME_TYPES/vnvme-large/available_instances"
}
ktap_check "remove 8 instances, available_instances back to 8" remove_all_eight
ktap_check "no instance left" test "$(vnvme_count_instances)" -eq 0

ktap_check "malformed UUID is rejected (EINVAL)" write_fails "$VNVME_TYPES/vnvme-small/create" \
	"not-a-uuid" "Invalid argument"
u=$(vnvme_create small)
ktap_check "duplicate UUID is rejected (EEXIST)" write_fails "$VNVME_TYPES/vnvme-medium/create" "$u" "File exists"
ktap_check "failed creates leave exactly one instance" test "$(vnvme_count_instances)" -eq 1
ktap_check "available_instances is exact after failures" grep -qx 7 "$VNVME_TYPES/vnvme-small/available_instances"

dev=$VNVME_DEVICES/$u
ktap_check "serial accepts 20 characters" sh -c "echo SERIAL-0123456789ABC > $dev/vnvme/serial && grep -qx SERIAL-0123456789ABC $dev/vnvme/serial"
ktap_check "serial of 21 characters is rejected (EINVAL)" write_fails "$dev/vnvme/serial" "SERIAL-0123456789ABCD" "Invalid argument"
ktap_check "model with a control character is rejected" write_fails "$dev/vnvme/model" "$(printf 'a\tb')" "Invalid argument"
ktap_check "mdts 0 is rejected (ERANGE)" write_fails "$dev/vnvme/mdts" 0 "Numerical result out of range"
ktap_check "mdts 9 is rejected (ERANGE)" write_fails "$dev/vnvme/mdts" 9 "Numerical result out of range"
ktap_check "mdts 5 is accepted" sh -c "echo 5 > $dev/vnvme/mdts && grep -qx 5 $dev/vnvme/mdts"
ktap_check "state is read-only" write_fails "$dev/vnvme/state" ready "Permission denied"
ktap_check "zero_copy is 1 by default" grep -qx 1 "$dev/vnvme/zero_copy"
ktap_check "zero_copy takes 0 and 1" sh -c "echo 0 > $dev/vnvme/zero_copy && grep -qx 0 $dev/vnvme/zero_copy &&
	echo 1 > $dev/vnvme/zero_copy && grep -qx 1 $dev/vnvme/zero_copy"
ktap_check "zero_copy 2 is rejected (EINVAL)" write_fails "$dev/vnvme/zero_copy" 2 "Invalid argument"
ktap_check "pin_cache of a new instance: nothing pinned, counters 0" sh -c \
	"grep -qx 'pages 0' $dev/vnvme/pin_cache && grep -qx 'bounce_fallbacks 0' $dev/vnvme/pin_cache"

ns_attrs_present() {
	local n a
	for n in $(seq 1 16); do
		for a in device_path enable readonly nguid; do
			test -e "$dev/ns$n/$a" || { echo "missing ns$n/$a"; return 1; }
		done
	done
	test ! -e "$dev/ns17"
}
ktap_check "ns1..ns16 each have device_path, enable, readonly, nguid" ns_attrs_present
ktap_check "NGUIDs differ between namespaces" test "$(cat "$dev/ns1/nguid")" != "$(cat "$dev/ns2/nguid")"
ktap_check "missing device path fails (ENOENT)" write_fails "$dev/ns1/device_path" /dev/vnvme-nonexistent "No such file or directory"
ktap_check "relative device path fails (EINVAL)" write_fails "$dev/ns1/device_path" dev/loop0 "Invalid argument"
ktap_check "regular file as device path fails (ENOTBLK)" write_fails "$dev/ns1/device_path" /etc/hostname "Block device required"
ktap_check "enable without device_path fails (EINVAL)" write_fails "$dev/ns1/enable" 1 "Invalid argument"
ktap_check "enable takes a boolean" write_fails "$dev/ns1/enable" maybe "Invalid argument"
ktap_check "the failed writes left device_path empty" test -z "$(cat "$dev/ns1/device_path")"

loop=$(vnvme_loop 64)
loop2=$(vnvme_loop 16)
ktap_check "device_path accepts a loop device" sh -c "echo $loop > $dev/ns1/device_path && grep -qx $loop $dev/ns1/device_path"
ktap_check "enable opens the device" sh -c "echo 1 > $dev/ns1/enable && grep -qx 1 $dev/ns1/enable"
ktap_check "changing device_path while enabled fails (EBUSY)" write_fails "$dev/ns1/device_path" "$loop2" "Device or resource busy"
ktap_check "changing readonly while enabled fails (EBUSY)" write_fails "$dev/ns1/readonly" 1 "Device or resource busy"
ktap_check "device_path unchanged after EBUSY" grep -qx "$loop" "$dev/ns1/device_path"
u2=$(vnvme_create small)
ktap_check "a second instance cannot claim the same device (EBUSY)" sh -c \
	"echo $loop > $VNVME_DEVICES/$u2/ns1/device_path && ! echo 1 > $VNVME_DEVICES/$u2/ns1/enable 2>/dev/null"
ktap_check "the kernel log names the reason" sh -c "dmesg | grep -q 'in use by another holder'"
ktap_check "disable releases the device" sh -c "echo 0 > $dev/ns1/enable && grep -qx 0 $dev/ns1/enable"
ktap_check "the other instance can now claim it" sh -c "echo 1 > $VNVME_DEVICES/$u2/ns1/enable"
ktap_check "readonly can change while disabled" sh -c "echo 1 > $dev/ns2/readonly && grep -qx 1 $dev/ns2/readonly"
enable_sixteen() {
	local n l
	for n in $(seq 1 16); do
		l=$(vnvme_loop 4) || return 1
		echo "$l" > "$dev/ns$n/device_path" && echo 1 > "$dev/ns$n/enable" || return 1
	done
}
ktap_check "16 namespaces can be enabled at once" enable_sixteen

ktap_check "removing an instance with enabled namespaces works" sh -c "echo 1 > $VNVME_DEVICES/$u2/remove"
ktap_check "its device is free again" sh -c "echo 0 > $dev/ns1/enable; echo $loop > $dev/ns1/device_path && echo 1 > $dev/ns1/enable"
ktap_check "rmmod with idle instances removes them (documented policy)" rmmod vnvme
ktap_check "no instance left after unload" test "$(vnvme_count_instances)" -eq 0
ktap_check "module reloads cleanly" vnvme_load
ktap_check "unload with no instances is clean" rmmod vnvme
ktap_check "kernel log has no oops, warning or lockdep report" dmesg_clean
losetup -D
ktap_finish
