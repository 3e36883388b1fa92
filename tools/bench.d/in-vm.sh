#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The benchmark's one first-level VM boot (tools/bench starts it): null_blk devices 0-3,
# two vnvme instances, the first-level rounds (l1.sh), then the nested rounds (nested.sh).
# Records go to $VNVME_OUT/records.tsv, the machine's description to $VNVME_OUT/machine.
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
cd "$here/../.."
rounds=${VNVME_BENCH_ROUNDS:-3}
seconds=${VNVME_BENCH_SECONDS:-5}
export BENCH_RECORDS=${VNVME_OUT:?}/records.tsv
: > "$BENCH_RECORDS"

# shellcheck source=tools/bench.d/setup.sh
source tools/bench.d/setup.sh
first=$(new_instance nullb0)
second=$(new_instance nullb3)

{
	echo "kernel $(uname -r); $(nproc) vCPUs, $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB"
	echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "rounds $rounds; ${seconds} s per job; null_blk irqmode=0 bs=512"
} > "$VNVME_OUT/machine"

tools/bench.d/l1.sh "$first" "$rounds" "$seconds"
if [[ ${VNVME_BENCH_NESTED:-1} == 1 ]]; then
	tools/bench.d/nested.sh "$first" "$second" "$rounds" "$seconds"
fi
for uuid in "$first" "$second"; do
	echo 1 > "/sys/bus/mdev/devices/$uuid/remove"
done
rmmod vnvme
