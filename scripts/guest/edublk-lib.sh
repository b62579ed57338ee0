# SPDX-License-Identifier: GPL-2.0
# Helpers for the edublk guest checks (busybox sh). Source it from /tests:
#   . ./edublk-lib.sh
# Each check prints "wdmdma-check: ok NAME" or "wdmdma-check: not ok NAME";
# edublk_finish exits non-zero if any failed.

EDUBLK_FAILED=0
EDUBLK_DEV=/dev/edublk0
EDUBLK_DBG=/sys/kernel/debug/edublk/edublk0
# Where fio (run through hostrun, in the host root) keeps its output.
EDUBLK_FIO_OUT=/tmp/edublk-fio.json

# ok NAME / not_ok NAME [WHY]: report one check.
ok() {
	echo "wdmdma-check: ok $1"
}

not_ok() {
	echo "wdmdma-check: not ok $1"
	[ -n "${2:-}" ] && echo "edublk-check: $1: $2"
	EDUBLK_FAILED=1
}

# check NAME CMD...: ok if CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

# expect_gt NAME VALUE MIN: ok if VALUE > MIN (integers).
expect_gt() {
	if [ -n "$2" ] && [ "$2" -gt "$3" ] 2>/dev/null; then
		ok "$1"
	else
		not_ok "$1" "got '$2', want > $3"
	fi
}

# expect_eq NAME VALUE WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', want '$3'"; fi
}

edublk_finish() {
	if [ $EDUBLK_FAILED -ne 0 ]; then
		echo "edublk-check: some checks failed"
		exit 1
	fi
	exit 0
}

# Wait up to 5 s for the disk node.
wait_disk() {
	local i=0
	while [ ! -b $EDUBLK_DEV ]; do
		i=$((i + 1))
		[ $i -gt 50 ] && return 1
		sleep 0.1
	done
}

load_wdmdma() {
	insmod /modules/wdmdma.ko verifier=1 "$@"
}

load_edublk() {
	insmod /modules/edublk.ko "$@" && wait_disk
}

# fail_alloc PCT: wdmdma's allocation-failure injection for every adapter
# through the kernel's fault-injection knobs (wdmdma loaded): PCT percent
# of allocations fail, from now on, with no report per failure; 0 stops
# it. Returns non-zero if the knobs are missing or refuse the values.
WDMDMA_FAIL_ALLOC=/sys/kernel/debug/wdmdma/fail_alloc
fail_alloc() {
	local d=$WDMDMA_FAIL_ALLOC
	[ -d $d ] || { echo "edublk-check: no $d"; return 1; }
	if [ "$1" -eq 0 ]; then
		echo 0 > $d/probability
		return
	fi
	echo 0 > $d/verbose && echo 1 > $d/interval && echo -1 > $d/times &&
		echo "$1" > $d/probability
}

unload_all() {
	rmmod edublk 2>/dev/null
	rmmod wdmdma 2>/dev/null
	! grep -qE '^(edublk|wdmdma) ' /proc/modules
}

# stat FILE NAME: value of the line "NAME value" in FILE.
stat_of() {
	awk -v n="$2" '$1 == n { print $2; exit }' "$1" 2>/dev/null
}

edublk_stat() {
	stat_of $EDUBLK_DBG/stats "$1"
}

# wdmdma_stat NAME: summed over every adapter.
wdmdma_stat() {
	cat /sys/kernel/debug/wdmdma/*/stats 2>/dev/null |
		awk -v n="$1" '$1 == n { s += $2 } END { print s + 0 }'
}

dump_stats() {
	echo "edublk-stats: --- $EDUBLK_DBG/stats"
	sed 's/^/edublk-stats: /' $EDUBLK_DBG/stats
	for f in /sys/kernel/debug/wdmdma/*/stats; do
		[ -e "$f" ] || continue
		echo "edublk-stats: --- $f"
		sed 's/^/edublk-stats: wdmdma./' "$f"
	done
}

# host_root: make sure the host root is at /host. (The guest init's test
# for 9p support greps for ' 9p$', but /proc/filesystems has a tab there.)
# cache=loose: the share is read-only and the host does not change under
# us; it makes a second start of fio several times faster.
host_root() {
	[ -d /host/usr/bin ] && return 0
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro,cache=loose \
		hostroot /host
}

# run_fio NAME [FIO-ARGS...] < JOBFILE: run Debian's fio (through hostrun,
# in the host root) on the disk, or on $EDUBLK_FIO_FILE if set (a
# partition), with the job file read from stdin; ok if fio exits 0. Its
# JSON report stays in $EDUBLK_FIO_OUT (inside hostrun).
EDUBLK_FIO_FILE=
run_fio() {
	local name=$1 rc
	shift
	if ! host_root || ! hostrun true; then
		cat > /dev/null
		not_ok "$name" "hostrun does not work (run the guest with --host-root)"
		return 1
	fi
	cat > /host/tmp/edublk.fio
	# No ETA lines on the console; no verify state files (/ is read-only).
	hostrun fio --output-format=json --output=$EDUBLK_FIO_OUT --eta=never \
		--verify_state_save=0 --filename=${EDUBLK_FIO_FILE:-$EDUBLK_DEV} \
		"$@" /tmp/edublk.fio
	rc=$?
	if [ $rc -ne 0 ]; then
		hostrun grep -E '"(error|jobname)"' $EDUBLK_FIO_OUT 2>/dev/null
		not_ok "$name" "fio exited $rc"
		return 1
	fi
	ok "$name"
}

# The [global] section of every verify job: direct I/O through libaio at
# queue depth 16, crc32c verify, stop at the first mismatch.
FIO_VERIFY_GLOBAL='[global]
ioengine=libaio
direct=1
iodepth=16
verify=crc32c
verify_fatal=1
disk_util=0'

# run_fio_verify NAME [FIO-ARGS...] < JOBS: run_fio with FIO_VERIFY_GLOBAL
# before the job sections read from stdin.
run_fio_verify() {
	local jobs
	jobs=$(cat)
	run_fio "$@" <<EOF
$FIO_VERIFY_GLOBAL

$jobs
EOF
}

# fio_sum SECTION: bytes fio moved in SECTION (read or write) over all jobs
# of the last run; fio_sum error: the sum of the jobs' error codes. Reads
# fio's pretty-printed JSON with awk (python would take seconds to start).
fio_sum() {
	awk -v want="$1" '
		/^ *"(read|write|trim|sync)" : \{/ { sec = $1; gsub(/"/, "", sec) }
		/^ *"io_bytes" : / && sec == want { v = $3; sub(/,/, "", v); s += v; sec = "" }
		/^ *"error" : / && want == "error" { v = $3; sub(/,/, "", v); s += v }
		END { print s + 0 }' /host$EDUBLK_FIO_OUT
}

# A disk read or write of one block with dd; returns dd's status.
dd_read() {
	dd if=$EDUBLK_DEV of=/dev/null bs=4096 count=1 skip="${1:-0}" iflag=direct 2>/dev/null
}

# --- Tracepoints (tracefs) ---------------------------------------------------
# trace_start [SYSTEM...]: record the events of SYSTEM (default: wdmdma
# and edublk) from an empty buffer (tracefs mounted at /sys/kernel/tracing
# if it is not). Returns non-zero if tracefs or the events are missing.
EDUBLK_TRACE=/sys/kernel/tracing
trace_start() {
	local t=$EDUBLK_TRACE s
	[ $# -gt 0 ] || set -- wdmdma edublk
	[ -d $t/events ] || mount -t tracefs nodev $t 2>/dev/null
	echo 0 > $t/tracing_on && echo 4096 > $t/buffer_size_kb &&
		echo > $t/trace || return 1
	for s in "$@"; do
		[ -d $t/events/$s ] || {
			echo "edublk-check: no $s events in $t/events"
			return 1
		}
		echo 1 > $t/events/$s/enable || return 1
	done
	echo 1 > $t/tracing_on
}

# trace_stop: stop recording, keep the trace in /tmp/trace.txt, and the
# events the buffer lost (overruns) in TRACE_LOST.
trace_stop() {
	local t=$EDUBLK_TRACE
	echo 0 > $t/tracing_on
	echo 0 > $t/events/enable
	cat $t/trace > /tmp/trace.txt
	TRACE_LOST=$(cat $t/per_cpu/cpu*/stats |
		awk '$1 == "overrun:" { s += $2 } END { print s + 0 }')
	echo > $t/trace
}

# trace_count EVENT...: how many of these events /tmp/trace.txt holds.
trace_count() {
	awk -v names="$*" 'BEGIN { n = split(names, e, " ")
			for (i = 1; i <= n; i++) want[e[i] ":"] = 1 }
		/^#/ { next }
		{ for (i = 1; i <= NF; i++) if ($i in want) { s++; break } }
		END { print s + 0 }' /tmp/trace.txt
}

# normalise DISK: one-core-peak style queue settings for a benchmark: no
# scheduler, no merges, no iostats.
normalise() {
	local q=/sys/block/$1/queue
	echo none > $q/scheduler 2>/dev/null
	echo 2 > $q/nomerges
	echo 0 > $q/iostats
}
