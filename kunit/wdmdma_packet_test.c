// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_packet": packet-based DMA, through the Linux API and
 * the Windows way through Adapter->DmaOperations.
 *
 *  - The adapter-control routine runs at once when the channel and the map
 *    registers are free, in the caller's task; otherwise later, from the
 *    work item, in FIFO order: one channel per adapter.
 *  - What the routine returns is done: KeepObject keeps both,
 *    DeallocateObject frees both, DeallocateObjectKeepRegisters frees the
 *    channel only. After KeepObject, FreeAdapterChannel frees both.
 *  - The channel has an owner: a FreeAdapterChannel from another
 *    routine, from a hard interrupt on the routine's CPU, with no channel
 *    held, or a routine's return after it released the channel itself,
 *    never frees a channel granted to another request. Not detected: a
 *    stray second FreeAdapterChannel after the new holder's routine
 *    returned KeepObject, unless (verifier on) that holder has pieces
 *    mapped. FreeMapRegisters of its own base inside a routine takes
 *    effect at the routine's return.
 *  - A channel request waiting for map registers holds back a Get that
 *    needs them; one waiting only for the channel holds back nothing but
 *    channel requests.
 *  - MapTransfer on a scatter/gather adapter maps one physically contiguous
 *    run in place (the test device has no IOMMU: bus address = physical
 *    address); a page the device cannot reach is copied to a map register.
 *    On a one-element adapter the transfer is copied to contiguous map
 *    registers; FlushAdapterBuffers copies a read back.
 *  - Limits and misuse: map registers past the grant, zero, a bad base,
 *    double free, freeing a channel not held (verifier counts).
 *  - The Ex forms: synchronous or fail, Cancel of a waiting request,
 *    context reuse; destroy ends waiting channel requests; MapTransferEx
 *    fills a list, FlushAdapterBuffersEx ends it.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/ntdma.h>

#include "wdmdma_test_util.h"

#define PKT_PAGES	4
#define PKT_LEN		(PKT_PAGES * PAGE_SIZE)
#define PKT_OFF		100
#define PKT_XFER	(PKT_LEN - 2 * PKT_OFF)	/* 4 map registers */
#define PKT_REGS	5	/* granted for PKT_LEN */
#define PKT_HIGH	BIT_ULL(28)
#define PKT_NAME	"wdmdma-test-packet"

static struct platform_device *pkt_pdev;

/* What one adapter-control routine saw, and what it returns. */
struct pkt_rec {
	atomic_t calls;
	struct completion done;
	struct device *dev;
	void *irp;
	struct wdmdma_map_regs *regs;
	struct task_struct *task;
	enum wdmdma_alloc_action action;
	atomic_t *seq;
	int order;
};

static void pkt_rec_init(struct pkt_rec *rec, enum wdmdma_alloc_action action,
			 atomic_t *seq)
{
	memset(rec, 0, sizeof(*rec));
	atomic_set(&rec->calls, 0);
	init_completion(&rec->done);
	rec->action = action;
	rec->seq = seq;
	rec->order = -1;
}

static enum wdmdma_alloc_action pkt_control(struct device *dev, void *irp,
					    struct wdmdma_map_regs *regs,
					    void *context)
{
	struct pkt_rec *rec = context;

	rec->dev = dev;
	rec->irp = irp;
	rec->regs = regs;
	rec->task = current;
	if (rec->seq)
		rec->order = atomic_inc_return(rec->seq) - 1;
	atomic_inc(&rec->calls);
	complete(&rec->done);
	return rec->action;
}

static int pkt_calls(struct pkt_rec *rec)
{
	return atomic_read(&rec->calls);
}

static bool pkt_wait(struct pkt_rec *rec)
{
	return wait_for_completion_timeout(&rec->done,
				msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)) != 0;
}

static struct device *pkt_dev(struct kunit *test)
{
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pkt_pdev);
	return &pkt_pdev->dev;
}

/*
 * Cleanups that run when the test ends, after a failed assertion too:
 * KUnit resources (kunit_add_action() is not in every kernel wdmdma
 * builds for). pkt_release() runs one at once, and only once.
 */
struct pkt_cleanup {
	void (*fn)(void *data);
	void *data;
};

static int pkt_cleanup_init(struct kunit_resource *res, void *context)
{
	res->data = context;
	return 0;
}

static void pkt_cleanup_free(struct kunit_resource *res)
{
	struct pkt_cleanup *c = res->data;

	c->fn(c->data);
	kfree(c);
}

/* Run @fn(@data) when the test ends; now, and fail, if that cannot be. */
static void pkt_defer(struct kunit *test, void (*fn)(void *data), void *data)
{
	struct pkt_cleanup *c = kmalloc(sizeof(*c), GFP_KERNEL);

	if (c) {
		c->fn = fn;
		c->data = data;
		if (kunit_alloc_resource(test, pkt_cleanup_init,
					 pkt_cleanup_free, GFP_KERNEL, c))
			return;
		kfree(c);
	}
	fn(data);
	KUNIT_ASSERT_TRUE_MSG(test, false, "no memory to register a cleanup");
}

static bool pkt_cleanup_match(struct kunit *test, struct kunit_resource *res,
			      void *match_data)
{
	return res->free == pkt_cleanup_free &&
	       ((struct pkt_cleanup *)res->data)->data == match_data;
}

/* Run the cleanup registered for @data now. */
static void pkt_release(struct kunit *test, void *data)
{
	KUNIT_EXPECT_EQ(test, kunit_destroy_resource(test, pkt_cleanup_match,
						     data), 0);
}

static void pkt_destroy_adapter(void *data)
{
	wdmdma_destroy_adapter(data);
}

static void pkt_free_mdl(void *data)
{
	wdmdma_mdl_free(data);
}

static void pkt_put_nt_adapter(void *data)
{
	PDMA_ADAPTER adapter = data;

	adapter->DmaOperations->PutDmaAdapter(adapter);
}

static void pkt_restore_verifier(void *data)
{
	wdmdma_set_verifier(*(bool *)data);
}

/*
 * Set the verifier (it is global) for this test: the old setting comes
 * back when the test ends, after a failed assertion too, or at
 * pkt_release() of the returned key.
 */
static bool *pkt_set_verifier(struct kunit *test, bool on)
{
	bool *old = kunit_kmalloc(test, sizeof(*old), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, old);
	*old = wdmdma_set_verifier(on);
	pkt_defer(test, pkt_restore_verifier, old);
	return old;
}

/* A test adapter destroyed when the test ends (or by pkt_release()). */
static struct wdmdma_adapter *pkt_managed(struct kunit *test,
					  struct wdmdma_adapter *a)
{
	pkt_defer(test, pkt_destroy_adapter, a);
	return a;
}

static struct wdmdma_adapter *pkt_adapter(struct kunit *test, bool sg,
					  unsigned int width)
{
	return pkt_managed(test, wdmdma_test_adapter(test, pkt_dev(test), sg,
						     width, PKT_LEN, 0, 0));
}

/* The bus (= physical) address of a byte of a vmalloc or linear buffer. */
static u64 pkt_phys(const void *p)
{
	if (is_vmalloc_addr(p))
		return page_to_phys(vmalloc_to_page(p)) + offset_in_page(p);
	return virt_to_phys((void *)p);
}

/* A buffer of four discontiguous pages and its MDL, freed with the test. */
struct pkt_buf {
	struct wdmdma_test_vbuf vb;
	u8 *va;
	struct wdmdma_mdl *mdl;
};

/* A test's buffer (test->priv) is freed when the test ends (pkt_exit()). */
static int pkt_init(struct kunit *test)
{
	test->priv = NULL;
	return 0;
}

static void pkt_exit(struct kunit *test)
{
	struct pkt_buf *b = test->priv;

	if (!b)
		return;
	wdmdma_mdl_free(b->mdl);
	wdmdma_test_vbuf_free(&b->vb);
	test->priv = NULL;
}

static struct pkt_buf *pkt_buf(struct kunit *test, u8 seed)
{
	struct pkt_buf *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NULL(test, test->priv);
	b->va = wdmdma_test_vbuf_alloc(&b->vb, PKT_PAGES);
	KUNIT_ASSERT_NOT_NULL(test, b->va);
	test->priv = b;
	b->mdl = wdmdma_mdl_alloc(b->va, PKT_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->mdl);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_build_for_kernel_buffer(b->mdl), 0);
	wdmdma_test_fill(b->va, PKT_LEN, seed);
	return b;
}

/*
 * Scatter/gather adapter, nothing to bounce: the routine runs at once in
 * this task with the adapter's device and a NULL irp; MapTransfer gives
 * one piece per discontiguous page, each the buffer's own bytes; a read
 * is mapped in place too. Nothing counts as a verifier error.
 */
static void pkt_sg_map_in_place(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, true, 64);
	struct pkt_buf *b = pkt_buf(test, 0x21);
	struct wdmdma_stats before = wdmdma_test_stats(a), after;
	u32 off = PKT_OFF, left = PKT_XFER, len;
	unsigned int pieces = 0;
	struct pkt_rec rec;
	dma_addr_t addr;
	int ret;

	pkt_rec_init(&rec, WDMDMA_KEEP_OBJECT, NULL);
	ret = wdmdma_allocate_channel(a, NULL, 4, pkt_control, &rec);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec), 1);
	KUNIT_EXPECT_PTR_EQ(test, rec.task, current);
	KUNIT_EXPECT_PTR_EQ(test, rec.dev, pkt_dev(test));
	KUNIT_EXPECT_NULL(test, rec.irp);
	KUNIT_ASSERT_NOT_NULL(test, rec.regs);

	while (left) {
		len = left;
		ret = wdmdma_map_transfer(a, b->mdl, rec.regs, b->va + off,
					  &len, true, &addr);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "piece %u", pieces);
		KUNIT_ASSERT_GT(test, len, 0U);
		KUNIT_EXPECT_EQ_MSG(test, len,
				    min_t(u32, left,
					  PAGE_SIZE - offset_in_page(off)),
				    "piece %u: not one page's run", pieces);
		KUNIT_EXPECT_EQ_MSG(test, (u64)addr, pkt_phys(b->va + off),
				    "piece %u not mapped in place", pieces);
		KUNIT_EXPECT_EQ(test, memcmp(phys_to_virt(addr), b->va + off,
					     len), 0);
		off += len;
		left -= len;
		pieces++;
	}
	KUNIT_EXPECT_EQ(test, pieces, 4U);
	KUNIT_EXPECT_EQ(test, wdmdma_flush_adapter_buffers(a, b->mdl, rec.regs,
							   b->va + PKT_OFF,
							   PKT_XFER, true), 0);

	/*
	 * A read is mapped in place too (the device writes the buffer
	 * itself: what lands there says nothing of the flush), and the
	 * flush takes it in the read direction without a report.
	 */
	len = 1000;
	ret = wdmdma_map_transfer(a, b->mdl, rec.regs, b->va + PAGE_SIZE + 8,
				  &len, false, &addr);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len, 1000U);
	KUNIT_EXPECT_EQ(test, (u64)addr, pkt_phys(b->va + PAGE_SIZE + 8));
	KUNIT_EXPECT_EQ(test, wdmdma_flush_adapter_buffers(a, b->mdl, rec.regs,
							   b->va + PAGE_SIZE + 8,
							   1000, false), 0);

	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.outstanding, 1ULL);
	wdmdma_free_map_registers(a, rec.regs, 4);
	wdmdma_free_channel(a);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, after.verifier_errors, before.verifier_errors);
	pkt_release(test, a);
}

/*
 * One-element adapter: a write is copied to the map registers and is one
 * contiguous range, however many pieces map it; a read reaches the buffer
 * only at FlushAdapterBuffers. A piece that does not continue the last is
 * refused.
 */
static void pkt_one_element_copy(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, false, 64);
	struct pkt_buf *b = pkt_buf(test, 0x37);
	struct wdmdma_stats before = wdmdma_test_stats(a), after;
	dma_addr_t addr, addr2;
	struct pkt_rec rec;
	u8 *pattern;
	u32 len;
	int ret;

	pattern = kunit_kmalloc(test, PKT_XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	pkt_rec_init(&rec, WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS, NULL);
	ret = wdmdma_allocate_channel(a, NULL, 4, pkt_control, &rec);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec), 1);
	KUNIT_ASSERT_NOT_NULL(test, rec.regs);

	/* A write in one piece: the whole transfer, copied. */
	len = PKT_XFER;
	ret = wdmdma_map_transfer(a, b->mdl, rec.regs, b->va + PKT_OFF, &len,
				  true, &addr);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len, (u32)PKT_XFER);
	KUNIT_EXPECT_NE(test, (u64)addr, pkt_phys(b->va + PKT_OFF));
	KUNIT_EXPECT_EQ(test, memcmp(phys_to_virt(addr), b->va + PKT_OFF,
				     PKT_XFER), 0);
	KUNIT_EXPECT_TRUE(test, !wdmdma_flush_adapter_buffers(a, b->mdl,
							      rec.regs,
							      b->va + PKT_OFF,
							      PKT_XFER, true));

	/* In two pieces: the second follows the first in the registers. */
	len = 1000;
	ret = wdmdma_map_transfer(a, b->mdl, rec.regs, b->va + PKT_OFF, &len,
				  true, &addr);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len, 1000U);
	len = PKT_XFER - 1000;
	ret = wdmdma_map_transfer(a, b->mdl, rec.regs, b->va + PKT_OFF + 1000,
				  &len, true, &addr2);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len, (u32)(PKT_XFER - 1000));
	KUNIT_EXPECT_EQ(test, (u64)addr2, (u64)addr + 1000);
	KUNIT_EXPECT_EQ(test, memcmp(phys_to_virt(addr), b->va + PKT_OFF,
				     PKT_XFER), 0);
	wdmdma_flush_adapter_buffers(a, b->mdl, rec.regs, b->va + PKT_OFF,
				     PKT_XFER, true);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.verifier_errors, before.verifier_errors);

	/* A read: in the buffer only after the flush. */
	len = PKT_XFER;
	ret = wdmdma_map_transfer(a, b->mdl, rec.regs, b->va + PKT_OFF, &len,
				  false, &addr);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len, (u32)PKT_XFER);
	wdmdma_test_fill(pattern, PKT_XFER, 0xa4);
	memcpy(phys_to_virt(addr), pattern, PKT_XFER);
	KUNIT_EXPECT_NE(test, memcmp(b->va + PKT_OFF, pattern, PKT_XFER), 0);
	wdmdma_flush_adapter_buffers(a, b->mdl, rec.regs, b->va + PKT_OFF,
				     PKT_XFER, false);
	KUNIT_EXPECT_EQ(test, memcmp(b->va + PKT_OFF, pattern, PKT_XFER), 0);

	/* A piece that skips bytes is refused, and counted. */
	len = 1000;
	ret = wdmdma_map_transfer(a, b->mdl, rec.regs, b->va, &len, true,
				  &addr);
	KUNIT_ASSERT_EQ(test, ret, 0);
	len = 1000;
	ret = wdmdma_map_transfer(a, b->mdl, rec.regs, b->va + 2000, &len,
				  true, &addr);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	KUNIT_EXPECT_EQ(test, len, 0U);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.verifier_errors,
			before.verifier_errors + 1);
	wdmdma_flush_adapter_buffers(a, b->mdl, rec.regs, b->va, 1000, true);

	/* The routine kept the registers only: the channel is free. */
	KUNIT_EXPECT_EQ(test, after.outstanding, 1ULL);
	KUNIT_EXPECT_EQ(test, after.map_regs_in_use, 4ULL);
	wdmdma_free_map_registers(a, rec.regs, 4);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, after.map_regs_in_use, 0ULL);
	KUNIT_EXPECT_EQ(test, after.verifier_errors,
			before.verifier_errors + 1);
	pkt_release(test, a);
}

/*
 * Pages at or above @limit: a block of 2^*order pages, or NULL. The
 * allocator may hand out low memory first: whole 2 MiB blocks are tried,
 * then single pages, holding the low ones meanwhile, but never more than
 * a quarter of RAM (nor more than @limit, all there is below it). NULL at
 * once when RAM is no larger than @limit: then nothing is above it (but
 * for holes, which small guests do not have).
 */
static struct page *pkt_high_block(u64 limit, unsigned int *order)
{
	static const unsigned int orders[] = { 9, 0 };
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;

	if (ram <= limit)
		return NULL;
	return wdmdma_test_high_block(limit, orders, ARRAY_SIZE(orders),
				      UINT_MAX, min(limit, ram / 4), order);
}

/*
 * Scatter/gather adapter with a 28-bit width, an MDL of a low page and a
 * high one: the low page is mapped in place, the high one copied to a map
 * register below 2^28 (a write at MapTransfer, a read back at the flush).
 */
static void pkt_sg_bounce(struct kunit *test)
{
	struct wdmdma_adapter *a;
	struct page *low, *high;
	struct wdmdma_mdl *mdl;
	struct bio_vec bv[2];
	unsigned int order;
	struct pkt_rec rec;
	dma_addr_t addr[2];
	u32 len[2];
	u8 *pattern;
	int ret;

	if ((u64)totalram_pages() << PAGE_SHIFT <= PKT_HIGH)
		kunit_skip(test, "no memory above 256 MiB (guest too small?)");
	pattern = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	a = pkt_managed(test, wdmdma_test_adapter(test, pkt_dev(test), true,
						  28, PKT_LEN, 0, 0));
	high = pkt_high_block(PKT_HIGH, &order);
	if (!high)
		kunit_skip(test, "no page above 256 MiB found within the memory the test may hold");
	low = alloc_page(GFP_KERNEL | GFP_DMA);
	if (!low) {
		__free_pages(high, order);
		KUNIT_FAIL(test, "no GFP_DMA page");
		return;
	}
	bvec_set_page(&bv[0], low, PAGE_SIZE, 0);
	bvec_set_page(&bv[1], high, PAGE_SIZE, 0);
	mdl = wdmdma_mdl_from_bvecs(bv, 2, GFP_KERNEL);
	if (!mdl) {
		KUNIT_FAIL(test, "no memory for the MDL");
		goto out;
	}
	wdmdma_test_fill(page_address(low), PAGE_SIZE, 1);
	wdmdma_test_fill(page_address(high), PAGE_SIZE, 2);

	pkt_rec_init(&rec, WDMDMA_KEEP_OBJECT, NULL);
	ret = wdmdma_allocate_channel(a, NULL, 2, pkt_control, &rec);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (pkt_calls(&rec) != 1 || !rec.regs) {
		KUNIT_FAIL(test, "the routine did not run at once");
		goto out;
	}
	len[0] = 2 * PAGE_SIZE;
	ret = wdmdma_map_transfer(a, mdl, rec.regs, wdmdma_mdl_va(mdl),
				  &len[0], true, &addr[0]);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len[0], (u32)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, (u64)addr[0], (u64)page_to_phys(low));
	len[1] = PAGE_SIZE;
	ret = wdmdma_map_transfer(a, mdl, rec.regs,
				  (u8 *)wdmdma_mdl_va(mdl) + PAGE_SIZE,
				  &len[1], true, &addr[1]);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len[1], (u32)PAGE_SIZE);
	KUNIT_EXPECT_LE(test, (u64)addr[1] + PAGE_SIZE - 1,
			(u64)DMA_BIT_MASK(28));
	if (!ret)
		KUNIT_EXPECT_EQ(test, memcmp(phys_to_virt(addr[1]),
					     page_address(high), PAGE_SIZE), 0);
	wdmdma_flush_adapter_buffers(a, mdl, rec.regs, wdmdma_mdl_va(mdl),
				     2 * PAGE_SIZE, true);

	/* A read of the high page: back in it after the flush. */
	len[1] = PAGE_SIZE;
	ret = wdmdma_map_transfer(a, mdl, rec.regs,
				  (u8 *)wdmdma_mdl_va(mdl) + PAGE_SIZE,
				  &len[1], false, &addr[1]);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret) {
		KUNIT_EXPECT_LE(test, (u64)addr[1] + PAGE_SIZE - 1,
				(u64)DMA_BIT_MASK(28));
		wdmdma_test_fill(pattern, PAGE_SIZE, 3);
		memcpy(phys_to_virt(addr[1]), pattern, PAGE_SIZE);
		wdmdma_flush_adapter_buffers(a, mdl, rec.regs,
					     (u8 *)wdmdma_mdl_va(mdl) + PAGE_SIZE,
					     PAGE_SIZE, false);
		KUNIT_EXPECT_EQ(test, memcmp(page_address(high), pattern,
					     PAGE_SIZE), 0);
	}
	wdmdma_free_map_registers(a, rec.regs, 2);
	wdmdma_free_channel(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).map_regs_in_use, 0ULL);
out:
	pkt_release(test, a);
	wdmdma_mdl_free(mdl);
	__free_page(low);
	__free_pages(high, order);
}

/*
 * One channel: requests made while it is held wait, and run in order
 * from the work item when it is freed; DeallocateObject frees both,
 * DeallocateObjectKeepRegisters the channel only.
 */
static void pkt_one_channel_fifo(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, true, 64);
	struct pkt_rec *rec;
	struct wdmdma_stats st;
	atomic_t seq;
	int ret;

	atomic_set(&seq, 0);
	rec = kunit_kcalloc(test, 4, sizeof(*rec), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rec);
	pkt_rec_init(&rec[0], WDMDMA_KEEP_OBJECT, &seq);
	pkt_rec_init(&rec[1], WDMDMA_DEALLOCATE_OBJECT, &seq);
	pkt_rec_init(&rec[2], WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS, &seq);
	pkt_rec_init(&rec[3], WDMDMA_DEALLOCATE_OBJECT, &seq);

	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, pkt_control,
						      &rec[0]), 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec[0]), 1);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 2, pkt_control,
						      &rec[1]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 3, pkt_control,
						      &rec[2]), 0);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[1]), 0);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[2]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).queue_depth, 2ULL);

	/* Its registers back, the channel still held: nothing runs. */
	wdmdma_free_map_registers(a, rec[0].regs, 1);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[1]), 0);

	wdmdma_free_channel(a);
	KUNIT_EXPECT_TRUE(test, pkt_wait(&rec[1]));
	KUNIT_EXPECT_TRUE(test, pkt_wait(&rec[2]));
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[1]), 1);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[2]), 1);
	KUNIT_EXPECT_EQ(test, rec[1].order, 1);
	KUNIT_EXPECT_EQ(test, rec[2].order, 2);
	KUNIT_EXPECT_PTR_NE(test, rec[1].task, current);

	/* rec[1] freed both; rec[2] kept its registers, not the channel. */
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1ULL);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0ULL);
	ret = wdmdma_allocate_channel(a, NULL, 1, pkt_control, &rec[3]);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ_MSG(test, pkt_calls(&rec[3]), 1,
			    "the channel was not free");
	if (rec[2].regs)
		wdmdma_free_map_registers(a, rec[2].regs, 3);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	pkt_release(test, a);
}

/*
 * A one-element adapter's map registers: a channel request waits for them
 * while a base that was kept holds them all, and runs when it is freed.
 */
static void pkt_registers_wait(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, false, 64);
	struct pkt_rec rec[2];

	pkt_rec_init(&rec[0], WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS, NULL);
	pkt_rec_init(&rec[1], WDMDMA_DEALLOCATE_OBJECT, NULL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 4, pkt_control,
						      &rec[0]), 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec[0]), 1);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).map_regs_in_use, 4ULL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, pkt_control,
						      &rec[1]), 0);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[1]), 0);
	wdmdma_free_map_registers(a, rec[0].regs, 4);
	KUNIT_EXPECT_TRUE(test, pkt_wait(&rec[1]));
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).map_regs_in_use, 0ULL);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0ULL);
	pkt_release(test, a);
}

/*
 * A channel request waiting for map registers counts as waiting for them:
 * a Get that needs map registers, made while it waits, waits behind it
 * even though enough are free for the Get, and runs after it.
 */
static void pkt_channel_regs_fifo(struct kunit *test)
{
	struct wdmdma_test_rec *get = wdmdma_test_recs(test, 1, NULL);
	struct wdmdma_adapter *a = pkt_adapter(test, false, 64);
	struct pkt_buf *b = pkt_buf(test, 7);
	struct pkt_rec rec[2];

	pkt_rec_init(&rec[0], WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS, NULL);
	pkt_rec_init(&rec[1], WDMDMA_DEALLOCATE_OBJECT, NULL);
	/* One map register held; the channel is free. */
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, pkt_control,
						      &rec[0]), 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec[0]), 1);
	/* All of them: waits for that one. */
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, PKT_PAGES,
						      pkt_control, &rec[1]), 0);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[1]), 0);
	/* Two would fit, but they are waited for. */
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list(a, b->mdl, b->va,
						 2 * PAGE_SIZE,
						 wdmdma_test_rec_cb, get, true),
			0);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(get), 0,
			    "a Get needing map registers overtook a channel request waiting for them");
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[1]), 0);

	wdmdma_free_map_registers(a, rec[0].regs, 1);
	KUNIT_EXPECT_TRUE(test, pkt_wait(&rec[1]));
	KUNIT_EXPECT_TRUE(test, wdmdma_test_rec_wait(get));
	wdmdma_flush_adapter(a);
	if (wdmdma_test_rec_calls(get) && get->sgl)
		wdmdma_put_sg_list(a, get->sgl, true);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).map_regs_in_use, 0ULL);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).queue_depth, 0ULL);
	pkt_release(test, a);
}

/*
 * KeepObject, then FreeAdapterChannel only (no FreeMapRegisters): the
 * channel and the map registers go back together, so a second request
 * for all of them runs at once; the same for the base a synchronous Ex
 * call returns with no routine. Nothing is outstanding at destroy.
 */
static void pkt_keep_free_channel(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, false, 64);
	struct wdmdma_stats before = wdmdma_test_stats(a), st;
	struct wdmdma_map_regs *regs = NULL;
	struct wdmdma_xfer_ctx *ctx;
	struct pkt_rec rec[2];

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	wdmdma_init_xfer_ctx(a, ctx);
	pkt_rec_init(&rec[0], WDMDMA_KEEP_OBJECT, NULL);
	pkt_rec_init(&rec[1], WDMDMA_KEEP_OBJECT, NULL);

	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, PKT_REGS,
						      pkt_control, &rec[0]), 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec[0]), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_GT(test, st.map_regs_in_use, 0ULL);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1ULL);
	wdmdma_free_channel(a);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0ULL);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);

	/* All the map registers again: free, so it runs at once. */
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, PKT_REGS,
						      pkt_control, &rec[1]), 0);
	KUNIT_EXPECT_EQ_MSG(test, pkt_calls(&rec[1]), 1,
			    "FreeAdapterChannel left the channel or its map registers held");
	wdmdma_free_channel(a);

	/* Synchronous, no routine: kept as with KeepObject. */
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, ctx, PKT_REGS,
							 WDMDMA_SYNCHRONOUS,
							 NULL, NULL, &regs), 0);
	KUNIT_EXPECT_NOT_NULL(test, regs);
	KUNIT_EXPECT_GT(test, wdmdma_test_stats(a).map_regs_in_use, 0ULL);
	wdmdma_free_channel(a);

	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0ULL);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, before.verifier_errors);
	pkt_release(test, a);
}

/*
 * A routine that misbehaves: it frees its own map registers (@free_regs
 * of them, unless 0), releases its channel and has it granted to another
 * request at once (@again), releases it a second time (@twice), and
 * returns @action.
 */
struct pkt_stray {
	struct wdmdma_adapter *a;
	struct wdmdma_xfer_ctx ctx;
	struct pkt_rec other;
	unsigned int free_regs;
	bool again;
	bool twice;
	enum wdmdma_alloc_action action;
	int ret;
};

static enum wdmdma_alloc_action pkt_stray_control(struct device *dev,
						  void *irp,
						  struct wdmdma_map_regs *regs,
						  void *context)
{
	struct pkt_stray *s = context;

	if (s->free_regs)
		wdmdma_free_map_registers(s->a, regs, s->free_regs);
	if (s->again) {
		/* Its own channel, released: another request gets it. */
		wdmdma_free_channel(s->a);
		s->ret = wdmdma_allocate_channel_ex(s->a, NULL, &s->ctx, 1,
						    WDMDMA_SYNCHRONOUS,
						    pkt_control, &s->other,
						    NULL);
	}
	/* Neither a second release nor the return frees the other's. */
	if (s->twice)
		wdmdma_free_channel(s->a);
	return s->action;
}

/*
 * The channel has an owner: a routine that released its channel, saw it
 * granted to another request, released it again and returned
 * DeallocateObject, releases only its own channel and map registers; the
 * other request keeps the channel until its holder frees it.
 */
static void pkt_channel_owner(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, true, 64);
	struct wdmdma_stats before = wdmdma_test_stats(a), st;
	struct wdmdma_map_regs *regs = NULL;
	struct wdmdma_xfer_ctx *ctx;
	struct pkt_stray *s;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	s->a = a;
	s->again = true;
	s->twice = true;
	s->action = WDMDMA_DEALLOCATE_OBJECT;
	wdmdma_init_xfer_ctx(a, &s->ctx);
	wdmdma_init_xfer_ctx(a, ctx);
	pkt_rec_init(&s->other, WDMDMA_KEEP_OBJECT, NULL);

	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1,
						      pkt_stray_control, s), 0);
	KUNIT_EXPECT_EQ(test, s->ret, 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&s->other), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, before.verifier_errors + 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1ULL);

	/* The other request still holds the channel. */
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, ctx, 1,
							 WDMDMA_SYNCHRONOUS,
							 NULL, NULL, &regs),
			-ENOMEM);
	KUNIT_EXPECT_NULL(test, regs);

	/* Its holder frees it, and its map registers with it. */
	wdmdma_free_channel(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, ctx, 1,
							 WDMDMA_SYNCHRONOUS,
							 NULL, NULL, &regs), 0);
	KUNIT_EXPECT_NOT_NULL(test, regs);
	wdmdma_free_channel(a);
	/* Nothing held: reported and ignored. */
	wdmdma_free_channel(a);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, before.verifier_errors + 2);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	pkt_release(test, a);
}

/*
 * Limits and misuse: bad counts and arguments are refused (no routine);
 * MapTransfer stops at the map registers granted; a bad base, zero
 * length, a change of direction, a wrong count, a double free and freeing
 * a channel not held are refused or reported.
 */
static void pkt_limits_and_misuse(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, true, 64);
	struct wdmdma_stats before = wdmdma_test_stats(a), after;
	struct wdmdma_mdl *mdl;
	struct pkt_rec rec;
	dma_addr_t addr;
	void *bogus;
	bool *verifier;
	u8 *buf;
	u32 len;
	int ret;

	buf = kunit_kmalloc(test, PKT_LEN, GFP_KERNEL);	/* contiguous */
	bogus = kunit_kzalloc(test, 256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, bogus);
	mdl = wdmdma_mdl_alloc(buf, PKT_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	pkt_defer(test, pkt_free_mdl, mdl);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_build_for_kernel_buffer(mdl), 0);
	pkt_rec_init(&rec, WDMDMA_KEEP_OBJECT, NULL);

	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 0, pkt_control,
						      &rec), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, PKT_REGS + 1,
						      pkt_control, &rec),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, NULL, &rec),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(NULL, NULL, 1,
						      pkt_control, &rec),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec), 0);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.verifier_errors,
			before.verifier_errors + 1);

	/* One map register: a physically contiguous run stops at a page. */
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, pkt_control,
						      &rec), 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec), 1);
	len = 3 * PAGE_SIZE;
	ret = wdmdma_map_transfer(a, mdl, rec.regs, buf + PKT_OFF, &len, true,
				  &addr);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len,
			(u32)(PAGE_SIZE - offset_in_page(buf + PKT_OFF)));
	KUNIT_EXPECT_EQ(test, (u64)addr, (u64)virt_to_phys(buf + PKT_OFF));
	len = PAGE_SIZE;
	ret = wdmdma_map_transfer(a, mdl, rec.regs, buf + 2 * PAGE_SIZE, &len,
				  true, &addr);
	KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
	KUNIT_EXPECT_EQ(test, len, 0U);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.verifier_errors,
			before.verifier_errors + 2);
	wdmdma_flush_adapter_buffers(a, mdl, rec.regs, buf + PKT_OFF,
				     PAGE_SIZE - offset_in_page(buf + PKT_OFF),
				     true);

	/* Refused: a base that is none, zero length, a change of direction. */
	len = 100;
	KUNIT_EXPECT_EQ(test, wdmdma_map_transfer(a, mdl, bogus, buf, &len,
						  true, &addr), -EINVAL);
	len = 0;
	KUNIT_EXPECT_EQ(test, wdmdma_map_transfer(a, mdl, rec.regs, buf, &len,
						  true, &addr), -EINVAL);
	len = 100;
	KUNIT_EXPECT_EQ(test, wdmdma_map_transfer(a, mdl, rec.regs, buf, &len,
						  true, &addr), 0);
	len = 100;
	KUNIT_EXPECT_EQ(test, wdmdma_map_transfer(a, mdl, rec.regs, buf + 100,
						  &len, false, &addr),
			-EINVAL);
	wdmdma_flush_adapter_buffers(a, mdl, rec.regs, buf, 100, true);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.verifier_errors,
			before.verifier_errors + 5);

	/* A wrong count still frees; a second free is refused. */
	wdmdma_free_map_registers(a, rec.regs, 3);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.verifier_errors,
			before.verifier_errors + 6);
	KUNIT_EXPECT_EQ(test, after.outstanding, 0ULL);
	/* Only the verifier's lookup tells a freed base (its memory is gone). */
	verifier = pkt_set_verifier(test, true);
	wdmdma_free_map_registers(a, rec.regs, 1);
	pkt_release(test, verifier);
	wdmdma_free_channel(a);
	wdmdma_free_channel(a);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.verifier_errors,
			before.verifier_errors + 8);
	KUNIT_EXPECT_EQ(test, after.outstanding, 0ULL);
	pkt_release(test, a);
	pkt_release(test, mdl);
}

/*
 * The Ex form: synchronous with no routine returns the base; synchronous
 * while the channel is held fails at once; a waiting request is cancelled
 * through its context (once), and a context still waiting is not reused.
 */
static void pkt_ex_sync_and_cancel(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, true, 64);
	struct wdmdma_stats before = wdmdma_test_stats(a);
	struct wdmdma_map_regs *regs = NULL;
	struct wdmdma_xfer_ctx *ctx;
	struct pkt_rec rec[3];
	int i;

	ctx = kunit_kcalloc(test, 3, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	for (i = 0; i < 3; i++) {
		wdmdma_init_xfer_ctx(a, &ctx[i]);
		pkt_rec_init(&rec[i], WDMDMA_DEALLOCATE_OBJECT, NULL);
	}
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, NULL, 1, 0,
							 pkt_control, &rec[0],
							 NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, &ctx[0], 2,
							 WDMDMA_SYNCHRONOUS,
							 NULL, NULL, &regs), 0);
	KUNIT_ASSERT_NOT_NULL(test, regs);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, &ctx[0], 1,
							 WDMDMA_SYNCHRONOUS,
							 pkt_control, &rec[0],
							 NULL), -ENOMEM);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[0]), 0);

	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, &ctx[1], 1, 0,
							 pkt_control, &rec[1],
							 NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, &ctx[2], 1, 0,
							 pkt_control, &rec[2],
							 NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, &ctx[2], 1, 0,
							 pkt_control, &rec[0],
							 NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).verifier_errors,
			before.verifier_errors + 1);
	KUNIT_EXPECT_TRUE(test, wdmdma_cancel(a, &ctx[1]));
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[1]));

	wdmdma_free_map_registers(a, regs, 2);
	wdmdma_free_channel(a);
	KUNIT_EXPECT_TRUE(test, pkt_wait(&rec[2]));
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[0]), 0);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[1]), 0);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[2]), 1);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[2]));
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0ULL);
	pkt_release(test, a);
}

/*
 * Destroy with channel requests waiting (one in a waiter slot or its
 * memory, one in a transfer context): they end, and their routines never
 * run, not even later.
 */
static void pkt_destroy_waiting(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, true, 64);
	struct wdmdma_xfer_ctx *ctx;
	struct pkt_rec rec[3];
	int i;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	wdmdma_init_xfer_ctx(a, ctx);
	for (i = 0; i < 3; i++)
		pkt_rec_init(&rec[i], WDMDMA_DEALLOCATE_OBJECT, NULL);
	rec[0].action = WDMDMA_KEEP_OBJECT;
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, pkt_control,
						      &rec[0]), 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec[0]), 1);
	/* The channel stays held; nothing is outstanding at destroy. */
	wdmdma_free_map_registers(a, rec[0].regs, 1);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, pkt_control,
						      &rec[1]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, ctx, 1, 0,
							 pkt_control, &rec[2],
							 NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).queue_depth, 2ULL);
	/* Destroy cancelled them and waited out the work item: final. */
	pkt_release(test, a);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[1]), 0);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec[2]), 0);
}

/*
 * wdmdma_map_transfer_ex() on a one-element adapter: one element, the
 * whole transfer copied; a read comes back at
 * wdmdma_flush_adapter_buffers_ex(); a list with no room is -ENOBUFS.
 */
static void pkt_transfer_ex_one_element(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, false, 64);
	struct pkt_buf *b = pkt_buf(test, 0x52);
	size_t size = sizeof(struct wdmdma_sg_list) +
		      2 * sizeof(struct wdmdma_sg_element);
	struct wdmdma_sg_list *sgl;
	struct pkt_rec rec;
	u8 *pattern;
	u32 len;
	int ret;

	sgl = kunit_kzalloc(test, size, GFP_KERNEL);
	pattern = kunit_kmalloc(test, PKT_XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sgl);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	pkt_rec_init(&rec, WDMDMA_KEEP_OBJECT, NULL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 4, pkt_control,
						      &rec), 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec), 1);

	len = PKT_XFER;
	KUNIT_EXPECT_EQ(test, wdmdma_map_transfer_ex(a, b->mdl, rec.regs,
						     PKT_OFF, &len, true, sgl,
						     sizeof(*sgl)), -ENOBUFS);
	KUNIT_EXPECT_EQ(test, len, 0U);
	len = PKT_XFER;
	ret = wdmdma_map_transfer_ex(a, b->mdl, rec.regs, PKT_OFF, &len, true,
				     sgl, size);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, len, (u32)PKT_XFER);
	KUNIT_ASSERT_EQ(test, sgl->nr_elements, 1U);
	KUNIT_EXPECT_EQ(test, sgl->elements[0].len, (u32)PKT_XFER);
	KUNIT_EXPECT_EQ(test, memcmp(phys_to_virt(sgl->elements[0].addr),
				     b->va + PKT_OFF, PKT_XFER), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_flush_adapter_buffers_ex(a, b->mdl,
							      rec.regs,
							      PKT_OFF,
							      PKT_XFER, true),
			0);

	len = PKT_XFER;
	ret = wdmdma_map_transfer_ex(a, b->mdl, rec.regs, PKT_OFF, &len, false,
				     sgl, size);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, sgl->nr_elements, 1U);
	wdmdma_test_fill(pattern, PKT_XFER, 0x3e);
	memcpy(phys_to_virt(sgl->elements[0].addr), pattern, PKT_XFER);
	wdmdma_flush_adapter_buffers_ex(a, b->mdl, rec.regs, PKT_OFF, PKT_XFER,
					false);
	KUNIT_EXPECT_EQ(test, memcmp(b->va + PKT_OFF, pattern, PKT_XFER), 0);
	wdmdma_free_map_registers(a, rec.regs, 4);
	wdmdma_free_channel(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0ULL);
	pkt_release(test, a);
}

/* --- The Windows way, through DmaOperations ------------------------------- */

struct pkt_nt_io {
	atomic_t calls;
	struct completion done;
	PDEVICE_OBJECT device;
	PIRP irp;
	PVOID base;
	IO_ALLOCATION_ACTION action;
	/* Map a write inside the routine (at "DISPATCH_LEVEL"). */
	PDMA_ADAPTER adapter;
	PMDL mdl;
	PVOID va;
	ULONG length;
	PHYSICAL_ADDRESS logical;
};

static IO_ALLOCATION_ACTION pkt_nt_control(PDEVICE_OBJECT DeviceObject,
					   PIRP Irp, PVOID MapRegisterBase,
					   PVOID Context)
{
	struct pkt_nt_io *io = Context;

	io->device = DeviceObject;
	io->irp = Irp;
	io->base = MapRegisterBase;
	if (io->mdl)
		io->logical = io->adapter->DmaOperations->MapTransfer(io->adapter,
								      io->mdl,
								      MapRegisterBase,
								      io->va,
								      &io->length,
								      TRUE);
	atomic_inc(&io->calls);
	complete(&io->done);
	return io->action;
}

static void pkt_nt_io_init(struct pkt_nt_io *io, IO_ALLOCATION_ACTION action)
{
	memset(io, 0, sizeof(*io));
	atomic_set(&io->calls, 0);
	init_completion(&io->done);
	io->action = action;
}

static bool pkt_nt_wait(struct pkt_nt_io *io)
{
	return wait_for_completion_timeout(&io->done,
				msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)) != 0;
}

static PDMA_ADAPTER pkt_nt_adapter(struct kunit *test, ULONG version,
				   BOOLEAN sg, PULONG regs)
{
	DEVICE_DESCRIPTION dd = { };
	PDMA_ADAPTER adapter;

	dd.Version = version;
	dd.Master = TRUE;
	dd.ScatterGather = sg;
	dd.Dma32BitAddresses = TRUE;
	dd.Dma64BitAddresses = TRUE;
	dd.MaximumLength = PKT_LEN;
	adapter = IoGetDmaAdapter(pkt_dev(test), &dd, regs);
	KUNIT_ASSERT_NOT_NULL(test, adapter);
	pkt_defer(test, pkt_put_nt_adapter, adapter);
	return adapter;
}

/*
 * A one-element adapter the Windows way: too many map registers is
 * STATUS_INSUFFICIENT_RESOURCES; the routine gets the DeviceObject, a NULL
 * Irp and a base, maps a write with MapTransfer and keeps the registers;
 * a read comes back at FlushAdapterBuffers; the Ex form runs synchronously
 * or fails, and a waiting Ex request is cancelled with
 * CancelAdapterChannel.
 */
static void pkt_nt_one_element(struct kunit *test)
{
	struct pkt_buf *b = pkt_buf(test, 0x4d);
	DMA_TRANSFER_CONTEXT_STORAGE *ctx;
	const DMA_OPERATIONS *ops;
	PHYSICAL_ADDRESS logical;
	PDMA_ADAPTER adapter;
	struct pkt_nt_io *io;
	ULONG regs = 0, len;
	PVOID base;
	u8 *pattern;

	io = kunit_kcalloc(test, 4, sizeof(*io), GFP_KERNEL);
	ctx = kunit_kcalloc(test, 2, sizeof(*ctx), GFP_KERNEL);
	pattern = kunit_kmalloc(test, PKT_XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	adapter = pkt_nt_adapter(test, DEVICE_DESCRIPTION_VERSION3, FALSE,
				 &regs);
	ops = adapter->DmaOperations;
	KUNIT_EXPECT_EQ(test, regs, (ULONG)PKT_REGS);

	pkt_nt_io_init(&io[0], KeepObject);
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannel(adapter,
							  pkt_dev(test),
							  regs + 1,
							  pkt_nt_control,
							  &io[0]),
			STATUS_INSUFFICIENT_RESOURCES);
	KUNIT_EXPECT_EQ(test, atomic_read(&io[0].calls), 0);

	pkt_nt_io_init(&io[0], DeallocateObjectKeepRegisters);
	io[0].adapter = adapter;
	io[0].mdl = b->mdl;
	io[0].va = (PUCHAR)MmGetMdlVirtualAddress(b->mdl) + PKT_OFF;
	io[0].length = PKT_XFER;
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannel(adapter,
							  pkt_dev(test), 4,
							  pkt_nt_control,
							  &io[0]),
			STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, atomic_read(&io[0].calls), 1);
	KUNIT_EXPECT_PTR_EQ(test, io[0].device, pkt_dev(test));
	KUNIT_EXPECT_NULL(test, io[0].irp);
	KUNIT_ASSERT_NOT_NULL(test, io[0].base);
	KUNIT_EXPECT_EQ(test, io[0].length, (ULONG)PKT_XFER);
	KUNIT_EXPECT_EQ(test, memcmp(phys_to_virt(io[0].logical.QuadPart),
				     b->va + PKT_OFF, PKT_XFER), 0);
	KUNIT_EXPECT_TRUE(test, ops->FlushAdapterBuffers(adapter, b->mdl,
							 io[0].base, io[0].va,
							 PKT_XFER, TRUE));

	/* The registers were kept: a read through them, after the routine. */
	len = PKT_XFER;
	logical = ops->MapTransfer(adapter, b->mdl, io[0].base, io[0].va, &len,
				   FALSE);
	KUNIT_EXPECT_EQ(test, len, (ULONG)PKT_XFER);
	KUNIT_ASSERT_NE(test, logical.QuadPart, 0LL);
	wdmdma_test_fill(pattern, PKT_XFER, 0x19);
	memcpy(phys_to_virt(logical.QuadPart), pattern, PKT_XFER);
	KUNIT_EXPECT_TRUE(test, ops->FlushAdapterBuffers(adapter, b->mdl,
							 io[0].base, io[0].va,
							 PKT_XFER, FALSE));
	KUNIT_EXPECT_EQ(test, memcmp(b->va + PKT_OFF, pattern, PKT_XFER), 0);
	ops->FreeMapRegisters(adapter, io[0].base, 4);

	/* Ex: synchronous runs now, or fails while the channel is held. */
	ops->InitializeDmaTransferContext(adapter, &ctx[0]);
	ops->InitializeDmaTransferContext(adapter, &ctx[1]);
	pkt_nt_io_init(&io[1], KeepObject);
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannelEx(adapter,
							    pkt_dev(test),
							    &ctx[0], 2,
							    DMA_SYNCHRONOUS_CALLBACK,
							    pkt_nt_control,
							    &io[1], &base),
			STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, atomic_read(&io[1].calls), 1);
	pkt_nt_io_init(&io[2], DeallocateObject);
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannelEx(adapter,
							    pkt_dev(test),
							    &ctx[1], 1,
							    DMA_SYNCHRONOUS_CALLBACK,
							    pkt_nt_control,
							    &io[2], NULL),
			STATUS_INSUFFICIENT_RESOURCES);
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannelEx(adapter,
							    pkt_dev(test),
							    &ctx[1], 1, 0,
							    pkt_nt_control,
							    &io[2], NULL),
			STATUS_SUCCESS);
	KUNIT_EXPECT_TRUE(test, ops->CancelAdapterChannel(adapter,
							  pkt_dev(test),
							  &ctx[1]));
	ops->FreeMapRegisters(adapter, io[1].base, 2);
	ops->FreeAdapterChannel(adapter);
	/* Cancel returned TRUE: its routine can never run, no wait needed. */
	KUNIT_EXPECT_EQ(test, atomic_read(&io[2].calls), 0);

	/* The channel is free again: DeallocateObject runs at once. */
	pkt_nt_io_init(&io[3], DeallocateObject);
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannel(adapter,
							  pkt_dev(test), 1,
							  pkt_nt_control,
							  &io[3]),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&io[3].calls), 1);
	pkt_release(test, adapter);
}

/*
 * A scatter/gather adapter of DMA_OPERATIONS version 1 (which has the
 * packet-based routines): MapTransfer gives each discontiguous page in
 * place; a second AllocateAdapterChannel waits until FreeAdapterChannel.
 */
static void pkt_nt_sg(struct kunit *test)
{
	struct pkt_buf *b = pkt_buf(test, 0x66);
	const DMA_OPERATIONS *ops;
	PHYSICAL_ADDRESS logical;
	PDMA_ADAPTER adapter;
	struct pkt_nt_io *io;
	ULONG regs = 0, len, off = PKT_OFF, left = PKT_XFER;
	unsigned int pieces = 0;

	io = kunit_kcalloc(test, 2, sizeof(*io), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io);
	adapter = pkt_nt_adapter(test, DEVICE_DESCRIPTION_VERSION, TRUE,
				 &regs);
	ops = adapter->DmaOperations;
	KUNIT_ASSERT_NOT_NULL(test, ops->AllocateAdapterChannel);
	KUNIT_ASSERT_NOT_NULL(test, ops->MapTransfer);
	pkt_nt_io_init(&io[0], KeepObject);
	pkt_nt_io_init(&io[1], DeallocateObject);
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannel(adapter, NULL, 4,
							  pkt_nt_control,
							  &io[0]),
			STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, atomic_read(&io[0].calls), 1);
	KUNIT_EXPECT_PTR_EQ(test, io[0].device, pkt_dev(test));
	while (left) {
		len = left;
		logical = ops->MapTransfer(adapter, b->mdl, io[0].base,
					   b->va + off, &len, TRUE);
		KUNIT_ASSERT_GT_MSG(test, len, 0U, "piece %u", pieces);
		KUNIT_EXPECT_EQ(test, (u64)logical.QuadPart,
				pkt_phys(b->va + off));
		off += len;
		left -= len;
		pieces++;
	}
	KUNIT_EXPECT_EQ(test, pieces, 4U);
	KUNIT_EXPECT_TRUE(test, ops->FlushAdapterBuffers(adapter, b->mdl,
							 io[0].base,
							 b->va + PKT_OFF,
							 PKT_XFER, TRUE));
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannel(adapter, NULL, 1,
							  pkt_nt_control,
							  &io[1]),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&io[1].calls), 0);
	ops->FreeMapRegisters(adapter, io[0].base, 4);
	ops->FreeAdapterChannel(adapter);
	KUNIT_EXPECT_TRUE(test, pkt_nt_wait(&io[1]));
	KUNIT_EXPECT_PTR_EQ(test, io[1].device, pkt_dev(test));
	pkt_release(test, adapter);
}

/*
 * MapTransferEx on a scatter/gather adapter: one element per discontiguous
 * page, each in place; a list of two elements maps two pieces; a list with
 * no element is STATUS_BUFFER_TOO_SMALL, a completion routine
 * STATUS_NOT_SUPPORTED; FlushAdapterBuffersEx ends each.
 */
static void pkt_nt_transfer_ex(struct kunit *test)
{
	struct pkt_buf *b = pkt_buf(test, 0x71);
	ULONG size = sizeof(SCATTER_GATHER_LIST) +
		     8 * sizeof(SCATTER_GATHER_ELEMENT);
	DMA_TRANSFER_CONTEXT_STORAGE *ctx;
	const DMA_OPERATIONS *ops;
	PSCATTER_GATHER_LIST sgl;
	PDMA_ADAPTER adapter;
	struct pkt_nt_io *io;
	ULONG regs = 0, len, i;
	u64 at = PKT_OFF;
	PVOID base = NULL;

	io = kunit_kzalloc(test, sizeof(*io), GFP_KERNEL);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	sgl = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_NOT_NULL(test, sgl);
	adapter = pkt_nt_adapter(test, DEVICE_DESCRIPTION_VERSION3, TRUE,
				 &regs);
	ops = adapter->DmaOperations;
	KUNIT_ASSERT_NOT_NULL(test, ops->MapTransferEx);
	KUNIT_ASSERT_NOT_NULL(test, ops->FlushAdapterBuffersEx);
	ops->InitializeDmaTransferContext(adapter, ctx);
	pkt_nt_io_init(io, KeepObject);
	KUNIT_EXPECT_EQ(test, ops->AllocateAdapterChannelEx(adapter, NULL, ctx,
							    4,
							    DMA_SYNCHRONOUS_CALLBACK,
							    pkt_nt_control, io,
							    &base),
			STATUS_SUCCESS);
	KUNIT_ASSERT_EQ(test, atomic_read(&io->calls), 1);
	/* The routine got the base; MapRegisterBase is for no routine. */
	KUNIT_EXPECT_NULL(test, base);
	KUNIT_ASSERT_NOT_NULL(test, io->base);

	len = PKT_XFER;
	KUNIT_EXPECT_EQ(test, ops->MapTransferEx(adapter, b->mdl, io->base,
						 PKT_OFF, 0, &len, TRUE, sgl,
						 sizeof(*sgl), NULL, NULL),
			STATUS_BUFFER_TOO_SMALL);
	KUNIT_EXPECT_EQ(test, ops->MapTransferEx(adapter, b->mdl, io->base,
						 PKT_OFF, 0, &len, TRUE, sgl,
						 size, (PVOID)pkt_nt_control,
						 NULL),
			STATUS_NOT_SUPPORTED);
	len = PKT_XFER;
	KUNIT_EXPECT_EQ(test, ops->MapTransferEx(adapter, b->mdl, io->base,
						 PKT_OFF, 0, &len, TRUE, sgl,
						 size, NULL, NULL),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, len, (ULONG)PKT_XFER);
	KUNIT_ASSERT_EQ(test, sgl->NumberOfElements, 4U);
	for (i = 0; i < sgl->NumberOfElements; i++) {
		KUNIT_EXPECT_EQ_MSG(test, (u64)sgl->Elements[i].Address.QuadPart,
				    pkt_phys(b->va + at), "element %u", i);
		at += sgl->Elements[i].Length;
	}
	KUNIT_EXPECT_EQ(test, at, (u64)PKT_OFF + PKT_XFER);
	KUNIT_EXPECT_EQ(test, ops->FlushAdapterBuffersEx(adapter, b->mdl,
							 io->base, PKT_OFF,
							 PKT_XFER, TRUE),
			STATUS_SUCCESS);

	/* Two elements of room: two pieces, the rest for another call. */
	len = PKT_XFER;
	KUNIT_EXPECT_EQ(test, ops->MapTransferEx(adapter, b->mdl, io->base,
						 PKT_OFF, 0, &len, FALSE, sgl,
						 sizeof(SCATTER_GATHER_LIST) +
						 2 * sizeof(SCATTER_GATHER_ELEMENT),
						 NULL, NULL),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, sgl->NumberOfElements, 2U);
	KUNIT_EXPECT_EQ(test, len, (ULONG)(2 * PAGE_SIZE - PKT_OFF));
	KUNIT_EXPECT_EQ(test, ops->FlushAdapterBuffersEx(adapter, b->mdl,
							 io->base, PKT_OFF,
							 len, FALSE),
			STATUS_SUCCESS);
	ops->FreeMapRegisters(adapter, io->base, 4);
	ops->FreeAdapterChannel(adapter);
	pkt_release(test, adapter);
}

/*
 * A channel request that waits only for the channel (held: another
 * request's routine returned KeepObject) does not count as waiting for
 * map registers or list memory: a Get that needs map registers (one-element
 * adapter), or list memory (the waiting request has none), runs at once,
 * its callback before the call returns, and a synchronous Ex call
 * succeeds. The channel request runs when the channel is freed.
 */
static void pkt_channel_wait_only(struct kunit *test)
{
	struct wdmdma_test_rec *get = wdmdma_test_recs(test, 2, NULL);
	struct wdmdma_adapter *one = pkt_adapter(test, false, 64);
	struct wdmdma_adapter *sg = pkt_adapter(test, true, 64);
	struct pkt_buf *b = pkt_buf(test, 0x61);
	struct wdmdma_adapter *ad[2] = { one, sg };
	struct wdmdma_sg_list *sgl;
	struct wdmdma_xfer_ctx *ctx;
	struct pkt_rec rec[4];
	bool late;
	int i, ret;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	for (i = 0; i < 2; i++) {
		struct wdmdma_adapter *a = ad[i];

		pkt_rec_init(&rec[2 * i], WDMDMA_KEEP_OBJECT, NULL);
		pkt_rec_init(&rec[2 * i + 1], WDMDMA_DEALLOCATE_OBJECT, NULL);
		KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1,
							      pkt_control,
							      &rec[2 * i]), 0);
		KUNIT_ASSERT_EQ(test, pkt_calls(&rec[2 * i]), 1);
		/* On the S/G adapter it waits with no list memory. */
		if (a == sg)
			wdmdma_set_fail_alloc(a, 100);
		KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1,
							      pkt_control,
							      &rec[2 * i + 1]),
				0);
		wdmdma_set_fail_alloc(a, 0);
		KUNIT_EXPECT_EQ(test, pkt_calls(&rec[2 * i + 1]), 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).queue_depth, 1ULL);

		/* Two discontiguous pages: bounced on the one-element one. */
		ret = wdmdma_get_sg_list(a, b->mdl, b->va + PKT_OFF, PAGE_SIZE,
					 wdmdma_test_rec_cb, &get[i], true);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&get[i]), 1,
				    "adapter %d: a Get waited behind a channel request waiting only for the channel",
				    i);
		late = !wdmdma_test_rec_calls(&get[i]);
		if (!late && get[i].sgl)
			wdmdma_put_sg_list(a, get[i].sgl, true);
		wdmdma_init_xfer_ctx(a, ctx);
		sgl = NULL;
		ret = wdmdma_get_sg_list_ex(a, ctx, b->mdl, PKT_OFF, PAGE_SIZE,
					    WDMDMA_SYNCHRONOUS, NULL, NULL,
					    true, &sgl);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0,
				    "adapter %d: synchronous Get refused while a channel request waits only for the channel",
				    i);
		if (!ret && sgl)
			wdmdma_put_sg_list(a, sgl, true);

		/* The channel freed: the waiting request runs. */
		wdmdma_free_channel(a);
		KUNIT_EXPECT_TRUE(test, pkt_wait(&rec[2 * i + 1]));
		/* A Get that waited (it should not have) runs after it. */
		if (late && wdmdma_test_rec_wait(&get[i]) && get[i].sgl)
			wdmdma_put_sg_list(a, get[i].sgl, true);
		wdmdma_flush_adapter(a);
		KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0ULL);
		KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).queue_depth, 0ULL);
		KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).map_regs_in_use,
				0ULL);
	}
	pkt_release(test, sg);
	pkt_release(test, one);
}

/*
 * FreeMapRegisters on its own base from inside the adapter-control
 * routine takes effect when the routine returns: a DeallocateObject after
 * it is reported (freed already) and frees nothing more, even when the
 * routine released the channel and had it granted again to another base
 * meanwhile; after KeepObject, FreeAdapterChannel releases the channel
 * only. The verifier is off, so nothing is looked up: KASAN sees any read
 * of a freed base.
 */
static void pkt_free_own_registers(struct kunit *test)
{
	struct wdmdma_adapter *a;
	struct wdmdma_stats before, st;
	struct pkt_stray *s;

	pkt_set_verifier(test, false);
	a = pkt_adapter(test, false, 64);
	before = wdmdma_test_stats(a);
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->a = a;
	s->free_regs = 2;
	wdmdma_init_xfer_ctx(a, &s->ctx);
	pkt_rec_init(&s->other, WDMDMA_KEEP_OBJECT, NULL);

	/* Freed, released, granted again; then DeallocateObject. */
	s->action = WDMDMA_DEALLOCATE_OBJECT;
	s->again = true;
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 2,
						      pkt_stray_control,
						      s), 0);
	KUNIT_EXPECT_EQ(test, s->ret, 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&s->other), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, before.verifier_errors + 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1ULL);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 1ULL);
	/* The other base keeps the channel: its holder frees both. */
	wdmdma_free_channel(a);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, before.verifier_errors + 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0ULL);

	/* Freed, then KeepObject: FreeAdapterChannel releases the channel. */
	s->action = WDMDMA_KEEP_OBJECT;
	s->again = false;
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 2,
						      pkt_stray_control,
						      s), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0ULL);
	wdmdma_free_channel(a);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, before.verifier_errors + 1);
	pkt_rec_init(&s->other, WDMDMA_DEALLOCATE_OBJECT, NULL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 2, pkt_control,
						      &s->other), 0);
	KUNIT_EXPECT_EQ_MSG(test, pkt_calls(&s->other), 1,
			    "the channel was not released");
	pkt_release(test, a);
}

/*
 * A stray second FreeAdapterChannel after the channel was granted to
 * another request: with the verifier on, refused (reported) while the new
 * holder's base has pieces mapped; the holder keeps both and ends its
 * transfer.
 */
static void pkt_stray_free_channel(struct kunit *test)
{
	struct wdmdma_adapter *a;
	struct wdmdma_stats before, st;
	struct wdmdma_map_regs *regs = NULL;
	struct wdmdma_xfer_ctx *ctx;
	struct pkt_rec rec[2];
	struct pkt_buf *b;
	dma_addr_t addr;
	u32 len = 100;

	pkt_set_verifier(test, true);
	a = pkt_adapter(test, true, 64);
	b = pkt_buf(test, 0x73);
	before = wdmdma_test_stats(a);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	wdmdma_init_xfer_ctx(a, ctx);
	pkt_rec_init(&rec[0], WDMDMA_KEEP_OBJECT, NULL);
	pkt_rec_init(&rec[1], WDMDMA_KEEP_OBJECT, NULL);

	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, pkt_control,
						      &rec[0]), 0);
	wdmdma_free_channel(a);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1, pkt_control,
						      &rec[1]), 0);
	KUNIT_ASSERT_EQ(test, pkt_calls(&rec[1]), 1);
	KUNIT_ASSERT_EQ(test, wdmdma_map_transfer(a, b->mdl, rec[1].regs,
						  b->va, &len, true, &addr),
			0);
	/* A's stray second release. */
	wdmdma_free_channel(a);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, before.verifier_errors + 1);
	KUNIT_EXPECT_EQ_MSG(test, st.outstanding, 1ULL,
			    "a stray FreeAdapterChannel freed the holder's mapped map registers");
	/* The holder keeps the channel, ends its transfer and frees both. */
	if (st.outstanding) {
		KUNIT_EXPECT_EQ(test,
				wdmdma_allocate_channel_ex(a, NULL, ctx, 1,
							   WDMDMA_SYNCHRONOUS,
							   NULL, NULL, &regs),
				-ENOMEM);
		KUNIT_EXPECT_EQ(test,
				wdmdma_flush_adapter_buffers(a, b->mdl,
							     rec[1].regs, b->va,
							     100, true), 0);
		wdmdma_free_channel(a);
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0ULL);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, before.verifier_errors + 1);
	pkt_release(test, a);
}

/* A hard interrupt on the CPU of a routine, calling FreeAdapterChannel. */
struct pkt_irq {
	struct wdmdma_adapter *a;
	struct irq_work work;
	struct pkt_rec rec;
	atomic_t ran;
	bool hardirq;
};

static void pkt_irq_free_channel(struct irq_work *work)
{
	struct pkt_irq *p = container_of(work, struct pkt_irq, work);

	p->hardirq = in_hardirq();
	wdmdma_free_channel(p->a);
	atomic_set(&p->ran, 1);
}

static enum wdmdma_alloc_action pkt_irq_control(struct device *dev,
						void *irp,
						struct wdmdma_map_regs *regs,
						void *context)
{
	struct pkt_irq *p = context;
	unsigned long end = jiffies + msecs_to_jiffies(WDMDMA_TEST_WAIT_MS);

	/* Interrupts on: the work's interrupt comes in on this CPU. */
	preempt_disable();
	irq_work_queue(&p->work);
	while (!atomic_read(&p->ran) && time_before(jiffies, end))
		cpu_relax();
	preempt_enable();
	return pkt_control(dev, irp, regs, &p->rec);
}

/*
 * A hard interrupt that comes in while a routine runs, in the routine's
 * task, is not the routine: its FreeAdapterChannel is reported and
 * ignored, and the routine's KeepObject keeps the channel.
 */
static void pkt_irq_not_routine(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, true, 64);
	struct wdmdma_stats before = wdmdma_test_stats(a), st;
	struct pkt_irq *p;

	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p->a = a;
	init_irq_work(&p->work, pkt_irq_free_channel);
	atomic_set(&p->ran, 0);
	pkt_rec_init(&p->rec, WDMDMA_KEEP_OBJECT, NULL);

	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel(a, NULL, 1,
						      pkt_irq_control, p), 0);
	irq_work_sync(&p->work);
	KUNIT_ASSERT_EQ(test, pkt_calls(&p->rec), 1);
	KUNIT_ASSERT_EQ(test, atomic_read(&p->ran), 1);
	if (!p->hardirq) {
		wdmdma_free_channel(a);
		kunit_skip(test, "the irq_work did not run in hard interrupt context");
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ_MSG(test, st.verifier_errors,
			    before.verifier_errors + 1,
			    "FreeAdapterChannel from a hard interrupt passed as the routine's");
	KUNIT_EXPECT_EQ(test, st.outstanding, 1ULL);
	wdmdma_free_channel(a);
	st = wdmdma_test_stats(a);
	if (st.outstanding)	/* the channel was released: a base is left */
		wdmdma_free_map_registers(a, p->rec.regs, 1);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0ULL);
	pkt_release(test, a);
}

/*
 * A synchronous Ex call with a routine: the routine gets the base, and
 * @regsp is left alone (the base may be gone when the call returns).
 */
static void pkt_ex_sync_routine(struct kunit *test)
{
	struct wdmdma_adapter *a = pkt_adapter(test, true, 64);
	struct wdmdma_map_regs *regs = NULL;
	struct wdmdma_xfer_ctx *ctx;
	struct pkt_rec rec;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	wdmdma_init_xfer_ctx(a, ctx);
	pkt_rec_init(&rec, WDMDMA_DEALLOCATE_OBJECT, NULL);
	KUNIT_EXPECT_EQ(test, wdmdma_allocate_channel_ex(a, NULL, ctx, 1,
							 WDMDMA_SYNCHRONOUS,
							 pkt_control, &rec,
							 &regs), 0);
	KUNIT_EXPECT_EQ(test, pkt_calls(&rec), 1);
	KUNIT_EXPECT_NOT_NULL(test, rec.regs);
	KUNIT_EXPECT_NULL_MSG(test, regs,
			      "regsp written though a routine was given");
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0ULL);
	pkt_release(test, a);
}

static int pkt_suite_init(struct kunit_suite *suite)
{
	pkt_pdev = wdmdma_test_pdev_create(PKT_NAME);
	if (IS_ERR(pkt_pdev)) {
		int ret = PTR_ERR(pkt_pdev);

		pkt_pdev = NULL;
		return ret;
	}
	return 0;
}

static void pkt_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(pkt_pdev);
	pkt_pdev = NULL;
}

static struct kunit_case pkt_test_cases[] = {
	KUNIT_CASE(pkt_sg_map_in_place),
	KUNIT_CASE(pkt_one_element_copy),
	KUNIT_CASE(pkt_sg_bounce),
	KUNIT_CASE(pkt_one_channel_fifo),
	KUNIT_CASE(pkt_registers_wait),
	KUNIT_CASE(pkt_keep_free_channel),
	KUNIT_CASE(pkt_channel_regs_fifo),
	KUNIT_CASE(pkt_channel_owner),
	KUNIT_CASE(pkt_limits_and_misuse),
	KUNIT_CASE(pkt_ex_sync_and_cancel),
	KUNIT_CASE(pkt_destroy_waiting),
	KUNIT_CASE(pkt_transfer_ex_one_element),
	KUNIT_CASE(pkt_nt_one_element),
	KUNIT_CASE(pkt_nt_sg),
	KUNIT_CASE(pkt_nt_transfer_ex),
	KUNIT_CASE(pkt_channel_wait_only),
	KUNIT_CASE(pkt_free_own_registers),
	KUNIT_CASE(pkt_stray_free_channel),
	KUNIT_CASE(pkt_irq_not_routine),
	KUNIT_CASE(pkt_ex_sync_routine),
	{ }
};

static struct kunit_suite pkt_test_suite = {
	.name = "wdmdma_packet",
	.suite_init = pkt_suite_init,
	.suite_exit = pkt_suite_exit,
	.init = pkt_init,
	.exit = pkt_exit,
	.test_cases = pkt_test_cases,
};

kunit_test_suite(pkt_test_suite);

MODULE_DESCRIPTION("KUnit tests of wdmdma's packet-based DMA: adapter channel, MapTransfer, FlushAdapterBuffers");
MODULE_LICENSE("GPL");
