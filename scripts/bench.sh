#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boot one guest with two edu-sg devices (2 vCPUs, 6 GiB),
# brd and null_blk, and run, interleaved and repeated:
#   - fio (io_uring and libaio, direct=1): 4k randread/randwrite at QD1 and
#     QD32, 128 KiB and 1 MiB sequential read and write, on edublk in its
#     reserve, pdu, get, native (and native-sgt where native takes
#     blk_rq_dma_map_iter) modes, on brd and on null_blk; 4k randread QD32
#     through io_uring submitting 8 at a time on each, and polled
#     (--hipri, edublk's poll queues) on edublk; 4k randread QD1 and QD32
#     on edublk with interrupt coalescing (edu-sg 1.3);
#   - pressure: 4k QD32 at 0/50/100% allocation-failure injection, and on a
#     32-bit device whose map registers (native: swiotlb) a 512 KiB reader
#     keeps exhausted;
#   - the mapping microbenchmark (src/bench/wdmdma_bench.c);
# then, in a second guest (q35 with intel-iommu and the stock edu device),
# the microbenchmark's rows for a device behind a translating IOMMU: wdmdma
# with and without linking one IOVA range, against dma_map_sgtable(),
# dma_map_page_attrs() and dma_iova_link().
# Then writes docs/benchmarks.json, docs/benchmarks.md and docs/bench-*.png
# (scripts/bench-report.py).
#
# The guests run the "bench" kernel of the newest series
# (WDMDMA_BENCH_SERIES picks another): the test kernel's configuration
# without KASAN, lockdep, kmemleak and DMA-API debug
# (qemu/kconfig/bench/no-debug.config), built and cached on first use.
#
# `scripts/bench.sh --micro` (`make bench-micro`) runs only the mapping
# microbenchmark, in a guest with nothing else (same kernel, QEMU, vCPUs,
# memory and swiotlb), then its IOMMU rows in the second guest, writes
# $WDMDMA_CACHE/bench-micro-<date>.json and
# prints its table (scripts/bench-report.py --micro-text), beside the
# figures of docs/benchmarks.json (WDMDMA_BENCH_PREVIOUS names another
# document; empty: none). It leaves docs/ alone.
#
# Environment:
#   WDMDMA_BENCH_ROUNDS   rounds (default 3)
#   WDMDMA_BENCH_RUNTIME  seconds per fio run, after 1 s of ramp (default 2)
#   WDMDMA_BENCH_PREVIOUS --micro: earlier results to compare with
#   WDMDMA_BENCH_SERIES   kernel series (default: the newest the scripts know, 7.3)
#   WDMDMA_BENCH_ICOUNT   --micro only: 1 runs both guests with one vCPU
#                         under QEMU's -icount shift=0, where one ns of
#                         guest time is one guest instruction: the table
#                         then counts instructions per operation, exactly
#                         and repeatably, whatever else the host runs
#                         (compare only with another icount run)

set -euo pipefail
. "$(dirname "$0")/lib.sh"

micro=0
case "${1:-}" in
--micro) micro=1 ;;
"") ;;
*) die "usage: scripts/bench.sh [--micro]" ;;
esac
rounds=${WDMDMA_BENCH_ROUNDS:-3}
runtime=${WDMDMA_BENCH_RUNTIME:-2}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "WDMDMA_BENCH_ROUNDS must be a positive integer, not '$rounds'"
[[ $runtime =~ ^[1-9][0-9]*$ ]] || die "WDMDMA_BENCH_RUNTIME must be a positive integer, not '$runtime'"
series=${WDMDMA_BENCH_SERIES:-${WDMDMA_KNOWN_SERIES##* }}
case " $WDMDMA_KNOWN_SERIES " in
*" $series "*) ;;
*) die "WDMDMA_BENCH_SERIES must be one of $WDMDMA_KNOWN_SERIES, not '$series'" ;;
esac
icount=${WDMDMA_BENCH_ICOUNT:-0}
case "$icount" in
0) ;;
1) [ $micro -eq 1 ] || die "WDMDMA_BENCH_ICOUNT=1 is for the microbenchmark alone (make bench-micro)" ;;
*) die "WDMDMA_BENCH_ICOUNT must be 0 or 1, not '$icount'" ;;
esac
docs=$WDMDMA_TOP/docs
start=$(date +%s)
# An icount run compares only with another icount run: no default.
if [ "$icount" = 1 ]; then
	previous=${WDMDMA_BENCH_PREVIOUS-}
else
	previous=${WDMDMA_BENCH_PREVIOUS-$docs/benchmarks.json}
fi
[ -z "$previous" ] || [ -f "$previous" ] || {
	[ "$previous" = "$docs/benchmarks.json" ] ||
		die "WDMDMA_BENCH_PREVIOUS: no file $previous"
	previous=
}

if [ $micro -eq 1 ]; then
	apt_ensure build-essential bc bison flex libelf-dev libssl-dev cpio kmod \
		xz-utils python3 busybox-static qemu-system-x86 file util-linux
else
	apt_ensure build-essential bc bison flex libelf-dev libssl-dev cpio kmod \
		xz-utils python3 busybox-static qemu-system-x86 file fio \
		python3-matplotlib util-linux
fi

bench_build "$series"
if [ $micro -eq 0 ]; then
	gcc -O2 -Wall -o "$out/memcpy-bw" "$WDMDMA_TOP/scripts/tools/memcpy-bw.c" ||
		die "memcpy-bw did not build"
fi

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
cores=$(nproc)
mem_gib=$(awk '/MemTotal/ { printf "%d", $2 / 1048576 + 0.5 }' /proc/meminfo)
memcpy=null
[ $micro -eq 1 ] || memcpy=$("$out/memcpy-bw")
qver=$("$qemu" --version | head -n 1)
krel=$(cat "$kdir/include/config/kernel.release")
kver=$(kernel_source_version "$series")
# The sources the modules were built from (-dirty: with uncommitted changes).
commit=$(git -C "$WDMDMA_TOP" describe --always --dirty --abbrev=12 2>/dev/null) ||
	commit=unknown
log "host: $cpu, $cores cores, $mem_gib GiB, memcpy $memcpy GB/s"
log "kernel: $krel (Debian linux-source-$series $kver, bench config)"
log "QEMU: $qver"
log "wdmdma: $commit"

# The guests' vCPUs and clock.
clock=wall
clock_args=(--smp 2)
vcpus="2 vCPUs"
if [ "$icount" = 1 ]; then
	clock=icount
	clock_args=(--smp 1 --qemu-arg -icount --qemu-arg shift=0,sleep=off)
	vcpus="1 vCPU, -icount shift=0 (ns = instructions)"
	log "icount: one vCPU, each guest ns is one guest instruction"
fi

mkdir -p "$WDMDMA_CACHE/logs"
stamp=$(date +%Y%m%d-%H%M%S)
if [ $micro -eq 1 ]; then
	glog=$WDMDMA_CACHE/logs/bench-micro-$stamp.log
	dst=$WDMDMA_CACHE/bench-micro-$stamp.json
	guest="TCG, $vcpus, 6 GiB, swiotlb=1024 (2 MiB), microbenchmark only"
	log "running the guest ($rounds rounds of the microbenchmark, about 10 s each, after a 20 s boot); console log: $glog"
	guest_rc=0
	"$WDMDMA_TOP/scripts/run-guest.sh" --kernel "$kdir/arch/x86/boot/bzImage" --qemu "$qemu" \
		--no-edu "${clock_args[@]}" --mem 6G --append swiotlb=1024 \
		--timeout $((rounds * 300 + 600)) --quiet --log "$glog" \
		--module "$out/src/wdmdma/wdmdma.ko" \
		--module "$out/src/bench/wdmdma_bench.ko" \
		--file "$WDMDMA_TOP/scripts/guest/bench-micro.sh" \
		-- sh bench-micro.sh "$rounds" || guest_rc=$?
	[ $guest_rc -eq 0 ] || die "the microbenchmark guest failed (status $guest_rc; console log: $glog)"
else
	glog=$WDMDMA_CACHE/logs/bench-$stamp.log
	dst=$docs/benchmarks.json
	guest="TCG, 2 vCPUs, 6 GiB, swiotlb=1024 (2 MiB), edu-sg x2 (64-bit and 32-bit DMA, 4 queues (2 polled), 256 MiB)"
	log "running the guest ($rounds rounds, ${runtime}s per fio run; about $((rounds * (150 * (runtime + 3)) / 60 + 5)) min); console log: $glog"
	guest_rc=0
	"$WDMDMA_TOP/scripts/run-guest.sh" --kernel "$kdir/arch/x86/boot/bzImage" --qemu "$qemu" \
		--no-edu --smp 2 --mem 6G --host-root --append swiotlb=1024 \
		--device edu-sg,queues=4,size=256M --device edu-sg,queues=4,size=256M,dma_bits=32 \
		--timeout $((rounds * 150 * (runtime + 6) + 1800)) --quiet --log "$glog" \
		--module "$out/src/wdmdma/wdmdma.ko" --module "$out/src/edublk/edublk.ko" \
		--module "$out/src/bench/wdmdma_bench.ko" \
		--module "$kdir/fs/configfs/configfs.ko" \
		--module "$kdir/drivers/block/null_blk/null_blk.ko" \
		--module "$kdir/drivers/block/brd.ko" \
		--file "$WDMDMA_TOP/scripts/guest/edublk-lib.sh" \
		--file "$WDMDMA_TOP/scripts/guest/bench-fio.sh" \
		--file "$WDMDMA_TOP/scripts/guest/bench-micro.sh" \
		-- sh bench-fio.sh "$rounds" "$runtime" || guest_rc=$?
	[ $guest_rc -eq 0 ] || die "the benchmark guest failed (status $guest_rc; console log: $glog)"
	mkdir -p "$docs"
fi

# The IOMMU rows: q35 with intel-iommu, the stock edu device in a DMA
# domain, bound to no driver; the rest as above.
ilog=$WDMDMA_CACHE/logs/bench-iommu-$stamp.log
guest="$guest; IOMMU rows: a second guest, q35 + intel-iommu, the stock edu device"
log "running the IOMMU guest ($rounds rounds of the microbenchmark); console log: $ilog"
guest_rc=0
"$WDMDMA_TOP/scripts/run-guest.sh" --kernel "$kdir/arch/x86/boot/bzImage" --qemu "$qemu" \
	--iommu "${clock_args[@]}" --mem 6G --append swiotlb=1024 \
	--timeout $((rounds * 300 + 600)) --quiet --log "$ilog" \
	--module "$out/src/wdmdma/wdmdma.ko" \
	--module "$out/src/bench/wdmdma_bench.ko" \
	--file "$WDMDMA_TOP/scripts/guest/bench-micro.sh" \
	-- sh bench-micro.sh "$rounds" iommu || guest_rc=$?
[ $guest_rc -eq 0 ] || die "the IOMMU microbenchmark guest failed (status $guest_rc; console log: $ilog)"

# The config options that matter for the numbers.
config=$(grep -E '^(# )?CONFIG_(KASAN|PROVE_LOCKING|DEBUG_KMEMLEAK|DMA_API_DEBUG|SWIOTLB|IOMMU_SUPPORT|INTEL_IOMMU|HZ|PREEMPT[A-Z_]*|SMP|NR_CPUS|IO_URING|SG_POOL)[= ]' \
	"$kdir/.config" | grep -v '^# .* is not set$' || true)
WDMDMA_BENCH_META=$(python3 -c '
import json, sys
a = sys.argv[1:]
meta = {
    "date": a[0], "host_cpu": a[1], "host_cores": int(a[2]),
    "host_mem_gib": int(a[3]), "host_memcpy_gbps": json.loads(a[4]),
    "kernel": a[5], "kernel_config": a[6].splitlines() + ["(plus qemu/kconfig/*.config and qemu/kconfig/bench/*.config)"],
    "qemu": a[7], "guest": a[8], "rounds": int(a[9]),
    "kernel_release": a[11], "wdmdma_commit": a[12], "clock": a[13]}
if a[10]:
    meta["runtime_s"] = int(a[10])
print(json.dumps(meta))
' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$cpu" "$cores" "$mem_gib" "$memcpy" \
	"$krel (Debian linux-source-$series $kver, test config without debugging)" \
	"$config" "$qver" "$guest" "$rounds" "$([ $micro -eq 1 ] || echo "$runtime")" \
	"$krel" "$commit" "$clock")
export WDMDMA_BENCH_META WDMDMA_BENCH_MICRO_ONLY=$micro
python3 - "$glog" "$ilog" "$dst" <<'PY'
import json, os, re, sys

log, ilog, dst = sys.argv[1], sys.argv[2], sys.argv[3]
micro_only = os.environ["WDMDMA_BENCH_MICRO_ONLY"] == "1"
doc = {"meta": json.loads(os.environ["WDMDMA_BENCH_META"]),
       "fio": [], "pressure": [], "micro": []}
commands = []
ts = re.compile(r"^\[\s*\d+\.\d+\]\s?")
with open(log, errors="replace") as f:
    first = f.readline()
    doc["meta"]["qemu_cmdline"] = first[2:].strip() if first.startswith("+ ") else ""
    for line in f:
        line = ts.sub("", line.rstrip("\r\n"))
        for tag, key in (("BENCH-FIO: ", "fio"), ("BENCH-PRESSURE: ", "pressure"),
                         ("BENCH-MICRO: ", "micro")):
            if line.startswith(tag):
                doc[key].append(json.loads(line[len(tag):]))
        if line.startswith("BENCH-CMD: "):
            cmd = line[len("BENCH-CMD: "):]
            if cmd not in commands:
                commands.append(cmd)
# The IOMMU guest: only its rows for the device behind the IOMMU (its
# platform-device rows repeat the first guest's in another machine).
iommu_rows = 0
with open(ilog, errors="replace") as f:
    first = f.readline()
    icmd = first[2:].strip() if first.startswith("+ ") else ""
    for line in f:
        line = ts.sub("", line.rstrip("\r\n"))
        if line.startswith("BENCH-MICRO: "):
            rec = json.loads(line[len("BENCH-MICRO: "):])
            if rec.get("iommu"):
                doc["micro"].append(rec)
                iommu_rows += 1
doc["meta"]["qemu_cmdline_iommu"] = icmd
doc["meta"]["commands"] = [doc["meta"]["qemu_cmdline"]] + commands + [icmd]
if not iommu_rows:
    sys.exit("bench: no IOMMU rows in " + ilog)
if not doc["micro"] or (not doc["fio"] and not micro_only):
    sys.exit("bench: no fio or microbenchmark results in " + log)
with open(dst, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
print("bench: %d fio, %d pressure, %d micro records" %
      (len(doc["fio"]), len(doc["pressure"]), len(doc["micro"])), file=sys.stderr)
PY
if [ $micro -eq 1 ]; then
	log "results: $dst"
	prev_args=()
	[ -z "$previous" ] || prev_args=(--previous "$previous")
	/usr/bin/python3 "$WDMDMA_TOP/scripts/bench-report.py" --micro-text \
		"${prev_args[@]}" "$dst" || die "the report did not generate"
	log "microbenchmark done in $(( ($(date +%s) - start) / 60 )) min"
	exit 0
fi
/usr/bin/python3 "$WDMDMA_TOP/scripts/bench-report.py" "$dst" "$docs" ||
	die "the report did not generate"
log "docs/benchmarks.md and its plots written in $(( ($(date +%s) - start) / 60 )) min"
