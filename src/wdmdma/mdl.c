// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma MDLs: buffer descriptors that chain like Windows MDLs, kept as
 * bio_vecs so kernel buffers, page lists and block requests all fit.
 *
 * Locking: none. An MDL belongs to its caller, who must not change it
 * while a list maps it.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "internal.h"

/*
 * A page-based MDL has no kernel mapping of its own; its "virtual address"
 * is the linear address of its first byte when the page has one, else a
 * token with the right page offset. Either way only CurrentVa arithmetic
 * (wdmdma_mdl_va(mdl) + offset) is meaningful.
 */
static void *mdl_token(struct page *page, unsigned int offset)
{
	void *addr = page_address(page);

	return addr ? addr + offset : (void *)(unsigned long)offset;
}

/*
 * Append a piece and keep the MDL's summary: whether its pieces follow one
 * another page by page (Calculate is then O(1)), whether they are
 * physically contiguous, their total length and their highest physical
 * end (reachability without a walk).
 */
static void wdmdma_mdl_append(struct wdmdma_mdl *mdl, struct page *page,
			      unsigned int len, unsigned int offset)
{
	u64 phys = page_to_phys(page) + offset;

	if (mdl->nr_bvecs) {
		const struct bio_vec *prev = &mdl->bvec[mdl->nr_bvecs - 1];
		u64 prev_end = page_to_phys(prev->bv_page) + prev->bv_offset +
			       prev->bv_len;

		if (offset_in_page(offset) ||
		    offset_in_page(prev->bv_offset + prev->bv_len))
			mdl->flags |= WDMDMA_MDL_IRREGULAR;
		if (phys != prev_end)
			mdl->flags |= WDMDMA_MDL_DISCONTIG;
	}
	bvec_set_page(&mdl->bvec[mdl->nr_bvecs++], page, len, offset);
	mdl->bytes += len;
	mdl->phys_end = max(mdl->phys_end, phys + len);
}

/**
 * wdmdma_mdl_alloc() - allocate an MDL for a kernel buffer (IoAllocateMdl)
 * @va: start of the buffer (kmalloc, vmalloc or other linear-map memory)
 * @len: its length in bytes, at least 1
 * @gfp: allocation flags for the MDL itself
 *
 * The MDL has room for every page the buffer spans but describes none yet:
 * fill it with wdmdma_mdl_build_for_kernel_buffer().
 *
 * Context: as @gfp allows.
 * Return: the MDL, or NULL on a zero length or allocation failure.
 */
struct wdmdma_mdl *wdmdma_mdl_alloc(void *va, u32 len, gfp_t gfp)
{
	unsigned int pages;
	struct wdmdma_mdl *mdl;

	if (!va || !len)
		return NULL;
	pages = DIV_ROUND_UP(offset_in_page(va) + (u64)len, PAGE_SIZE);
	if (pages > U16_MAX)
		return NULL;
	mdl = kzalloc(wdmdma_mdl_size(pages), gfp);
	if (!mdl)
		return NULL;
	mdl->va = va;
	mdl->byte_count = len;
	mdl->max_bvecs = pages;
	mdl->flags = WDMDMA_MDL_ALLOCATED;
	return mdl;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_alloc);

/**
 * wdmdma_mdl_build_for_kernel_buffer() - fill in an MDL's pages
 *	(MmBuildMdlForNonPagedPool)
 * @mdl: an MDL from wdmdma_mdl_alloc()
 *
 * Looks up the page behind every page of the buffer: vmalloc_to_page() for
 * vmalloc memory, virt_to_page() for the linear map.
 *
 * Context: any.
 * Return: 0, or -EINVAL if the buffer is neither vmalloc nor linear-map
 * memory (e.g. on the stack with VMAP_STACK, or an ioremap).
 */
int wdmdma_mdl_build_for_kernel_buffer(struct wdmdma_mdl *mdl)
{
	unsigned long va = (unsigned long)mdl->va;
	u32 left = mdl->byte_count;
	unsigned int n = 0;

	mdl->nr_bvecs = 0;
	mdl->bytes = 0;
	mdl->phys_end = 0;
	mdl->flags &= WDMDMA_MDL_ALLOCATED;

	while (left) {
		unsigned int off = offset_in_page(va);
		unsigned int len = min_t(u32, left, PAGE_SIZE - off);
		struct page *page;

		if (is_vmalloc_addr((void *)va))
			page = vmalloc_to_page((void *)va);
		else if (virt_addr_valid((void *)va))
			page = virt_to_page((void *)va);
		else
			page = NULL;
		if (!page || n >= mdl->max_bvecs) {
			pr_err("MDL buffer %p is not vmalloc or linear-map memory\n",
			       mdl->va);
			mdl->nr_bvecs = 0;
			return -EINVAL;
		}
		wdmdma_mdl_append(mdl, page, len, off);
		n++;
		va += len;
		left -= len;
	}
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_build_for_kernel_buffer);

/**
 * wdmdma_mdl_init() - prepare caller-owned memory as an empty MDL
 * @mdl: memory of at least wdmdma_mdl_size(@max_bvecs) bytes
 * @max_bvecs: how many pages it can hold (at most 65535)
 *
 * For MDLs kept in preallocated memory such as a request PDU; add pages
 * with wdmdma_mdl_add_page(). Not to be passed to wdmdma_mdl_free().
 *
 * Context: any.
 */
void wdmdma_mdl_init(struct wdmdma_mdl *mdl, unsigned int max_bvecs)
{
	memset(mdl, 0, sizeof(*mdl));
	mdl->max_bvecs = min_t(unsigned int, max_bvecs, U16_MAX);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_init);

/**
 * wdmdma_mdl_add_page() - append a piece of a page to an MDL
 * @mdl: the MDL
 * @page: the page (a piece may run into following pages of a compound or
 *	otherwise physically contiguous allocation)
 * @len: bytes, at least 1
 * @offset: offset of the piece in @page
 *
 * The first piece sets the MDL's virtual-address token.
 *
 * Context: any.
 * Return: 0; -ENOSPC if the MDL is full; -EINVAL for a zero length or a
 * byte count past 4 GiB.
 */
int wdmdma_mdl_add_page(struct wdmdma_mdl *mdl, struct page *page,
			unsigned int len, unsigned int offset)
{
	if (!len || mdl->byte_count + (u64)len > U32_MAX)
		return -EINVAL;
	if (mdl->nr_bvecs >= mdl->max_bvecs)
		return -ENOSPC;
	if (!mdl->nr_bvecs)
		mdl->va = mdl_token(page, offset);
	wdmdma_mdl_append(mdl, page, len, offset);
	mdl->byte_count += len;
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_add_page);

/**
 * wdmdma_mdl_from_bvecs() - allocate an MDL describing bio_vecs
 * @bv: the bio_vecs
 * @nr: how many, at least 1
 * @gfp: allocation flags
 *
 * Context: as @gfp allows.
 * Return: the MDL (free with wdmdma_mdl_free()), or NULL.
 */
struct wdmdma_mdl *wdmdma_mdl_from_bvecs(const struct bio_vec *bv,
					 unsigned int nr, gfp_t gfp)
{
	struct wdmdma_mdl *mdl;
	unsigned int i;

	if (!bv || !nr || nr > U16_MAX)
		return NULL;
	mdl = kmalloc(wdmdma_mdl_size(nr), gfp);
	if (!mdl)
		return NULL;
	wdmdma_mdl_init(mdl, nr);
	mdl->flags = WDMDMA_MDL_ALLOCATED;
	for (i = 0; i < nr; i++) {
		if (wdmdma_mdl_add_page(mdl, bv[i].bv_page, bv[i].bv_len,
					bv[i].bv_offset)) {
			kfree(mdl);
			return NULL;
		}
	}
	return mdl;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_from_bvecs);

/**
 * wdmdma_mdl_init_request() - describe a block request's data in an MDL
 * @mdl: caller-owned memory of at least wdmdma_mdl_size(@max_bvecs) bytes
 * @max_bvecs: its capacity: the pages the request can touch (for a queue
 *	with a virt_boundary_mask of PAGE_SIZE - 1, its max_segments)
 * @rq: the request
 *
 * One bio_vec per single-page segment (rq_for_each_segment()), in order;
 * allocates nothing.
 *
 * Context: any.
 * Return: 0; -ENOSPC if the request has more segments than @max_bvecs;
 * -EINVAL if it has no data.
 */
int wdmdma_mdl_init_request(struct wdmdma_mdl *mdl, unsigned int max_bvecs,
			    struct request *rq)
{
	struct req_iterator iter;
	struct bio_vec bv;
	int ret;

	wdmdma_mdl_init(mdl, max_bvecs);
	if (!blk_rq_bytes(rq))
		return -EINVAL;
	rq_for_each_segment(bv, rq, iter) {
		ret = wdmdma_mdl_add_page(mdl, bv.bv_page, bv.bv_len,
					  bv.bv_offset);
		if (ret)
			return ret;
	}
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_init_request);

/**
 * wdmdma_mdl_free() - free an MDL (IoFreeMdl)
 * @mdl: an MDL from wdmdma_mdl_alloc() or wdmdma_mdl_from_bvecs(), or NULL
 *
 * Frees this MDL only, not the rest of its chain. MDLs set up with
 * wdmdma_mdl_init() in caller memory are left alone.
 *
 * Context: any.
 */
void wdmdma_mdl_free(struct wdmdma_mdl *mdl)
{
	if (mdl && (mdl->flags & WDMDMA_MDL_ALLOCATED))
		kfree(mdl);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_free);

/**
 * wdmdma_mdl_build_partial() - describe part of an MDL's buffer in another
 *	MDL (IoBuildPartialMdl)
 * @src: the source MDL, its pages filled in (one MDL: its chain is not
 *	followed)
 * @target: the MDL to fill, e.g. from wdmdma_mdl_alloc(@va, @len), with
 *	room for the pages of the range; its chain link is left alone
 * @va: where the range starts: wdmdma_mdl_va(@src) + byte offset
 * @len: bytes, or 0 for the rest of @src from @va
 *
 * @target gets @va as its virtual address and the pieces of @src's pages
 * that hold the range; it shares @src's pages (and, for a kernel buffer,
 * its kernel mapping), so it is valid as long as they are. On an error
 * @target is left empty, so that lists of it fail.
 *
 * Context: any.
 * Return: 0; -EINVAL for a NULL MDL, a range outside @src or a source
 * without its pages; -ENOSPC if @target has too little room.
 */
int wdmdma_mdl_build_partial(const struct wdmdma_mdl *src,
			     struct wdmdma_mdl *target, const void *va,
			     u32 len)
{
	u64 offset;
	unsigned int i;
	u32 left;

	if (!src || !target) {
		pr_err("partial MDL: NULL source or target\n");
		return -EINVAL;
	}
	target->nr_bvecs = 0;
	target->bytes = 0;
	target->phys_end = 0;
	target->byte_count = 0;
	target->flags &= WDMDMA_MDL_ALLOCATED;
	if (wdmdma_offset_of(src, va, &offset) || offset >= src->byte_count) {
		pr_err("partial MDL: %p is outside the source MDL (%p, %u bytes)\n",
		       va, src->va, src->byte_count);
		return -EINVAL;
	}
	if (!len)
		len = src->byte_count - offset;
	if (len > src->byte_count - offset) {
		pr_err("partial MDL: %u bytes at %p run past the source MDL (%p, %u bytes)\n",
		       len, va, src->va, src->byte_count);
		return -EINVAL;
	}
	if (!src->nr_bvecs || src->nr_bvecs > src->max_bvecs ||
	    src->bytes != src->byte_count) {
		pr_err("partial MDL: source MDL %p has no pages filled in\n",
		       src->va);
		return -EINVAL;
	}

	left = len;
	for (i = 0; i < src->nr_bvecs && left; i++) {
		const struct bio_vec *bv = &src->bvec[i];
		u32 pos;

		if (offset >= bv->bv_len) {
			offset -= bv->bv_len;
			continue;
		}
		pos = bv->bv_offset + offset;
		offset = 0;
		/* The rest of this piece, page by page. */
		while (left && pos < bv->bv_offset + bv->bv_len) {
			u32 n = min3(left, bv->bv_offset + bv->bv_len - pos,
				     (u32)(PAGE_SIZE - offset_in_page(pos)));

			if (target->nr_bvecs >= target->max_bvecs) {
				pr_err("partial MDL: target MDL holds %u pieces, the range needs more\n",
				       target->max_bvecs);
				target->nr_bvecs = 0;
				target->bytes = 0;
				target->phys_end = 0;
				return -ENOSPC;
			}
			wdmdma_mdl_append(target,
					  wdmdma_nth_page(bv->bv_page,
							  pos >> PAGE_SHIFT),
					  n, offset_in_page(pos));
			pos += n;
			left -= n;
		}
	}
	target->va = (void *)va;
	target->byte_count = len;
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_build_partial);

/* The page behind a kernel address, or NULL if it is not kernel memory. */
static struct page *wdmdma_kernel_page(unsigned long va)
{
	if (is_vmalloc_addr((void *)va))
		return vmalloc_to_page((void *)va);
	if (virt_addr_valid((void *)va))
		return virt_to_page((void *)va);
	return NULL;
}

/**
 * wdmdma_mdl_system_address() - the kernel address of an MDL's buffer
 *	(MmGetSystemAddressForMdlSafe)
 * @mdl: the MDL (this one only, not its chain)
 *
 * The MDL's virtual address, if every page it describes is mapped there,
 * in order: true of a kernel-buffer MDL (wdmdma_mdl_alloc() +
 * wdmdma_mdl_build_for_kernel_buffer()), a partial MDL of one, and a
 * page-based MDL of physically contiguous linear-map pages. Other
 * page-based MDLs have no kernel mapping of their own; making one would
 * sleep (vmap()), so they get NULL, as Windows' routine returns NULL when
 * it cannot map.
 *
 * Context: any; walks the MDL's pages.
 * Return: the address, or NULL.
 */
void *wdmdma_mdl_system_address(const struct wdmdma_mdl *mdl)
{
	unsigned long va;
	unsigned int i;

	if (!mdl || !mdl->nr_bvecs || mdl->nr_bvecs > mdl->max_bvecs ||
	    mdl->bytes != mdl->byte_count)
		return NULL;
	va = (unsigned long)mdl->va;
	for (i = 0; i < mdl->nr_bvecs; i++) {
		const struct bio_vec *bv = &mdl->bvec[i];
		u32 pos = bv->bv_offset;

		while (pos < bv->bv_offset + bv->bv_len) {
			u32 n = min_t(u32, bv->bv_offset + bv->bv_len - pos,
				      PAGE_SIZE - offset_in_page(pos));

			if (offset_in_page(va) != offset_in_page(pos) ||
			    wdmdma_kernel_page(va) !=
			    wdmdma_nth_page(bv->bv_page, pos >> PAGE_SHIFT))
				return NULL;
			va += n;
			pos += n;
		}
	}
	return mdl->va;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_mdl_system_address);
