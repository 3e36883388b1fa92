#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# First-level half of the benchmark, run by in-vm.sh: every job of tools/bench.d/jobs on
# null_blk device 0, in rounds that alternate between
#   vnvme-trapped-irq    the tools/vfio client, doorbells written through the trapped
#                        region, completions waited for on the MSI-X eventfds;
#   vnvme-mapped-polled  the same client writing doorbells straight into the mapped
#                        doorbell page and polling its completion queues (SPDK-style);
#   vnvme-mapped-polled-bounce  the same with zero-copy off: data through bounce buffers;
#   io_uring             fio on the backing device;
#   io_uring-hipri       fio polled (hipri), where null_blk has poll queues.
# Usage: l1.sh UUID ROUNDS SECONDS   (records go to $BENCH_RECORDS)
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=tools/bench.d/lib.sh
source "$here/lib.sh"
uuid=$1 rounds=$2 seconds=$3
dev=/sys/bus/mdev/devices/$uuid
client=$here/../vfio/vnvme-vfio
backing=/dev/nullb0

configs=(vnvme-trapped-irq vnvme-mapped-polled vnvme-mapped-polled-bounce io_uring)
if [[ $(cat /sys/block/nullb0/queue/io_poll 2>/dev/null) == 1 ]]; then
	configs+=(io_uring-hipri)
else
	echo "# io_uring-hipri not run: null_blk has no poll queues on $(uname -r)"
fi

# run_client MODE ZERO_COPY RW BS QD QUEUES -> "iops p50 p99 cpu_us_per_io"
run_client() {
	local mode=$1 json client_args=()
	echo "$mode" > "$dev/vnvme/doorbell_mode"
	echo "$2" > "$dev/vnvme/zero_copy"
	shift 2
	case $mode in
	trapped) client_args=(--irq) ;;
	mapped) client_args=(--doorbells mapped) ;;
	esac
	json=$("$client" --json "${client_args[@]}" "$uuid" bench 1 --rw "$1" --bs "$2" \
		--qd "$3" --queues "$4" --seconds "$seconds")
	python3 - "$json" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
if r["status"] != 0:
    sys.exit(f'client status {r["status"]}')
lat = r["lat_us"]
print(f'{r["iops"]:.0f} {lat["p50"]:.1f} {lat["p99"]:.1f} {r["cpu"]["host_us_per_io"]:.2f}')
PY
}

# run_fio RW BS QD QUEUES [FIO OPTION...] -> "iops p50 p99 cpu_us_per_io"
run_fio() {
	local b0 b1 tmp
	tmp=$(mktemp)
	b0=$(busy_jiffies)
	fio_job "$1" "$2" "$3" "$4" "$seconds" "$backing" "${@:5}" > "$tmp"
	b1=$(busy_jiffies)
	fio_summary "$tmp" $((b1 - b0))
	rm -f -- "$tmp"
}

for ((round = 1; round <= rounds; round++)); do
	while read -r job rw bs qd queues; do
		while read -r config; do
			r=
			case $config in
			vnvme-trapped-irq) r=$(run_client trapped 1 "$rw" "$bs" "$qd" "$queues") ;;
			vnvme-mapped-polled) r=$(run_client mapped 1 "$rw" "$bs" "$qd" "$queues") ;;
			vnvme-mapped-polled-bounce) r=$(run_client mapped 0 "$rw" "$bs" "$qd" "$queues") ;;
			io_uring) r=$(run_fio "$rw" "$bs" "$qd" "$queues") ;;
			io_uring-hipri) r=$(run_fio "$rw" "$bs" "$qd" "$queues" --hipri) ;;
			esac || true	# a failed job is reported below, the rounds go on
			if [[ -z $r ]]; then
				echo "# round $round $job $config: FAILED (no result; not recorded)"
				continue
			fi
			read -r iops p50 p99 cpu <<< "$r"
			bench_record l1 "$job" "$config" "$round" "$iops" "$p50" "$p99" "$cpu"
			echo "# round $round $job $config: $iops IOPS, p50 $p50 us, p99 $p99 us, $cpu us CPU/IO"
		done < <(rotate "$round" "${configs[@]}")
	done < "$BENCH_JOBS"
done
