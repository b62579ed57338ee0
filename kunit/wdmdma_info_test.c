// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_info": sizing and information (GetDmaTransferInfo,
 * GetDmaAdapterInfo, GetDmaAlignment, BuildMdlFromScatterGatherList) and
 * the MDL routines ports use at once (IoBuildPartialMdl,
 * MmGetMdlByteOffset, MmGetSystemAddressForMdlSafe, KeFlushIoBuffers),
 * through the Linux API (the Windows way is in wdmdma_nt), on a
 * platform test device (no IOMMU: bus address = physical address).
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include "wdmdma_test_util.h"

#define INFO_MAX	SZ_64K

struct info_test {
	struct platform_device *pdev;
	struct device *dev;
	struct wdmdma_adapter *sg;	/* scatter/gather, 64 bits */
	struct wdmdma_adapter *one;	/* one element, 64 bits */
	struct wdmdma_adapter *narrow;	/* scatter/gather, 24 bits */
	unsigned int sg_regs;
};

static int info_test_init(struct kunit *test)
{
	struct wdmdma_desc desc = {
		.scatter_gather = true,
		.dma_width = 64,
		.max_transfer = INFO_MAX,
	};
	struct info_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->pdev = wdmdma_test_pdev_create("wdmdma-test-info");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->pdev));
	t->dev = &t->pdev->dev;
	test->priv = t;
	t->sg = wdmdma_create_adapter(t->dev, &desc, &t->sg_regs);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(t->sg));
	t->one = wdmdma_test_adapter(test, t->dev, false, 64, INFO_MAX, 0, 0);
	t->narrow = wdmdma_test_adapter(test, t->dev, true, 24, INFO_MAX, 0, 0);
	return 0;
}

static void info_test_exit(struct kunit *test)
{
	struct info_test *t = test->priv;

	if (!t)
		return;
	wdmdma_destroy_adapter(t->narrow);
	wdmdma_destroy_adapter(t->one);
	if (!IS_ERR(t->sg))
		wdmdma_destroy_adapter(t->sg);
	wdmdma_test_pdev_destroy(t->pdev);
}

/*
 * wdmdma_get_transfer_info() and wdmdma_calculate_sg_list() agree on the
 * same range, with an MDL (offset = CurrentVa - VA) and without one (the
 * offset's page offset), errors included.
 */
static void info_agree(struct kunit *test, struct wdmdma_adapter *a,
		       struct wdmdma_mdl *mdl, u64 off, u32 len)
{
	struct wdmdma_transfer_info info = { };
	unsigned int regs = 0;
	size_t size = 0;
	int r1, r2;

	r1 = wdmdma_calculate_sg_list(a, mdl,
				      mdl ? (u8 *)wdmdma_mdl_va(mdl) + off :
					    (void *)(unsigned long)off,
				      len, &size, &regs);
	r2 = wdmdma_get_transfer_info(a, mdl, off, len, &info);
	KUNIT_EXPECT_EQ_MSG(test, r1, r2, "offset %llu length %u", off, len);
	if (r1 || r2)
		return;
	KUNIT_EXPECT_EQ_MSG(test, info.list_size, size, "offset %llu length %u",
			    off, len);
	KUNIT_EXPECT_EQ_MSG(test, info.nr_map_registers, regs,
			    "offset %llu length %u", off, len);
	KUNIT_EXPECT_EQ(test, info.nr_pages, regs);
	KUNIT_EXPECT_GE(test, info.nr_elements, 1U);
	KUNIT_EXPECT_LE(test, info.nr_elements, regs);
}

static void info_transfer(struct kunit *test)
{
	static const u32 offs[] = { 0, 1, 100, PAGE_SIZE - 1, PAGE_SIZE,
				    PAGE_SIZE + 7, 3 * PAGE_SIZE - 1 };
	static const u32 lens[] = { 0, 1, 2, PAGE_SIZE - 1, PAGE_SIZE,
				    PAGE_SIZE + 1, 3 * PAGE_SIZE + 5,
				    INFO_MAX - PAGE_SIZE, INFO_MAX,
				    INFO_MAX + 1 };
	struct info_test *t = test->priv;
	struct wdmdma_transfer_info info;
	struct wdmdma_mdl *mdl, *mdl2;
	size_t buf_len = INFO_MAX + 4 * PAGE_SIZE;
	unsigned int i, j;
	void *buf;

	buf = vmalloc(buf_len);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	mdl = wdmdma_mdl_alloc(buf, buf_len / 2, GFP_KERNEL);
	mdl2 = wdmdma_mdl_alloc(buf + buf_len / 2 + 100, buf_len / 2 - 100,
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_ASSERT_NOT_NULL(test, mdl2);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_build_for_kernel_buffer(mdl), 0);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_build_for_kernel_buffer(mdl2), 0);

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		for (j = 0; j < ARRAY_SIZE(lens); j++) {
			info_agree(test, t->sg, mdl, offs[i], lens[j]);
			info_agree(test, t->sg, NULL, offs[i], lens[j]);
			info_agree(test, t->one, mdl, offs[i], lens[j]);
			info_agree(test, t->one, NULL, offs[i], lens[j]);
		}
	}
	/* A chain, the range crossing into its second MDL. */
	mdl->next = mdl2;
	info_agree(test, t->sg, mdl, buf_len / 2 - PAGE_SIZE - 3, 3 * PAGE_SIZE);
	info_agree(test, t->sg, mdl, buf_len / 2 - 1, 2);

	/* The counts themselves: 100 bytes in, three pages touch four. */
	KUNIT_ASSERT_EQ(test, wdmdma_get_transfer_info(t->sg, NULL, 100,
						       3 * PAGE_SIZE, &info), 0);
	KUNIT_EXPECT_EQ(test, info.nr_map_registers, 4U);
	KUNIT_EXPECT_EQ(test, info.nr_elements, 4U);
	KUNIT_ASSERT_EQ(test, wdmdma_get_transfer_info(t->one, NULL, 100,
						       3 * PAGE_SIZE, &info), 0);
	KUNIT_EXPECT_EQ(test, info.nr_map_registers, 4U);
	KUNIT_EXPECT_EQ(test, info.nr_elements, 1U);
	/* Only the page offset counts without an MDL. */
	KUNIT_ASSERT_EQ(test, wdmdma_get_transfer_info(t->sg, NULL,
						       (7ULL << 40) + 100,
						       3 * PAGE_SIZE, &info), 0);
	KUNIT_EXPECT_EQ(test, info.nr_map_registers, 4U);
	/* Errors. */
	KUNIT_EXPECT_EQ(test, wdmdma_get_transfer_info(t->sg, NULL, 0,
						       PAGE_SIZE, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_get_transfer_info(NULL, NULL, 0,
						       PAGE_SIZE, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_get_transfer_info(t->sg, mdl, buf_len,
						       1, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_get_transfer_info(t->sg, NULL, 0,
						       INFO_MAX + 1, &info),
			-EMSGSIZE);

	mdl->next = NULL;
	wdmdma_mdl_free(mdl2);
	wdmdma_mdl_free(mdl);
	vfree(buf);
}

static void info_adapter(struct kunit *test)
{
	struct info_test *t = test->priv;
	struct wdmdma_adapter_info info;
	unsigned int align = wdmdma_get_dma_alignment(t->sg);

	KUNIT_EXPECT_GE(test, align, 1U);
	KUNIT_EXPECT_TRUE(test, is_power_of_2(align));
	KUNIT_EXPECT_EQ(test, align, (unsigned int)max(dma_get_cache_alignment(), 1));

	KUNIT_ASSERT_EQ(test, wdmdma_get_adapter_info(t->sg, &info), 0);
	KUNIT_EXPECT_EQ(test, info.dma_width, 64U);
	KUNIT_EXPECT_TRUE(test, info.scatter_gather);
	KUNIT_EXPECT_EQ(test, info.max_transfer, (u32)INFO_MAX);
	KUNIT_EXPECT_EQ(test, info.max_map_registers, t->sg_regs);
	KUNIT_EXPECT_EQ(test, info.max_elements, t->sg_regs);
	KUNIT_EXPECT_EQ(test, info.alignment, align);

	KUNIT_ASSERT_EQ(test, wdmdma_get_adapter_info(t->one, &info), 0);
	KUNIT_EXPECT_FALSE(test, info.scatter_gather);
	KUNIT_EXPECT_EQ(test, info.max_elements, 1U);
	KUNIT_ASSERT_EQ(test, wdmdma_get_adapter_info(t->narrow, &info), 0);
	KUNIT_EXPECT_EQ(test, info.dma_width, 24U);

	KUNIT_EXPECT_EQ(test, wdmdma_get_adapter_info(t->sg, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_get_adapter_info(NULL, &info), -EINVAL);
}

/* Pages of an MDL's range hold @len bytes equal to @want? */
static bool info_mdl_equals(const struct wdmdma_mdl *mdl, const u8 *want,
			    size_t len)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < mdl->nr_bvecs && done < len; i++) {
		const struct bio_vec *bv = &mdl->bvec[i];

		if (memcmp(page_address(bv->bv_page) + bv->bv_offset,
			   want + done, bv->bv_len))
			return false;
		done += bv->bv_len;
	}
	return done == len;
}

/*
 * BuildMdlFromScatterGatherList: a list that bounced gets an MDL of the
 * map registers, holding the data the device reads; one that did not
 * gets its own MDL back.
 */
static void info_mdl_from_list(struct kunit *test)
{
	struct info_test *t = test->priv;
	struct wdmdma_test_rec *rec = wdmdma_test_recs(test, 2, NULL);
	size_t len = 2 * PAGE_SIZE + 300;
	struct wdmdma_mdl *mdl, *target = NULL;
	struct page *pages;
	u8 *buf;

	/* A buffer beyond the 24-bit adapter's reach. */
	pages = alloc_pages(GFP_KERNEL, 2);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	if (page_to_phys(pages) < SZ_16M) {
		__free_pages(pages, 2);
		kunit_skip(test, "buffer below 16 MiB: nothing would bounce");
	}
	buf = page_address(pages);
	wdmdma_test_fill(buf, 4 * PAGE_SIZE, 0x33);
	mdl = wdmdma_mdl_alloc(buf + 50, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_build_for_kernel_buffer(mdl), 0);

	KUNIT_ASSERT_EQ(test, wdmdma_get_sg_list(t->narrow, mdl,
						 wdmdma_mdl_va(mdl), len,
						 wdmdma_test_rec_cb, &rec[0],
						 true), 0);
	KUNIT_ASSERT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	KUNIT_ASSERT_NOT_NULL(test, rec[0].sgl);
	KUNIT_EXPECT_LE(test, wdmdma_test_sgl_max_addr(rec[0].sgl),
			DMA_BIT_MASK(24));
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_from_sg_list(t->narrow, rec[0].sgl,
						      mdl, &target, GFP_KERNEL),
			0);
	KUNIT_ASSERT_NOT_NULL(test, target);
	KUNIT_EXPECT_PTR_NE(test, target, mdl);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_count(target), (u32)len);
	/* The map registers the device reads, holding the data to write. */
	KUNIT_EXPECT_TRUE(test, info_mdl_equals(target, buf + 50, len));
	KUNIT_EXPECT_EQ(test, (u64)page_to_phys(target->bvec[0].bv_page) +
			target->bvec[0].bv_offset, rec[0].sgl->elements[0].addr);
	KUNIT_EXPECT_LE(test, target->phys_end - 1, DMA_BIT_MASK(24));
	/* Not the MDL it was built from; not this adapter's list. */
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_from_sg_list(t->narrow, rec[0].sgl,
						      target, &target,
						      GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_from_sg_list(t->sg, rec[0].sgl, mdl,
						      &target, GFP_KERNEL),
			-EINVAL);
	if (target != mdl)
		wdmdma_mdl_free(target);
	wdmdma_put_sg_list(t->narrow, rec[0].sgl, true);

	/* Nothing bounced: the MDL itself. */
	KUNIT_ASSERT_EQ(test, wdmdma_get_sg_list(t->sg, mdl, wdmdma_mdl_va(mdl),
						 len, wdmdma_test_rec_cb,
						 &rec[1], false), 0);
	KUNIT_ASSERT_NOT_NULL(test, rec[1].sgl);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_from_sg_list(t->sg, rec[1].sgl, mdl,
						      &target, GFP_KERNEL), 0);
	KUNIT_EXPECT_PTR_EQ(test, target, mdl);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_from_sg_list(t->sg, rec[1].sgl, NULL,
						      &target, GFP_KERNEL),
			-EINVAL);
	wdmdma_put_sg_list(t->sg, rec[1].sgl, false);

	wdmdma_mdl_free(mdl);
	__free_pages(pages, 2);
}

/* IoBuildPartialMdl, MmGetMdlByteOffset, MmGetSystemAddressForMdlSafe. */
static void info_partial(struct kunit *test)
{
	struct info_test *t = test->priv;
	struct wdmdma_test_rec *rec = wdmdma_test_recs(test, 1, NULL);
	struct wdmdma_mdl *src, *part;
	size_t len = 4 * PAGE_SIZE;
	u8 *buf, *start, *seen;
	size_t size;

	seen = kunit_kzalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	buf = vmalloc(len);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	wdmdma_test_fill(buf, len, 0x71);
	src = wdmdma_mdl_alloc(buf, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_build_for_kernel_buffer(src), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_offset(src), 0U);
	KUNIT_EXPECT_PTR_EQ(test, wdmdma_mdl_system_address(src), (void *)buf);

	/* Two pages and some, 10 bytes into the second page. */
	start = buf + PAGE_SIZE + 10;
	part = wdmdma_mdl_alloc(start, 2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, part);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_build_partial(src, part, start,
						       2 * PAGE_SIZE), 0);
	KUNIT_EXPECT_PTR_EQ(test, wdmdma_mdl_va(part), (void *)start);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_count(part), (u32)(2 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_offset(part), 10U);
	KUNIT_EXPECT_EQ(test, part->nr_bvecs, 3);
	KUNIT_EXPECT_PTR_EQ(test, part->bvec[0].bv_page,
			    vmalloc_to_page(buf + PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, part->bvec[0].bv_offset, 10U);
	KUNIT_EXPECT_PTR_EQ(test, wdmdma_mdl_system_address(part),
			    (void *)start);
	/* The device sees exactly those bytes. */
	KUNIT_ASSERT_EQ(test, wdmdma_calculate_sg_list(t->sg, part, start,
						       2 * PAGE_SIZE, &size,
						       NULL), 0);
	KUNIT_ASSERT_EQ(test, wdmdma_get_sg_list(t->sg, part, start,
						 2 * PAGE_SIZE,
						 wdmdma_test_rec_cb, &rec[0],
						 true), 0);
	KUNIT_ASSERT_NOT_NULL(test, rec[0].sgl);
	KUNIT_EXPECT_EQ(test, wdmdma_test_dev_read(rec[0].sgl, seen,
						   2 * PAGE_SIZE),
			(size_t)(2 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, memcmp(seen, start, 2 * PAGE_SIZE), 0);
	wdmdma_put_sg_list(t->sg, rec[0].sgl, true);

	/* Length 0: the rest of the source. */
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_build_partial(src, part,
						       buf + 2 * PAGE_SIZE + 1,
						       0), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_count(part),
			(u32)(2 * PAGE_SIZE - 1));
	KUNIT_EXPECT_EQ(test, part->bytes, (u32)(2 * PAGE_SIZE - 1));

	/* Bad ranges and a target too small: errors, the target empty. */
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_build_partial(src, part, buf - 1,
						       PAGE_SIZE), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_count(part), 0U);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_build_partial(src, part, buf + len,
						       0), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_build_partial(src, part,
						       buf + PAGE_SIZE,
						       len - PAGE_SIZE + 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_build_partial(src, part, buf, len),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, part->nr_bvecs, 0);
	KUNIT_EXPECT_NULL(test, wdmdma_mdl_system_address(part));
	KUNIT_EXPECT_EQ(test, wdmdma_calculate_sg_list(t->sg, part,
						       wdmdma_mdl_va(part), 1,
						       &size, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_build_partial(NULL, part, buf, 1),
			-EINVAL);

	wdmdma_mdl_free(part);
	wdmdma_mdl_free(src);
	vfree(buf);
}

/* Page-based MDLs: a system address only where the pages are mapped so. */
static void info_system_address(struct kunit *test)
{
	struct wdmdma_test_vbuf vb;
	struct wdmdma_mdl *mdl;
	u8 *one;

	mdl = kunit_kzalloc(test, wdmdma_mdl_size(2), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	one = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, one);

	/* One linear-map page: its address. */
	wdmdma_mdl_init(mdl, 2);
	KUNIT_EXPECT_NULL(test, wdmdma_mdl_system_address(mdl));
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_add_page(mdl, virt_to_page(one + 20),
						  100, offset_in_page(one + 20)),
			0);
	KUNIT_EXPECT_PTR_EQ(test, wdmdma_mdl_system_address(mdl),
			    (void *)(one + 20));
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_offset(mdl),
			(u32)offset_in_page(one + 20));

	/* Two pages in descending physical order: not mapped in order. */
	KUNIT_ASSERT_NOT_NULL(test, wdmdma_test_vbuf_alloc(&vb, 2));
	wdmdma_mdl_init(mdl, 2);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_add_page(mdl, vb.pages[0], PAGE_SIZE,
						  0), 0);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_add_page(mdl, vb.pages[1], PAGE_SIZE,
						  0), 0);
	KUNIT_EXPECT_NULL(test, wdmdma_mdl_system_address(mdl));
	wdmdma_test_vbuf_free(&vb);
	KUNIT_EXPECT_NULL(test, wdmdma_mdl_system_address(NULL));
}

static struct kunit_case info_test_cases[] = {
	KUNIT_CASE(info_transfer),
	KUNIT_CASE(info_adapter),
	KUNIT_CASE(info_mdl_from_list),
	KUNIT_CASE(info_partial),
	KUNIT_CASE(info_system_address),
	{ }
};

static struct kunit_suite info_test_suite = {
	.name = "wdmdma_info",
	.init = info_test_init,
	.exit = info_test_exit,
	.test_cases = info_test_cases,
};

kunit_test_suite(info_test_suite);

MODULE_DESCRIPTION("KUnit tests of wdmdma's sizing, information and MDL routines");
MODULE_LICENSE("GPL");
