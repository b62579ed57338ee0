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
	# edublk on edu-sg (scripts/guest/edusg-blk.sh says what each checks).
	sg="--qemu $qemu_sg --no-edu --smp 2"
	guest_group "$series" edusg-blk "$sg --device edu-sg,queues=2 --mem 512M --host-root --timeout 900" \
		"edusg-blk.sh verify" ""
	guest_group "$series" edusg-faults "$sg --device edu-sg,fail_every=7 --timeout 600" \
		"edusg-blk.sh faults" ""
	guest_group "$series" edusg-drops \
		"$sg --device edu-sg,drop_every=7,latency_ns=20000000 --timeout 600" \
		"edusg-blk.sh drops" ""
	guest_group "$series" edusg-bounce "$sg --device edu-sg,dma_bits=32 --mem 6G --host-root --timeout 900" \
		"edusg-blk.sh bounce" ""
else
	fail "$series/edusg: not run, QEMU with edu-sg did not build"
fi

# edublk on the stock edu device. Groups with -icount (the edu's 100 ms
# virtual DMAs then cost little wall time) use one vCPU: 6.1 hangs booting
# a second one under -icount.
# insmod/rmmod twice, rmmod refused while open, bad parameters, a lost
# completion interrupt ending the request with an error, the INTx fallback.
guest_group "$series" edublk-load "--smp 2 --timeout 600" edublk-load.sh ""
# fio crc32c verify in the reserve, pdu and get modes, each also with 100%
# allocation-failure injection: no I/O error, emergency/reserve hits counted.
guest_group "$series" edublk-modes \
	"--smp 1 --host-root --qemu-arg -icount --qemu-arg shift=0,sleep=off --timeout 900" \
	edublk-modes.sh ""
# whole-disk verify with RAM above the 28-bit reach: lists bounce, requests wait.
guest_group "$series" edublk-highmem \
	"--mem 1G --smp 1 --host-root --qemu-arg -icount --qemu-arg shift=0,sleep=off --timeout 900" \
	edublk-verify.sh ""
# the same verify behind intel-iommu (q35).
guest_group "$series" edublk-iommu "--iommu --smp 2 --host-root --timeout 900" \
	edublk-verify.sh ""
