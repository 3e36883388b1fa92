# SPDX-License-Identifier: GPL-2.0
# Resolve supported Debian kernels and fetch their headers and images; sourced after
# tools/lib/common.sh and tools/lib/apt.sh.
# shellcheck shell=bash

# Release-name pattern (a sed regex) of each supported series, generic amd64 flavour only:
# the -cloud-amd64 flavour has no mdev.ko.
kernel_series_regex() {
	case $1 in
	6.1) echo '6\.1\.0-[0-9]*-amd64' ;;
	6.12) echo '6\.12\.[0-9]*+deb12-amd64' ;;
	*) return 1 ;;
	esac
}

# Resolved from apt because Debian's ABI number moves with every kernel update.
kernel_release_from_apt() {
	local regex
	regex=$(kernel_series_regex "$1")
	if [[ $1 == 6.1 ]]; then
		# The metapackage points at the current 6.1 ABI.
		apt-cache depends linux-headers-amd64 2>/dev/null |
			sed -n "s/^ *Depends: linux-headers-\($regex\)\$/\1/p" | sed -n 1p
	else
		apt-cache pkgnames "linux-headers-$1." 2>/dev/null |
			sed -n "s/^linux-headers-\($regex\)\$/\1/p" | sort -V | tail -n1
	fi
}

# Inside a VM only cached kernels can boot (no network), so resolve from the cache.
kernel_release_from_cache() {
	local regex
	regex=$(kernel_series_regex "$1")
	find "$VNVME_CACHE/kernels" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null |
		sed -n "/^$regex\$/p" | sort -V | tail -n1
}

# Print the release string for a series (6.1, 6.12), or echo a full release back.
kernel_release() {
	local want=$1 release
	case $want in
	6.1 | 6.12) ;;
	[0-9]*.*-amd64) echo "$want" && return 0 ;;
	*) die "unknown kernel '$want' (supported: ${VNVME_SERIES[*]} or a release such as 6.1.0-56-amd64)" ;;
	esac
	if in_vm; then
		release=$(kernel_release_from_cache "$want")
	else
		release=$(kernel_release_from_apt "$want")
		if [[ -z $release && $EUID == 0 ]]; then
			# A fresh machine may have empty package lists.
			apt-get -qq update </dev/null >&2
			release=$(kernel_release_from_apt "$want")
		fi
	fi
	[[ -n $release ]] || die "cannot resolve kernel series $want"
	echo "$release"
}

# Print the kbuild directory for a release, installing its headers if needed.
kernel_kdir() {
	local release=$1 dir
	for dir in "/lib/modules/$release/build" "/usr/src/linux-headers-$release"; do
		[[ -f $dir/Makefile ]] && { echo "$dir"; return 0; }
	done
	apt_ensure "linux-headers-$release"
	echo "/usr/src/linux-headers-$release"
}

# The image package: Debian names it ...-unsigned where a signed variant exists.
kernel_image_package() {
	local release=$1
	if apt_has_candidate "linux-image-$release-unsigned"; then
		echo "linux-image-$release-unsigned"
	else
		echo "linux-image-$release"
	fi
}

# Download and unpack (never install: that would run update-initramfs) a kernel image.
kernel_image_extract() {
	local release=$1 dir=$2 tmp pkg
	tmp=$(mktemp -d "$dir.tmp.XXXXXX")
	pkg=$(kernel_image_package "$release")
	(cd "$tmp" && apt-get -qq -o APT::Sandbox::User=root download -- "$pkg" </dev/null >&2) ||
		die "apt-get download $pkg failed"
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	# The package's postinst would run depmod; modprobe in the guest needs its output.
	depmod -b "$tmp/root" "$release"
	# The headers package owns the build link; tests building modules in the guest need it.
	ln -sfn "/usr/src/linux-headers-$release" "$tmp/root/lib/modules/$release/build"
	[[ -f $tmp/root/boot/vmlinuz-$release ]] || die "$pkg has no boot/vmlinuz-$release"
	kernel_pvh_image_add "$tmp/root" "$release"
	# Marks a cache entry made by this version of the code (older ones lack the vmlinux).
	touch "$tmp/root/.vnvme-complete-2"
	rm -rf -- "$dir"
	mv -- "$tmp/root" "$dir"
	rm -rf -- "$tmp"
}

# Uncompress the kernel inside a bzImage into an ELF vmlinux. QEMU boots that through PVH
# (CONFIG_PVH=y on Debian), skipping the decompressor: 3 s of every L1 boot for the xz 6.1
# image, and minutes in a nested guest. Finds the payload by the magic of Debian's two
# compressors; fails if the result isn't an ELF file.
kernel_vmlinux_extract() {
	local bzimage=$1 out=$2 magic offset
	for magic in xz:'\xFD7zXZ\x00' zstd:'\x28\xB5\x2F\xFD'; do
		offset=$(LC_ALL=C grep -m1 -obUaP "${magic#*:}" "$bzimage" | sed -n 1p | cut -d: -f1)
		[[ -n $offset ]] || continue
		# Both decoders complain about the bzImage's data after the stream: judge the output.
		tail -c "+$((offset + 1))" "$bzimage" | "${magic%%:*}" -dcq >"$out.tmp" 2>/dev/null || true
		if [[ $(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
			mv -- "$out.tmp" "$out"
			return 0
		fi
	done
	rm -f -- "$out.tmp"
	return 1
}

# Print the cache dir holding boot/vmlinuz-<release> and lib/modules/<release>/.
kernel_image_dir() {
	local release=$1 dir=$VNVME_CACHE/kernels/$1
	if [[ ! -f $dir/.vnvme-complete-2 ]]; then
		in_vm && die "kernel $release is not in $VNVME_CACHE; run 'tools/vm/run --prepare --kernel $release' on the host first"
		with_lock "$VNVME_CACHE/kernels/.lock" kernel_image_extract_once "$release" "$dir"
	fi
	echo "$dir"
}

# Add boot/vmlinux-<release> to an extracted image when the kernel can boot it (PVH).
kernel_pvh_image_add() {
	local dir=$1 release=$2
	grep -q '^CONFIG_PVH=y' "$dir/boot/config-$release" 2>/dev/null || return 0
	kernel_vmlinux_extract "$dir/boot/vmlinuz-$release" "$dir/boot/vmlinux-$release" ||
		note "no vmlinux in vmlinuz-$release; booting the compressed image"
}

# Print the kernel file QEMU should boot: the PVH vmlinux when there is one.
kernel_boot_file() {
	local dir=$1 release=$2
	if [[ -f $dir/boot/vmlinux-$release ]]; then
		echo "$dir/boot/vmlinux-$release"
	else
		echo "$dir/boot/vmlinuz-$release"
	fi
}

# Second check under the lock: another run may have extracted it while we waited.
kernel_image_extract_once() {
	[[ -f $2/.vnvme-complete-2 ]] || kernel_image_extract "$1" "$2"
}
