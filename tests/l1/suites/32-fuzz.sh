#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite: the seeded hostile-guest fuzzer (vnvme-vfio fuzz, tools/vfio/fuzz.c) against fresh
# vnvme instances: register, config-space, doorbell, command, queue, DMA-unmap, reset, VFIO
# ioctl and namespace hot-plug operations, with a second thread unmapping memory under queue
# creation, and verified I/O checks all along. At least 100,000 operations per kernel, in
# runs of VNVME_FUZZ_OPS (default 25,000) with fixed seeds (VNVME_FUZZ_SEEDS, default
# "1 2 3 4"), each limited to VNVME_FUZZ_RUN_TIMEOUT seconds (default 1200; the total wanted
# is VNVME_FUZZ_MIN_TOTAL, default 100,000), so a failure replays with: vnvme-vfio UUID fuzz 1
# --ops N --seed S --chaos --ns-toggle /sys/bus/mdev/devices/UUID/ns2/enable
# Each run ends with the postcondition (no pinned pages, verified I/O from a new client,
# removal, module unload, clean kernel log).
# vnvme-timeout: 1500
set -u
SUITE_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SUITE_DIR/../../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$ROOT/tests/lib/ktap.sh"
# shellcheck source=tests/l1/lib/checks.sh
source "$ROOT/tests/l1/lib/checks.sh"

OPS=${VNVME_FUZZ_OPS:-25000}
SEEDS=${VNVME_FUZZ_SEEDS:-"1 2 3 4"}
# The mapped-doorbell pass: one seed of its own (25,000 operations, a quarter of the trapped
# pass): the doorbell logic behind the page is the trapped one, and what is specific to the
# page has hostile and fault cases of its own; this keeps the second mode to about 40 s.
MAPPED_SEEDS=${VNVME_FUZZ_MAPPED_SEEDS:-5}
MIN_TOTAL=${VNVME_FUZZ_MIN_TOTAL:-100000}
# Seconds one seeded run may take (tools/debug-kernel raises it with VNVME_FUZZ_OPS).
RUN_TIMEOUT=${VNVME_FUZZ_RUN_TIMEOUT:-1200}

ktap_start fuzz

json_field() {	# json_field FILE KEY
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null
}

run_seed() {
	local seed=$1 uuid l1 l2 out status=0 ops post fail=() name
	name=$(chk_mode_prefix)fuzz_seed_$seed
	out=$(mktemp)
	chk_kmsg_mark
	if ! { chk_load && uuid=$(chk_instance small) && l1=$(chk_loop 16) && l2=$(chk_loop 16) &&
		chk_ns "$uuid" 1 "$l1" && chk_ns "$uuid" 2 "$l2"; } >"$out" 2>&1; then
		ktap_not_ok "$name" "setup: $(cat "$out")"
		chk_unload >/dev/null 2>&1
		chk_release_loops
		rm -f "$out"
		return
	fi
	# shellcheck disable=SC2046 # the option is two words or none
	timeout "$RUN_TIMEOUT" "$CHK_CLI" $(chk_doorbell_opts "$uuid") "$uuid" fuzz 1 --ops "$OPS" --seed "$seed" --chaos \
		--ns-toggle "$CHK_DEVICES/$uuid/ns2/enable" --json >"$out" 2>"$out.err" || status=$?
	ops=$(json_field "$out" ops)
	((status == 0)) || fail+=("vnvme-vfio fuzz exited with $status: $(json_field "$out" failure) $(tail -n 5 "$out.err")")
	post=$(post_check "$uuid" 1 2>&1) || fail+=("postcondition: $post")
	total_ops=$((total_ops + ${ops:-0}))
	if ((${#fail[@]} == 0)); then
		ktap_ok "$name"
	else
		ktap_not_ok "$name" "${fail[@]}" "replay: vnvme-vfio $(chk_doorbell_opts "$uuid") UUID fuzz 1 --ops $OPS --seed $seed --chaos --ns-toggle .../ns2/enable"
	fi
	ktap_diag "seed $seed: $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
k = d["by_kind"]
print("%d operations in %.1f s: %d hostile commands (%d error statuses, %d timed out), %d re-inits, %d CFS seen, %d verified I/Os, %d chaos-thread operations; %s" % (
    d["ops"], d["seconds"], d["commands"], d["error_statuses"], d["timeouts"], d["reinits"],
    d["fatal_seen"], d["verified_ios"], d["chaos_ops"],
    ", ".join("%s %d" % (n, v) for n, v in k.items())))' "$out" 2>/dev/null || cat "$out")"
	rm -f "$out" "$out.err"
}

if ! chk_build; then
	ktap_not_ok build "tools/vfio did not build"
	ktap_finish
	exit
fi
total_ops=0
for seed in $SEEDS; do
	run_seed "$seed"
done
if ((total_ops >= MIN_TOTAL)); then
	ktap_ok fuzz_operations_total
else
	ktap_not_ok fuzz_operations_total "$total_ops operations, at least $MIN_TOTAL wanted"
fi
ktap_diag "fuzz: $total_ops operations in total"
total_ops=0
CHK_DOORBELLS=mapped
for seed in $MAPPED_SEEDS; do
	run_seed "$seed"
done
ktap_diag "fuzz with mapped doorbells: $total_ops operations in total"
ktap_finish
