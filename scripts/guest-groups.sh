# SPDX-License-Identifier: GPL-2.0
# Guest test groups, sourced by scripts/check.sh once per kernel series.
# guest_group SERIES NAME "run-guest.sh options" GUEST-SCRIPT "expected suites"

# Every KUnit suite: the stock edu device, and wdmdma on a platform device.
# 1 GiB of RAM so that pages above a 28-bit mask exist.
guest_group "$series" kunit "--mem 1G --smp 2 --timeout 900" kunit.sh \
	"edu wdmdma_calc wdmdma_build wdmdma_get wdmdma_bounce wdmdma_ex wdmdma_destroy wdmdma_stress wdmdma_nt"

# The edu-sg device model driven directly from the guest (QEMU built with it).
if [ -n "${qemu_sg:-}" ]; then
	guest_group "$series" edusg "--qemu $qemu_sg --no-edu --device edu-sg --mem 512M --timeout 600" \
		"kunit.sh edusg_test" "edusg"
else
	fail "$series/edusg: not run, QEMU with edu-sg did not build"
fi
