// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_iommu": which pages need map registers is decided
 * the way the DMA layer decides it, with no IOMMU, behind an identity
 * (passthrough) IOMMU domain and behind a translating one.
 *
 * The adapters are made for QEMU's stock edu device (PCI 1234:11e8,
 * 28-bit DMA), used without binding a driver, and the edu device itself
 * moves the data: every list is checked with real edu DMAs (RAM to its
 * 4 KiB buffer and back), so a bus address that is wrong for the IOMMU
 * state of the boot shows as wrong data or a DMA fault.
 *
 * The guest group says what the boot has with the module parameter
 * expect=none|identity|translate, and the first case checks that the
 * device really is in that state:
 *  - none, identity: bus addresses are physical; pages above 2^28 are
 *    bounced through map registers the device can reach;
 *  - translate: bus addresses are IOVAs the IOMMU keeps below the mask;
 *    nothing is bounced, and a one-element adapter gets a physically
 *    discontiguous buffer as one IOMMU-contiguous element.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/ctype.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/iopoll.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_START		BIT(0)	/* reads 1 while the DMA runs */
#define EDU_DMA_TO_RAM		BIT(1)	/* 0: RAM to the edu buffer */
#define EDU_BUF_ADDR		0x40000
/*
 * QEMU 7.2's edu rejects (and aborts on) a DMA that ends at the end of its
 * 4 KiB buffer: every DMA here stays at least 64 bytes short of it.
 */
#define EDU_DMA_MAX		(4096 - 64)
#define EDU_DMA_TIMEOUT_US	(5 * USEC_PER_SEC)	/* one DMA: 100 ms */

#define IOMMU_WIDTH		28
#define IOMMU_LIMIT		DMA_BIT_MASK(IOMMU_WIDTH)
#define IOMMU_HIGH		BIT_ULL(IOMMU_WIDTH)
#define IOMMU_MAX_XFER		SZ_64K	/* the PCI default max segment */
#define IOMMU_BLOCK_ORDER	9	/* 2 MiB blocks when looking high */
#define IOMMU_TRIES		512	/* blocks (then smaller ones) tried */
#define IOMMU_MAX_PAGES		4

enum iommu_state { IOMMU_NONE, IOMMU_IDENTITY, IOMMU_TRANSLATE };

static const char * const iommu_state_names[] = {
	[IOMMU_NONE] = "none",
	[IOMMU_IDENTITY] = "identity",
	[IOMMU_TRANSLATE] = "translate",
};

/*
 * Does wdmdma link lists into one IOVA range on this kernel? The suite
 * turns the iova setting on for its adapters (wdmdma_set_iova()).
 */
#ifdef WDMDMA_HAVE_DMA_IOVA
#define IOMMU_HAVE_IOVA true
#else
#define IOMMU_HAVE_IOVA false
#endif

static char *expect = "none";
module_param(expect, charp, 0444);
MODULE_PARM_DESC(expect,
		 "IOMMU state of the edu device in this boot: none, identity (iommu=pt) or translate");

/**
 * struct iommu_edu - the edu device and what the suite keeps for it
 * @pdev: the device
 * @regs: BAR 0
 * @state: what @expect says the boot has
 * @coh: 4 KiB of coherent memory: what the edu buffer is copied through
 * @coh_dma: its bus address
 * @old_iova: wdmdma's iova setting before the suite turned it on
 */
struct iommu_edu {
	struct pci_dev *pdev;
	void __iomem *regs;
	enum iommu_state state;
	u8 *coh;
	dma_addr_t coh_dma;
	bool old_iova;
};

static struct iommu_edu *iommu_edu;

static struct iommu_edu *iommu_get_edu(struct kunit *test)
{
	KUNIT_ASSERT_NOT_NULL_MSG(test, iommu_edu, "no edu device");
	return iommu_edu;
}

/*
 * Must pages beyond the device's 28 bits bounce? Unless a translating
 * domain maps them to IOVAs it reaches: an identity domain counts as none.
 */
static bool iommu_bounces(const struct iommu_edu *edu)
{
	return edu->state != IOMMU_TRANSLATE;
}

/*
 * One edu DMA, polled to its end: @to_ram moves @len bytes from the edu
 * buffer at @src to bus address @dst, else from bus address @src to the
 * edu buffer at @dst. A bus address beyond the device's 28 bits is refused
 * here: the edu would clamp it and write somewhere else.
 */
static int iommu_edu_dma(struct iommu_edu *edu, u64 src, u64 dst, u32 len,
			 bool to_ram)
{
	u64 bus = to_ram ? dst : src;
	u32 cmd;

	if (!len || len > EDU_DMA_MAX || bus + len - 1 > IOMMU_LIMIT)
		return -ERANGE;
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_CNT);
	writeq(EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0),
	       edu->regs + EDU_REG_DMA_CMD);
	return readl_poll_timeout(edu->regs + EDU_REG_DMA_CMD, cmd,
				  !(cmd & EDU_DMA_START), 2000,
				  EDU_DMA_TIMEOUT_US);
}

/*
 * Bus address of byte @off of the transfer and how many bytes of the
 * element holding it follow it (0 if past the list).
 */
static u64 iommu_sgl_at(const struct wdmdma_sg_list *sgl, u64 off, u32 *left)
{
	u32 i;

	for (i = 0; i < sgl->nr_elements; i++) {
		if (off < sgl->elements[i].len) {
			*left = sgl->elements[i].len - off;
			return sgl->elements[i].addr + off;
		}
		off -= sgl->elements[i].len;
	}
	*left = 0;
	return 0;
}

/*
 * Move the bytes [@pos, @pos + @n) of the transfer between the list's bus
 * addresses and the edu buffer (from offset 0), one DMA per element piece.
 */
static int iommu_edu_pieces(struct iommu_edu *edu,
			    const struct wdmdma_sg_list *sgl, u32 pos, u32 n,
			    bool to_ram)
{
	u32 done = 0, left, m;
	u64 bus;
	int ret;

	while (done < n) {
		bus = iommu_sgl_at(sgl, pos + done, &left);
		if (!left)
			return -ERANGE;
		m = min(n - done, left);
		if (to_ram)
			ret = iommu_edu_dma(edu, EDU_BUF_ADDR + done, bus, m,
					    true);
		else
			ret = iommu_edu_dma(edu, bus, EDU_BUF_ADDR + done, m,
					    false);
		if (ret)
			return ret;
		done += m;
	}
	return 0;
}

/* The edu device reads the transfer (write_to_device): the bytes to @dst. */
static int iommu_edu_read(struct iommu_edu *edu,
			  const struct wdmdma_sg_list *sgl, u8 *dst, u32 len)
{
	u32 pos, n;
	int ret;

	for (pos = 0; pos < len; pos += n) {
		n = min_t(u32, len - pos, EDU_DMA_MAX);
		ret = iommu_edu_pieces(edu, sgl, pos, n, false);
		if (!ret)
			ret = iommu_edu_dma(edu, EDU_BUF_ADDR, edu->coh_dma, n,
					    true);
		if (ret)
			return ret;
		memcpy(dst + pos, edu->coh, n);
	}
	return 0;
}

/* The edu device writes the transfer (a read): @src's bytes into it. */
static int iommu_edu_write(struct iommu_edu *edu,
			   const struct wdmdma_sg_list *sgl, const u8 *src,
			   u32 len)
{
	u32 pos, n;
	int ret;

	for (pos = 0; pos < len; pos += n) {
		n = min_t(u32, len - pos, EDU_DMA_MAX);
		memcpy(edu->coh, src + pos, n);
		ret = iommu_edu_dma(edu, edu->coh_dma, EDU_BUF_ADDR, n, false);
		if (!ret)
			ret = iommu_edu_pieces(edu, sgl, pos, n, true);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * struct iommu_xfer - one transfer checked in both directions
 * @va: the buffer (a vmap of its pages)
 * @size: its size
 * @off: where the transfer starts in it
 * @len: transfer length
 * @sg: scatter/gather adapter (else one element)
 * @regs: map registers the transfer must use (0: none, and not bounced)
 * @in_place: the first byte is mapped in place at @in_place_bus
 * @in_place_bus: see @in_place
 */
struct iommu_xfer {
	u8 *va;
	size_t size;
	u32 off;
	u32 len;
	bool sg;
	unsigned int regs;
	bool in_place;
	u64 in_place_bus;
};

/*
 * Get a list for @x on a new 28-bit adapter of the edu device, write then
 * read: the callback runs at once, the list reaches only 28 bits, map
 * registers are used exactly as @x says, and the edu device reads the
 * buffer's bytes and writes bytes the buffer has after Put (and nothing
 * outside the range).
 */
static void iommu_check_xfer(struct kunit *test, const struct iommu_xfer *x)
{
	struct iommu_edu *edu = iommu_get_edu(test);
	struct wdmdma_desc desc = {
		.scatter_gather = x->sg,
		.dma_width = IOMMU_WIDTH,
		.max_transfer = IOMMU_MAX_XFER,
	};
	struct wdmdma_stats st0, st1, st2;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_mdl *mdl;
	u8 *pattern, *seen;
	unsigned int nregs;
	int dir, ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	pattern = kunit_kmalloc(test, x->len, GFP_KERNEL);
	seen = kunit_kmalloc(test, x->size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	mdl = wdmdma_mdl_alloc(x->va, x->size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	if (wdmdma_mdl_build_for_kernel_buffer(mdl)) {
		wdmdma_mdl_free(mdl);
		KUNIT_FAIL(test, "MDL build failed");
		return;
	}
	a = wdmdma_create_adapter(&edu->pdev->dev, &desc, &nregs);
	if (IS_ERR_OR_NULL(a)) {
		wdmdma_mdl_free(mdl);
		KUNIT_FAIL(test, "adapter creation failed: %ld", PTR_ERR(a));
		return;
	}

	for (dir = 1; dir >= 0; dir--) {
		bool write = dir;

		wdmdma_test_fill(x->va, x->size, write ? 0x31 : 0x53);
		wdmdma_test_rec_init(rec, NULL);
		st0 = wdmdma_test_stats(a);
		ret = wdmdma_get_sg_list(a, mdl, x->va + x->off, x->len,
					 wdmdma_test_rec_cb, rec, write);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s", write ? "write" : "read");
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
		if (ret || wdmdma_test_rec_calls(rec) != 1 || !rec->sgl)
			break;

		/* What the device is given. */
		if (!x->sg)
			KUNIT_EXPECT_EQ(test, rec->sgl->nr_elements, 1);
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(rec->sgl), x->len);
		KUNIT_EXPECT_LE(test, wdmdma_test_sgl_max_addr(rec->sgl),
				IOMMU_LIMIT);
		if (x->in_place)
			KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_addr_at(rec->sgl, 0),
					x->in_place_bus);
		st1 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st1.bounced, st0.bounced + !!x->regs);
		/*
		 * Where the kernel has dma_iova_link(), a list behind a
		 * translating IOMMU that bounces nothing is one IOVA range.
		 */
		KUNIT_EXPECT_EQ(test, st1.iova,
				st0.iova + (IOMMU_HAVE_IOVA &&
					    edu->state == IOMMU_TRANSLATE &&
					    !x->regs));
		KUNIT_EXPECT_EQ(test, st1.map_regs_in_use, x->regs);

		/* The device moves the data. */
		if (write) {
			KUNIT_EXPECT_EQ(test, iommu_edu_read(edu, rec->sgl, seen,
							     x->len), 0);
			KUNIT_EXPECT_EQ(test, memcmp(seen, x->va + x->off,
						     x->len), 0);
		} else {
			wdmdma_test_fill(pattern, x->len, 0x75);
			memcpy(seen, x->va, x->size);
			KUNIT_EXPECT_EQ(test, iommu_edu_write(edu, rec->sgl,
							      pattern, x->len),
					0);
		}
		wdmdma_put_sg_list(a, rec->sgl, write);
		if (!write) {
			KUNIT_EXPECT_EQ(test, memcmp(x->va + x->off, pattern,
						     x->len), 0);
			KUNIT_EXPECT_EQ(test, memcmp(x->va, seen, x->off), 0);
			KUNIT_EXPECT_EQ(test,
					memcmp(x->va + x->off + x->len,
					       seen + x->off + x->len,
					       x->size - x->off - x->len), 0);
		}
		st2 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st2.map_regs_in_use, 0);
		KUNIT_EXPECT_EQ(test, st2.outstanding, 0);
	}
	wdmdma_destroy_adapter(a);
	wdmdma_mdl_free(mdl);
}

/*
 * A block of 2^order pages at or above 2^28, order between @min_order
 * and IOMMU_BLOCK_ORDER (*order is set), or NULL. The allocator tends to
 * hand out low memory first: 2 MiB blocks get past it quickly, then
 * @min_order blocks are tried. Blocks tried on the way are freed.
 */
static struct page *iommu_high_block(unsigned int min_order,
				     unsigned int *order)
{
	const unsigned int orders[] = { IOMMU_BLOCK_ORDER, min_order };

	return wdmdma_test_high_block(IOMMU_HIGH, orders, ARRAY_SIZE(orders),
				      IOMMU_TRIES, U64_MAX, order);
}

/*
 * The device is in the IOMMU state the boot is meant to have: no domain;
 * an identity domain (iommu=pt); a translating DMA-API domain. Every
 * other case relies on it.
 */
static void iommu_test_state(struct kunit *test)
{
	struct iommu_edu *edu = iommu_get_edu(test);
	struct device *dev = &edu->pdev->dev;
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev);

	kunit_info(test, "expect=%s, domain type %#x\n",
		   iommu_state_names[edu->state], dom ? dom->type : 0);
	switch (edu->state) {
	case IOMMU_NONE:
		KUNIT_EXPECT_NULL(test, dom);
		KUNIT_EXPECT_FALSE(test, device_iommu_mapped(dev));
		break;
	case IOMMU_IDENTITY:
		KUNIT_ASSERT_NOT_NULL(test, dom);
		KUNIT_EXPECT_EQ(test, dom->type, IOMMU_DOMAIN_IDENTITY);
		KUNIT_EXPECT_TRUE(test, device_iommu_mapped(dev));
		break;
	case IOMMU_TRANSLATE:
		KUNIT_ASSERT_NOT_NULL(test, dom);
		KUNIT_EXPECT_TRUE(test, iommu_is_dma_domain(dom));
		KUNIT_EXPECT_TRUE(test, dom->type & __IOMMU_DOMAIN_PAGING);
		KUNIT_EXPECT_TRUE(test, device_iommu_mapped(dev));
		break;
	}
	/* The edu device's own view of the state: a coherent buffer. */
	KUNIT_EXPECT_LE(test, edu->coh_dma + SZ_4K - 1, IOMMU_LIMIT);
	if (edu->state != IOMMU_TRANSLATE)
		KUNIT_EXPECT_EQ(test, (u64)edu->coh_dma,
				(u64)virt_to_phys(edu->coh));
}

/*
 * One-element adapter, a buffer of pages in descending physical order
 * (never contiguous). Behind a translating IOMMU it is one IOVA range:
 * one element, no map registers, no copy (issue 9, item 9). Without one
 * (or with an identity domain) it must be bounced into one element below
 * 2^28, through map registers the device reaches.
 */
static void iommu_test_one_element_discontiguous(struct kunit *test)
{
	struct iommu_edu *edu = iommu_get_edu(test);
	struct wdmdma_test_vbuf vb;
	struct iommu_xfer x = {
		.size = 3 * PAGE_SIZE,
		.off = 100,
		.len = 3 * PAGE_SIZE - 300,
	};

	x.va = wdmdma_test_vbuf_alloc(&vb, 3);
	KUNIT_ASSERT_NOT_NULL(test, x.va);
	if (iommu_bounces(edu))
		x.regs = DIV_ROUND_UP(x.len, PAGE_SIZE);
	iommu_check_xfer(test, &x);
	wdmdma_test_vbuf_free(&vb);
}

/*
 * vmap @nr pages (the first @nr_low from GFP_DMA, the rest contiguous
 * pages at or above 2^28) into @pages/@va; the high block is returned in
 * *@high / *@order for the caller to free.
 */
static void *iommu_map_pages(struct kunit *test, struct page **pages,
			     unsigned int nr_low, unsigned int nr,
			     struct page **high, unsigned int *order)
{
	unsigned int i;
	void *va;

	*high = iommu_high_block(ilog2(roundup_pow_of_two(nr - nr_low)),
				 order);
	KUNIT_ASSERT_NOT_NULL_MSG(test, *high,
				  "no memory above 256 MiB (the guest needs 512 MiB)");
	for (i = 0; i < nr_low; i++) {
		pages[i] = alloc_page(GFP_KERNEL | GFP_DMA);
		if (!pages[i])
			goto fail;
	}
	for (i = nr_low; i < nr; i++)
		pages[i] = wdmdma_nth_page(*high, i - nr_low);
	va = vmap(pages, nr, VM_MAP, PAGE_KERNEL);
	if (va)
		return va;
fail:
	while (i-- > 0)
		if (i < nr_low)
			__free_page(pages[i]);
	__free_pages(*high, *order);
	KUNIT_ASSERT_TRUE_MSG(test, false, "out of memory");
	return NULL;
}

static void iommu_unmap_pages(void *va, struct page **pages,
			      unsigned int nr_low, struct page *high,
			      unsigned int order)
{
	unsigned int i;

	vunmap(va);
	for (i = 0; i < nr_low; i++)
		__free_page(pages[i]);
	__free_pages(high, order);
}

/*
 * Scatter/gather adapter, a low page then two pages above 2^28 (issue 9,
 * item 7). No IOMMU, or an identity domain: the low page is mapped in
 * place and only the two high pages use map registers, below 2^28.
 * Translating: IOVAs below 2^28, nothing bounced.
 */
static void iommu_test_sg_high(struct kunit *test)
{
	struct iommu_edu *edu = iommu_get_edu(test);
	struct page *pages[3], *high;
	unsigned int order;
	struct iommu_xfer x = {
		.size = 3 * PAGE_SIZE,
		.off = 512,
		.len = 3 * PAGE_SIZE - 1024,
		.sg = true,
	};

	x.va = iommu_map_pages(test, pages, 1, 3, &high, &order);
	if (iommu_bounces(edu)) {
		x.regs = 2;
		x.in_place = true;
		x.in_place_bus = page_to_phys(pages[0]) + x.off;
	}
	iommu_check_xfer(test, &x);
	iommu_unmap_pages(x.va, pages, 1, high, order);
}

/*
 * One-element adapter, two physically contiguous pages above 2^28 (issue
 * 9, item 7). No IOMMU, or an identity domain: bounced below 2^28.
 * Translating: mapped in place at an IOVA below 2^28.
 */
static void iommu_test_one_element_high(struct kunit *test)
{
	struct iommu_edu *edu = iommu_get_edu(test);
	struct page *pages[2], *high;
	unsigned int order;
	struct iommu_xfer x = {
		.size = 2 * PAGE_SIZE,
		.off = 256,
		.len = 2 * PAGE_SIZE - 512,
	};

	x.va = iommu_map_pages(test, pages, 0, 2, &high, &order);
	if (iommu_bounces(edu))
		x.regs = DIV_ROUND_UP(x.len, PAGE_SIZE);
	iommu_check_xfer(test, &x);
	iommu_unmap_pages(x.va, pages, 0, high, order);
}

/*
 * Scatter/gather adapter, two pieces of two pages: the second half of one
 * page, then @off1 bytes into another, half a page. With @off1 == 0 they
 * meet on a page boundary: behind a translating IOMMU they are one IOVA
 * range (linked as one where the kernel has dma_iova_link(): the first
 * piece with its start pad, the second at an offset), one element. With
 * @off1 != 0 they cannot be one range (dma_iova_link() takes whole IOMMU
 * pages between pieces): the list falls back to the scatterlist path, two
 * elements, no IOVA range counted. Either way the device reads the pieces
 * in order and writes them back in place.
 */
static void iommu_two_pieces(struct kunit *test, unsigned int off1)
{
	struct iommu_edu *edu = iommu_get_edu(test);
	struct wdmdma_desc desc = {
		.scatter_gather = true,
		.dma_width = IOMMU_WIDTH,
		.max_transfer = IOMMU_MAX_XFER,
	};
	const unsigned int half = PAGE_SIZE / 2;
	bool translate = edu->state == IOMMU_TRANSLATE, contiguous;
	struct wdmdma_stats st0, st1;
	struct wdmdma_test_rec *rec;
	struct page *pg[2] = { NULL, NULL };
	struct bio_vec bv[2];
	struct wdmdma_adapter *a = NULL;
	struct wdmdma_mdl *mdl = NULL;
	unsigned int want_elements;
	u8 *seen, *pattern;
	int ret, i;

	rec = wdmdma_test_recs(test, 1, NULL);
	seen = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	pattern = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	for (i = 0; i < 2; i++) {
		pg[i] = alloc_page(GFP_KERNEL | GFP_DMA);
		if (!pg[i])
			goto out;
		wdmdma_test_fill(page_address(pg[i]), PAGE_SIZE, 0x21 + i);
	}
	bvec_set_page(&bv[0], pg[0], half, half);
	bvec_set_page(&bv[1], pg[1], half, off1);
	contiguous = !off1 &&
		     page_to_phys(pg[1]) == page_to_phys(pg[0]) + PAGE_SIZE;
	/* Without translation only physically adjacent pieces join. */
	want_elements = (translate ? !off1 : contiguous) ? 1 : 2;
	mdl = wdmdma_mdl_from_bvecs(bv, 2, GFP_KERNEL);
	if (!mdl)
		goto out;
	a = wdmdma_create_adapter(&edu->pdev->dev, &desc, NULL);
	if (IS_ERR_OR_NULL(a)) {
		KUNIT_FAIL(test, "adapter creation failed: %ld", PTR_ERR(a));
		a = NULL;
		goto out;
	}

	st0 = wdmdma_test_stats(a);
	wdmdma_test_rec_init(rec, NULL);
	ret = wdmdma_get_sg_list(a, mdl, wdmdma_mdl_va(mdl), PAGE_SIZE,
				 wdmdma_test_rec_cb, rec, true);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
	if (ret || wdmdma_test_rec_calls(rec) != 1 || !rec->sgl)
		goto out;
	st1 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st1.iova,
			st0.iova + (IOMMU_HAVE_IOVA && translate && !off1));
	KUNIT_EXPECT_EQ(test, rec->sgl->nr_elements, want_elements);
	KUNIT_EXPECT_EQ(test, st1.map_regs_in_use, 0);
	KUNIT_EXPECT_EQ(test, iommu_edu_read(edu, rec->sgl, seen, PAGE_SIZE),
			0);
	KUNIT_EXPECT_EQ(test, memcmp(seen, page_address(pg[0]) + half, half),
			0);
	KUNIT_EXPECT_EQ(test, memcmp(seen + half,
				     page_address(pg[1]) + off1, half), 0);
	wdmdma_put_sg_list(a, rec->sgl, true);

	wdmdma_test_rec_init(rec, NULL);
	ret = wdmdma_get_sg_list(a, mdl, wdmdma_mdl_va(mdl), PAGE_SIZE,
				 wdmdma_test_rec_cb, rec, false);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
	if (ret || wdmdma_test_rec_calls(rec) != 1 || !rec->sgl)
		goto out;
	wdmdma_test_fill(pattern, PAGE_SIZE, 0x64);
	KUNIT_EXPECT_EQ(test, iommu_edu_write(edu, rec->sgl, pattern,
					      PAGE_SIZE), 0);
	wdmdma_put_sg_list(a, rec->sgl, false);
	KUNIT_EXPECT_EQ(test, memcmp(page_address(pg[0]) + half, pattern,
				     half), 0);
	KUNIT_EXPECT_EQ(test, memcmp(page_address(pg[1]) + off1,
				     pattern + half, half), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).outstanding, 0);
out:
	if (a)
		wdmdma_destroy_adapter(a);
	if (mdl)
		wdmdma_mdl_free(mdl);
	for (i = 0; i < 2; i++)
		if (pg[i])
			__free_page(pg[i]);
	KUNIT_EXPECT_NOT_NULL(test, mdl);
}

static void iommu_test_sg_pieces_joined(struct kunit *test)
{
	iommu_two_pieces(test, 0);
}

static void iommu_test_sg_pieces_unaligned(struct kunit *test)
{
	iommu_two_pieces(test, PAGE_SIZE / 4);
}

/*
 * The value of expect=. 6.1 runs a module's suites while the module is
 * coming, before its parameters are parsed, so there the parameter is
 * looked up in the module's argument string (what insmod was given; see
 * wdmdma_module_args()); later kernels have parsed it by then.
 */
static int iommu_parse_expect(enum iommu_state *state)
{
	static const char key[] = "expect=";
	const char *args = wdmdma_module_args(THIS_MODULE), *p, *val = expect;
	char buf[16];
	size_t n;
	int i;

	for (p = args; p && (p = strstr(p, key)); p += sizeof(key) - 1) {
		if (p != args && !isspace(p[-1]))
			continue;
		val = p + sizeof(key) - 1;
		n = strcspn(val, " \t\n");
		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, val, n);
		buf[n] = '\0';
		val = buf;
	}
	i = sysfs_match_string(iommu_state_names, val);
	if (i < 0) {
		pr_err("expect=%s: want none, identity or translate\n", val);
		return -EINVAL;
	}
	*state = i;
	return 0;
}

/*
 * The device is used without binding a driver (see kunit/edu_test.c:
 * on 6.1 the suite runs before the module's kobject exists).
 */
static int iommu_suite_init(struct kunit_suite *suite)
{
	struct iommu_edu *edu;
	struct pci_dev *pdev;
	int ret;

	edu = kzalloc_obj(*edu, GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	ret = iommu_parse_expect(&edu->state);
	if (ret)
		goto free_edu;
	pdev = pci_get_device(0x1234, 0x11e8, NULL);
	if (!pdev) {
		pr_err("no edu device (1234:11e8) in this machine\n");
		ret = -ENODEV;
		goto free_edu;
	}
	edu->pdev = pdev;
	ret = pci_enable_device(pdev);
	if (ret)
		goto put_dev;
	edu->regs = pci_iomap(pdev, 0, 0);
	if (!edu->regs) {
		ret = -ENOMEM;
		goto disable_dev;
	}
	ret = dma_set_mask_and_coherent(&pdev->dev, IOMMU_LIMIT);
	if (ret)
		goto unmap;
	edu->coh = dma_alloc_coherent(&pdev->dev, SZ_4K, &edu->coh_dma,
				      GFP_KERNEL);
	if (!edu->coh) {
		ret = -ENOMEM;
		goto unmap;
	}
	pci_set_master(pdev);
	edu->old_iova = wdmdma_set_iova(true);
	iommu_edu = edu;
	return 0;

unmap:
	pci_iounmap(pdev, edu->regs);
disable_dev:
	pci_disable_device(pdev);
put_dev:
	pci_dev_put(pdev);
free_edu:
	kfree(edu);
	return ret;
}

static void iommu_suite_exit(struct kunit_suite *suite)
{
	struct iommu_edu *edu = iommu_edu;
	struct pci_dev *pdev;

	if (!edu)
		return;
	iommu_edu = NULL;
	wdmdma_set_iova(edu->old_iova);
	pdev = edu->pdev;
	pci_clear_master(pdev);
	dma_free_coherent(&pdev->dev, SZ_4K, edu->coh, edu->coh_dma);
	pci_iounmap(pdev, edu->regs);
	pci_disable_device(pdev);
	pci_dev_put(pdev);
	kfree(edu);
}

static struct kunit_case iommu_test_cases[] = {
	KUNIT_CASE(iommu_test_state),
	KUNIT_CASE(iommu_test_one_element_discontiguous),
	KUNIT_CASE(iommu_test_sg_high),
	KUNIT_CASE(iommu_test_one_element_high),
	KUNIT_CASE(iommu_test_sg_pieces_joined),
	KUNIT_CASE(iommu_test_sg_pieces_unaligned),
	{ }
};

static struct kunit_suite iommu_test_suite = {
	.name = "wdmdma_iommu",
	.suite_init = iommu_suite_init,
	.suite_exit = iommu_suite_exit,
	.test_cases = iommu_test_cases,
};

kunit_test_suite(iommu_test_suite);

MODULE_DESCRIPTION("KUnit tests for wdmdma with no, an identity and a translating IOMMU");
MODULE_LICENSE("GPL");
