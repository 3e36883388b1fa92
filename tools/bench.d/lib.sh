#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Helpers shared by the benchmark's first-level (l1.sh) and nested (nested.sh) halves.
# A result is one tab-separated record appended to $BENCH_RECORDS:
#   section job config round iops p50_us p99_us cpu_us_per_io
# report.py turns the records into the tables (median and spread over the rounds).

# The job list: "name rw bs qd queues" per line.
export BENCH_JOBS
BENCH_JOBS=$(dirname -- "${BASH_SOURCE[0]}")/jobs

# Busy jiffies of the whole machine (user+nice+system+irq+softirq): the CPU every
# configuration costs, its pollers, kworkers and QEMU threads included.
busy_jiffies() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

bench_record() {
	local IFS=$'\t'
	echo "$*" >> "${BENCH_RECORDS:?}"
}

# The configurations of a round, rotated by the round number, so that no
# configuration always runs first (after a quiet machine) or last.
rotate() {
	local round=$1
	shift
	local list=("$@") n=$#
	local i
	for ((i = 0; i < n; i++)); do
		echo "${list[(i + round) % n]}"
	done
}

# fio_job RW BS QD QUEUES SECONDS FILE [FIO OPTION...] -> fio's JSON of one job on FILE,
# one fio process per queue
fio_job() {
	# A job that hangs is killed a minute after its time and reported as failed.
	timeout "$(($5 + 60))" fio --name=b --ioengine=io_uring --direct=1 --rw="$1" --bs="$2" --iodepth="$3" \
		--numjobs="$4" --group_reporting --time_based --runtime="$5" --filename="$6" \
		--output-format=json "${@:7}"
}

# fio_summary JSON_FILE JIFFIES [JOBNAME] -> "iops p50_us p99_us cpu_us_per_io" from
# fio's JSON, of the job (reporting group) JOBNAME or else of the first
fio_summary() {
	python3 - "$1" "$2" "$(getconf CLK_TCK)" "${3-}" <<'PY'
import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
j = next((j for j in jobs if j["jobname"] == sys.argv[4]), jobs[0])
jiffies, hz = float(sys.argv[2]), float(sys.argv[3])
d = j["write"] if j["write"]["total_ios"] else j["read"]
pct = d["clat_ns"].get("percentile", {})
ios = max(d["total_ios"], 1)
print(f'{d["iops"]:.0f} {pct.get("50.000000", 0) / 1e3:.1f} '
      f'{pct.get("99.000000", 0) / 1e3:.1f} {jiffies / hz * 1e6 / ios:.2f}')
PY
}

# fio_jobnames JSON_FILE -> the names of the jobs (reporting groups) that ran without error
fio_jobnames() {
	python3 -c 'import json, sys
for j in json.load(open(sys.argv[1]))["jobs"]:
    if not j["error"]:
        print(j["jobname"])' "$1"
}
