#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Mapping microbenchmark: load wdmdma (unless loaded) and wdmdma_bench, run
# the matrix (build/get/native-sgt/native-page x 1/4/32/256 pages x bounce)
# ROUNDS times and print every result as one JSON object per line:
#   BENCH-MICRO: {"round":1,"method":"build","segs":4,"bounce":false,"iommu":false,"iters":2000,"ns_per_op":812,"allocs_per_op":0.00}
#   BENCH-MICRO: {"round":1,"method":"get","segs":256,"bounce":true,"iommu":false,"skipped":"no_pages_above_4GiB"}
# Usage: sh bench-micro.sh [ROUNDS [iommu]]   (default 3)
# "iommu": also the rows of a PCI device behind a translating IOMMU: the
# stock edu device (1234:11e8), which must be present, bound to no driver
# and in a DMA domain (guest options --iommu, and not --no-edu).
# Exits non-zero if a module does not load or the run fails (the rows
# measured before the failure are still printed).
# Guest options: --mem 6G for the bounce rows (pages above 4 GiB).
set -u
rounds=${1:-3}
case "$rounds" in
''|*[!0-9]*) echo "bench-micro: ROUNDS must be a number, not '$rounds'"; exit 2 ;;
esac
dir=/sys/kernel/debug/wdmdma_bench

args=
if [ "${2:-}" = iommu ]; then
	edu=
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x11e8 ]; then
			edu=$d
			break
		fi
	done
	[ -n "$edu" ] || { echo "bench-micro: no edu device (1234:11e8) for the IOMMU rows"; exit 1; }
	[ ! -e $edu/driver ] || { echo "bench-micro: ${edu##*/} is bound to a driver"; exit 1; }
	type=$(cat $edu/iommu_group/type 2>/dev/null)
	case "$type" in
	DMA|DMA-FQ) ;;
	*) echo "bench-micro: ${edu##*/} is not in a translating IOMMU domain (type '$type')"; exit 1 ;;
	esac
	echo "bench-micro: IOMMU rows on ${edu##*/} (domain type $type)"
	args="iommu_dev=${edu##*/}"
fi

if ! grep -q '^wdmdma ' /proc/modules; then
	insmod /modules/wdmdma.ko || { echo "bench-micro: insmod wdmdma failed"; exit 1; }
fi
insmod /modules/wdmdma_bench.ko $args || { echo "bench-micro: insmod wdmdma_bench failed"; exit 1; }
if ! grep -q ' /sys/kernel/debug debugfs ' /proc/mounts; then
	mount -t debugfs debugfs /sys/kernel/debug ||
		{ echo "bench-micro: cannot mount debugfs"; rmmod wdmdma_bench; exit 1; }
fi

rc=0
echo "bench-micro: $rounds round(s), started $(date +%T)"
if ! echo "rounds=$rounds" > $dir/run; then
	echo "bench-micro: the run failed (see the kernel log)"
	rc=1
fi
echo "bench-micro: finished $(date +%T)"

# key=value words -> JSON: method and skipped are strings, bounce a boolean,
# everything else a number as the module printed it.
awk '
{
	out = ""
	for (i = 1; i <= NF; i++) {
		eq = index($i, "=")
		if (!eq)
			continue
		k = substr($i, 1, eq - 1)
		v = substr($i, eq + 1)
		if (k == "method" || k == "skipped")
			v = "\"" v "\""
		else if (k == "bounce" || k == "iommu")
			v = (v == "1") ? "true" : "false"
		out = out (out == "" ? "" : ",") "\"" k "\":" v
	}
	if (out != "")
		print "BENCH-MICRO: {" out "}"
}' $dir/run || rc=1

rmmod wdmdma_bench || rc=1
exit $rc
