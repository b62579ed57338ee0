/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences for wdmdma, edublk and their tests, in one
 * place. Each entry says when the kernel changed. Tested on 6.1, 6.12 and
 * 7.3 test kernels (make check runs 6.1 and 7.3; see the README).
 */
#ifndef WDMDMA_COMPAT_H
#define WDMDMA_COMPAT_H

#include <linux/version.h>
#include <linux/blk-mq.h>
#include <linux/dma-mapping.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

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
 * max_hw_sectors, max_segments, max_segment_size, virt_boundary_mask and
 * (2026-12-03) the discard and write-zeroes limits are carried over, with
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
	if (lim->max_segment_size)
		blk_queue_max_segment_size(disk->queue, lim->max_segment_size);
	if (lim->virt_boundary_mask)
		blk_queue_virt_boundary(disk->queue, lim->virt_boundary_mask);
	if (lim->max_hw_discard_sectors)
		blk_queue_max_discard_sectors(disk->queue,
					      lim->max_hw_discard_sectors);
	if (lim->max_write_zeroes_sectors)
		blk_queue_max_write_zeroes_sectors(disk->queue,
						   lim->max_write_zeroes_sectors);
	if (lim->discard_granularity)
		disk->queue->limits.discard_granularity =
			lim->discard_granularity;
#endif
#ifndef BLK_FEAT_ROTATIONAL
	if (!IS_ERR(disk))
		blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
#endif
	return disk;
}

/*
 * 6.11: a volatile write cache and FUA support became queue_limits
 * features, BLK_FEAT_WRITE_CACHE and BLK_FEAT_FUA in lim.features, set
 * before blk_mq_alloc_disk(); the setter blk_queue_write_cache(q, wc, fua)
 * went away (the name now only asks). Before, a driver called that setter
 * on the allocated queue (seen 2026-12-02: 6.12 and 7.3 have the flags,
 * 6.1 the setter). A driver with such a cache calls both helpers:
 * wdmdma_lim_write_cache_fua() on its limits before allocating the disk,
 * wdmdma_queue_write_cache_fua() on the queue after; each does nothing
 * where the other one is the way.
 */
static inline void wdmdma_lim_write_cache_fua(struct queue_limits *lim)
{
#ifdef BLK_FEAT_WRITE_CACHE
	lim->features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;
#endif
}

static inline void wdmdma_queue_write_cache_fua(struct request_queue *q)
{
#ifndef BLK_FEAT_WRITE_CACHE
	blk_queue_write_cache(q, true, true);
#endif
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
 * 6.16: the two-step IOVA API (dma_iova_try_alloc(), dma_iova_link(),
 * dma_iova_sync(), dma_iova_destroy()) links several physical ranges into
 * one contiguous IOVA range behind an IOMMU. Tested on 7.3 (2026-12-02).
 */
#ifdef DMA_IOVA_USE_SWIOTLB
#define WDMDMA_HAVE_DMA_IOVA 1
#endif

/*
 * KUnit ran a module's suites while the module was coming, before its
 * parameters were parsed, in 6.1; 6.12 runs them once the module is live.
 * The raw argument string insmod was given, module->args, is gone by 7.3
 * (seen 2026-12-02). wdmdma_module_args() returns it where a suite may
 * need it (before 6.12: every kernel that has it, so the exact release of
 * the KUnit change does not matter), else NULL: read the parameter.
 */
static inline const char *wdmdma_module_args(const struct module *mod)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
	return mod ? mod->args : NULL;
#else
	return NULL;
#endif
}

/*
 * kzalloc_obj(VAR, gfp) allocates sizeof(VAR), typed; 7.3's checkpatch
 * asks for it (seen 2026-12-02), and Debian's 6.12.118 has it as a stable
 * backport. Kernels without it get it here.
 */
#ifndef kzalloc_obj
#define kzalloc_obj(var, gfp)	kzalloc(sizeof(var), gfp)
#endif

/*
 * 6.17: alloc_workqueue() takes WQ_PERCPU for a per-CPU workqueue, and by
 * 7.3 it warns when a caller gives neither it nor WQ_UNBOUND (seen
 * 2026-12-02). Before, per-CPU was the default (Debian's 6.12.118 has the
 * flag as a backport, without the warning: 0 means the same there).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define WDMDMA_WQ_PERCPU	WQ_PERCPU
#else
#define WDMDMA_WQ_PERCPU	0
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

/*
 * 6.13: hrtimer_setup() sets the callback with the clock and mode; it
 * replaced hrtimer_init() + ->function, and hrtimer_init() is gone by 7.3
 * (seen 2026-12-02). A wdmdma_ name, so that a stable kernel that
 * backports hrtimer_setup() does not see it defined twice.
 */
static inline void
wdmdma_hrtimer_setup(struct hrtimer *timer,
		     enum hrtimer_restart (*function)(struct hrtimer *),
		     clockid_t clock_id, enum hrtimer_mode mode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(timer, function, clock_id, mode);
#else
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
#endif
}

/*
 * 6.16: from_timer() was renamed timer_container_of(); the old name is
 * gone by 7.3 (seen 2026-12-02).
 */
#ifndef timer_container_of
#define timer_container_of(var, timer, field)	from_timer(var, timer, field)
#endif

/*
 * 6.14: blk-mq merges requests by default and BLK_MQ_F_SHOULD_MERGE went
 * away; before, a driver asked for merging with it.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
#define WDMDMA_BLK_MQ_F_SHOULD_MERGE	0
#else
#define WDMDMA_BLK_MQ_F_SHOULD_MERGE	BLK_MQ_F_SHOULD_MERGE
#endif

/*
 * 6.13 (and 6.12.2, and some older stable series, but not 6.1.y): blk-mq
 * no longer strands a request submitted as the queue is unquiesced
 * ("block: fix missing dispatching request when queue is started or
 * unquiesced"; read 2026-12-03 in Debian's 6.1.192 source, which has the
 * old code, and 6.12.117, which has the fix). Before, a submitter that
 * found the queue quiesced inserted its request without running the
 * queue, and blk_mq_unquiesce_queue() may have run the queue between the
 * two: the request then sat in blk-mq until something else ran that
 * hardware queue, forever if nothing did. Such a submitter is inside
 * blk-mq's RCU (or SRCU) read-side section from the check to the insert,
 * so once a grace period has passed after the unquiesce its request is
 * in place, and running the queues again dispatches it. Which 6.12.y
 * and older stable releases have the fix is not tested here, so every
 * kernel before 6.13 takes the grace period (one per function reset).
 * (6.2 moved the SRCU of blk_mq_wait_quiesce_done() to the tag set.)
 */
static inline void wdmdma_blk_mq_unquiesce_queue(struct request_queue *q)
{
	blk_mq_unquiesce_queue(q);
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	blk_mq_wait_quiesce_done(q);
	blk_mq_run_hw_queues(q, true);
#elif LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
	blk_mq_wait_quiesce_done(q->tag_set);
	blk_mq_run_hw_queues(q, true);
#endif
}

/*
 * 6.15: blk_rq_map_sg() lost its request_queue argument (the request
 * knows its queue).
 */
static inline int wdmdma_blk_rq_map_sg(struct request *rq,
				       struct scatterlist *sgl)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
	return blk_rq_map_sg(rq, sgl);
#else
	return blk_rq_map_sg(rq->q, rq, sgl);
#endif
}

/*
 * The NUMA-node argument of blk_mq_ops.init_request is an int in 7.3 and
 * an unsigned int up to 6.12 (seen 2026-12-02; the release between that
 * changed it is not pinned down here). wdmdma_numa_node_t is whichever type
 * this kernel's blk_mq_ops declares, found by the compiler rather than by
 * a version number.
 */
#define WDMDMA_INIT_REQUEST_INT_NODE					\
	__builtin_types_compatible_p(					\
		__typeof__(((struct blk_mq_ops *)NULL)->init_request),	\
		int (*)(struct blk_mq_tag_set *, struct request *,	\
			unsigned int, int))
#define wdmdma_numa_node_t						\
	__typeof__(__builtin_choose_expr(WDMDMA_INIT_REQUEST_INT_NODE, 0, 0U))

/*
 * 6.17: blk_rq_dma_map_iter_start() and blk_rq_dma_map_iter_next()
 * (<linux/blk-mq-dma.h>, with NVMe as their first user) map a request
 * without a scatterlist: as one IOVA range where an IOMMU translates, else
 * range by range (seen 2026-12-02: in 7.3, not in 6.12). 7.0 dropped the
 * unused dma_iova_state argument of blk_rq_dma_map_iter_next();
 * wdmdma_blk_rq_dma_map_iter_next() takes it everywhere.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#include <linux/blk-mq-dma.h>
#define WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER 1
static inline bool
wdmdma_blk_rq_dma_map_iter_next(struct request *rq, struct device *dma_dev,
				struct dma_iova_state *state,
				struct blk_dma_iter *iter)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
	return blk_rq_dma_map_iter_next(rq, dma_dev, iter);
#else
	return blk_rq_dma_map_iter_next(rq, dma_dev, state, iter);
#endif
}
#endif

/*
 * 6.14: blk_mq_map_hw_queues() maps hardware queues from any bus's
 * interrupt affinity and took over from blk_mq_pci_map_queues() and
 * <linux/blk-mq-pci.h>, which later releases removed (seen 2026-12-04: 6.1
 * has only the PCI helper, 7.3 only the new one).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 14, 0)
static inline void wdmdma_blk_mq_pci_map_queues(struct blk_mq_queue_map *qmap,
						struct pci_dev *pdev)
{
	blk_mq_map_hw_queues(qmap, &pdev->dev, 0);
}
#else
#include <linux/blk-mq-pci.h>
static inline void wdmdma_blk_mq_pci_map_queues(struct blk_mq_queue_map *qmap,
						struct pci_dev *pdev)
{
	blk_mq_pci_map_queues(qmap, pdev, 0);
}
#endif

#endif /* WDMDMA_COMPAT_H */
