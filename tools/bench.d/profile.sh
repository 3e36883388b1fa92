#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where one benchmark job spends the first-level VM's CPU: perf (cpu-clock, every CPU,
# call graphs) over one job of tools/bench.d/jobs in each configuration given, then the
# top symbols per thread. Run it in a first-level VM:
#   tools/vm/run --kernel 6.1 --smp 2 -- tools/bench.d/profile.sh JOB CONFIG...
# e.g. JOB 4k-randread-qd1, CONFIG vnvme-mapped-polled, vnvme-trapped-irq or io_uring;
# VNVME_PROFILE_SECONDS (default 5) is how long perf samples each.
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
cd "$here/../.."
job=${1:?JOB} seconds=${VNVME_PROFILE_SECONDS:-5}
shift
(($#)) || { echo "usage: profile.sh JOB CONFIG..." >&2; exit 2; }
read -r _ rw bs qd queues < <(awk -v j="$job" '$1 == j' tools/bench.d/jobs)
[[ -n ${rw:-} ]] || { echo "no job $job in tools/bench.d/jobs" >&2; exit 2; }
# shellcheck source=tools/bench.d/setup.sh
source tools/bench.d/setup.sh
uuid=$(new_instance nullb0)
dev=/sys/bus/mdev/devices/$uuid
# shellcheck source=tools/bench.d/lib.sh
source tools/bench.d/lib.sh
for config in "$@"; do
	client=(tools/vfio/vnvme-vfio --json)
	case $config in
	vnvme-trapped-irq) echo trapped > "$dev/vnvme/doorbell_mode"; client+=(--irq) ;;
	vnvme-mapped-polled) echo mapped > "$dev/vnvme/doorbell_mode"; client+=(--doorbells mapped) ;;
	io_uring) ;;
	*) echo "CONFIG: vnvme-trapped-irq, vnvme-mapped-polled or io_uring" >&2; exit 2 ;;
	esac
	data=$(mktemp)
	# The job runs in the background; perf samples every CPU for the middle of it.
	if [[ $config == io_uring ]]; then
		fio_job "$rw" "$bs" "$qd" "$queues" "$((seconds + 2))" /dev/nullb0 > "$data.out" &
	else
		"${client[@]}" "$uuid" bench 1 --rw "$rw" --bs "$bs" --qd "$qd" --queues "$queues" \
			--seconds "$((seconds + 2))" > "$data.out" &
	fi
	job_pid=$!
	sleep 1
	perf record -q -e cpu-clock -a -g -o "$data" -- sleep "$seconds"
	wait "$job_pid"
	echo "# the job: $(head -c 300 "$data.out")"
	echo "# $job $config on $(uname -r), $(nproc) vCPUs: share of all CPU samples"
	perf report -i "$data" --no-children --sort comm,dso,sym --percent-limit 1.5 --stdio 2>/dev/null |
		grep -v '^$' | grep -v '^# *$' | grep -E '^ +[0-9]|^# (Samples|Event)' | head -40
	echo "# poller: $(tr '\n' ' ' < "$dev/vnvme/doorbell_poller")"
	rm -f -- "$data" "$data.out"
done
