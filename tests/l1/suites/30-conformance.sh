#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite: NVMe conformance of a vnvme instance over VFIO (tests/l1/conformance/conformance):
# every register and every implemented command, the success path and each error status the
# specification defines, phase tags, SQ head, CIDs, full queues, interrupts and coalescing,
# asynchronous events, Abort, PRP and SGL layouts. Namespaces: 1 on a 64 MiB loop device
# (512-byte blocks), 2 configured but disabled (attach events), 3 read-only, 4 with 4 KiB
# blocks; and a vnvme-large instance (33 vectors) for Interrupt Vector Configuration. The
# cases run three times in this boot: trapped doorbells with zero-copy (the default; the pin
# cache must have been used), as bounce_* with vnvme/zero_copy 0 (nothing pinned for data),
# and as mapped_* on instances in mapped doorbell mode. After the trapped passes and after
# the mapped one, the postcondition: no pinned pages, verified I/O, removal, module unload
# and a clean kernel log.
# vnvme-timeout: 1200
set -u
SUITE_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SUITE_DIR/../../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$ROOT/tests/lib/ktap.sh"
# shellcheck source=tests/l1/lib/checks.sh
source "$ROOT/tests/l1/lib/checks.sh"

ktap_start conformance

setup() {
	local l1 l2 l3 l4
	chk_load || return 1
	uuid=$(chk_instance small) || return 1
	# Interrupt Vector Configuration needs more than 32 vectors: vnvme-large has 33.
	large_uuid=$(chk_instance large) || return 1
	l1=$(chk_loop 64) && l2=$(chk_loop 16) && l3=$(chk_loop 16) && l4=$(chk_loop 32 4096) || return 1
	chk_ns "$uuid" 1 "$l1" && chk_ns "$uuid" 2 "$l2" "" noenable &&
		chk_ns "$uuid" 3 "$l3" readonly && chk_ns "$uuid" 4 "$l4"
}

if ! chk_build conformance; then
	ktap_not_ok build "tools/vfio or tests/l1/conformance did not build"
	ktap_finish
	exit
fi
chk_kmsg_mark
chk_setup_or_exit setup

# run_conformance [PREFIX]: the cases on the instance, in the doorbell mode of this pass.
run_conformance() {
	# shellcheck disable=SC2046 # the option is two words or none
	fold_ktap "${1:-}" < <(timeout 1000 "$CHK_BIN/conformance" $(chk_doorbell_opts "$uuid") \
		--set attach_ns=2 --set ro_nsid=3 --set nsid_4k=4 --set large_uuid="$large_uuid" \
		"$uuid" 2>&1)
}

# pin_cache_count KEY: one counter of the instance's pin cache.
pin_cache_count() {
	awk -v k="$1" '$1 == k { print $2 }' "$CHK_DEVICES/$uuid/vnvme/pin_cache"
}

postconditions() {	# postconditions [PREFIX]
	local post
	if post=$(post_check "$uuid" 1 2>&1); then
		ktap_ok "${1:-}postconditions"
	else
		ktap_not_ok "${1:-}postconditions" "$post"
	fi
}

# Trapped doorbells, zero-copy (the default): the Read/Write data went through the pin cache.
ktap_diag "instance $uuid, $CHK_DOORBELLS doorbells"
run_conformance
misses=$(pin_cache_count misses)
if [[ $(cat "$CHK_DEVICES/$uuid/vnvme/zero_copy") == 1 ]] && ((${misses:-0} > 0)); then
	ktap_ok zero_copy_used
	ktap_diag "pin cache: $(tr '\n' ' ' <"$CHK_DEVICES/$uuid/vnvme/pin_cache")"
else
	ktap_not_ok zero_copy_used "zero_copy $(cat "$CHK_DEVICES/$uuid/vnvme/zero_copy"), pin cache misses '$misses'"
fi

# The bounce path: the same cases again with zero_copy off (the device is closed now).
if echo 0 >"$CHK_DEVICES/$uuid/vnvme/zero_copy" && echo 0 >"$CHK_DEVICES/$large_uuid/vnvme/zero_copy"; then
	run_conformance bounce_
	if [[ $(pin_cache_count misses) == "$misses" ]]; then
		ktap_ok bounce_pinned_nothing
	else
		ktap_not_ok bounce_pinned_nothing "pin cache misses went from $misses to $(pin_cache_count misses)"
	fi
	echo 1 >"$CHK_DEVICES/$uuid/vnvme/zero_copy"
else
	ktap_not_ok bounce_pass "writing 0 to vnvme/zero_copy failed"
fi
postconditions

# Mapped doorbells (zero-copy on): new instances of a module loaded with doorbell_mode=mapped.
CHK_DOORBELLS=mapped
chk_kmsg_mark
out=$(mktemp)
if ! setup >"$out" 2>&1; then
	ktap_not_ok mapped_setup "$(cat "$out")"
	chk_unload >/dev/null
else
	ktap_diag "instance $uuid, $CHK_DOORBELLS doorbells"
	run_conformance mapped_
	postconditions mapped_
fi
rm -f "$out"
ktap_finish
