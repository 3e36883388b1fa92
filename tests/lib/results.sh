# SPDX-License-Identifier: GPL-2.0
# Count KTAP results of the suites tests/run ran and print the summary. Sourced.
# shellcheck shell=bash

RESULTS_LINES=()
RESULTS_PASSED=0
RESULTS_FAILED=0
RESULTS_SKIPPED=0

# Parse OUTDIR/BASE.ktap and .rc (see tests/lib/suite.sh) into tally_{name,pass,fail,skip,problem}.
# Only top-level result lines count; nested (indented) subtests are the suite's business.
results_tally() {
	local outdir=$1 base=$2 line planned="" count=0 rc problems=()
	tally_name="" tally_pass=0 tally_fail=0 tally_skip=0 tally_problem=""
	if [[ -f $outdir/$base.ktap ]]; then
		while IFS= read -r line; do
			line=${line%$'\r'}
			if [[ $line =~ ^(not\ )?ok\ [0-9]+ ]]; then
				count=$((count + 1))
				if [[ ${line#*#} != "$line" && ${line#*#} =~ ^[[:space:]]*[Ss][Kk][Ii][Pp] ]]; then
					tally_skip=$((tally_skip + 1))
				elif [[ $line == ok* ]]; then
					tally_pass=$((tally_pass + 1))
				else
					tally_fail=$((tally_fail + 1))
				fi
			elif [[ -z $planned && $line =~ ^1\.\.([0-9]+) ]]; then
				planned=${BASH_REMATCH[1]}
			elif [[ -z $tally_name && $line =~ ^#\ suite:\ *([^[:space:]]+) ]]; then
				tally_name=${BASH_REMATCH[1]}
			fi
		done <"$outdir/$base.ktap"
	fi
	rc=$(cat -- "$outdir/$base.rc" 2>/dev/null || echo none)
	if [[ $rc == none ]]; then
		problems+=("did not finish")
	elif ((rc == 124)); then
		problems+=("timed out")
	elif ((rc != 0 && tally_fail == 0)); then
		problems+=("exited with status $rc")
	fi
	if [[ -z $planned ]]; then
		problems+=("no plan")
	elif ((planned != count)); then
		problems+=("planned $planned, ran $count")
	fi
	[[ -s $outdir/$base.kernel-warnings ]] && problems+=("kernel warnings in dmesg")
	if ((${#problems[@]})); then
		# However many things went wrong, a broken suite is one extra failure.
		tally_fail=$((tally_fail + 1))
		tally_problem=$(printf '%s; ' "${problems[@]}")
		tally_problem=${tally_problem%; }
	fi
	return 0
}

# Record one suite (or a step such as the build): DISPLAY PASS FAIL SKIP [PROBLEM].
results_add() {
	local line="$1: $2 passed, $3 failed, $4 skipped"
	[[ -n ${5:-} ]] && line+=" ($5)"
	RESULTS_LINES+=("$line")
	RESULTS_PASSED=$((RESULTS_PASSED + $2))
	RESULTS_FAILED=$((RESULTS_FAILED + $3))
	RESULTS_SKIPPED=$((RESULTS_SKIPPED + $4))
	echo "$line"
}

# Tally a suite's files and record it as PREFIX + its KTAP suite name (or FALLBACK).
results_add_suite() {
	local outdir=$1 base=$2 prefix=$3 fallback=$4
	results_tally "$outdir" "$base"
	results_add "$prefix${tally_name:-$fallback}" "$tally_pass" "$tally_fail" "$tally_skip" "$tally_problem"
}

# The last line is the one CI reads: exactly "vnvme: N passed, N failed".
results_summary() {
	echo
	echo "== vnvme test summary =="
	printf '%s\n' "${RESULTS_LINES[@]}"
	echo "vnvme: $RESULTS_SKIPPED skipped"
	echo "vnvme: $RESULTS_PASSED passed, $RESULTS_FAILED failed"
	((RESULTS_FAILED == 0))
}
