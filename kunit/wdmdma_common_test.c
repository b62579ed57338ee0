// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_common": common buffers (AllocateCommonBuffer, its
 * Ex and WithBounds forms, FreeCommonBuffer) through the Linux API (the
 * Windows way through DmaOperations is in wdmdma_nt), on a test device whose
 * coherent mask (64 bits) is wider than one of its adapters: each adapter
 * must get memory its own width reaches, and the mask must stay the
 * driver's. The device has no IOMMU, so a bus address is a physical one
 * and the test plays the device with phys_to_virt().
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include "wdmdma_test_util.h"

#define COMMON_MAX	SZ_64K
#define COMMON_NR	4
#define COMMON_SIZE	(3 * PAGE_SIZE)

struct common_test {
	struct platform_device *pdev;
	struct device *dev;
	struct wdmdma_adapter *narrow;	/* 24 bits: below 16 MiB */
	struct wdmdma_adapter *wide;	/* 64 bits */
};

static int common_test_init(struct kunit *test)
{
	struct common_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->pdev = wdmdma_test_pdev_create("wdmdma-test-common");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->pdev));
	t->dev = &t->pdev->dev;
	test->priv = t;
	t->narrow = wdmdma_test_adapter(test, t->dev, true, 24, COMMON_MAX, 0, 0);
	t->wide = wdmdma_test_adapter(test, t->dev, true, 64, COMMON_MAX, 0, 0);
	return 0;
}

static void common_test_exit(struct kunit *test)
{
	struct common_test *t = test->priv;

	if (!t)
		return;
	wdmdma_destroy_adapter(t->wide);
	wdmdma_destroy_adapter(t->narrow);
	wdmdma_test_pdev_destroy(t->pdev);
}

/*
 * Check one buffer: page-aligned, zeroed, within @max_addr, and shared:
 * what the CPU writes the device reads at the bus address, and back.
 */
static void common_check(struct kunit *test, void *va, dma_addr_t dma,
			 size_t size, u64 max_addr)
{
	u8 *dev_view = phys_to_virt((phys_addr_t)dma);

	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(va));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(dma));
	KUNIT_EXPECT_LE(test, (u64)dma + size - 1, max_addr);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(va, 0, size));
	wdmdma_test_fill(va, size, 0x5a);
	KUNIT_EXPECT_EQ(test, memcmp(dev_view, va, size), 0);
	wdmdma_test_fill(dev_view, size, 0xa5);
	KUNIT_EXPECT_EQ(test, memcmp(dev_view, va, size), 0);
}

/* Two adapters of different widths on one device: each gets its width. */
static void common_two_widths(struct kunit *test)
{
	struct common_test *t = test->priv;
	void *nva[COMMON_NR], *wva[COMMON_NR];
	dma_addr_t ndma[COMMON_NR], wdma[COMMON_NR];
	unsigned int i;

	for (i = 0; i < COMMON_NR; i++) {
		nva[i] = wdmdma_alloc_common_buffer(t->narrow, COMMON_SIZE,
						    &ndma[i], GFP_KERNEL);
		wva[i] = wdmdma_alloc_common_buffer(t->wide, COMMON_SIZE,
						    &wdma[i], GFP_KERNEL);
		KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(nva[i]));
		KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(wva[i]));
		common_check(test, nva[i], ndma[i], COMMON_SIZE,
			     DMA_BIT_MASK(24));
		common_check(test, wva[i], wdma[i], COMMON_SIZE,
			     DMA_BIT_MASK(64));
	}
	/* The coherent mask is still the driver's. */
	KUNIT_EXPECT_EQ(test, t->dev->coherent_dma_mask, DMA_BIT_MASK(64));
	for (i = 0; i < COMMON_NR; i++) {
		KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->narrow,
								COMMON_SIZE,
								nva[i], ndma[i]),
				0);
		KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->wide,
								COMMON_SIZE,
								wva[i], wdma[i]),
				0);
	}
}

/* Bounds narrow the range; what cannot hold the buffer is refused. */
static void common_bounds(struct kunit *test)
{
	struct common_test *t = test->priv;
	dma_addr_t dma;
	void *va;

	/* A maximum below the adapter's width. */
	va = wdmdma_alloc_common_buffer_bounds(t->wide, PAGE_SIZE, 0,
					       DMA_BIT_MASK(24), &dma,
					       GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(va));
	common_check(test, va, dma, PAGE_SIZE, DMA_BIT_MASK(24));
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->wide, PAGE_SIZE,
							va, dma), 0);

	/* A minimum that normal memory meets. */
	va = wdmdma_alloc_common_buffer_bounds(t->wide, PAGE_SIZE, SZ_16M,
					       DMA_BIT_MASK(32), &dma,
					       GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(va));
	KUNIT_EXPECT_GE(test, (u64)dma, (u64)SZ_16M);
	common_check(test, va, dma, PAGE_SIZE, DMA_BIT_MASK(32));
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->wide, PAGE_SIZE,
							va, dma), 0);

	/* A minimum above the adapter's width. */
	va = wdmdma_alloc_common_buffer_bounds(t->narrow, PAGE_SIZE, SZ_16M,
					       U64_MAX, &dma, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(va), -EINVAL);
	/* Minimum above maximum. */
	va = wdmdma_alloc_common_buffer_bounds(t->wide, PAGE_SIZE, SZ_1M,
					       SZ_1M - 1, &dma, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(va), -EINVAL);
	/* A range smaller than the buffer. */
	va = wdmdma_alloc_common_buffer_bounds(t->wide, 2 * PAGE_SIZE, 0,
					       PAGE_SIZE - 1, &dma, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(va), -EINVAL);
}

/* Bad parameters get errors; Free refuses what does not match. */
static void common_bad_params(struct kunit *test)
{
	struct common_test *t = test->priv;
	dma_addr_t dma;
	void *va;

	va = wdmdma_alloc_common_buffer(NULL, PAGE_SIZE, &dma, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(va), -EINVAL);
	va = wdmdma_alloc_common_buffer(t->wide, 0, &dma, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(va), -EINVAL);
	va = wdmdma_alloc_common_buffer(t->wide, PAGE_SIZE, NULL, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(va), -EINVAL);
	/* Process context only, as on Windows (PASSIVE_LEVEL). */
	va = wdmdma_alloc_common_buffer(t->wide, PAGE_SIZE, &dma, GFP_ATOMIC);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(va), -EINVAL);

	va = wdmdma_alloc_common_buffer(t->narrow, PAGE_SIZE, &dma, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(va));
	/* Wrong size, address or adapter: reported, not freed. */
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->narrow,
							2 * PAGE_SIZE, va, dma),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->narrow, PAGE_SIZE,
							va, dma + PAGE_SIZE),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->wide, PAGE_SIZE,
							va, dma), -EINVAL);
	/* Still there: the CPU and the device still share it. */
	common_check(test, memset(va, 0, PAGE_SIZE), dma, PAGE_SIZE,
		     DMA_BIT_MASK(24));
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->narrow, PAGE_SIZE,
							va, dma), 0);
	/* Freed twice, or never allocated. */
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->narrow, PAGE_SIZE,
							va, dma), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(t->narrow, PAGE_SIZE,
							t, 0), -EINVAL);
}

/* A buffer may be freed after its adapter is destroyed. */
static void common_outlives_adapter(struct kunit *test)
{
	struct common_test *t = test->priv;
	struct wdmdma_adapter *a;
	dma_addr_t dma;
	void *va;

	a = wdmdma_test_adapter(test, t->dev, false, 32, COMMON_MAX, 0, 0);
	va = wdmdma_alloc_common_buffer(a, PAGE_SIZE, &dma, GFP_KERNEL);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(va));
	wdmdma_destroy_adapter(a);
	common_check(test, va, dma, PAGE_SIZE, DMA_BIT_MASK(32));
	KUNIT_EXPECT_EQ(test, wdmdma_free_common_buffer(a, PAGE_SIZE, va, dma),
			0);
}

static struct kunit_case common_test_cases[] = {
	KUNIT_CASE(common_two_widths),
	KUNIT_CASE(common_bounds),
	KUNIT_CASE(common_bad_params),
	KUNIT_CASE(common_outlives_adapter),
	{ }
};

static struct kunit_suite common_test_suite = {
	.name = "wdmdma_common",
	.init = common_test_init,
	.exit = common_test_exit,
	.test_cases = common_test_cases,
};

kunit_test_suite(common_test_suite);

MODULE_DESCRIPTION("KUnit tests of wdmdma's common buffers");
MODULE_LICENSE("GPL");
