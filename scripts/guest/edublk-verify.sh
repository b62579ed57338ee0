#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# fio writes the whole edublk disk and reads it back verified (crc32c):
# four regions, each a different shape, running at once -
#   64 KiB sequential, the largest request;
#   random 512 B..16 KiB at any 512-byte offset, buffers off page alignment;
#   3.5 KiB sequential from an offset that is not page-aligned;
#   512 B random, one sector at a time.
# Direct I/O throughout, queue depth 16 per job.
# The same script serves several guests; it adapts its extra checks:
#   - RAM beyond the device's 28-bit reach and no IOMMU: first fill low
#     memory so fio's buffers land above 2^28, then require wdmdma to have
#     bounced lists through its map registers (bounced > 0) and requests
#     to have waited for them in its queue (deferred > 0);
#   - an IOMMU: require the edu to be behind it.
# Needs --host-root (fio runs through hostrun).
cd /tests && . ./edublk-lib.sh

mem_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)
iommu=0
[ -n "$(ls /sys/class/iommu 2>/dev/null)" ] && iommu=1
highmem=0
[ $iommu -eq 0 ] && [ "$mem_kb" -gt 700000 ] && highmem=1
echo "edublk-verify: ${mem_kb} kB RAM, iommu=$iommu, fill low memory=$highmem"

load_wdmdma || { not_ok "verify: insmod wdmdma"; edublk_finish; }
load_edublk capacity_mb=1 || { not_ok "verify: insmod edublk"; edublk_finish; }

if [ $iommu -eq 1 ]; then
	pdev=$(ls -d /sys/bus/pci/drivers/edublk/0000:* | head -n 1)
	check "verify: the edu is behind the IOMMU" [ -e "$pdev/iommu_group" ]
fi
if [ $highmem -eq 1 ]; then
	# The page allocator hands out low addresses first: use up 256 MiB
	# so that fio's buffers come from above 256 MiB.
	dd if=/dev/zero of=/tmp/fill bs=1M count=256 2>/dev/null
fi

# 1 MiB: about 1400 edu DMAs for all of it, written and read back.
run_fio_verify "verify: fio crc32c over the whole disk, 4 shapes at once" <<'JOB'

[seq-64k]
rw=write
bs=64k
offset=0
size=512k

[rand-512-16k-unaligned]
rw=randwrite
bsrange=512-16k
blockalign=512
mem_align=512
offset=512k
size=263680

[seq-3.5k-at-page+1.5k]
rw=write
bs=3584
mem_align=1536
offset=787968
size=229376

[rand-512-at-page+1.5k]
rw=randwrite
bs=512
offset=1017344
size=31232
JOB
expect_eq "verify: fio wrote the whole disk" "$(fio_sum write)" 1048576
expect_eq "verify: fio read back the whole disk" "$(fio_sum read)" 1048576
expect_eq "verify: no driver errors" "$(edublk_stat errors)" 0
expect_eq "verify: no wdmdma verifier errors" "$(wdmdma_stat verifier_errors)" 0
if [ $highmem -eq 1 ]; then
	# Every list bounces, so 16 requests in flight outrun the map registers.
	expect_gt "verify: lists bounced through map registers" \
		"$(wdmdma_stat bounced)" 0
	expect_gt "verify: requests waited for map registers (deferred)" \
		"$(wdmdma_stat deferred)" 0
	rm -f /tmp/fill
fi
dump_stats
check "verify: unload" unload_all
edublk_finish
