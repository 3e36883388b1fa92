#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested benchmark, L2 guest (nested.sh boots it): the jobs of tools/bench.d/jobs on each
# disk in rounds, the order of the disks rotated every round. Each job writes
# ROUND@JOB@TARGET.start before it starts and ROUND@JOB@TARGET.json (fio's output) when
# it ends, into $VNVME_OUT, where the first-level VM times them.
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=tools/bench.d/lib.sh
source "$here/lib.sh"
out=${VNVME_OUT:?}
rounds=${VNVME_BENCH_ROUNDS:-3}
seconds=${VNVME_BENCH_SECONDS:-5}
modprobe nvme
modprobe virtio_blk

# disk_by_serial SERIAL -> /dev/NAME of the NVMe namespace or virtio disk with that serial
disk_by_serial() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[[ -e $c/serial && $(tr -d ' ' < "$c/serial") == "$1" ]] && echo "/dev/${c##*/}n1" && return 0
	done
	for c in /sys/block/vd*; do
		[[ -e $c/serial && $(cat "$c/serial") == "$1" ]] && echo "/dev/${c##*/}" && return 0
	done
	return 1
}

declare -A disk=()
for _ in $(seq 1 240); do
	disk=()
	disk[vnvme-mapped]=$(disk_by_serial bench-mapped) || true
	disk[vnvme-trapped]=$(disk_by_serial bench-trapped) || true
	disk[qemu-nvme]=$(disk_by_serial bench-qemu-nvme) || true
	disk[virtio-blk]=$(disk_by_serial bench-virtio) || true
	missing=0
	for t in "${!disk[@]}"; do [[ -b ${disk[$t]} ]] || missing=1; done
	((missing)) || break
	sleep 0.5
done
for t in "${!disk[@]}"; do
	[[ -b ${disk[$t]} ]] || { echo "no disk for $t" >&2; exit 1; }
	echo "$t at ${disk[$t]}"
done

targets=(vnvme-mapped vnvme-trapped qemu-nvme virtio-blk)
for ((round = 1; round <= rounds; round++)); do
	while read -r job rw bs qd queues; do
		while read -r target; do
			name=$round@$job@$target
			touch "$out/$name.start"
			sleep 0.3	# the first-level sampler polls every 0.1 s
			if fio_job "$rw" "$bs" "$qd" "$queues" "$seconds" "${disk[$target]}" > "$out/$name.tmp"; then
				mv "$out/$name.tmp" "$out/$name.json"
			else
				echo "round $round $job $target: FAILED (no result; not recorded)"
				rm -f -- "$out/$name.tmp"
			fi
			sleep 0.3
		done < <(rotate "$round" "${targets[@]}")
	done < "$BENCH_JOBS"
done
