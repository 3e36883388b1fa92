#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where one benchmark job spends the first-level VM's time, in each configuration given.
# Run it in a first-level VM (tools/profile does: it installs perf and bpftrace first):
#   tools/vm/run --kernel 6.1 --smp 2 -- tools/bench.d/profile.sh [--perf] JOB CONFIG...
# e.g. JOB 4k-randread-qd1, CONFIG vnvme-mapped-polled, vnvme-trapped-irq, io_uring, or
# vnvme-trapped-irq-shadow (the client with shadow doorbells, as Linux drives the device);
# VNVME_PROFILE_SECONDS (default 5) is how long each job runs.
#
# The default is a stage profile with bpftrace: for each function of the data path
# (vnvme's, vfio's, the block layer's and null_blk's entry), its calls and its inclusive
# time per I/O, and each thread's time on a CPU per I/O (from sched_switch). It works
# under TCG, where perf's cpu-clock samples land in the idle loop (--perf: call graphs
# from perf, useful on a KVM host). The I/Os are null_blk's requests in the window, so
# every configuration is counted the same way. The probes cost time themselves: compare
# shares within a run, and the job's IOPS under the probes is printed with it.
set -euo pipefail
here=$(cd -- "$(dirname -- "$0")" && pwd)
cd "$here/../.."
mode=stages
[[ ${1:-} == --perf ]] && { mode=perf; shift; }
job=${1:?JOB} seconds=${VNVME_PROFILE_SECONDS:-5}
shift
(($#)) || { echo "usage: profile.sh [--perf] JOB CONFIG..." >&2; exit 2; }
read -r _ rw bs qd queues < <(awk -v j="$job" '$1 == j' tools/bench.d/jobs)
[[ -n ${rw:-} ]] || { echo "no job $job in tools/bench.d/jobs" >&2; exit 2; }
# shellcheck source=tools/bench.d/setup.sh
source tools/bench.d/setup.sh
uuid=$(new_instance nullb0)
dev=/sys/bus/mdev/devices/$uuid
# shellcheck source=tools/bench.d/lib.sh
source tools/bench.d/lib.sh

# The data path, in the order a command takes it. Functions the compiler inlined have no
# probe point: they are left out (and named) rather than failing the run.
stage_functions=(
	vnvme_dbpage_fault vnvme_dbpage_scan vnvme_doorbell_write vnvme_sq_work vnvme_sq_fetch
	vnvme_io_exec vnvme_req_map_bio_data vnvme_pincache_get vnvme_req_map_data
	vnvme_req_copy_data vnvme_ring_read vnvme_ring_write vnvme_guest_read vfio_dma_rw
	vfio_pin_pages submit_bio null_queue_rq vnvme_io_end_bio vnvme_req_complete
	vnvme_cq_post vnvme_irq_signal eventfd_signal vnvme_cq_work
	__x64_sys_write __x64_sys_pwrite64 __x64_sys_io_uring_enter __x64_sys_ioctl
)

# stages_program FUNCTION... -> a bpftrace program: inclusive time and calls per function
# (a per-thread start stamp per function; recursion would count the outer call only),
# on-CPU time per thread name, while the job runs.
stages_program() {
	local f
	for f in "$@"; do
		printf 'kprobe:%s { @t_%s[tid] = nsecs; }\n' "$f" "$f"
		printf 'kretprobe:%s /@t_%s[tid]/ { @ns["%s"] = sum(nsecs - @t_%s[tid]); ' "$f" "$f" "$f" "$f"
		printf '@calls["%s"] = count(); delete(@t_%s[tid]); }\n' "$f" "$f"
	done
	cat <<BT
tracepoint:sched:sched_switch {
	if (@on[args->prev_pid]) { @oncpu[args->prev_comm] = sum(nsecs - @on[args->prev_pid]); }
	delete(@on[args->prev_pid]);
	if (args->next_pid) { @on[args->next_pid] = nsecs; }
}
END {
BT
	for f in "$@"; do
		printf '\tclear(@t_%s);\n' "$f"
	done
	printf '\tclear(@on);\n}\n'
}

# stages_report BPFTRACE_OUTPUT -> the table per I/O
stages_report() {
	python3 - "$1" <<'PY'
import re, sys
maps = {}
for line in open(sys.argv[1]):
    m = re.match(r'@(\w+)\[(.*)\]: (\d+)$', line.strip())
    if m:
        maps.setdefault(m[1], {})[m[2].strip('"')] = int(m[3])
ios = maps.get("calls", {}).get("null_queue_rq", 0)
if not ios:
    sys.exit("no null_blk request in the window: nothing to divide by")
print(f"# {ios} I/Os (null_blk requests) in the window")
print(f"# {'function':28} {'calls/IO':>9} {'ns/call':>9} {'us/IO':>8}  (inclusive)")
for f, n in sorted(maps.get("calls", {}).items(), key=lambda kv: -maps["ns"].get(kv[0], 0)):
    ns = maps["ns"].get(f, 0)
    print(f"  {f:28} {n / ios:9.2f} {ns / n:9.0f} {ns / ios / 1e3:8.2f}")
print(f"# {'thread':28} {'us on CPU per I/O':>18}")
for c, ns in sorted(maps.get("oncpu", {}).items(), key=lambda kv: -kv[1])[:12]:
    print(f"  {c:28} {ns / ios / 1e3:18.2f}")
PY
}

probed=()
if [[ $mode == stages ]]; then
	# bpftrace reads tracepoint formats from tracefs; the VM's init mounts only what it needs.
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	# Its clang parse of tracepoint arguments needs the kernel's headers, which Debian
	# splits into the flavour's build tree and a common source tree.
	headers=/usr/src/linux-headers-$(uname -r)
	if [[ -d $headers ]]; then
		export BPFTRACE_KERNEL_BUILD=$headers
		export BPFTRACE_KERNEL_SOURCE=${headers%-*}-common
		[[ -d $BPFTRACE_KERNEL_SOURCE ]] || BPFTRACE_KERNEL_SOURCE=$headers
	fi
	for f in "${stage_functions[@]}"; do
		if grep -qE "^[0-9a-f]+ [tT] $f([[:space:]]|$)" /proc/kallsyms; then
			probed+=("$f")
		else
			echo "# no probe point for $f (inlined or absent on $(uname -r))"
		fi
	done
fi

for config in "$@"; do
	client=(tools/vfio/vnvme-vfio --json)
	case $config in
	vnvme-trapped-irq) echo trapped > "$dev/vnvme/doorbell_mode"; client+=(--irq) ;;
	vnvme-trapped-irq-shadow)
		echo trapped > "$dev/vnvme/doorbell_mode"
		client+=(--irq --shadow-doorbells)
		;;
	vnvme-mapped-polled) echo mapped > "$dev/vnvme/doorbell_mode"; client+=(--doorbells mapped) ;;
	io_uring) ;;
	*)
		echo "CONFIG: vnvme-trapped-irq[-shadow], vnvme-mapped-polled or io_uring" >&2
		exit 2
		;;
	esac
	data=$(mktemp)
	if [[ $config == io_uring ]]; then
		printf 'source tools/bench.d/lib.sh\nfio_job %s %s %s %s %s /dev/nullb0\n' \
			"$rw" "$bs" "$qd" "$queues" "$seconds" > "$data.job"
	else
		printf '%q ' "${client[@]}" "$uuid" bench 1 --rw "$rw" --bs "$bs" --qd "$qd" \
			--queues "$queues" --seconds "$seconds" > "$data.job"
	fi
	if [[ $mode == perf ]]; then
		bash "$data.job" > "$data.out" &
		job_pid=$!
		sleep 1
		perf record -q -e cpu-clock -a -g -o "$data" -- sleep "$((seconds > 3 ? seconds - 2 : 1))"
		wait "$job_pid"
	else
		# bpftrace attaches every probe, then runs the job (-c) and detaches after it:
		# no probe is patched into code that I/O is running through (under TCG that
		# crashed null_blk's queue_rq once).
		stages_program "${probed[@]}" > "$data.bt"
		bpftrace -o "$data" -c "/bin/bash $data.job" "$data.bt" > "$data.out" ||
			{ cat "$data" "$data.out"; exit 1; }
	fi
	echo "# the job: $(head -c 300 "$data.out")"
	echo "# $job $config on $(uname -r), $(nproc) vCPUs ($mode)"
	if [[ $mode == perf ]]; then
		echo "# share of all CPU samples"
		perf report -i "$data" --no-children --sort comm,dso,sym --percent-limit 1.5 --stdio 2>/dev/null |
			grep -v '^$' | grep -v '^# *$' | grep -E '^ +[0-9]|^# (Samples|Event)' | head -40
	else
		stages_report "$data"
	fi
	echo "# poller: $(tr '\n' ' ' < "$dev/vnvme/doorbell_poller")"
	rm -f -- "$data" "$data.out" "$data.bt" "$data.job"
done
