// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_calc": wdmdma_calculate_sg_list() (Windows'
 * CalculateScatterGatherList) over a table of ranges - aligned and
 * unaligned, chained MDLs, multi-page pieces, a NULL MDL - and the limits
 * (maximum transfer, map registers, zero length, past the chain), plus
 * wdmdma_create_adapter()'s argument checks and the map register count it
 * reports.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/cache.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define CALC_MAX	SZ_64K				/* max_transfer */
#define CALC_REGS	(CALC_MAX / PAGE_SIZE + 1)	/* its map registers */
#define CALC_VPAGES	4				/* vmalloc buffer */
#define CALC_KLEN	(3 * PAGE_SIZE)			/* kmalloc buffer */
#define CALC_MANY	(CALC_REGS + 1)			/* pieces of 512 */
#define CALC_CHAIN_LEN	(1024 + PAGE_SIZE + 100)	/* bytes in the chain */

/* Expected map registers: the page span of the range's virtual addresses. */
#define SPAN		UINT_MAX

enum calc_buf {
	CALC_NULL,	/* no MDL: current_va is the vmalloc buffer's address */
	CALC_VMALLOC,	/* 4 vmalloc pages, one bio_vec each */
	CALC_KMALLOC,	/* 3 contiguous pages from kmalloc */
	CALC_CHAIN,	/* 3 chained bio_vec MDLs, see calc_fixture_init() */
	CALC_MULTI,	/* one 2000-byte piece at 3000 in an order-1 page */
	CALC_MANYBUF,	/* CALC_MANY pieces of 512 bytes, each in its own page */
	CALC_NR_BUFS,
};

struct calc_row {
	const char *name;
	enum calc_buf buf;
	u32 off;		/* byte offset: current_va - MDL va */
	u32 len;
	int ret;
	unsigned int nregs;	/* if ret == 0; SPAN: page span of the va */
};

static const struct calc_row calc_rows[] = {
	/* No MDL: sized from current_va and length alone. */
	{ "null one page", CALC_NULL, 0, PAGE_SIZE, 0, 1 },
	{ "null page off by one", CALC_NULL, 1, PAGE_SIZE, 0, 2 },
	{ "null last byte of page", CALC_NULL, PAGE_SIZE - 1, 1, 0, 1 },
	{ "null two bytes across", CALC_NULL, PAGE_SIZE - 1, 2, 0, 2 },
	{ "null max aligned", CALC_NULL, 0, CALC_MAX, 0, CALC_REGS - 1 },
	{ "null max unaligned", CALC_NULL, 1, CALC_MAX, 0, CALC_REGS },
	{ "null max + 1", CALC_NULL, 0, CALC_MAX + 1, -EMSGSIZE, 0 },
	{ "null zero length", CALC_NULL, 0, 0, -EINVAL, 0 },
	/* vmalloc: one piece per page. */
	{ "vmalloc aligned", CALC_VMALLOC, 0, 2 * PAGE_SIZE, 0, 2 },
	{ "vmalloc unaligned start", CALC_VMALLOC, 100, PAGE_SIZE, 0, 2 },
	{ "vmalloc unaligned end", CALC_VMALLOC, 0, PAGE_SIZE + 1, 0, 2 },
	{ "vmalloc exactly a page", CALC_VMALLOC, PAGE_SIZE, PAGE_SIZE, 0, 1 },
	{ "vmalloc length 1", CALC_VMALLOC, PAGE_SIZE - 1, 1, 0, 1 },
	{ "vmalloc 2 bytes across", CALC_VMALLOC, PAGE_SIZE - 1, 2, 0, 2 },
	{ "vmalloc whole", CALC_VMALLOC, 0, CALC_VPAGES * PAGE_SIZE, 0, 4 },
	{ "vmalloc both unaligned", CALC_VMALLOC, 100,
	  CALC_VPAGES * PAGE_SIZE - 200, 0, 4 },
	{ "vmalloc last byte", CALC_VMALLOC, CALC_VPAGES * PAGE_SIZE - 1, 1,
	  0, 1 },
	{ "vmalloc past end", CALC_VMALLOC, 0, CALC_VPAGES * PAGE_SIZE + 1,
	  -EINVAL, 0 },
	{ "vmalloc start at end", CALC_VMALLOC, CALC_VPAGES * PAGE_SIZE, 1,
	  -EINVAL, 0 },
	{ "vmalloc zero length", CALC_VMALLOC, 0, 0, -EINVAL, 0 },
	/* kmalloc: contiguous pages, however the MDL splits them. */
	{ "kmalloc whole", CALC_KMALLOC, 0, CALC_KLEN, 0, SPAN },
	{ "kmalloc unaligned", CALC_KMALLOC, 100, 2 * PAGE_SIZE, 0, SPAN },
	{ "kmalloc one byte", CALC_KMALLOC, 5000, 1, 0, SPAN },
	/* Chain: [512 @p0, 512 @p1] -> [4096 @p2] -> [100 @p3+3000]. */
	{ "chain first piece", CALC_CHAIN, 0, 512, 0, 1 },
	{ "chain two pieces", CALC_CHAIN, 0, 1024, 0, 2 },
	{ "chain across pieces", CALC_CHAIN, 256, 512, 0, 2 },
	{ "chain across MDLs", CALC_CHAIN, 768, 512, 0, 2 },
	{ "chain whole", CALC_CHAIN, 0, CALC_CHAIN_LEN, 0, 4 },
	{ "chain starts in 2nd MDL", CALC_CHAIN, 1024 + 100, 200, 0, 1 },
	{ "chain starts in 3rd MDL", CALC_CHAIN, 1024 + PAGE_SIZE, 100, 0, 1 },
	{ "chain 2nd to 3rd", CALC_CHAIN, 1024, PAGE_SIZE + 100, 0, 2 },
	{ "chain past end", CALC_CHAIN, 0, CALC_CHAIN_LEN + 1, -EINVAL, 0 },
	{ "chain start at end", CALC_CHAIN, CALC_CHAIN_LEN, 1, -EINVAL, 0 },
	/* One piece running from one page into the next. */
	{ "multi-page piece", CALC_MULTI, 0, 2000, 0, 2 },
	{ "multi-page first page", CALC_MULTI, 0, 1000, 0, 1 },
	{ "multi-page across", CALC_MULTI, 1000, 200, 0, 2 },
	{ "multi-page second page", CALC_MULTI, 1096, 904, 0, 1 },
	/* Small pieces in separate pages: the span, not the length, counts. */
	{ "pieces at the limit", CALC_MANYBUF, 0, 512 * (CALC_MANY - 1),
	  0, CALC_REGS },
	{ "pieces unaligned at the limit", CALC_MANYBUF, 256,
	  512 * (CALC_MANY - 2), 0, CALC_REGS },
	{ "pieces over the limit", CALC_MANYBUF, 0, 512 * CALC_MANY,
	  -ENOSPC, 0 },
};

struct calc_fixture {
	struct device *dev;
	struct wdmdma_adapter *adapter[2];	/* [0] SG, [1] one element */
	void *vbuf;
	void *kbuf;
	struct page *pages[4];
	struct page *multi;
	struct page *many[CALC_MANY];
	struct wdmdma_mdl *mdl[CALC_NR_BUFS];	/* [CALC_NULL] stays NULL */
	struct wdmdma_mdl *chain[3];
	/* list size Calculate reports per map register count, per adapter */
	size_t size[2][CALC_REGS + 1];
};

static struct platform_device *calc_pdev;

static struct device *calc_dev(struct kunit *test)
{
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, calc_pdev);
	return &calc_pdev->dev;
}

static struct wdmdma_mdl *calc_mdl_bvecs(struct kunit *test,
					 const struct bio_vec *bv,
					 unsigned int nr)
{
	struct wdmdma_mdl *mdl = wdmdma_mdl_from_bvecs(bv, nr, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);
	return mdl;
}

static struct wdmdma_mdl *calc_mdl_kernel(struct kunit *test, void *va,
					  u32 len)
{
	struct wdmdma_mdl *mdl = wdmdma_mdl_alloc(va, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mdl);
	if (wdmdma_mdl_build_for_kernel_buffer(mdl)) {
		wdmdma_mdl_free(mdl);
		KUNIT_ASSERT_TRUE_MSG(test, false, "MDL build failed");
	}
	KUNIT_EXPECT_PTR_EQ(test, wdmdma_mdl_va(mdl), va);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_count(mdl), len);
	return mdl;
}

static struct page *calc_page(struct kunit *test, unsigned int order)
{
	struct page *page = alloc_pages(GFP_KERNEL, order);

	KUNIT_ASSERT_NOT_NULL(test, page);
	return page;
}

/*
 * Build every buffer of the table and both adapters, and record the list
 * size Calculate gives for 1..CALC_REGS map registers (from NULL-MDL
 * calls, which depend on nothing but the span).
 */
static void calc_fixture_init(struct kunit *test)
{
	struct calc_fixture *fx;
	struct bio_vec bv[CALC_MANY];
	unsigned int i, a;

	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fx);
	test->priv = fx;
	fx->dev = calc_dev(test);

	fx->adapter[0] = wdmdma_test_adapter(test, fx->dev, true, 64,
					     CALC_MAX, 1, 0);
	fx->adapter[1] = wdmdma_test_adapter(test, fx->dev, false, 64,
					     CALC_MAX, 1, 0);

	fx->vbuf = vmalloc(CALC_VPAGES * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, fx->vbuf);
	fx->mdl[CALC_VMALLOC] = calc_mdl_kernel(test, fx->vbuf,
						CALC_VPAGES * PAGE_SIZE);
	fx->kbuf = kmalloc(CALC_KLEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fx->kbuf);
	fx->mdl[CALC_KMALLOC] = calc_mdl_kernel(test, fx->kbuf, CALC_KLEN);

	for (i = 0; i < ARRAY_SIZE(fx->pages); i++)
		fx->pages[i] = calc_page(test, 0);
	bvec_set_page(&bv[0], fx->pages[0], 512, 0);
	bvec_set_page(&bv[1], fx->pages[1], 512, 0);
	fx->chain[0] = calc_mdl_bvecs(test, bv, 2);
	bvec_set_page(&bv[0], fx->pages[2], PAGE_SIZE, 0);
	fx->chain[1] = calc_mdl_bvecs(test, bv, 1);
	bvec_set_page(&bv[0], fx->pages[3], 100, 3000);
	fx->chain[2] = calc_mdl_bvecs(test, bv, 1);
	fx->chain[0]->next = fx->chain[1];
	fx->chain[1]->next = fx->chain[2];
	fx->mdl[CALC_CHAIN] = fx->chain[0];
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_count(fx->chain[0]), 1024);

	fx->multi = calc_page(test, 1);
	bvec_set_page(&bv[0], fx->multi, 2000, 3000);
	fx->mdl[CALC_MULTI] = calc_mdl_bvecs(test, bv, 1);

	for (i = 0; i < CALC_MANY; i++) {
		fx->many[i] = calc_page(test, 0);
		bvec_set_page(&bv[i], fx->many[i], 512, 0);
	}
	fx->mdl[CALC_MANYBUF] = calc_mdl_bvecs(test, bv, CALC_MANY);

	for (a = 0; a < 2; a++) {
		for (i = 1; i <= CALC_REGS; i++) {
			/* i pages, or CALC_MAX off by one for the last */
			u32 off = i == CALC_REGS ? 1 : 0;
			u32 len = i == CALC_REGS ? CALC_MAX : i * PAGE_SIZE;
			unsigned int nregs = 0;
			int ret;

			ret = wdmdma_calculate_sg_list(fx->adapter[a], NULL,
						       fx->vbuf + off, len,
						       &fx->size[a][i], &nregs);
			KUNIT_ASSERT_EQ_MSG(test, ret, 0, "span %u", i);
			KUNIT_ASSERT_EQ_MSG(test, nregs, i, "span %u", i);
		}
	}
}

static void calc_exit(struct kunit *test)
{
	struct calc_fixture *fx = test->priv;
	unsigned int i;

	if (!fx)
		return;
	for (i = 0; i < ARRAY_SIZE(fx->chain); i++)
		wdmdma_mdl_free(fx->chain[i]);
	wdmdma_mdl_free(fx->mdl[CALC_VMALLOC]);
	wdmdma_mdl_free(fx->mdl[CALC_KMALLOC]);
	wdmdma_mdl_free(fx->mdl[CALC_MULTI]);
	wdmdma_mdl_free(fx->mdl[CALC_MANYBUF]);
	for (i = 0; i < ARRAY_SIZE(fx->pages); i++)
		if (fx->pages[i])
			__free_page(fx->pages[i]);
	if (fx->multi)
		__free_pages(fx->multi, 1);
	for (i = 0; i < CALC_MANY; i++)
		if (fx->many[i])
			__free_page(fx->many[i]);
	kfree(fx->kbuf);
	vfree(fx->vbuf);
	for (i = 0; i < ARRAY_SIZE(fx->adapter); i++)
		if (!IS_ERR_OR_NULL(fx->adapter[i]))
			wdmdma_destroy_adapter(fx->adapter[i]);
	test->priv = NULL;
}

static unsigned int calc_expected_nregs(struct calc_fixture *fx,
					const struct calc_row *row)
{
	const void *va;

	if (row->nregs != SPAN)
		return row->nregs;
	va = row->buf == CALC_KMALLOC ? fx->kbuf : fx->vbuf;
	return DIV_ROUND_UP(offset_in_page(va + row->off) + row->len,
			    PAGE_SIZE);
}

static void calc_run_table(struct kunit *test, unsigned int a)
{
	struct calc_fixture *fx;
	unsigned int i;

	calc_fixture_init(test);
	fx = test->priv;

	for (i = 0; i < ARRAY_SIZE(calc_rows); i++) {
		const struct calc_row *row = &calc_rows[i];
		struct wdmdma_mdl *mdl = fx->mdl[row->buf];
		const void *base = mdl ? wdmdma_mdl_va(mdl) : fx->vbuf;
		unsigned int want = calc_expected_nregs(fx, row);
		unsigned int nregs = 0xdead;
		size_t size = 0xdead;
		int ret;

		ret = wdmdma_calculate_sg_list(fx->adapter[a], mdl,
					       base + row->off, row->len,
					       &size, &nregs);
		KUNIT_EXPECT_EQ_MSG(test, ret, row->ret, "row '%s'", row->name);
		if (ret || row->ret)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, nregs, want, "row '%s'", row->name);
		if (nregs >= 1 && nregs <= CALC_REGS)
			KUNIT_EXPECT_EQ_MSG(test, size, fx->size[a][nregs],
					    "row '%s': size for %u registers",
					    row->name, nregs);
	}
}

/* The table on a scatter/gather adapter. */
static void calc_test_table_sg(struct kunit *test)
{
	calc_run_table(test, 0);
}

/* The same table on a one-element adapter: same spans, same errors. */
static void calc_test_table_nonsg(struct kunit *test)
{
	calc_run_table(test, 1);
}

/*
 * Sizes: an SG list holds one element and one scatterlist entry per map
 * register, so its size grows strictly with the span; a one-element list
 * has the same size whatever the span.
 */
static void calc_test_sizes(struct kunit *test)
{
	const size_t min1 = sizeof(struct wdmdma_sg_list) +
			    sizeof(struct wdmdma_sg_element);
	struct calc_fixture *fx;
	unsigned int i;

	calc_fixture_init(test);
	fx = test->priv;

	for (i = 1; i <= CALC_REGS; i++) {
		KUNIT_EXPECT_GE_MSG(test, fx->size[0][i],
				    sizeof(struct wdmdma_sg_list) +
				    i * sizeof(struct wdmdma_sg_element),
				    "SG, %u registers", i);
		if (i > 1)
			KUNIT_EXPECT_GT_MSG(test, fx->size[0][i],
					    fx->size[0][i - 1],
					    "SG, %u registers", i);
		KUNIT_EXPECT_GE_MSG(test, fx->size[1][i], min1,
				    "one element, %u registers", i);
		KUNIT_EXPECT_EQ_MSG(test, fx->size[1][i], fx->size[1][1],
				    "one element, %u registers", i);
	}
	/* A one-element list is never bigger than a full SG list. */
	KUNIT_EXPECT_LE(test, fx->size[1][1], fx->size[0][CALC_REGS]);
}

/* A NULL adapter is rejected, and nothing is written. */
static void calc_test_null_adapter(struct kunit *test)
{
	unsigned int nregs = 0xdead;
	size_t size = 0xdead;
	char buf[16];

	KUNIT_EXPECT_EQ(test, wdmdma_calculate_sg_list(NULL, NULL, buf, 8,
						       &size, &nregs),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, nregs, 0xdead);
	KUNIT_EXPECT_EQ(test, size, 0xdead);
}

/*
 * The map register count is optional (Windows' NumberOfMapRegisters may be
 * NULL), for Calculate and for create_adapter; the size is the same.
 */
static void calc_test_optional_nregs(struct kunit *test)
{
	struct wdmdma_desc desc = {
		.scatter_gather = true,
		.dma_width = 64,
		.max_transfer = CALC_MAX,
	};
	struct calc_fixture *fx;
	struct wdmdma_adapter *a;
	size_t size = 0;
	int ret;

	calc_fixture_init(test);
	fx = test->priv;
	ret = wdmdma_calculate_sg_list(fx->adapter[0], fx->mdl[CALC_CHAIN],
				       wdmdma_mdl_va(fx->mdl[CALC_CHAIN]),
				       CALC_CHAIN_LEN, &size, NULL);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, size, fx->size[0][4]);

	a = wdmdma_create_adapter(fx->dev, &desc, NULL);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, a);
	if (!IS_ERR_OR_NULL(a))
		wdmdma_destroy_adapter(a);
}

static int calc_create(struct device *dev, bool sg, unsigned int width,
		       u32 max_transfer, unsigned int *nregs)
{
	struct wdmdma_desc desc = {
		.scatter_gather = sg,
		.dma_width = width,
		.max_transfer = max_transfer,
	};
	struct wdmdma_adapter *adapter;

	adapter = wdmdma_create_adapter(dev, &desc, nregs);
	if (IS_ERR(adapter))
		return PTR_ERR(adapter);
	if (!adapter)
		return -EFAULT;
	wdmdma_destroy_adapter(adapter);
	return 0;
}

/* create_adapter: widths 24..64 only, a maximum transfer, segment sizes. */
static void calc_test_create_args(struct kunit *test)
{
	static const unsigned int bad[] = { 0, 1, 23, 65, 128 };
	static const unsigned int good[] = { 24, 32, 48, 64 };
	struct device *dev = calc_dev(test);
	struct wdmdma_adapter *a;
	unsigned int nregs, i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, calc_create(dev, true, bad[i],
						      PAGE_SIZE, &nregs),
				    -EINVAL, "width %u", bad[i]);
		KUNIT_EXPECT_EQ_MSG(test, calc_create(dev, false, bad[i],
						      PAGE_SIZE, &nregs),
				    -EINVAL, "width %u", bad[i]);
	}
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		KUNIT_EXPECT_EQ_MSG(test, calc_create(dev, true, good[i],
						      PAGE_SIZE, &nregs),
				    0, "width %u", good[i]);
		KUNIT_EXPECT_EQ_MSG(test, calc_create(dev, false, good[i],
						      PAGE_SIZE, &nregs),
				    0, "width %u", good[i]);
	}
	KUNIT_EXPECT_EQ(test, calc_create(dev, true, 64, 0, &nregs), -EINVAL);
	KUNIT_EXPECT_EQ(test, calc_create(dev, false, 64, 0, &nregs), -EINVAL);

	/*
	 * A one-element device needs one DMA segment for a whole transfer;
	 * a scatter/gather one does not.
	 */
	dma_set_max_seg_size(dev, SZ_64K);
	KUNIT_EXPECT_EQ(test, calc_create(dev, false, 64, SZ_64K + 1, &nregs),
			-EINVAL);
	ret = calc_create(dev, false, 64, SZ_64K, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	ret = calc_create(dev, true, 64, SZ_128K, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	dma_set_max_seg_size(dev, SZ_1M);
	KUNIT_EXPECT_EQ(test, calc_create(dev, false, 64, SZ_64K + 1, &nregs),
			0);

	/*
	 * Masks: while the adapter lives, the device's streaming mask is its
	 * width (no IOMMU, the only adapter); destroy gives back the mask the
	 * device had. The coherent mask is the driver's: never touched.
	 */
	KUNIT_ASSERT_EQ(test, dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
	KUNIT_ASSERT_EQ(test, dma_set_coherent_mask(dev, DMA_BIT_MASK(40)), 0);
	a = wdmdma_test_adapter(test, dev, true, 32, PAGE_SIZE, 0, 0);
	KUNIT_EXPECT_EQ(test, dma_get_mask(dev), DMA_BIT_MASK(32));
	KUNIT_EXPECT_EQ(test, dev->coherent_dma_mask, DMA_BIT_MASK(40));
	wdmdma_destroy_adapter(a);
	KUNIT_EXPECT_EQ(test, dma_get_mask(dev), DMA_BIT_MASK(64));
	KUNIT_EXPECT_EQ(test, dev->coherent_dma_mask, DMA_BIT_MASK(40));
	KUNIT_EXPECT_EQ(test, calc_create(dev, true, 24, PAGE_SIZE, &nregs),
			0);
	KUNIT_EXPECT_EQ(test, dma_get_mask(dev), DMA_BIT_MASK(64));
	KUNIT_EXPECT_EQ(test, dev->coherent_dma_mask, DMA_BIT_MASK(40));
	/* The suite's other cases expect the device as it was created. */
	KUNIT_EXPECT_EQ(test, dma_set_coherent_mask(dev, DMA_BIT_MASK(64)), 0);
}

/*
 * nr_map_registers: pages a maximum transfer spans at worst alignment,
 * DIV_ROUND_UP(max_transfer + PAGE_SIZE - 1, PAGE_SIZE), either kind.
 */
static void calc_test_nr_map_registers(struct kunit *test)
{
	static const struct {
		u32 max;
		unsigned int nregs;
	} rows[] = {
		{ 1, 1 },
		{ 2, 2 },
		{ PAGE_SIZE - 1, 2 },
		{ PAGE_SIZE, 2 },
		{ PAGE_SIZE + 1, 2 },
		{ 2 * PAGE_SIZE, 3 },
		{ 2 * PAGE_SIZE + 1, 3 },
		{ SZ_64K, SZ_64K / PAGE_SIZE + 1 },
		{ SZ_1M, SZ_1M / PAGE_SIZE + 1 },
	};
	struct device *dev = calc_dev(test);
	unsigned int i, sg;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		for (sg = 0; sg < 2; sg++) {
			unsigned int nregs = 0;
			int ret;

			ret = calc_create(dev, sg, 64, rows[i].max, &nregs);
			KUNIT_EXPECT_EQ_MSG(test, ret, 0, "max %u sg %u",
					    rows[i].max, sg);
			KUNIT_EXPECT_EQ_MSG(test, nregs, rows[i].nregs,
					    "max %u sg %u", rows[i].max, sg);
		}
	}
}

/*
 * Map registers the adapter owns: nr_reserve chunks of max_transfer's
 * pages for a one-element adapter; none for an SG adapter that reaches
 * all memory; chunks again for an SG adapter whose width is below the
 * memory it may be given, of one register per page a maximum transfer can
 * span and room to start each bounced piece on a cache line of its own.
 */
static void calc_test_map_registers_owned(struct kunit *test)
{
	struct device *dev = calc_dev(test);
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;

	a = wdmdma_test_adapter(test, dev, false, 64, 2 * PAGE_SIZE, 0, 0);
	st = wdmdma_test_stats(a);
	wdmdma_destroy_adapter(a);
	KUNIT_EXPECT_EQ(test, st.map_regs_total, 2);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0);

	a = wdmdma_test_adapter(test, dev, false, 64, 2 * PAGE_SIZE + 1, 3, 0);
	st = wdmdma_test_stats(a);
	wdmdma_destroy_adapter(a);
	KUNIT_EXPECT_EQ(test, st.map_regs_total, 9);

	a = wdmdma_test_adapter(test, dev, true, 64, SZ_64K, 2, 0);
	st = wdmdma_test_stats(a);
	wdmdma_destroy_adapter(a);
	KUNIT_EXPECT_EQ(test, st.map_regs_total, 0);

	a = wdmdma_test_adapter(test, dev, true, 28, SZ_64K, 2, 0);
	st = wdmdma_test_stats(a);
	wdmdma_destroy_adapter(a);
	/*
	 * One register per page a maximum transfer can span, plus room for
	 * each piece to start on a cache line of its own, per chunk.
	 */
	if (dma_get_required_mask(dev) > DMA_BIT_MASK(28))
		KUNIT_EXPECT_EQ(test, st.map_regs_total,
				2 * (SZ_64K / PAGE_SIZE + 1 +
				     DIV_ROUND_UP((SZ_64K / PAGE_SIZE + 1) *
						  L1_CACHE_BYTES, PAGE_SIZE)));
	else
		KUNIT_EXPECT_EQ(test, st.map_regs_total, 0);
}

static int calc_suite_init(struct kunit_suite *suite)
{
	calc_pdev = wdmdma_test_pdev_create("wdmdma-test-calc");
	return PTR_ERR_OR_ZERO(calc_pdev);
}

static void calc_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(calc_pdev);
	calc_pdev = NULL;
}

static struct kunit_case calc_test_cases[] = {
	KUNIT_CASE(calc_test_table_sg),
	KUNIT_CASE(calc_test_table_nonsg),
	KUNIT_CASE(calc_test_sizes),
	KUNIT_CASE(calc_test_null_adapter),
	KUNIT_CASE(calc_test_optional_nregs),
	KUNIT_CASE(calc_test_create_args),
	KUNIT_CASE(calc_test_nr_map_registers),
	KUNIT_CASE(calc_test_map_registers_owned),
	{ }
};

static struct kunit_suite calc_test_suite = {
	.name = "wdmdma_calc",
	.suite_init = calc_suite_init,
	.suite_exit = calc_suite_exit,
	.exit = calc_exit,
	.test_cases = calc_test_cases,
};

kunit_test_suite(calc_test_suite);

MODULE_DESCRIPTION("KUnit tests for wdmdma Calculate and adapter creation");
MODULE_LICENSE("GPL");
