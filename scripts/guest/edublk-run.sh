#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make run` (scripts/run.sh): load wdmdma and edublk, write
# the whole disk with fio and read it back verified (crc32c), then print
# "edublk-run: KEY VALUE" lines that run.sh turns into a summary.
# Needs the host root (--host-root): fio runs through hostrun.
cd /tests && . ./edublk-lib.sh

# Arguments: extra edublk module parameters (WDMDMA_RUN_ARGS in run.sh).
load_wdmdma || { not_ok "run: load wdmdma"; edublk_finish; }
load_edublk "$@" || { not_ok "run: load edublk $*"; edublk_finish; }
size=$(cat /sys/block/edublk0/size)
echo "edublk-run: device_bytes $((size * 512))"
echo "edublk-run: mode $(edublk_stat mode)"
echo "edublk-run: map_registers $(edublk_stat map_registers)"

start=$(date +%s)
run_fio_verify "run: fio write + crc32c verify of the whole disk" <<'JOB'

# Two jobs, each on its half: on edu-sg with two vCPUs they tend to run on
# both, and so on both hardware queues.
[whole-disk]
rw=write
bs=64k
numjobs=2
size=50%
offset_increment=50%
JOB
echo "edublk-run: fio_status $?"
echo "edublk-run: guest_seconds $(( $(date +%s) - start ))"
echo "edublk-run: written_bytes $(fio_sum write)"
echo "edublk-run: verified_bytes $(fio_sum read)"
echo "edublk-run: fio_errors $(fio_sum error)"
for n in requests dma_transfers dma_bytes reserve_allocs reserve_alloc_fails \
	 emergency_hits emergency_waits errors timeouts; do
	echo "edublk-run: $n $(edublk_stat $n)"
done
if [ "$(edublk_stat device)" = edu-sg ]; then
	for n in irq_mode dev_cmds; do
		echo "edublk-run: $n $(edublk_stat $n)"
	done
	awk '$1 ~ /^q[0-9]+$/ { print "edublk-run: " $1 "_completed " $5 }' $EDUBLK_DBG/stats
fi
for n in built deferred bounced map_regs_high verifier_errors; do
	echo "edublk-run: wdmdma_$n $(wdmdma_stat $n)"
done
check "run: no I/O errors in the driver" [ "$(edublk_stat errors)" = 0 ]
check "run: unload edublk and wdmdma" unload_all
edublk_finish
