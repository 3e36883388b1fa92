# SPDX-License-Identifier: GPL-2.0
# Run one KTAP suite with a time limit and keep its output; shared by tests/run (host
# suites) and tests/l1/run-in-vm (suites inside a VM). Sourced.
# shellcheck shell=bash

# Seconds a suite may take: its own "# vnvme-timeout: N" line, else the default; times
# VNVME_SUITE_TIMEOUT_FACTOR (default 1: a slow kernel such as tools/debug-kernel's).
suite_timeout() {
	local file=$1 default=$2 value
	value=$(sed -n 's/^# vnvme-timeout: *\([0-9][0-9]*\) *$/\1/p' "$file" | sed -n 1p)
	echo $((${value:-$default} * ${VNVME_SUITE_TIMEOUT_FACTOR:-1}))
}

# Output files of a suite: DIR/<name>.ktap (stdout+stderr) and DIR/<name>.rc (exit status).
suite_base() {
	local base
	base=$(basename -- "$1")
	echo "${base%.sh}"
}

# Run SUITE, streaming its output to stdout and into OUTDIR; 124 in .rc means timed out.
# The suite's limit is its own or DEFAULT_TIMEOUT, at most MAX_TIMEOUT if given.
suite_run() {
	local suite=$1 outdir=$2 default_timeout=$3 max_timeout=${4:-} base limit status=0
	base=$(suite_base "$suite")
	limit=$(suite_timeout "$suite" "$default_timeout")
	[[ -z $max_timeout ]] || ((limit <= max_timeout)) || limit=$max_timeout
	mkdir -p -- "$outdir"
	rm -f -- "$outdir/$base.rc"
	timeout -k 10 "$limit" "$suite" </dev/null 2>&1 | tee "$outdir/$base.ktap" || status=${PIPESTATUS[0]}
	((status == 137)) && status=124
	((status == 124)) && echo "# vnvme: suite $base timed out after ${limit}s" | tee -a "$outdir/$base.ktap"
	echo "$status" >"$outdir/$base.rc"
	return 0
}
