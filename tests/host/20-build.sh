#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host suite: the module builds for every supported kernel with W=1 and
# sparse without a single warning, is checkpatch clean, and keeps all
# kernel-version knowledge in kernel/compat.h.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/ktap.sh

ktap_start build

checkpatch=/usr/src/linux-source-6.1/scripts/checkpatch.pl
if [ ! -f "$checkpatch" ] && [ -f /usr/src/linux-source-6.1.tar.xz ]; then
	tar -C /usr/src -xJf /usr/src/linux-source-6.1.tar.xz \
		linux-source-6.1/scripts linux-source-6.1/Documentation 2>/dev/null
fi

# The build itself ran in tests/run (make modules-all); here we judge it.
for series in $(tools/kernels.sh list); do
	rel=$(tools/kernels.sh release "$series")
	out=build/kmod/$rel
	ktap_check "$series: vnvme.ko built for $rel" test -s "$out/vnvme.ko"
	ktap_check "$series: vnvme.ko is newer than every source file" \
		sh -c "! find kernel -newer $out/vnvme.ko -name '*.[ch]' | grep -q ."
	ktap_check "$series: vermagic matches $rel" sh -c "modinfo -F vermagic $out/vnvme.ko | grep -q '^$rel '"
	ktap_check "$series: W=1 and sparse report no warning" \
		sh -c "! grep -iE 'warning|error' $out/build.log"
done

ktap_check "no kernel version checks outside compat.h" \
	sh -c "! grep -n 'LINUX_VERSION_CODE\|KERNEL_VERSION' kernel/*.c kernel/*.h | grep -v '^kernel/compat.h:'"
ktap_check "no use of linux/nvme.h (own NVMe constants)" sh -c "! grep -n 'linux/nvme.h' kernel/*.[ch]"

if [ -f "$checkpatch" ]; then
	for f in kernel/*.c kernel/*.h; do
		ignore=
		# compat.h is where version comparisons are meant to be.
		[ "$f" = kernel/compat.h ] && ignore="--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON"
		# shellcheck disable=SC2086
		ktap_check "checkpatch clean: $f" perl "$checkpatch" --no-tree -q --terse $ignore -f "$f"
	done
else
	ktap_skip "checkpatch" "linux-source-6.1 is not installed (tools/deps.sh installs it)"
fi
ktap_finish
