// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_bounce": map registers. A one-element adapter gets
 * one element; discontiguous data is bounced through its map registers
 * (copied in before the callback for writes, copied back at Put for
 * reads), contiguous reachable data is mapped in place. An SG adapter with
 * a 28-bit width bounces only the pages above 256 MiB.
 *
 * The test plays the device: the platform test device has no IOMMU, so
 * bus addresses are physical and phys_to_virt(element.addr) is the memory
 * the device would read or write.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define BOUNCE_MAX	SZ_64K
#define BOUNCE_PAGES	4
#define BOUNCE_LEN	(BOUNCE_PAGES * PAGE_SIZE)
#define BOUNCE_OFF	100
#define BOUNCE_XFER	(BOUNCE_LEN - 300)
#define BOUNCE_HIGH	BIT_ULL(28)
#define BOUNCE_BLOCK_ORDER 9	/* 2 MiB blocks when looking for high memory */
#define BOUNCE_TRIES	512	/* blocks (then pages) tried */

static struct platform_device *bounce_pdev;

static struct device *bounce_dev(struct kunit *test)
{
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, bounce_pdev);
	return &bounce_pdev->dev;
}

/* An adapter, or NULL (test failed) so the caller can clean up. */
static struct wdmdma_adapter *bounce_adapter(struct kunit *test, bool sg,
					     unsigned int width)
{
	struct wdmdma_desc desc = {
		.scatter_gather = sg,
		.dma_width = width,
		.max_transfer = BOUNCE_MAX,
	};
	struct wdmdma_adapter *a;
	unsigned int nregs;

	a = wdmdma_create_adapter(bounce_dev(test), &desc, &nregs);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, a);
	return IS_ERR_OR_NULL(a) ? NULL : a;
}

/*
 * One transfer on a kernel buffer through a one-element adapter, both
 * directions, bytes compared; @bounced says whether map registers must
 * have been used.
 */
static void bounce_kernel_buffer(struct kunit *test, void *va,
				 unsigned int width, bool bounced)
{
	struct wdmdma_stats st0, st1, st2;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_mdl *mdl;
	u8 *pattern, *seen;
	int dir, ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	pattern = kunit_kmalloc(test, BOUNCE_XFER, GFP_KERNEL);
	seen = kunit_kmalloc(test, BOUNCE_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	mdl = wdmdma_mdl_alloc(va, BOUNCE_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	if (wdmdma_mdl_build_for_kernel_buffer(mdl)) {
		wdmdma_mdl_free(mdl);
		KUNIT_ASSERT_TRUE_MSG(test, false, "MDL build failed");
	}
	a = bounce_adapter(test, false, width);
	if (!a) {
		wdmdma_mdl_free(mdl);
		return;
	}

	for (dir = 1; dir >= 0; dir--) {
		bool write = dir;

		wdmdma_test_fill(va, BOUNCE_LEN, write ? 0x21 : 0x43);
		wdmdma_test_rec_init(rec, NULL);
		st0 = wdmdma_test_stats(a);
		ret = wdmdma_get_sg_list(a, mdl, va + BOUNCE_OFF, BOUNCE_XFER,
					 wdmdma_test_rec_cb, rec, write);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
		if (ret || wdmdma_test_rec_calls(rec) != 1)
			break;
		KUNIT_EXPECT_EQ(test, rec->sgl->nr_elements, 1);
		KUNIT_EXPECT_EQ(test, rec->sgl->elements[0].len, BOUNCE_XFER);
		KUNIT_EXPECT_LE(test, wdmdma_test_sgl_max_addr(rec->sgl),
				DMA_BIT_MASK(width));
		if (!bounced)
			KUNIT_EXPECT_EQ(test, rec->sgl->elements[0].addr,
					virt_to_phys(va + BOUNCE_OFF));
		st1 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st1.bounced, st0.bounced + bounced);
		if (bounced)
			KUNIT_EXPECT_EQ(test, st1.map_regs_in_use,
					DIV_ROUND_UP(BOUNCE_XFER, PAGE_SIZE));
		else
			KUNIT_EXPECT_EQ(test, st1.map_regs_in_use, 0);

		if (write) {
			/* The device reads exactly the buffer's bytes. */
			wdmdma_test_dev_read(rec->sgl, seen, BOUNCE_XFER);
			KUNIT_EXPECT_EQ(test, memcmp(seen, va + BOUNCE_OFF,
						     BOUNCE_XFER), 0);
		} else {
			/* The device writes; the buffer has it after Put. */
			wdmdma_test_fill(pattern, BOUNCE_XFER, 0x99);
			wdmdma_test_dev_write(rec->sgl, pattern, BOUNCE_XFER);
			memcpy(seen, va, BOUNCE_LEN);
		}
		wdmdma_put_sg_list(a, rec->sgl, write);
		if (!write) {
			KUNIT_EXPECT_EQ(test, memcmp(va + BOUNCE_OFF, pattern,
						     BOUNCE_XFER), 0);
			/* Bytes outside the range are untouched. */
			KUNIT_EXPECT_EQ(test, memcmp(va, seen, BOUNCE_OFF), 0);
			KUNIT_EXPECT_EQ(test,
					memcmp(va + BOUNCE_OFF + BOUNCE_XFER,
					       seen + BOUNCE_OFF + BOUNCE_XFER,
					       BOUNCE_LEN - BOUNCE_OFF -
					       BOUNCE_XFER), 0);
		}
		st2 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st2.map_regs_in_use, 0);
		KUNIT_EXPECT_EQ(test, st2.outstanding, 0);
		if (bounced)
			KUNIT_EXPECT_GE(test, st2.map_regs_high,
					DIV_ROUND_UP(BOUNCE_XFER, PAGE_SIZE));
	}
	wdmdma_destroy_adapter(a);
	wdmdma_mdl_free(mdl);
}

/* Discontiguous pages in vmalloc space: bounced into one element. */
static void bounce_test_nonsg_vmalloc(struct kunit *test)
{
	struct wdmdma_test_vbuf vb;
	void *va = wdmdma_test_vbuf_alloc(&vb, BOUNCE_PAGES);

	KUNIT_ASSERT_NOT_NULL(test, va);
	bounce_kernel_buffer(test, va, 32, true);
	wdmdma_test_vbuf_free(&vb);
}

/* A contiguous kmalloc buffer the device reaches: mapped in place. */
static void bounce_test_nonsg_kmalloc(struct kunit *test)
{
	void *va = kmalloc(BOUNCE_LEN, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, va);
	bounce_kernel_buffer(test, va, 64, false);
	kfree(va);
}

/*
 * Pages whose physical address is at or above @limit: a block of
 * 2^*order pages (*order is set). The allocator tends to hand out low
 * memory first, so whole 2 MiB blocks are tried first to get past it
 * quickly, then single pages. Blocks tried on the way are freed. NULL if
 * none turned up.
 */
static struct page *bounce_high_block(u64 limit, unsigned int *order)
{
	static const unsigned int orders[] = { BOUNCE_BLOCK_ORDER, 0 };

	return wdmdma_test_high_block(limit, orders, ARRAY_SIZE(orders),
				      BOUNCE_TRIES, U64_MAX, order);
}

/*
 * One-element adapter, 28-bit width: a physically contiguous buffer the
 * device cannot reach is bounced below the mask.
 */
static void bounce_test_nonsg_contiguous_high(struct kunit *test)
{
	struct wdmdma_stats st0, st1;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_mdl *mdl;
	struct bio_vec bv;
	unsigned int order = 0;
	struct page *high;
	u8 *seen;
	int ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	seen = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	high = bounce_high_block(BOUNCE_HIGH, &order);
	if (high && !order) {
		__free_page(high);
		high = NULL;
	}
	if (!high)
		kunit_skip(test, "no memory above 256 MiB (guest too small?)");
	wdmdma_test_fill(page_address(high), 2 * PAGE_SIZE, 0x37);
	bvec_set_page(&bv, high, 2 * PAGE_SIZE, 0);
	mdl = wdmdma_mdl_from_bvecs(&bv, 1, GFP_KERNEL);
	if (!mdl) {
		__free_pages(high, order);
		KUNIT_ASSERT_TRUE_MSG(test, false, "out of memory");
	}
	a = bounce_adapter(test, false, 28);
	if (!a)
		goto out_free;

	st0 = wdmdma_test_stats(a);
	ret = wdmdma_get_sg_list(a, mdl, wdmdma_mdl_va(mdl), 2 * PAGE_SIZE,
				 wdmdma_test_rec_cb, rec, true);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
	if (!ret && wdmdma_test_rec_calls(rec) == 1) {
		KUNIT_EXPECT_EQ(test, rec->sgl->nr_elements, 1);
		KUNIT_EXPECT_LE(test, wdmdma_test_sgl_max_addr(rec->sgl),
				DMA_BIT_MASK(28));
		wdmdma_test_dev_read(rec->sgl, seen, 2 * PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, memcmp(seen, page_address(high),
					     2 * PAGE_SIZE), 0);
		st1 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st1.bounced, st0.bounced + 1);
		wdmdma_put_sg_list(a, rec->sgl, true);
	}
	wdmdma_destroy_adapter(a);
out_free:
	wdmdma_mdl_free(mdl);
	__free_pages(high, order);
}

/*
 * SG adapter, 28-bit width: an MDL of a low page and a high page. Only the
 * high page is bounced (to a map register below the mask); the low page
 * is mapped in place. Data goes both ways.
 */
static void bounce_test_sg_28bit(struct kunit *test)
{
	struct wdmdma_stats st0, st1, st2;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct page *low, *high;
	unsigned int order = 0;
	struct wdmdma_mdl *mdl;
	struct bio_vec bv[2];
	u8 *data, *seen;
	int dir, ret;
	u64 at;

	rec = wdmdma_test_recs(test, 1, NULL);
	data = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	seen = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	high = bounce_high_block(BOUNCE_HIGH, &order);
	if (!high)
		kunit_skip(test, "no memory above 256 MiB (guest too small?)");
	low = alloc_page(GFP_KERNEL | GFP_DMA);
	if (!low) {
		__free_pages(high, order);
		KUNIT_ASSERT_TRUE_MSG(test, false, "no GFP_DMA page");
	}
	KUNIT_EXPECT_LT(test, page_to_phys(low) + PAGE_SIZE - 1,
			DMA_BIT_MASK(28));
	bvec_set_page(&bv[0], low, PAGE_SIZE, 0);
	bvec_set_page(&bv[1], high, PAGE_SIZE, 0);
	mdl = wdmdma_mdl_from_bvecs(bv, 2, GFP_KERNEL);
	if (!mdl) {
		__free_page(low);
		__free_pages(high, order);
		KUNIT_ASSERT_TRUE_MSG(test, false, "out of memory");
	}
	a = bounce_adapter(test, true, 28);
	if (!a)
		goto out_free;

	for (dir = 1; dir >= 0; dir--) {
		bool write = dir;

		wdmdma_test_fill(page_address(low), PAGE_SIZE, 0x10 + dir);
		wdmdma_test_fill(page_address(high), PAGE_SIZE, 0x20 + dir);
		wdmdma_test_rec_init(rec, NULL);
		st0 = wdmdma_test_stats(a);
		ret = wdmdma_get_sg_list(a, mdl, wdmdma_mdl_va(mdl),
					 2 * PAGE_SIZE, wdmdma_test_rec_cb,
					 rec, write);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
		if (ret || wdmdma_test_rec_calls(rec) != 1)
			break;
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(rec->sgl),
				2 * PAGE_SIZE);
		KUNIT_EXPECT_LE(test, wdmdma_test_sgl_max_addr(rec->sgl),
				DMA_BIT_MASK(28));
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_addr_at(rec->sgl, 0),
				page_to_phys(low));
		at = wdmdma_test_sgl_addr_at(rec->sgl, PAGE_SIZE);
		KUNIT_EXPECT_NE(test, at, page_to_phys(high));
		KUNIT_EXPECT_LE(test, at + PAGE_SIZE - 1, DMA_BIT_MASK(28));
		st1 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st1.bounced, st0.bounced + 1);
		KUNIT_EXPECT_EQ(test, st1.map_regs_in_use, 1);
		KUNIT_EXPECT_GT(test, st1.map_regs_high, 0);

		if (write) {
			wdmdma_test_dev_read(rec->sgl, seen, 2 * PAGE_SIZE);
			KUNIT_EXPECT_EQ(test, memcmp(seen, page_address(low),
						     PAGE_SIZE), 0);
			KUNIT_EXPECT_EQ(test, memcmp(seen + PAGE_SIZE,
						     page_address(high),
						     PAGE_SIZE), 0);
		} else {
			wdmdma_test_fill(data, 2 * PAGE_SIZE, 0x77);
			wdmdma_test_dev_write(rec->sgl, data, 2 * PAGE_SIZE);
		}
		wdmdma_put_sg_list(a, rec->sgl, write);
		if (!write) {
			KUNIT_EXPECT_EQ(test, memcmp(page_address(low), data,
						     PAGE_SIZE), 0);
			KUNIT_EXPECT_EQ(test, memcmp(page_address(high),
						     data + PAGE_SIZE,
						     PAGE_SIZE), 0);
		}
		st2 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st2.map_regs_in_use, 0);
		KUNIT_EXPECT_EQ(test, st2.outstanding, 0);
	}
	wdmdma_destroy_adapter(a);
out_free:
	wdmdma_mdl_free(mdl);
	__free_page(low);
	__free_pages(high, order);
}

/*
 * SG adapter, 32-bit width on a guest below 4 GiB: nothing to bounce, the
 * list maps each page in place and the adapter owns no map registers.
 */
static void bounce_test_sg_reachable(struct kunit *test)
{
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	struct wdmdma_mdl *mdl;
	void *va;
	u32 pos;
	int ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	if (dma_get_required_mask(bounce_dev(test)) > DMA_BIT_MASK(32))
		kunit_skip(test, "memory above 4 GiB");
	va = vmalloc(BOUNCE_LEN);
	KUNIT_ASSERT_NOT_NULL(test, va);
	mdl = wdmdma_mdl_alloc(va, BOUNCE_LEN, GFP_KERNEL);
	if (!mdl || wdmdma_mdl_build_for_kernel_buffer(mdl)) {
		wdmdma_mdl_free(mdl);
		vfree(va);
		KUNIT_ASSERT_TRUE_MSG(test, false, "MDL failed");
	}
	a = wdmdma_test_adapter(test, bounce_dev(test), true, 32, BOUNCE_MAX,
				1, 0);
	ret = wdmdma_get_sg_list(a, mdl, va + BOUNCE_OFF, BOUNCE_XFER,
				 wdmdma_test_rec_cb, rec, false);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret && wdmdma_test_rec_calls(rec) == 1) {
		for (pos = 0; pos < BOUNCE_XFER;
		     pos += PAGE_SIZE - offset_in_page(BOUNCE_OFF + pos)) {
			void *p = va + BOUNCE_OFF + pos;

			KUNIT_EXPECT_EQ(test,
					wdmdma_test_sgl_addr_at(rec->sgl, pos),
					page_to_phys(vmalloc_to_page(p)) +
					offset_in_page(p));
		}
		st = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st.bounced, 0);
		KUNIT_EXPECT_EQ(test, st.map_regs_total, 0);
		wdmdma_put_sg_list(a, rec->sgl, false);
	}
	wdmdma_destroy_adapter(a);
	wdmdma_mdl_free(mdl);
	vfree(va);
}

static int bounce_suite_init(struct kunit_suite *suite)
{
	bounce_pdev = wdmdma_test_pdev_create("wdmdma-test-bounce");
	return PTR_ERR_OR_ZERO(bounce_pdev);
}

static void bounce_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(bounce_pdev);
	bounce_pdev = NULL;
}

static struct kunit_case bounce_test_cases[] = {
	KUNIT_CASE(bounce_test_nonsg_vmalloc),
	KUNIT_CASE(bounce_test_nonsg_kmalloc),
	KUNIT_CASE(bounce_test_nonsg_contiguous_high),
	KUNIT_CASE(bounce_test_sg_28bit),
	KUNIT_CASE(bounce_test_sg_reachable),
	{ }
};

static struct kunit_suite bounce_test_suite = {
	.name = "wdmdma_bounce",
	.suite_init = bounce_suite_init,
	.suite_exit = bounce_suite_exit,
	.test_cases = bounce_test_cases,
};

kunit_test_suite(bounce_test_suite);

MODULE_DESCRIPTION("KUnit tests for wdmdma map registers (bounce buffers)");
MODULE_LICENSE("GPL");
