# SPDX-License-Identifier: GPL-2.0
# KTAP v1 output for test suites written in bash. Source it, then:
#   ktap_start NAME         "KTAP version 1" and "# suite: NAME"
#   ktap_plan N             "1..N" up front (optional: ktap_finish prints it otherwise)
#   ktap_ok NAME | ktap_not_ok NAME [REASON...] | ktap_skip NAME REASON
#   ktap_check NAME CMD...  runs CMD; its output is shown as diagnostics if it fails
#   ktap_diag MSG...        "# MSG" lines
#   ktap_finish             prints a deferred plan; fails if a test failed or the plan is off
# shellcheck shell=bash

KTAP_COUNT=0
KTAP_FAILED=0
KTAP_PLANNED=

ktap_start() {
	echo "KTAP version 1"
	echo "# suite: $1"
}

ktap_plan() {
	KTAP_PLANNED=$1
	echo "1..$1"
}

# Every line of every argument becomes a "# " line, so a message can't forge a result.
ktap_diag() {
	local msg line
	for msg in "$@"; do
		while IFS= read -r line; do
			echo "# $line"
		done <<<"$msg"
	done
}

ktap_ok() {
	KTAP_COUNT=$((KTAP_COUNT + 1))
	echo "ok $KTAP_COUNT $1"
}

ktap_not_ok() {
	local name=$1
	shift
	KTAP_COUNT=$((KTAP_COUNT + 1))
	KTAP_FAILED=$((KTAP_FAILED + 1))
	echo "not ok $KTAP_COUNT $name"
	(($#)) && ktap_diag "$@"
	return 0
}

ktap_skip() {
	if (($# < 2)) || [[ -z $2 ]]; then
		ktap_not_ok "$1" "ktap_skip without a reason"
		return 0
	fi
	KTAP_COUNT=$((KTAP_COUNT + 1))
	echo "ok $KTAP_COUNT $1 # SKIP ${*:2}"
}

ktap_check() {
	local name=$1 output status=0
	shift
	output=$("$@" </dev/null 2>&1) || status=$?
	if ((status == 0)); then
		ktap_ok "$name"
	else
		ktap_not_ok "$name" "command: $*" "exit status: $status" "$output"
	fi
}

ktap_finish() {
	if [[ -z $KTAP_PLANNED ]]; then
		echo "1..$KTAP_COUNT"
	elif ((KTAP_PLANNED != KTAP_COUNT)); then
		ktap_diag "planned $KTAP_PLANNED tests but ran $KTAP_COUNT"
		return 1
	fi
	((KTAP_FAILED == 0))
}
