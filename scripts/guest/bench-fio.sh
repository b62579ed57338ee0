#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench` (scripts/bench.sh). Usage:
#   sh bench-fio.sh ROUNDS RUNTIME
# The guest has two edu-sg devices: edublk0 (64-bit DMA) and edublk1
# (32-bit DMA, every page above 4 GiB bounces), plus brd and null_blk.
# For each round, interleaved: edublk0 in each mapping mode (reserve, pdu,
# get, native, and native-sgt where native maps with the block layer's
# iterator), then brd, then null_blk, every fio job on each; io_uring
# submitting 8 at a time on each too, and on edublk polled (--hipri, its
# device's 2 more queues as poll queues); edublk0 in pdu mode with
# interrupt coalescing (edu-sg 1.3) at 4k QD1 and QD32; then the pressure
# runs; at the end the mapping microbenchmark (bench-micro.sh).
# Each result is one console line "BENCH-FIO: {json}" (or BENCH-PRESSURE,
# BENCH-MICRO, BENCH-CMD for the exact fio command lines); scripts/bench.sh
# collects them.
cd /tests && . ./edublk-lib.sh

ROUNDS=${1:-3}
RUNTIME=${2:-3}
MODES="reserve pdu get native"
JOBS="4k-randread-qd1 4k-randread-qd32 4k-randwrite-qd1 4k-randwrite-qd32 128k-read 128k-write 1m-read 1m-write"
ENGINES="io_uring libaio"
# io_uring only: on every target, and on edublk alone (polled queues)
URING_JOBS="4k-randread-qd32-batch8"
EDUBLK_URING_JOBS="4k-randread-qd32-hipri"
# edublk's interrupt coalescing: 8 completions or 50 us (target pdu-coalesced)
COALESCE="irq_coalesce=8 irq_coalesce_us=50"
REGION=64m
OUT=/tmp/bench-fio.json

# job_args JOB: set $jargs to the fio options of a job and $dir to its
# data direction.
job_args() {
	case $1 in
	4k-randread-qd1) dir=read jargs="--rw=randread --bs=4k --iodepth=1" ;;
	4k-randread-qd32) dir=read jargs="--rw=randread --bs=4k --iodepth=32" ;;
	4k-randread-qd32-batch8) dir=read jargs="--rw=randread --bs=4k --iodepth=32 --iodepth_batch_submit=8 --iodepth_batch_complete_min=8" ;;
	4k-randread-qd32-hipri) dir=read jargs="--rw=randread --bs=4k --iodepth=32 --hipri" ;;
	4k-randwrite-qd1) dir=write jargs="--rw=randwrite --bs=4k --iodepth=1" ;;
	4k-randwrite-qd32) dir=write jargs="--rw=randwrite --bs=4k --iodepth=32" ;;
	128k-read) dir=read jargs="--rw=read --bs=128k --iodepth=8" ;;
	128k-write) dir=write jargs="--rw=write --bs=128k --iodepth=8" ;;
	1m-read) dir=read jargs="--rw=read --bs=1m --iodepth=8" ;;
	1m-write) dir=write jargs="--rw=write --bs=1m --iodepth=8" ;;
	*) dir=read jargs="--unknown-job=$1" ;;
	esac
}

# fio_json SECTION: "iops":..,"bw_bytes":..,"lat_p50_ns":.. of the last
# run's SECTION (read or write), from fio's pretty-printed JSON.
fio_json() {
	awk -v want="$1" '
		function num(s) { sub(/,$/, "", s); return s + 0 }
		/^ *"(read|write|trim|sync)" : \{/ {
			sec = $1; gsub(/"/, "", sec); lat = 0; pct = 0 }
		sec == want && /^ *"iops" : / && !seen_iops { iops = num($3); seen_iops = 1 }
		sec == want && /^ *"bw_bytes" : / && !seen_bw { bw = num($3); seen_bw = 1 }
		sec == want && /^ *"clat_ns" : \{/ { lat = 1 }
		sec == want && lat && /^ *"percentile" : \{/ { pct = 1 }
		sec == want && pct && /"50.000000" :/ { p50 = num($3) }
		sec == want && pct && /"99.000000" :/ { p99 = num($3) }
		sec == want && pct && /"99.900000" :/ { p999 = num($3) }
		pct && /^ *\},?$/ { pct = 0; lat = 0 }
		/^ *"error" : / { err += num($3) }
		END {
			# %.0f, as the %d of busybox awk is 32-bit
			printf "\"iops\":%.1f,\"bw_bytes\":%.0f,\"lat_p50_ns\":%.0f,", iops, bw, p50
			printf "\"lat_p99_ns\":%.0f,\"lat_p999_ns\":%.0f,\"errors\":%d", p99, p999, err
		}' /host$OUT
}

# run_job TAG DEV TARGET JOB ENGINE ROUND [EXTRA-JSON]: one fio run and its
# result line. Also prints the exact command line once per job shape.
run_job() {
	local tag=$1 dev=$2 target=$3 job=$4 engine=$5 round=$6 extra=${7:-}
	local args rc res
	job_args "$job"
	args="--name=$job --filename=$dev --direct=1 --ioengine=$engine $jargs"
	args="$args --size=$REGION --time_based --runtime=$RUNTIME --ramp_time=1"
	args="$args --norandommap --randrepeat=0 --output-format=json --output=$OUT --eta=never"
	[ "$round" = 1 ] && echo "BENCH-CMD: fio $args"
	# shellcheck disable=SC2086 # one word per option
	hostrun fio $args > /dev/null 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		res="\"iops\":0,\"bw_bytes\":0,\"lat_p50_ns\":0,\"lat_p99_ns\":0,\"lat_p999_ns\":0,\"errors\":1"
	else
		res=$(fio_json $dir)
	fi
	echo "$tag: {\"target\":\"$target\",\"job\":\"$job\",\"engine\":\"$engine\",\"round\":$round,$extra$res}"
}

# edublk_by_bits N: the name of the edublk disk whose device has N-bit DMA.
edublk_by_bits() {
	local d
	for d in /sys/kernel/debug/edublk/edublk*; do
		[ "$(stat_of $d/stats dma_bits)" = "$1" ] && { basename $d; return 0; }
	done
	return 1
}

# load_mode MODE [PARAM...]: edublk in MODE, its devices' last 2 of 4
# queues polled.
load_mode() {
	local mode=$1
	shift
	rmmod edublk 2>/dev/null
	insmod /modules/edublk.ko mode=$mode poll_queues=2 "$@" || return 1
	sleep 0.5
	DEV64=$(edublk_by_bits 64) && DEV32=$(edublk_by_bits 32) || return 1
	normalise $DEV64
	normalise $DEV32
}

host_root || { echo "bench: no host root (--host-root)"; exit 1; }
insmod /modules/wdmdma.ko || exit 1
insmod /modules/brd.ko rd_nr=1 rd_size=262144 || exit 1
insmod /modules/configfs.ko || exit 1		# null_blk needs it
insmod /modules/null_blk.ko nr_devices=1 queue_mode=2 submit_queues=2 \
	memory_backed=1 gb=1 bs=512 || exit 1
sleep 0.5
normalise ram0
normalise nullb0
# Written once, so reads everywhere return stored data.
load_mode reserve || { echo "bench: edublk did not load"; exit 1; }
for d in /dev/$DEV64 /dev/$DEV32 /dev/ram0 /dev/nullb0; do
	dd if=/dev/zero of=$d bs=1M count=64 oflag=direct 2>/dev/null ||
		{ echo "bench: cannot fill $d"; exit 1; }
done
# mode=native maps a request of several segments with blk_rq_dma_map_iter
# where the kernel has it (6.17 and later; its stats line native_map says
# "iter"): then the sg_table path it takes on older kernels is measured
# too, as target edublk-native-sgt.
load_mode native || { echo "bench: edublk mode=native did not load"; exit 1; }
[ "$(stat_of /sys/kernel/debug/edublk/$DEV64/stats native_map)" = iter ] &&
	MODES="$MODES native-sgt"
echo "bench: $(cat /proc/cpuinfo | grep -c ^processor) vCPUs, $(awk '/MemTotal/ { print $2 }' /proc/meminfo) kB"
echo "bench: edublk modes: $MODES"

round=1
while [ $round -le "$ROUNDS" ]; do
	echo "bench: round $round of $ROUNDS"
	for mode in $MODES; do
		load_mode $mode || { echo "bench: edublk mode=$mode did not load"; exit 1; }
		for job in $JOBS; do
			for eng in $ENGINES; do
				run_job BENCH-FIO /dev/$DEV64 edublk-$mode $job $eng $round
			done
		done
		for job in $URING_JOBS $EDUBLK_URING_JOBS; do
			run_job BENCH-FIO /dev/$DEV64 edublk-$mode $job io_uring $round
		done
	done
	load_mode pdu $COALESCE || { echo "bench: edublk $COALESCE did not load"; exit 1; }
	for job in 4k-randread-qd1 4k-randread-qd32; do
		run_job BENCH-FIO /dev/$DEV64 edublk-pdu-coalesced $job io_uring $round
	done
	for t in ram0:brd nullb0:null_blk; do
		for job in $JOBS; do
			for eng in $ENGINES; do
				run_job BENCH-FIO /dev/${t%%:*} ${t#*:} $job $eng $round
			done
		done
		for job in $URING_JOBS; do
			run_job BENCH-FIO /dev/${t%%:*} ${t#*:} $job io_uring $round
		done
	done

	# Pressure: 4k QD32 with wdmdma's allocation-failure injection (native
	# modes: the same knob fails their scatterlist or range-array
	# allocations), and on the 32-bit device while a 512 KiB reader keeps
	# the map registers (native: swiotlb, booted small) exhausted.
	for mode in $MODES; do
		load_mode $mode || exit 1
		for pct in 0 50 100; do
			fail_alloc $pct || { echo "bench: cannot set allocation-failure injection to $pct%"; exit 1; }
			run_job BENCH-PRESSURE /dev/$DEV64 edublk-$mode 4k-randread-qd32 io_uring $round \
				"\"condition\":\"alloc-fail\",\"level\":$pct,"
		done
		fail_alloc 0 || exit 1
		hostrun fio --name=hog --filename=/dev/$DEV32 --direct=1 --ioengine=libaio \
			--rw=read --bs=512k --iodepth=8 --offset=128m --size=64m \
			--time_based --runtime=$((RUNTIME + 3)) --output=/dev/null > /dev/null 2>&1 &
		hog=$!
		sleep 1
		run_job BENCH-PRESSURE /dev/$DEV32 edublk-$mode 4k-randread-qd32 io_uring $round \
			"\"condition\":\"map-regs\",\"level\":0,"
		wait $hog
		echo "BENCH-STATS: mode=$mode $(grep -E '^(errors|native_requeues|timeouts) ' \
			/sys/kernel/debug/edublk/$DEV32/stats | tr '\n' ' ')"
	done
	round=$((round + 1))
done
rmmod edublk

sh ./bench-micro.sh "$ROUNDS" || echo "bench: the microbenchmark failed"
rmmod null_blk
rmmod brd
rmmod wdmdma
echo "bench: done"
