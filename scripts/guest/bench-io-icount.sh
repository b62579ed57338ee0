#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench-io` (scripts/bench-io.sh): in a guest under
# QEMU's -icount shift=0 (one ns of guest time is one guest instruction),
# fio 4k random reads at queue depth 32 (io_uring) on brd and on edublk
# (one edu-sg device, 4 queues, the last 2 polled) in several
# configurations, each as "BENCH-IO: {json}" with its IOPS: 1e9 / IOPS is
# the guest instructions (both vCPUs) per I/O, exactly and repeatably.
# Usage: sh bench-io-icount.sh ROUNDS RUNTIME
cd /tests && . ./edublk-lib.sh

ROUNDS=${1:-2}
RUNTIME=${2:-3}
BATCH="--iodepth_batch_submit=8 --iodepth_batch_complete_min=8"
BATCH_OPTS=$(echo "$BATCH" | tr ' ' ,)
# name:mode:module parameters (comma-separated):fio options (comma-separated)
CONFIGS="reserve:reserve:: pdu:pdu:: get:get:: native:native::
reserve-coalesced:reserve:irq_coalesce=8,irq_coalesce_us=50:
reserve-polled:reserve::--hipri native-polled:native::--hipri
reserve-batch8:reserve::$BATCH_OPTS"

# one TARGET DEV ROUND [FIO-OPTION...]: one fio run and its result line
one() {
	local target=$1 dev=$2 round=$3 res iops
	shift 3
	res=$(hostrun fio --name=io --filename=/dev/$dev --direct=1 \
		--ioengine=io_uring --rw=randread --bs=4k --iodepth=32 \
		--size=64m --time_based --runtime=$RUNTIME --ramp_time=1 \
		--norandommap --randrepeat=0 --minimal "$@" 2>&1)
	iops=$(echo "$res" | awk -F';' '/^3;/ { print $8 }')
	[ -n "$iops" ] || { echo "bench: fio failed on $target: $res"; return 1; }
	echo "BENCH-IO: {\"target\":\"$target\",\"round\":$round,\"iops\":$iops,\"instr_per_io\":$((1000000000 / iops))}"
}

# load NAME MODE PARAMS: edublk in MODE with PARAMS, normalised; sets DEV
load() {
	rmmod edublk 2>/dev/null
	# shellcheck disable=SC2046 # one word per parameter
	insmod /modules/edublk.ko mode=$2 poll_queues=2 $(echo "$3" | tr , ' ') ||
		return 1
	DEV=$(ls /sys/kernel/debug/edublk/ | head -n 1)
	[ -n "$DEV" ] || return 1
	normalise $DEV
}

host_root || { echo "bench: no host root (--host-root)"; exit 1; }
insmod /modules/wdmdma.ko || exit 1
insmod /modules/brd.ko rd_nr=1 rd_size=262144 || exit 1
normalise ram0
load reserve reserve "" || { echo "bench: edublk did not load"; exit 1; }
for d in $DEV ram0; do
	dd if=/dev/zero of=/dev/$d bs=1M count=64 oflag=direct 2>/dev/null ||
		{ echo "bench: cannot fill $d"; exit 1; }
done
round=1
while [ $round -le "$ROUNDS" ]; do
	one brd ram0 $round || exit 1
	# shellcheck disable=SC2086 # one word per option
	one brd-batch8 ram0 $round $BATCH || exit 1
	for c in $CONFIGS; do
		name=${c%%:*} rest=${c#*:}
		mode=${rest%%:*} rest=${rest#*:}
		params=${rest%%:*} opts=${rest#*:}
		load $name $mode "$params" || { echo "bench: edublk $name did not load"; exit 1; }
		# shellcheck disable=SC2046 # one word per option
		one edublk-$name $DEV $round $(echo "$opts" | tr , ' ') || exit 1
	done
	round=$((round + 1))
done
grep -E '^(errors|timeouts) ' /sys/kernel/debug/edublk/$DEV/stats
rmmod edublk
echo "bench: done"
