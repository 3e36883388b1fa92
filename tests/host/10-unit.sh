#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host suite: build and run the userspace unit tests and fuzz target for kernel/prp.c; prints KTAP v1.
#
# One result line per unit test case (names taken from test_prp.c, so the plan is stable even if the
# build fails), one for the standalone fuzz run and one for the libFuzzer run (SKIP without clang).
# Environment: VNVME_FUZZ_ITERS (default 200000), VNVME_FUZZ_SEED (default: time; printed so a
# failure can be replayed), VNVME_UNIT_TIMEOUT (seconds per run, default 600). Exit 1 on any failure.
set -u

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
unit=$(cd -- "$here/../unit" && pwd)
iters=${VNVME_FUZZ_ITERS:-200000}
seed=${VNVME_FUZZ_SEED:-$(date +%s)}
tmo=${VNVME_UNIT_TIMEOUT:-600}

# A private build directory, so concurrent runs never share binaries.
build=$(mktemp -d "${TMPDIR:-/tmp}/vnvme-unit.XXXXXX") || exit 1
trap 'rm -rf -- "$build"' EXIT

mapfile -t cases < <(sed -n 's/^[[:space:]]*KTAP_CASE(\([a-z0-9_]*\)),$/\1/p' "$unit/test_prp.c")
# An empty list (test_prp.c unreadable) would make a suite of 0 tests that passes.
((${#cases[@]})) || { echo "Bail out! no KTAP_CASE found in $unit/test_prp.c"; exit 1; }

n=0
pass=0
fail=0
skip=0

# result ok|notok name [directive...]
result() {
	local res=$1 name=$2
	shift 2
	n=$((n + 1))
	if [[ $res == ok ]]; then
		if [[ $* == SKIP* ]]; then skip=$((skip + 1)); else pass=$((pass + 1)); fi
		printf 'ok %d %s%s\n' "$n" "$name" "${*:+ # $*}"
	else
		fail=$((fail + 1))
		printf 'not ok %d %s%s\n' "$n" "$name" "${*:+ # $*}"
	fi
}

# Pass a tool's output through as KTAP diagnostics.
diag() {
	sed 's/^\([^#]\|$\)/# \1/' -- "$1"
}

echo "KTAP version 1"
echo "1..$((${#cases[@]} + 2))"

built=1
if ! make -s -C "$unit" BUILD="$build" all >"$build/build.log" 2>&1; then
	built=0
	echo "# build failed:"
	diag "$build/build.log"
fi

# Unit cases: take each case's verdict from the binary's own KTAP output; a case it never
# reported (crash, sanitizer abort, timeout) is a failure.
if ((built)); then
	{ timeout "$tmo" "$build/test_prp" >"$build/unit.out" 2>&1; } 2>/dev/null
	rc=$?
	grep -v -E '^(KTAP version|1\.\.|(not )?ok [0-9]+ |# [0-9]+ passed)' "$build/unit.out" >"$build/unit.diag"
	diag "$build/unit.diag"
fi
for c in "${cases[@]}"; do
	if ((!built)); then
		result notok "$c" "ERROR build failed"
	elif grep -q -E "^ok [0-9]+ $c\$" "$build/unit.out"; then
		result ok "$c"
	elif grep -q -E "^not ok [0-9]+ $c\$" "$build/unit.out"; then
		result notok "$c"
	elif ((rc == 124)); then
		result notok "$c" "TIMEOUT $tmo seconds"
	else
		result notok "$c" "ERROR not reported (test_prp exit status $rc)"
	fi
done

# Standalone fuzz driver (gcc, ASan+UBSan).
if ((built)); then
	# The braces keep bash's own "Aborted" notice off the terminal; the log has the details.
	{ timeout "$tmo" "$build/fuzz_prp" -n "$iters" -s "$seed" >"$build/fuzz.out" 2>&1; } 2>/dev/null
	rc=$?
	diag "$build/fuzz.out"
	if ((rc == 0)); then
		result ok "fuzz_prp_standalone_${iters}_iterations"
	elif ((rc == 124)); then
		result notok "fuzz_prp_standalone_${iters}_iterations" "TIMEOUT $tmo seconds"
	else
		echo "# replay: make -C tests/unit && build/unit/fuzz_prp -s $seed -i <iteration above>"
		result notok "fuzz_prp_standalone_${iters}_iterations"
	fi
else
	result notok "fuzz_prp_standalone_${iters}_iterations" "ERROR build failed"
fi

# libFuzzer build of the same target, when clang and its fuzzer runtime are available.
if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	result ok "fuzz_prp_libfuzzer" "SKIP clang not installed"
elif ! make -s -C "$unit" BUILD="$build" libfuzzer >"$build/lf-build.log" 2>&1; then
	diag "$build/lf-build.log" | tail -n 5
	result ok "fuzz_prp_libfuzzer" "SKIP clang cannot build with -fsanitize=fuzzer"
else
	mkdir -p "$build/corpus"
	{ timeout "$tmo" "$build/fuzz_prp_libfuzzer" -runs="$iters" -seed="$((seed % 2147483647 + 1))" \
		-print_final_stats=1 -artifact_prefix="$build/" "$build/corpus" >"$build/lf.out" 2>&1; } 2>/dev/null
	rc=$?
	grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|fuzz_prp:|SUMMARY)' \
		"$build/lf.out" | sed 's/^/# /'
	if ((rc == 0)); then
		result ok "fuzz_prp_libfuzzer"
	elif ((rc == 124)); then
		result notok "fuzz_prp_libfuzzer" "TIMEOUT $tmo seconds"
	else
		tail -n 30 "$build/lf.out" | sed 's/^/# /'
		result notok "fuzz_prp_libfuzzer"
	fi
fi

echo "# $pass passed, $fail failed, $skip skipped"
((fail == 0))
