#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite: live migration through VFIO migration v2, driven from userspace as QEMU drives it
# (tests/l1/conformance/migration). Two vnvme-small instances, A and B, whose namespace 1 is
# the same storage under two device paths (two loop devices over one file, as another host
# would see shared storage). A controller with four I/O queues, shadow doorbells, held AERs
# and verified I/O in flight moves A -> B and back B -> A through every arc QEMU uses; the
# dirty bitmap of type1 must report every page the device wrote; damaged and mismatched
# streams (truncated, CRC, newer version, magic, namespace size / LBA format / presence,
# queue fields, unknown sections) are refused with one errno each and leave the destination
# reset and usable. Then the postcondition for both instances: no pinned pages, verified I/O
# from a new client, removal, module unload and a clean kernel log.
# vnvme-timeout: 900
set -u
SUITE_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SUITE_DIR/../../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$ROOT/tests/lib/ktap.sh"
# shellcheck source=tests/l1/lib/checks.sh
source "$ROOT/tests/l1/lib/checks.sh"

ktap_start migration

# A second loop device over the backing file of the first: the same data, another path.
second_path() {
	local file dev
	file=$(losetup -n -O BACK-FILE "$1") || return 1
	dev=$(losetup -f --show "$file") || return 1
	chk_loops+=("$dev")
	echo "$dev"
}

setup() {
	local la lb
	chk_load || return 1
	uuid_a=$(chk_instance small) && uuid_b=$(chk_instance small) || return 1
	la=$(chk_loop 64) && lb=$(second_path "$la") || return 1
	chk_ns "$uuid_a" 1 "$la" && chk_ns "$uuid_b" 1 "$lb"
}

if ! chk_build migration; then
	ktap_not_ok build "tools/vfio or tests/l1/conformance did not build"
	ktap_finish
	exit
fi
chk_kmsg_mark
chk_setup_or_exit setup
ktap_diag "instances A $uuid_a, B $uuid_b"
start=$SECONDS
fold_ktap < <(timeout 700 "$CHK_BIN/migration" --set peer="$uuid_b" "$uuid_a" 2>&1)
ktap_diag "migration cases: $((SECONDS - start)) s"
# Both instances serve a new client and are removed; then the module unloads cleanly.
if out=$({ chk_pinned_zero "$uuid_b" && chk_verified_io "$uuid_b" 1 && chk_remove "$uuid_b" &&
	post_check "$uuid_a" 1; } 2>&1); then
	ktap_ok postconditions
else
	ktap_not_ok postconditions "$out"
fi
ktap_finish
