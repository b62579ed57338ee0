// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma map registers: which pages a device cannot reach, the adapter's
 * own bounce memory for them, and the copies to and from it.
 *
 * A page needs a map register the way the DMA layer would bounce it: when
 * no translating IOMMU domain maps the device (an identity domain, as with
 * iommu=pt, counts as none) and its bus address is beyond the smaller of
 * the adapter's width, the device's DMA mask and its bus limit. Map
 * registers are contiguous chunks the device reaches, preallocated at
 * creation, so a transfer within the adapter's limits never depends on
 * swiotlb.
 *
 * Locking: wdmdma_regs_alloc() and wdmdma_regs_free() need adapter->lock
 * (the bitmap and its statistics); the rest runs at creation or on a list
 * its caller owns.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/cache.h>
#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/slab.h>

#include "internal.h"
#include "wdmdma_trace.h"

/**
 * wdmdma_translated() - is @dev behind an IOMMU domain that translates?
 * @dev: the device
 *
 * True for a DMA-API domain: any page can then be given a bus address
 * the device reaches. False without an IOMMU and for an identity domain,
 * where bus addresses are physical and the device's width matters.
 *
 * Return: true if a translating domain maps @dev.
 */
bool wdmdma_translated(struct device *dev)
{
	struct iommu_domain *domain;

	if (!device_iommu_mapped(dev))
		return false;
	domain = iommu_get_domain_for_dev(dev);
	/* The DMA API maps through DMA domains only (not identity, VFIO's). */
	return domain && (domain->type & __IOMMU_DOMAIN_DMA_API);
}

/*
 * Highest bus address the device takes without the DMA layer bouncing.
 * Worked out once, at creation (after the device's mask is settled), so
 * that planning, mapping and the copy back at Put always agree.
 */
static u64 wdmdma_compute_reach(const struct wdmdma_adapter *adapter)
{
	struct device *dev = adapter->dev;
	u64 reach = adapter->limit;

	if (adapter->translated)
		return U64_MAX;
	if (dev->dma_mask)
		reach = min(reach, *dev->dma_mask);
	if (dev->bus_dma_limit)
		reach = min(reach, dev->bus_dma_limit);
	return reach;
}

u64 wdmdma_reach(const struct wdmdma_adapter *adapter)
{
	return adapter->reach;
}

/* Can the device reach @len bytes at @off of @page, below @reach? */
bool wdmdma_reachable(const struct wdmdma_adapter *adapter, u64 reach,
		      struct page *page, unsigned int off, unsigned int len)
{
	if (reach == U64_MAX)
		return true;
	return phys_to_dma(adapter->dev, page_to_phys(page) + off) + len - 1 <=
	       reach;
}

/* Would the device need map registers for some page of memory? */
static bool wdmdma_regs_needed(struct wdmdma_adapter *adapter)
{
	if (!adapter->desc.scatter_gather)
		return true;	/* discontiguous buffers are copied */
	return wdmdma_reach(adapter) < dma_get_required_mask(adapter->dev);
}

/* A chunk of @size bytes the device reaches, from the first zone that has one. */
static void *wdmdma_chunk_alloc(struct wdmdma_adapter *adapter, size_t size)
{
	static const gfp_t zones[] = { 0, GFP_DMA32, GFP_DMA };
	u64 reach = adapter->reach;
	unsigned int z;

	for (z = 0; z < ARRAY_SIZE(zones); z++) {
		void *va;

		/* Any page will do only if the device reaches all of memory. */
		if (!zones[z] && reach < dma_get_required_mask(adapter->dev))
			continue;
		if (wdmdma_create_alloc_should_fail())
			return NULL;
		va = alloc_pages_exact(size, GFP_KERNEL | zones[z] | __GFP_NOWARN);
		if (!va)
			continue;
		if (phys_to_dma(adapter->dev, virt_to_phys(va)) + size - 1 <= reach)
			return va;
		free_pages_exact(va, size);
	}
	return NULL;
}

/**
 * wdmdma_regs_init() - preallocate an adapter's map registers
 * @adapter: the adapter, its description, limits and translation known
 *
 * Works out the adapter's reach first (see wdmdma_compute_reach()), then
 * allocates desc.nr_reserve chunks, each contiguous and long enough for a
 * maximum transfer, from the first zone whose memory the device reaches
 * (normal memory if it reaches all of it, else DMA32, else DMA). On
 * failure the chunks allocated so far stay recorded for
 * wdmdma_regs_exit().
 *
 * Return: 0; -EINVAL if a one-element device's chunk could cross its
 * segment boundary; -ENOMEM.
 */
int wdmdma_regs_init(struct wdmdma_adapter *adapter)
{
	unsigned int c, nr = adapter->desc.nr_reserve;
	size_t size;

	adapter->reach = wdmdma_compute_reach(adapter);
	if (!wdmdma_regs_needed(adapter))
		return 0;

	/*
	 * A one-element device copies a transfer to one run; a scatter/gather
	 * one gives each bounced piece a place of its own (see
	 * wdmdma_reg_place()): at most one page per page spanned, plus the
	 * alignment.
	 */
	if (adapter->desc.scatter_gather)
		adapter->chunk_pages = adapter->max_regs +
			DIV_ROUND_UP(adapter->max_regs * WDMDMA_BOUNCE_ALIGN,
				     PAGE_SIZE);
	else
		adapter->chunk_pages = DIV_ROUND_UP(adapter->desc.max_transfer,
						    PAGE_SIZE);
	size = (size_t)adapter->chunk_pages * PAGE_SIZE;
	/* A chunk is aligned to its power-of-two size: a boundary may cut it. */
	adapter->pad_regs = adapter->seg_boundary < roundup_pow_of_two(size) - 1;
	if (adapter->pad_regs && !adapter->desc.scatter_gather) {
		dev_err(adapter->dev,
			"map registers: a %zu-byte run could cross the device's segment boundary %#lx\n",
			size, adapter->seg_boundary);
		return -EINVAL;
	}

	if (wdmdma_create_alloc_should_fail())
		return -ENOMEM;
	adapter->chunk = kcalloc(nr, sizeof(void *), GFP_KERNEL);
	if (!adapter->chunk)
		return -ENOMEM;
	if (wdmdma_create_alloc_should_fail())
		return -ENOMEM;
	adapter->reg_map = bitmap_zalloc(nr * adapter->chunk_pages, GFP_KERNEL);
	if (!adapter->reg_map)
		return -ENOMEM;

	for (c = 0; c < nr; c++) {
		void *va = wdmdma_chunk_alloc(adapter, size);

		if (!va) {
			dev_err(adapter->dev,
				"cannot allocate %zu contiguous bytes of map registers below %#llx\n",
				size, adapter->reach);
			return -ENOMEM;
		}
		adapter->chunk[c] = va;
		adapter->nr_chunks = c + 1;
	}
	adapter->stats.map_regs_total = (u64)nr * adapter->chunk_pages;
	return 0;
}

/**
 * wdmdma_reg_place() - where a bounced piece goes in a list's registers
 * @adapter: the adapter
 * @req: the request
 * @pos: the end of the pieces placed so far (bytes from the first register)
 * @len: the piece's length (never more than a page)
 *
 * A one-element copy is one run. For a scatter/gather list each bounced
 * piece starts on a cache line of its own, so that no two entries of the
 * list share one (the DMA layer may sync each separately); where the
 * device's segment boundary could fall inside a chunk, a piece that would
 * straddle a page starts on the next one. Planning, mapping and the copy
 * back all place pieces through here.
 *
 * Return: the piece's offset.
 */
size_t wdmdma_reg_place(const struct wdmdma_adapter *adapter,
			const struct wdmdma_req *req, size_t pos,
			unsigned int len)
{
	if (req->bounce_all)
		return pos;
	pos = ALIGN(pos, WDMDMA_BOUNCE_ALIGN);
	if (adapter->pad_regs && offset_in_page(pos) + len > PAGE_SIZE)
		return ALIGN(pos, PAGE_SIZE);
	return pos;
}

/* Free what wdmdma_regs_init() allocated, however far it got. */
void wdmdma_regs_exit(struct wdmdma_adapter *adapter)
{
	unsigned int c;

	for (c = 0; c < adapter->nr_chunks; c++)
		free_pages_exact(adapter->chunk[c],
				 (size_t)adapter->chunk_pages * PAGE_SIZE);
	adapter->nr_chunks = 0;
	kfree(adapter->chunk);
	adapter->chunk = NULL;
	bitmap_free(adapter->reg_map);
	adapter->reg_map = NULL;
}

/* Take @nr contiguous map registers of one chunk; false if none free. */
bool wdmdma_regs_alloc(struct wdmdma_adapter *adapter, unsigned int nr,
		       unsigned int *base)
{
	unsigned int c, start, end, pos;

	lockdep_assert_held(&adapter->lock);
	*base = 0;
	if (!nr)
		return true;
	for (c = 0; c < adapter->nr_chunks; c++) {
		start = c * adapter->chunk_pages;
		end = start + adapter->chunk_pages;
		pos = bitmap_find_next_zero_area(adapter->reg_map, end, start,
						 nr, 0);
		if (pos + nr <= end) {
			bitmap_set(adapter->reg_map, pos, nr);
			*base = pos;
			adapter->stats.map_regs_in_use += nr;
			adapter->stats.map_regs_high =
				max(adapter->stats.map_regs_high,
				    adapter->stats.map_regs_in_use);
			trace_wdmdma_regs_take(adapter, pos, nr);
			return true;
		}
	}
	return false;
}

void wdmdma_regs_free(struct wdmdma_adapter *adapter, unsigned int base,
		      unsigned int nr)
{
	lockdep_assert_held(&adapter->lock);
	if (!nr)
		return;
	bitmap_clear(adapter->reg_map, base, nr);
	adapter->stats.map_regs_in_use -= nr;
	trace_wdmdma_regs_release(adapter, base, nr);
}

void *wdmdma_reg_addr(struct wdmdma_adapter *adapter, unsigned int reg)
{
	return adapter->chunk[reg / adapter->chunk_pages] +
	       (size_t)(reg % adapter->chunk_pages) * PAGE_SIZE;
}

/*
 * Copy @len bytes between the buffer at @off in @page and map registers
 * at @regs: to the registers if @to_regs, else from them.
 */
void wdmdma_copy_piece(struct page *page, unsigned int off, void *regs,
		       unsigned int len, bool to_regs)
{
	void *buf = kmap_local_page(page);

	if (to_regs)
		memcpy(regs, buf + off, len);
	else
		memcpy(buf + off, regs, len);
	kunmap_local(buf);
}

/* Copy between the MDL range and the list's map registers, in order. */
void wdmdma_bounce_copy(struct wdmdma_xfer *xfer, bool to_regs)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_req *req = &xfer->req;
	u64 reach = wdmdma_reach(adapter);
	unsigned int off, len;
	struct wdmdma_iter it;
	struct page *page;
	size_t pos = 0;

	if (wdmdma_iter_init(&it, req->mdl, req->offset, req->length))
		return;
	while (wdmdma_iter_next(&it, &page, &off, &len)) {
		void *regs;

		if (!req->bounce_all &&
		    wdmdma_reachable(adapter, reach, page, off, len))
			continue;
		pos = wdmdma_reg_place(adapter, req, pos, len);
		regs = wdmdma_reg_addr(adapter, xfer->reg_base) + pos;
		wdmdma_copy_piece(page, off, regs, len, to_regs);
		pos += len;
	}
}
