#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The fio crc32c verify in each of edublk's three list-memory modes, first
# as is, then with wdmdma's allocation-failure injection at 100%:
#   reserve - kmalloc'ed Build buffers; under injection every request needs
#             the single emergency buffer, and the others wait for it;
#   pdu     - Build buffers in the request PDUs: injection changes nothing;
#   get     - wdmdma_get_sg_list(); under injection, lists come from the
#             library's reserve and requests wait in its queue.
# Every run must end without an I/O error and with the data intact.
# Needs --host-root (fio runs through hostrun).
cd /tests && . ./edublk-lib.sh

# verify_run NAME OFFSET: 64 KiB sequential and 512 B..16 KiB random, both
# at queue depth 16, over 256 KiB from OFFSET; about 330 edu DMAs.
verify_run() {
	run_fio_verify "$1" <<JOB

[seq-64k]
rw=write
bs=64k
offset=$2
size=128k

[rand-512-16k]
rw=randwrite
bsrange=512-16k
blockalign=512
mem_align=512
offset=$(($2 + 131072))
size=128k
JOB
	expect_eq "$1: data read back" "$(fio_sum read)" 262144
}

load_wdmdma || { not_ok "modes: insmod wdmdma"; edublk_finish; }

for mode in reserve pdu get; do
	check "$mode: allocation-failure injection off" fail_alloc 0
	if ! load_edublk mode=$mode capacity_mb=1; then
		not_ok "$mode: insmod edublk mode=$mode"
		continue
	fi
	verify_run "$mode: fio verify" 0
	case $mode in
	reserve)
		expect_gt "$mode: Build buffers from kmalloc" "$(edublk_stat reserve_allocs)" 0 ;;
	pdu)
		expect_gt "$mode: lists built in PDU buffers" "$(wdmdma_stat built)" 0
		expect_eq "$mode: no allocation at all" \
			"$(edublk_stat reserve_allocs)/$(wdmdma_stat allocated)" 0/0 ;;
	get)
		expect_gt "$mode: lists allocated by wdmdma" "$(wdmdma_stat allocated)" 0 ;;
	esac

	check "$mode: allocation-failure injection at 100%" fail_alloc 100
	verify_run "$mode: fio verify, allocations failing" 524288
	check "$mode: allocation-failure injection back off" fail_alloc 0
	case $mode in
	reserve)
		expect_gt "$mode: allocation failures seen" "$(edublk_stat reserve_alloc_fails)" 0
		expect_gt "$mode: emergency buffer used" "$(edublk_stat emergency_hits)" 0
		expect_gt "$mode: requests waited for the emergency buffer" \
			"$(edublk_stat emergency_waits)" 0 ;;
	pdu)
		expect_eq "$mode: still no allocation" \
			"$(edublk_stat reserve_allocs)/$(wdmdma_stat allocated)" 0/0 ;;
	get)
		expect_gt "$mode: lists from wdmdma's reserve" "$(wdmdma_stat reserve)" 0
		expect_gt "$mode: requests waited in wdmdma's queue" "$(wdmdma_stat deferred)" 0 ;;
	esac
	expect_eq "$mode: no I/O errors" "$(edublk_stat errors)" 0
	expect_eq "$mode: no verifier errors" "$(wdmdma_stat verifier_errors)" 0
	dump_stats
	check "$mode: rmmod edublk" rmmod edublk
done

check "modes: unload" unload_all
edublk_finish
