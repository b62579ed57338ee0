#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# edublk on the edu-sg device. One scenario per guest, named by $1; each
# guest has the device set up for it (scripts/guest-groups.sh):
#   verify  - fio crc32c verify from both vCPUs (so both hardware queues)
#             in the reserve, pdu, get and native modes, then in reserve and get
#             with wdmdma's allocation failure injection at 100%; then
#             once more on the legacy INTx line (msi=0);
#   faults  - the device fails every Nth command (fail_every): exactly the
#             failed commands end in EIO, a retry succeeds, and every block
#             reads back as written;
#   drops   - the device drops every Nth completion (drop_every): each one
#             ends its request by the blk-mq timeout (queue abort and
#             restart), readers running alongside carry on, and the data
#             reads back as written;
#   bounce  - a 32-bit device in a guest with RAM above 4 GiB: fio verify
#             while wdmdma bounces the pages the device cannot reach; then
#             mode=native with 1 MiB writes (swiotlb bounces them).
# Needs --host-root for fio (verify, bounce).
cd /tests && . ./edublk-lib.sh

BLK=65536

# sgq_stat Q FIELD: FIELD of queue Q from the "qN field value ..." lines.
sgq_stat() {
	awk -v q="q$1" -v f="$2" '$1 == q {
		for (i = 2; i < NF; i += 2) if ($i == f) { print $(i + 1); exit } }' \
		$EDUBLK_DBG/stats
}

# sgq_sum FIELD: FIELD summed over the queues.
sgq_sum() {
	awk -v f="$1" '$1 ~ /^q[0-9]+$/ {
		for (i = 2; i < NF; i += 2) if ($i == f) s += $(i + 1) }
		END { print s + 0 }' $EDUBLK_DBG/stats
}

# verify_run NAME OFFSET SIZE: two fio jobs, one pinned to each vCPU (blk-mq
# maps CPU n to hardware queue n), each writing and verifying SIZE/2 bytes
# in mixed shapes at queue depth 16.
verify_run() {
	local half=$(($3 / 2))
	run_fio_verify "$1" <<JOB
[cpu0-mixed]
size=$half
cpus_allowed=0
rw=randwrite
bsrange=512-256k
blockalign=512
mem_align=512
offset=$2

[cpu1-seq]
size=$half
cpus_allowed=1
rw=write
bs=128k
offset=$(($2 + half))
JOB
	expect_eq "$1: data read back" "$(fio_sum read)" "$3"
}

common_checks() {
	expect_eq "$1: no I/O errors" "$(edublk_stat errors)" 0
	expect_eq "$1: no device errors" "$(sgq_sum dev_errors)" 0
	expect_eq "$1: no invalid completions" "$(sgq_sum bad_cqes)" 0
	expect_eq "$1: no timeouts" "$(sgq_sum timeouts)" 0
	expect_eq "$1: no verifier errors" "$(wdmdma_stat verifier_errors)" 0
}

scenario_verify() {
	local mode
	for mode in reserve pdu get native; do
		check "$mode: allocation-failure injection off" fail_alloc 0
		if ! load_edublk mode=$mode; then
			not_ok "$mode: insmod edublk mode=$mode"
			continue
		fi
		expect_eq "$mode: MSI-X" "$(stat_of $EDUBLK_DBG/stats irq_mode)" msix
		expect_eq "$mode: 2 hardware queues" \
			"$(ls /sys/block/edublk0/mq | wc -l)" 2
		verify_run "$mode: fio verify from 2 CPUs" 0 8388608
		expect_gt "$mode: queue 0 used" "$(sgq_stat 0 completed)" 0
		expect_gt "$mode: queue 1 used" "$(sgq_stat 1 completed)" 0
		if [ $mode = native ]; then
			# The baseline maps without wdmdma; at 100% injected
			# failures it could only requeue, so no such run here.
			expect_eq "$mode: no wdmdma list at all" \
				"$(wdmdma_stat built)/$(wdmdma_stat allocated)/$(wdmdma_stat reserve)" 0/0/0
			expect_eq "$mode: never requeued" "$(edublk_stat native_requeues)" 0
		elif [ $mode != pdu ]; then
			check "$mode: allocation-failure injection at 100%" \
				fail_alloc 100
			verify_run "$mode: fio verify, allocations failing" \
				8388608 4194304
			check "$mode: allocation-failure injection back off" \
				fail_alloc 0
			if [ $mode = reserve ]; then
				expect_gt "$mode: emergency buffer used" \
					"$(edublk_stat emergency_hits)" 0
			else
				expect_gt "$mode: lists from wdmdma's reserve" \
					"$(wdmdma_stat reserve)" 0
			fi
		fi
		common_checks "$mode"
		dump_stats
		check "$mode: rmmod edublk" rmmod edublk
	done
}

# copy_blocks write|read N: write blocks 0..N-1 of the pattern file
# /tmp/pat to the disk, or read them back into /tmp/back, one 64 KiB dd
# per block (one command each), retrying a block that fails (at most 5
# times). Prints the number of failed attempts; returns non-zero if a
# block never made it.
copy_blocks() {
	local n=$2 i=0 fails=0 tries src=/tmp/pat dst=$EDUBLK_DEV flag=oflag
	if [ "$1" = read ]; then
		src=$EDUBLK_DEV dst=/tmp/back flag=iflag
		rm -f /tmp/back
	fi
	while [ $i -lt "$n" ]; do
		tries=0
		until dd if=$src of=$dst bs=$BLK count=1 skip=$i seek=$i \
			$flag=direct conv=notrunc 2>/dev/null; do
			fails=$((fails + 1))
			tries=$((tries + 1))
			[ $tries -ge 5 ] && { echo $fails; return 1; }
		done
		i=$((i + 1))
	done
	echo $fails
}

scenario_faults() {
	local n=48 wf rf
	load_edublk || { not_ok "faults: insmod edublk"; edublk_finish; }
	dd if=/dev/urandom of=/tmp/pat bs=$BLK count=$n 2>/dev/null
	wf=$(copy_blocks write $n)
	check "faults: every block written (retrying)" [ $? -eq 0 ]
	rf=$(copy_blocks read $n)
	check "faults: every block read (retrying)" [ $? -eq 0 ]
	check "faults: the data reads back as written" cmp /tmp/pat /tmp/back
	expect_gt "faults: some writes failed" "$wf" 0
	expect_gt "faults: some reads failed" "$rf" 0
	expect_eq "faults: each injected error failed exactly one request" \
		"$((wf + rf))" "$(stat_of $EDUBLK_DBG/stats dev_injected)"
	expect_eq "faults: the driver counted them" \
		"$(edublk_stat errors)" "$((wf + rf))"
	expect_eq "faults: no timeouts" "$(sgq_sum timeouts)" 0
	expect_eq "faults: no invalid completions" "$(sgq_sum bad_cqes)" 0
	dump_stats
	check "faults: unload" unload_all
}

# reader N END: read block N until the time END (date +%s), comparing it
# with the pattern; failed reads are counted, not compared. Exit status:
# 0 if every successful read matched.
reader() {
	local bad=0
	dd if=/tmp/pat of=/tmp/want$1 bs=$BLK count=1 skip=$1 2>/dev/null
	while [ "$(date +%s)" -lt "$2" ]; do
		if dd if=$EDUBLK_DEV of=/tmp/got$1 bs=$BLK count=1 skip=$1 \
			iflag=direct 2>/dev/null; then
			cmp -s /tmp/want$1 /tmp/got$1 || bad=1
		fi
	done
	return $bad
}

scenario_drops() {
	local n=16 wf rf pids="" p bad=0 end
	load_edublk || { not_ok "drops: insmod edublk"; edublk_finish; }
	dd if=/dev/urandom of=/tmp/pat bs=$BLK count=$n 2>/dev/null
	wf=$(copy_blocks write $n)
	check "drops: every block written (retrying)" [ $? -eq 0 ]
	# Four readers for 15 s: while one waits 5 s for its dropped
	# completion to time out, the others keep commands in flight (each
	# takes latency_ns), so the queue restart has commands to post again.
	end=$(($(date +%s) + 15))
	for p in 1 5 9 13; do
		reader $p $end &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || bad=1
	done
	check "drops: concurrent readers saw only good data" [ $bad -eq 0 ]
	rf=$(copy_blocks read $n)
	check "drops: every block read (retrying)" [ $? -eq 0 ]
	check "drops: the data reads back as written" cmp /tmp/pat /tmp/back
	expect_gt "drops: completions were dropped" \
		"$(stat_of $EDUBLK_DBG/stats dev_dropped)" 0
	# A command whose completion was dropped can be rescued by another
	# command's queue restart (posted again, it completes): so at most
	# one timeout per drop, and every failed request is a timeout.
	expect_gt "drops: requests timed out" "$(sgq_sum timeouts)" 0
	check "drops: no more timeouts than dropped completions" \
		[ "$(sgq_sum timeouts)" -le "$(stat_of $EDUBLK_DBG/stats dev_dropped)" ]
	expect_eq "drops: every failed request timed out" \
		"$(edublk_stat errors)" "$(sgq_sum timeouts)"
	expect_eq "drops: each timeout restarted its queue" \
		"$(sgq_sum restarts)" "$(sgq_sum timeouts)"
	expect_gt "drops: commands in flight were posted again" \
		"$(sgq_sum reposted)" 0
	expect_eq "drops: the driver counted the timeouts" \
		"$(edublk_stat timeouts)" "$(sgq_sum timeouts)"
	expect_eq "drops: no invalid completions" "$(sgq_sum bad_cqes)" 0
	expect_eq "drops: no queue given up" \
		"$(grep -c 'dead 1' $EDUBLK_DBG/stats)" 0
	echo "edusg-drops: $wf failed writes, $rf failed reads"
	dump_stats
	check "drops: unload" unload_all
}

scenario_bounce() {
	load_edublk || { not_ok "bounce: insmod edublk"; edublk_finish; }
	expect_eq "bounce: the device reaches 32 bits" "$(edublk_stat dma_bits)" 32
	verify_run "bounce: fio verify" 0 8388608
	expect_gt "bounce: pages bounced through map registers" \
		"$(wdmdma_stat bounced)" 0
	common_checks bounce
	dump_stats
	check "bounce: unload" unload_all

	# mode=native bounces through swiotlb, which maps at most
	# dma_max_mapping_size() (256 KiB) in one piece: 1 MiB writes of
	# contiguous pages must still succeed (requests are kept within it).
	if ! load_wdmdma || ! load_edublk mode=native; then
		not_ok "bounce: insmod wdmdma, edublk mode=native"
		return
	fi
	run_fio_verify "bounce: native 1 MiB writes" <<JOB
[seq-1m]
size=8m
rw=write
bs=1m
offset=0
JOB
	expect_eq "bounce: native 1 MiB writes: data read back" \
		"$(fio_sum read)" 8388608
	expect_eq "bounce: native: no I/O errors" "$(edublk_stat errors)" 0
	expect_eq "bounce: native: no timeouts" "$(sgq_sum timeouts)" 0
	check "bounce: native: unload" unload_all
}

# msi=0: one legacy INTx line for both queues, INT_STATUS names them.
scenario_intx() {
	if ! load_edublk msi=0; then
		not_ok "intx: insmod edublk msi=0"
		return
	fi
	expect_eq "intx: legacy interrupt" "$(stat_of $EDUBLK_DBG/stats irq_mode)" intx
	dd if=/dev/urandom of=/tmp/pat bs=$BLK count=32 2>/dev/null
	check "intx: write 2 MiB" dd if=/tmp/pat of=$EDUBLK_DEV bs=$BLK oflag=direct
	check "intx: read it back" dd if=$EDUBLK_DEV of=/tmp/back bs=$BLK count=32 iflag=direct
	check "intx: the data reads back as written" cmp /tmp/pat /tmp/back
	common_checks intx
	check "intx: rmmod edublk" rmmod edublk
}

load_wdmdma || { not_ok "edusg: insmod wdmdma"; edublk_finish; }
case "${1:-}" in
verify) scenario_verify; scenario_intx; check "verify: unload" unload_all ;;
faults) scenario_faults ;;
drops) scenario_drops ;;
bounce) scenario_bounce ;;
*) not_ok "edusg: scenario '${1:-}'" "want verify, faults, drops or bounce" ;;
esac
edublk_finish
