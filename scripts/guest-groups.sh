# SPDX-License-Identifier: GPL-2.0
# Guest test groups, sourced by scripts/check.sh once per kernel series.
# guest_group SERIES NAME "run-guest.sh options" "GUEST-SCRIPT [ARGS]
# [; GUEST-SCRIPT [ARGS]]..." "expected suites" (see check.sh). Several
# scripts share a boot where the machine is the same: each boot costs its
# start and the kmemleak scan at its end.

# The KUnit suites of wdmdma (platform test devices, and wdmdma_iommu on
# the stock edu device); "edu" is the edu device's own suite.
wdmdma_suites="wdmdma_calc wdmdma_build wdmdma_get wdmdma_bounce wdmdma_ex
	wdmdma_destroy wdmdma_stress wdmdma_lifecycle wdmdma_progress wdmdma_nt
	wdmdma_nt_ex wdmdma_iommu wdmdma_fast wdmdma_common wdmdma_info
	wdmdma_packet"

# The samples' suites (samples/*.c, modules *_test.ko like the KUnit ones):
# Windows DMA patterns on a platform test device, run with the rest.
sample_suites="sample_netadapter_ring sample_kmdf_sg_txn sample_ndis_send"

# Where edublk and the KUnit suites share a boot, edublk goes first: the
# suites use the edu device without a driver, and the MSI data the edu
# suite's interrupt vector leaves on it (device-managed) makes a later
# driver probe fail.

# Newest series: every group. Older ones: the groups whose code differs by
# kernel version (src/compat.h: the block layer's setup, quiesce, flush/FUA,
# mapping helpers; the library's workqueue and exports) or whose driver
# behaviour the issues ask for on every kernel: every KUnit suite with the
# verifier on, the IOMMU suites, and edublk on edu-sg (faults, ext4,
# removal, resets). The rest (verifier off, bouncing in a 4 GiB guest, the
# stock edu under -icount) runs on the newest only: each boot costs its
# start and two kmemleak scans (5 s each on 7.3, 10-17 s on 6.1).
newest=0
[ "$series" = "$WDMDMA_NEWEST_SERIES" ] && newest=1

# pc machine, no IOMMU, 512 MiB of RAM so that pages above a 28-bit mask
# exist. edublk on the stock edu: insmod/rmmod twice, rmmod refused while
# open, bad parameters, a lost completion interrupt ending the request with
# an error, a mapping error ending a waiting request, the INTx fallback.
# Then every KUnit suite and sample, the wdmdma verifier on (wdmdma_iommu:
# pages above 2^28 bounce through map registers).
guest_group "$series" kunit "--mem 512M --smp 2 --timeout 1200" \
	"edublk-load.sh ; kunit.sh wdmdma_iommu_test.expect=none" \
	"edu $wdmdma_suites $sample_suites"

# q35 with intel-iommu, the edu device in a translating DMA domain:
# edublk's whole-disk fio verify behind the IOMMU, then wdmdma_iommu with
# expect=translate (nothing bounces; a one-element adapter gets a
# discontiguous buffer as one IOVA range) and a few quick suites.
# The whole-disk verify runs on the newest series only, with one vCPU under
# -icount (each stock-edu DMA is 100 ms: about 130 s of real time without
# it); the IOMMU suites run on every series (with 2 vCPUs and no -icount
# on the others: 6.1 hangs booting a second vCPU under -icount).
iommu_verify=""
iommu_opts="--smp 2"
if [ $newest -eq 1 ]; then
	iommu_verify="edublk-verify.sh ; "
	iommu_opts="--smp 1 --qemu-arg -icount --qemu-arg shift=0,sleep=off"
fi
guest_group "$series" kunit-iommu "--iommu --mem 512M $iommu_opts --host-root --timeout 1200" \
	"${iommu_verify}kunit.sh wdmdma_iommu_test.expect=translate edu_test
	 wdmdma_iommu_test wdmdma_build_test wdmdma_get_test wdmdma_nt_test" \
	"edu wdmdma_iommu wdmdma_build wdmdma_get wdmdma_nt"

# q35 with intel-iommu and iommu=pt, the edu device in an identity domain:
# wdmdma_iommu with expect=identity (the device's width still matters:
# pages above 2^28 bounce), and every suite and sample with the wdmdma
# verifier off (the one boot where Put and the rest run without it).
if [ $newest -eq 1 ]; then
	guest_group "$series" kunit-pt "--iommu --append iommu=pt --mem 512M --smp 2 --timeout 1200" \
		"kunit.sh wdmdma.verifier=0 wdmdma_iommu_test.expect=identity" \
		"edu $wdmdma_suites $sample_suites"
fi

# edublk on edu-sg (scripts/guest/edusg-blk.sh says what each checks).
if [ -n "${qemu_sg:-}" ]; then
	sg="--qemu $qemu_sg --no-edu --smp 2"
	# A 48 MiB file medium for the ext4 checks: made here (edusg-faults),
	# checked by the next QEMU on the same file (edusg-blk).
	fs_img=$run_dir/edusg-fs-$series.img
	fs_dev="edu-sg,file=$fs_img,size=48M,addr=0x10"
	# Faults, one boot: a device with 4 KiB elements (first: the device
	# model's own KUnit suite, last in the boot, takes the first edu-sg and
	# needs its fault registers read-only), a plain device (made to fail
	# commands, drop completions, halt a queue, stop completing), a 6 s
	# latency (and 512 KiB elements, to tell it from the plain one once its
	# latency is set back to 0). x-fault-regs: the guest may write the
	# device's fault registers. A fourth device, in the last slot, has the
	# file medium: ext4 is made on it after the faults.
	rm -f "$fs_img"
	guest_group "$series" edusg-faults \
		"$sg --device edu-sg,max_elem_len=4096 --device edu-sg,x-fault-regs=on --device edu-sg,latency_ns=6000000000,max_elem_len=524288,x-fault-regs=on --device $fs_dev,create=on --mem 512M --host-root --timeout 1500" \
		"edusg-blk.sh faults ; edusg-blk.sh fs-make ; kunit.sh edusg_test" "edusg"
	# x-fault-regs: the removal checks make the device vanish and add bad
	# completions. --monitor and id=sg0: device_del and device_add from
	# QEMU's monitor (the guest asks for them on its console). First the
	# ext4 made by edusg-faults, if it ran (its device is then parked).
	fs_opt="" fs_check=""
	if suite_wanted edusg-faults; then
		if [ -f "$fs_img" ] && grep -q 'wdmdma-check: ok fs: unmount again' \
			"$run_dir/guest-$series-edusg-faults.log"; then
			fs_opt="--device $fs_dev"
			fs_check="edusg-blk.sh fs-check ; "
		else
			fail "$series/edusg-blk: no ext4 made by edusg-faults: its next-boot checks not run"
		fi
	fi
	guest_group "$series" edusg-blk "$sg --monitor --device edu-sg,id=sg0,queues=2,x-fault-regs=on $fs_opt --mem 512M --host-root --timeout 1500" \
		"${fs_check}edusg-blk.sh verify" ""
	# 4 GiB on the pc machine: 3 GiB below 4 GiB, 1 GiB above it, where
	# user pages (fio's buffers) are taken from first. On every series the
	# KUnit suites bounce pages above a 28-bit reach.
	if [ $newest -eq 1 ]; then
		guest_group "$series" edusg-bounce "$sg --device edu-sg,dma_bits=32 --mem 4G --host-root --timeout 1500" \
			"edusg-blk.sh bounce" ""
	fi
else
	fail "$series/edusg: not run, QEMU with edu-sg did not build"
fi

# edublk on the stock edu device, under -icount (the edu's 100 ms virtual
# DMAs then cost little wall time) with one vCPU: 6.1 hangs booting a
# second one under -icount. (edublk-load runs in the kunit boot, the
# verify behind the IOMMU in kunit-iommu.)
# fio crc32c verify in the reserve, pdu and get modes, each also with 100%
# allocation-failure injection: no I/O error, emergency/reserve hits
# counted; then, in the same boot, the whole-disk verify with fio's buffers
# above the 28-bit reach: lists bounce, requests wait for map registers.
# The newest series only (about 5 min): on the others the same modes
# run with failure injection on edu-sg (edusg-blk), and the edu backend
# moves data in the edublk-load checks; its code has no version
# differences beyond those (timer_container_of()).
if [ $newest -eq 1 ]; then
	guest_group "$series" edublk \
		"--mem 1G --smp 1 --host-root --qemu-arg -icount --qemu-arg shift=0,sleep=off --timeout 1200" \
		"edublk-modes.sh ; edublk-verify.sh" ""
fi
