#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# edublk on the edu-sg device. One scenario per guest, named by $1; each
# guest has the device set up for it (scripts/guest-groups.sh):
#   verify  - fio crc32c verify from both vCPUs (so both hardware queues)
#             in the reserve, pdu, get, native and native-sgt modes (the
#             native ones: which mapping path ran, by the debugfs
#             counters), then in reserve and get with wdmdma's allocation
#             failure injection at 100%; in reserve and native, the
#             write cache (FLUSH on fsync(), FUA on O_DSYNC writes) and an
#             MBR partition (edublk0p1: size, fio verify, offset on the
#             disk), discard and write zeroes; in get mode at 100% and in pdu mode with the
#             verifier off (wdmdma's lock-free path), the wdmdma and
#             edublk tracepoints on (tracefs): each event's count matches
#             the debugfs counter it stands for; then the batch checks
#             (below); then once more on the legacy INTx line (msi=0);
#             then, while fio reads at queue depth 32 on both queues:
#             the device removed through sysfs (then a rescan), unbound
#             (then bound again), its bus mastering toggled every 0.2 s:
#             fio ends with errors, the driver lets go at once, and the
#             device verifies clean afterwards; then device_del from
#             QEMU's monitor (needs run-guest.sh --monitor and the device
#             with id=sg0) under the same reads, and device_add back;
#   faults  - four devices (guest-groups.sh): one with 4 KiB elements
#             (max_elem_len), a plain one, one with a 6 s latency, and
#             the file medium fs-make uses after it; the faults are
#             switched on at run time through edublk's debugfs (dev_*):
#             edges:  the plain device stops completing while fio runs at
#                     queue depth 32 (DROP_EVERY 1): the driver escalates
#                     (queue restart, controller reset, then it gives the
#                     device up) so fio ends with errors within 60 s, later
#                     I/O fails at once, and rmmod does not wait; the slow
#                     device's commands do not time out (the timeout
#                     follows its latency); requests reach the 4 KiB device
#                     in 4 KiB elements in every mode (split by the block
#                     layer in the native ones: no DMA-API report);
#             faults: the plain device fails every 7th command: exactly
#                     the failed commands end in EIO, a retry succeeds, and
#                     every block reads back as written; then it halts a
#                     queue under fio (HALT_AFTER): the driver notices in
#                     the same interrupt, no timeout; then every mapping
#                     fails with -ENOMEM (map_enomem): a read that waits
#                     for its list ends after three timeouts, not never;
#             drops:  it drops every 7th completion: each one ends its
#                     request by the blk-mq timeout (queue abort and
#                     restart), readers running alongside carry on, and the
#                     data reads back as written; the edublk tracepoints
#                     count the posts, completions, timeouts, restarts and
#                     resets the debugfs counters do;
#   removal - the removal part of verify alone, with the function
#             resets: three (sysfs "reset") while fio writes and verifies,
#             then 12 more while a job per vCPU writes at queue depth 1
#             (each queue must go on after each reset); then the AER
#             core's recovery calls (debugfs aer_recover) three times
#             while fio writes and verifies (nothing lost), and a
#             permanent PCI error (the device given up, I/O fails at
#             once); reset - those function resets and PCI errors alone;
#             aer - the PCI errors alone;
#   discard - discard and write zeroes alone.
#   fs-make - on the disk whose device has a file medium of 48 MiB (the
#             last one): mkfs.ext4, mount, a tree of files written,
#             sync (the driver sends FLUSH), unmount, e2fsck -fn clean,
#             mount again and every file reads back as written;
#   fs-check - the same medium in a later boot (QEMU started again on the
#             same file): e2fsck -fn clean, and every file fs-make wrote
#             reads back as written; then its device is parked (no
#             driver binds it again) for the scenarios after it.
#   batch   - the end of verify alone: interrupt coalescing (edu-sg 1.3:
#             INT_COALESCE as the parameters say, at most one interrupt
#             per 2 completions with fio verify at depth 16) and doorbells
#             per batch (fio submitting 8 at a time: at most one doorbell
#             per 2 commands), also in get mode with every allocation
#             failing and 2 ms per command (lists that arrive after their
#             batch ended ring for themselves: no timeout); one of the 2
#             queues polled (poll_queues=1):
#             io_uring --hipri completes on it with no interrupt, the
#             other queue serves the rest; nothing lost;
#   bounce  - a 32-bit device in a guest with RAM above 4 GiB: fio verify
#             while wdmdma bounces the pages the device cannot reach; then
#             mode=native and native-sgt with 1 MiB writes (swiotlb
#             bounces them).
# Needs --host-root for fio (verify, faults, bounce).
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

# kernel_has_iter: is this kernel 6.17 or later, where the block layer has
# blk_rq_dma_map_iter_start() (src/compat.h decides the same by version)?
kernel_has_iter() {
	local v maj min
	v=$(uname -r)
	maj=${v%%.*}
	v=${v#*.}
	min=${v%%[!0-9]*}
	[ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "$min" -ge 17 ]; }
}

# stats_sum NAME...: the sum of the edublk stats lines NAME..., or
# "missing" if one of them is not there.
stats_sum() {
	awk -v names="$*" 'BEGIN { n = split(names, want, " ") }
		{ v[$1] = $2 }
		END {
			for (i = 1; i <= n; i++) {
				if (!(want[i] in v)) { print "missing"; exit }
				s += v[want[i]]
			}
			print s + 0
		}' $EDUBLK_DBG/stats
}

# native_path_checks MODE: which way the native modes mapped, from the
# debugfs counters. A one-segment request goes through dma_map_bvec() in
# both (512-byte direct reads make sure there are some); one of several
# segments through blk_rq_dma_map_iter_start() in mode=native on a kernel
# that has it (then never through an sg_table), through an sg_table in
# native-sgt and in native before 6.17 (then never through the iterator).
# The stats line native_map says which the driver chose; every request
# is counted by the way it was mapped.
native_path_checks() {
	local m=$1 want=sgt
	[ "$m" = native ] && kernel_has_iter && want=iter
	check "$m: four 512-byte direct reads" \
		dd if=$EDUBLK_DEV of=/dev/null bs=512 count=4 iflag=direct
	expect_eq "$m: several segments map by $want ($(uname -r))" \
		"$(edublk_stat native_map)" $want
	expect_gt "$m: one segment mapped with dma_map_bvec()" \
		"$(stats_sum native_single)" 0
	if [ $want = iter ]; then
		expect_gt "$m: several segments through the iterator" \
			"$(stats_sum native_iova native_direct)" 0
		expect_eq "$m: none through an sg_table" \
			"$(stats_sum native_sgt native_sgt_segments)" 0
	else
		expect_gt "$m: several segments through an sg_table" \
			"$(stats_sum native_sgt)" 0
		expect_eq "$m: none through the iterator" \
			"$(stats_sum native_iova native_direct native_direct_ranges)" 0
	fi
	expect_eq "$m: every request counted by the way it was mapped" \
		"$(stats_sum native_single native_sgt native_iova native_direct)" \
		"$(edublk_stat requests)"
}

# cache_checks MODE: the disk declares a volatile write cache with FUA
# (the medium may be a host file); a write and fsync() (busybox dd
# conv=fsync) reaches the device as FLUSH, O_DIRECT|O_DSYNC writes (the
# host's dd through hostrun: busybox dd has no dsync, and busybox's chroot
# runs its own applet for a bare "dd") as WRITEs with FUA,
# and the device completes them without error.
cache_checks() {
	local m=$1 before
	expect_eq "$m: write cache declared" \
		"$(cat /sys/block/edublk0/queue/write_cache)" "write back"
	expect_eq "$m: FUA declared" "$(cat /sys/block/edublk0/queue/fua)" 1
	before=$(edublk_stat flushes)
	if ! dd if=/dev/urandom of=$EDUBLK_DEV bs=4096 count=4 seek=1024 \
		conv=fsync,notrunc 2>/dev/null; then
		not_ok "$m: fsync() flushes the device" "dd conv=fsync failed"
	elif [ "$(edublk_stat flush_errors)" != 0 ]; then
		not_ok "$m: fsync() flushes the device" \
			"flush_errors is '$(edublk_stat flush_errors)'"
	else
		expect_gt "$m: fsync() flushes the device" \
			"$(edublk_stat flushes)" "$before"
	fi
	# fio's O_DIRECT writes and dd's buffered ones before carry no FUA:
	# a driver that set FUA on every write would fail here.
	expect_eq "$m: plain writes go out without FUA" \
		"$(edublk_stat fua_writes)" 0
	before=$(edublk_stat fua_writes)
	if ! host_root || ! hostrun true; then
		not_ok "$m: O_DSYNC direct writes go out with FUA" \
			"no hostrun (--host-root)"
	elif ! hostrun /usr/bin/dd if=/dev/zero of=$EDUBLK_DEV bs=4096 count=8 \
		seek=1032 oflag=direct,dsync conv=notrunc status=none; then
		not_ok "$m: O_DSYNC direct writes go out with FUA" \
			"dd oflag=direct,dsync failed"
	else
		expect_gt "$m: O_DSYNC direct writes go out with FUA" \
			"$(edublk_stat fua_writes)" "$before"
	fi
}

# le32 N: N as 4 little-endian bytes.
le32() {
	local n=$1 i=0 fmt=
	while [ $i -lt 4 ]; do
		fmt="$fmt\\$(printf %03o $((n & 255)))"
		n=$((n >> 8))
		i=$((i + 1))
	done
	# shellcheck disable=SC2059 # the octal escapes are the format
	printf "$fmt"
}

# write_mbr START SECTORS: an MBR partition table in sector 0 of the disk,
# written by hand: one Linux partition (type 0x83) of SECTORS sectors from
# LBA START, the other three entries empty, signature 0x55 0xaa.
write_mbr() {
	dd if=/dev/zero of=/tmp/mbr bs=512 count=1 2>/dev/null &&
	{ printf '\000\000\000\000\203\000\000\000'; le32 "$1"; le32 "$2"; } |
		dd of=/tmp/mbr bs=1 seek=446 conv=notrunc 2>/dev/null &&
	printf '\125\252' | dd of=/tmp/mbr bs=1 seek=510 conv=notrunc 2>/dev/null &&
	dd if=/tmp/mbr of=$EDUBLK_DEV bs=512 count=1 oflag=direct \
		conv=notrunc 2>/dev/null
}

# discard_checks MODE: discard and write zeroes (edu-sg 1.2). The queue
# advertises both; on 1 MiB of random data, blkdiscard (DISCARD), blkdiscard
# -z (BLKZEROOUT: WRITE_ZEROES that keeps the blocks) and fallocate -p
# (a punched hole: WRITE_ZEROES that may unmap) each zero exactly their
# range and leave the rest; the driver counted one of each kind it sent,
# with no error. (util-linux from the host root, by full path: busybox
# would take the names for its own, and it has no -z.)
discard_checks() {
	local m=$1 d0 z0
	expect_gt "$m: discard advertised" \
		"$(cat /sys/block/edublk0/queue/discard_max_bytes)" 0
	expect_gt "$m: write zeroes advertised" \
		"$(cat /sys/block/edublk0/queue/write_zeroes_max_bytes)" 0
	d0=$(edublk_stat discards)
	z0=$(edublk_stat write_zeroes)
	dd if=/dev/urandom of=/tmp/dpat bs=64k count=16 2>/dev/null
	cp /tmp/dpat /tmp/dwant
	check "$m: 1 MiB written" \
		dd if=/tmp/dpat of=$EDUBLK_DEV bs=64k seek=64 oflag=direct
	# Offsets from the start of that MiB (4 MiB into the disk), in 512-byte
	# sectors; the discard and the punched hole begin and end inside pages.
	check "$m: blkdiscard of 254 sectors from sector 129" \
		hostrun /usr/sbin/blkdiscard -o $((4194304 + 129 * 512)) \
		-l $((254 * 512)) $EDUBLK_DEV
	dd if=/dev/zero of=/tmp/dwant bs=512 seek=129 count=254 conv=notrunc 2>/dev/null
	check "$m: blkdiscard -z of 64 KiB" \
		hostrun /usr/sbin/blkdiscard -z -o $((4194304 + 262144)) -l 65536 $EDUBLK_DEV
	dd if=/dev/zero of=/tmp/dwant bs=64k seek=4 count=1 conv=notrunc 2>/dev/null
	check "$m: fallocate -p of 120 sectors from sector 1027" \
		hostrun /usr/bin/fallocate -p -o $((4194304 + 1027 * 512)) \
		-l $((120 * 512)) $EDUBLK_DEV
	dd if=/dev/zero of=/tmp/dwant bs=512 seek=1027 count=120 conv=notrunc 2>/dev/null
	check "$m: read back" \
		dd if=$EDUBLK_DEV of=/tmp/dgot bs=64k skip=64 count=16 iflag=direct
	check "$m: exactly those ranges read zeroes" cmp /tmp/dwant /tmp/dgot
	expect_eq "$m: one DISCARD counted" \
		$(($(edublk_stat discards) - d0)) 1
	expect_eq "$m: two WRITE_ZEROES counted" \
		$(($(edublk_stat write_zeroes) - z0)) 2
	rm -f /tmp/dpat /tmp/dwant /tmp/dgot
}

# kmsg_mark NAME: a line in the kernel log to read from (kmsg_since NAME),
# unlike a line count, right however much the log ring has wrapped.
kmsg_mark() {
	echo "edublk-test: mark $1" > /dev/kmsg
}

kmsg_since() {
	dmesg | sed -n "/edublk-test: mark $1\$/,\$p"
}

# partition_checks MODE: with an MBR of one partition from LBA 2048 to
# the end, the kernel reads the table (edublk0p1 appears, of the right
# size); fio verifies through the partition, and a block written to its
# sector 0 is sector 2048 of the whole disk. Then the table is wiped, and
# edublk0p1 goes away on the next re-read.
partition_checks() {
	local m=$1 p=${EDUBLK_DEV}p1 sys=/sys/block/edublk0/edublk0p1 want i=0
	want=2048/$(($(cat /sys/block/edublk0/size) - 2048))
	if ! write_mbr 2048 "${want#*/}"; then
		not_ok "$m: edublk0p1 from LBA 2048 to the end" "writing the MBR failed"
	elif ! blockdev --rereadpt $EDUBLK_DEV; then
		not_ok "$m: edublk0p1 from LBA 2048 to the end" "BLKRRPART failed"
	else
		while [ ! -b $p ] && [ $i -lt 20 ]; do
			i=$((i + 1))
			sleep 0.1
		done
		expect_eq "$m: edublk0p1 from LBA 2048 to the end" \
			"$(cat $sys/start 2>/dev/null)/$(cat $sys/size 2>/dev/null)" \
			"$want"
	fi
	if [ -b $p ]; then
		EDUBLK_FIO_FILE=$p
		run_fio_verify "$m: fio verify on edublk0p1" <<JOB
[p1]
size=2m
rw=randwrite
bsrange=4k-64k
JOB
		EDUBLK_FIO_FILE=
		expect_eq "$m: edublk0p1: data read back" "$(fio_sum read)" 2097152
		dd if=/dev/urandom of=/tmp/ppat bs=4096 count=1 2>/dev/null
		dd if=/tmp/ppat of=$p bs=4096 count=1 oflag=direct conv=notrunc \
			2>/dev/null
		dd if=$EDUBLK_DEV of=/tmp/pback bs=512 skip=2048 count=8 \
			iflag=direct 2>/dev/null
		check "$m: edublk0p1 sector 0 is edublk0 sector 2048" \
			cmp /tmp/ppat /tmp/pback
	else
		not_ok "$m: fio verify on edublk0p1" "no block device $p"
		not_ok "$m: edublk0p1 sector 0 is edublk0 sector 2048" \
			"no block device $p"
	fi
	# Later checks want a disk without partitions.
	dd if=/dev/zero of=$EDUBLK_DEV bs=512 count=1 oflag=direct \
		conv=notrunc 2>/dev/null
	if blockdev --rereadpt $EDUBLK_DEV; then
		check "$m: wiped table re-read: edublk0p1 gone" [ ! -e $sys ]
	else
		not_ok "$m: wiped table re-read: edublk0p1 gone" "BLKRRPART failed"
	fi
}

# trace_snap: the debugfs counters the events are checked against.
trace_snap() {
	echo "$(($(wdmdma_stat allocated) + $(wdmdma_stat reserve) + $(wdmdma_stat built)))" \
		"$(wdmdma_stat deferred) $(wdmdma_stat reserve) $(wdmdma_stat cancelled)" \
		"$(wdmdma_stat failed) $(wdmdma_stat fast) $(sgq_sum posted)" \
		"$(sgq_sum completed) $(sgq_sum timeouts) $(sgq_sum restarts)"
}

# traced_verify NAME OFFSET SIZE: verify_run with the wdmdma and edublk
# tracepoints on (tracefs); then each event count must equal the change
# of the debugfs counter it stands for: lists handed out (build + get)
# = allocated + reserve + built, puts = lists handed out, defer =
# deferred (and each deferred request ran from the queue: run = defer),
# reserve elements taken = reserve (and all released), map registers
# taken = released, cancel and fail = cancelled and failed, and on
# edu-sg posted and completed per the queues' counters. Nothing may be
# lost from the buffer. A deferral from the trace goes to the console.
traced_verify() {
	local n=$1 b a lists
	b=$(trace_snap)
	if ! trace_start; then
		not_ok "$n: tracepoints on"
		return
	fi
	verify_run "$n" "$2" "$3"
	trace_stop
	a=$(trace_snap)
	# shellcheck disable=SC2086 # word splitting is the point
	set -- $b $a
	expect_eq "$n: trace: nothing lost" "$TRACE_LOST" 0
	lists=$(trace_count wdmdma_list_build wdmdma_list_get)
	expect_gt "$n: trace: lists handed out" "$lists" 0
	expect_eq "$n: trace: build + get events = debugfs allocated + reserve + built" \
		"$lists" $((${11} - $1))
	expect_eq "$n: trace: a put event for each list" \
		"$(trace_count wdmdma_list_put)" "$lists"
	expect_eq "$n: trace: defer events = debugfs deferred" \
		"$(trace_count wdmdma_list_defer)" $((${12} - $2))
	expect_eq "$n: trace: each deferred request ran from the queue" \
		"$(trace_count wdmdma_list_run)" "$(trace_count wdmdma_list_defer)"
	expect_eq "$n: trace: reserve take events = debugfs reserve" \
		"$(trace_count wdmdma_reserve_take)" $((${13} - $3))
	expect_eq "$n: trace: every reserve element released" \
		"$(trace_count wdmdma_reserve_release)" \
		"$(trace_count wdmdma_reserve_take)"
	expect_eq "$n: trace: map registers taken = released" \
		"$(trace_count wdmdma_regs_release)" \
		"$(trace_count wdmdma_regs_take)"
	expect_eq "$n: trace: cancel/fail events = debugfs cancelled/failed" \
		"$(trace_count wdmdma_list_cancel)/$(trace_count wdmdma_list_fail)" \
		"$((${14} - $4))/$((${15} - $5))"
	expect_eq "$n: trace: post events = debugfs posted (both queues)" \
		"$(trace_count edublk_cmd_post)" $((${17} - $7))
	expect_eq "$n: trace: complete events = debugfs completed" \
		"$(trace_count edublk_cmd_complete)" $((${18} - $8))
	expect_eq "$n: trace: timeout/restart events = debugfs timeouts/restarts" \
		"$(trace_count edublk_cmd_timeout)/$(trace_count edublk_queue_restart)" \
		"$((${19} - $9))/$((${20} - ${10}))"
	TRACE_FAST=$((${16} - $6))
	TRACE_DEFERRED=$((${12} - $2))
	grep -m 1 -B 2 -A 12 ' wdmdma_list_defer: ' /tmp/trace.txt |
		sed 's/^/edublk-trace: /'
}

scenario_verify() {
	local mode
	for mode in reserve pdu get native native-sgt; do
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
		case $mode in
		native*)
			# The baselines map without wdmdma; at 100% injected
			# failures they could only requeue, so no such run here.
			expect_eq "$mode: no wdmdma list at all" \
				"$(wdmdma_stat built)/$(wdmdma_stat allocated)/$(wdmdma_stat reserve)" 0/0/0
			expect_eq "$mode: never requeued" "$(edublk_stat native_requeues)" 0
			native_path_checks $mode
			;;
		reserve|get)
			check "$mode: allocation-failure injection at 100%" \
				fail_alloc 100
			if [ $mode = get ]; then
				# Lists from the reserve (2 elements), checked
				# against the tracepoints. Each command taking
				# 2 ms, fio's 16 in flight per job must wait
				# for the reserve (without it, some runs never
				# deferred).
				check "$mode: the device takes 2 ms per command" \
					knob dev_latency_ns 2000000
				traced_verify "$mode: fio verify, allocations failing" \
					8388608 4194304
				check "$mode: ... and no time again" \
					knob dev_latency_ns 0
				expect_gt "$mode: trace: requests deferred" \
					"$TRACE_DEFERRED" 0
			else
				verify_run "$mode: fio verify, allocations failing" \
					8388608 4194304
			fi
			check "$mode: allocation-failure injection back off" \
				fail_alloc 0
			if [ $mode = reserve ]; then
				expect_gt "$mode: emergency buffer used" \
					"$(edublk_stat emergency_hits)" 0
			else
				expect_gt "$mode: lists from wdmdma's reserve" \
					"$(wdmdma_stat reserve)" 0
			fi
			;;
		esac
		# A wdmdma mode and a native one: the write cache, partitions.
		case $mode in
		reserve|native)
			cache_checks $mode
			partition_checks $mode
			discard_checks $mode
			;;
		esac
		common_checks "$mode"
		dump_stats
		check "$mode: rmmod edublk" rmmod edublk
	done
	trace_fast
	batch_checks
}

# irq_sum: the interrupts of edu-sg's per-queue vectors (all CPUs).
irq_sum() {
	awk '$NF ~ /-q[0-9]+$/ {
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i }
		END { print s + 0 }' /proc/interrupts
}

# batch_checks: interrupt coalescing (edu-sg 1.3: 8 completions or 50 ms;
# fio may take more than 1 ms to submit 8 on a KASAN kernel, and only the
# ends of its phases wait for the timer):
# fio submitting one request at a time gets about one interrupt per 8
# completions; then fio submitting 8 at a time: the driver rings the
# doorbell once a batch (blk-mq's bd->last, .commit_rqs). Nothing is lost
# either way.
batch_checks() {
	local n="batch" irqs posted completed
	if ! load_edublk mode=pdu irq_coalesce=8 irq_coalesce_us=50000; then
		not_ok "$n: insmod edublk irq_coalesce=8 irq_coalesce_us=50000"
		return
	fi
	expect_eq "$n: INT_COALESCE as the parameters say" \
		"$(stat_of $EDUBLK_DBG/stats dev_int_coalesce)" 0xc3500008
	irqs=$(irq_sum)
	completed=$(sgq_sum completed)
	run_fio_verify "$n: fio verify, coalesced interrupts" <<JOB
[coalesce]
size=4m
rw=randwrite
bs=4k
JOB
	irqs=$(($(irq_sum) - irqs))
	completed=$(($(sgq_sum completed) - completed))
	expect_gt "$n: commands completed" "$completed" 2047
	# Without coalescing: an interrupt per command, as the fio runs
	# before this one had.
	expect_gt "$n: at most one interrupt per 2 completions" \
		$((completed + 1)) $((2 * irqs))
	posted=$(sgq_sum posted)
	irqs=$(sgq_sum doorbells)
	run_fio_verify "$n: fio verify, 8 submitted at a time" <<JOB
[batch]
size=4m
offset=4m
rw=randwrite
bs=4k
iodepth_batch_submit=8
iodepth_batch_complete_min=8
JOB
	posted=$(($(sgq_sum posted) - posted))
	irqs=$(($(sgq_sum doorbells) - irqs))
	# The verify reads of adjacent blocks may merge: the writes at least.
	expect_gt "$n: commands posted in batches" "$posted" 1023
	expect_gt "$n: at most one doorbell per 2 commands" \
		$((posted + 1)) $((2 * irqs))
	common_checks "$n"
	check "$n: rmmod edublk" rmmod edublk
	batch_waits
	poll_checks
}

# batch_waits: batches in get mode with every allocation failing and the
# device taking 2 ms per command: lists come from wdmdma's 2-list reserve,
# so most requests wait for theirs and get it after their batch has ended
# (from another request's completion): each must ring for itself, or it
# waits for a timeout ("no timeouts").
batch_waits() {
	local n="batch, lists that waited"
	if ! load_edublk mode=get; then
		not_ok "$n: insmod edublk mode=get"
		return
	fi
	check "$n: allocation-failure injection at 100%" fail_alloc 100
	check "$n: the device takes 2 ms per command" \
		knob dev_latency_ns 2000000
	run_fio_verify "$n: fio verify, 8 submitted at a time" <<JOB
[batch-waits]
size=1m
rw=randwrite
bs=4k
iodepth_batch_submit=8
iodepth_batch_complete_min=8
JOB
	check "$n: ... and no time again" knob dev_latency_ns 0
	check "$n: allocation-failure injection back off" fail_alloc 0
	expect_gt "$n: lists from wdmdma's reserve" "$(wdmdma_stat reserve)" 0
	expect_gt "$n: requests waited for their lists" \
		"$(wdmdma_stat deferred)" 0
	common_checks "$n"
	check "$n: rmmod edublk" rmmod edublk
}

# poll_checks: one of the device's 2 queues polled (poll_queues=1): io_uring
# with --hipri completes through it, without an interrupt, and the other
# queue still takes its interrupts.
poll_checks() {
	local n="poll" irqs polled
	if ! load_edublk mode=pdu poll_queues=1; then
		not_ok "$n: insmod edublk poll_queues=1"
		return
	fi
	expect_eq "$n: one interrupt vector" \
		"$(grep -c -- '-q[0-9]*$' /proc/interrupts)" 1
	irqs=$(irq_sum)
	run_fio_verify "$n: fio verify, polled (io_uring --hipri)" <<JOB
[hipri]
ioengine=io_uring
hipri=1
size=4m
rw=randwrite
bs=4k
JOB
	expect_gt "$n: the polled queue completed it" "$(sgq_stat 1 completed)" \
		1023
	expect_eq "$n: ... with no interrupt" "$(($(irq_sum) - irqs))" 0
	irqs=$(sgq_stat 0 completed)
	polled=$(sgq_stat 1 completed)
	verify_run "$n: fio verify from 2 CPUs, not polled" 0 4194304
	expect_gt "$n: the other queue took that" \
		"$(($(sgq_stat 0 completed) - irqs))" 0
	expect_eq "$n: ... and the polled one none of it" \
		"$(sgq_stat 1 completed)" "$polled"
	common_checks "$n"
	check "$n: rmmod edublk" rmmod edublk
}

# trace_fast: the tracepoints of wdmdma's lock-free path: an adapter made
# with the verifier off (pdu mode: Build lists that need nothing anyone
# waits for) claims and puts every list without the lock.
trace_fast() {
	local n="fast path (verifier off)"
	check "$n: verifier off" \
		eval "echo 0 > /sys/module/wdmdma/parameters/verifier"
	if load_edublk mode=pdu; then
		traced_verify "$n: fio verify" 0 4194304
		expect_eq "$n: trace: every list on the fast path" \
			"$(trace_count wdmdma_list_build)" "$TRACE_FAST"
		expect_gt "$n: trace: lists built" "$TRACE_FAST" 0
		common_checks "$n"
		check "$n: rmmod edublk" rmmod edublk
	else
		not_ok "$n: insmod edublk mode=pdu"
	fi
	check "$n: verifier on again" \
		eval "echo 1 > /sys/module/wdmdma/parameters/verifier"
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
	plain_disk
	check "faults: the device fails every 7th command" knob dev_fail_every 7
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
	check "faults: the device's failures off again" knob dev_fail_every 0
	halt_checks
	wait_checks
	check "faults: unload" unload_all
}

# fio_reads_bg NAME DEPTH SECONDS [OPTION]: start fio in the background
# (its pid in FIO_PID) on the current disk: 4 KiB random direct reads at
# queue depth DEPTH from each vCPU (so both queues) for SECONDS, with the
# job-file line OPTION. The host root must be mounted (host_root).
fio_reads_bg() {
	cat > /host/tmp/$1.fio <<JOB
[global]
ioengine=libaio
direct=1
iodepth=$2
rw=randread
bs=4k
time_based=1
runtime=$3
disk_util=0
${4:-}

[cpu0]
cpus_allowed=0

[cpu1]
cpus_allowed=1
JOB
	hostrun fio --output=/tmp/$1.out --eta=never --filename=$EDUBLK_DEV \
		/tmp/$1.fio > /dev/null 2>&1 &
	FIO_PID=$!
}

# halt_checks: the device halts a queue (HALT_AFTER: a CQ write faults)
# while fio reads at depth 16 from both vCPUs; the completions posted just
# before the halt come with it in one interrupt. The driver must see the
# halt in that interrupt and fail the queue's commands at once, not leave
# them to the 5 s timeout.
halt_checks() {
	local e0
	host_root && hostrun true || { not_ok "halt: hostrun"; return; }
	e0=$(edublk_stat errors)
	fio_reads_bg halt 16 3 continue_on_error=all
	sleep 1
	# Written, not read back: the device counts it down as it completes.
	check "halt: HALT_AFTER=5 written" eval "echo 5 > $EDUBLK_DBG/dev_halt_after"
	wait $FIO_PID
	expect_eq "halt: HALT_AFTER fired" "$(cat $EDUBLK_DBG/dev_halt_after)" 0
	expect_eq "halt: the driver saw one halt" "$(sgq_sum halts)" 1
	expect_eq "halt: ... in the interrupt, not by a timeout" "$(sgq_sum timeouts)" 0
	expect_gt "halt: its commands failed" "$(edublk_stat errors)" "$e0"
	expect_eq "halt: no invalid completions" "$(sgq_sum bad_cqes)" 0
	# Disarmed whether it fired or not: it outlives rmmod and insmod.
	check "halt: HALT_AFTER off" knob dev_halt_after 0
}

# wait_checks: a mapping that never succeeds: every attempt fails with
# -ENOMEM (mapping space short, injected through edublk's map_enomem), so
# the request waits inside wdmdma and is tried again and again. After
# three timeouts (15 s) the driver cancels the wait and ends the request,
# instead of leaving the disk hung.
wait_checks() {
	local t0 t pid n=0 rc
	check "wait: every mapping short of space" eval "echo -1 > $EDUBLK_DBG/map_enomem"
	t0=$(date +%s)
	dd if=$EDUBLK_DEV of=/dev/null bs=4096 count=1 skip=5 iflag=direct 2>/dev/null &
	pid=$!
	while kill -0 $pid 2>/dev/null && [ $n -lt 40 ]; do
		sleep 1
		n=$((n + 1))
	done
	t=$(($(date +%s) - t0))
	if kill -0 $pid 2>/dev/null; then
		not_ok "wait: the waiting read ended within 40 s" "still waiting"
	else
		ok "wait: the waiting read ended within 40 s ($t s)"
	fi
	check "wait: mappings succeed again" eval "echo 0 > $EDUBLK_DBG/map_enomem"
	wait $pid
	rc=$?
	check "wait: the waiting read failed" [ $rc -ne 0 ]
	expect_eq "wait: the driver ended one wait" "$(edublk_stat wait_timeouts)" 1
	check "wait: a read succeeds again" dd_read 5
	# Nothing held by the cancelled request: no list, no buffer.
	expect_eq "wait: every emergency buffer back" \
		"$(edublk_stat emergency_free | awk -F/ '{ print ($1 == $2) }')" 1
	expect_eq "wait: nothing waits in wdmdma" "$(wdmdma_stat queue_depth)" 0
	expect_eq "wait: no list outstanding" "$(wdmdma_stat outstanding)" 0
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

# drops_snap: the plain disk's counters the drops' events stand for.
drops_snap() {
	echo "$(sgq_sum posted) $(sgq_sum completed) $(sgq_sum timeouts)" \
		"$(sgq_sum restarts) $(edublk_stat resets) $(sgq_sum reposted)"
}

# drops_trace_checks BEFORE... AFTER...: (drops_snap twice) each edublk
# event's count matches the change of its debugfs counter: posts (with
# reposts), completions, timeouts on the device, queue restarts,
# controller resets (none given up).
drops_trace_checks() {
	local t="drops: trace"
	expect_eq "$t: nothing lost" "$TRACE_LOST" 0
	expect_eq "$t: post events = debugfs posted" \
		"$(trace_count edublk_cmd_post)" $((${7} - $1))
	expect_eq "$t: ... of them reposts = debugfs reposted" \
		"$(grep -c ' edublk_cmd_post: .* repost$' /tmp/trace.txt)" \
		$((${12} - $6))
	expect_eq "$t: complete events = debugfs completed" \
		"$(trace_count edublk_cmd_complete)" $((${8} - $2))
	expect_eq "$t: timeout events (on the device) = debugfs timeouts" \
		"$(grep -c ' edublk_cmd_timeout: .* on the device ' /tmp/trace.txt)" \
		$((${9} - $3))
	expect_eq "$t: restart events = debugfs restarts" \
		"$(trace_count edublk_queue_restart)" $((${10} - $4))
	expect_eq "$t: controller reset events = debugfs resets" \
		"$(grep -c ' edublk_ctrl_reset: .* controller reset$' /tmp/trace.txt)" \
		$((${11} - $5))
	grep -m 1 -B 2 -A 3 ' edublk_cmd_timeout: ' /tmp/trace.txt |
		sed 's/^/edublk-trace: /'
}

scenario_drops() {
	local n=16 wf rf pids="" p bad=0 end b
	load_edublk || { not_ok "drops: insmod edublk"; edublk_finish; }
	plain_disk
	b=$(drops_snap)
	check "drops: tracepoints on" trace_start edublk
	check "drops: the device drops every 7th completion" knob dev_drop_every 7
	check "drops: ... and takes 200 ms per command" knob dev_latency_ns 200000000
	dd if=/dev/urandom of=/tmp/pat bs=$BLK count=$n 2>/dev/null
	wf=$(copy_blocks write $n)
	check "drops: every block written (retrying)" [ $? -eq 0 ]
	# Four readers for 15 s: while one waits 5 s for its dropped
	# completion to time out, the others keep commands in flight (each
	# takes latency_ns), so the queue restart has commands to post again.
	# 200 ms, so a reader's command is in flight most of the time even on
	# a slow TCG host where its dd, cmp and date take tens of ms each (at
	# 20 ms no command was in flight at any restart once, on a loaded
	# 2-core host).
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
	trace_stop
	drops_trace_checks $b $(drops_snap)
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
	# The second timeout in a row on a queue resets the controller.
	expect_eq "drops: each timeout restarted its queue or the controller" \
		"$(($(sgq_sum restarts) + $(edublk_stat resets)))" "$(sgq_sum timeouts)"
	expect_gt "drops: commands in flight were posted again" \
		"$(sgq_sum reposted)" 0
	expect_eq "drops: the driver counted the timeouts" \
		"$(edublk_stat timeouts)" "$(sgq_sum timeouts)"
	expect_eq "drops: no invalid completions" "$(sgq_sum bad_cqes)" 0
	expect_eq "drops: no queue given up" \
		"$(grep -c 'dead 1' $EDUBLK_DBG/stats)" 0
	echo "edusg-drops: $wf failed writes, $rf failed reads"
	dump_stats
	check "drops: the device's drops off again" knob dev_drop_every 0
	check "drops: ... and its latency" knob dev_latency_ns 0
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

	# The native modes bounce through swiotlb, which maps at most
	# dma_max_mapping_size() (256 KiB) in one piece: 1 MiB writes of
	# contiguous pages must still succeed (requests are kept within it),
	# on both native paths.
	local m
	for m in native native-sgt; do
		if ! load_wdmdma || ! load_edublk mode=$m; then
			not_ok "bounce: insmod wdmdma, edublk mode=$m"
			continue
		fi
		run_fio_verify "bounce: $m 1 MiB writes" <<JOB
[seq-1m]
size=8m
rw=write
bs=1m
offset=0
JOB
		expect_eq "bounce: $m 1 MiB writes: data read back" \
			"$(fio_sum read)" 8388608
		expect_eq "bounce: $m: no I/O errors" "$(edublk_stat errors)" 0
		expect_eq "bounce: $m: no timeouts" "$(sgq_sum timeouts)" 0
		check "bounce: $m: unload" unload_all
	done
}

# use_disk NAME: point the helpers (edublk_stat, run_fio, ...) at disk NAME.
use_disk() {
	EDUBLK_DEV=/dev/$1
	EDUBLK_DBG=/sys/kernel/debug/edublk/$1
}

# disk_with FIELD VALUE [FIELD VALUE]: the edublk disk whose stats lines
# FIELD have those VALUEs.
disk_with() {
	local d
	for d in /sys/kernel/debug/edublk/edublk*; do
		[ "$(stat_of $d/stats "$1")" = "$2" ] || continue
		[ $# -lt 4 ] || [ "$(stat_of $d/stats "$3")" = "$4" ] || continue
		basename $d
		return 0
	done
	return 1
}

# knob NAME VALUE: write the device's fault-injection register NAME
# (dev_fail_every, dev_drop_every, dev_latency_ns) through the current
# disk's debugfs, and read it back.
knob() {
	echo "$2" > $EDUBLK_DBG/$1 && [ "$(cat $EDUBLK_DBG/$1)" = "$2" ]
}

# plain_disk: the disk on the device with no fault, latency or limit set
# (and not the file medium of the ext4 checks).
plain_disk() {
	local d
	for d in /sys/kernel/debug/edublk/edublk*; do
		[ "$(stat_of $d/stats latency_ns)" = 0 ] &&
			[ "$(stat_of $d/stats max_elem_len)" = 1048576 ] &&
			[ "$(stat_of $d/stats capacity_bytes)" != $FS_SIZE ] || continue
		use_disk "$(basename $d)"
		return 0
	done
	return 1
}

# fails CMD...: succeeds if CMD fails.
fails() {
	! "$@"
}

# edges_elem MODE: the disk on the 4 KiB-element device. Its requests reach
# the device in elements of at most 4 KiB: in the native modes because the
# block layer splits them (max_segment_size; with a virt boundary it would
# merge contiguous pages, and dma_map_sgtable() gets segments longer than
# the device's DMA limit, a DMA-API debug report), in wdmdma's modes
# because the adapter cuts its elements there.
edges_elem() {
	local m=$1 d
	d=$(disk_with max_elem_len 4096) || { not_ok "edges: $m: no disk with 4 KiB elements"; return; }
	use_disk $d
	case $m in
	native*) expect_eq "edges: $m: block layer splits at 4 KiB" \
		"$(cat /sys/block/$d/queue/max_segment_size)" 4096 ;;
	esac
	run_fio_verify "edges: $m: 512 KiB writes in 4 KiB elements" <<JOB
[seq-512k]
size=8m
rw=write
bs=512k
offset=0
JOB
	expect_eq "edges: $m: 4 KiB elements: data read back" "$(fio_sum read)" 8388608
	expect_eq "edges: $m: 4 KiB elements: no I/O errors" "$(edublk_stat errors)" 0
	expect_eq "edges: $m: 4 KiB elements: no device errors" "$(sgq_sum dev_errors)" 0
}

# edges_slow: the 6 s device. Before its timeout followed the latency, both
# commands timed out (5 s) and were posted again, forever.
edges_slow() {
	local d
	d=$(disk_with latency_ns 6000000000) || { echo "no slow disk"; return 1; }
	dd if=/dev/urandom of=/tmp/slow.pat bs=4096 count=1 2>/dev/null &&
		dd if=/tmp/slow.pat of=/dev/$d bs=4096 count=1 seek=7 oflag=direct 2>/dev/null &&
		dd if=/dev/$d of=/tmp/slow.back bs=4096 count=1 skip=7 iflag=direct 2>/dev/null &&
		cmp /tmp/slow.pat /tmp/slow.back
}

# read_fails_at_once NAME: on a disk given up, a read fails, within 2 s.
read_fails_at_once() {
	local t0 t
	t0=$(date +%s)
	check "$1: a later read fails" fails dd_read 0
	t=$(($(date +%s) - t0))
	check "$1: ... at once ($t s)" [ $t -le 2 ]
}

# edges_stuck: the device stops completing (every completion dropped) while
# fio reads at queue depth 32 from both vCPUs (both queues).
edges_stuck() {
	local t0 t rc fio
	plain_disk
	host_root && hostrun true || { not_ok "edges: stuck: hostrun"; return; }
	fio_reads_bg stuck 32 300
	fio=$FIO_PID
	sleep 2
	check "edges: stuck: DROP_EVERY=1 written" knob dev_drop_every 1
	t0=$(date +%s)
	wait $fio
	rc=$?
	t=$(($(date +%s) - t0))
	echo "edusg-edges: fio ended $t s after the device stopped completing (exit $rc)"
	check "edges: stuck: fio ended with errors" [ $rc -ne 0 ]
	check "edges: stuck: fio ended within 60 s ($t s)" [ $t -le 60 ]
	expect_eq "edges: stuck: the device was given up" "$(edublk_stat dead)" 1
	expect_gt "edges: stuck: a controller reset came first" "$(edublk_stat resets)" 0
	expect_gt "edges: stuck: requests timed out" "$(edublk_stat timeouts)" 2
	read_fails_at_once "edges: stuck"
	check "edges: stuck: DROP_EVERY=0 again" knob dev_drop_every 0
}

scenario_edges() {
	local m slow t0 t
	for m in reserve native-sgt native; do
		if ! load_edublk mode=$m || [ ! -b /dev/edublk2 ]; then
			not_ok "edges: insmod edublk mode=$m (at least three disks)"
			continue
		fi
		if [ $m = reserve ]; then
			edges_slow &
			slow=$!
			edges_stuck
			check "edges: slow device: 4 KiB written and read back" wait $slow
			use_disk "$(disk_with latency_ns 6000000000)"
			expect_eq "edges: slow device: timeout follows its latency" \
				"$(edublk_stat io_timeout_ms)" 17000
			expect_eq "edges: slow device: no timeouts" "$(sgq_sum timeouts)" 0
			# Later probes need not wait 6 s for its partition table.
			check "edges: slow device: latency 0 again" knob dev_latency_ns 0
		fi
		edges_elem $m
		dump_stats
		t0=$(date +%s)
		check "edges: $m: rmmod edublk" rmmod edublk
		t=$(($(date +%s) - t0))
		check "edges: $m: rmmod did not wait ($t s)" [ $t -le 10 ]
	done
}

# ended_within PID SECONDS: wait for PID to end, at most SECONDS (then it is
# killed); ok if it ended in time. Its exit status is left in ENDED_RC and
# the seconds it took in ENDED_T.
ended_within() {
	local n=0
	while kill -0 $1 2>/dev/null && [ $n -lt $2 ]; do
		sleep 1
		n=$((n + 1))
	done
	ENDED_T=$n
	if kill -0 $1 2>/dev/null; then
		kill -9 $1
		wait $1
		ENDED_RC=137
		return 1
	fi
	wait $1
	ENDED_RC=$?
}

# busy NAME: wait (at most 20 s) until the current disk's queues have
# completed 200 more commands than now: I/O is flowing.
busy() {
	local c0 n=0
	c0=$(sgq_sum completed)
	while [ $(($(sgq_sum completed) - c0)) -lt 200 ] && [ $n -lt 200 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	check "$1: I/O flowing" [ $n -lt 200 ]
}

# removal_under_io NAME HOW [LIMIT]: fio reads at queue depth 32 from both
# vCPUs (both queues), and HOW takes the device away from the driver (a
# function of the PCI address) while it does, within LIMIT seconds
# (default 10). The device is still there,
# so the commands in flight complete and the removal waits only for them;
# later reads find a disk of size 0 (fio sees end of file, not errors, and
# would read on). fio, interrupted then, must end (no task stuck on the
# disk), and the disk and the driver's debugfs are gone.
removal_under_io() {
	local name=$1 how=$2 limit=${3:-10} bdf t0 t
	load_edublk || { not_ok "$name: insmod edublk"; return 1; }
	bdf=$(stat_of $EDUBLK_DBG/stats pci)
	host_root && hostrun true || { not_ok "$name: hostrun"; return 1; }
	fio_reads_bg rm 32 60
	busy "$name"
	t0=$(date +%s)
	$how $bdf
	t=$(($(date +%s) - t0))
	check "$name: the driver let go within $limit s ($t s)" [ $t -le $limit ]
	kill -INT $FIO_PID
	check "$name: fio, interrupted, ended within 20 s" ended_within $FIO_PID 20
	check "$name: the disk is gone" [ ! -b $EDUBLK_DEV ]
	check "$name: its debugfs is gone" [ ! -d $EDUBLK_DBG ]
	REMOVED_BDF=$bdf
}

# back_after_vanish NAME BDF: the device, removed from the kernel while it
# was gone, is back (VANISH_MS over): a rescan finds it (at most 60 s).
back_after_vanish() {
	local n=0
	while [ ! -e /sys/bus/pci/devices/$2 ] && [ $n -lt 60 ]; do
		echo 1 > /sys/bus/pci/rescan
		[ -e /sys/bus/pci/devices/$2 ] && break
		sleep 1
		n=$((n + 1))
	done
	check "$1: the device is found again after it came back" \
		[ -e /sys/bus/pci/devices/$2 ]
}

# surprise_removal: the device vanishes (dev_vanish_ms: BAR and config
# space read all ones, no DMA, no interrupt, for 9 or 20 s) under fio at queue
# depth 32 on both queues.
#  - At once removed through sysfs, as a hotplug driver would on a
#    surprise removal: the driver fails the commands in flight at once
#    instead of waiting for the blk-mq timeout (5 s) of each; fio ends
#    with errors.
#    Once it is back, a rescan and a clean verify.
# surprise_left (last in the boot: it does not wait for the device to come
# back): left alone, the first timeout finds it gone and fails everything
# in flight (not queue by queue); later I/O fails at once; removal then
# does not wait.
surprise_removal() {
	local bdf t0 t
	# A 30 s timeout: a remove() that waited for one would take 30 s.
	load_edublk io_timeout=30 || { not_ok "surprise: insmod edublk"; return; }
	bdf=$(stat_of $EDUBLK_DBG/stats pci)
	host_root && hostrun true || { not_ok "surprise: hostrun"; return; }
	fio_reads_bg sr 32 60
	busy "surprise: removed"
	kmsg_mark surprise-removed
	check "surprise: removed: the device vanishes" \
		eval "echo 9000 > $EDUBLK_DBG/dev_vanish_ms"
	t0=$(date +%s)
	pci_remove $bdf
	t=$(($(date +%s) - t0))
	# The kernel log since the vanish says why: remove() found the device
	# gone, and no command waited for its timeout (a 5 s wait each).
	kmsg_since surprise-removed > /tmp/sr.log
	check "surprise: removed: remove() found the device gone" \
		grep -q 'device gone (its config space reads all ones)' /tmp/sr.log
	check "surprise: removed: no command waited for its timeout" \
		fails grep -q 'no completion for' /tmp/sr.log
	check "surprise: removed: the driver let go within 10 s ($t s)" \
		[ $t -le 10 ]
	check "surprise: removed: fio ended within 20 s" ended_within $FIO_PID 20
	check "surprise: removed: ... with errors (exit $ENDED_RC)" [ $ENDED_RC -ne 0 ]
	check "surprise: removed: the disk is gone" [ ! -b $EDUBLK_DEV ]
	back_after_vanish "surprise: removed" $bdf
	after_removal "surprise: removed"
	check "surprise: rmmod" rmmod edublk
}

surprise_left() {
	local bdf t0 t
	load_edublk || { not_ok "surprise: left: insmod edublk"; return; }
	bdf=$(stat_of $EDUBLK_DBG/stats pci)
	fio_reads_bg sl 32 60
	busy "surprise: left"
	kmsg_mark surprise-left
	# Long enough that the first timeout (5 s) surely finds it gone.
	check "surprise: left: the device vanishes" \
		eval "echo 20000 > $EDUBLK_DBG/dev_vanish_ms"
	check "surprise: left: fio ended within 20 s" ended_within $FIO_PID 20
	check "surprise: left: ... with errors (exit $ENDED_RC)" [ $ENDED_RC -ne 0 ]
	expect_eq "surprise: left: the driver gave the device up" \
		"$(edublk_stat dead)" 1
	check "surprise: left: the driver said it is gone" \
		eval "kmsg_since surprise-left | grep -q 'device gone (its config space reads all ones)'"
	expect_eq "surprise: left: no timeout counted (gone, not slow)" \
		"$(sgq_sum timeouts)" 0
	expect_eq "surprise: left: no restart of a gone device" "$(sgq_sum restarts)" 0
	expect_eq "surprise: left: nothing in flight" "$(sgq_sum inflight)" 0
	read_fails_at_once "surprise: left"
	t0=$(date +%s)
	pci_remove $bdf
	t=$(($(date +%s) - t0))
	check "surprise: left: removal did not wait ($t s)" [ $t -le 5 ]
	check "surprise: left: rmmod" rmmod edublk
}

# bad_completions: the device adds bad completions (BAD_CQE) to a fio
# verify, one kind at a time, every 5th completion: a wrong tag, a wrong
# queue id and a duplicate are each refused and counted by the driver,
# exactly as many as the device injected; a stale phase is not taken for
# a completion at all (the real one follows). No I/O error, no timeout,
# the data verifies.
bad_completions() {
	local k name b0 d0
	load_edublk || { not_ok "bad cqe: insmod edublk"; return; }
	for k in 1:wrong-tag 2:wrong-qid 3:duplicate 4:stale-phase; do
		name="bad cqe: ${k#*:}"
		b0=$(sgq_sum bad_cqes)
		d0=$(stat_of $EDUBLK_DBG/stats dev_bad_cqes)
		check "$name: injected every 5th completion" \
			eval "echo $((${k%%:*} | 5 << 16)) > $EDUBLK_DBG/dev_bad_cqe"
		run_fio_verify "$name: fio verify" <<JOB
[bad]
size=1m
rw=randwrite
bs=16k
JOB
		check "$name: off again" eval "echo 0 > $EDUBLK_DBG/dev_bad_cqe"
		d0=$(($(stat_of $EDUBLK_DBG/stats dev_bad_cqes) - d0))
		b0=$(($(sgq_sum bad_cqes) - b0))
		expect_gt "$name: the device injected some" "$d0" 0
		if [ ${k%%:*} = 4 ]; then
			expect_eq "$name: none taken for a completion" "$b0" 0
		else
			expect_eq "$name: each refused and counted" "$b0" "$d0"
		fi
	done
	expect_eq "bad cqe: no I/O errors" "$(edublk_stat errors)" 0
	expect_eq "bad cqe: no timeouts" "$(sgq_sum timeouts)" 0
	dump_stats
	check "bad cqe: rmmod" rmmod edublk
}

# after_removal NAME: the device is back under the driver (rescan or bind):
# a clean fio verify, and nothing left over from before.
after_removal() {
	check "$1: the disk is back" wait_disk
	use_disk edublk0
	run_fio_verify "$1: fio verify afterwards" <<JOB
[after]
size=4m
rw=randwrite
bs=64k
JOB
	expect_eq "$1: no I/O errors afterwards" "$(edublk_stat errors)" 0
	expect_eq "$1: no timeouts afterwards" "$(sgq_sum timeouts)" 0
}

pci_remove() {
	echo 1 > /sys/bus/pci/devices/$1/remove
}

pci_unbind() {
	echo $1 > /sys/bus/pci/drivers/edublk/unbind
}

# monitor CMD...: ask the host to run CMD in QEMU's monitor (run-guest.sh
# --monitor serves "WDMDMA-MONITOR: CMD" console lines; only device_del
# and device_add of an edu-sg).
monitor() {
	echo "WDMDMA-MONITOR: $*"
}

# monitor_unplug BDF: device_del of the edu-sg whose id is sg0 (at BDF):
# QEMU asks the guest's ACPI hotplug driver to eject it, which removes it
# (the driver's remove()) and powers the slot off. Waits at most 45 s for
# the device to leave the bus, asking again every 15 s (a kernel message
# on the console can cut the request's line). The time includes the
# host's round trip (the console log followed, the monitor asked).
monitor_unplug() {
	local n=0
	while [ -e /sys/bus/pci/devices/$1 ] && [ $n -lt 450 ]; do
		[ $((n % 150)) -eq 0 ] && monitor device_del sg0
		sleep 0.1
		n=$((n + 1))
	done
	[ ! -e /sys/bus/pci/devices/$1 ]
}

# monitor_plug BDF: device_add of the same device (as guest-groups.sh
# makes it; run-guest.sh allows no other) in the same slot; ACPI hotplug
# finds it and edublk, still loaded, probes it. Waits at most 45 s for
# the driver to be bound, asking again every 15 s.
monitor_plug() {
	local n=0 slot=${1#*:*:}
	slot=${slot%.*}
	while [ ! -e /sys/bus/pci/devices/$1/driver ] && [ $n -lt 450 ]; do
		[ $((n % 150)) -eq 0 ] && [ ! -e /sys/bus/pci/devices/$1 ] &&
			monitor device_add edu-sg,id=sg0,queues=2,x-fault-regs=on,addr=0x$slot
		sleep 0.1
		n=$((n + 1))
	done
	[ -e /sys/bus/pci/devices/$1/driver ]
}

# bus_master_toggle BDF SECONDS: switch the device's bus mastering off and
# on every 0.2 s for SECONDS (as blktests block/011 does), on at the end.
bus_master_toggle() {
	local end=$(($(date +%s) + $2))
	while [ "$(date +%s)" -lt $end ]; do
		hostrun setpci -s $1 COMMAND=0:4 || return 1
		sleep 0.2
		hostrun setpci -s $1 COMMAND=4:4 || return 1
		sleep 0.2
	done
}

# Surprise removal, unbind and bus-master loss while fio runs at queue
# depth 32 on both queues; bad completions.
scenario_removal() {
	local bdf t0 t failed
	surprise_removal
	bad_completions
	removal_under_io "removal: sysfs remove" pci_remove || return
	bdf=$REMOVED_BDF
	check "removal: rescan" eval "echo 1 > /sys/bus/pci/rescan"
	after_removal "removal: rescan"
	check "removal: rmmod" rmmod edublk

	removal_under_io "removal: unbind" pci_unbind || return
	check "removal: bind" eval "echo $bdf > /sys/bus/pci/drivers/edublk/bind"
	after_removal "removal: bind"
	check "removal: rmmod after bind" rmmod edublk

	# The host's round trip and ACPI's eject count too: 20 s.
	removal_under_io "removal: device_del" monitor_unplug 20 || return
	check "removal: device_del: ... and the device left the bus" \
		[ ! -e /sys/bus/pci/devices/$bdf ]
	check "removal: device_add" monitor_plug $bdf
	after_removal "removal: device_add"
	check "removal: rmmod after device_add" rmmod edublk

	# Bus mastering off and on under I/O: DMA (and MSI-X) fail while it is
	# off; whether a command meets an off window depends on timing, so
	# this part asserts only that fio ends. Then off for good: no SQ
	# fetch, no completion, no interrupt: a read fails (not hangs) and the
	# driver counts it, as an error or a timeout: a halt, a timeout, or
	# the device given up if its timeouts already ran in a row. rmmod
	# does not wait, and a new probe (which resets the device and turns
	# bus mastering on) gets a clean verify.
	load_edublk || { not_ok "removal: bus master: insmod edublk"; return; }
	fio_reads_bg bm 32 8 continue_on_error=all
	busy "removal: bus master"
	check "removal: bus master toggled for 4 s" bus_master_toggle $bdf 4
	check "removal: bus master: fio ended within 60 s" ended_within $FIO_PID 60
	check "removal: bus master off" hostrun setpci -s $bdf COMMAND=0:4
	failed=$(($(edublk_stat errors) + $(edublk_stat timeouts)))
	dd_read 3 &
	check "removal: bus master off: a read ended within 40 s" ended_within $! 40
	check "removal: bus master off: ... with an error" [ $ENDED_RC -ne 0 ]
	check "removal: bus master off: the driver counted the failure" \
		[ $(($(edublk_stat errors) + $(edublk_stat timeouts))) -gt $failed ]
	dump_stats
	t0=$(date +%s)
	check "removal: bus master: rmmod" rmmod edublk
	t=$(($(date +%s) - t0))
	check "removal: bus master: rmmod did not wait ($t s)" [ $t -le 10 ]
	load_edublk || { not_ok "removal: bus master: insmod again"; return; }
	after_removal "removal: bus master"
	check "removal: bus master: rmmod at the end" rmmod edublk
	function_reset
	aer_recovery
	surprise_left
}

# writers_bg NAME [FIO-ARGS...] < GLOBAL: fio in the background (FIO_PID)
# with the [global] section GLOBAL: 4 KiB random writes over 8 MiB from
# each vCPU (one job pinned to each, so on both hardware queues).
writers_bg() {
	local name=$1
	shift
	{
		cat
		cat <<JOB
rw=randwrite
bs=4k
size=8m

[cpu0]
cpus_allowed=0
offset=0

[cpu1]
cpus_allowed=1
offset=8m
JOB
	} > /host/tmp/$name.fio
	hostrun fio --output=/tmp/$name.out --eta=never "$@" \
		--filename=$EDUBLK_DEV /tmp/$name.fio > /dev/null 2>&1 &
	FIO_PID=$!
}

# held_resets NAME WHAT CMD STAT: while fio writes 8 MiB from each vCPU
# (both queues, 4 KiB random writes at depth 16) and then verifies it,
# three times, with commands held by the device (its latency 1 s for
# those fetched in the 0.3 s before, else 50 ms; 0 after the third),
# CMD (a shell command) resets it. fio verifies clean, commands were
# posted again, and the debugfs counter STAT counted 3.
held_resets() {
	local i n r0
	check "$1: a 50 ms latency" knob dev_latency_ns 50000000
	r0=$(sgq_sum reposted)
	writers_bg $1 --verify_state_save=0 <<JOB
$FIO_VERIFY_GLOBAL
JOB
	busy "$1"
	for i in 1 2 3; do
		check "$1: $i: a 1 s latency" knob dev_latency_ns 1000000000
		sleep 0.3
		n=$(sgq_sum inflight)
		expect_gt "$1: $i: commands in flight" "$n" 0
		check "$1: $i: $2 with $n commands in flight" eval "$3"
		check "$1: $i: 50 ms again" knob dev_latency_ns 50000000
	done
	# The rest of the run need not crawl.
	check "$1: latency 0 again" knob dev_latency_ns 0
	check "$1: fio ended within 60 s" ended_within $FIO_PID 60
	check "$1: fio verified clean (exit $ENDED_RC)" [ $ENDED_RC -eq 0 ] ||
		hostrun tail -20 /tmp/$1.out
	expect_gt "$1: commands in flight were posted again" \
		$(($(sgq_sum reposted) - r0)) 0
	expect_eq "$1: the driver counted 3 ($4)" "$(edublk_stat $4)" 3
}

# function_reset: sysfs "reset" (pci_reset_function(): edu-sg's Function
# Level Reset) three times while fio writes 8 MiB from each vCPU (both
# queues, 4 KiB random writes at depth 16) and then verifies it. The
# device takes 50 ms per command (a reset sets that back to 0), and 1 s
# for those fetched in the 0.3 s before each reset, so commands are surely
# in flight when it comes (blk-mq's quiesce waits for RCU, during which
# 50 ms commands would complete). The driver stops
# the device before each reset and posts the commands in flight again
# after it: fio verifies clean, with no I/O error, timeout or queue
# restart; commands were posted again; the driver counted 3 resets.
function_reset() {
	local bdf
	load_edublk || { not_ok "reset: insmod edublk"; return; }
	bdf=$(stat_of $EDUBLK_DBG/stats pci)
	host_root && hostrun true || { not_ok "reset: hostrun"; return; }
	check "reset: the device offers a function reset" \
		[ -e /sys/bus/pci/devices/$bdf/reset ]
	held_resets reset "function reset" \
		"echo 1 > /sys/bus/pci/devices/$bdf/reset" function_resets
	reset_storm $bdf
	common_checks reset
	expect_eq "reset: no queue restart" "$(sgq_sum restarts)" 0
	dump_stats
	check "reset: rmmod" rmmod edublk
}

# aer_recovery: what the AER core's recovery calls (debugfs aer_recover:
# the test machines have no AER). Three frozen channels while fio writes
# 8 MiB from each vCPU and then verifies it, with commands held by the
# device (held_resets): error_detected(frozen) stops the disk without a
# word to the device, a function reset stands in for the link reset,
# slot_reset restores the configuration and resume posts the commands
# again: fio verifies clean, no I/O error, timeout or queue restart, 3
# recoveries counted. A non-fatal error under fio: nothing stops, nothing
# is posted again. A frozen channel, then the device unbound before the
# recovery goes on (the AER core drops the device lock between its
# calls): the unbind ends at once, the held reads fail, and the device
# verifies clean once bound again. Then a frozen channel whose reset
# fails (a permanent failure) under reads at depth 32: the device is
# given up, fio's new reads at depth 32 fail too and, interrupted, it
# ends; a new read fails at once, and rmmod does not wait.
aer_recovery() {
	local bdf r0 t0 t e0
	load_edublk || { not_ok "aer: insmod edublk"; return; }
	host_root && hostrun true || { not_ok "aer: hostrun"; return; }
	bdf=$(stat_of $EDUBLK_DBG/stats pci)
	check "aer: the driver has PCI error handlers" \
		[ -e $EDUBLK_DBG/aer_recover ]
	held_resets aer "recovery from a frozen channel" \
		"echo frozen > $EDUBLK_DBG/aer_recover" aer_recoveries
	common_checks aer
	expect_eq "aer: no queue restart" "$(sgq_sum restarts)" 0

	r0=$(sgq_sum reposted)
	fio_reads_bg aern 16 4
	busy "aer: normal"
	check "aer: normal: a non-fatal error" \
		eval "echo normal > $EDUBLK_DBG/aer_recover"
	check "aer: normal: fio ended within 30 s" ended_within $FIO_PID 30
	check "aer: normal: ... cleanly" [ $ENDED_RC -eq 0 ]
	expect_eq "aer: normal: nothing posted again" "$(sgq_sum reposted)" $r0
	expect_eq "aer: normal: not a recovery" \
		"$(edublk_stat aer_recoveries)" 3
	check "aer: knobs off" knob dev_latency_ns 0

	kmsg_mark aer-detect
	fio_reads_bg aerd 32 30 continue_on_error=all
	busy "aer: detect"
	check "aer: detect: a latency of 1 s" knob dev_latency_ns 1000000000
	sleep 0.3
	check "aer: detect: a frozen channel, nothing after" \
		eval "echo detect > $EDUBLK_DBG/aer_recover"
	pci_unbind $bdf &
	check "aer: detect: unbound within 20 s" ended_within $! 20
	# fio would read on to its runtime (continue_on_error): interrupted,
	# it must end, no task stuck on the disk.
	kill -INT $FIO_PID
	check "aer: detect: fio, interrupted, ended within 20 s" ended_within $FIO_PID 20
	check "aer: detect: the held commands failed" \
		eval "kmsg_since aer-detect | grep -q 'device gone (removed during PCI error recovery)'"
	check "aer: detect: bind" \
		eval "echo $bdf > /sys/bus/pci/drivers/edublk/bind"
	after_removal "aer: detect"

	kmsg_mark aer-perm
	fio_reads_bg aerp 32 30 continue_on_error=all
	busy "aer: perm"
	e0=$(edublk_stat errors)
	check "aer: perm: a frozen channel whose reset fails" \
		eval "echo frozen-fail > $EDUBLK_DBG/aer_recover"
	# fio keeps reading at depth 32 on both queues (continue_on_error):
	# on the device given up, its new reads fail too, and none hangs.
	check "aer: perm: 128 more reads failed within 20 s" errors_grow $e0 128 20
	kill -INT $FIO_PID
	check "aer: perm: fio, interrupted, ended within 20 s" ended_within $FIO_PID 20
	dd_read 3 &
	check "aer: perm: a read ended within 10 s" ended_within $! 10
	check "aer: perm: ... with an error" [ $ENDED_RC -ne 0 ]
	check "aer: perm: the driver gave the device up" \
		eval "kmsg_since aer-perm | grep -q 'device gone (a permanent PCI error)'"
	expect_eq "aer: perm: no timeouts" "$(sgq_sum timeouts)" 0
	dump_stats
	t0=$(date +%s)
	check "aer: rmmod" rmmod edublk
	t=$(($(date +%s) - t0))
	check "aer: rmmod did not wait ($t s)" [ $t -le 10 ]
}

# errors_grow BEFORE N SECONDS: the current disk's failed-request count
# (debugfs errors) reaches BEFORE + N within SECONDS.
errors_grow() {
	local n=0
	while [ "$(edublk_stat errors)" -lt $(($1 + $2)) ]; do
		[ $n -ge $(($3 * 10)) ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
}

# moves_on Q N: hardware queue Q has completed at least two commands more
# than N, within 30 s (a TCG vCPU may go unscheduled for seconds).
moves_on() {
	local n=0
	while [ "$(sgq_stat $1 completed)" -le $(($2 + 1)) ]; do
		[ $n -ge 300 ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
}

# reset_storm BDF: RESET_STORM more function resets while one fio job per
# vCPU writes at queue depth 1, so a request that blk-mq strands stops its
# job for good (a 4 KiB libaio write at depth 1 is issued directly, and
# nothing else runs that hardware queue). Each job's command is held by
# the device (1 s) when the reset comes; reset_done posts it again, the
# device (its latency back to 0) completes it while the driver ends the
# reset, and the job submits its next write just as the disk is
# unquiesced: the race that strands a request before 6.13 (compat.h,
# wdmdma_blk_mq_unquiesce_queue()). The reset is written from each vCPU
# in turn, so each job races the unquiesce from the other vCPU. After
# each reset both queues complete new commands, and fio stops when told.
RESET_STORM=12
reset_storm() {
	local i c0 c1 n
	writers_bg storm <<JOB
[global]
ioengine=libaio
direct=1
iodepth=1
time_based=1
runtime=600
disk_util=0
JOB
	busy "reset: storm"
	for i in $(seq $RESET_STORM); do
		knob dev_latency_ns 1000000000 || not_ok "reset: storm $i: 1 s latency"
		sleep 0.3
		n=$(sgq_sum inflight)
		taskset -c $((i % 2)) sh -c "echo 1 > /sys/bus/pci/devices/$1/reset" ||
			not_ok "reset: storm $i: function reset from CPU $((i % 2))"
		c0=$(sgq_stat 0 completed)
		c1=$(sgq_stat 1 completed)
		expect_gt "reset: storm $i: commands in flight at the reset" "$n" 0
		check "reset: storm $i: queue 0 moves on" moves_on 0 $c0
		check "reset: storm $i: queue 1 moves on" moves_on 1 $c1
	done
	kill $FIO_PID 2>/dev/null
	check "reset: storm: fio stopped within 30 s" ended_within $FIO_PID 30
	expect_eq "reset: storm: the driver counted every function reset" \
		"$(edublk_stat function_resets)" $((3 + RESET_STORM))
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

# The ext4 checks (fs-make, fs-check): a tree of files on a file medium.
FS_MNT=/tmp/fsmnt
FS_SIZE=50331648

# fs_file NAME SIZE: SIZE bytes of lines naming NAME and their number, so
# that every 4 KiB block of every file differs from every other.
fs_file() {
	awk -v k="$1" -v n="$2" 'BEGIN {
		while (n > 0) {
			s = sprintf("%s line %07d: the quick brown fox jumps over the lazy dog\n", k, i++)
			if (length(s) > n)
				s = substr(s, 1, n)
			printf "%s", s
			n -= length(s)
		}
	}'
}

# fs_tree: the tree, "DIR/NAME SIZE" per file (3 directories of 8 files,
# from empty to 1 MiB, sizes on and off block boundaries; 4.5 MiB).
fs_tree() {
	local d f
	for d in a b/c b/d; do
		for f in 0 1 511 4096 4097 65536 200001 1048576; do
			echo "$d/f$f $f"
		done
	done
}

fs_disk() {
	local d
	d=$(disk_with capacity_bytes $FS_SIZE) || return 1
	use_disk $d
}

# fs_write NAME: write the tree into the mounted filesystem. Each file is
# made in /tmp and copied in large writes: awk's own small writes cost
# ext4 on 6.1 (KASAN, lockdep) 90 s for the tree, against 15 s on 7.3.
fs_write() {
	local path size
	fs_tree | while read -r path size; do
		mkdir -p "$FS_MNT/${path%/*}" &&
			fs_file "$path" $size > /tmp/fs-gen &&
			cp /tmp/fs-gen "$FS_MNT/$path" || return 1
	done
}

# fs_verify NAME: every file of the tree reads back as written.
fs_verify() {
	local path size bad=0
	fs_tree > /tmp/fs-list
	while read -r path size; do
		fs_file "$path" $size > /tmp/fs-want
		cmp -s /tmp/fs-want "$FS_MNT/$path" ||
			{ echo "edublk-check: $1: $path differs"; bad=1; }
	done < /tmp/fs-list
	check "$1: every file reads back as written" [ $bad -eq 0 ]
	expect_eq "$1: and nothing else is there" \
		"$(cd $FS_MNT && find . -type f ! -path './lost+found/*' | wc -l)" \
		"$(fs_tree | wc -l)"
}

# fs_mount NAME: mount the disk's ext4 at FS_MNT (non-zero if it fails).
fs_mount() {
	if mount -t ext4 $EDUBLK_DEV $FS_MNT; then
		ok "$1: mount"
	else
		not_ok "$1: mount"
		return 1
	fi
}

# fs_fsck NAME: e2fsck, forced and read-only, finds the filesystem clean.
fs_fsck() {
	check "$1: e2fsck -fn clean" hostrun e2fsck -fn $EDUBLK_DEV
}

scenario_fs_make() {
	local f0 f1
	load_edublk || { not_ok "fs: insmod edublk"; return; }
	host_root && hostrun true || { not_ok "fs: hostrun"; return; }
	fs_disk || { not_ok "fs: a disk on the file medium"; return; }
	check "fs: mkfs.ext4 on $EDUBLK_DEV" hostrun mkfs.ext4 -q -F -b 4096 $EDUBLK_DEV
	mkdir -p $FS_MNT
	fs_mount fs || return
	f0=$(edublk_stat flushes)
	check "fs: write the tree" fs_write
	check "fs: sync" sync
	f1=$(edublk_stat flushes)
	expect_gt "fs: the driver sent FLUSH" "$((${f1:-0} - ${f0:-0}))" 0
	check "fs: unmount" umount $FS_MNT
	fs_fsck fs
	fs_mount "fs: again" || return
	fs_verify "fs: remounted"
	check "fs: unmount again" umount $FS_MNT
	common_checks fs
	check "fs: rmmod" rmmod edublk
}

# scenario_fs_check: the tree fs-make left, in a new QEMU on the same file.
# Then the file-medium device is parked (driver_override "none": no
# driver binds it again, through rescans too), so that what runs next in
# the boot sees only its own device.
scenario_fs_check() {
	load_edublk || { not_ok "fs: next boot: insmod edublk"; return; }
	host_root && hostrun true || { not_ok "fs: next boot: hostrun"; return; }
	fs_disk || { not_ok "fs: next boot: a disk on the file medium"; return; }
	expect_eq "fs: next boot: the file medium in slot 0x10" \
		"$(stat_of $EDUBLK_DBG/stats pci)" $FS_BDF
	fs_fsck "fs: next boot"
	mkdir -p $FS_MNT
	fs_mount "fs: next boot" || return
	fs_verify "fs: next boot"
	check "fs: next boot: unmount" umount $FS_MNT
	fs_fsck "fs: next boot: after mounting"
	common_checks "fs: next boot"
	check "fs: next boot: rmmod" rmmod edublk
}

# fs_park: park the file-medium device (FS_BDF: guest-groups.sh puts it in
# slot 0x10) whatever fs-check found: unmounted, no driver bound, and
# driver_override "none", so that no driver binds it again (rescans too).
FS_BDF=0000:00:10.0
fs_park() {
	local d=/sys/bus/pci/devices/$FS_BDF
	! grep -q " $FS_MNT " /proc/mounts || umount $FS_MNT
	echo none > $d/driver_override || return 1
	[ ! -e $d/driver ] || echo $FS_BDF > $d/driver/unbind
	[ ! -e $d/driver ]
}

load_wdmdma || { not_ok "edusg: insmod wdmdma"; edublk_finish; }
case "${1:-}" in
verify)
	scenario_verify
	scenario_intx
	scenario_removal
	check "verify: unload" unload_all
	;;
bounce) scenario_bounce ;;
batch) batch_checks; check "batch: unload" unload_all ;;
fs-make) scenario_fs_make; check "fs: unload" unload_all ;;
fs-check)
	scenario_fs_check
	check "fs: next boot: the device parked" fs_park
	check "fs: next boot: unload" unload_all
	;;
removal) scenario_removal; check "removal: unload" unload_all ;;
reset) function_reset; aer_recovery; check "reset: unload" unload_all ;;
aer) aer_recovery; check "aer: unload" unload_all ;;
discard)
	for m in reserve native; do
		load_edublk mode=$m || { not_ok "$m: insmod edublk"; continue; }
		host_root && hostrun true || not_ok "$m: hostrun"
		discard_checks $m
		common_checks $m
		check "$m: rmmod edublk" rmmod edublk
	done
	check "discard: unload" unload_all
	;;
faults)
	# One boot (four devices, see guest-groups.sh) for the faults the
	# device injects: edges, then fail_every and drop_every set at run
	# time on the plain device.
	scenario_edges
	scenario_faults
	load_wdmdma || { not_ok "drops: insmod wdmdma"; edublk_finish; }
	scenario_drops
	;;
*) not_ok "edusg: scenario '${1:-}'" "want verify, faults, bounce, batch, removal, reset, aer, discard, fs-make, fs-check" ;;
esac
edublk_finish
