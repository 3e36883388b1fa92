#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# L1 suite: a hostile guest against a vnvme instance (tests/l1/conformance/hostile): register
# and config-space abuse (bad CC fields, enable without admin queues, EN/SHN toggling,
# doorbells of absent queues and beyond queue sizes, every BAR0 offset at every access size,
# every config offset), memory (PRPs outside mapped memory, lists that chain to themselves,
# misaligned entries, every malformed SGL, looping segments, queues on unmapped and
# overlapping memory, memory unmapped under live queues, under a doorbell storm and under
# admin commands and re-enables, shadow doorbells), commands (huge NLB, LBA overflow and wrap, NSID 0/broadcast/absent, deleting
# queues with commands in flight or behind a full shared CQ, AER floods, every opcode with
# random fields, abort floods, unmapped admin data, the admin bounce allowance, doorbell jumps,
# queue churn, the pin limit), zero-copy (PRPs into unmapped IOVA through the pin cache, 512
# distinct data pages in flight against a 40-page pin budget).
#
# Every case runs on a freshly loaded module and instance and is followed by the
# postcondition: the program's own check (clean kernel log, a fresh controller serves
# verified I/O), then no pinned pages, verified I/O from a new client, instance removal,
# module unload and a clean kernel log again. A case passes only if all of that holds.
# vnvme-timeout: 1800
set -u
SUITE_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$SUITE_DIR/../../.." && pwd)
# shellcheck source=tests/lib/ktap.sh
source "$ROOT/tests/lib/ktap.sh"
# shellcheck source=tests/l1/lib/checks.sh
source "$ROOT/tests/l1/lib/checks.sh"

PIN_LIMIT=40

ktap_start hostile

setup_case() {
	local name=$1 l1
	if [[ $name == pinned_page_limit || $name == pin_budget_many_pages ]]; then
		chk_load max_pinned_pages=$PIN_LIMIT || return 1
	else
		chk_load || return 1
	fi
	uuid=$(chk_instance small) || return 1
	l1=$(chk_loop 64) || return 1
	chk_ns "$uuid" 1 "$l1"
}

# run_case NAME: one KTAP line for the case and its postcondition.
run_case() {
	local name=$1 out log status=0 post diag start=$SECONDS label skip
	label=$(chk_mode_prefix)$name
	out=$(mktemp)
	log=$(mktemp)
	chk_kmsg_mark
	if ! setup_case "$name" >"$out" 2>&1; then
		ktap_not_ok "$label" "setup: $(cat "$out")"
		chk_unload >/dev/null 2>&1
		chk_release_loops
		rm -f "$out" "$log"
		return
	fi
	# shellcheck disable=SC2046 # the option is two words or none
	chk_run_watched 600 "$log" "$CHK_BIN/hostile" --health --timeout 500 --case "$name" \
		$(chk_doorbell_opts "$uuid") \
		--set max_pinned_pages=$PIN_LIMIT "$uuid" || status=$?
	if ((status == 124)); then
		ktap_not_ok "$label" "$(grep -v '^KTAP\|^1\.\.' "$log" | tail -n 80)"
		ktap_diag "a case hung in the kernel: the remaining cases cannot run"
		hung=1
		rm -f "$out" "$log"
		return
	fi
	diag=$(grep -E '^# ' "$log" | grep -v '^# hostile:' | sed 's/^# //')
	grep -q "^ok 1 $name\( \|$\)" "$log" || status=1
	post=$(post_check "$uuid" 1 2>&1) || status=1
	faults_total=$((faults_total + $(chk_sum_faults "$log")))
	ops_total=$((ops_total + $(awk '/operations: [0-9]+$/ { s += $NF } END { print s + 0 }' "$log")))
	skip=$(sed -n "s/^ok 1 $name # SKIP //p" "$log")
	if ((status == 0)) && [[ -n $skip ]]; then
		ktap_skip "$label" "$skip"
	elif ((status == 0)); then
		ktap_ok "$label"
		[[ -n $diag ]] && ktap_diag "$diag"
		ktap_diag "$label: $((SECONDS - start)) s with setup and postcondition"
	else
		ktap_not_ok "$label" "$(grep -v '^KTAP\|^1\.\.' "$log" | tail -n 40)" ${post:+"postcondition: $post"}
	fi
	rm -f "$out" "$log"
}

if ! chk_build hostile; then
	ktap_not_ok build "tools/vfio or tests/l1/conformance/hostile did not build"
	ktap_finish
	exit
fi
faults_total=0
ops_total=0
hung=0
# Not read from a process substitution: a failing --list would end the suite with 1..0.
if ! case_list=$("$CHK_BIN/hostile" --list ${VNVME_HOSTILE_CASES:+--case "$VNVME_HOSTILE_CASES"}) ||
	[[ -z $case_list ]]; then
	ktap_not_ok "hostile --list" "the hostile program listed no cases"
fi
# run_mapped_batch NAME...: the mapped pass of these cases, all in one run of the program
# on one module load and instance. Its --health still checks every case (clean kernel log,
# a fresh controller serving verified I/O); the suite's postcondition runs once at the end.
# Reloading per case, as the trapped pass does, would double the suite's time for little:
# what isolation buys is shown by the trapped pass, and both passes run the same cases.
run_mapped_batch() {
	local log out status=0 post start=$SECONDS cases
	cases=$(IFS=,; echo "$*")
	out=$(mktemp)
	log=$(mktemp)
	chk_kmsg_mark
	if ! setup_case mapped_batch >"$out" 2>&1; then
		ktap_not_ok mapped_setup "setup: $(cat "$out")"
		chk_unload >/dev/null 2>&1
		chk_release_loops
		rm -f "$out" "$log"
		return
	fi
	chk_run_watched 1500 "$log" "$CHK_BIN/hostile" --health --timeout 500 --doorbells mapped \
		--case "$cases" "$uuid" || status=$?
	fold_ktap mapped_ <"$log"
	faults_total=$((faults_total + $(chk_sum_faults "$log")))
	ops_total=$((ops_total + $(awk '/operations: [0-9]+$/ { s += $NF } END { print s + 0 }' "$log")))
	if ((status == 124)); then
		ktap_diag "a case hung in the kernel: the mapped pass stopped there"
		hung=1
	fi
	if post=$(post_check "$uuid" 1 2>&1); then
		ktap_ok mapped_postconditions
	else
		ktap_not_ok mapped_postconditions "$post"
	fi
	ktap_diag "mapped pass: $((SECONDS - start)) s with setup and postcondition"
	rm -f "$out" "$log"
}

# Every case in each doorbell mode, in this boot; the mapped pass names them mapped_*.
# Cases about the mapped page skip themselves (with the reason) in the trapped pass.
# The doorbell_page_* cases write into the mapped doorbell page: mapped pass only.
while read -r name; do
	[[ -n $name && $name != doorbell_page_* ]] || continue
	((hung)) && break
	run_case "$name"
done <<<"$case_list"
if ((!hung)); then
	CHK_DOORBELLS=mapped
	# The pin budget cases need a module loaded with its own limit: cases of their own.
	own_load='pinned_page_limit|pin_budget_many_pages'
	mapfile -t batch < <(grep -Evx "$own_load" <<<"$case_list" | grep .)
	((${#batch[@]})) && run_mapped_batch "${batch[@]}"
	while read -r name; do
		((hung)) || run_case "$name"
	done < <(grep -Ex "$own_load" <<<"$case_list")
fi
ktap_diag "hostile: operations $ops_total, faults injected $faults_total"
ktap_finish
