/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences for wdmdma, edublk and their tests, in one
 * place. Each entry says when the kernel changed. Supported: 6.1 .. 6.12.
 */
#ifndef WDMDMA_COMPAT_H
#define WDMDMA_COMPAT_H

#include <linux/version.h>
#include <linux/pci.h>
#include <linux/blk-mq.h>

/* 6.8: PCI_IRQ_LEGACY renamed PCI_IRQ_INTX (the old name went in 6.10). */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#endif

/*
 * 6.9: blk_mq_alloc_disk() takes the queue limits; the blk_queue_*() limit
 * setters went away in favour of struct queue_limits, and write cache,
 * FUA and rotational became lim.features flags (6.11).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define WDMDMA_HAVE_QUEUE_LIMITS_API 1
#endif

/*
 * 6.9: wdmdma_blk_mq_alloc_disk() - blk_mq_alloc_disk() with the limits a
 * driver fills in struct queue_limits (before 6.9 only logical_block_size,
 * max_hw_sectors, max_segments and virt_boundary_mask are carried over, with
 * the blk_queue_*() setters).
 * 6.11: non-rotational became the default (BLK_FEAT_ROTATIONAL is opt-in);
 * before, the driver set QUEUE_FLAG_NONROT itself.
 */
static inline struct gendisk *
wdmdma_blk_mq_alloc_disk(struct blk_mq_tag_set *set, struct queue_limits *lim,
			 void *queuedata)
{
	struct gendisk *disk;

#ifdef WDMDMA_HAVE_QUEUE_LIMITS_API
	disk = blk_mq_alloc_disk(set, lim, queuedata);
#else
	disk = blk_mq_alloc_disk(set, queuedata);
	if (IS_ERR(disk))
		return disk;
	blk_queue_logical_block_size(disk->queue, lim->logical_block_size);
	blk_queue_max_hw_sectors(disk->queue, lim->max_hw_sectors);
	blk_queue_max_segments(disk->queue, lim->max_segments);
	if (lim->virt_boundary_mask)
		blk_queue_virt_boundary(disk->queue, lim->virt_boundary_mask);
#endif
#ifndef BLK_FEAT_ROTATIONAL
	if (!IS_ERR(disk))
		blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
#endif
	return disk;
}

/*
 * nth_page(): the page @n after @page of a physically contiguous range.
 * Kernels after 6.18 dropped nth_page() (pages of a range are contiguous
 * in the memmap there); a plain offset is then right.
 */
#ifdef nth_page
#define wdmdma_nth_page(page, n)	nth_page(page, n)
#else
#define wdmdma_nth_page(page, n)	((page) + (n))
#endif

/*
 * 6.13: symbol namespaces became string literals in EXPORT_SYMBOL_NS_GPL()
 * and MODULE_IMPORT_NS(); before, the namespace was a bare identifier.
 * wdmdma exports (EXPORT_SYMBOL_WDMDMA) into namespace WDMDMA; its users
 * put WDMDMA_IMPORT_NS(); at file scope.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define EXPORT_SYMBOL_WDMDMA(sym)	EXPORT_SYMBOL_NS_GPL(sym, "WDMDMA")
#define WDMDMA_IMPORT_NS()	MODULE_IMPORT_NS("WDMDMA")
#else
#define EXPORT_SYMBOL_WDMDMA(sym)	EXPORT_SYMBOL_NS_GPL(sym, WDMDMA)
#define WDMDMA_IMPORT_NS()	MODULE_IMPORT_NS(WDMDMA)
#endif

#endif /* WDMDMA_COMPAT_H */
