#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job (`make run`): boot a guest with QEMU's stock edu device, load
# wdmdma and edublk, write the whole edublk disk with fio and read it back
# verified (crc32c), then print a short summary. Every byte moves between
# fio's buffers and the disk's medium by real edu DMAs, through lists from
# wdmdma. Exits non-zero on any I/O error, verify mismatch or kernel report.
#
# Builds only what is missing: the test kernel (cached by
# scripts/build-kernel.sh) and the modules (an incremental build in the
# cache). Takes about three minutes, most of it edu DMAs: each takes 100 ms
# of QEMU virtual time, and -icount lets idle time jump ahead.
#
# With WDMDMA_RUN_DEVICE=edu-sg (`make run DEVICE=edu-sg`) the guest gets
# this project's edu-sg device instead (2 vCPUs, 2 queues, MSI-X, 16 MiB
# medium), from QEMU built with it by scripts/build-qemu.sh (cached; the
# first build takes a few minutes). That run takes well under a minute.
#
# Environment:
#   WDMDMA_RUN_DEVICE   edu (default) or edu-sg
#   WDMDMA_RUN_SERIES   test kernel series (default: the newest of
#                       WDMDMA_SERIES; any series build-kernel.sh takes)
#   WDMDMA_RUN_ARGS     extra edublk module parameters, e.g. "mode=get"

set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${WDMDMA_RUN_SERIES:-$WDMDMA_NEWEST_SERIES}
edublk_args=${WDMDMA_RUN_ARGS:-}
device=${WDMDMA_RUN_DEVICE:-edu}
start=$(date +%s)
case $device in
edu|edu-sg) ;;
*) die "WDMDMA_RUN_DEVICE (make run DEVICE=...) must be edu or edu-sg, not '$device'" ;;
esac

apt_ensure build-essential bc bison flex libelf-dev libssl-dev cpio kmod \
	xz-utils python3 busybox-static qemu-system-x86 file fio

log "test kernel $series (cached after the first build)"
kdir=$("$WDMDMA_TOP/scripts/build-kernel.sh" "$series") ||
	die "the $series test kernel did not build"

out=$WDMDMA_CACHE/run-build-$series
build_modules_incremental "$kdir" "$out"

if [ "$device" = edu-sg ]; then
	log "QEMU with edu-sg (cached after the first build)"
	qemu=$("$WDMDMA_TOP/scripts/build-qemu.sh") || die "QEMU with edu-sg did not build"
	guest=(--qemu "$qemu" --no-edu --device edu-sg,queues=2 --smp 2)
	what="2 vCPUs, edu-sg device (2 queues)"
else
	# -icount shift=0,sleep=off: one guest instruction is 1 ns of virtual
	# time and idle time jumps to the next timer, so the edu's 100 ms per
	# DMA cost little wall time. One vCPU: with two, each 100 ms of
	# virtual time costs twice the timer-tick emulation. shift=0 keeps the
	# KASAN+lockdep kernel fast enough in virtual time that RCU sees no
	# stalls.
	guest=(--smp 1 --qemu-arg -icount --qemu-arg shift=0,sleep=off)
	what="1 vCPU, edu device"
fi

mkdir -p "$WDMDMA_CACHE/logs"
glog=$WDMDMA_CACHE/logs/run-$(date +%Y%m%d-%H%M%S).log
log "booting the guest: 1 GiB, $what, fio from the host root"
log "console log: $glog"
set +e
# shellcheck disable=SC2086 # $edublk_args: one word per module parameter
"$WDMDMA_TOP/scripts/run-guest.sh" --kernel "$kdir/arch/x86/boot/bzImage" \
	--mem 1G --host-root --timeout 600 --quiet --log "$glog" "${guest[@]}" \
	--module "$out/src/wdmdma/wdmdma.ko" --module "$out/src/edublk/edublk.ko" \
	--file "$WDMDMA_TOP/scripts/guest/edublk-lib.sh" \
	--file "$WDMDMA_TOP/scripts/guest/edublk-run.sh" \
	-- sh edublk-run.sh $edublk_args
grc=$?
verdict=$(python3 "$WDMDMA_TOP/scripts/verdict.py" --label run "$glog")
vrc=$?
set -e
elapsed=$(( $(date +%s) - start ))

# val KEY: the value the guest printed as "edublk-run: KEY VALUE".
val() {
	tr -d '\r' < "$glog" | sed -n "s/.*edublk-run: $1 \([^ ]*\).*/\1/p" | tail -n 1
}

dev=$(val device_bytes)
written=$(val written_bytes)
verified=$(val verified_bytes)
ok=1
[ $grc -eq 0 ] && [ $vrc -eq 0 ] || ok=0
[ -n "$dev" ] && [ "$written" = "$dev" ] && [ "$verified" = "$dev" ] || ok=0

echo
echo "edublk run: QEMU $device device, $series test kernel (KASAN, lockdep), 1 GiB guest"
printf '  %-14s %s\n' \
	"disk" "edublk0, $(( ${dev:-0} / 1048576 )) MiB, mode $(val mode), $(val map_registers) map registers per transfer" \
	"fio" "wrote ${written:-?} bytes, read back and verified ${verified:-?} (crc32c), $(val requests) requests"
if [ "$device" = edu-sg ]; then
	printf '  %-14s %s\n' \
		"edu-sg" "$(val dev_cmds) commands (scatter/gather), interrupts by $(val irq_mode)" \
		"queue 0" "$(val q0_completed) commands completed" \
		"queue 1" "$(val q1_completed) commands completed"
else
	printf '  %-14s %s\n' \
		"edu DMAs" "$(val dma_transfers) transfers, $(val dma_bytes) bytes (RAM <-> edu buffer <-> medium)"
fi
printf '  %-14s %s\n' \
	"list memory" "$(val reserve_allocs) kmalloc'ed Build buffers, $(val emergency_hits) emergency-buffer hits, $(val emergency_waits) waits for one" \
	"wdmdma" "$(val wdmdma_deferred) requests deferred for map registers, $(val wdmdma_bounced) lists bounced" \
	"errors" "$(val errors) I/O errors, $(val timeouts) timeouts" \
	"elapsed" "${elapsed} s wall (the guest's clock saw $(val guest_seconds) s: virtual time)"
if [ $ok -eq 1 ]; then
	echo "  result         PASS"
	exit 0
fi
echo "$verdict" | sed 's/^/  /'
echo "  result         FAIL (console log: $glog)"
exit 1
