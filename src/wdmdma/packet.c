// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma packet-based DMA: the adapter channel (AllocateAdapterChannel and
 * its Ex form), map register bases, MapTransfer, FlushAdapterBuffers,
 * FreeMapRegisters and FreeAdapterChannel.
 *
 * An adapter has one channel: it serves one packet-based transfer at a
 * time. A channel request needs the channel, memory for its map register
 * base and, when the adapter has map registers (a one-element device, or
 * one that cannot reach all memory), that many of them. It waits for what
 * it lacks in the adapter's queue like a list request (queue.c), behind
 * earlier channel requests (WDMDMA_WAIT_CHAN) and behind requests waiting
 * for the memory or map registers it needs too; the queue's work item runs
 * its adapter-control routine when everything is free. Its memory comes
 * from a non-sleeping allocation, else the emergency reserve; a request
 * that waits lives in it, in its transfer context (Ex), or in a waiter
 * slot.
 *
 * A map register base is a struct wdmdma_xfer that is not a list (magic
 * WDMDMA_REGS_MAGIC); it sits on the adapter's outstanding list and holds
 * an adapter reference, like a list, until wdmdma_free_map_registers().
 * req.span is the number of map registers the driver asked for (Windows
 * counts them: a piece uses the pages it touches), nr_regs the pages of
 * the adapter's own map registers it holds. MapTransfer maps one piece:
 *  - on a scatter/gather adapter, one physically contiguous run the
 *    device reaches, mapped in place with dma_map_page(); a page the
 *    device cannot reach is copied to a map register of its own instead;
 *  - on a one-element adapter, the piece is copied to the map registers
 *    after the pieces before it, so that one transfer is one contiguous
 *    run of them.
 * The map registers are mapped for the device once, both ways, when a
 * piece first uses them, and synced per piece; FlushAdapterBuffers syncs
 * them back, copies what a read brought in to the buffer, and unmaps the
 * pieces mapped in place. Records of the pieces follow the base's
 * elements (see struct wdmdma_pkt).
 *
 * The channel has an owner, the base of the request it was granted to
 * (adapter->chan_owner). Only the owner releases it: its routine's return
 * value, a wdmdma_free_channel() from inside its routine, or, once the
 * routine returned WDMDMA_KEEP_OBJECT, a wdmdma_free_channel() from the
 * driver, which then frees the base's map registers too (adapter->chan_base,
 * unless wdmdma_free_map_registers() freed them first). A
 * wdmdma_free_channel() from the routine of another request, from outside
 * while the owner's routine still runs (another task, or an interrupt on
 * the routine's CPU), or with no channel held, is reported and ignored.
 * adapter->chan_caller is the base whose routine runs in chan_caller_task
 * and chan_caller_ctx (the innermost, when a routine's own request runs
 * another routine in its task), to tell who calls.
 *
 * What is not told apart: once the holder's routine has returned
 * WDMDMA_KEEP_OBJECT, FreeAdapterChannel takes no argument that says who
 * calls, so a stray second release by a former holder, after the channel
 * was granted again and kept, looks like the new holder's own and frees
 * its channel and map registers. With the verifier on, such a release is
 * reported and ignored while the holder's base has pieces mapped (no
 * flush yet), when it would pull mappings from under the device; a base
 * with nothing mapped is released.
 *
 * A map register base stays allocated while its routine runs: a
 * wdmdma_free_map_registers() of it meanwhile (from the routine itself or
 * from elsewhere) takes it off at once, so that nothing else can use or
 * free it, and completes when the routine returns (base->free_at_return).
 * The routine's return value then finds it freed already: DeallocateObject
 * is reported and frees nothing more; a channel request made by the
 * routine never gets the memory of its base.
 *
 * Locking: adapter->lock guards the adapter->chan_* fields, and as for
 * lists the queue, the map-register bitmap and the outstanding list. It is
 * not held
 * while an adapter-control routine runs, nor while MapTransfer and
 * FlushAdapterBuffers map, copy or unmap: a map register base belongs to
 * its driver, which makes one call on it at a time.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>

#include "internal.h"

/* One piece MapTransfer mapped since the last flush. */
struct wdmdma_pkt_rec {
	dma_addr_t addr;	/* what the device was given */
	struct page *page;	/* copied to a map register: the buffer page */
	u32 len;
	u32 off;		/* offset of the piece in @page */
};

static inline struct wdmdma_pkt_rec *wdmdma_pkt_recs(struct wdmdma_xfer *xfer)
{
	BUILD_BUG_ON(sizeof(struct wdmdma_pkt_rec) > sizeof(struct scatterlist));
	return (void *)ALIGN((unsigned long)&xfer->list.elements[xfer->max_ents],
			     __alignof__(struct scatterlist));
}

static inline struct wdmdma_map_regs *wdmdma_to_regs(struct wdmdma_xfer *xfer)
{
	return (struct wdmdma_map_regs *)xfer;
}

/* The adapter's own map registers (pages) a channel of @nr holds. */
static unsigned int wdmdma_channel_regs(const struct wdmdma_adapter *adapter,
					unsigned int nr)
{
	if (!adapter->nr_chunks)
		return 0;
	return min(nr, adapter->chunk_pages);
}

/*
 * Is @xfer a map register base @adapter handed out and has not had back?
 * With the verifier on, look it up; else trust its magic and owner.
 */
static bool wdmdma_regs_outstanding(struct wdmdma_adapter *adapter,
				    struct wdmdma_xfer *xfer)
{
	struct wdmdma_xfer *x;

	lockdep_assert_held(&adapter->lock);
	if (!wdmdma_verifier)
		return xfer->magic == WDMDMA_REGS_MAGIC &&
		       xfer->adapter == adapter;
	list_for_each_entry(x, &adapter->outstanding, node)
		if (x == xfer)
			return x->magic == WDMDMA_REGS_MAGIC;
	return false;
}

/* The map register base @regs of @adapter, or NULL (reported). */
static struct wdmdma_xfer *wdmdma_regs_get(struct wdmdma_adapter *adapter,
					   struct wdmdma_map_regs *regs,
					   const char *what)
{
	struct wdmdma_xfer *xfer = (struct wdmdma_xfer *)regs;
	unsigned long flags;
	bool ok;

	if (!adapter) {
		pr_err_ratelimited("%s: NULL adapter: refused\n", what);
		return NULL;
	}
	if (!regs) {
		wdmdma_verifier_report(adapter, "%s: NULL map register base\n",
				       what);
		return NULL;
	}
	spin_lock_irqsave(&adapter->lock, flags);
	ok = wdmdma_regs_outstanding(adapter, xfer);
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (!ok) {
		wdmdma_verifier_report(adapter,
				       "%s: %p is not a map register base held on this adapter (freed already, or another adapter's)\n",
				       what, regs);
		return NULL;
	}
	return xfer;
}

/* --- The channel ------------------------------------------------------------ */

/*
 * The context the caller runs in besides its task: NMI, hard interrupt,
 * or serving a softirq. An interrupt that comes in on the CPU of a routine
 * has the routine's task as current, but it is not the routine.
 */
static unsigned int wdmdma_chan_ctx(void)
{
	return preempt_count() & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET);
}

/*
 * A channel request was claimed (wdmdma_claim()): it holds the channel now,
 * and its list memory becomes a map register base with nothing mapped.
 * Its routine runs in this task (the one that claimed it).
 */
void wdmdma_channel_claimed(struct wdmdma_adapter *adapter,
			    struct wdmdma_xfer *xfer)
{
	lockdep_assert_held(&adapter->lock);
	adapter->chan_owner = xfer;
	adapter->chan_task = current;
	adapter->chan_ctx = wdmdma_chan_ctx();
	adapter->chan_kept = false;
	adapter->chan_base = xfer;	/* kept if the routine keeps it */
	xfer->magic = WDMDMA_REGS_MAGIC;
	xfer->in_routine = false;
	xfer->free_at_return = false;
	memset(&xfer->pkt, 0, sizeof(xfer->pkt));
	xfer->list.nr_elements = 0;
	xfer->list.reserved = (unsigned long)xfer;
	xfer->direct = false;
	xfer->iova = false;
	xfer->nr_runs = 0;
}

/* Release the channel; the caller has checked that it may. */
static void wdmdma_channel_release(struct wdmdma_adapter *adapter)
{
	lockdep_assert_held(&adapter->lock);
	adapter->chan_owner = NULL;
	adapter->chan_task = NULL;
	adapter->chan_ctx = 0;
	adapter->chan_kept = false;
	adapter->chan_base = NULL;
	if (!list_empty(&adapter->queue))
		wdmdma_kick(adapter);
}

/*
 * Take map register base @xfer off the outstanding list, to be freed with
 * wdmdma_regs_finish(): false (nothing done) if it is not outstanding.
 */
static bool wdmdma_regs_take(struct wdmdma_adapter *adapter,
			     struct wdmdma_xfer *xfer)
{
	lockdep_assert_held(&adapter->lock);
	if (!wdmdma_regs_outstanding(adapter, xfer))
		return false;
	xfer->magic = WDMDMA_XFER_PUT;	/* a racing second free is refused */
	list_del(&xfer->node);
	adapter->stats.outstanding--;
	if (adapter->chan_base == xfer)
		adapter->chan_base = NULL;	/* FreeAdapterChannel: not again */
	return true;
}

static void wdmdma_regs_finish(struct wdmdma_adapter *adapter,
			       struct wdmdma_xfer *xfer);

/*
 * Run a claimed channel request's adapter-control routine and do what it
 * returns. The caller then calls wdmdma_mapping_done(). The base stays
 * allocated until the routine returns (a free meanwhile completes here),
 * so it is read after the routine. The adapter still
 * outlives this call, as wdmdma_destroy_adapter() waits for the mapping
 * count (taken in wdmdma_claim(), dropped after this) and for the work
 * item, and the submit path holds a reference of its own across the call
 * (its last put frees a destroyed adapter).
 */
void wdmdma_channel_run(struct wdmdma_adapter *adapter,
			struct wdmdma_xfer *xfer)
{
	struct wdmdma_req *req = &xfer->req;
	struct device *dev = req->dev ? req->dev : adapter->dev;
	wdmdma_adapter_control_t fn = req->ctl_fn;
	struct task_struct *prev_task;
	unsigned int prev_ctx;
	struct wdmdma_xfer *prev;
	unsigned long flags;
	bool owner, freed, free_regs = false;
	int action;

	if (req->ctx)
		WRITE_ONCE(req->ctx->state, WDMDMA_REQ_RUNNING);
	spin_lock_irqsave(&adapter->lock, flags);
	if (!fn) {	/* synchronous Ex call returning the base: kept */
		if (adapter->chan_owner == xfer)
			adapter->chan_kept = true;
		spin_unlock_irqrestore(&adapter->lock, flags);
		return;
	}
	/*
	 * Nested in a routine of this task (its own request, or an
	 * interrupt on its CPU): restored after.
	 */
	prev = adapter->chan_caller_task == current ? adapter->chan_caller :
						       NULL;
	prev_task = adapter->chan_caller_task;
	prev_ctx = adapter->chan_caller_ctx;
	adapter->chan_caller = xfer;
	adapter->chan_caller_task = current;
	adapter->chan_caller_ctx = wdmdma_chan_ctx();
	xfer->in_routine = true;
	spin_unlock_irqrestore(&adapter->lock, flags);

	if (req->flags & WDMDMA_REQ_NT)
		action = req->nt_ctl_fn(dev, NULL, xfer, req->context);
	else
		action = fn(dev, NULL, wdmdma_to_regs(xfer), req->context);

	spin_lock_irqsave(&adapter->lock, flags);
	if (adapter->chan_caller == xfer) {
		adapter->chan_caller = prev;
		adapter->chan_caller_task = prev ? prev_task : NULL;
		adapter->chan_caller_ctx = prev ? prev_ctx : 0;
	}
	/* Freed during the routine: it is ours to finish now. */
	xfer->in_routine = false;
	freed = xfer->free_at_return;
	/* The routine may have released the channel itself. */
	owner = adapter->chan_owner == xfer;
	switch (action) {
	case WDMDMA_DEALLOCATE_OBJECT:
		free_regs = wdmdma_regs_take(adapter, xfer);
		fallthrough;
	case WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS:
		if (owner)
			wdmdma_channel_release(adapter);
		break;
	case WDMDMA_KEEP_OBJECT:
	default:	/* reported below: both stay allocated */
		if (owner)
			adapter->chan_kept = true;
		break;
	}
	spin_unlock_irqrestore(&adapter->lock, flags);

	if (free_regs || freed)
		wdmdma_regs_finish(adapter, xfer);	/* @xfer is gone */
	if (!free_regs && action == WDMDMA_DEALLOCATE_OBJECT)
		wdmdma_verifier_report(adapter,
				       "adapter-control routine %ps returned DeallocateObject for map registers it had freed already\n",
				       fn);
	if (action < WDMDMA_KEEP_OBJECT ||
	    action > WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS)
		wdmdma_verifier_report(adapter,
				       "adapter-control routine %ps returned %d, not an allocation action: the channel and map registers stay allocated\n",
				       fn, action);
}

/**
 * wdmdma_channel_submit() - common body of the channel requests
 * @adapter: the adapter
 * @tmpl: the request (on the caller's stack): routine, context, device and
 *	WDMDMA_REQ_NT filled in
 * @nr: map registers asked for
 * @ctx: transfer context of an Ex call, or NULL
 * @flags: WDMDMA_SYNCHRONOUS
 * @regsp: where a synchronous call returns the map register base, or NULL
 *
 * Return: see wdmdma_allocate_channel_ex().
 */
int wdmdma_channel_submit(struct wdmdma_adapter *adapter,
			  struct wdmdma_req *tmpl, unsigned int nr,
			  struct wdmdma_xfer_ctx *ctx, unsigned int flags,
			  struct wdmdma_map_regs **regsp)
{
	struct wdmdma_req *cur = (struct wdmdma_req *)ctx;
	unsigned long irqflags, need = BIT(WDMDMA_WAIT_CHAN);
	bool sync = flags & WDMDMA_SYNCHRONOUS;
	struct wdmdma_xfer *xfer = NULL, *claimed;
	int ret;

	if (!adapter) {
		pr_err_ratelimited("the adapter channel was requested from a NULL adapter: refused\n");
		return -EINVAL;
	}
	if (flags & ~WDMDMA_SYNCHRONOUS) {
		dev_err_ratelimited(adapter->dev,
				    "adapter channel: unknown flags %#x\n",
				    flags);
		return -EINVAL;
	}
	if (!tmpl->ctl_fn && !(sync && regsp)) {
		dev_err_ratelimited(adapter->dev,
				    "adapter channel: no adapter-control routine (allowed only synchronous, with the base returned)\n");
		return -EINVAL;
	}
	if (!nr) {
		wdmdma_verifier_report(adapter,
				       "adapter channel requested with no map registers\n");
		return -EINVAL;
	}
	if (nr > adapter->max_regs) {
		dev_err_ratelimited(adapter->dev,
				    "adapter channel requested with %u map registers; the adapter grants %u\n",
				    nr, adapter->max_regs);
		return -ENOSPC;
	}
	tmpl->mdl = NULL;
	tmpl->offset = 0;
	tmpl->length = 0;
	tmpl->span = nr;
	tmpl->nr_regs = wdmdma_channel_regs(adapter, nr);
	tmpl->bounce_all = false;
	tmpl->flags |= WDMDMA_REQ_CHANNEL;
	tmpl->state = WDMDMA_REQ_IDLE;
	tmpl->xfer = NULL;
	tmpl->ctx = NULL;
	tmpl->buf_len = 0;

	if (!READ_ONCE(adapter->nr_waiting[WDMDMA_WAIT_MEM]))
		xfer = wdmdma_xfer_alloc(adapter, nr);
	if (!xfer)
		need |= BIT(WDMDMA_WAIT_MEM);
	if (tmpl->nr_regs)
		need |= BIT(WDMDMA_WAIT_REGS);

	spin_lock_irqsave(&adapter->lock, irqflags);
	ret = wdmdma_submit_allowed(adapter, cur);
	if (ret)
		goto fail;	/* -EBUSY is reported below, outside the lock */
	if (adapter->chan_owner || wdmdma_behind(adapter, need))
		goto wait;
	claimed = wdmdma_claim_now(adapter, tmpl, cur, &xfer);
	if (!claimed)
		goto wait;
	xfer = claimed;
	wdmdma_channel_claimed(adapter, xfer);
	spin_unlock_irqrestore(&adapter->lock, irqflags);

	/* With a routine, the base may be gone when it returns. */
	if (!tmpl->ctl_fn)
		*regsp = wdmdma_to_regs(xfer);
	/* Destroy waits for the routine: the mapping count drops after it. */
	kref_get(&adapter->ref);
	wdmdma_channel_run(adapter, xfer);
	wdmdma_mapping_done(adapter);
	wdmdma_adapter_put(adapter);
	return 0;

wait:
	if (sync) {
		ret = -ENOMEM;
		goto fail;
	}
	if (!wdmdma_queue_wait(adapter, tmpl, cur, xfer)) {
		ret = -ENOMEM;
		dev_warn_ratelimited(adapter->dev,
				     "adapter channel: no memory, reserve and waiter slots all in use\n");
		goto fail;
	}
	wdmdma_kick(adapter);
	spin_unlock_irqrestore(&adapter->lock, irqflags);
	return 0;

fail:
	if (xfer)
		wdmdma_xfer_release(adapter, xfer);
	spin_unlock_irqrestore(&adapter->lock, irqflags);
	return wdmdma_submit_error(adapter, ret);
}

/**
 * wdmdma_allocate_channel() - ask for the adapter channel and map registers
 *	(AllocateAdapterChannel)
 * @adapter: the adapter
 * @dev: the device @fn gets, or NULL for the adapter's
 * @nr_map_registers: map registers for the transfer (1 up to what
 *	wdmdma_create_adapter() granted): MapTransfer maps no more pages
 *	than this until the transfer is flushed
 * @fn: adapter-control routine
 * @context: passed to @fn
 *
 * When the channel (one per adapter: one packet-based transfer at a time)
 * and the map registers are free, and no earlier request waits for them,
 * @fn runs before this returns; otherwise the request waits in the
 * adapter's queue and @fn runs later, exactly once, from the adapter's
 * work item. What @fn returns says what it keeps (enum
 * wdmdma_alloc_action). The request cannot be cancelled (use
 * wdmdma_allocate_channel_ex() for that); wdmdma_destroy_adapter() ends it
 * if it still waits.
 *
 * Context: any; does not sleep. @fn must not sleep.
 * Return: 0 if @fn has run or will run; -EINVAL (no @fn, no map
 * registers), -ENOSPC (more map registers than the adapter grants),
 * -ENOMEM (no memory, reserve empty and all waiter slots in use), -ENODEV
 * (adapter being destroyed). On error @fn never runs.
 */
int wdmdma_allocate_channel(struct wdmdma_adapter *adapter,
			    struct device *dev, unsigned int nr_map_registers,
			    wdmdma_adapter_control_t fn, void *context)
{
	struct wdmdma_req req = {
		.ctl_fn = fn,
		.context = context,
		.dev = dev,
	};

	if (!fn)
		return -EINVAL;
	return wdmdma_channel_submit(adapter, &req, nr_map_registers, NULL, 0,
				     NULL);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_allocate_channel);

/**
 * wdmdma_allocate_channel_ex() - wdmdma_allocate_channel() with a transfer
 *	context and flags (AllocateAdapterChannelEx)
 * @adapter: the adapter
 * @dev: the device @fn gets, or NULL for the adapter's
 * @ctx: initialised transfer context (wdmdma_init_xfer_ctx()); a waiting
 *	request lives in it, and wdmdma_cancel() cancels it through it
 * @nr_map_registers: as for wdmdma_allocate_channel()
 * @flags: 0, or WDMDMA_SYNCHRONOUS: @fn runs before the call returns, or
 *	the call fails with -ENOMEM; the request never waits
 * @fn: adapter-control routine; may be NULL with WDMDMA_SYNCHRONOUS and
 *	@regsp (the channel and registers are then kept, as with
 *	WDMDMA_KEEP_OBJECT)
 * @context: passed to @fn
 * @regsp: with WDMDMA_SYNCHRONOUS and no @fn, receives the map register
 *	base; left alone when @fn is given (@fn gets the base, and it may
 *	be freed when the call returns); may then be NULL
 *
 * Context: any; does not sleep. @fn must not sleep.
 * Return: as wdmdma_allocate_channel(); -EINVAL (and a verifier error) if
 * @ctx's request still waits; -ENOMEM with WDMDMA_SYNCHRONOUS when the
 * channel or map registers are not free at once.
 */
int wdmdma_allocate_channel_ex(struct wdmdma_adapter *adapter,
			       struct device *dev, struct wdmdma_xfer_ctx *ctx,
			       unsigned int nr_map_registers,
			       unsigned int flags, wdmdma_adapter_control_t fn,
			       void *context, struct wdmdma_map_regs **regsp)
{
	struct wdmdma_req req = {
		.ctl_fn = fn,
		.context = context,
		.dev = dev,
	};

	if (!ctx)
		return -EINVAL;
	return wdmdma_channel_submit(adapter, &req, nr_map_registers, ctx,
				     flags, regsp);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_allocate_channel_ex);

/**
 * wdmdma_free_channel() - release the adapter channel (FreeAdapterChannel)
 * @adapter: the adapter
 *
 * After an adapter-control routine returned WDMDMA_KEEP_OBJECT (or a
 * synchronous wdmdma_allocate_channel_ex() returned the base with no
 * routine): releases the channel and frees the map registers allocated
 * with it, unless wdmdma_free_map_registers() freed them already. From
 * inside the routine of the request that holds the channel: releases the
 * channel only (the routine's return value then decides about the map
 * registers; the channel is not released a second time). The next
 * waiting channel request can then run (from the adapter's work item,
 * never from here).
 *
 * Only the holder releases the channel. A call with no channel held (a
 * second release), from the routine of another request, or from another
 * task or an interrupt while the holder's routine still runs, is reported
 * (verifier) and ignored: it cannot release a channel granted to another
 * request in the meantime. Not detected: once the holder's routine has
 * returned WDMDMA_KEEP_OBJECT, a call cannot be told from the holder's, so
 * a stray second release by a former holder releases the new holder's
 * channel and frees its map registers; with the verifier on, it is
 * reported and ignored instead while the holder's base has pieces mapped
 * (a release before the flush).
 *
 * Context: any; does not sleep. Never runs a routine.
 */
void wdmdma_free_channel(struct wdmdma_adapter *adapter)
{
	struct wdmdma_xfer *owner, *caller, *base = NULL;
	unsigned int ctx = wdmdma_chan_ctx();
	const char *err = NULL;
	unsigned long flags;

	if (!adapter) {
		pr_err_ratelimited("FreeAdapterChannel with a NULL adapter: ignored\n");
		return;
	}
	spin_lock_irqsave(&adapter->lock, flags);
	owner = adapter->chan_owner;
	caller = adapter->chan_caller_task == current &&
		 adapter->chan_caller_ctx == ctx ? adapter->chan_caller : NULL;
	if (!owner)
		err = "it is not held (released already?)";
	else if (caller && caller != owner)
		err = "called from the routine of a request not holding it";
	else if (!caller && !adapter->chan_kept &&
		 (adapter->chan_task != current || adapter->chan_ctx != ctx))
		err = "its holder's routine still runs in another context";
	else if (!caller && adapter->chan_kept && adapter->chan_base &&
		 wdmdma_verifier && READ_ONCE(adapter->chan_base->pkt.used))
		err = "its map registers still have pieces mapped (a stray release?)";
	if (!err) {
		if (adapter->chan_kept && adapter->chan_base &&
		    wdmdma_regs_take(adapter, adapter->chan_base))
			base = owner;
		wdmdma_channel_release(adapter);
	}
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (err)
		wdmdma_verifier_report(adapter,
				       "free of the adapter channel refused: %s\n",
				       err);
	if (base)
		wdmdma_regs_finish(adapter, base);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_free_channel);

/* --- Mapping ---------------------------------------------------------------- */

/* Map the base's map registers for the device (both ways), once. */
static int wdmdma_pkt_map_regs(struct wdmdma_xfer *xfer, dma_addr_t *base)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	size_t size = (size_t)xfer->nr_regs * PAGE_SIZE;
	dma_addr_t addr;

	if (xfer->list.nr_elements) {
		*base = xfer->list.elements[0].addr;
		return 0;
	}
	if (!xfer->nr_regs) {
		dev_err_ratelimited(adapter->dev,
				    "map transfer: a piece needs a map register and the base holds none\n");
		return -EIO;
	}
	addr = dma_map_single(adapter->dev,
			      wdmdma_reg_addr(adapter, xfer->reg_base), size,
			      DMA_BIDIRECTIONAL);
	if (dma_mapping_error(adapter->dev, addr)) {
		dev_err_ratelimited(adapter->dev,
				    "map transfer: mapping %zu bytes of map registers failed\n",
				    size);
		return -ENOMEM;
	}
	if (addr + size - 1 > adapter->limit || addr + size - 1 < addr) {
		dev_err_ratelimited(adapter->dev,
				    "map transfer: map registers at bus address %pad+%zu are beyond the device's %u-bit reach\n",
				    &addr, size, adapter->desc.dma_width);
		dma_unmap_single(adapter->dev, addr, size, DMA_BIDIRECTIONAL);
		return -EIO;
	}
	xfer->list.elements[0].addr = addr;
	xfer->list.elements[0].len = size;
	xfer->list.nr_elements = 1;
	*base = addr;
	return 0;
}

static void wdmdma_pkt_unmap_regs(struct wdmdma_xfer *xfer)
{
	if (!xfer->list.nr_elements)
		return;
	dma_unmap_single(xfer->adapter->dev, xfer->list.elements[0].addr,
			 (size_t)xfer->nr_regs * PAGE_SIZE, DMA_BIDIRECTIONAL);
	xfer->list.nr_elements = 0;
}

static inline enum dma_data_direction wdmdma_pkt_dir(bool write)
{
	return write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
}

/* Copy @len bytes at @offset of @mdl to (@to_regs) or from @regs. */
static void wdmdma_pkt_copy(const struct wdmdma_mdl *mdl, u64 offset,
			    u32 len, void *regs, bool to_regs)
{
	unsigned int off, n;
	struct wdmdma_iter it;
	struct page *page;

	if (wdmdma_iter_init(&it, mdl, offset, len))
		return;
	while (wdmdma_iter_next(&it, &page, &off, &n)) {
		wdmdma_copy_piece(page, off, regs, n, to_regs);
		regs += n;
	}
}

/*
 * One-element adapter: copy the piece after what the registers hold, so
 * that the transfer stays one contiguous run of them.
 */
static int wdmdma_pkt_map_copy(struct wdmdma_xfer *xfer,
			       struct wdmdma_mdl *mdl, u64 offset,
			       unsigned int first_off, u32 *length,
			       bool write, dma_addr_t *addr)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_pkt *pkt = &xfer->pkt;
	u32 room = xfer->nr_regs * PAGE_SIZE - pkt->cursor;
	u32 len = *length, by_regs = 0;
	unsigned int shared, avail;
	dma_addr_t base;
	int ret;

	if (pkt->used && (mdl != pkt->mdl ||
			  offset != (u64)pkt->offset + pkt->cursor)) {
		wdmdma_verifier_report(adapter,
				       "map transfer: a one-element transfer continues where the last piece ended (offset %llu), not at %llu; flush first\n",
				       (u64)pkt->offset + pkt->cursor, offset);
		return -EINVAL;
	}
	if (!pkt->used && offset > U32_MAX) {
		wdmdma_verifier_report(adapter,
				       "map transfer: offset %llu is past 4 GiB\n",
				       offset);
		return -EINVAL;
	}
	/* A piece that starts mid-page continues the last piece's page. */
	shared = pkt->used && first_off ? 1 : 0;
	avail = xfer->req.span - pkt->used + shared;
	if (pkt->used <= xfer->req.span && avail)
		by_regs = avail * PAGE_SIZE - first_off;
	len = min3(len, room, by_regs);
	if (!len) {
		wdmdma_verifier_report(adapter,
				       "map transfer: all %u map registers are used; flush first\n",
				       xfer->req.span);
		return -ENOSPC;
	}
	ret = wdmdma_pkt_map_regs(xfer, &base);
	if (ret)
		return ret;
	if (write)
		wdmdma_pkt_copy(mdl, offset, len,
				wdmdma_reg_addr(adapter, xfer->reg_base) +
				pkt->cursor, true);
	dma_sync_single_range_for_device(adapter->dev, base, pkt->cursor, len,
					 wdmdma_pkt_dir(write));
	if (!pkt->used) {
		pkt->mdl = mdl;
		pkt->offset = offset;
	}
	*addr = base + pkt->cursor;
	pkt->cursor += len;
	pkt->used += wdmdma_span_pages(first_off, len) - shared;
	*length = len;
	return 0;
}

/*
 * Scatter/gather adapter: one physically contiguous run the device
 * reaches, mapped in place; or a page piece it cannot reach, copied to a
 * map register of its own (the register of the page it uses).
 */
static int wdmdma_pkt_map_piece(struct wdmdma_xfer *xfer,
				struct wdmdma_iter *it, struct page *page,
				unsigned int off, unsigned int n, u32 *length,
				bool write, dma_addr_t *addr)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_pkt_rec *rec = &wdmdma_pkt_recs(xfer)[xfer->pkt.nr_recs];
	struct wdmdma_pkt *pkt = &xfer->pkt;
	u64 reach = wdmdma_reach(adapter), start, end;
	unsigned int left = xfer->req.span - pkt->used;
	enum dma_data_direction dir = wdmdma_pkt_dir(write);
	struct page *first = page;
	unsigned int first_off = off;
	dma_addr_t a;
	u32 len = n;
	int ret;

	if (pkt->used >= xfer->req.span) {
		wdmdma_verifier_report(adapter,
				       "map transfer: all %u map registers are used; flush first\n",
				       xfer->req.span);
		return -ENOSPC;
	}
	if (WARN_ON_ONCE(pkt->nr_recs >= xfer->max_ents))
		return -EIO;
	if (!wdmdma_reachable(adapter, reach, page, off, n)) {
		size_t pos = (size_t)pkt->used * PAGE_SIZE + off;
		dma_addr_t base;

		ret = wdmdma_pkt_map_regs(xfer, &base);
		if (ret)
			return ret;
		if (write)
			wdmdma_copy_piece(page, off,
					  wdmdma_reg_addr(adapter,
							  xfer->reg_base) + pos,
					  n, true);
		dma_sync_single_range_for_device(adapter->dev, base, pos, n,
						 dir);
		rec->addr = base + pos;
		rec->page = page;
		rec->off = off;
		rec->len = n;
		pkt->used++;
		goto done;
	}

	start = page_to_phys(page) + off;
	end = start + n;
	while (wdmdma_iter_next(it, &page, &off, &n)) {
		u64 phys = page_to_phys(page) + off;

		if (phys != end || len + n > adapter->max_run ||
		    wdmdma_crosses(adapter, start, phys + n - 1) ||
		    wdmdma_span_pages(first_off, len + n) > left ||
		    !wdmdma_reachable(adapter, reach, page, off, n))
			break;
		len += n;
		end += n;
	}
	ret = wdmdma_map_injected_error(adapter);
	if (ret)
		return ret == -ENOMEM ? -ENOMEM : -EIO;
	a = dma_map_page_attrs(adapter->dev, first, first_off, len, dir, 0);
	if (dma_mapping_error(adapter->dev, a)) {
		dev_err_ratelimited(adapter->dev,
				    "map transfer: mapping %u bytes failed\n",
				    len);
		return -ENOMEM;
	}
	if (a + len - 1 > adapter->limit || a + len - 1 < a) {
		dev_err_ratelimited(adapter->dev,
				    "map transfer: bus address %pad+%u is beyond the device's %u-bit reach\n",
				    &a, len, adapter->desc.dma_width);
		dma_unmap_page_attrs(adapter->dev, a, len, dir,
				     DMA_ATTR_SKIP_CPU_SYNC);
		return -EIO;
	}
	rec->addr = a;
	rec->page = NULL;
	rec->off = first_off;
	rec->len = len;
	pkt->used += wdmdma_span_pages(first_off, len);
done:
	pkt->nr_recs++;
	*addr = rec->addr;
	*length = rec->len;
	return 0;
}

/*
 * Map the next piece at @offset of @mdl through @xfer: the checks and the
 * choice between a copy (one-element) and a piece in place (S/G).
 */
static int wdmdma_pkt_map(struct wdmdma_adapter *adapter,
			  struct wdmdma_xfer *xfer, struct wdmdma_mdl *mdl,
			  u64 offset, u32 *length, bool write_to_device,
			  dma_addr_t *addr)
{
	struct wdmdma_pkt *pkt = &xfer->pkt;
	u32 len = *length;
	unsigned int off, n;
	struct wdmdma_iter it;
	struct page *page;
	int ret;

	*length = 0;
	if (!len) {
		wdmdma_verifier_report(adapter, "map transfer: zero length\n");
		return -EINVAL;
	}
	if (pkt->used && pkt->write != write_to_device) {
		wdmdma_verifier_report(adapter,
				       "map transfer: write_to_device=%d, the transfer's pieces so far have %d; flush first\n",
				       write_to_device, pkt->write);
		return -EINVAL;
	}
	ret = mdl ? wdmdma_iter_init(&it, mdl, offset, len) : -EINVAL;
	if (ret || !wdmdma_iter_next(&it, &page, &off, &n)) {
		wdmdma_verifier_report(adapter,
				       "map transfer: range %llu+%u runs past the MDL chain, or the MDL is malformed\n",
				       offset, len);
		return -EINVAL;
	}
	pkt->write = write_to_device;
	if (!adapter->desc.scatter_gather) {
		*length = len;
		ret = wdmdma_pkt_map_copy(xfer, mdl, offset, off, length,
					  write_to_device, addr);
	} else {
		ret = wdmdma_pkt_map_piece(xfer, &it, page, off, n, length,
					   write_to_device, addr);
	}
	if (ret)
		*length = 0;
	return ret;
}

/**
 * wdmdma_map_transfer() - map the next piece of a packet-based transfer
 *	(MapTransfer)
 * @adapter: the adapter
 * @mdl: the MDL of the buffer (a chain is followed)
 * @regs: the map register base given to the adapter-control routine
 * @current_va: wdmdma_mdl_va(@mdl) + byte offset of the piece
 * @length: in: bytes left to transfer from @current_va; out: bytes mapped
 *	(0 on error)
 * @write_to_device: true for memory to device, false for device to memory;
 *	the same for every piece until the flush
 * @addr: receives the bus address of the piece
 *
 * Maps the largest piece from @current_va that is one contiguous range for
 * the device, and that fits the map registers still unused since the last
 * flush (a piece uses one for each page it touches). On a scatter/gather
 * adapter that is one physically contiguous run, mapped in place, or, for
 * a page the device cannot reach, that page's part copied to a map
 * register. On a one-element adapter the piece is copied to the map
 * registers after the previous pieces (a write's data is copied now; a
 * read's when wdmdma_flush_adapter_buffers() runs), so a transfer is one
 * contiguous range there, and each piece must start where the last one
 * ended. Call it again with @current_va advanced by @length for the rest.
 *
 * Context: any; does not sleep. One call at a time per map register base.
 * Return: 0; -EINVAL (bad arguments, a range past the MDL, a direction
 * that differs from the transfer's, a one-element piece that does not
 * continue the last; reported to the verifier), -ENOSPC (all map registers
 * used: flush first), -ENOMEM (the DMA layer is out of mapping space: try
 * again later), -EIO (the mapping failed and will not succeed).
 */
int wdmdma_map_transfer(struct wdmdma_adapter *adapter,
			struct wdmdma_mdl *mdl, struct wdmdma_map_regs *regs,
			const void *current_va, u32 *length,
			bool write_to_device, dma_addr_t *addr)
{
	struct wdmdma_xfer *xfer;
	u64 offset;

	if (!length || !addr) {
		pr_err_ratelimited("map transfer: NULL %s: refused\n",
				   length ? "address" : "length");
		return -EINVAL;
	}
	xfer = wdmdma_regs_get(adapter, regs, "map transfer");
	if (!xfer) {
		*length = 0;
		return -EINVAL;
	}
	if (wdmdma_offset_of(mdl, current_va, &offset)) {
		wdmdma_verifier_report(adapter,
				       "map transfer: %s\n", mdl ?
				       "CurrentVa is before the MDL's virtual address" :
				       "NULL MDL");
		*length = 0;
		return -EINVAL;
	}
	return wdmdma_pkt_map(adapter, xfer, mdl, offset, length,
			      write_to_device, addr);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_map_transfer);

/**
 * wdmdma_map_transfer_ex() - map a packet-based transfer into a list
 *	(MapTransferEx)
 * @adapter: the adapter
 * @mdl: the MDL chain of the buffer
 * @regs: the map register base
 * @offset: byte offset of the transfer into the MDL chain
 * @length: in: bytes to map; out: bytes mapped (0 on error)
 * @write_to_device: the transfer's direction
 * @sgl: receives one element per piece mapped
 * @sgl_len: size of @sgl in bytes
 *
 * Maps pieces from @offset on as wdmdma_map_transfer() does, one after
 * another, until @length bytes are mapped, @sgl is full or the map
 * registers not used since the last flush are; on a one-element adapter
 * that is one piece (one element). End the transfer with
 * wdmdma_flush_adapter_buffers_ex() (or wdmdma_flush_adapter_buffers()).
 *
 * Context: any; does not sleep. One call at a time per map register base.
 * Return: 0 (at least one piece mapped); -EINVAL (bad arguments: as
 * wdmdma_map_transfer()), -ENOBUFS (@sgl_len holds no element), or the
 * error of the first piece.
 */
int wdmdma_map_transfer_ex(struct wdmdma_adapter *adapter,
			   struct wdmdma_mdl *mdl,
			   struct wdmdma_map_regs *regs, u64 offset,
			   u32 *length, bool write_to_device,
			   struct wdmdma_sg_list *sgl, size_t sgl_len)
{
	size_t head = offsetof(struct wdmdma_sg_list, elements);
	unsigned int n = 0, max;
	struct wdmdma_xfer *xfer;
	u32 want, done = 0, len;
	dma_addr_t addr;
	int ret;

	if (!length || !sgl) {
		pr_err_ratelimited("map transfer ex: NULL %s: refused\n",
				   length ? "list" : "length");
		return -EINVAL;
	}
	want = *length;
	*length = 0;
	xfer = wdmdma_regs_get(adapter, regs, "map transfer");
	if (!xfer)
		return -EINVAL;
	if (sgl_len < head + sizeof(struct wdmdma_sg_element))
		return -ENOBUFS;
	max = (sgl_len - head) / sizeof(struct wdmdma_sg_element);
	sgl->nr_elements = 0;
	sgl->reserved = 0;
	do {
		len = want - done;
		ret = wdmdma_pkt_map(adapter, xfer, mdl, offset + done, &len,
				     write_to_device, &addr);
		if (ret) {
			if (!n)
				return ret;
			break;
		}
		sgl->elements[n].addr = addr;
		sgl->elements[n].len = len;
		sgl->elements[n].reserved = 0;
		n++;
		done += len;
	} while (done < want && n < max && adapter->desc.scatter_gather &&
		 xfer->pkt.used < xfer->req.span);
	sgl->nr_elements = n;
	*length = done;
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_map_transfer_ex);

/*
 * End what the base has mapped: sync the map registers for the CPU and,
 * for a read (@copy_back), copy what the device wrote to them to the
 * buffer; unmap the pieces mapped in place.
 */
static void wdmdma_pkt_unmap(struct wdmdma_xfer *xfer, bool copy_back)
{
	struct wdmdma_adapter *adapter = xfer->adapter;
	struct wdmdma_pkt_rec *recs = wdmdma_pkt_recs(xfer);
	struct wdmdma_pkt *pkt = &xfer->pkt;
	enum dma_data_direction dir = wdmdma_pkt_dir(pkt->write);
	dma_addr_t base = xfer->list.elements[0].addr;
	void *regs = NULL;
	unsigned int i;

	if (xfer->nr_regs)
		regs = wdmdma_reg_addr(adapter, xfer->reg_base);
	if (!adapter->desc.scatter_gather) {
		if (pkt->cursor && xfer->list.nr_elements) {
			dma_sync_single_range_for_cpu(adapter->dev, base, 0,
						      pkt->cursor, dir);
			if (copy_back && !pkt->write)
				wdmdma_pkt_copy(pkt->mdl, pkt->offset,
						pkt->cursor, regs, false);
		}
	} else {
		for (i = 0; i < pkt->nr_recs; i++) {
			struct wdmdma_pkt_rec *rec = &recs[i];

			if (!rec->page) {
				dma_unmap_page_attrs(adapter->dev, rec->addr,
						     rec->len, dir,
						     copy_back ? 0 :
						     DMA_ATTR_SKIP_CPU_SYNC);
				continue;
			}
			dma_sync_single_range_for_cpu(adapter->dev, base,
						      rec->addr - base,
						      rec->len, dir);
			if (!copy_back || pkt->write)
				continue;
			wdmdma_copy_piece(rec->page, rec->off,
					  regs + (rec->addr - base), rec->len,
					  false);
		}
	}
	pkt->mdl = NULL;
	pkt->offset = 0;
	pkt->cursor = 0;
	pkt->used = 0;
	pkt->nr_recs = 0;
}

/* Sum of what the base has mapped since its last flush. */
static u64 wdmdma_pkt_bytes(struct wdmdma_xfer *xfer)
{
	struct wdmdma_pkt_rec *recs = wdmdma_pkt_recs(xfer);
	unsigned int i;
	u64 bytes = 0;

	if (!xfer->adapter->desc.scatter_gather)
		return xfer->pkt.cursor;
	for (i = 0; i < xfer->pkt.nr_recs; i++)
		bytes += recs[i].len;
	return bytes;
}

/* End what @xfer mapped; @offset is -1 when the caller's is bad. */
static void wdmdma_pkt_flush(struct wdmdma_adapter *adapter,
			     struct wdmdma_xfer *xfer,
			     const struct wdmdma_mdl *mdl, u64 offset,
			     u32 length, bool write_to_device)
{
	struct wdmdma_pkt *pkt = &xfer->pkt;

	if (!pkt->used) {
		wdmdma_verifier_report(adapter,
				       "flush adapter buffers: nothing mapped since the last flush\n");
		return;
	}
	if (pkt->write != write_to_device)
		wdmdma_verifier_report(adapter,
				       "flush adapter buffers: write_to_device=%d, mapped with %d\n",
				       write_to_device, pkt->write);
	if (offset == U64_MAX || length != wdmdma_pkt_bytes(xfer) ||
	    (!adapter->desc.scatter_gather &&
	     (mdl != pkt->mdl || offset != pkt->offset)))
		wdmdma_verifier_report(adapter,
				       "flush adapter buffers: range %llu+%u is not the %llu bytes mapped since the last flush\n",
				       offset, length, wdmdma_pkt_bytes(xfer));
	wdmdma_pkt_unmap(xfer, true);
}

/**
 * wdmdma_flush_adapter_buffers() - end a packet-based transfer
 *	(FlushAdapterBuffers)
 * @adapter: the adapter
 * @mdl: the MDL given to wdmdma_map_transfer()
 * @regs: the map register base
 * @current_va: where the transfer started (the first piece's current_va)
 * @length: bytes of the whole transfer (the sum of the pieces mapped)
 * @write_to_device: the direction given to wdmdma_map_transfer()
 *
 * Syncs what the device wrote for the CPU, copies read data that went
 * through map registers to the buffer, and unmaps the pieces. The map
 * registers are then free for the next transfer on @regs. The driver must
 * call it before it reads data the device wrote. What it ends is what was
 * mapped since the last flush; arguments that do not describe that (or a
 * flush with nothing mapped) are reported to the verifier.
 *
 * Context: any; does not sleep. One call at a time per map register base.
 * Return: 0; -EINVAL if @regs is not a map register base of @adapter.
 */
int wdmdma_flush_adapter_buffers(struct wdmdma_adapter *adapter,
				 struct wdmdma_mdl *mdl,
				 struct wdmdma_map_regs *regs,
				 const void *current_va, u32 length,
				 bool write_to_device)
{
	struct wdmdma_xfer *xfer;
	u64 offset;

	xfer = wdmdma_regs_get(adapter, regs, "flush adapter buffers");
	if (!xfer)
		return -EINVAL;
	if (wdmdma_offset_of(mdl, current_va, &offset))
		offset = U64_MAX;
	wdmdma_pkt_flush(adapter, xfer, mdl, offset, length, write_to_device);
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_flush_adapter_buffers);

/**
 * wdmdma_flush_adapter_buffers_ex() - end a packet-based transfer
 *	(FlushAdapterBuffersEx)
 * @adapter: the adapter
 * @mdl: the MDL chain given to wdmdma_map_transfer_ex()
 * @regs: the map register base
 * @offset: byte offset of the transfer into the MDL chain
 * @length: bytes of the whole transfer
 * @write_to_device: the transfer's direction
 *
 * wdmdma_flush_adapter_buffers() with an offset in place of CurrentVa.
 *
 * Context: any; does not sleep. One call at a time per map register base.
 * Return: 0; -EINVAL if @regs is not a map register base of @adapter.
 */
int wdmdma_flush_adapter_buffers_ex(struct wdmdma_adapter *adapter,
				    struct wdmdma_mdl *mdl,
				    struct wdmdma_map_regs *regs, u64 offset,
				    u32 length, bool write_to_device)
{
	struct wdmdma_xfer *xfer;

	xfer = wdmdma_regs_get(adapter, regs, "flush adapter buffers");
	if (!xfer)
		return -EINVAL;
	wdmdma_pkt_flush(adapter, xfer, mdl, offset, length, write_to_device);
	return 0;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_flush_adapter_buffers_ex);

/* Free map register base @xfer, taken off with wdmdma_regs_take(). */
static void wdmdma_regs_finish(struct wdmdma_adapter *adapter,
			       struct wdmdma_xfer *xfer)
{
	if (xfer->pkt.used) {
		wdmdma_verifier_report(adapter,
				       "free of map registers still mapped (%llu bytes, no flush)\n",
				       wdmdma_pkt_bytes(xfer));
		wdmdma_pkt_unmap(xfer, false);
	}
	wdmdma_pkt_unmap_regs(xfer);
	wdmdma_xfer_retire(adapter, xfer);
}

/**
 * wdmdma_free_map_registers() - give map registers back (FreeMapRegisters)
 * @adapter: the adapter
 * @regs: the map register base
 * @nr_map_registers: the number the channel was asked for
 *
 * For an adapter-control routine that returned
 * WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS, after the last transfer on
 * @regs was flushed. (After WDMDMA_KEEP_OBJECT, wdmdma_free_channel()
 * frees them; freeing them here first is allowed, and that
 * wdmdma_free_channel() then releases the channel only.) Waiting requests
 * that need the registers can run (from the adapter's work item, never
 * from here). While the base's adapter-control routine runs (a call from
 * the routine itself, say), the base is taken at once (no further use or
 * free of it is accepted) but freed when the routine returns; a
 * DeallocateObject it returns is then reported, and frees nothing more.
 * Reported to the verifier: a base that is not outstanding (double free;
 * ignored), a count that differs from the channel's, pieces still mapped
 * (unmapped without copying back).
 *
 * Context: any; does not sleep. Never runs a routine.
 */
void wdmdma_free_map_registers(struct wdmdma_adapter *adapter,
			       struct wdmdma_map_regs *regs,
			       unsigned int nr_map_registers)
{
	struct wdmdma_xfer *xfer = (struct wdmdma_xfer *)regs;
	unsigned int span = 0;
	bool ok, later = false;
	unsigned long flags;

	if (!adapter || !regs) {
		pr_err_ratelimited("FreeMapRegisters with a NULL %s: ignored\n",
				   adapter ? "map register base" : "adapter");
		return;
	}
	spin_lock_irqsave(&adapter->lock, flags);
	ok = wdmdma_regs_take(adapter, xfer);
	if (ok) {
		span = xfer->req.span;
		/* Its routine runs: wdmdma_channel_run() frees it. */
		later = xfer->in_routine;
		xfer->free_at_return = later;
	}
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (!ok) {
		wdmdma_verifier_report(adapter,
				       "free of map register base %p that is not held on this adapter (double free, or another adapter's)\n",
				       regs);
		return;
	}
	if (nr_map_registers != span)
		wdmdma_verifier_report(adapter,
				       "free of %u map registers; the channel was allocated with %u\n",
				       nr_map_registers, span);
	if (!later)
		wdmdma_regs_finish(adapter, xfer);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_free_map_registers);
