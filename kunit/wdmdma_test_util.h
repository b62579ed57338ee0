/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the wdmdma KUnit suites (kunit/wdmdma_*_test.c): a
 * platform test device with a real DMA mask, a callback recorder, a
 * "device view" of a list that reads and writes the bytes at its bus
 * addresses, and a search for pages above a physical address.
 *
 * The test device is a platform device without an IOMMU, so it uses
 * dma-direct on x86 and a bus address is a physical address: the suites
 * play the device with phys_to_virt(element.addr).
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#ifndef WDMDMA_TEST_UTIL_H
#define WDMDMA_TEST_UTIL_H

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "../src/compat.h"

WDMDMA_IMPORT_NS();

/* How long a test waits for a deferred callback. */
#define WDMDMA_TEST_WAIT_MS	5000

/* Printed around anything that is expected to WARN (see scripts/verdict.py). */
#define WDMDMA_TEST_WARN_BEGIN	"wdmdma-test: expect-warning-begin\n"
#define WDMDMA_TEST_WARN_END	"wdmdma-test: expect-warning-end\n"

/* Used only if the platform core did not give the device DMA parameters. */
static struct device_dma_parameters wdmdma_test_dma_parms;

/**
 * wdmdma_test_pdev_create() - register the suite's test device
 * @name: platform device name ("wdmdma-test-<suite>")
 *
 * A platform device with a DMA mask and DMA parameters (1 MiB segments),
 * so dma_map_sg() runs for real through dma-direct.
 *
 * Return: the device, or an ERR_PTR().
 */
static inline struct platform_device *wdmdma_test_pdev_create(const char *name)
{
	struct platform_device *pdev;
	struct device *dev;

	pdev = platform_device_register_simple(name, PLATFORM_DEVID_AUTO,
					       NULL, 0);
	if (IS_ERR(pdev))
		return pdev;
	dev = &pdev->dev;
	if (!dev->dma_mask)
		dev->dma_mask = &dev->coherent_dma_mask;
	if (!dev->dma_parms)
		dev->dma_parms = &wdmdma_test_dma_parms;
	dma_set_max_seg_size(dev, SZ_1M);
	if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))) {
		platform_device_unregister(pdev);
		return ERR_PTR(-EIO);
	}
	return pdev;
}

static inline void wdmdma_test_pdev_destroy(struct platform_device *pdev)
{
	if (!IS_ERR_OR_NULL(pdev))
		platform_device_unregister(pdev);
}

/**
 * wdmdma_test_adapter() - create an adapter or fail the test
 * @test: the test
 * @dev: the device
 * @sg: scatter/gather capable
 * @width: DMA address width
 * @max_transfer: maximum transfer
 * @nr_reserve: reserve lists (0: 1)
 * @max_waiters: waiter slots (0: 64)
 *
 * Return: the adapter (the test ends, failed, if it could not be created).
 */
static inline struct wdmdma_adapter *
wdmdma_test_adapter(struct kunit *test, struct device *dev, bool sg,
		    unsigned int width, u32 max_transfer,
		    unsigned int nr_reserve, unsigned int max_waiters)
{
	struct wdmdma_desc desc = {
		.scatter_gather = sg,
		.dma_width = width,
		.max_transfer = max_transfer,
		.nr_reserve = nr_reserve,
		.max_waiters = max_waiters,
	};
	struct wdmdma_adapter *adapter;
	unsigned int nregs = 0;

	adapter = wdmdma_create_adapter(dev, &desc, &nregs);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, adapter);
	KUNIT_EXPECT_EQ(test, nregs,
			DIV_ROUND_UP(max_transfer + PAGE_SIZE - 1, PAGE_SIZE));
	return adapter;
}

static inline struct wdmdma_stats wdmdma_test_stats(struct wdmdma_adapter *a)
{
	struct wdmdma_stats st;

	memset(&st, 0, sizeof(st));
	wdmdma_get_stats(a, &st);
	return st;
}

/**
 * struct wdmdma_test_rec - what one list-control callback saw
 * @done: completed by the callback
 * @calls: how many times the callback ran
 * @seq: shared counter giving the order callbacks ran in, or NULL
 * @order: value taken from @seq when the callback ran
 * @dev: the device the callback got
 * @irp: the irp it got
 * @sgl: the list it got
 * @task: the task it ran in
 * @hardirq: it ran in hard interrupt context
 * @hook: optional, called from the callback after the above are recorded
 * @data: for @hook
 *
 * The callback records only: no KUnit assertions (they allocate) in a
 * context that may have fault injection armed.
 */
struct wdmdma_test_rec {
	struct completion done;
	atomic_t calls;
	atomic_t *seq;
	int order;
	struct device *dev;
	void *irp;
	struct wdmdma_sg_list *sgl;
	struct task_struct *task;
	bool hardirq;
	void (*hook)(struct wdmdma_test_rec *rec);
	void *data;
};

static inline void wdmdma_test_rec_init(struct wdmdma_test_rec *rec,
					atomic_t *seq)
{
	memset(rec, 0, sizeof(*rec));
	init_completion(&rec->done);
	atomic_set(&rec->calls, 0);
	rec->seq = seq;
	rec->order = -1;
}

static inline void wdmdma_test_rec_cb(struct device *dev, void *irp,
				      struct wdmdma_sg_list *sgl,
				      void *context)
{
	struct wdmdma_test_rec *rec = context;

	rec->dev = dev;
	rec->irp = irp;
	rec->sgl = sgl;
	rec->task = current;
	rec->hardirq = in_hardirq();
	if (rec->seq)
		rec->order = atomic_inc_return(rec->seq) - 1;
	if (rec->hook)
		rec->hook(rec);
	atomic_inc(&rec->calls);
	complete(&rec->done);
}

/*
 * @n initialised recorders sharing @seq (may be NULL), freed with the test.
 * Call it before allocating anything else: it asserts.
 */
static inline struct wdmdma_test_rec *
wdmdma_test_recs(struct kunit *test, unsigned int n, atomic_t *seq)
{
	struct wdmdma_test_rec *rec;
	unsigned int i;

	rec = kunit_kcalloc(test, n, sizeof(*rec), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rec);
	for (i = 0; i < n; i++)
		wdmdma_test_rec_init(&rec[i], seq);
	return rec;
}

/* Wait for @rec's callback; true if it ran within WDMDMA_TEST_WAIT_MS. */
static inline bool wdmdma_test_rec_wait(struct wdmdma_test_rec *rec)
{
	return wait_for_completion_timeout(&rec->done,
				msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)) != 0;
}

static inline int wdmdma_test_rec_calls(struct wdmdma_test_rec *rec)
{
	return atomic_read(&rec->calls);
}

/* Sum of the element lengths of @sgl. */
static inline u64 wdmdma_test_sgl_bytes(const struct wdmdma_sg_list *sgl)
{
	u64 n = 0;
	u32 i;

	for (i = 0; i < sgl->nr_elements; i++)
		n += sgl->elements[i].len;
	return n;
}

/* Highest bus address any element of @sgl reaches. */
static inline u64 wdmdma_test_sgl_max_addr(const struct wdmdma_sg_list *sgl)
{
	u64 max = 0;
	u32 i;

	for (i = 0; i < sgl->nr_elements; i++) {
		const struct wdmdma_sg_element *e = &sgl->elements[i];

		if (e->len && e->addr + e->len - 1 > max)
			max = e->addr + e->len - 1;
	}
	return max;
}

/* Bus address of byte @off of the transfer, or ~0ULL if past the list. */
static inline u64 wdmdma_test_sgl_addr_at(const struct wdmdma_sg_list *sgl,
					  u64 off)
{
	u32 i;

	for (i = 0; i < sgl->nr_elements; i++) {
		if (off < sgl->elements[i].len)
			return sgl->elements[i].addr + off;
		off -= sgl->elements[i].len;
	}
	return ~0ULL;
}

/*
 * Play the device: copy @len bytes of the transfer out of (read) or into
 * (write) the memory at the list's bus addresses. Return bytes copied.
 */
static inline size_t wdmdma_test_dev_xfer(const struct wdmdma_sg_list *sgl,
					  void *buf, size_t len, bool to_mem)
{
	size_t done = 0;
	u32 i;

	for (i = 0; i < sgl->nr_elements && done < len; i++) {
		const struct wdmdma_sg_element *e = &sgl->elements[i];
		size_t n = min_t(size_t, len - done, e->len);
		void *va = phys_to_virt((phys_addr_t)e->addr);

		if (to_mem)
			memcpy(va, buf + done, n);
		else
			memcpy(buf + done, va, n);
		done += n;
	}
	return done;
}

/* The device reads the transfer (write_to_device): copy it to @dst. */
static inline size_t wdmdma_test_dev_read(const struct wdmdma_sg_list *sgl,
					  void *dst, size_t len)
{
	return wdmdma_test_dev_xfer(sgl, dst, len, false);
}

/* The device writes the transfer (a read): copy @src into it. */
static inline size_t wdmdma_test_dev_write(const struct wdmdma_sg_list *sgl,
					   const void *src, size_t len)
{
	return wdmdma_test_dev_xfer(sgl, (void *)src, len, true);
}

#define WDMDMA_TEST_VBUF_PAGES	8

/**
 * struct wdmdma_test_vbuf - a physically discontiguous buffer in vmalloc
 *	space
 * @va: its address (vmap() of @pages)
 * @nr: pages
 * @pages: the pages, in buffer order
 */
struct wdmdma_test_vbuf {
	void *va;
	unsigned int nr;
	struct page *pages[WDMDMA_TEST_VBUF_PAGES];
};

static inline void wdmdma_test_vbuf_free(struct wdmdma_test_vbuf *vb)
{
	if (vb->va)
		vunmap(vb->va);
	vb->va = NULL;
	while (vb->nr)
		__free_page(vb->pages[--vb->nr]);
}

/**
 * wdmdma_test_vbuf_alloc() - map @nr pages that are never physically
 *	contiguous with their neighbours
 * @vb: receives the buffer
 * @nr: pages (2..WDMDMA_TEST_VBUF_PAGES)
 *
 * Like vmalloc(), but the pages are mapped in descending physical order,
 * so no page is followed by its physical successor and a one-element
 * adapter must bounce any range that crosses a page boundary. (A plain
 * vmalloc() buffer is only usually discontiguous.) Free with
 * wdmdma_test_vbuf_free().
 *
 * Return: the buffer's address, or NULL.
 */
static inline void *wdmdma_test_vbuf_alloc(struct wdmdma_test_vbuf *vb,
					   unsigned int nr)
{
	unsigned int i, j;

	memset(vb, 0, sizeof(*vb));
	if (nr < 2 || nr > WDMDMA_TEST_VBUF_PAGES)
		return NULL;
	for (i = 0; i < nr; i++) {
		vb->pages[i] = alloc_page(GFP_KERNEL);
		if (!vb->pages[i])
			goto fail;
		vb->nr++;
	}
	for (i = 1; i < nr; i++)
		for (j = i; j > 0 && page_to_pfn(vb->pages[j]) >
				     page_to_pfn(vb->pages[j - 1]); j--)
			swap(vb->pages[j], vb->pages[j - 1]);
	vb->va = vmap(vb->pages, nr, VM_MAP, PAGE_KERNEL);
	if (!vb->va)
		goto fail;
	return vb->va;
fail:
	wdmdma_test_vbuf_free(vb);
	return NULL;
}

/* Fill @buf with a byte pattern that depends on @seed and the position. */
static inline void wdmdma_test_fill(void *buf, size_t len, u8 seed)
{
	u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 7 + (i >> 8));
}

/**
 * wdmdma_test_high_block() - a block of pages at or above a physical address
 * @limit: the lowest physical address the block may have
 * @orders: block orders to try, in turn (largest first: whole 2 MiB
 *	blocks get past low memory quickly)
 * @nr_orders: entries of @orders
 * @tries: blocks of each order tried at the most
 * @cap: bytes of blocks below @limit held at the most
 * @order: receives the order of the block found
 *
 * The allocator tends to hand out low memory first: blocks below @limit
 * are held while the search goes on (so that they are not handed out
 * again), and freed before it returns.
 *
 * Return: the block, or NULL if none turned up.
 */
static inline struct page *wdmdma_test_high_block(u64 limit,
						  const unsigned int *orders,
						  unsigned int nr_orders,
						  unsigned int tries, u64 cap,
						  unsigned int *order)
{
	struct page *page, *found = NULL, *tmp;
	unsigned int o, i;
	LIST_HEAD(tried);
	u64 held = 0;

	for (o = 0; o < nr_orders && !found; o++) {
		for (i = 0; i < tries && held < cap && !found; i++) {
			page = alloc_pages(GFP_KERNEL | __GFP_NOWARN |
					   __GFP_NORETRY, orders[o]);
			if (!page)
				break;
			if (page_to_phys(page) >= limit) {
				found = page;
				*order = orders[o];
			} else {
				page->private = orders[o];
				list_add(&page->lru, &tried);
				held += PAGE_SIZE << orders[o];
			}
		}
	}
	list_for_each_entry_safe(page, tmp, &tried, lru) {
		list_del(&page->lru);
		o = page->private;
		page->private = 0;
		__free_pages(page, o);
	}
	return found;
}

/**
 * wdmdma_test_fail_arm() - make every allocation of this task fail
 * @test: the test, failed (or skipped) if that cannot be done
 *
 * The guest sets failslab and fail_page_alloc to fail every allocation of
 * a task whose make_it_fail is set (scripts/guest/kunit.sh). This sets it
 * and proves it works: a small atomic kmalloc must fail. Undo it with
 * wdmdma_test_fail_disarm() before the test ends.
 *
 * Return: true if armed.
 */
static inline bool wdmdma_test_fail_arm(struct kunit *test)
{
#ifdef CONFIG_FAULT_INJECTION
	void *p;

	current->make_it_fail = 1;
	p = kmalloc(64, GFP_ATOMIC | __GFP_NOWARN);
	if (p) {
		current->make_it_fail = 0;
		kfree(p);
		KUNIT_FAIL(test, "fault injection not armed (failslab off?)");
		return false;
	}
	return true;
#else
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION (failslab)");
	return false;
#endif
}

/* Let this task's allocations succeed again. */
static inline void wdmdma_test_fail_disarm(void)
{
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = 0;
#endif
}

#endif /* WDMDMA_TEST_UTIL_H */
