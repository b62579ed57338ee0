// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma mapping: sizing a list, walking an MDL chain, planning what a
 * request needs (pages spanned, map registers) and mapping it through the
 * DMA layer into the Windows-layout list.
 *
 * Locking: nothing here holds adapter->lock (verifier reports take it
 * briefly to count). wdmdma_xfer_map() and wdmdma_xfer_unmap() run on a
 * list that is claimed (queue.c), so no one else touches it.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-direct.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "internal.h"

/* --- Walking an MDL chain ----------------------------------------------- */

/*
 * wdmdma_iter_init() the long way: check every MDL of the chain (-EBADMSG
 * if a byte count is not the sum of its pieces: nothing could be trusted
 * then; -ERANGE if the chain ends before @offset + @len) and walk to
 * @offset.
 */
int wdmdma_iter_init_walk(struct wdmdma_iter *it,
			  const struct wdmdma_mdl *mdl, u64 offset, u64 len)
{
	const struct wdmdma_mdl *m;
	u64 avail = 0;
	unsigned int i;

	/* An MDL the wdmdma_mdl_*() functions keep: its sum is known. */
	if (!mdl->next && mdl->bytes == mdl->byte_count &&
	    mdl->nr_bvecs <= mdl->max_bvecs) {
		avail = mdl->byte_count;
		goto check;
	}
	for (m = mdl; m; m = m->next) {
		u64 sum = 0;

		if (m->nr_bvecs > m->max_bvecs)
			return -EBADMSG;
		for (i = 0; i < m->nr_bvecs; i++)
			sum += m->bvec[i].bv_len;
		if (sum != m->byte_count)
			return -EBADMSG;
		avail += sum;
	}
check:
	if (offset >= avail || len > avail - offset)
		return -ERANGE;

	it->left = len;
	for (m = mdl; m; m = m->next) {
		if (offset >= m->byte_count) {
			offset -= m->byte_count;
			continue;
		}
		for (i = 0; i < m->nr_bvecs; i++) {
			if (offset < m->bvec[i].bv_len) {
				it->mdl = m;
				it->idx = i;
				it->skip = offset;
				return 0;
			}
			offset -= m->bvec[i].bv_len;
		}
	}
	return -ERANGE;
}

/* --- Planning: what a request needs ------------------------------------- */

/**
 * wdmdma_plan() - check a request and work out what it needs
 * @adapter: the adapter
 * @req: mdl, offset, length and flags filled in
 *
 * Fills in req->span (pages touched: the Windows map registers), and
 * req->nr_regs and req->bounce_all (the map registers it will use).
 *
 * Return: 0, -EINVAL (zero length, range past the chain, malformed MDL),
 * -EMSGSIZE (longer than the maximum transfer), -ENOSPC (too many pages).
 */
int wdmdma_plan(struct wdmdma_adapter *adapter, struct wdmdma_req *req)
{
	bool contiguous = true, joinable = true, first = true, reachable = true;
	u64 bounce = 0, run_end = 0, run_start = 0, reach = wdmdma_reach(adapter);
	unsigned int off, len, span = 0, last_end = 0;
	struct wdmdma_iter it;
	struct page *page;
	int ret;

	if (!req->length) {
		wdmdma_verifier_report(adapter, "zero-length transfer\n");
		return -EINVAL;
	}
	if (req->length > adapter->desc.max_transfer)
		return -EMSGSIZE;
	req->bounce_all = false;	/* wdmdma_reg_place() reads it */
	ret = wdmdma_plan_quick(adapter, req);
	if (ret <= 0)
		return ret;
	ret = req->mdl ? wdmdma_iter_init(&it, req->mdl, req->offset,
					  req->length) : -ERANGE;
	if (ret == -EBADMSG) {
		wdmdma_verifier_report(adapter,
				       "MDL byte count differs from the sum of its pages\n");
		return -EINVAL;
	}
	if (ret) {
		wdmdma_verifier_report(adapter,
				       "range %llu+%u runs past the MDL chain\n",
				       req->offset, req->length);
		return -EINVAL;
	}

	while (wdmdma_iter_next(&it, &page, &off, &len)) {
		u64 phys = page_to_phys(page) + off;

		/* A new page starts unless this piece continues the last one. */
		if (first || off == 0 || phys != run_end)
			span++;
		if (!first && phys != run_end) {
			contiguous = false;
			/* An IOMMU joins runs that meet at page boundaries. */
			if (off || last_end != PAGE_SIZE)
				joinable = false;
			run_start = phys;
		} else if (first) {
			run_start = phys;
		}
		if (wdmdma_crosses(adapter, run_start, phys + len - 1))
			contiguous = false;
		if (!wdmdma_reachable(adapter, reach, page, off, len)) {
			reachable = false;
			bounce = wdmdma_reg_place(adapter, req, bounce, len) + len;
		}
		run_end = phys + len;
		last_end = off + len;
		first = false;
	}

	if (span > adapter->max_regs)
		return -ENOSPC;

	req->span = span;
	if (!adapter->desc.scatter_gather) {
		if ((contiguous && reachable) ||
		    (adapter->translated && joinable)) {
			/* One run, or one IOVA range: see wdmdma_xfer_map(). */
			bounce = 0;
		} else {
			req->bounce_all = true;
			bounce = req->length;
		}
	}
	req->nr_regs = DIV_ROUND_UP(bounce, PAGE_SIZE);
	if (req->nr_regs > adapter->chunk_pages) {
		dev_err_ratelimited(adapter->dev,
				    "transfer needs %u bounce pages, adapter has %u\n",
				    req->nr_regs, adapter->chunk_pages);
		return -ENOSPC;
	}
	return 0;
}

/* --- Sizing ------------------------------------------------------------- */

/*
 * The pages @length bytes at @offset of @mdl span (their map registers),
 * checked as Calculate checks them; with a NULL @mdl from @offset's page
 * offset alone. The long way, for what wdmdma_span_of() cannot size
 * without a walk.
 */
static noinline int wdmdma_span_walk(struct wdmdma_adapter *adapter,
				     const struct wdmdma_mdl *mdl, u64 offset,
				     u32 length, unsigned int *span)
{
	struct wdmdma_req req;
	int ret;

	if (!length) {
		wdmdma_verifier_report(adapter, "zero-length transfer\n");
		return -EINVAL;
	}
	if (length > adapter->desc.max_transfer)
		return -EMSGSIZE;
	if (!mdl) {
		*span = wdmdma_span_pages(offset_in_page(offset), length);
		return *span > adapter->max_regs ? -ENOSPC : 0;
	}
	memset(&req, 0, sizeof(req));
	req.mdl = (struct wdmdma_mdl *)mdl;
	req.offset = offset;
	req.length = length;
	ret = wdmdma_plan(adapter, &req);
	if (ret)
		return ret;
	*span = req.span;
	return 0;
}

/*
 * wdmdma_span_walk() with the common case inline: out of line, the walk's
 * request record is not cleared on every call (the kernel zeroes stack
 * variables).
 */
static __always_inline int wdmdma_span_of(struct wdmdma_adapter *adapter,
					  const struct wdmdma_mdl *mdl,
					  u64 offset, u32 length,
					  unsigned int *span)
{
	if (mdl && length && length <= adapter->desc.max_transfer &&
	    wdmdma_quick_span(mdl, offset, length, span))
		return *span > adapter->max_regs ? -ENOSPC : 0;
	return wdmdma_span_walk(adapter, mdl, offset, length, span);
}

/* --- Mapping ------------------------------------------------------------ */

/*
 * Where the device sees a piece of the range: a bounced piece (every piece
 * of a one-element bounce, else one beyond reach) is replaced by its place
 * in the list's map registers, @pos bytes of them used before it.
 */
static inline void wdmdma_dev_piece(struct wdmdma_xfer *xfer, u64 reach,
				    size_t *pos, struct page **page,
				    unsigned int *off, unsigned int len)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_req *req = &xfer->req;
	void *va;

	if (!req->nr_regs ||
	    (!req->bounce_all &&
	     wdmdma_reachable(adapter, reach, *page, *off, len)))
		return;
	*pos = wdmdma_reg_place(adapter, req, *pos, len);
	va = wdmdma_reg_addr(adapter, xfer->reg_base) + *pos;
	*page = virt_to_page(va);
	*off = offset_in_page(va);
	*pos += len;
}

/*
 * wdmdma_fill_sg() for a list that bounces nothing, from one MDL: piece
 * by piece of its bio_vecs rather than page by page. A piece that
 * continues the last entry and fits joins it; one that must be split
 * (longer than a run may be, across a segment boundary, or continuing an
 * entry it does not fit in whole), or a malformed MDL, returns false, and
 * the page-by-page walk does it all again.
 */
static bool wdmdma_fill_sg_quick(struct wdmdma_xfer *xfer)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_req *req = &xfer->req;
	const struct wdmdma_mdl *mdl = req->mdl;
	const struct bio_vec *bv = mdl->bvec, *end = bv + mdl->nr_bvecs;
	u32 max_run = adapter->max_run, left = req->length;
	u64 skip = req->offset, last_end = 0, seg_start = 0;
	struct scatterlist *sg = NULL;
	unsigned int n = 0;

	if (mdl->next || mdl->bytes != mdl->byte_count ||
	    mdl->nr_bvecs > mdl->max_bvecs)
		return false;
	for (; left; bv++) {
		unsigned int pos, len;
		struct page *page;
		u64 phys;

		if (bv == end)
			return false;
		if (skip >= bv->bv_len) {
			skip -= bv->bv_len;
			continue;
		}
		len = min_t(u64, left, bv->bv_len - skip);
		pos = bv->bv_offset + skip;
		page = wdmdma_nth_page(bv->bv_page, pos >> PAGE_SHIFT);
		phys = page_to_phys(page) + offset_in_page(pos);
		skip = 0;
		left -= len;
		if (sg && phys == last_end && sg->length + len <= max_run &&
		    !wdmdma_crosses(adapter, seg_start, phys + len - 1)) {
			sg->length += len;
		} else {
			/*
			 * A piece that continues the last entry, whose first
			 * page would still join it, tops it up in the walk
			 * before another entry starts: so must the list here,
			 * and the walk does it.
			 */
			if (sg && phys == last_end) {
				u32 first = min_t(u32, len,
						  PAGE_SIZE - offset_in_page(phys));

				if (sg->length + first <= max_run &&
				    !wdmdma_crosses(adapter, seg_start,
						    phys + first - 1))
					return false;
			}
			if (len > max_run || n >= xfer->max_ents ||
			    wdmdma_crosses(adapter, phys, phys + len - 1))
				return false;
			sg = &xfer->sg[n++];
			memset(sg, 0, sizeof(*sg));
			sg_set_page(sg, page, len, offset_in_page(pos));
			seg_start = phys;
		}
		last_end = phys + len;
	}
	sg_mark_end(sg);
	xfer->sgt.sgl = xfer->sg;
	xfer->sgt.orig_nents = n;
	xfer->sgt.nents = 0;
	return true;
}

/* Fill the scatterlist from the MDL range, bounced pieces replaced. */
static int wdmdma_fill_sg(struct wdmdma_xfer *xfer)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_req *req = &xfer->req;
	u64 reach, last_end = 0, seg_start = 0;
	struct scatterlist *sg = NULL;
	unsigned int off, len, n = 0;
	struct wdmdma_iter it __uninitialized;
	struct page *page;
	size_t pos = 0;

	if (!req->nr_regs && wdmdma_fill_sg_quick(xfer))
		return 0;
	reach = wdmdma_reach(adapter);
	if (wdmdma_iter_init(&it, req->mdl, req->offset, req->length))
		return -EINVAL;
	while (wdmdma_iter_next(&it, &page, &off, &len)) {
		u64 phys;

		wdmdma_dev_piece(xfer, reach, &pos, &page, &off, len);
		phys = page_to_phys(page) + off;
		if (sg && phys == last_end &&
		    sg->length + len <= adapter->max_run &&
		    !wdmdma_crosses(adapter, seg_start, phys + len - 1)) {
			sg->length += len;
		} else {
			if (WARN_ON_ONCE(n >= xfer->max_ents))
				return -EINVAL;
			/* Only the entries used are initialised. */
			sg = &xfer->sg[n];
			memset(sg, 0, sizeof(*sg));
			sg_set_page(sg, page, len, off);
			seg_start = phys;
			n++;
		}
		last_end = phys + len;
	}
	sg_mark_end(sg);
	xfer->sgt.sgl = xfer->sg;
	xfer->sgt.orig_nents = n;
	xfer->sgt.nents = 0;
	return 0;
}

/*
 * dma_map_sgtable() fails with -ENOMEM when mapping space (IOVA, swiotlb)
 * runs out: that passes. Anything else will not go away by waiting.
 */
static int wdmdma_map_sgt(struct wdmdma_xfer *xfer)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	int ret;

	ret = wdmdma_map_injected_error(adapter);
	if (!ret)
		ret = dma_map_sgtable(adapter->dev, &xfer->sgt,
				      wdmdma_req_dir(&xfer->req), 0);
	if (!ret)
		return 0;
	if (ret == -ENOMEM)
		return -ENOMEM;
	dev_err_ratelimited(adapter->dev,
			    "mapping %u entries failed: %d\n",
			    xfer->sgt.orig_nents, ret);
	return -EIO;
}

/* Map one physically contiguous run as element and run @n. */
static __always_inline int wdmdma_map_run(struct wdmdma_xfer *xfer,
					  struct wdmdma_run *runs,
					  unsigned int n, struct page *page,
					  unsigned int off, u32 len,
					  enum dma_data_direction dir)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_sg_element *el = &xfer->list.elements[n];
	dma_addr_t addr;

	if (WARN_ON_ONCE(n >= xfer->max_ents))
		return -EIO;
	addr = dma_map_page_attrs(adapter->dev, page, off, len, dir, 0);
	if (unlikely(dma_mapping_error(adapter->dev, addr))) {
		dev_err_ratelimited(adapter->dev,
				    "mapping %u bytes for element %u failed\n",
				    len, n);
		return -EIO;
	}
	if (unlikely(addr + len - 1 > adapter->limit || addr + len - 1 < addr)) {
		dev_err_ratelimited(adapter->dev,
				    "bus address %pad+%u is beyond the device's %u-bit reach\n",
				    &addr, len, adapter->desc.dma_width);
		dma_unmap_page_attrs(adapter->dev, addr, len, dir,
				     DMA_ATTR_SKIP_CPU_SYNC);
		return -EIO;
	}
	runs[n].addr = addr;
	runs[n].len = len;
	el->addr = addr;
	el->len = len;
	el->reserved = 0;
	return 0;
}

/*
 * Is the range of @req one piece of its MDL's first bio_vec (physically
 * contiguous) that the device takes as one element: no longer than a run
 * may be, crossing no segment boundary? Then *@page and *@off say where it
 * starts. Checks the MDL as wdmdma_iter_init() does.
 */
static __always_inline bool wdmdma_one_piece(const struct wdmdma_adapter *adapter,
					     const struct wdmdma_req *req,
					     struct page **page,
					     unsigned int *off)
{
	const struct wdmdma_mdl *mdl = req->mdl;
	const struct bio_vec *bv = &mdl->bvec[0];
	unsigned int pos;
	u64 phys;

	if (mdl->next || mdl->bytes != mdl->byte_count || !mdl->nr_bvecs ||
	    mdl->nr_bvecs > mdl->max_bvecs || req->offset >= bv->bv_len ||
	    req->length > bv->bv_len - req->offset ||
	    req->length > adapter->max_run)
		return false;
	pos = bv->bv_offset + req->offset;
	*page = wdmdma_nth_page(bv->bv_page, pos >> PAGE_SHIFT);
	*off = offset_in_page(pos);
	phys = page_to_phys(*page) + *off;
	return !wdmdma_crosses(adapter, phys, phys + req->length - 1);
}

/*
 * Without a translating IOMMU the DMA layer maps each run on its own
 * anyway: map the runs one by one straight into the Windows-layout list,
 * with no scatterlist and in one walk. Only for lists that bounce nothing.
 * Put unmaps from the list's private record of the runs, not from the
 * elements the driver sees.
 */
static int wdmdma_map_direct(struct wdmdma_xfer *xfer)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_req *req = &xfer->req;
	enum dma_data_direction dir = wdmdma_req_dir(req);
	struct wdmdma_run *runs = wdmdma_xfer_runs(xfer);
	struct page *page, *run_page = NULL;
	unsigned int off, len, run_off = 0, n = 0;
	u32 run_len = 0, max_run = adapter->max_run;
	u64 run_start = 0, run_end = 0;
	struct wdmdma_iter it __uninitialized;
	int ret;

	ret = wdmdma_map_injected_error(adapter);
	if (unlikely(ret)) {
		if (ret == -ENOMEM)
			return -ENOMEM;
		dev_err_ratelimited(adapter->dev, "mapping %u bytes failed: %d\n",
				    req->length, ret);
		return -EIO;
	}
	if (wdmdma_one_piece(adapter, req, &run_page, &run_off)) {
		/* One run: no walk (the usual block request of one page). */
		run_len = req->length;
		goto last;
	}
	if (wdmdma_iter_init(&it, req->mdl, req->offset, req->length))
		return -EIO;
	while (wdmdma_iter_next(&it, &page, &off, &len)) {
		u64 phys = page_to_phys(page) + off;

		if (run_len && phys == run_end && run_len + len <= max_run &&
		    !wdmdma_crosses(adapter, run_start, phys + len - 1)) {
			run_len += len;
			run_end += len;
			continue;
		}
		if (run_len) {
			ret = wdmdma_map_run(xfer, runs, n, run_page, run_off,
					     run_len, dir);
			if (ret)
				goto unwind;
			n++;
		}
		run_page = page;
		run_off = off;
		run_len = len;
		run_start = phys;
		run_end = phys + len;
	}
last:
	ret = wdmdma_map_run(xfer, runs, n, run_page, run_off, run_len, dir);
	if (ret)
		goto unwind;
	n++;
	if (unlikely(!adapter->desc.scatter_gather && n != 1)) {
		dev_err_ratelimited(adapter->dev,
				    "mapping gave %u elements to a device that takes one\n",
				    n);
		ret = -EIO;
		goto unwind;
	}
	xfer->list.nr_elements = n;
	xfer->list.reserved = (unsigned long)xfer;
	xfer->nr_runs = n;
	xfer->direct = true;
	return 0;

unwind:
	xfer->nr_runs = n;
	wdmdma_unmap_direct(xfer, DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

/* Unmap a directly mapped list's runs. */
void wdmdma_unmap_direct(struct wdmdma_xfer *xfer, unsigned long attrs)
{
	struct device *dev = xfer->adapter->dev;
	enum dma_data_direction dir = wdmdma_req_dir(&xfer->req);
	const struct wdmdma_run *runs = wdmdma_xfer_runs(xfer);
	unsigned int i;

	for (i = 0; i < xfer->nr_runs; i++)
		dma_unmap_page_attrs(dev, runs[i].addr, runs[i].len, dir, attrs);
}

/* --- One IOVA range (kernels with the IOVA API) ------------------------- */

static bool wdmdma_iova_param;
module_param_named(iova, wdmdma_iova_param, bool, 0644);
MODULE_PARM_DESC(iova,
		 "behind a translating IOMMU, link a list into one IOVA range (kernels with dma_iova_link(); adapters created afterwards; default off: not measured faster yet)");

/**
 * wdmdma_set_iova() - link lists into one IOVA range, or not (module
 *	parameter iova)
 * @on: the new setting
 *
 * The setting when an adapter is created decides whether that adapter
 * links its lists into one IOVA range behind a translating IOMMU, on
 * kernels that have dma_iova_link(). Off by default: the range is
 * unmapped with an IOTLB flush at once, where dma_unmap_sgtable() may
 * defer it, and whether linking wins is not measured yet.
 *
 * Context: any.
 * Return: the previous setting.
 */
bool wdmdma_set_iova(bool on)
{
	bool old = READ_ONCE(wdmdma_iova_param);

	WRITE_ONCE(wdmdma_iova_param, on);
	return old;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_set_iova);

/**
 * wdmdma_iova_setup() - decide at creation whether an adapter links lists
 * into one IOVA range
 * @adapter: the adapter, its device's DMA settings final
 */
void wdmdma_iova_setup(struct wdmdma_adapter *adapter)
{
#ifdef WDMDMA_HAVE_DMA_IOVA
	adapter->iova_mask = dma_get_merge_boundary(adapter->dev);
	adapter->iova = adapter->translated && adapter->iova_mask &&
			READ_ONCE(wdmdma_iova_param);
#endif
}

static inline struct wdmdma_iova *wdmdma_xfer_iova(struct wdmdma_xfer *xfer)
{
	BUILD_BUG_ON(sizeof(struct wdmdma_iova) > sizeof(struct scatterlist));
	return wdmdma_xfer_private(xfer);
}

#ifdef WDMDMA_HAVE_DMA_IOVA
/*
 * Can the pieces of the list share one IOVA range? Every piece but the
 * first must start, and every piece but the last end, on an IOMMU granule
 * (pieces that simply continue one another merge). PCI peer-to-peer pages
 * are left to the scatterlist path, which knows them.
 */
static bool wdmdma_iova_fits(struct wdmdma_xfer *xfer, phys_addr_t *first)
{
	unsigned long mask = xfer->adapter->iova_mask;
	struct wdmdma_req *req = &xfer->req;
	struct wdmdma_iter it;
	unsigned int off, len;
	struct page *page;
	bool head = true;
	u64 end = 0;

	if (wdmdma_iter_init(&it, req->mdl, req->offset, req->length))
		return false;
	while (wdmdma_iter_next(&it, &page, &off, &len)) {
		phys_addr_t phys = page_to_phys(page) + off;

		if (is_pci_p2pdma_page(page))
			return false;
		if (head) {
			*first = phys;
			head = false;
		} else if (phys != end && ((phys | end) & mask)) {
			return false;
		}
		end = phys + len;
	}
	return !head;
}

/*
 * Write the elements of an IOVA range of the request's length at @addr:
 * one per max_run bytes, cut where the device's segment boundary falls.
 * -E2BIG if that takes more elements than the list holds or the device
 * takes.
 */
static int wdmdma_iova_elements(struct wdmdma_xfer *xfer, dma_addr_t addr)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	u32 left = xfer->req.length;
	unsigned int n = 0;

	while (left) {
		u64 to_end = adapter->seg_boundary - (addr & adapter->seg_boundary);
		u32 len = min(left, adapter->max_run);
		struct wdmdma_sg_element *el = &xfer->list.elements[n];

		if (len - 1 > to_end)	/* (to_end + 1 may wrap) */
			len = to_end + 1;

		if (n >= xfer->max_ents ||
		    (n && !adapter->desc.scatter_gather))
			return -E2BIG;
		el->addr = addr;
		el->len = len;
		el->reserved = 0;
		addr += len;
		left -= len;
		n++;
	}
	xfer->list.nr_elements = n;
	return 0;
}

/*
 * Behind a translating IOMMU, link the list's runs into one IOVA range, as
 * blk_rq_dma_map_iter_start() does for NVMe: no scatterlist, one element
 * where the device's segment limits allow. Return: 0 mapped; 1 not done
 * for this list (pieces off the IOMMU granule, no IOVA space, more
 * elements than the device takes, a link the IOMMU refused): use the
 * scatterlist path; -ENOMEM (IOMMU page tables short: try again later);
 * -EIO (the range is beyond the device's reach).
 */
static int wdmdma_map_iova(struct wdmdma_xfer *xfer)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_iova *io = wdmdma_xfer_iova(xfer);
	struct wdmdma_req *req = &xfer->req;
	enum dma_data_direction dir = wdmdma_req_dir(req);
	phys_addr_t first, run_start = 0;
	unsigned int off, len;
	size_t mapped = 0;
	u32 run_len = 0;
	struct wdmdma_iter it;
	struct page *page;
	int ret;

	if (!wdmdma_iova_fits(xfer, &first))
		return 1;
	if (!dma_iova_try_alloc(adapter->dev, &io->state, first, req->length))
		return 1;
	if (unlikely(io->state.addr + req->length - 1 > adapter->limit ||
		     io->state.addr + req->length - 1 < io->state.addr)) {
		dev_err_ratelimited(adapter->dev,
				    "IOVA %pad+%u is beyond the device's %u-bit reach\n",
				    &io->state.addr, req->length,
				    adapter->desc.dma_width);
		dma_iova_free(adapter->dev, &io->state);
		return -EIO;
	}
	if (wdmdma_iova_elements(xfer, io->state.addr) ||
	    wdmdma_iter_init(&it, req->mdl, req->offset, req->length)) {
		dma_iova_free(adapter->dev, &io->state);
		return 1;
	}
	while (wdmdma_iter_next(&it, &page, &off, &len)) {
		phys_addr_t phys = page_to_phys(page) + off;

		if (run_len && phys == run_start + run_len) {
			run_len += len;
			continue;
		}
		if (run_len) {
			ret = dma_iova_link(adapter->dev, &io->state, run_start,
					    mapped, run_len, dir, 0);
			if (ret)
				goto unlink;
			mapped += run_len;
		}
		run_start = phys;
		run_len = len;
	}
	ret = dma_iova_link(adapter->dev, &io->state, run_start, mapped,
			    run_len, dir, 0);
	if (ret)
		goto unlink;
	mapped += run_len;
	ret = dma_iova_sync(adapter->dev, &io->state, 0, mapped);
	if (ret)
		goto unlink;
	io->len = mapped;
	xfer->iova = true;
	xfer->list.reserved = (unsigned long)xfer;
	this_cpu_inc(adapter->pcpu->iova);
	return 0;

unlink:
	/* dma_iova_destroy() frees the range whether or not any is linked. */
	dma_iova_destroy(adapter->dev, &io->state, mapped, dir,
			 DMA_ATTR_SKIP_CPU_SYNC);
	return ret == -ENOMEM ? -ENOMEM : 1;
}
#else
static inline int wdmdma_map_iova(struct wdmdma_xfer *xfer)
{
	return 1;
}
#endif

/* Unmap a list linked into one IOVA range. */
void wdmdma_unmap_iova(struct wdmdma_xfer *xfer, unsigned long attrs)
{
#ifdef WDMDMA_HAVE_DMA_IOVA
	struct wdmdma_iova *io = wdmdma_xfer_iova(xfer);

	dma_iova_destroy(xfer->adapter->dev, &io->state, io->len,
			 wdmdma_req_dir(&xfer->req), attrs);
#endif
}

/**
 * wdmdma_xfer_map() - map a claimed list and fill its Windows-layout list
 * @xfer: the list, with its request, memory and map registers
 *
 * Copies write data to the map registers, maps, checks every bus address
 * against the adapter's width and the element count of a one-element
 * device. A one-element request the IOMMU was to join (no registers
 * planned) that comes back in several elements is bounced instead if it
 * can take registers now.
 *
 * Does not sleep or allocate.
 * Return: 0, -ENOMEM (mapping space short: try again later), -EAGAIN (it
 * needs req->nr_regs map registers after all: wait for them), -EIO (will
 * not succeed).
 */
int wdmdma_xfer_map(struct wdmdma_xfer *xfer)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_req *req = &xfer->req;
	struct scatterlist *s;
	unsigned int i;
	int ret;

	xfer->direct = false;
	xfer->iova = false;
	if (!adapter->translated && !req->nr_regs &&
	    req->span <= WDMDMA_DIRECT_MAX)
		return wdmdma_map_direct(xfer);
	if (adapter->iova && !req->nr_regs) {
		ret = wdmdma_map_injected_error(adapter);
		if (unlikely(ret)) {
			if (ret == -ENOMEM)
				return -ENOMEM;
			dev_err_ratelimited(adapter->dev,
					    "mapping %u bytes failed: %d\n",
					    req->length, ret);
			return -EIO;
		}
		ret = wdmdma_map_iova(xfer);
		if (ret <= 0)
			return ret;
	}
	xfer->sg = wdmdma_xfer_private(xfer);
	if (req->nr_regs && (req->flags & WDMDMA_REQ_WRITE))
		wdmdma_bounce_copy(xfer, true);

	ret = wdmdma_fill_sg(xfer);
	if (ret)
		return -EIO;
	ret = wdmdma_map_sgt(xfer);
	if (ret)
		return ret;

	if (!adapter->desc.scatter_gather && xfer->sgt.nents != 1) {
		dma_unmap_sgtable(adapter->dev, &xfer->sgt, wdmdma_req_dir(req), 0);
		if (adapter->translated && !req->nr_regs && adapter->chunk_pages) {
			/* The IOMMU did not join the runs: bounce it. */
			req->bounce_all = true;
			req->nr_regs = DIV_ROUND_UP(req->length, PAGE_SIZE);
			return -EAGAIN;
		}
		dev_err_ratelimited(adapter->dev,
				    "mapping gave %u elements to a device that takes one\n",
				    xfer->sgt.nents);
		return -EIO;
	}
	/* The table is one flat array (never chained): index it. */
	for (i = 0, s = xfer->sgt.sgl; i < xfer->sgt.nents; i++, s++) {
		dma_addr_t addr = sg_dma_address(s);
		unsigned int dlen = sg_dma_len(s);

		if (addr + dlen - 1 > adapter->limit || addr + dlen - 1 < addr) {
			dev_err_ratelimited(adapter->dev,
					    "bus address %pad+%u is beyond the device's %u-bit reach\n",
					    &addr, dlen, adapter->desc.dma_width);
			dma_unmap_sgtable(adapter->dev, &xfer->sgt,
					  wdmdma_req_dir(req), 0);
			return -EIO;
		}
		xfer->list.elements[i].addr = addr;
		xfer->list.elements[i].len = dlen;
		xfer->list.elements[i].reserved = 0;
	}
	xfer->list.nr_elements = xfer->sgt.nents;
	xfer->list.reserved = (unsigned long)xfer;
	return 0;
}

/**
 * wdmdma_mdl_from_sg_list() - an MDL of the memory a list's device sees
 *	(BuildMdlFromScatterGatherList)
 * @adapter: the adapter the list came from
 * @sgl: an outstanding list (handed to a callback, not yet put, and not
 *	put while this runs)
 * @orig: the MDL chain the list was built from
 * @target: receives @orig itself when nothing of the list was copied to
 *	map registers, else a new MDL of the transfer's range in which the
 *	copied pieces are their map registers (free it with
 *	wdmdma_mdl_free() when it is not @orig)
 * @gfp: allocation flags for a new MDL
 *
 * Lets a driver reach the bytes the device reads or writes, copies or
 * not: the data to write, or the data read before Put copies it back. A
 * new MDL's virtual address is the kernel address of its first byte; it
 * is valid until the list is put.
 *
 * A list that is not outstanding is refused as Put refuses it: on an
 * adapter created with the verifier on it is looked up before anything in
 * it is read; with the verifier off its header is trusted, so a list
 * already put there is a use-after-free, as a second Put would be.
 *
 * Context: as @gfp allows.
 * Return: 0; -EINVAL for a NULL argument, a list that is not an
 * outstanding list of @adapter, or an @orig the list was not built from;
 * -ENOMEM.
 */
int wdmdma_mdl_from_sg_list(struct wdmdma_adapter *adapter,
			    const struct wdmdma_sg_list *sgl,
			    struct wdmdma_mdl *orig,
			    struct wdmdma_mdl **target, gfp_t gfp)
{
	struct wdmdma_xfer *xfer;
	struct wdmdma_mdl *mdl;
	unsigned int off, len, n = 0;
	struct wdmdma_iter it;
	struct page *page;
	size_t pos = 0;
	u64 reach;

	if (!adapter || !sgl || !orig || !target) {
		pr_err("mdl_from_sg_list: NULL adapter, list, MDL or target\n");
		return -EINVAL;
	}
	xfer = container_of(sgl, struct wdmdma_xfer, list);
	if (!adapter->fast) {
		unsigned long flags;
		bool found;

		spin_lock_irqsave(&adapter->lock, flags);
		found = wdmdma_verify_put(adapter, xfer);
		spin_unlock_irqrestore(&adapter->lock, flags);
		if (!found) {
			dev_err(adapter->dev,
				"mdl_from_sg_list: %p is not an outstanding list of this adapter\n",
				sgl);
			return -EINVAL;
		}
	}
	if (READ_ONCE(xfer->magic) != WDMDMA_XFER_MAGIC ||
	    xfer->adapter != adapter || sgl->reserved != (unsigned long)xfer) {
		dev_err(adapter->dev,
			"mdl_from_sg_list: %p is not an outstanding list of this adapter\n",
			sgl);
		return -EINVAL;
	}
	if (xfer->req.mdl != orig) {
		dev_err(adapter->dev,
			"mdl_from_sg_list: the list was not built from MDL %p\n",
			orig);
		return -EINVAL;
	}
	if (!xfer->req.nr_regs) {
		*target = orig;
		return 0;
	}
	if (wdmdma_iter_init(&it, orig, xfer->req.offset, xfer->req.length)) {
		dev_err(adapter->dev,
			"mdl_from_sg_list: the list's range is no longer in MDL %p\n",
			orig);
		return -EINVAL;
	}
	while (wdmdma_iter_next(&it, &page, &off, &len))
		n++;
	if (n > U16_MAX) {
		dev_err(adapter->dev,
			"mdl_from_sg_list: %u pieces, an MDL holds at most %u\n",
			n, U16_MAX);
		return -EINVAL;
	}
	mdl = kmalloc(wdmdma_mdl_size(n), gfp);
	if (!mdl)
		return -ENOMEM;
	wdmdma_mdl_init(mdl, n);
	mdl->flags = WDMDMA_MDL_ALLOCATED;
	reach = wdmdma_reach(adapter);
	wdmdma_iter_init(&it, orig, xfer->req.offset, xfer->req.length);
	while (wdmdma_iter_next(&it, &page, &off, &len)) {
		wdmdma_dev_piece(xfer, reach, &pos, &page, &off, len);
		if (wdmdma_mdl_add_page(mdl, page, len, off)) {
			kfree(mdl);
			return -EINVAL;
		}
	}
	*target = mdl;
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_from_sg_list);

/* Unmap a list and copy bounced read data back to the buffer. */
void wdmdma_xfer_unmap_sgt(struct wdmdma_xfer *xfer)
{
	dma_unmap_sgtable(xfer->adapter->dev, &xfer->sgt,
			  wdmdma_req_dir(&xfer->req), 0);
	if (xfer->nr_regs && !(xfer->req.flags & WDMDMA_REQ_WRITE))
		wdmdma_bounce_copy(xfer, false);
}

/**
 * wdmdma_calculate_sg_list() - size a Build buffer (CalculateScatterGatherList)
 * @adapter: the adapter
 * @mdl: the MDL chain of the transfer, or NULL to size from @current_va and
 *	@length alone (the worst case for that span)
 * @current_va: where the transfer starts: wdmdma_mdl_va(@mdl) + offset, or
 *	with a NULL @mdl any address with the buffer's page offset
 * @length: bytes to transfer
 * @list_size: receives the exact buffer size wdmdma_build_sg_list() needs
 * @nr_map_registers: if not NULL, receives the map registers the transfer
 *	uses: the pages its pieces touch, over every chained MDL. A piece
 *	that starts where the previous one ended, in the same page, does not
 *	count that page again; any other piece counts each page it touches.
 *	This bounds the elements of the list too.
 *
 * A zero @length, a range past the MDL chain or an MDL whose byte count
 * is not the sum of its pages also counts as a verifier error (see the
 * verifier module parameter).
 *
 * Context: any; does not sleep or allocate.
 * Return: 0; -EINVAL for a NULL adapter, zero @length, a range past the
 * MDL chain or a malformed MDL; -EMSGSIZE if @length exceeds the adapter's
 * maximum transfer; -ENOSPC if the transfer needs more map registers than
 * the adapter allows.
 */
int wdmdma_calculate_sg_list(struct wdmdma_adapter *adapter,
			     const struct wdmdma_mdl *mdl,
			     const void *current_va, u32 length,
			     size_t *list_size,
			     unsigned int *nr_map_registers)
{
	unsigned int span;
	u64 offset;
	int ret;

	if (!adapter || !list_size)
		return -EINVAL;
	if (mdl) {
		ret = wdmdma_offset_of(mdl, current_va, &offset);
		if (ret)
			return ret;
	} else {
		offset = (unsigned long)current_va;
	}
	ret = wdmdma_span_of(adapter, mdl, offset, length, &span);
	if (ret)
		return ret;
	*list_size = wdmdma_xfer_size(wdmdma_xfer_ents(adapter, span));
	if (nr_map_registers)
		*nr_map_registers = span;
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_calculate_sg_list);

/**
 * wdmdma_get_transfer_info() - what a transfer needs (GetDmaTransferInfo)
 * @adapter: the adapter
 * @mdl: the MDL chain of the transfer, or NULL to size from @offset's page
 *	offset and @length alone (the worst case for that span, as
 *	wdmdma_calculate_sg_list() with a NULL MDL)
 * @offset: byte offset of the transfer in the chain (as the _ex calls take
 *	it); with a NULL @mdl, only its offset in a page counts
 * @length: bytes to transfer
 * @info: receives the map registers, the most elements, the Build(_ex)
 *	buffer size and the pages touched
 *
 * The same checks and counts as wdmdma_calculate_sg_list() for the same
 * range: a driver may size _ex Build buffers with either.
 *
 * Context: any; does not sleep or allocate.
 * Return: 0, or the errors of wdmdma_calculate_sg_list() (-EINVAL also
 * for a NULL @info).
 */
int wdmdma_get_transfer_info(struct wdmdma_adapter *adapter,
			     const struct wdmdma_mdl *mdl, u64 offset,
			     u32 length, struct wdmdma_transfer_info *info)
{
	unsigned int span;
	int ret;

	if (!adapter || !info)
		return -EINVAL;
	ret = wdmdma_span_of(adapter, mdl, offset, length, &span);
	if (ret)
		return ret;
	info->nr_map_registers = span;
	info->nr_elements = wdmdma_xfer_ents(adapter, span);
	info->list_size = wdmdma_xfer_size(info->nr_elements);
	info->nr_pages = span;
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_get_transfer_info);

/**
 * wdmdma_get_dma_alignment() - how DMA buffers must be aligned
 *	(GetDmaAlignment)
 * @adapter: the adapter
 *
 * The DMA layer's minimum alignment for buffers that share no cache line
 * with other data, dma_get_cache_alignment(): 1 on x86, where DMA is
 * cache-coherent (as Windows reports there).
 *
 * Context: any.
 * Return: the alignment in bytes (at least 1).
 */
unsigned int wdmdma_get_dma_alignment(struct wdmdma_adapter *adapter)
{
	return max(dma_get_cache_alignment(), 1);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_get_dma_alignment);

/**
 * wdmdma_get_adapter_info() - describe an adapter (GetDmaAdapterInfo)
 * @adapter: the adapter
 * @info: receives its width, whether it takes a list, its maximum
 *	transfer, map registers per transfer, the most elements of one list
 *	and the DMA alignment
 *
 * Context: any.
 * Return: 0, or -EINVAL for a NULL argument.
 */
int wdmdma_get_adapter_info(struct wdmdma_adapter *adapter,
			    struct wdmdma_adapter_info *info)
{
	if (!adapter || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->dma_width = adapter->desc.dma_width;
	info->scatter_gather = adapter->desc.scatter_gather;
	info->max_transfer = adapter->desc.max_transfer;
	info->max_map_registers = adapter->max_regs;
	info->max_elements = wdmdma_xfer_ents(adapter, adapter->max_regs);
	info->alignment = wdmdma_get_dma_alignment(adapter);
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_get_adapter_info);
