#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested benchmark, L2 guest (nested.sh boots it): the jobs of tools/bench.d/jobs on each
# disk in rounds, the order of the disks rotated every round. One fio process runs a
# whole round, its jobs one after another (stonewall): starting fio costs seconds, and up
# to a minute on a busy host, in a nested TCG guest (it maps and relocates 64 shared
# libraries), so a process per job could cost more than the jobs. Each job writes ROUND@JOB@TARGET.start before its I/O
# and ROUND@JOB@TARGET.end after it into $VNVME_OUT, where the first-level VM times them;
# round-N.json is fio's output for round N.
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=tools/bench.d/lib.sh
source "$here/lib.sh"
out=${VNVME_OUT:?}
rounds=${VNVME_BENCH_ROUNDS:-3}
seconds=${VNVME_BENCH_SECONDS:-5}
modprobe nvme
modprobe virtio_blk

# disk_by_serial SERIAL VAR: sets VAR to /dev/NAME of the NVMe namespace or virtio disk
# with that serial (bash builtins only: every program started here costs seconds).
disk_by_serial() {
	local c serial
	for c in /sys/class/nvme/nvme* /sys/block/vd*; do
		[[ -e $c/serial ]] || continue
		read -r serial < "$c/serial"
		[[ ${serial// /} == "$1" ]] || continue
		[[ $c == /sys/class/nvme/* ]] && c=${c}n1
		printf -v "$2" '%s' "/dev/${c##*/}"
		return 0
	done
	return 1
}

declare -A disk=([vnvme-mapped]=bench-mapped [vnvme-trapped]=bench-trapped
	[qemu-nvme]=bench-qemu-nvme [virtio-blk]=bench-virtio)
declare -A dev=()
for ((try = 0; try < 240; try++)); do
	missing=0
	for t in "${!disk[@]}"; do
		[[ -b ${dev[$t]:-} ]] && continue
		disk_by_serial "${disk[$t]}" "dev[$t]" && [[ -b ${dev[$t]} ]] || missing=1
	done
	((missing)) || break
	read -rt 0.5 <> <(:) || :
done
for t in "${!disk[@]}"; do
	[[ -b ${dev[$t]:-} ]] || { echo "no disk for $t (serial ${disk[$t]})" >&2; exit 1; }
	echo "$t at ${dev[$t]}"
done

targets=(vnvme-mapped vnvme-trapped qemu-nvme virtio-blk)

# round_jobs ROUND: fio's job file for one round, every job on every disk, the disks'
# order rotated by the round.
round_jobs() {
	local round=$1 job rw bs qd queues target name
	printf '%s\n' "[global]" "ioengine=io_uring" "direct=1" "time_based" "runtime=$seconds" \
		"group_reporting"
	while read -r job rw bs qd queues; do
		while read -r target; do
			name=$round@$job@$target
			printf '%s\n' "[$name]" "stonewall" "filename=${dev[$target]}" "rw=$rw" \
				"bs=$bs" "iodepth=$qd" "numjobs=$queues" \
				"exec_prerun=echo > $out/$name.start" "exec_postrun=echo > $out/$name.end"
		done < <(rotate "$round" "${targets[@]}")
	done < "$BENCH_JOBS"
}

njobs=0
while read -r _; do njobs=$((njobs + 1)); done < "$BENCH_JOBS"
for ((round = 1; round <= rounds; round++)); do
	round_jobs "$round" > "$out/round-$round.fio"
	# A job that hangs loses its round, ten minutes after the round's time.
	if ! timeout "$((njobs * ${#targets[@]} * (seconds + 5) + 600))" \
		fio --output-format=json --output="$out/round-$round.tmp" "$out/round-$round.fio"; then
		echo "round $round: fio failed or timed out (status of its jobs in round-$round.json if any)"
	fi
	[[ -e $out/round-$round.tmp ]] && mv "$out/round-$round.tmp" "$out/round-$round.json"
done
