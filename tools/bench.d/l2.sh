#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested benchmark, L2 guest: the same fio jobs on the vnvme controller and
# on QEMU's emulated one; JSON results go to $VNVME_OUT for the L1 side.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${VNVME_OUT:?}
seconds=${VNVME_BENCH_SECONDS:-5}
modprobe nvme
for _ in $(seq 1 240); do
	[ -b /dev/nvme0n1 ] && [ -b /dev/nvme1n1 ] && break
	sleep 0.5
done
# Tell the controllers apart by model: the probe order is not fixed.
for c in /sys/class/nvme/nvme*; do
	case $(cat "$c/model") in
	vnvme*) vnvme=/dev/${c##*/}n1 ;;
	QEMU*) qemu=/dev/${c##*/}n1 ;;
	esac
done
echo "vnvme at ${vnvme:?no vnvme controller}, QEMU nvme at ${qemu:?no QEMU nvme controller}"
while read -r name rw bs qd; do
	for target in vnvme qemu; do
		fio --name=b --filename="${!target}" --ioengine=io_uring --direct=1 --rw="$rw" \
			--bs="$bs" --iodepth="$qd" --time_based --runtime="$seconds" \
			--output-format=json > "$out/$target-$name.json"
	done
done < tools/bench.d/jobs
