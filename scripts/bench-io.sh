#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-io`: the guest's cost of a 4k random read at queue depth 32,
# in guest instructions per I/O, exactly and repeatably whatever else the
# host runs. One guest on the bench kernel (as `make bench`), 2 vCPUs under
# QEMU's -icount shift=0,sleep=off (one ns of guest time is one guest
# instruction; the device model's own work in QEMU costs no guest time),
# one edu-sg device (4 queues, 2 of them polled) and brd: fio io_uring on
# brd, then on edublk in several configurations (scripts/guest/
# bench-io-icount.sh), interleaved, WDMDMA_BENCH_ROUNDS rounds (default 2)
# of WDMDMA_BENCH_RUNTIME guest seconds (default 3). Prints a table of
# median IOPS, instructions per I/O and the ratio to brd, with the machine,
# kernel and QEMU beside it, and writes $WDMDMA_CACHE/bench-io-<date>.json.
# About 3 minutes. Not wall-clock speed: `make bench` measures that.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

rounds=${WDMDMA_BENCH_ROUNDS:-2}
runtime=${WDMDMA_BENCH_RUNTIME:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "WDMDMA_BENCH_ROUNDS must be a positive integer, not '$rounds'"
[[ $runtime =~ ^[1-9][0-9]*$ ]] || die "WDMDMA_BENCH_RUNTIME must be a positive integer, not '$runtime'"
series=${WDMDMA_BENCH_SERIES:-${WDMDMA_KNOWN_SERIES##* }}

apt_ensure build-essential bc bison flex libelf-dev libssl-dev cpio kmod \
	xz-utils python3 busybox-static qemu-system-x86 file fio util-linux
bench_build "$series"
fio=$("$WDMDMA_TOP/scripts/build-fio.sh") || die "the guests' fio did not build"

commit=$(git -C "$WDMDMA_TOP" describe --always --dirty --abbrev=12 2>/dev/null) ||
	commit=unknown
meta="host: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores;"
meta="$meta kernel: $(cat "$kdir/include/config/kernel.release") (bench config);"
meta="$meta $("$qemu" --version | head -n 1); wdmdma $commit"
log "$meta"
mkdir -p "$WDMDMA_CACHE/logs"
stamp=$(date +%Y%m%d-%H%M%S)
glog=$WDMDMA_CACHE/logs/bench-io-$stamp.log
dst=$WDMDMA_CACHE/bench-io-$stamp.json
log "running the guest ($rounds rounds of ${runtime} guest seconds; about $((rounds + 1)) min); console log: $glog"
rc=0
"$WDMDMA_TOP/scripts/run-guest.sh" --kernel "$kdir/arch/x86/boot/bzImage" --qemu "$qemu" \
	--no-edu --smp 2 --mem 2G --host-root \
	--qemu-arg -icount --qemu-arg shift=0,sleep=off \
	--device edu-sg,queues=4,size=256M \
	--timeout $((rounds * 600 + 300)) --quiet --log "$glog" \
	--module "$out/src/wdmdma/wdmdma.ko" --module "$out/src/edublk/edublk.ko" \
	--module "$kdir/drivers/block/brd.ko" \
	--file "$WDMDMA_TOP/scripts/guest/edublk-lib.sh" \
	--file "$WDMDMA_TOP/scripts/guest/bench-io-icount.sh" --file "$fio" \
	-- sh bench-io-icount.sh "$rounds" "$runtime" || rc=$?
[ $rc -eq 0 ] || die "the guest failed (status $rc; console log: $glog)"
grep -q '^bench: done' <(tr -d '\r' < "$glog") || die "the guest did not finish (console log: $glog)"
/usr/bin/python3 - "$glog" "$dst" "$meta" <<'PY'
import json, statistics, sys
log, dst, meta = sys.argv[1:]
recs = [json.loads(l.split("BENCH-IO: ", 1)[1]) for l in
        open(log, errors="replace").read().replace("\r", "").splitlines()
        if l.startswith("BENCH-IO: ")]
if not recs:
    sys.exit("bench-io: no results in " + log)
json.dump({"meta": meta, "io": recs}, open(dst, "w"), indent=1)
order = list(dict.fromkeys(r["target"] for r in recs))
med = {t: statistics.median(r["iops"] for r in recs if r["target"] == t)
       for t in order}
print(meta)
print("4k random read QD32, io_uring; -icount shift=0: guest instructions "
      "per I/O = 1e9 / IOPS (medians of %d rounds)" %
      max(r["round"] for r in recs))
print("%-26s %10s %14s %8s" % ("target", "IOPS", "instr per I/O", "x brd"))
for t in order:
    ref = med["brd-batch8" if t.endswith("batch8") else "brd"]
    print("%-26s %10.0f %14.0f %7.2fx" % (t, med[t], 1e9 / med[t],
                                          med[t] / ref))
print("results: " + dst)
PY
