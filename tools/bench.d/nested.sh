#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Nested half of the benchmark, run in the first-level VM by in-vm.sh: one L2 guest (same
# kernel, inbox drivers) sees four disks, each on a null_blk device of its own, and runs
# every job of tools/bench.d/jobs on each, in rounds that alternate between them (l2.sh):
#   vnvme-mapped   a vnvme instance with its doorbell page mapped into the guest (vfio-pci);
#   vnvme-trapped  a vnvme instance with trapped doorbells (vfio-pci);
#   qemu-nvme      QEMU's emulated NVMe controller, aio=native, ioeventfd=on (QEMU's nvme
#                  has no iothread property, up to 10.0);
#   virtio-blk     virtio-blk-pci with an iothread, aio=native.
# The CPU of a job is this VM's busy time while the job runs, seen through marker files
# the guest writes (a sampler here polls them every 0.1 s): QEMU's threads, vnvme's
# pollers and workers are all counted.
# Usage: nested.sh MAPPED_UUID TRAPPED_UUID ROUNDS SECONDS   (records to $BENCH_RECORDS)
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=tools/bench.d/lib.sh
source "$here/lib.sh"
mapped=/sys/bus/mdev/devices/$1 trapped=/sys/bus/mdev/devices/$2 rounds=$3 seconds=$4
out=$(mktemp -d)

echo mapped > "$mapped/vnvme/doorbell_mode"
echo trapped > "$trapped/vnvme/doorbell_mode"
echo bench-mapped > "$mapped/vnvme/serial"
echo bench-trapped > "$trapped/vnvme/serial"

# Busy jiffies at the moment each marker appears: NAME.start when a job starts,
# NAME.end when it has ended; NAME.cpu gets the difference.
python3 - "$out" <<'PY' &
import os, sys, time
out = sys.argv[1]
def busy():
    f = open("/proc/stat").readline().split()
    return sum(int(f[i]) for i in (1, 2, 3, 6, 7))
started, ended = {}, set()
while not os.path.exists(os.path.join(out, "l2-finished")):
    for name in os.listdir(out):
        base, ext = os.path.splitext(name)
        if ext == ".start" and base not in started:
            started[base] = busy()
        elif ext == ".end" and base not in ended and base in started:
            with open(os.path.join(out, base + ".cpu"), "w") as f:
                f.write(f"{busy() - started[base]}\n")
            ended.add(base)
    time.sleep(0.1)
PY
sampler=$!

status=0
VNVME_BENCH_ROUNDS=$rounds VNVME_BENCH_SECONDS=$seconds \
	"$here/../vm/run" --kernel "$(uname -r)" --smp 2 --mem 1024 --timeout 5400 --out "$out" \
	--qemu-arg -device --qemu-arg "vfio-pci,sysfsdev=$mapped" \
	--qemu-arg -device --qemu-arg "vfio-pci,sysfsdev=$trapped" \
	--qemu-arg -drive --qemu-arg "file=/dev/nullb1,if=none,id=qnvme,format=raw,cache=none,aio=native" \
	--qemu-arg -device --qemu-arg "nvme,serial=bench-qemu-nvme,drive=qnvme,ioeventfd=on" \
	--qemu-arg -object --qemu-arg iothread,id=vblkio \
	--qemu-arg -drive --qemu-arg "file=/dev/nullb2,if=none,id=vblk,format=raw,cache=none,aio=native" \
	--qemu-arg -device --qemu-arg "virtio-blk-pci,drive=vblk,iothread=vblkio,serial=bench-virtio" \
	-- "$here/l2.sh" > "$out/l2-console.log" 2>&1 || status=$?
touch "$out/l2-finished"
wait "$sampler" || true
if ((status)); then
	echo "the nested guest failed (status $status); last console lines:" >&2
	tail -20 "$out/l2-console.log" >&2
	exit 1
fi

recorded=0
for json in "$out"/round-*.json; do
	[[ -e $json ]] || continue
	while read -r name; do	# ROUND@JOB@TARGET
		IFS=@ read -r round job target <<< "$name"
		read -r iops p50 p99 cpu < <(fio_summary "$json" \
			"$(cat "$out/$name.cpu" 2>/dev/null || echo 0)" "$name")
		bench_record nested "$job" "$target" "$round" "$iops" "$p50" "$p99" "$cpu"
		recorded=$((recorded + 1))
	done < <(fio_jobnames "$json")
done
echo "# nested: $recorded jobs recorded;" \
	"shadow doorbells in use: mapped $(cat "$mapped/vnvme/shadow_doorbells")," \
	"trapped $(cat "$trapped/vnvme/shadow_doorbells")"
rm -rf -- "$out"
