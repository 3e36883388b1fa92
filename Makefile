# SPDX-License-Identifier: GPL-2.0
#
# vnvme top-level build.
#
#   make                 kernel/vnvme.ko for the running kernel (or KVER= / KDIR=)
#   make modules-all     vnvme.ko for every supported kernel, W=1 and sparse,
#                        into build/kmod/<release>/ (installs headers if missing)
#   make userspace       tools/vfio, userspace/ (when present)
#   make check           the full test suite (tests/run)
#   make demo            the demo (tools/demo)
#   make bench           vnvme vs io_uring on the backing device (tools/bench)
#   make clean

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
SHELL := /bin/bash
REPO := $(CURDIR)
SERIES := $(shell $(REPO)/tools/kernels.sh list 2>/dev/null || echo "6.1 6.12")
# Extra kbuild flags for modules-all: warnings are errors of the test suite.
STRICT := W=1 C=1 CHECK="sparse -Wno-decl"

.PHONY: all module modules-all userspace test-prereqs check demo bench clean

all: module

module:
	$(MAKE) -C $(KDIR) M=$(REPO)/kernel modules

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
