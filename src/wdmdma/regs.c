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
#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/slab.h>

#include "internal.h"

/**
 * wdmdma_translated() - is @dev behind an IOMMU domain that translates?
 * @dev: the device
 *
 * True for a paging (DMA) domain: any page can then be given a bus address
 * the device reaches. False without an IOMMU and for an identity domain,
 * where bus addresses are physical and the device's width matters.
 */
bool wdmdma_translated(struct device *dev)
{
	struct iommu_domain *domain;

	if (!device_iommu_mapped(dev))
		return false;
	domain = iommu_get_domain_for_dev(dev);
	return domain && (domain->type & __IOMMU_DOMAIN_PAGING);
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

/**
 * wdmdma_regs_init() - preallocate an adapter's map registers
 * @adapter: the adapter, its description, limits and translation known
 *
 * Works out the adapter's reach first (see wdmdma_compute_reach()), then
 * allocates desc.nr_reserve chunks, each one maximum transfer long and contiguous,
 * from a zone below the device's reach. On failure the chunks allocated so
 * far stay recorded for wdmdma_regs_exit().
 *
 * Return: 0 or -ENOMEM.
 */
int wdmdma_regs_init(struct wdmdma_adapter *adapter)
{
	u64 reach;
	size_t size;
	gfp_t gfp = GFP_KERNEL;
	unsigned int c, nr;

	adapter->reach = wdmdma_compute_reach(adapter);
	reach = adapter->reach;
	if (!wdmdma_regs_needed(adapter))
		return 0;

	if (reach < DMA_BIT_MASK(32))
		gfp |= GFP_DMA;
	else if (reach < DMA_BIT_MASK(64))
		gfp |= GFP_DMA32;
	nr = adapter->desc.nr_reserve;
	adapter->chunk_pages = DIV_ROUND_UP(adapter->desc.max_transfer, PAGE_SIZE);
	size = (size_t)adapter->chunk_pages * PAGE_SIZE;
	if (adapter->seg_boundary < roundup_pow_of_two(size) - 1) {
		dev_err(adapter->dev,
			"map registers: a %zu-byte chunk could cross the device's segment boundary %#lx\n",
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
		void *va = NULL;
		dma_addr_t bus;

		if (!wdmdma_create_alloc_should_fail())
			va = alloc_pages_exact(size, gfp | __GFP_NOWARN);
		if (!va) {
			dev_err(adapter->dev,
				"cannot allocate %zu contiguous bytes of map registers below %#llx\n",
				size, reach);
			return -ENOMEM;
		}
		adapter->chunk[c] = va;
		adapter->nr_chunks = c + 1;
		bus = phys_to_dma(adapter->dev, virt_to_phys(va));
		if (bus + size - 1 > reach) {
			dev_err(adapter->dev,
				"map registers at %pad are beyond the device's reach %#llx\n",
				&bus, reach);
			return -ENOMEM;
		}
	}
	adapter->stats.map_regs_total = (u64)nr * adapter->chunk_pages;
	return 0;
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
}

void *wdmdma_reg_addr(struct wdmdma_adapter *adapter, unsigned int reg)
{
	return adapter->chunk[reg / adapter->chunk_pages] +
	       (size_t)(reg % adapter->chunk_pages) * PAGE_SIZE;
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
		void *regs, *buf;

		if (!req->bounce_all &&
		    wdmdma_reachable(adapter, reach, page, off, len))
			continue;
		regs = wdmdma_reg_addr(adapter, xfer->reg_base) + pos;
		buf = kmap_local_page(page);
		if (to_regs)
			memcpy(regs, buf + off, len);
		else
			memcpy(buf + off, regs, len);
		kunmap_local(buf);
		pos += len;
	}
}
