// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma common buffers (AllocateCommonBuffer and its Ex and WithBounds
 * forms): memory the CPU and the device share, at the adapter's own DMA
 * width.
 *
 * The width. An adapter's width may be narrower than the device's
 * coherent mask (which is the driver's: wdmdma never changes it), and two
 * adapters of different widths may share one device. Narrowing the
 * coherent mask around an allocation would race every other allocation
 * for the device (the mask is read without a lock by the DMA layer), so
 * it is never touched. Instead:
 *  1. dma_alloc_attrs() with the device's own coherent mask; the bus
 *     address it gives is checked against the adapter's width (and the
 *     caller's bounds). It fits whenever the coherent mask is no wider
 *     than the adapter, and often otherwise.
 *  2. If it does not fit, and the device is DMA-coherent (always on x86):
 *     pages from the zones that can reach the width (normal, then DMA32,
 *     then DMA), checked, and mapped with a streaming mapping for both
 *     directions. Coherence needs no cache maintenance then, so the
 *     mapping is as good as coherent memory. Without a translating IOMMU
 *     the mapping must be the pages' own bus address (swiotlb bouncing it,
 *     as for memory encryption, would break sharing): checked. Behind a
 *     translating IOMMU the IOVA comes from below the streaming mask,
 *     which is the narrowest adapter's width there (adapter.c): checked
 *     too.
 * A device that is not DMA-coherent gets only step 1.
 *
 * What Linux cannot honour:
 *  - CacheEnabled / MEMORY_CACHING_TYPE: coherent memory is what the
 *    architecture makes it. On x86, and for every DMA-coherent device, it
 *    is cached and the device snoops (Windows does the same and ignores
 *    CacheEnabled there). On a non-coherent device it is uncached or
 *    write-combined; cached memory there (dma_alloc_noncoherent()) would
 *    need cache maintenance at every transfer, which a Windows driver does
 *    not ask for (KeFlushIoBuffers is a no-op).
 *  - A minimum address: the page allocator takes no lower bound. The
 *    result is checked against it, and the allocation fails if it is
 *    below (a bound in the DMA or DMA32 zone's range usually is met by
 *    normal memory).
 *  - The preferred NUMA node: the DMA layer allocates on the device's
 *    node.
 *
 * Each buffer has a record in an xarray keyed by its page, so that Free,
 * which gets only what Windows passes (length, addresses), knows how it
 * was allocated and can refuse what does not match. Each record holds a
 * reference on the adapter.
 *
 * Locking: the xarray's own lock guards the records; a record is taken
 * out under it before its buffer is freed, so a double free finds none.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "internal.h"

/* One common buffer. */
struct wdmdma_common {
	struct wdmdma_adapter *adapter;
	void *vaddr;
	dma_addr_t dma;
	size_t size;
	bool streaming;		/* own pages and a streaming mapping */
};

static DEFINE_XARRAY(wdmdma_commons);

static unsigned long wdmdma_common_key(const void *vaddr)
{
	return (unsigned long)vaddr >> PAGE_SHIFT;
}

/* Does [@dma, @dma + @size) lie within [@min_addr, @max_addr]? */
static bool wdmdma_common_fits(dma_addr_t dma, size_t size, u64 min_addr,
			       u64 max_addr)
{
	u64 last = (u64)dma + size - 1;

	return dma >= min_addr && last >= dma && last <= max_addr;
}

/*
 * Does the device reach @va's own pages at @addr (no swiotlb copy between
 * them, which would break sharing)? Behind a translating IOMMU the domain
 * says where @addr leads.
 */
static bool wdmdma_common_unbounced(struct wdmdma_adapter *adapter,
				    dma_addr_t addr, void *va)
{
	struct device *dev = adapter->dev;
	struct iommu_domain *dom;

	if (!adapter->translated)
		return addr == phys_to_dma(dev, virt_to_phys(va));
	dom = iommu_get_domain_for_dev(dev);
	return dom && iommu_iova_to_phys(dom, addr) == virt_to_phys(va);
}

/*
 * Step 2 (see the top): pages from the zones that can reach @max_addr,
 * mapped for both directions. Return the address, or NULL.
 */
static void *wdmdma_common_streaming(struct wdmdma_adapter *adapter,
				     size_t size, u64 min_addr, u64 max_addr,
				     dma_addr_t *dma, gfp_t gfp)
{
	static const gfp_t zones[] = { 0, GFP_DMA32, GFP_DMA };
	struct device *dev = adapter->dev;
	unsigned int z;

	if (!dev_is_dma_coherent(dev))
		return NULL;
	for (z = 0; z < ARRAY_SIZE(zones); z++) {
		void *va;
		dma_addr_t addr;

		/* Behind a translating IOMMU any page will do. */
		if (adapter->translated && zones[z])
			break;
		va = alloc_pages_exact(size, gfp | zones[z] | __GFP_ZERO |
				       __GFP_NOWARN);
		if (!va)
			continue;
		if (!adapter->translated &&
		    !wdmdma_common_fits(phys_to_dma(dev, virt_to_phys(va)), size,
					min_addr, max_addr)) {
			free_pages_exact(va, size);
			continue;
		}
		/* Whole pages: an IOMMU may bounce a partial one (untrusted). */
		addr = dma_map_single(dev, va, PAGE_ALIGN(size),
				      DMA_BIDIRECTIONAL);
		if (dma_mapping_error(dev, addr)) {
			free_pages_exact(va, size);
			continue;
		}
		if (wdmdma_common_fits(addr, size, min_addr, max_addr) &&
		    wdmdma_common_unbounced(adapter, addr, va)) {
			*dma = addr;
			return va;
		}
		dma_unmap_single_attrs(dev, addr, PAGE_ALIGN(size),
				       DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
		free_pages_exact(va, size);
	}
	return NULL;
}

static void wdmdma_common_release(struct wdmdma_common *c)
{
	struct device *dev = c->adapter->dev;

	if (c->streaming) {
		dma_unmap_single_attrs(dev, c->dma, PAGE_ALIGN(c->size),
				       DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
		free_pages_exact(c->vaddr, c->size);
	} else {
		dma_free_attrs(dev, c->size, c->vaddr, c->dma, 0);
	}
}

/**
 * wdmdma_alloc_common_buffer_bounds() - allocate a common buffer within
 *	bounds (AllocateCommonBufferWithBounds, AllocateCommonBufferEx)
 * @adapter: the adapter; the buffer is within its DMA width
 * @size: bytes, at least 1; whole pages are allocated
 * @min_addr: lowest bus address the buffer may start at (0: none)
 * @max_addr: highest bus address the buffer may reach (U64_MAX: none; the
 *	adapter's width bounds it anyway)
 * @dma_handle: receives the buffer's bus address, for the device
 * @gfp: GFP_KERNEL or another flag set that may sleep (as on Windows,
 *	where the routine is for PASSIVE_LEVEL only)
 *
 * Physically (or, behind an IOMMU, bus-) contiguous, page-aligned, zeroed
 * memory the CPU and the device share without cache maintenance, from
 * dma_alloc_attrs() when what it gives fits the adapter's width and the
 * bounds, else (DMA-coherent devices) from pages of a zone that reaches
 * them with a streaming mapping. The device's DMA masks are left alone,
 * so adapters of different widths on one device each get memory their
 * width reaches. See the top of this file for what Linux cannot
 * honour (a minimum address is only checked).
 *
 * Free with wdmdma_free_common_buffer(), before or after destroying the
 * adapter (the buffer keeps the adapter's memory alive).
 *
 * Context: process context; sleeps.
 * Return: the buffer's kernel address, or ERR_PTR(-EINVAL) for a NULL
 * adapter or @dma_handle, a zero @size, a @gfp that may not sleep, or
 * bounds that cannot hold @size below the adapter's width;
 * ERR_PTR(-ENOMEM) if no memory within them was found.
 */
void *wdmdma_alloc_common_buffer_bounds(struct wdmdma_adapter *adapter,
					size_t size, u64 min_addr,
					u64 max_addr, dma_addr_t *dma_handle,
					gfp_t gfp)
{
	struct wdmdma_common *c;
	struct device *dev;
	int ret;

	if (!adapter || !dma_handle || !size || size > SIZE_MAX - PAGE_SIZE) {
		pr_err("alloc_common_buffer: NULL adapter or handle, or a size of %zu\n",
		       size);
		return ERR_PTR(-EINVAL);
	}
	/* dma_free_attrs() of a misfit, and the record's lock, need it. */
	if (!gfpflags_allow_blocking(gfp)) {
		dev_err(adapter->dev,
			"common buffers are allocated in process context (a gfp that may sleep), as on Windows at PASSIVE_LEVEL\n");
		return ERR_PTR(-EINVAL);
	}
	might_sleep();
	dev = adapter->dev;
	max_addr = min(max_addr, adapter->limit);
	if (min_addr > max_addr || max_addr - min_addr < size - 1) {
		dev_err(dev,
			"common buffer of %zu bytes cannot fit in bus addresses %#llx..%#llx (adapter %u bits)\n",
			size, min_addr, max_addr, adapter->desc.dma_width);
		return ERR_PTR(-EINVAL);
	}
	c = kzalloc_obj(*c, gfp);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->adapter = adapter;
	c->size = size;

	c->vaddr = dma_alloc_attrs(dev, size, &c->dma, gfp | __GFP_NOWARN, 0);
	if (c->vaddr && !wdmdma_common_fits(c->dma, size, min_addr, max_addr)) {
		dma_free_attrs(dev, size, c->vaddr, c->dma, 0);
		c->vaddr = NULL;
	}
	if (!c->vaddr) {
		c->vaddr = wdmdma_common_streaming(adapter, size, min_addr,
						   max_addr, &c->dma, gfp);
		c->streaming = true;
	}
	if (!c->vaddr) {
		dev_err(dev,
			"no common buffer of %zu bytes within bus addresses %#llx..%#llx%s\n",
			size, min_addr, max_addr,
			dev_is_dma_coherent(dev) ? "" :
			" (not DMA-coherent: only the device's coherent mask can be used)");
		kfree(c);
		return ERR_PTR(-ENOMEM);
	}
	/* The record holds a reference from the moment Free can find it. */
	kref_get(&adapter->ref);
	ret = xa_insert(&wdmdma_commons, wdmdma_common_key(c->vaddr), c, gfp);
	if (ret) {
		dev_err(dev, "common buffer of %zu bytes: no record (%d)\n",
			size, ret);
		wdmdma_common_release(c);
		kfree(c);
		wdmdma_adapter_put(adapter);
		return ERR_PTR(ret == -EBUSY ? -EINVAL : -ENOMEM);
	}
	*dma_handle = c->dma;
	return c->vaddr;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_alloc_common_buffer_bounds);

/**
 * wdmdma_alloc_common_buffer() - allocate a common buffer
 *	(AllocateCommonBuffer)
 * @adapter: the adapter; the buffer is within its DMA width
 * @size: bytes, at least 1
 * @dma_handle: receives the buffer's bus address
 * @gfp: GFP_KERNEL or another flag set that may sleep
 *
 * wdmdma_alloc_common_buffer_bounds() with no bounds but the adapter's
 * width.
 *
 * Context: process context; sleeps.
 * Return: the buffer's kernel address, or an ERR_PTR() as
 * wdmdma_alloc_common_buffer_bounds() says.
 */
void *wdmdma_alloc_common_buffer(struct wdmdma_adapter *adapter, size_t size,
				 dma_addr_t *dma_handle, gfp_t gfp)
{
	return wdmdma_alloc_common_buffer_bounds(adapter, size, 0, U64_MAX,
						 dma_handle, gfp);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_alloc_common_buffer);

/**
 * wdmdma_free_common_buffer() - free a common buffer (FreeCommonBuffer)
 * @adapter: the adapter it was allocated from
 * @size: the size it was allocated with
 * @vaddr: its kernel address
 * @dma_handle: its bus address
 *
 * A buffer that was not allocated (or is already freed), or whose
 * adapter, size or bus address differ from the allocation, is reported
 * and left alone. The last common buffer of a destroyed adapter frees the
 * adapter.
 *
 * Context: process context.
 * Return: 0, or -EINVAL if nothing was freed.
 */
int wdmdma_free_common_buffer(struct wdmdma_adapter *adapter, size_t size,
			      void *vaddr, dma_addr_t dma_handle)
{
	unsigned long key = wdmdma_common_key(vaddr);
	struct wdmdma_common *c;
	dma_addr_t had_dma;
	size_t had_size;

	might_sleep();
	xa_lock(&wdmdma_commons);
	c = xa_load(&wdmdma_commons, key);
	if (!c || c->vaddr != vaddr) {
		xa_unlock(&wdmdma_commons);
		pr_err("free_common_buffer: %p is not a common buffer (freed twice?)\n",
		       vaddr);
		return -EINVAL;
	}
	if (c->adapter != adapter || c->size != size || c->dma != dma_handle) {
		had_size = c->size;
		had_dma = c->dma;
		xa_unlock(&wdmdma_commons);
		pr_err("free_common_buffer: %p is %zu bytes at %pad of another adapter or size or address (given %zu bytes at %pad); not freed\n",
		       vaddr, had_size, &had_dma, size, &dma_handle);
		return -EINVAL;
	}
	__xa_erase(&wdmdma_commons, key);
	xa_unlock(&wdmdma_commons);

	wdmdma_common_release(c);
	kfree(c);
	wdmdma_adapter_put(adapter);
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_free_common_buffer);
