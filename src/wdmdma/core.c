// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma core: adapters, Calculate/Build/Get/Put, the emergency reserve,
 * map registers and the FIFO of waiting requests.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bottom_half.h>
#include <linux/bitmap.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "internal.h"

bool wdmdma_verifier;
module_param_named(verifier, wdmdma_verifier, bool, 0644);
MODULE_PARM_DESC(verifier,
		 "Check callers like Driver Verifier's DMA checks: double Put, foreign lists, bad ranges (default: N)");

static int fail_alloc_percent;

static int fail_alloc_set(const char *val, const struct kernel_param *kp)
{
	int n, ret;

	ret = kstrtoint(val, 0, &n);
	if (ret)
		return ret;
	if (n < 0 || n > 100) {
		pr_err("fail_alloc_percent must be 0..100, not %d\n", n);
		return -EINVAL;
	}
	return param_set_int(val, kp);
}

static const struct kernel_param_ops fail_alloc_ops = {
	.set = fail_alloc_set,
	.get = param_get_int,
};
module_param_cb(fail_alloc_percent, &fail_alloc_ops, &fail_alloc_percent, 0644);
MODULE_PARM_DESC(fail_alloc_percent,
		 "Fail this percentage of list allocations, to exercise the reserve (0..100, default: 0)");

static DEFINE_IDA(wdmdma_ida);

/* --- Sizing ------------------------------------------------------------- */

static unsigned int span_pages(unsigned int off, u64 len)
{
	return DIV_ROUND_UP((u64)offset_in_page(off) + len, PAGE_SIZE);
}

/* Entries of the element and scatterlist arrays a transfer needs. */
static unsigned int xfer_ents(const struct wdmdma_adapter *adapter,
			      unsigned int span)
{
	return adapter->desc.scatter_gather ? span : 1;
}

static size_t xfer_size(unsigned int ents)
{
	size_t size = sizeof(struct wdmdma_xfer) +
		      ents * sizeof(struct wdmdma_sg_element);

	return ALIGN(size, __alignof__(struct scatterlist)) +
	       ents * sizeof(struct scatterlist);
}

/* --- Walking an MDL chain ----------------------------------------------- */

/* Yields the pieces of a byte range, none crossing a page boundary. */
struct wdmdma_iter {
	const struct wdmdma_mdl *mdl;
	unsigned int idx;	/* bvec in mdl */
	u32 skip;		/* bytes of that bvec already consumed */
	u64 left;		/* bytes of the range still to yield */
};

/* Position @it at @offset; false if the chain ends before offset + len. */
static bool iter_init(struct wdmdma_iter *it, const struct wdmdma_mdl *mdl,
		      u64 offset, u64 len)
{
	u64 avail = 0;
	const struct wdmdma_mdl *m;

	for (m = mdl; m; m = m->next)
		avail += m->byte_count;
	if (offset >= avail || len > avail - offset)
		return false;

	it->left = len;
	for (m = mdl; m; m = m->next) {
		unsigned int i;

		if (offset >= m->byte_count) {
			offset -= m->byte_count;
			continue;
		}
		for (i = 0; i < m->nr_bvecs; i++) {
			if (offset < m->bvec[i].bv_len) {
				it->mdl = m;
				it->idx = i;
				it->skip = offset;
				return true;
			}
			offset -= m->bvec[i].bv_len;
		}
		break;	/* byte_count larger than its bvecs: malformed */
	}
	return false;
}

static bool iter_next(struct wdmdma_iter *it, struct page **page,
		      unsigned int *off, unsigned int *len)
{
	const struct bio_vec *bv;
	unsigned int pos, n;

	while (it->left && it->mdl) {
		if (it->idx >= it->mdl->nr_bvecs) {
			it->mdl = it->mdl->next;
			it->idx = 0;
			it->skip = 0;
			continue;
		}
		bv = &it->mdl->bvec[it->idx];
		if (it->skip >= bv->bv_len) {
			it->idx++;
			it->skip = 0;
			continue;
		}
		pos = bv->bv_offset + it->skip;
		n = min_t(u64, it->left, bv->bv_len - it->skip);
		n = min_t(unsigned int, n, PAGE_SIZE - offset_in_page(pos));
		*page = nth_page(bv->bv_page, pos >> PAGE_SHIFT);
		*off = offset_in_page(pos);
		*len = n;
		it->skip += n;
		it->left -= n;
		return true;
	}
	return false;
}

static bool reachable(const struct wdmdma_adapter *adapter, struct page *page,
		      unsigned int off, unsigned int len)
{
	if (adapter->iommu)
		return true;
	return page_to_phys(page) + off + len - 1 <= adapter->limit;
}

/* --- Verifier ----------------------------------------------------------- */

static __printf(2, 3) void verifier_report(struct wdmdma_adapter *adapter,
					   const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;
	unsigned long flags;

	spin_lock_irqsave(&adapter->lock, flags);
	adapter->stats.verifier_errors++;
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (!wdmdma_verifier)
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	dev_err_ratelimited(adapter->dev, "verifier: %pV", &vaf);
	va_end(args);
}

/* --- Planning: what a request needs ------------------------------------- */

/*
 * Fill in req->span, ->nr_regs and ->bounce_all for the range
 * [req->offset, req->offset + req->length) of req->mdl.
 */
static int plan_request(struct wdmdma_adapter *adapter, struct wdmdma_req *req)
{
	struct wdmdma_iter it;
	struct page *page;
	unsigned int off, len, span = 0;
	u64 bounce = 0, run_end = 0;
	bool contiguous = true, first = true, all_reachable = true;

	if (!req->length) {
		verifier_report(adapter, "zero-length transfer\n");
		return -EINVAL;
	}
	if (req->length > adapter->desc.max_transfer)
		return -EMSGSIZE;
	if (!req->mdl || !iter_init(&it, req->mdl, req->offset, req->length)) {
		verifier_report(adapter,
				"range %llu+%u runs past the MDL chain\n",
				req->offset, req->length);
		return -EINVAL;
	}

	while (iter_next(&it, &page, &off, &len)) {
		u64 phys = page_to_phys(page) + off;

		/* A new page starts unless this piece continues the last one. */
		if (first || off == 0 || phys != run_end)
			span++;
		if (!first && phys != run_end)
			contiguous = false;
		if (!reachable(adapter, page, off, len)) {
			all_reachable = false;
			bounce += len;
		}
		run_end = phys + len;
		first = false;
	}

	if (span > adapter->max_regs)
		return -ENOSPC;

	req->span = span;
	req->bounce_all = false;
	if (!adapter->desc.scatter_gather) {
		if (!contiguous || !all_reachable) {
			req->bounce_all = true;
			bounce = req->length;
		} else {
			bounce = 0;
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

/* --- Map registers ------------------------------------------------------ */

/* Called with adapter->lock held. */
static bool regs_alloc(struct wdmdma_adapter *adapter, unsigned int nr,
		       unsigned int *base)
{
	unsigned int c, start, end, pos;

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

/* Called with adapter->lock held. */
static void regs_free(struct wdmdma_adapter *adapter, unsigned int base,
		      unsigned int nr)
{
	if (!nr)
		return;
	bitmap_clear(adapter->reg_map, base, nr);
	adapter->stats.map_regs_in_use -= nr;
}

static void *reg_addr(struct wdmdma_adapter *adapter, unsigned int reg)
{
	return adapter->chunk[reg / adapter->chunk_pages] +
	       (size_t)(reg % adapter->chunk_pages) * PAGE_SIZE;
}

/* --- List memory -------------------------------------------------------- */

/**
 * wdmdma_should_fail_alloc() - should this allocation be failed on purpose?
 * @adapter: the adapter
 *
 * True when the adapter's allocation-failure injection (see
 * wdmdma_set_fail_alloc() and the fail_alloc_percent module parameter)
 * picks this allocation. Drivers that keep their own emergency buffers
 * (the Build pattern) consult it so tests exercise their reserve too.
 *
 * Context: any.
 */
bool wdmdma_should_fail_alloc(struct wdmdma_adapter *adapter)
{
	int pct = READ_ONCE(adapter->fail_alloc);

	if (pct < 0)
		pct = READ_ONCE(fail_alloc_percent);
	if (pct <= 0)
		return false;
	return pct >= 100 || get_random_u32() % 100 < pct;
}
EXPORT_SYMBOL_GPL(wdmdma_should_fail_alloc);

/* Non-sleeping allocation of list memory for @span pages; may fail. */
static struct wdmdma_xfer *xfer_alloc(struct wdmdma_adapter *adapter,
				      unsigned int span)
{
	struct wdmdma_xfer *xfer;

	if (wdmdma_should_fail_alloc(adapter))
		return NULL;
	xfer = kmalloc(xfer_size(xfer_ents(adapter, span)),
		       GFP_ATOMIC | __GFP_NOWARN);
	if (xfer) {
		xfer->source = WDMDMA_SRC_ALLOC;
		xfer->max_ents = xfer_ents(adapter, span);
	}
	return xfer;
}

/* A reserve element, or NULL if all are in use. Never allocates. */
static struct wdmdma_xfer *xfer_from_reserve(struct wdmdma_adapter *adapter)
{
	struct wdmdma_xfer *xfer = mempool_alloc(adapter->reserve, GFP_NOWAIT);

	if (xfer) {
		xfer->source = WDMDMA_SRC_RESERVE;
		xfer->max_ents = xfer_ents(adapter, adapter->max_regs);
	}
	return xfer;
}

static void xfer_release(struct wdmdma_adapter *adapter,
			 struct wdmdma_xfer *xfer)
{
	xfer->magic = WDMDMA_XFER_PUT;
	if (xfer->source == WDMDMA_SRC_ALLOC)
		kfree(xfer);
	else if (xfer->source == WDMDMA_SRC_RESERVE)
		mempool_free(xfer, adapter->reserve);
}

/*
 * The reserve's mempool allocates only while it is being filled (a
 * sleeping allocation at adapter creation). Later, mempool_alloc() with
 * GFP_NOWAIT finds this returning NULL and hands out a preallocated
 * element: exactly "take from the reserve", on every kernel version.
 */
static void *reserve_elem_alloc(gfp_t gfp, void *data)
{
	struct wdmdma_adapter *adapter = data;

	if (!gfpflags_allow_blocking(gfp))
		return NULL;
	return kmalloc(adapter->reserve_size, gfp);
}

static void reserve_elem_free(void *elem, void *data)
{
	kfree(elem);
}

/* --- Mapping ------------------------------------------------------------ */

static enum dma_data_direction req_dir(const struct wdmdma_req *req)
{
	return req->flags & WDMDMA_REQ_WRITE ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
}

/* Copy between the MDL range and the bounce registers, in transfer order. */
static void bounce_copy(struct wdmdma_xfer *xfer, bool to_regs)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_req *req = &xfer->req;
	struct wdmdma_iter it;
	struct page *page;
	unsigned int off, len;
	size_t pos = 0;

	if (!iter_init(&it, req->mdl, req->offset, req->length))
		return;
	while (iter_next(&it, &page, &off, &len)) {
		void *regs, *buf;

		if (!req->bounce_all && reachable(adapter, page, off, len))
			continue;
		regs = reg_addr(adapter, xfer->reg_base) + pos;
		buf = kmap_local_page(page);
		if (to_regs)
			memcpy(regs, buf + off, len);
		else
			memcpy(buf + off, regs, len);
		kunmap_local(buf);
		pos += len;
	}
}

/*
 * Fill the scatterlist from the MDL range (bounced pieces replaced by map
 * registers), map it, check every bus address against the adapter's
 * limit, and fill the Windows-layout list. Does not sleep or allocate.
 */
static int xfer_map(struct wdmdma_xfer *xfer)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_req *req = &xfer->req;
	struct scatterlist *sg = NULL, *s;
	struct wdmdma_iter it;
	struct page *page;
	unsigned int off, len, n = 0, i;
	size_t pos = 0;
	u64 last_end = 0;
	int ret;

	xfer->sg = (void *)ALIGN((unsigned long)&xfer->list.elements[xfer->max_ents],
				 __alignof__(struct scatterlist));
	sg_init_table(xfer->sg, xfer->max_ents);

	if (req->nr_regs && (req->flags & WDMDMA_REQ_WRITE))
		bounce_copy(xfer, true);

	if (!iter_init(&it, req->mdl, req->offset, req->length))
		return -EINVAL;
	while (iter_next(&it, &page, &off, &len)) {
		u64 phys;

		if (req->bounce_all || !reachable(adapter, page, off, len)) {
			void *va = reg_addr(adapter, xfer->reg_base) + pos;

			page = virt_to_page(va);
			off = offset_in_page(va);
			pos += len;
		}
		phys = page_to_phys(page) + off;
		if (sg && phys == last_end && sg->length + len <= adapter->max_seg) {
			sg->length += len;
		} else {
			if (WARN_ON_ONCE(n >= xfer->max_ents))
				return -EINVAL;
			sg = sg ? sg_next(sg) : xfer->sg;
			sg_set_page(sg, page, len, off);
			n++;
		}
		last_end = phys + len;
	}
	sg_mark_end(sg);
	xfer->sgt.sgl = xfer->sg;
	xfer->sgt.orig_nents = n;
	xfer->sgt.nents = 0;

	ret = dma_map_sgtable(adapter->dev, &xfer->sgt, req_dir(req), 0);
	if (ret) {
		dev_err_ratelimited(adapter->dev,
				    "dma_map_sgtable of %u entries failed: %d\n",
				    n, ret);
		return ret;
	}

	if (!adapter->desc.scatter_gather && xfer->sgt.nents != 1) {
		dev_err_ratelimited(adapter->dev,
				    "mapping gave %u elements to a device that takes one\n",
				    xfer->sgt.nents);
		goto unmap;
	}
	for_each_sgtable_dma_sg(&xfer->sgt, s, i) {
		dma_addr_t addr = sg_dma_address(s);
		unsigned int dlen = sg_dma_len(s);

		if (addr + dlen - 1 > adapter->limit || addr + dlen - 1 < addr) {
			dev_err_ratelimited(adapter->dev,
					    "bus address %pad+%u is beyond the device's %u-bit reach\n",
					    &addr, dlen, adapter->desc.dma_width);
			goto unmap;
		}
		xfer->list.elements[i].addr = addr;
		xfer->list.elements[i].len = dlen;
		xfer->list.elements[i].reserved = 0;
	}
	xfer->list.nr_elements = xfer->sgt.nents;
	xfer->list.reserved = (unsigned long)xfer;
	return 0;

unmap:
	dma_unmap_sgtable(adapter->dev, &xfer->sgt, req_dir(req), 0);
	return -EIO;
}

static void invoke(struct wdmdma_xfer *xfer)
{
	struct wdmdma_req *req = &xfer->req;
	struct device *dev = xfer->adapter->dev;

	if (!req->fn)		/* synchronous _ex call returning the list */
		return;
	if (req->flags & WDMDMA_REQ_NT)
		req->nt_fn(dev, NULL, (void *)&xfer->list,
			   req->context);
	else
		req->fn(dev, NULL, &xfer->list, req->context);
}

/* --- Dispatch ----------------------------------------------------------- */

/*
 * Called with adapter->lock held once @req has list memory and map
 * registers: make them the list's, count it, and take it off the books of
 * waiting requests. Returns the transfer to map.
 */
static struct wdmdma_xfer *claim(struct wdmdma_adapter *adapter,
				 struct wdmdma_req *req, unsigned int reg_base)
{
	struct wdmdma_xfer *xfer = req->xfer;
	u8 source = xfer->source;
	unsigned int max_ents = xfer->max_ents;

	if (xfer != container_of(req, struct wdmdma_xfer, req))
		xfer->req = *req;
	xfer->req.flags &= ~WDMDMA_REQ_SLOT;
	xfer->req.xfer = xfer;
	xfer->req.state = WDMDMA_REQ_RUNNING;
	req->state = WDMDMA_REQ_RUNNING;
	if (req->ctx)
		req->ctx->state = WDMDMA_REQ_RUNNING;
	xfer->magic = WDMDMA_XFER_MAGIC;
	xfer->source = source;
	xfer->max_ents = max_ents;
	xfer->adapter = adapter;
	xfer->reg_base = reg_base;
	xfer->nr_regs = req->nr_regs;
	list_add_tail(&xfer->node, &adapter->outstanding);
	adapter->stats.outstanding++;
	if (req->nr_regs)
		adapter->stats.bounced++;
	switch (source) {
	case WDMDMA_SRC_ALLOC:
		adapter->stats.allocated++;
		break;
	case WDMDMA_SRC_RESERVE:
		adapter->stats.reserve++;
		break;
	default:
		adapter->stats.built++;
		break;
	}
	if (req->flags & WDMDMA_REQ_SLOT)
		list_add(&req->node, &adapter->free_slots);
	return xfer;
}

/* Undo claim() after a failed mapping. Called with adapter->lock held. */
static void unclaim(struct wdmdma_adapter *adapter, struct wdmdma_xfer *xfer)
{
	list_del(&xfer->node);
	adapter->stats.outstanding--;
	if (xfer->nr_regs)
		adapter->stats.bounced--;
	switch (xfer->source) {
	case WDMDMA_SRC_ALLOC:
		adapter->stats.allocated--;
		break;
	case WDMDMA_SRC_RESERVE:
		adapter->stats.reserve--;
		break;
	default:
		adapter->stats.built--;
		break;
	}
	regs_free(adapter, xfer->reg_base, xfer->nr_regs);
	xfer->nr_regs = 0;
}

/*
 * Runs deferred callbacks, retries and late frees. Destroying it at module
 * exit waits for them, so none outlives the code.
 */
static struct workqueue_struct *wdmdma_wq;

/*
 * Schedule the queue runner. Called with adapter->lock held, so that once
 * wdmdma_destroy_adapter() has set ->dead under the lock no new run can be
 * scheduled behind its cancel_work_sync().
 */
static void kick(struct wdmdma_adapter *adapter)
{
	lockdep_assert_held(&adapter->lock);
	if (!adapter->dead)
		queue_work(wdmdma_wq, &adapter->work);
}

/*
 * The adapter's work item: run waiting requests in FIFO order while list
 * memory and map registers last. The head blocks those behind it, so a
 * large transfer is never starved by small ones.
 */
static void wdmdma_run_queue(struct work_struct *work)
{
	struct wdmdma_adapter *adapter =
		container_of(work, struct wdmdma_adapter, work);
	struct wdmdma_req *req;
	struct wdmdma_xfer *xfer;
	unsigned int base;
	unsigned long flags;

	spin_lock_irqsave(&adapter->lock, flags);
	while (!adapter->dead &&
	       (req = list_first_entry_or_null(&adapter->queue,
					       struct wdmdma_req, node))) {
		if (!req->xfer) {
			req->xfer = xfer_alloc(adapter, req->span);
			if (!req->xfer)
				req->xfer = xfer_from_reserve(adapter);
			if (!req->xfer)
				break;
		}
		if (!regs_alloc(adapter, req->nr_regs, &base))
			break;
		list_del(&req->node);
		adapter->stats.queue_depth--;
		xfer = claim(adapter, req, base);
		spin_unlock_irqrestore(&adapter->lock, flags);

		if (xfer_map(xfer)) {
			/* Keep the memory, give back the registers, retry. */
			spin_lock_irqsave(&adapter->lock, flags);
			unclaim(adapter, xfer);
			req = xfer->req.ctx ? xfer->req.ctx : &xfer->req;
			req->state = WDMDMA_REQ_QUEUED;
			req->xfer = xfer;
			list_add(&req->node, &adapter->queue);
			adapter->stats.queue_depth++;
			if (!adapter->dead)
				queue_delayed_work(wdmdma_wq, &adapter->retry,
						   msecs_to_jiffies(10));
			spin_unlock_irqrestore(&adapter->lock, flags);
			return;
		}

		local_bh_disable();
		invoke(xfer);
		local_bh_enable();
		spin_lock_irqsave(&adapter->lock, flags);
	}
	spin_unlock_irqrestore(&adapter->lock, flags);
}

static void wdmdma_retry(struct work_struct *work)
{
	struct wdmdma_adapter *adapter =
		container_of(to_delayed_work(work), struct wdmdma_adapter, retry);
	unsigned long flags;

	spin_lock_irqsave(&adapter->lock, flags);
	kick(adapter);
	spin_unlock_irqrestore(&adapter->lock, flags);
}

/*
 * wdmdma_submit() - common body of Get, Build and their _ex forms
 * @tmpl: the request (on the caller's stack): mdl, offset, length, flags,
 *	callback and context filled in
 * @ctx: transfer context of an _ex call, or NULL
 * @buf: Build buffer (with tmpl->buf_len), or NULL for Get
 * @flags: WDMDMA_SYNCHRONOUS
 * @sglp: where a synchronous call returns the list, or NULL
 */
int wdmdma_submit(struct wdmdma_adapter *adapter, struct wdmdma_req *tmpl,
		  struct wdmdma_xfer_ctx *ctx, void *buf, unsigned int flags,
		  struct wdmdma_sg_list **sglp)
{
	struct wdmdma_xfer *xfer = NULL;
	struct wdmdma_req *req;
	unsigned long irqflags;
	unsigned int base;
	bool sync = flags & WDMDMA_SYNCHRONOUS;
	int ret;

	if (!adapter) {
		pr_err("a list was requested from a NULL adapter\n");
		return -EINVAL;
	}
	if (flags & ~WDMDMA_SYNCHRONOUS)
		return -EINVAL;
	if (!tmpl->fn && !(sync && sglp))
		return -EINVAL;
	ret = plan_request(adapter, tmpl);
	if (ret)
		return ret;

	if (buf) {
		size_t need = xfer_size(xfer_ents(adapter, tmpl->span));

		if (tmpl->buf_len < need)
			return -ENOBUFS;
		if (!IS_ALIGNED((unsigned long)buf, __alignof__(struct wdmdma_xfer)))
			return -EINVAL;
		xfer = buf;
		xfer->source = WDMDMA_SRC_CALLER;
		xfer->max_ents = xfer_ents(adapter, tmpl->span);
		tmpl->flags |= WDMDMA_REQ_BUILD;
	} else if (list_empty_careful(&adapter->queue)) {
		xfer = xfer_alloc(adapter, tmpl->span);
	}

	spin_lock_irqsave(&adapter->lock, irqflags);
	if (adapter->dead) {
		ret = -ENODEV;
		goto fail;
	}
	if (!list_empty(&adapter->queue))
		goto wait;
	if (!xfer)
		xfer = xfer_from_reserve(adapter);
	if (!xfer || !regs_alloc(adapter, tmpl->nr_regs, &base))
		goto wait;

	tmpl->xfer = xfer;
	tmpl->ctx = (struct wdmdma_req *)ctx;
	xfer = claim(adapter, tmpl, base);
	spin_unlock_irqrestore(&adapter->lock, irqflags);

	ret = xfer_map(xfer);
	if (ret) {
		spin_lock_irqsave(&adapter->lock, irqflags);
		unclaim(adapter, xfer);
		if (ctx)
			((struct wdmdma_req *)ctx)->state = WDMDMA_REQ_IDLE;
		xfer_release(adapter, xfer);
		kick(adapter);
		spin_unlock_irqrestore(&adapter->lock, irqflags);
		return ret;
	}
	if (sglp)
		*sglp = &xfer->list;
	invoke(xfer);
	return 0;

wait:
	if (sync) {
		ret = -ENOMEM;
		goto fail;
	}
	if (ctx) {
		req = (struct wdmdma_req *)ctx;
		tmpl->flags |= WDMDMA_REQ_CTX;
	} else if (xfer) {
		req = &xfer->req;
	} else {
		req = list_first_entry_or_null(&adapter->free_slots,
					       struct wdmdma_req, node);
		if (!req) {
			ret = -ENOMEM;
			dev_warn_ratelimited(adapter->dev,
					     "no memory, reserve and waiter slots all in use\n");
			goto fail;
		}
		list_del(&req->node);
		tmpl->flags |= WDMDMA_REQ_SLOT;
	}
	*req = *tmpl;
	req->ctx = ctx ? req : NULL;
	req->xfer = xfer;
	req->state = WDMDMA_REQ_QUEUED;
	list_add_tail(&req->node, &adapter->queue);
	adapter->stats.deferred++;
	adapter->stats.queue_depth++;
	spin_unlock_irqrestore(&adapter->lock, irqflags);
	return 0;

fail:
	if (xfer)
		xfer_release(adapter, xfer);
	spin_unlock_irqrestore(&adapter->lock, irqflags);
	return ret;
}

/* --- Adapters ----------------------------------------------------------- */

static void adapter_free(struct wdmdma_adapter *adapter)
{
	unsigned int c;

	mempool_destroy(adapter->reserve);
	for (c = 0; c < adapter->nr_chunks; c++)
		free_pages_exact(adapter->chunk[c],
				 (size_t)adapter->chunk_pages * PAGE_SIZE);
	kfree(adapter->chunk);
	bitmap_free(adapter->reg_map);
	kfree(adapter->slots);
	ida_free(&wdmdma_ida, adapter->id);
	put_device(adapter->dev);
	kfree(adapter);
}

static void wdmdma_free_work(struct work_struct *work)
{
	adapter_free(container_of(work, struct wdmdma_adapter, free_work));
}

static int regs_init(struct wdmdma_adapter *adapter)
{
	gfp_t gfp = GFP_KERNEL;
	phys_addr_t phys;
	unsigned int c;
	bool need;

	need = !adapter->desc.scatter_gather ||
	       (!adapter->iommu &&
		adapter->limit < dma_get_required_mask(adapter->dev));
	if (!need)
		return 0;

	if (!adapter->iommu) {
		if (adapter->desc.dma_width < 32)
			gfp |= GFP_DMA;
		else if (adapter->desc.dma_width < 64)
			gfp |= GFP_DMA32;
	}
	adapter->nr_chunks = adapter->desc.nr_reserve;
	adapter->chunk_pages = DIV_ROUND_UP(adapter->desc.max_transfer, PAGE_SIZE);
	adapter->chunk = kcalloc(adapter->nr_chunks, sizeof(void *), GFP_KERNEL);
	adapter->reg_map = bitmap_zalloc(adapter->nr_chunks * adapter->chunk_pages,
					 GFP_KERNEL);
	if (!adapter->chunk || !adapter->reg_map)
		return -ENOMEM;
	for (c = 0; c < adapter->nr_chunks; c++) {
		size_t size = (size_t)adapter->chunk_pages * PAGE_SIZE;
		void *va = alloc_pages_exact(size, gfp | __GFP_NOWARN);

		if (!va) {
			dev_err(adapter->dev,
				"cannot allocate %zu bytes of map registers below %u bits\n",
				size, adapter->desc.dma_width);
			return -ENOMEM;
		}
		adapter->chunk[c] = va;
		phys = virt_to_phys(va);
		if (!adapter->iommu && phys + size - 1 > adapter->limit) {
			dev_err(adapter->dev,
				"map registers at %pa are beyond the device's %u-bit reach\n",
				&phys, adapter->desc.dma_width);
			return -ENOMEM;
		}
	}
	adapter->stats.map_regs_total = adapter->nr_chunks * adapter->chunk_pages;
	return 0;
}

/**
 * wdmdma_create_adapter() - create a DMA adapter for a device (IoGetDmaAdapter)
 * @dev: the device that will do the DMA
 * @desc: what the device can do
 * @nr_map_registers: if not NULL, receives the most map registers (pages
 *	spanned) one transfer may use
 *
 * Sets @dev's streaming and coherent DMA masks to @desc->dma_width bits and
 * preallocates everything the emergency reserve needs: @desc->nr_reserve
 * lists sized for a maximum transfer at the worst alignment, the waiter
 * slots, and, when the device may need bouncing (no scatter/gather, or an
 * address width below what memory needs and no IOMMU), map registers:
 * @desc->nr_reserve contiguous chunks of bounce memory the device can
 * reach. On failure nothing is left allocated.
 *
 * Context: process context; sleeps.
 * Return: the adapter, or ERR_PTR(-EINVAL) for a bad description,
 * ERR_PTR(-EIO) if the DMA mask cannot be set, ERR_PTR(-ENOMEM).
 */
struct wdmdma_adapter *wdmdma_create_adapter(struct device *dev,
					     const struct wdmdma_desc *desc,
					     unsigned int *nr_map_registers)
{
	struct wdmdma_adapter *adapter;
	unsigned int i;
	int ret;

	might_sleep();
	if (!dev || !desc) {
		pr_err("create_adapter: NULL device or description\n");
		return ERR_PTR(-EINVAL);
	}
	if (desc->dma_width < 24 || desc->dma_width > 64) {
		dev_err(dev, "DMA address width %u is outside 24..64 bits\n",
			desc->dma_width);
		return ERR_PTR(-EINVAL);
	}
	if (!desc->max_transfer) {
		dev_err(dev, "maximum transfer length is zero\n");
		return ERR_PTR(-EINVAL);
	}
	if (!desc->scatter_gather && dma_get_max_seg_size(dev) < desc->max_transfer) {
		dev_err(dev,
			"one-element device: max DMA segment %u < max transfer %u; call dma_set_max_seg_size()\n",
			dma_get_max_seg_size(dev), desc->max_transfer);
		return ERR_PTR(-EINVAL);
	}
	if (dma_get_max_seg_size(dev) < PAGE_SIZE) {
		dev_err(dev, "max DMA segment %u is below a page\n",
			dma_get_max_seg_size(dev));
		return ERR_PTR(-EINVAL);
	}
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(desc->dma_width));
	if (ret) {
		dev_err(dev, "cannot use a %u-bit DMA mask: %d\n",
			desc->dma_width, ret);
		return ERR_PTR(-EIO);
	}

	adapter = kzalloc(sizeof(*adapter), GFP_KERNEL);
	if (!adapter)
		return ERR_PTR(-ENOMEM);
	ret = ida_alloc(&wdmdma_ida, GFP_KERNEL);
	if (ret < 0) {
		kfree(adapter);
		return ERR_PTR(ret);
	}
	adapter->id = ret;
	adapter->dev = get_device(dev);
	adapter->desc = *desc;
	if (!adapter->desc.nr_reserve)
		adapter->desc.nr_reserve = 1;
	if (!adapter->desc.max_waiters)
		adapter->desc.max_waiters = 64;
	adapter->limit = DMA_BIT_MASK(desc->dma_width);
	adapter->iommu = device_iommu_mapped(dev);
	adapter->max_seg = dma_get_max_seg_size(dev);
	adapter->max_regs = span_pages(PAGE_SIZE - 1, desc->max_transfer);
	adapter->reserve_size = xfer_size(xfer_ents(adapter, adapter->max_regs));
	adapter->fail_alloc = -1;
	wdmdma_nt_init(adapter);
	spin_lock_init(&adapter->lock);
	INIT_LIST_HEAD(&adapter->queue);
	INIT_LIST_HEAD(&adapter->outstanding);
	INIT_LIST_HEAD(&adapter->free_slots);
	INIT_WORK(&adapter->work, wdmdma_run_queue);
	INIT_DELAYED_WORK(&adapter->retry, wdmdma_retry);
	INIT_WORK(&adapter->free_work, wdmdma_free_work);

	adapter->slots = kcalloc(adapter->desc.max_waiters,
				 sizeof(*adapter->slots), GFP_KERNEL);
	if (!adapter->slots)
		goto free_adapter;
	for (i = 0; i < adapter->desc.max_waiters; i++)
		list_add_tail(&adapter->slots[i].node, &adapter->free_slots);

	adapter->reserve = mempool_create(adapter->desc.nr_reserve,
					  reserve_elem_alloc, reserve_elem_free,
					  adapter);
	if (!adapter->reserve) {
		dev_err(dev, "cannot preallocate %u reserve lists of %zu bytes\n",
			adapter->desc.nr_reserve, adapter->reserve_size);
		goto free_adapter;
	}
	if (regs_init(adapter))
		goto free_adapter;

	wdmdma_debugfs_add(adapter);
	if (nr_map_registers)
		*nr_map_registers = adapter->max_regs;
	dev_dbg(dev, "adapter %u: %s, %u-bit, max %u bytes, %u map registers per transfer, %llu owned\n",
		adapter->id, desc->scatter_gather ? "scatter/gather" : "one element",
		desc->dma_width, desc->max_transfer, adapter->max_regs,
		adapter->stats.map_regs_total);
	return adapter;

free_adapter:
	adapter_free(adapter);
	return ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_GPL(wdmdma_create_adapter);

/**
 * wdmdma_destroy_adapter() - tear an adapter down (PutDmaAdapter)
 * @adapter: the adapter; NULL is ignored
 *
 * Requests still waiting are cancelled (their callbacks never run), each
 * reported. Lists still outstanding are a caller bug: a WARN gives their
 * count, and the adapter's memory stays valid until the last of them is
 * put, so that late Puts do not touch freed memory.
 *
 * Context: process context; sleeps (waits for a running deferred callback).
 */
void wdmdma_destroy_adapter(struct wdmdma_adapter *adapter)
{
	struct wdmdma_req *req, *tmp;
	unsigned long flags;
	u64 outstanding;
	LIST_HEAD(cancelled);

	if (!adapter)
		return;
	might_sleep();

	spin_lock_irqsave(&adapter->lock, flags);
	adapter->dead = true;
	list_splice_init(&adapter->queue, &cancelled);
	spin_unlock_irqrestore(&adapter->lock, flags);
	cancel_work_sync(&adapter->work);
	cancel_delayed_work_sync(&adapter->retry);

	list_for_each_entry_safe(req, tmp, &cancelled, node) {
		dev_warn(adapter->dev,
			 "adapter destroyed: cancelled a waiting request (callback %ps, context %p)\n",
			 req->fn, req->context);
		spin_lock_irqsave(&adapter->lock, flags);
		list_del(&req->node);
		req->state = WDMDMA_REQ_CANCELLED;
		adapter->stats.cancelled++;
		adapter->stats.queue_depth--;
		if (req->xfer)
			xfer_release(adapter, req->xfer);
		spin_unlock_irqrestore(&adapter->lock, flags);
	}

	wdmdma_debugfs_remove(adapter);

	spin_lock_irqsave(&adapter->lock, flags);
	outstanding = adapter->stats.outstanding;
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (outstanding) {
		dev_WARN(adapter->dev,
			 "adapter destroyed with %llu lists outstanding\n",
			 outstanding);
		return;	/* the last Put frees the adapter */
	}
	adapter_free(adapter);
}
EXPORT_SYMBOL_GPL(wdmdma_destroy_adapter);

/**
 * wdmdma_adapter_device() - the device an adapter was created for
 * @adapter: the adapter
 */
struct device *wdmdma_adapter_device(const struct wdmdma_adapter *adapter)
{
	return adapter->dev;
}
EXPORT_SYMBOL_GPL(wdmdma_adapter_device);

/* --- The list routines -------------------------------------------------- */

int wdmdma_offset_of(const struct wdmdma_mdl *mdl, const void *current_va,
		     u64 *offset)
{
	if (!mdl || (unsigned long)current_va < (unsigned long)mdl->va)
		return -EINVAL;
	*offset = (unsigned long)current_va - (unsigned long)mdl->va;
	return 0;
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
 * A zero @length or a range past the MDL chain also counts as a verifier
 * error (see the verifier module parameter).
 *
 * Context: any; does not sleep or allocate.
 * Return: 0; -EINVAL for a NULL adapter, zero @length or a range past the
 * MDL chain; -EMSGSIZE if @length exceeds the adapter's maximum transfer;
 * -ENOSPC if the transfer needs more map registers than the adapter allows.
 */
int wdmdma_calculate_sg_list(struct wdmdma_adapter *adapter,
			     const struct wdmdma_mdl *mdl,
			     const void *current_va, u32 length,
			     size_t *list_size,
			     unsigned int *nr_map_registers)
{
	struct wdmdma_req req = { .length = length };
	int ret;

	if (!adapter || !list_size)
		return -EINVAL;
	if (mdl) {
		ret = wdmdma_offset_of(mdl, current_va, &req.offset);
		if (ret)
			return ret;
		req.mdl = (struct wdmdma_mdl *)mdl;
		ret = plan_request(adapter, &req);
		if (ret)
			return ret;
	} else {
		if (!length) {
			verifier_report(adapter, "zero-length transfer\n");
			return -EINVAL;
		}
		if (length > adapter->desc.max_transfer)
			return -EMSGSIZE;
		req.span = span_pages((unsigned long)current_va, length);
		if (req.span > adapter->max_regs)
			return -ENOSPC;
	}
	*list_size = xfer_size(xfer_ents(adapter, req.span));
	if (nr_map_registers)
		*nr_map_registers = req.span;
	return 0;
}
EXPORT_SYMBOL_GPL(wdmdma_calculate_sg_list);

static int fill_req(struct wdmdma_req *req, struct wdmdma_mdl *mdl,
		    const void *current_va, u32 length,
		    wdmdma_list_control_t fn, void *context, bool write)
{
	memset(req, 0, sizeof(*req));
	req->mdl = mdl;
	req->length = length;
	req->fn = fn;
	req->context = context;
	req->flags = write ? WDMDMA_REQ_WRITE : 0;
	return wdmdma_offset_of(mdl, current_va, &req->offset);
}

/**
 * wdmdma_get_sg_list() - map a transfer with a list wdmdma allocates
 *	(GetScatterGatherList)
 * @adapter: the adapter
 * @mdl: the MDL chain describing the buffer
 * @current_va: wdmdma_mdl_va(@mdl) + byte offset where the transfer starts
 * @length: bytes to transfer; may run on into chained MDLs
 * @fn: list-control callback
 * @context: passed to @fn
 * @write_to_device: true for memory to device, false for device to memory
 *
 * Finds list memory without sleeping: a GFP_ATOMIC allocation, else an
 * element of the adapter's emergency reserve. Then it takes the map
 * registers the transfer needs, maps it, and calls @fn. If memory or map
 * registers are short, or other requests are already waiting, the request
 * joins the adapter's FIFO queue and @fn runs later, exactly once, from
 * the adapter's work item, when a Put has freed what it needs.
 *
 * Context: any; does not sleep. @fn may run before this returns.
 * Return: 0 if @fn has run or will run; -EINVAL (bad arguments),
 * -EMSGSIZE, -ENOSPC (see wdmdma_calculate_sg_list()), -ENOMEM (no memory,
 * reserve empty and all waiter slots in use), -EIO (mapping failed),
 * -ENODEV (adapter being destroyed). On error @fn never runs.
 */
int wdmdma_get_sg_list(struct wdmdma_adapter *adapter,
		       struct wdmdma_mdl *mdl, const void *current_va,
		       u32 length, wdmdma_list_control_t fn, void *context,
		       bool write_to_device)
{
	struct wdmdma_req req;

	if (fill_req(&req, mdl, current_va, length, fn, context,
		     write_to_device))
		return -EINVAL;
	return wdmdma_submit(adapter, &req, NULL, NULL, 0, NULL);
}
EXPORT_SYMBOL_GPL(wdmdma_get_sg_list);

/**
 * wdmdma_build_sg_list() - map a transfer with a list in the caller's
 *	buffer (BuildScatterGatherList)
 * @adapter: the adapter
 * @mdl: the MDL chain describing the buffer
 * @current_va: wdmdma_mdl_va(@mdl) + byte offset where the transfer starts
 * @length: bytes to transfer
 * @fn: list-control callback
 * @context: passed to @fn
 * @write_to_device: true for memory to device, false for device to memory
 * @buf: buffer for the list and its tracking data, aligned for a pointer
 *	(else -EINVAL); owned by wdmdma until wdmdma_put_sg_list()
 * @buf_len: its size; wdmdma_calculate_sg_list() gives the size needed
 *
 * Like wdmdma_get_sg_list() but allocates nothing on any path. If map
 * registers are short the request waits (in @buf) and @fn runs later.
 *
 * Context: any; does not sleep.
 * Return: as wdmdma_get_sg_list(), plus -ENOBUFS if @buf_len is too small
 * (nothing mapped; @fn never runs). Never -ENOMEM.
 */
int wdmdma_build_sg_list(struct wdmdma_adapter *adapter,
			 struct wdmdma_mdl *mdl, const void *current_va,
			 u32 length, wdmdma_list_control_t fn, void *context,
			 bool write_to_device, void *buf, size_t buf_len)
{
	struct wdmdma_req req;

	if (!buf || fill_req(&req, mdl, current_va, length, fn, context,
			     write_to_device))
		return -EINVAL;
	req.buf_len = buf_len;
	return wdmdma_submit(adapter, &req, NULL, buf, 0, NULL);
}
EXPORT_SYMBOL_GPL(wdmdma_build_sg_list);

/**
 * wdmdma_init_xfer_ctx() - prepare a transfer context
 *	(InitializeDmaTransferContext)
 * @adapter: the adapter the context will be used with
 * @ctx: the context
 *
 * Context: any.
 */
void wdmdma_init_xfer_ctx(struct wdmdma_adapter *adapter,
			  struct wdmdma_xfer_ctx *ctx)
{
	BUILD_BUG_ON(sizeof(struct wdmdma_req) > sizeof(struct wdmdma_xfer_ctx));
	memset(ctx, 0, sizeof(*ctx));
}
EXPORT_SYMBOL_GPL(wdmdma_init_xfer_ctx);

static int submit_ex(struct wdmdma_adapter *adapter,
		     struct wdmdma_xfer_ctx *ctx, struct wdmdma_mdl *mdl,
		     u64 offset, u32 length, unsigned int flags,
		     wdmdma_list_control_t fn, void *context, bool write,
		     void *buf, size_t buf_len, struct wdmdma_sg_list **sglp)
{
	struct wdmdma_req req = {
		.mdl = mdl,
		.offset = offset,
		.length = length,
		.fn = fn,
		.context = context,
		.flags = write ? WDMDMA_REQ_WRITE : 0,
		.buf_len = buf_len,
	};
	struct wdmdma_req *cur = (struct wdmdma_req *)ctx;
	unsigned long irqflags;

	if (!ctx || !mdl)
		return -EINVAL;
	if (adapter) {
		spin_lock_irqsave(&adapter->lock, irqflags);
		if (cur->state == WDMDMA_REQ_QUEUED) {
			spin_unlock_irqrestore(&adapter->lock, irqflags);
			verifier_report(adapter,
					"transfer context reused while its request waits\n");
			return -EINVAL;
		}
		spin_unlock_irqrestore(&adapter->lock, irqflags);
	}
	return wdmdma_submit(adapter, &req, ctx, buf, flags, sglp);
}

/**
 * wdmdma_get_sg_list_ex() - Get with a transfer context and flags
 *	(GetScatterGatherListEx)
 * @adapter: the adapter
 * @ctx: initialised transfer context; a waiting request lives in it, so
 *	no waiter slot is needed; it identifies the request to wdmdma_cancel()
 * @mdl: the MDL chain
 * @offset: byte offset of the transfer into the MDL chain
 * @length: bytes to transfer
 * @flags: 0, or WDMDMA_SYNCHRONOUS: @fn runs before the call returns, or the
 *	call fails with -ENOMEM; the request never waits
 * @fn: list-control callback; may be NULL with WDMDMA_SYNCHRONOUS and @sglp
 * @context: passed to @fn
 * @write_to_device: direction
 * @sglp: with WDMDMA_SYNCHRONOUS, receives the list; may be NULL
 *
 * Context: any; does not sleep.
 * Return: as wdmdma_get_sg_list().
 */
int wdmdma_get_sg_list_ex(struct wdmdma_adapter *adapter,
			  struct wdmdma_xfer_ctx *ctx, struct wdmdma_mdl *mdl,
			  u64 offset, u32 length, unsigned int flags,
			  wdmdma_list_control_t fn, void *context,
			  bool write_to_device, struct wdmdma_sg_list **sglp)
{
	return submit_ex(adapter, ctx, mdl, offset, length, flags, fn, context,
			 write_to_device, NULL, 0, sglp);
}
EXPORT_SYMBOL_GPL(wdmdma_get_sg_list_ex);

/**
 * wdmdma_build_sg_list_ex() - Build with a transfer context and flags
 *	(BuildScatterGatherListEx)
 * @adapter: the adapter
 * @ctx: initialised transfer context
 * @mdl: the MDL chain
 * @offset: byte offset of the transfer into the MDL chain
 * @length: bytes to transfer
 * @flags: 0 or WDMDMA_SYNCHRONOUS
 * @fn: list-control callback; may be NULL with WDMDMA_SYNCHRONOUS and @sglp
 * @context: passed to @fn
 * @write_to_device: direction
 * @buf: buffer for the list (see wdmdma_build_sg_list())
 * @buf_len: its size
 * @sglp: with WDMDMA_SYNCHRONOUS, receives the list; may be NULL
 *
 * Context: any; does not sleep or allocate.
 * Return: as wdmdma_build_sg_list(); -ENOMEM only with WDMDMA_SYNCHRONOUS.
 */
int wdmdma_build_sg_list_ex(struct wdmdma_adapter *adapter,
			    struct wdmdma_xfer_ctx *ctx,
			    struct wdmdma_mdl *mdl, u64 offset, u32 length,
			    unsigned int flags, wdmdma_list_control_t fn,
			    void *context, bool write_to_device, void *buf,
			    size_t buf_len, struct wdmdma_sg_list **sglp)
{
	if (!buf)
		return -EINVAL;
	return submit_ex(adapter, ctx, mdl, offset, length, flags, fn, context,
			 write_to_device, buf, buf_len, sglp);
}
EXPORT_SYMBOL_GPL(wdmdma_build_sg_list_ex);

/**
 * wdmdma_cancel() - cancel a waiting _ex request (CancelAdapterChannel)
 * @adapter: the adapter
 * @ctx: the request's transfer context
 *
 * Context: any; does not sleep.
 * Return: true if the request was waiting: it is removed and its callback
 * will never run. false if its callback has run or is running, or it was
 * never queued.
 */
bool wdmdma_cancel(struct wdmdma_adapter *adapter, struct wdmdma_xfer_ctx *ctx)
{
	struct wdmdma_req *req = (struct wdmdma_req *)ctx;
	struct wdmdma_xfer *xfer = NULL;
	unsigned long flags;
	bool cancelled = false;

	if (!adapter || !ctx)
		return false;
	spin_lock_irqsave(&adapter->lock, flags);
	if (req->state == WDMDMA_REQ_QUEUED) {
		list_del(&req->node);
		req->state = WDMDMA_REQ_CANCELLED;
		adapter->stats.queue_depth--;
		adapter->stats.cancelled++;
		xfer = req->xfer;
		req->xfer = NULL;
		cancelled = true;
	}
	if (xfer)
		xfer_release(adapter, xfer);
	/* The head may have been blocking others that fit now. */
	if (cancelled)
		kick(adapter);
	spin_unlock_irqrestore(&adapter->lock, flags);
	return cancelled;
}
EXPORT_SYMBOL_GPL(wdmdma_cancel);

/* Is @xfer a list this adapter handed out and has not had back? */
static bool is_outstanding(struct wdmdma_adapter *adapter,
			   struct wdmdma_xfer *xfer)
{
	struct wdmdma_xfer *x;

	lockdep_assert_held(&adapter->lock);
	list_for_each_entry(x, &adapter->outstanding, node)
		if (x == xfer)
			return true;
	return false;
}

/**
 * wdmdma_put_sg_list() - end a transfer (PutScatterGatherList)
 * @adapter: the adapter the list came from
 * @sgl: the list given to the callback
 * @write_to_device: the direction given to Get/Build
 *
 * Unmaps the list (syncing for the CPU), copies bounced data back to the
 * buffer for reads, frees its map registers and, for Get, its memory;
 * then wakes waiting requests. The driver must call it before it reads
 * data the device wrote. With the verifier on, a list that is not
 * outstanding on @adapter (already put, or another adapter's) is reported
 * and ignored, and a @write_to_device that differs from the mapping's is
 * reported (the mapping's direction is used).
 *
 * Context: any, including hardirq; does not sleep. Never runs a callback.
 */
void wdmdma_put_sg_list(struct wdmdma_adapter *adapter,
			struct wdmdma_sg_list *sgl, bool write_to_device)
{
	struct wdmdma_xfer *xfer;
	unsigned long flags;
	bool last;

	if (!adapter || !sgl) {
		pr_err("put_sg_list: NULL %s\n", adapter ? "list" : "adapter");
		return;
	}
	xfer = container_of(sgl, struct wdmdma_xfer, list);

	spin_lock_irqsave(&adapter->lock, flags);
	if (wdmdma_verifier ? !is_outstanding(adapter, xfer) :
	    xfer->magic != WDMDMA_XFER_MAGIC || xfer->adapter != adapter) {
		spin_unlock_irqrestore(&adapter->lock, flags);
		verifier_report(adapter,
				"put of list %p that is not outstanding here (double put, or another adapter's)\n",
				sgl);
		return;
	}
	xfer->magic = WDMDMA_XFER_PUT;	/* a racing second Put is refused */
	list_del(&xfer->node);
	spin_unlock_irqrestore(&adapter->lock, flags);

	if (!!(xfer->req.flags & WDMDMA_REQ_WRITE) != !!write_to_device)
		verifier_report(adapter,
				"put with write_to_device=%d, mapped with %d\n",
				write_to_device,
				!!(xfer->req.flags & WDMDMA_REQ_WRITE));

	dma_unmap_sgtable(adapter->dev, &xfer->sgt, req_dir(&xfer->req), 0);
	if (xfer->nr_regs && !(xfer->req.flags & WDMDMA_REQ_WRITE))
		bounce_copy(xfer, false);

	spin_lock_irqsave(&adapter->lock, flags);
	regs_free(adapter, xfer->reg_base, xfer->nr_regs);
	adapter->stats.outstanding--;
	xfer_release(adapter, xfer);
	if (!list_empty(&adapter->queue))
		kick(adapter);
	last = adapter->dead && !adapter->stats.outstanding;
	spin_unlock_irqrestore(&adapter->lock, flags);

	/* Destroyed while this list was out: the last Put frees it. */
	if (last)
		queue_work(wdmdma_wq, &adapter->free_work);
}
EXPORT_SYMBOL_GPL(wdmdma_put_sg_list);

/**
 * wdmdma_get_stats() - read an adapter's counters
 * @adapter: the adapter
 * @stats: receives a consistent snapshot
 *
 * Context: any.
 */
void wdmdma_get_stats(struct wdmdma_adapter *adapter,
		      struct wdmdma_stats *stats)
{
	unsigned long flags;

	spin_lock_irqsave(&adapter->lock, flags);
	*stats = adapter->stats;
	spin_unlock_irqrestore(&adapter->lock, flags);
}
EXPORT_SYMBOL_GPL(wdmdma_get_stats);

/**
 * wdmdma_set_fail_alloc() - inject list-allocation failures on one adapter
 * @adapter: the adapter
 * @percent: 0..100: fail that share of Get's normal allocations, so the
 *	reserve and the queue are used; -1: follow the fail_alloc_percent
 *	module parameter (the default)
 *
 * For tests and benchmarks. The reserve itself never fails.
 * Context: any.
 */
void wdmdma_set_fail_alloc(struct wdmdma_adapter *adapter, int percent)
{
	WRITE_ONCE(adapter->fail_alloc, clamp(percent, -1, 100));
}
EXPORT_SYMBOL_GPL(wdmdma_set_fail_alloc);

static int __init wdmdma_init(void)
{
	wdmdma_wq = alloc_workqueue("wdmdma", WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	if (!wdmdma_wq)
		return -ENOMEM;
	wdmdma_debugfs_init();
	return 0;
}

static void __exit wdmdma_exit(void)
{
	destroy_workqueue(wdmdma_wq);
	wdmdma_debugfs_exit();
	ida_destroy(&wdmdma_ida);
}

module_init(wdmdma_init);
module_exit(wdmdma_exit);

MODULE_DESCRIPTION("Windows scatter/gather DMA contract on the Linux DMA API");
MODULE_AUTHOR("The wdmdma authors");
MODULE_LICENSE("GPL");
