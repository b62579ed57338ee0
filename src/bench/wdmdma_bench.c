// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma_bench - in-kernel mapping microbenchmark.
 *
 * Measures the cost of one map + unmap of a transfer of 1, 4, 32 and 256
 * single-page segments (pages that are never physically contiguous), four
 * ways:
 *   build        wdmdma_calculate_sg_list() + wdmdma_build_sg_list() into a
 *                preallocated buffer, then wdmdma_put_sg_list()
 *   get          wdmdma_get_sg_list() + wdmdma_put_sg_list()
 *   native-sgt   a chained sg_table with an inline first chunk (as block
 *                drivers keep in their request PDU), sg_set_page() per
 *                page, dma_map_sgtable() + dma_unmap_sgtable()
 *   native-page  no scatterlist and no allocation: dma_map_page_attrs() of
 *                each page into a preallocated dma_addr_t array, then
 *                dma_unmap_page_attrs() of each (for one page this is the
 *                NVMe driver's single-segment path; for more, what a driver
 *                can do when no IOMMU merges its pages)
 * each without bouncing (a 64-bit device) and with bouncing (a 32-bit
 * device and pages above 4 GiB: wdmdma bounces through its map registers,
 * both native methods through swiotlb).
 *
 * With iommu_dev=<PCI device> (one bound to no driver, behind a
 * translating IOMMU) a third path maps for that device: the four methods
 * above (wdmdma with its iova setting off: an sg_table and
 * dma_map_sgtable(), which the IOMMU merges), and on kernels with the
 * two-step IOVA API (6.16 and later) three more:
 *   build-iova   build with an adapter created with wdmdma_set_iova(true):
 *                the list is linked into one IOVA range
 *   get-iova     get with that adapter
 *   native-iova  what blk_rq_dma_map_iter_start() does behind an IOMMU
 *                (NVMe's path since 6.17): dma_iova_try_alloc(), one
 *                dma_iova_link() per page, dma_iova_sync(), then
 *                dma_iova_destroy()
 *
 * debugfs: /sys/kernel/debug/wdmdma_bench/run
 *   write  "rounds=R [iters=N]" (anything else: one round, adaptive
 *          iterations) runs the whole matrix R times in the writer's
 *          context; the write fails with the error of a failed measurement
 *   read   the results of the last run, one line per measurement:
 *          round=<r> method=<m> segs=<n> bounce=<0|1> iommu=<0|1>
 *          iters=<n> ns_per_op=<n> allocs_per_op=<x.xx>
 *          or round=<r> method=<m> segs=<n> bounce=<0|1> iommu=<0|1>
 *          skipped=<reason>
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include <wdmdma/wdmdma.h>

#include "../compat.h"

#define BENCH_MAX_SEGS		256	/* pages of the largest transfer */
#define BENCH_INLINE_SG		2	/* native-sgt: inline entries (NVMe) */
#define BENCH_MAX_ROUNDS	100
#define BENCH_MAX_ITERS		10000000ULL
#define BENCH_MIN_ITERS		50	/* adaptive runs do at least this */
#define BENCH_TARGET_NS		(200 * NSEC_PER_MSEC)	/* adaptive: per row */
#define BENCH_MAX_BATCH		64	/* iterations between clock reads */
#define BENCH_HIGH_TRIES	(16 * BENCH_MAX_SEGS)	/* page allocations */
#define BENCH_DEFER_WAIT_MS	5000
#define BENCH_HIGH_PHYS		SZ_4G

static const unsigned int bench_segs[] = { 1, 4, 32, BENCH_MAX_SEGS };

enum bench_method {
	BENCH_BUILD,
	BENCH_GET,
	BENCH_NATIVE_SGT,
	BENCH_NATIVE_PAGE,
	BENCH_BUILD_IOVA,	/* the IOMMU path only, from here on */
	BENCH_GET_IOVA,
	BENCH_NATIVE_IOVA,
	BENCH_NR_METHODS
};

static const char * const bench_method_names[BENCH_NR_METHODS] = {
	[BENCH_BUILD] = "build",
	[BENCH_GET] = "get",
	[BENCH_NATIVE_SGT] = "native-sgt",
	[BENCH_NATIVE_PAGE] = "native-page",
	[BENCH_BUILD_IOVA] = "build-iova",
	[BENCH_GET_IOVA] = "get-iova",
	[BENCH_NATIVE_IOVA] = "native-iova",
};

/* The plain-Linux baselines: no wdmdma, no MDL. */
static bool bench_is_native(enum bench_method method)
{
	return method == BENCH_NATIVE_SGT || method == BENCH_NATIVE_PAGE ||
	       method == BENCH_NATIVE_IOVA;
}

/* The methods that link one IOVA range: wdmdma's with its iova adapter. */
static bool bench_is_iova(enum bench_method method)
{
	return method == BENCH_BUILD_IOVA || method == BENCH_GET_IOVA;
}

/* The two-step IOVA API (dma_iova_link(), 6.16; see compat.h). */
#ifdef WDMDMA_HAVE_DMA_IOVA
#define BENCH_HAVE_IOVA		true
#else
#define BENCH_HAVE_IOVA		false
#endif

static char *iommu_dev;
module_param(iommu_dev, charp, 0444);
MODULE_PARM_DESC(iommu_dev,
		 "PCI device name (e.g. 0000:00:04.0), bound to no driver and behind a translating IOMMU, for the iommu rows (default: none, no such rows)");

/*
 * Three paths: 0 no bouncing (64-bit), 1 bouncing (32-bit), both platform
 * devices on dma-direct; 2 a PCI device behind a translating IOMMU, only
 * with iommu_dev=.
 */
#define BENCH_NR_PATHS		3
#define BENCH_IOMMU_PATH	2
#define BENCH_ROWS_PER_ROUND \
	(BENCH_NR_METHODS * BENCH_NR_PATHS * ARRAY_SIZE(bench_segs))

/**
 * struct bench_path - one device, its adapters and the pages it maps
 * @dev: the device the path maps for (@pdev's, or iommu_dev's)
 * @pdev: platform device with real (dma-direct) DMA operations, or NULL
 *	on the IOMMU path
 * @adapter: wdmdma adapter for @dev (on the IOMMU path with iova off)
 * @adapter_iova: IOMMU path: adapter created with iova on, or NULL
 * @dma_parms: used only if the platform core gave @pdev none
 * @old_mask: IOMMU path: the device's streaming mask before
 * @old_coherent: IOMMU path: its coherent mask before
 * @old_max_seg: IOMMU path: its maximum segment size before
 * @width: DMA address width in bits
 * @bounce: pages are above the device's reach
 * @iommu: the path of the device behind a translating IOMMU
 * @nr_pages: pages in @pages
 * @pages: the pages, in descending physical order (never contiguous)
 */
struct bench_path {
	struct device *dev;
	struct platform_device *pdev;
	struct wdmdma_adapter *adapter;
	struct wdmdma_adapter *adapter_iova;
	struct device_dma_parameters dma_parms;
	u64 old_mask;
	u64 old_coherent;
	unsigned int old_max_seg;
	unsigned int width;
	bool bounce;
	bool iommu;
	unsigned int nr_pages;
	struct page *pages[BENCH_MAX_SEGS];
};

/**
 * struct bench_result - one measurement
 * @round: 1-based round
 * @method: enum bench_method
 * @segs: pages in the transfer
 * @bounce: the bouncing path
 * @iommu: the IOMMU path
 * @iters: timed iterations
 * @ns_per_op: nanoseconds per map + unmap
 * @allocs_x100: allocations per operation, times 100
 * @skipped: why the row was not measured, or NULL
 */
struct bench_result {
	unsigned int round;
	unsigned int method;
	unsigned int segs;
	bool bounce;
	bool iommu;
	u64 iters;
	u64 ns_per_op;
	u64 allocs_x100;
	const char *skipped;
};

/**
 * struct bench - the module's state
 * @lock: serialises runs, reading results and the fields below
 * @path: the no-bounce and the bounce path
 * @mdl: MDL of the transfer being measured (wdmdma_mdl_init() memory)
 * @build_buf: Build buffer, sized for the worst case of both adapters
 * @build_len: its size
 * @calls: list-control callbacks run so far
 * @sgl: list given to the last callback
 * @sgt: native-sgt's table
 * @first_sg: native-sgt's inline first chunk
 * @dma: native-page's bus addresses, one per page
 * @broken: a deferred callback never came; its request may still own
 *	@build_buf, so no more runs until the module is unloaded
 * @results: rows of the last run (kmalloc'ed)
 * @nr_results: rows in @results that are filled in
 * @dir: debugfs directory
 */
struct bench {
	struct mutex lock;	/* see the kernel-doc above */
	struct bench_path path[BENCH_NR_PATHS];
	struct wdmdma_mdl *mdl;
	void *build_buf;
	size_t build_len;
	atomic_t calls;
	struct wdmdma_sg_list *sgl;
	struct sg_table sgt;
	struct scatterlist first_sg[BENCH_INLINE_SG];
	dma_addr_t dma[BENCH_MAX_SEGS];
	bool broken;
	struct bench_result *results;
	unsigned int nr_results;
	struct dentry *dir;
};

static struct bench bench = {
	.lock = __MUTEX_INITIALIZER(bench.lock),
};

/* --- native-sgt's table ------------------------------------------------- */

#ifndef CONFIG_SG_POOL
#error "wdmdma_bench needs CONFIG_SG_POOL (sg_alloc_table_chained())"
#endif

/*
 * Like NVMe and SCSI, native-sgt keeps BENCH_INLINE_SG entries
 * with the request and chains further ones from the kernel's sg pools.
 */
static int bench_sgt_alloc(struct sg_table *sgt, unsigned int nents,
			   struct scatterlist *first)
{
	sgt->sgl = first;	/* sg_alloc_table_chained() starts from it */
	return sg_alloc_table_chained(sgt, nents, first, BENCH_INLINE_SG);
}

static void bench_sgt_free(struct sg_table *sgt)
{
	sg_free_table_chained(sgt, BENCH_INLINE_SG);
}

/* Chunks the table's allocator had to allocate: one per chain link. */
static unsigned int bench_sgt_chunks(struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i, n = 0;

	for_each_sgtable_sg(sgt, sg, i)
		if (!sg_is_last(sg) && sg_is_chain(sg + 1))
			n++;
	return n;
}

/* --- One operation of each method --------------------------------------- */

static void bench_list_control(struct device *dev, void *irp,
			       struct wdmdma_sg_list *sgl, void *context)
{
	struct bench *b = context;

	WRITE_ONCE(b->sgl, sgl);
	/* Publish @sgl before the count: a deferred call runs on a worker. */
	smp_mb__before_atomic();
	atomic_inc(&b->calls);
}

/**
 * bench_put() - give back the list of a Get or Build that returned 0
 * @b: the benchmark
 * @adapter: the adapter the list came from
 * @before: the callback count before the Get or Build
 *
 * The callback must have run inside Get/Build. If it was deferred, wait
 * for it (the list must not stay outstanding), put the list and fail. A
 * deferred callback without a list (a request wdmdma could not map) has
 * nothing to put.
 *
 * Return: 0, or -EBUSY if the callback was deferred.
 */
static int bench_put(struct bench *b, struct wdmdma_adapter *adapter,
		     int before)
{
	struct wdmdma_sg_list *sgl;
	unsigned int waited;

	if (likely(atomic_read_acquire(&b->calls) != before)) {
		wdmdma_put_sg_list(adapter, READ_ONCE(b->sgl), true);
		return 0;
	}
	pr_err("list-control callback deferred: resources were short\n");
	for (waited = 0; waited < BENCH_DEFER_WAIT_MS; waited += 20) {
		if (atomic_read_acquire(&b->calls) != before) {
			sgl = READ_ONCE(b->sgl);
			if (sgl)
				wdmdma_put_sg_list(adapter, sgl, true);
			else
				pr_err("the deferred request could not be mapped\n");
			return -EBUSY;
		}
		msleep(20);
	}
	pr_err("deferred callback did not run within %u ms; no more runs until unload\n",
	       BENCH_DEFER_WAIT_MS);
	b->broken = true;
	return -EBUSY;
}

static int bench_build_once(struct bench *b, struct wdmdma_adapter *adapter,
			    u32 len)
{
	const void *va = wdmdma_mdl_va(b->mdl);
	size_t size;
	int before, ret;

	ret = wdmdma_calculate_sg_list(adapter, b->mdl, va, len, &size, NULL);
	if (ret)
		return ret;
	if (size > b->build_len)
		return -ENOBUFS;
	before = atomic_read(&b->calls);
	ret = wdmdma_build_sg_list(adapter, b->mdl, va, len,
				   bench_list_control, b, true, b->build_buf,
				   b->build_len);
	if (ret)
		return ret;
	return bench_put(b, adapter, before);
}

static int bench_get_once(struct bench *b, struct wdmdma_adapter *adapter,
			  u32 len)
{
	int before, ret;

	before = atomic_read(&b->calls);
	ret = wdmdma_get_sg_list(adapter, b->mdl, wdmdma_mdl_va(b->mdl), len,
				 bench_list_control, b, true);
	if (ret)
		return ret;
	return bench_put(b, adapter, before);
}

static int bench_native_sgt_once(struct bench *b, struct bench_path *p,
				 unsigned int segs, unsigned int *chunks)
{
	struct device *dev = p->dev;
	struct scatterlist *sg;
	unsigned int i;
	int ret;

	ret = bench_sgt_alloc(&b->sgt, segs, b->first_sg);
	if (ret)
		return ret;
	for_each_sgtable_sg(&b->sgt, sg, i)
		sg_set_page(sg, p->pages[i], PAGE_SIZE, 0);
	ret = dma_map_sgtable(dev, &b->sgt, DMA_TO_DEVICE, 0);
	if (!ret)
		dma_unmap_sgtable(dev, &b->sgt, DMA_TO_DEVICE, 0);
	if (chunks)
		*chunks = bench_sgt_chunks(&b->sgt);
	bench_sgt_free(&b->sgt);
	return ret;
}

/*
 * native-page: each page on its own with dma_map_page_attrs(), the
 * addresses in a preallocated array, then each unmapped; a failed mapping
 * unmaps the pages mapped before it. For one page this is one map and one
 * unmap, nothing else.
 */
static int bench_native_page_once(struct bench *b, struct bench_path *p,
				  unsigned int segs)
{
	struct device *dev = p->dev;
	unsigned int i;

	for (i = 0; i < segs; i++) {
		b->dma[i] = dma_map_page_attrs(dev, p->pages[i], 0, PAGE_SIZE,
					       DMA_TO_DEVICE, 0);
		if (unlikely(dma_mapping_error(dev, b->dma[i])))
			goto unwind;
	}
	for (i = 0; i < segs; i++)
		dma_unmap_page_attrs(dev, b->dma[i], PAGE_SIZE, DMA_TO_DEVICE,
				     0);
	return 0;

unwind:
	while (i--)
		dma_unmap_page_attrs(dev, b->dma[i], PAGE_SIZE, DMA_TO_DEVICE,
				     0);
	return -ENOMEM;
}

/*
 * native-page's untimed warm-up: one mapping, with every bus address
 * checked against the device's streaming mask (a bounce path whose pages
 * were not bounced would show up here).
 */
static int bench_native_page_check(struct bench *b, struct bench_path *p,
				   unsigned int segs)
{
	struct device *dev = p->dev;
	u64 mask = dma_get_mask(dev);
	unsigned int i, mapped;
	dma_addr_t addr;
	int ret = 0;

	for (mapped = 0; mapped < segs; mapped++) {
		addr = dma_map_page_attrs(dev, p->pages[mapped], 0, PAGE_SIZE,
					  DMA_TO_DEVICE, 0);
		if (dma_mapping_error(dev, addr)) {
			dev_err(dev, "dma_map_page_attrs() of page %u of %u failed\n",
				mapped, segs);
			ret = -ENOMEM;
			break;
		}
		b->dma[mapped] = addr;
		if (!ret && (addr > mask || PAGE_SIZE - 1 > mask - addr)) {
			dev_err(dev, "page %u mapped at %pad, beyond the %u-bit mask\n",
				mapped, &addr, p->width);
			ret = -EIO;
		}
	}
	for (i = 0; i < mapped; i++)
		dma_unmap_page_attrs(dev, b->dma[i], PAGE_SIZE, DMA_TO_DEVICE,
				     0);
	return ret;
}

#ifdef WDMDMA_HAVE_DMA_IOVA
/*
 * native-iova: one IOVA range for the whole transfer, each page linked
 * into it, one IOTLB sync, then the range destroyed in one call: the way
 * blk_rq_dma_map_iter_start() maps a request behind an IOMMU. Returns
 * -EOPNOTSUPP if no range could be allocated: the IOMMU path's device is
 * in a translating domain (checked at load), so that is a failure.
 */
static int bench_native_iova_once(struct bench_path *p, unsigned int segs)
{
	struct dma_iova_state state = {};
	struct device *dev = p->dev;
	size_t mapped = 0;
	unsigned int i;
	int ret;

	if (!dma_iova_try_alloc(dev, &state, page_to_phys(p->pages[0]),
				(size_t)segs * PAGE_SIZE))
		return -EOPNOTSUPP;
	for (i = 0; i < segs; i++) {
		ret = dma_iova_link(dev, &state, page_to_phys(p->pages[i]),
				    mapped, PAGE_SIZE, DMA_TO_DEVICE, 0);
		if (ret)
			goto out;
		mapped += PAGE_SIZE;
	}
	ret = dma_iova_sync(dev, &state, 0, mapped);
out:
	dma_iova_destroy(dev, &state, mapped, DMA_TO_DEVICE, 0);
	return ret;
}
#else
static int bench_native_iova_once(struct bench_path *p, unsigned int segs)
{
	return -EOPNOTSUPP;
}
#endif

static int bench_op(struct bench *b, struct bench_path *p,
		    enum bench_method method, unsigned int segs)
{
	switch (method) {
	case BENCH_BUILD:
		return bench_build_once(b, p->adapter, segs * PAGE_SIZE);
	case BENCH_GET:
		return bench_get_once(b, p->adapter, segs * PAGE_SIZE);
	case BENCH_BUILD_IOVA:
		return bench_build_once(b, p->adapter_iova, segs * PAGE_SIZE);
	case BENCH_GET_IOVA:
		return bench_get_once(b, p->adapter_iova, segs * PAGE_SIZE);
	case BENCH_NATIVE_SGT:
		return bench_native_sgt_once(b, p, segs, NULL);
	case BENCH_NATIVE_IOVA:
		return bench_native_iova_once(p, segs);
	default:
		return bench_native_page_once(b, p, segs);
	}
}

/* --- Measuring ---------------------------------------------------------- */

/**
 * bench_loop() - time iterations of one method
 * @b: the benchmark
 * @p: the path
 * @method: the method
 * @segs: pages per transfer
 * @want: iterations to run, or 0 to run until BENCH_TARGET_NS have been
 *	timed and at least BENCH_MIN_ITERS iterations done
 * @iters: receives the iterations run
 * @ns: receives the time they took
 *
 * The clock is read around batches of up to BENCH_MAX_BATCH iterations;
 * between batches the task may be rescheduled (not timed).
 *
 * Return: 0, the error of a failed operation, or -EINTR on a fatal signal.
 */
static int bench_loop(struct bench *b, struct bench_path *p,
		      enum bench_method method, unsigned int segs, u64 want,
		      u64 *iters, u64 *ns)
{
	u64 done = 0, elapsed = 0, batch = 1, t0, i;
	int ret;

	for (;;) {
		if (want) {
			if (done >= want)
				break;
			batch = min(batch, want - done);
		} else if ((done >= BENCH_MIN_ITERS &&
			    elapsed >= BENCH_TARGET_NS) ||
			   done >= BENCH_MAX_ITERS) {
			break;
		}
		t0 = ktime_get_ns();
		for (i = 0; i < batch; i++) {
			ret = bench_op(b, p, method, segs);
			if (ret)
				return ret;
		}
		elapsed += ktime_get_ns() - t0;
		done += batch;
		if (batch < BENCH_MAX_BATCH)
			batch *= 2;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	*iters = done;
	*ns = elapsed;
	return 0;
}

static int bench_fill_mdl(struct bench *b, struct bench_path *p,
			  unsigned int segs)
{
	unsigned int i;
	int ret;

	wdmdma_mdl_init(b->mdl, BENCH_MAX_SEGS);
	for (i = 0; i < segs; i++) {
		ret = wdmdma_mdl_add_page(b->mdl, p->pages[i], PAGE_SIZE, 0);
		if (ret) {
			pr_err("cannot add page %u to the MDL: %d\n", i, ret);
			return ret;
		}
	}
	return 0;
}

/**
 * bench_check_stats() - allocations of a timed wdmdma loop, and sanity
 * @p: the path
 * @method: BENCH_BUILD, BENCH_GET or their iova variants
 * @iters: iterations timed
 * @st0: counters before
 * @st1: counters after
 * @allocs: receives the lists allocated (normal allocation or reserve)
 *
 * Return: 0, or -EIO if the counters contradict the measurement (a request
 * waited, a list stayed out, bouncing did or did not happen unexpectedly,
 * or a list was or was not linked into one IOVA range unexpectedly).
 */
static int bench_check_stats(struct bench_path *p, enum bench_method method,
			     u64 iters, const struct wdmdma_stats *st0,
			     const struct wdmdma_stats *st1, u64 *allocs)
{
	bool build = method == BENCH_BUILD || method == BENCH_BUILD_IOVA;
	u64 bounced = st1->bounced - st0->bounced;
	u64 built = st1->built - st0->built;
	u64 iova = st1->iova - st0->iova;
	u64 lists;

	*allocs = (st1->allocated - st0->allocated) +
		  (st1->reserve - st0->reserve);
	lists = *allocs + built;
	if (st1->deferred != st0->deferred || st1->outstanding ||
	    lists != iters || (build && built != iters) ||
	    bounced != (p->bounce ? iters : 0) ||
	    iova != (bench_is_iova(method) ? iters : 0)) {
		pr_err("%s on the %u-bit adapter: %llu iterations gave %llu lists (%llu built), %llu deferred, %llu bounced, %llu in one IOVA range, %llu outstanding\n",
		       bench_method_names[method], p->width, iters, lists,
		       built, st1->deferred - st0->deferred, bounced, iova,
		       st1->outstanding);
		return -EIO;
	}
	return 0;
}

/**
 * bench_measure() - measure one row of the matrix
 * @b: the benchmark
 * @p: the path
 * @method: the method
 * @segs: pages per transfer
 * @want: iterations, or 0 for adaptive
 * @res: the row; round, method, segs and bounce are filled in already
 *
 * One untimed warm-up operation, then the timed loop. Allocations per
 * operation: for wdmdma the lists that came from an allocation or the
 * reserve (wdmdma_get_stats()), for native-sgt the chunks the chained
 * table allocated, for native-page none. native-page's warm-up checks its
 * bus addresses against the device's mask.
 *
 * Return: 0 (also for a skipped row), or the -errno of the failure.
 */
static int bench_measure(struct bench *b, struct bench_path *p,
			 enum bench_method method, unsigned int segs, u64 want,
			 struct bench_result *res)
{
	struct wdmdma_adapter *adapter = bench_is_iova(method) ?
					 p->adapter_iova : p->adapter;
	struct wdmdma_stats st0, st1;
	unsigned int chunks = 0;
	u64 iters = 0, ns = 0, allocs;
	int ret;

	if (method >= BENCH_BUILD_IOVA && !BENCH_HAVE_IOVA) {
		res->skipped = "no_iova_api";
		return 0;
	}
	if (segs > p->nr_pages) {
		res->skipped = p->nr_pages ? "too_few_pages_above_4GiB" :
					     "no_pages_above_4GiB";
		return 0;
	}
	if (!bench_is_native(method)) {
		ret = bench_fill_mdl(b, p, segs);
		if (ret)
			return ret;
	}

	if (method == BENCH_NATIVE_SGT)
		ret = bench_native_sgt_once(b, p, segs, &chunks);
	else if (method == BENCH_NATIVE_PAGE)
		ret = bench_native_page_check(b, p, segs);
	else
		ret = bench_op(b, p, method, segs);
	if (ret)
		goto fail;

	memset(&st0, 0, sizeof(st0));
	memset(&st1, 0, sizeof(st1));
	if (adapter)
		wdmdma_get_stats(adapter, &st0);
	ret = bench_loop(b, p, method, segs, want, &iters, &ns);
	if (ret)
		goto fail;
	if (adapter)
		wdmdma_get_stats(adapter, &st1);

	if (bench_is_native(method)) {
		allocs = (u64)chunks * iters;	/* native-page: chunks == 0 */
	} else {
		ret = bench_check_stats(p, method, iters, &st0, &st1, &allocs);
		if (ret)
			return ret;
	}
	res->iters = iters;
	res->ns_per_op = div64_u64(ns, iters);
	res->allocs_x100 = div64_u64(allocs * 100 + iters / 2, iters);
	return 0;

fail:
	if (ret != -EINTR)
		dev_err(p->dev, "%s of %u pages on the %u-bit %sdevice failed: %d\n",
			bench_method_names[method], segs, p->width,
			p->iommu ? "IOMMU " : "", ret);
	return ret;
}

/**
 * bench_run() - run the whole matrix
 * @b: the benchmark
 * @rounds: how many times
 * @want: iterations per row, or 0 for adaptive
 *
 * Replaces the previous results; on failure the rows measured so far
 * stay readable.
 *
 * Context: process context; sleeps; takes @b->lock.
 * Return: 0, or the -errno of the first failure.
 */
static int bench_run(struct bench *b, unsigned int rounds, u64 want)
{
	struct bench_result *res, *r;
	unsigned int round, m, pi, si, n = 0;
	struct bench_path *p;
	int ret;

	res = kcalloc(rounds * BENCH_ROWS_PER_ROUND, sizeof(*res), GFP_KERNEL);
	if (!res)
		return -ENOMEM;
	ret = mutex_lock_killable(&b->lock);
	if (ret) {
		kfree(res);
		return ret;
	}
	if (b->broken) {
		pr_err("a list may still be outstanding from a failed run; reload the module\n");
		ret = -EIO;
		goto out;
	}
	kfree(b->results);
	b->results = res;
	b->nr_results = 0;

	for (round = 1; round <= rounds; round++) {
		for (m = 0; m < BENCH_NR_METHODS; m++) {
			for (pi = 0; pi < BENCH_NR_PATHS; pi++) {
				p = &b->path[pi];
				/* No iommu_dev=; the iova methods need one. */
				if (!p->dev || (m >= BENCH_BUILD_IOVA && !p->iommu))
					continue;
				for (si = 0; si < ARRAY_SIZE(bench_segs); si++) {
					r = &res[n];
					r->round = round;
					r->method = m;
					r->segs = bench_segs[si];
					r->bounce = p->bounce;
					r->iommu = p->iommu;
					ret = bench_measure(b, p, m, r->segs,
							    want, r);
					if (ret)
						goto out;
					b->nr_results = ++n;
				}
			}
		}
	}
out:
	if (b->results != res)
		kfree(res);
	mutex_unlock(&b->lock);
	return ret;
}

/* --- debugfs ------------------------------------------------------------ */

static int bench_run_show(struct seq_file *m, void *unused)
{
	struct bench *b = m->private;
	const struct bench_result *r;
	unsigned int i;
	int ret;

	ret = mutex_lock_killable(&b->lock);
	if (ret)
		return ret;
	for (i = 0; i < b->nr_results; i++) {
		r = &b->results[i];
		seq_printf(m, "round=%u method=%s segs=%u bounce=%d iommu=%d ",
			   r->round, bench_method_names[r->method], r->segs,
			   r->bounce, r->iommu);
		if (r->skipped)
			seq_printf(m, "skipped=%s\n", r->skipped);
		else
			seq_printf(m, "iters=%llu ns_per_op=%llu allocs_per_op=%llu.%02llu\n",
				   r->iters, r->ns_per_op,
				   div_u64(r->allocs_x100, 100),
				   r->allocs_x100 % 100);
	}
	mutex_unlock(&b->lock);
	return 0;
}

static int bench_run_open(struct inode *inode, struct file *file)
{
	return single_open(file, bench_run_show, inode->i_private);
}

static int bench_parse_uint(const char *what, const char *val,
			    unsigned int max, unsigned int *out)
{
	unsigned int n;

	if (kstrtouint(val, 10, &n) || n < 1 || n > max) {
		pr_err("run: %s must be 1..%u, not '%s'\n", what, max, val);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/*
 * Write "rounds=R" and/or "iters=N" (whitespace separated; other words are
 * ignored) to run the matrix.
 */
static ssize_t bench_run_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct bench *b = file_inode(file)->i_private;
	unsigned int rounds = 1, iters = 0;
	char buf[64], *s, *tok;
	size_t n;
	int ret;

	if (count >= sizeof(buf)) {
		pr_err("run: command longer than %zu bytes\n", sizeof(buf) - 1);
		return -EINVAL;
	}
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	s = buf;
	while ((tok = strsep(&s, " \t\n")) != NULL) {
		n = str_has_prefix(tok, "rounds=");
		if (n) {
			ret = bench_parse_uint("rounds", tok + n,
					       BENCH_MAX_ROUNDS, &rounds);
			if (ret)
				return ret;
			continue;
		}
		n = str_has_prefix(tok, "iters=");
		if (n) {
			ret = bench_parse_uint("iters", tok + n,
					       BENCH_MAX_ITERS, &iters);
			if (ret)
				return ret;
		}
	}

	ret = bench_run(b, rounds, iters);
	return ret ? ret : count;
}

static const struct file_operations bench_run_fops = {
	.owner = THIS_MODULE,
	.open = bench_run_open,
	.read = seq_read,
	.write = bench_run_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* --- Setup -------------------------------------------------------------- */

static int bench_cmp_pfn_desc(const void *a, const void *b)
{
	unsigned long pa = page_to_pfn(*(struct page * const *)a);
	unsigned long pb = page_to_pfn(*(struct page * const *)b);

	return pa < pb ? 1 : pa > pb ? -1 : 0;
}

/**
 * bench_alloc_pages() - fill a path's page array
 * @p: the path
 *
 * Any pages for the no-bounce path; for the bounce path only pages at or
 * above 4 GiB, trying at most BENCH_HIGH_TRIES allocations (the rejected
 * pages are held until the search ends, so they are not handed out
 * again). The pages are sorted in descending physical order, so none is
 * followed by its physical successor and neither wdmdma nor the DMA layer
 * merges two of them into one element.
 *
 * Return: 0 (a bounce path may end up with fewer pages: its larger rows
 * are skipped), or -ENOMEM if the no-bounce path cannot get its pages.
 */
static int bench_alloc_pages(struct bench_path *p)
{
	unsigned int tries;
	struct page *page, *tmp;
	LIST_HEAD(rejected);

	for (tries = 0; tries < BENCH_HIGH_TRIES; tries++) {
		if (p->nr_pages == BENCH_MAX_SEGS)
			break;
		page = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		if (!page)
			break;
		if (p->bounce && page_to_phys(page) < BENCH_HIGH_PHYS) {
			list_add(&page->lru, &rejected);
			continue;
		}
		p->pages[p->nr_pages++] = page;
	}
	list_for_each_entry_safe(page, tmp, &rejected, lru) {
		list_del(&page->lru);
		__free_page(page);
	}

	if (!p->bounce && p->nr_pages < BENCH_MAX_SEGS) {
		pr_err("cannot allocate %u pages\n", BENCH_MAX_SEGS);
		return -ENOMEM;
	}
	if (p->bounce && p->nr_pages < BENCH_MAX_SEGS)
		pr_warn("only %u of %u pages above 4 GiB after %u allocations: bounce rows with more pages are skipped\n",
			p->nr_pages, BENCH_MAX_SEGS, tries);
	sort(p->pages, p->nr_pages, sizeof(p->pages[0]), bench_cmp_pfn_desc,
	     NULL);
	return 0;
}

/**
 * bench_path_init() - create a path's device, adapter and pages
 * @p: the path, zeroed
 * @width: DMA address width
 * @bounce: take pages above 4 GiB (the device must not reach them)
 *
 * The device is a platform device without an IOMMU, so it uses
 * dma-direct (and swiotlb for what its mask cannot reach). Its DMA masks
 * are set to @width bits here, as a driver sets them, before the adapter
 * is created: the native rows map with the streaming mask themselves.
 *
 * Return: 0 or a -errno; the caller cleans up with bench_path_exit().
 */
static int bench_path_init(struct bench_path *p, unsigned int width,
			   bool bounce)
{
	struct wdmdma_desc desc = {
		.scatter_gather = true,
		.dma_width = width,
		.max_transfer = BENCH_MAX_SEGS * PAGE_SIZE,
	};
	struct platform_device *pdev;
	struct wdmdma_adapter *adapter;
	struct device *dev;
	int ret;

	p->width = width;
	p->bounce = bounce;
	pdev = platform_device_register_simple("wdmdma-bench", width, NULL, 0);
	if (IS_ERR(pdev)) {
		pr_err("cannot register platform device wdmdma-bench.%u: %ld\n",
		       width, PTR_ERR(pdev));
		return PTR_ERR(pdev);
	}
	p->pdev = pdev;
	dev = &pdev->dev;
	p->dev = dev;
	if (!dev->dma_mask)
		dev->dma_mask = &dev->coherent_dma_mask;
	if (!dev->dma_parms)
		dev->dma_parms = &p->dma_parms;
	dma_set_max_seg_size(dev, SZ_1M);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(width));
	if (ret) {
		dev_err(dev, "cannot use a %u-bit DMA mask: %d\n", width, ret);
		return ret;
	}

	adapter = wdmdma_create_adapter(dev, &desc, NULL);
	if (IS_ERR(adapter)) {
		dev_err(dev, "cannot create a %u-bit wdmdma adapter: %ld\n",
			width, PTR_ERR(adapter));
		return PTR_ERR(adapter);
	}
	p->adapter = adapter;
	return bench_alloc_pages(p);
}

/* An adapter for the IOMMU path's device, with wdmdma's iova set to @iova. */
static struct wdmdma_adapter *bench_iommu_adapter(struct device *dev,
						  bool iova)
{
	struct wdmdma_desc desc = {
		.scatter_gather = true,
		.dma_width = 64,
		.max_transfer = BENCH_MAX_SEGS * PAGE_SIZE,
	};
	struct wdmdma_adapter *adapter;
	bool old = wdmdma_set_iova(iova);

	adapter = wdmdma_create_adapter(dev, &desc, NULL);
	wdmdma_set_iova(old);
	if (IS_ERR(adapter))
		dev_err(dev, "cannot create a wdmdma adapter (iova %s): %ld\n",
			iova ? "on" : "off", PTR_ERR(adapter));
	return adapter;
}

/**
 * bench_iommu_path_init() - the path of a PCI device behind an IOMMU
 * @p: the path, zeroed
 * @name: the device's name on the PCI bus
 *
 * The device must be bound to no driver (its DMA masks and maximum
 * segment size are set here, as a driver would, and restored on exit;
 * nothing stops a driver from binding meanwhile: unbind it, or leave it
 * unbound, while the module is loaded) and must sit in a translating
 * IOMMU domain. Its maximum segment size is set to 1 MiB, as on the
 * other paths, so that the IOMMU may merge a whole transfer. Two
 * adapters: one with wdmdma's iova setting off (the sg_table path), and
 * on kernels with dma_iova_link() one with it on.
 *
 * Return: 0 or a -errno; the caller cleans up with bench_path_exit().
 */
static int bench_iommu_path_init(struct bench_path *p, const char *name)
{
	struct wdmdma_adapter *adapter;
	struct iommu_domain *domain;
	struct device *dev;
	int ret;

	p->width = 64;
	p->iommu = true;
	dev = bus_find_device_by_name(&pci_bus_type, NULL, name);
	if (!dev) {
		pr_err("iommu_dev=%s: no such PCI device\n", name);
		return -ENODEV;
	}
	p->dev = dev;		/* holds the reference until bench_path_exit() */
	if (READ_ONCE(dev->driver)) {
		dev_err(dev, "iommu_dev: the device is bound to a driver; unbind it first\n");
		return -EBUSY;
	}
	domain = iommu_get_domain_for_dev(dev);
	if (!domain || !(domain->type & __IOMMU_DOMAIN_DMA_API)) {
		dev_err(dev, "iommu_dev: the device is not in a translating IOMMU domain (domain type %#x)\n",
			domain ? domain->type : 0);
		return -ENODEV;
	}
	if (!dev->dma_mask || !dev->dma_parms) {
		dev_err(dev, "iommu_dev: the device has no DMA mask or DMA parameters\n");
		return -ENODEV;
	}
	p->old_mask = *dev->dma_mask;
	p->old_coherent = dev->coherent_dma_mask;
	p->old_max_seg = dma_get_max_seg_size(dev);
	dma_set_max_seg_size(dev, SZ_1M);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret) {
		dev_err(dev, "cannot use a 64-bit DMA mask: %d\n", ret);
		return ret;
	}

	adapter = bench_iommu_adapter(dev, false);
	if (IS_ERR(adapter))
		return PTR_ERR(adapter);
	p->adapter = adapter;
	if (BENCH_HAVE_IOVA) {
		adapter = bench_iommu_adapter(dev, true);
		if (IS_ERR(adapter))
			return PTR_ERR(adapter);
		p->adapter_iova = adapter;
	}
	return bench_alloc_pages(p);
}

static void bench_path_exit(struct bench_path *p)
{
	/* First: it cancels a request that might still own the Build buffer. */
	if (p->adapter_iova)
		wdmdma_destroy_adapter(p->adapter_iova);
	p->adapter_iova = NULL;
	if (p->adapter)
		wdmdma_destroy_adapter(p->adapter);
	p->adapter = NULL;
	while (p->nr_pages)
		__free_page(p->pages[--p->nr_pages]);
	if (p->pdev) {
		platform_device_unregister(p->pdev);
	} else if (p->dev) {
		if (p->old_max_seg) {
			*p->dev->dma_mask = p->old_mask;
			p->dev->coherent_dma_mask = p->old_coherent;
			dma_set_max_seg_size(p->dev, p->old_max_seg);
		}
		put_device(p->dev);
	}
	p->pdev = NULL;
	p->dev = NULL;
}

/* Largest Build buffer any transfer of @adapter can need. */
static int bench_build_size(struct bench_path *p,
			    struct wdmdma_adapter *adapter, size_t *size)
{
	int ret;

	ret = wdmdma_calculate_sg_list(adapter, NULL,
				       (const void *)(PAGE_SIZE - 1),
				       BENCH_MAX_SEGS * PAGE_SIZE, size, NULL);
	if (ret)
		dev_err(p->dev, "cannot size a Build buffer: %d\n", ret);
	return ret;
}

static void bench_teardown(struct bench *b)
{
	unsigned int i;

	debugfs_remove_recursive(b->dir);
	b->dir = NULL;
	for (i = 0; i < BENCH_NR_PATHS; i++)
		bench_path_exit(&b->path[i]);
	kfree(b->build_buf);
	b->build_buf = NULL;
	kfree(b->mdl);
	b->mdl = NULL;
	kfree(b->results);
	b->results = NULL;
	b->nr_results = 0;
}

static int __init bench_init(void)
{
	struct bench *b = &bench;
	size_t size, iova_size = 0;
	struct bench_path *p;
	struct dentry *file;
	unsigned int i;
	int ret;

	atomic_set(&b->calls, 0);
	ret = bench_path_init(&b->path[0], 64, false);
	if (ret)
		goto fail;
	ret = bench_path_init(&b->path[1], 32, true);
	if (ret)
		goto fail;
	if (iommu_dev && *iommu_dev) {
		ret = bench_iommu_path_init(&b->path[BENCH_IOMMU_PATH],
					    iommu_dev);
		if (ret)
			goto fail;
	}

	b->mdl = kmalloc(wdmdma_mdl_size(BENCH_MAX_SEGS), GFP_KERNEL);
	if (!b->mdl) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < BENCH_NR_PATHS; i++) {
		p = &b->path[i];
		if (!p->adapter)
			continue;
		ret = bench_build_size(p, p->adapter, &size);
		if (!ret && p->adapter_iova)
			ret = bench_build_size(p, p->adapter_iova, &iova_size);
		if (ret)
			goto fail;
		b->build_len = max3(b->build_len, size, iova_size);
	}
	b->build_buf = kmalloc(b->build_len, GFP_KERNEL);
	if (!b->build_buf) {
		ret = -ENOMEM;
		goto fail;
	}

	b->dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	file = debugfs_create_file("run", 0600, b->dir, b, &bench_run_fops);
	if (IS_ERR(file)) {
		pr_err("cannot create debugfs file %s/run: %ld\n",
		       KBUILD_MODNAME, PTR_ERR(file));
		ret = PTR_ERR(file);
		goto fail;
	}
	pr_info("ready: %u pages above 4 GiB for the bounce rows; IOMMU rows: %s\n",
		b->path[1].nr_pages,
		b->path[BENCH_IOMMU_PATH].dev ?
		dev_name(b->path[BENCH_IOMMU_PATH].dev) : "none");
	return 0;

fail:
	bench_teardown(b);
	return ret;
}

static void __exit bench_exit(void)
{
	bench_teardown(&bench);
}

module_init(bench_init);
module_exit(bench_exit);

MODULE_DESCRIPTION("wdmdma mapping microbenchmark: Build, Get and native (sg_table, per page, one IOVA range) DMA mapping");
MODULE_AUTHOR("The wdmdma authors");
MODULE_LICENSE("GPL");
WDMDMA_IMPORT_NS();
