# SPDX-License-Identifier: GPL-2.0
#
# vnvme top-level build.
#
#   make                 kernel/vnvme.ko for the running kernel (or KVER= / KDIR=)
#   make modules-all     vnvme.ko for every supported kernel, W=1 and sparse,
#                        into build/kmod/<release>/ (installs headers if missing)
#   make userspace       tools/vfio, userspace/ (when present)
#   make install         vnvme.ko into /lib/modules/$(KVER)/updates (depmod), vnvmectl,
#                        vnvmed, man pages, systemd unit, udev rule, examples; DESTDIR, PREFIX
#   make dkms-source     the DKMS source tree into $(DESTDIR)/usr/src/vnvme-$(VERSION)
#   make deb             vnvme-dkms and vnvme-utils .debs into build/deb (packaging/deb)
#   make check           the full test suite (tests/run)
#   make demo            the demo (tools/demo)
#   make bench           vnvme vs io_uring, QEMU nvme, virtio-blk in rounds (tools/bench)
#   make clean

VERSION := 1.0
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
SHELL := /bin/bash
REPO := $(CURDIR)
SERIES := $(shell $(REPO)/tools/kernels.sh list 2>/dev/null || echo "6.1 6.12")
# Extra kbuild flags for modules-all: warnings are errors of the test suite.
STRICT := W=1 C=1 CHECK="sparse -Wno-decl"

.PHONY: all module mdev-check modules-all userspace test-prereqs check demo bench clean \
	clean-module install install-module install-userspace install-examples dkms-source deb

all: module

module: mdev-check
	$(MAKE) -C $(KDIR) M=$(REPO)/kernel modules

# Headers without CONFIG_VFIO_MDEV (Debian's -cloud-amd64 flavour) cannot build vnvme:
# say so instead of failing on a missing symbol. DKMS builds through this target too.
mdev-check:
	@conf=$(KDIR)/include/config/auto.conf; [ -f $$conf ] || conf=$(KDIR)/.config; \
	if [ ! -f $(KDIR)/Makefile ]; then \
		echo "vnvme: no kernel headers in $(KDIR) (install linux-headers-$(KVER))" >&2; exit 1; \
	elif [ -f $$conf ] && ! grep -qE '^CONFIG_VFIO_MDEV=[ym]' $$conf; then \
		echo "vnvme: the kernel in $(KDIR) has no mdev support (CONFIG_VFIO_MDEV is not set in $$conf);" \
			"vnvme needs a kernel with CONFIG_VFIO_MDEV, such as Debian's generic flavour, not -cloud-amd64" >&2; \
		exit 1; \
	fi

clean-module:
	-$(MAKE) -C $(KDIR) M=$(REPO)/kernel clean

# Each kernel gets its own copy of the sources so objects never mix.
modules-all:
	@set -eo pipefail; for s in $(SERIES); do \
		rel=$$($(REPO)/tools/kernels.sh release $$s); \
		kdir=$$($(REPO)/tools/kernels.sh kdir $$s); \
		out=$(REPO)/build/kmod/$$rel; \
		mkdir -p $$out/src $$out/include; \
		cp $(REPO)/kernel/*.c $(REPO)/kernel/*.h $(REPO)/kernel/Kbuild $$out/src/; \
		cp -r $(REPO)/include/uapi $$out/include/; \
		echo "== vnvme.ko for $$rel"; \
		$(MAKE) -s -C $$kdir M=$$out/src $(STRICT) modules 2>&1 | tee $$out/build.log; \
		cp $$out/src/vnvme.ko $$out/vnvme.ko; \
	done

userspace:
	$(MAKE) -C tools/vfio
	@if [ -f userspace/Makefile ]; then $(MAKE) -C userspace; fi

# Everything the test suites run: modules for every kernel and the tools.
test-prereqs: modules-all userspace

# Installation: the module for $(KVER) (depmod unless staged into DESTDIR), the tools,
# their man pages, unit and udev rule (userspace/Makefile), and the module-loading examples.
PREFIX ?= /usr/local
DOCDIR ?= $(PREFIX)/share/doc/vnvme
MODDIR ?= /lib/modules/$(KVER)/updates

install: install-module install-userspace install-examples

install-module: module
	install -D -m 0644 kernel/vnvme.ko $(DESTDIR)$(MODDIR)/vnvme.ko
	@if [ -z "$(DESTDIR)" ]; then echo "depmod $(KVER)"; depmod $(KVER); \
	else echo "staged into DESTDIR: run 'depmod $(KVER)' where it is installed"; fi

install-userspace:
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

install-examples:
	install -D -m 0644 packaging/modules-load.d/vnvme.conf $(DESTDIR)$(DOCDIR)/examples/modules-load.d/vnvme.conf
	install -D -m 0644 packaging/modprobe.d/vnvme.conf $(DESTDIR)$(DOCDIR)/examples/modprobe.d/vnvme.conf

# What dkms builds from: this Makefile, the module's sources and the netlink ABI header.
DKMS_SRC ?= /usr/src/vnvme-$(VERSION)
dkms-source:
	install -D -m 0644 Makefile $(DESTDIR)$(DKMS_SRC)/Makefile
	install -D -m 0644 -t $(DESTDIR)$(DKMS_SRC)/kernel kernel/Kbuild kernel/*.c kernel/*.h
	install -D -m 0644 -t $(DESTDIR)$(DKMS_SRC)/include/uapi include/uapi/*.h
	sed 's/@VERSION@/$(VERSION)/' packaging/dkms.conf >$(DESTDIR)$(DKMS_SRC)/dkms.conf
	chmod 0644 $(DESTDIR)$(DKMS_SRC)/dkms.conf

# Debian packages, built by Debian's tools (debhelper, dh-dkms) from a copy of the tree.
deb:
	packaging/deb

check:
	tests/run

demo:
	tools/demo

bench:
	tools/bench

clean:
	-$(MAKE) -C $(KDIR) M=$(REPO)/kernel clean 2>/dev/null
	rm -rf build/kmod
	-$(MAKE) -C tools/vfio clean
	@if [ -f userspace/Makefile ]; then $(MAKE) -C userspace clean; fi
