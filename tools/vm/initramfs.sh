# SPDX-License-Identifier: GPL-2.0
# Build the busybox initramfs used by tools/vm/run; sourced after tools/lib/common.sh.
# shellcheck shell=bash

VM_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

# What /init needs to mount the host's file systems: virtio-pci, 9p over virtio, overlayfs;
# and virtio-rng, so the guest's RNG is ready at boot rather than minutes later in the
# middle of a test (see qemu_command in tools/vm/run).
VM_BASE_MODULES=(virtio_pci 9pnet_virtio 9p overlay virtio_rng)

# Print module paths of MODULES and their dependencies, dependencies first, each once.
# Built-in modules print as "builtin NAME" and are left out.
initramfs_module_paths() {
	local kernel_dir=$1 release=$2
	shift 2
	modprobe -d "$kernel_dir" -S "$release" -a --show-depends -- "$@" |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# Copy modules (decompressed: busybox insmod can't read .ko.xz, which 6.12 ships) into
# STAGE/modules and list them, in load order, in STAGE/modules/ORDER.
initramfs_add_modules() {
	local stage=$1 kernel_dir=$2 release=$3 order=$4 path name paths=()
	shift 4
	mkdir -p "$stage/modules"
	: >"$stage/modules/$order"
	# A module modprobe cannot resolve must stop the build, not leave it out.
	lines_of paths initramfs_module_paths "$kernel_dir" "$release" "$@" ||
		die "cannot resolve modules $* for $release"
	for path in "${paths[@]}"; do
		name=$(basename -- "$path")
		case $name in
		*.ko.xz) name=${name%.xz}; xz -dc -- "$path" >"$stage/modules/$name" ;;
		*.ko.zst) name=${name%.zst}; zstd -qdc -- "$path" >"$stage/modules/$name" ;;
		*.ko) cp -- "$path" "$stage/modules/$name" ;;
		*) die "unexpected module file $path" ;;
		esac
		echo "$name" >>"$stage/modules/$order"
	done
}

# What /init needs for tools/vm/run --upper: the upper layer on an ext4 virtio disk.
VM_UPPER_MODULES=(virtio_blk ext4)

# Pack a staging dir as a gzip'd newc cpio (the format the kernel unpacks).
initramfs_pack() {
	(cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet --owner=0:0) | gzip -9n >"$2"
}

# Inputs that change the image: rebuild the cache entry when any of them changes.
initramfs_fingerprint() {
	cat -- "$VM_DIR/init" "${BASH_SOURCE[0]}" /bin/busybox | sha256sum | cut -d' ' -f1
}

initramfs_build() {
	local release=$1 kernel_dir=$2 out=$3 stage
	stage=$(mktemp -d "$out.stage.XXXXXX")
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,vnvme}
	cp /bin/busybox "$stage/bin/busybox"
	install -m 0755 "$VM_DIR/init" "$stage/init"
	initramfs_add_modules "$stage" "$kernel_dir" "$release" base.order "${VM_BASE_MODULES[@]}"
	initramfs_pack "$stage" "$out.tmp"
	rm -rf -- "$stage"
	mv -- "$out.tmp" "$out"
}

initramfs_is_current() {
	[[ -f $1 && $(cat -- "$1.fingerprint" 2>/dev/null) == "$2" ]]
}

# Checked again under the lock: a concurrent run may have just built it.
initramfs_build_if_stale() {
	local release=$1 kernel_dir=$2 out=$3 fingerprint=$4
	initramfs_is_current "$out" "$fingerprint" && return 0
	initramfs_build "$release" "$kernel_dir" "$out"
	echo "$fingerprint" >"$out.fingerprint"
}

# Print the cached initramfs of RELEASE, (re)building it when missing or out of date.
initramfs_cached() {
	local release=$1 kernel_dir=$2 out=$VNVME_CACHE/initramfs/$1.cpio.gz fingerprint
	fingerprint=$(initramfs_fingerprint)
	if ! initramfs_is_current "$out" "$fingerprint"; then
		mkdir -p -- "$(dirname -- "$out")"
		with_lock "$out.lock" initramfs_build_if_stale "$release" "$kernel_dir" "$out" "$fingerprint"
	fi
	echo "$out"
}

# Print an initramfs for --initrd-only: the cached one plus a second archive holding the
# guest script, the job, the SCRIPT to run and any extra modules (the kernel unpacks
# concatenated archives in order).
initramfs_with_script() {
	local base=$1 kernel_dir=$2 release=$3 job=$4 script=$5 out=$6 stage
	shift 6
	stage=$(mktemp -d "$out.stage.XXXXXX")
	mkdir -p "$stage/vnvme"
	cp -- "$VM_DIR/guest.sh" "$stage/vnvme/guest.sh"
	cp -- "$job" "$stage/vnvme/job.sh"
	install -m 0755 -- "$script" "$stage/vnvme/script"
	(($#)) && initramfs_add_modules "$stage" "$kernel_dir" "$release" extra.order "$@"
	initramfs_pack "$stage" "$out.extra"
	cat -- "$base" "$out.extra" >"$out"
	rm -rf -- "$stage" "$out.extra"
}

# Print the cached second archive for --upper (VM_UPPER_MODULES, loaded by /init from
# modules/upper.order), (re)building it when missing or out of date.
initramfs_upper_build() {
	local release=$1 kernel_dir=$2 out=$3 fingerprint=$4 stage
	initramfs_is_current "$out" "$fingerprint" && return 0
	stage=$(mktemp -d "$out.stage.XXXXXX")
	initramfs_add_modules "$stage" "$kernel_dir" "$release" upper.order "${VM_UPPER_MODULES[@]}"
	initramfs_pack "$stage" "$out.tmp"
	rm -rf -- "$stage"
	mv -- "$out.tmp" "$out"
	echo "$fingerprint" >"$out.fingerprint"
}

initramfs_upper_cached() {
	local release=$1 kernel_dir=$2 out=$VNVME_CACHE/initramfs/$1-upper.cpio.gz fingerprint
	fingerprint=$(initramfs_fingerprint)
	if ! initramfs_is_current "$out" "$fingerprint"; then
		mkdir -p -- "$(dirname -- "$out")"
		with_lock "$out.lock" initramfs_upper_build "$release" "$kernel_dir" "$out" "$fingerprint"
	fi
	echo "$out"
}
