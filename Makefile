# SPDX-License-Identifier: GPL-2.0
#
# wdmdma: the Windows scatter/gather DMA contract for Linux drivers.
# `make help` lists the targets.

KERNEL_DIR ?= /lib/modules/$(shell uname -r)/build
SERIES ?= 6.1 7.3
QEMU ?= 7.2
DEVICE ?= edu

.PHONY: all modules check run bench kernels qemu clean help

# The project's version: dkms.conf's PACKAGE_VERSION, read from there.
WDMDMA_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\([^"]*\)"$$/\1/p' $(CURDIR)/dkms.conf)

all: modules

## modules: build wdmdma.ko, edublk.ko and the KUnit modules against KERNEL_DIR (W=1)
modules:
	$(MAKE) -C $(KERNEL_DIR) M=$(CURDIR) W=1 modules

## check: the test command: builds, static checks and KUnit/integration runs on 6.1 and 7.3 (Debian 6.1 + 6.12 kernels: builds and loads)
check:
	WDMDMA_SERIES="$(SERIES)" WDMDMA_QEMU_VERSIONS="$(QEMU)" scripts/check.sh

## run: the main job: boot a guest with the edu device (DEVICE=edu-sg: edu-sg), load the modules, move data through DMA
run:
	WDMDMA_RUN_DEVICE="$(DEVICE)" scripts/run.sh

## bench: fio on edublk (every mode) vs brd and null_blk, mapping microbenchmark, pressure; writes docs/benchmarks.md
bench:
	scripts/bench.sh

# bench-micro: only the mapping microbenchmark (WDMDMA_BENCH_ROUNDS rounds,
# default 3; WDMDMA_BENCH_ICOUNT=1: in guest instructions, see
# scripts/bench.sh), in its own guest; prints its table, writes
# $WDMDMA_CACHE/bench-micro-<date>.json, leaves docs/ alone (listed by
# `make help` below: the help pattern takes no '-' in a name)
.PHONY: bench-micro
bench-micro:
	scripts/bench.sh --micro

# bench-io: the guest instructions a 4k random read costs, by configuration
# (brd; edublk per mode, coalesced, polled, 8 submitted at a time), under
# QEMU's -icount: exact whatever the host runs (scripts/bench-io.sh)
.PHONY: bench-io
bench-io:
	scripts/bench-io.sh

# --- Installing (issue 14) --------------------------------------------------
# `make install` builds wdmdma.ko and edublk.ko alone (WDMDMA_TESTS=n, see
# Kbuild) against KERNEL_DIR and installs them into
# $(INSTALL_MOD_PATH)/lib/modules/<release>/$(INSTALL_MOD_DIR), then the
# headers into $(DESTDIR)$(PREFIX)/include/wdmdma and Module.symvers into
# $(DESTDIR)$(PREFIX)/lib/wdmdma/<release>, for other out-of-tree modules
# (KBUILD_EXTRA_SYMBOLS). DESTDIR defaults to INSTALL_MOD_PATH, so one
# variable stages everything; depmod runs only when nothing is staged.
# <release> is the one KERNEL_DIR builds for (its UTS_RELEASE: Debian 6.1's
# `make kernelrelease` prints another).
PREFIX ?= /usr/local
INSTALL_MOD_PATH ?=
INSTALL_MOD_DIR ?= updates
DESTDIR ?= $(INSTALL_MOD_PATH)
KERNEL_RELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
		   $(KERNEL_DIR)/include/generated/utsrelease.h 2>/dev/null)
# Kbuild signs modules at modules_install if the kernel says so
# (CONFIG_MODULE_SIG_ALL); Debian's headers come without the private key,
# so signing is turned off there rather than failing with a message per
# module (DKMS signs with its own key).
SIG_KEY = $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' \
	    $(KERNEL_DIR)/include/config/auto.conf 2>/dev/null)
SIG_KEY_FILE = $(if $(filter /%,$(SIG_KEY)),$(SIG_KEY),$(KERNEL_DIR)/$(SIG_KEY))
NO_SIGN = $(if $(SIG_KEY),$(if $(filter pkcs11:%,$(SIG_KEY))$(wildcard $(SIG_KEY_FILE)),,CONFIG_MODULE_SIG_ALL=))
# Kbuild keeps the path below M=: .../updates/src/wdmdma/wdmdma.ko
WDMDMA_MOD_DIR = $(INSTALL_MOD_PATH)/lib/modules/$(KERNEL_RELEASE)/$(INSTALL_MOD_DIR)
WDMDMA_HDR_DIR = $(DESTDIR)$(PREFIX)/include/wdmdma
WDMDMA_SYMVERS_DIR = $(DESTDIR)$(PREFIX)/lib/wdmdma/$(KERNEL_RELEASE)

.PHONY: install uninstall

## install: wdmdma.ko + edublk.ko for KERNEL_DIR (INSTALL_MOD_PATH), headers and Module.symvers under PREFIX
install:
	@test -n "$(KERNEL_RELEASE)" || { echo "no kernel headers at $(KERNEL_DIR)"; exit 1; }
	$(MAKE) -C $(KERNEL_DIR) M=$(CURDIR) WDMDMA_TESTS=n modules
	$(MAKE) -C $(KERNEL_DIR) M=$(CURDIR) WDMDMA_TESTS=n \
		KERNELRELEASE=$(KERNEL_RELEASE) INSTALL_MOD_PATH=$(INSTALL_MOD_PATH) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) $(NO_SIGN) modules_install
	install -d $(WDMDMA_HDR_DIR) $(WDMDMA_SYMVERS_DIR)
	install -m 644 include/wdmdma/wdmdma.h include/wdmdma/ntdma.h $(WDMDMA_HDR_DIR)/
	install -m 644 Module.symvers $(WDMDMA_SYMVERS_DIR)/
	$(if $(INSTALL_MOD_PATH),,depmod -a $(KERNEL_RELEASE))

## uninstall: remove what `make install` installed for KERNEL_DIR's release
uninstall:
	@test -n "$(KERNEL_RELEASE)" || { echo "no kernel headers at $(KERNEL_DIR)"; exit 1; }
	rm -f $(WDMDMA_MOD_DIR)/src/wdmdma/wdmdma.ko* $(WDMDMA_MOD_DIR)/src/edublk/edublk.ko*
	rm -f $(WDMDMA_HDR_DIR)/wdmdma.h $(WDMDMA_HDR_DIR)/ntdma.h \
		$(WDMDMA_SYMVERS_DIR)/Module.symvers
	for d in $(WDMDMA_MOD_DIR)/src/wdmdma $(WDMDMA_MOD_DIR)/src/edublk $(WDMDMA_MOD_DIR)/src \
		 $(WDMDMA_MOD_DIR) $(WDMDMA_HDR_DIR) $(WDMDMA_SYMVERS_DIR) $(DESTDIR)$(PREFIX)/lib/wdmdma; do \
		[ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done
	$(if $(INSTALL_MOD_PATH),,depmod -a $(KERNEL_RELEASE))

# dkms-install: register wdmdma $(WDMDMA_VERSION) with DKMS, build and install it
# for every kernel with headers (dkms-remove: undo); listed by `make help`
# below, as bench-micro is
dkms-install:
	scripts/dkms.sh install

dkms-remove:
	scripts/dkms.sh remove

.PHONY: dkms-install dkms-remove

## docs: render Documentation/ as HTML with Sphinx (warnings are errors) into Documentation/output
docs:
	scripts/docs.sh

# (docs/ is a directory: the benchmark report)
.PHONY: docs

## kernels: build (or reuse from the cache) the test kernels for SERIES
kernels:
	for s in $(SERIES); do scripts/build-kernel.sh $$s || exit 1; done

## clean: remove build products from the tree (the kernel cache stays)
clean:
	$(MAKE) -C $(KERNEL_DIR) M=$(CURDIR) clean 2>/dev/null || \
		find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \
		-o -name 'Module.symvers' -o -name 'modules.order' \) -delete

## help: this list
help:
	@echo "Targets:"
	@sed -n 's/^## \([a-z]*\): /  \1\t/p' $(MAKEFILE_LIST) | expand -t 12
	@echo "  bench-micro only the mapping microbenchmark, in its own guest (a few min); prints its table"
	@echo "  bench-io    guest instructions per 4k read by edublk configuration and brd, under -icount (3 min)"
	@echo "  dkms-install register wdmdma $(WDMDMA_VERSION) with DKMS (dkms.conf), build and install it for every kernel with headers"
	@echo "  dkms-remove  take wdmdma $(WDMDMA_VERSION) out of DKMS and /usr/src"
	@echo "Variables: KERNEL_DIR (modules, clean), SERIES (check, kernels; default '$(SERIES)'),"
	@echo "           QEMU (check: QEMU versions for edu-sg, 7.2 and/or 10.0; default '$(QEMU)'),"
	@echo "           DEVICE (run: edu or edu-sg; default edu),"
	@echo "           SUITE (check: run only the named guest groups), WDMDMA_CACHE (cache dir)"
	@echo "           PREFIX, INSTALL_MOD_PATH, INSTALL_MOD_DIR, DESTDIR (install; see the Makefile)"
