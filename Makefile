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
# default 3), in its own guest; prints its table, writes
# $WDMDMA_CACHE/bench-micro-<date>.json, leaves docs/ alone (listed by
# `make help` below: the help pattern takes no '-' in a name)
.PHONY: bench-micro
bench-micro:
	scripts/bench.sh --micro

# dkms-install: register wdmdma $(WDMDMA_VERSION) with DKMS, build and install it
# for every kernel with headers (dkms-remove: undo); listed by `make help`
# below, as bench-micro is
dkms-install:
	scripts/dkms.sh install

dkms-remove:
	scripts/dkms.sh remove

.PHONY: dkms-install dkms-remove

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
	@echo "  dkms-install register wdmdma $(WDMDMA_VERSION) with DKMS (dkms.conf), build and install it for every kernel with headers"
	@echo "  dkms-remove  take wdmdma $(WDMDMA_VERSION) out of DKMS and /usr/src"
	@echo "Variables: KERNEL_DIR (modules, clean), SERIES (check, kernels; default '$(SERIES)'),"
	@echo "           QEMU (check: QEMU versions for edu-sg, 7.2 and/or 10.0; default '$(QEMU)'),"
	@echo "           DEVICE (run: edu or edu-sg; default edu),"
	@echo "           SUITE (check: run only the named guest groups), WDMDMA_CACHE (cache dir)"
