// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma requests: Get, Build and their _ex forms, the waiting queue and
 * the work item that runs it, Cancel and Put.
 *
 * A request needs list memory (Get; Build brings its own), map registers
 * (when something bounces) and mapping space in the DMA layer. When it
 * lacks one of them it waits in the adapter's queue, and a new request
 * waits behind it only if it needs the same resource (FIFO per resource),
 * so a Build that needs nothing short never waits behind Gets waiting for
 * memory, and a large transfer waiting for map registers is not starved by
 * small ones. The queue is run by the adapter's work item after a Put or a
 * Cancel freed something, and after a back-off when a mapping failed for
 * want of space.
 *
 * Locking: adapter->lock (irq-safe) guards the queue, the waiting counts,
 * the waiter slots, the outstanding list, the map-register bitmap,
 * statistics and ->dead; functions that need it held say so with
 * lockdep_assert_held(). It is dropped around mapping and callbacks. A
 * dispatched list holds a reference on the adapter until its Put ends.
 * On an adapter created with the verifier off, the fast path
 * (wdmdma_submit_fast()) claims and puts lists that need nothing anyone
 * waits for without the lock, inside an RCU read-side section that
 * wdmdma_destroy_adapter() waits out; their reference is the per-CPU
 * adapter->fast_ref.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bottom_half.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "internal.h"
#include "wdmdma_trace.h"

/* Longest back-off before a mapping that failed for space is retried. */
#define WDMDMA_RETRY_MAX	msecs_to_jiffies(100)

/* --- List memory -------------------------------------------------------- */

/*
 * A non-sleeping allocation of list memory for @span pages; may fail. The
 * reserve backs it, so it does not dig into atomic reserves, and with
 * interrupts off it makes no allocation above a page.
 *
 * Small lists (up to adapter->spare_ents elements) are all allocated at
 * that size, and on an adapter with the fast path each CPU keeps the last
 * one put as a spare, which the next small Get on that CPU takes instead
 * of going to the allocator: a Get and Put of a few pages then allocate
 * nothing. Spares are freed with the adapter. With the verifier on they
 * are not kept, so that KASAN sees a list used after its Put.
 */
struct wdmdma_xfer *wdmdma_xfer_alloc(struct wdmdma_adapter *adapter,
				      unsigned int span)
{
	unsigned int ents = wdmdma_xfer_ents(adapter, span);
	struct wdmdma_xfer *xfer;

	if (ents > adapter->spare_ents && irqs_disabled() &&
	    wdmdma_xfer_size(ents) > PAGE_SIZE)
		return NULL;
	if (wdmdma_list_alloc_should_fail(adapter))
		return NULL;
	if (ents <= adapter->spare_ents) {
		ents = adapter->spare_ents;
		xfer = this_cpu_xchg(adapter->pcpu->spare, NULL);
		if (xfer)
			goto got;
	}
	xfer = kmalloc(wdmdma_xfer_size(ents), GFP_NOWAIT | __GFP_NOWARN);
	if (!xfer)
		return NULL;
got:
	xfer->source = WDMDMA_SRC_ALLOC;
	xfer->max_ents = ents;
	return xfer;
}

/* A reserve element, or NULL if all are in use. Never allocates. */
static struct wdmdma_xfer *wdmdma_xfer_reserve(struct wdmdma_adapter *adapter)
{
	struct wdmdma_xfer *xfer = mempool_alloc(adapter->reserve, GFP_NOWAIT);

	if (xfer) {
		xfer->source = WDMDMA_SRC_RESERVE;
		xfer->max_ents = wdmdma_xfer_ents(adapter, adapter->max_regs);
		trace_wdmdma_reserve_take(adapter, xfer);
	}
	return xfer;
}

void wdmdma_xfer_release(struct wdmdma_adapter *adapter,
			 struct wdmdma_xfer *xfer)
{
	xfer->magic = WDMDMA_XFER_PUT;
	if (xfer->source == WDMDMA_SRC_ALLOC) {
		/*
		 * A small list becomes this CPU's spare if it has none
		 * (spare_ents is 0 without the fast path).
		 */
		if (xfer->max_ents == adapter->spare_ents &&
		    !this_cpu_cmpxchg(adapter->pcpu->spare, NULL, xfer))
			return;
		kfree(xfer);
	} else if (xfer->source == WDMDMA_SRC_RESERVE) {
		mempool_free(xfer, adapter->reserve);
		trace_wdmdma_reserve_release(adapter, xfer);
	}
}

/*
 * The reserve's mempool allocates only while it is being filled (a
 * sleeping allocation at adapter creation). Later, mempool_alloc() with
 * GFP_NOWAIT finds this returning NULL and hands out a preallocated
 * element: exactly "take from the reserve", on every kernel version.
 */
void *wdmdma_reserve_elem_alloc(gfp_t gfp, void *data)
{
	struct wdmdma_adapter *adapter = data;

	if (!gfpflags_allow_blocking(gfp) || wdmdma_create_alloc_should_fail())
		return NULL;
	return kmalloc(adapter->reserve_size, gfp);
}

void wdmdma_reserve_elem_free(void *elem, void *data)
{
	kfree(elem);
}

/* --- The queue ------------------------------------------------------------ */

static enum wdmdma_wait wdmdma_req_wait(const struct wdmdma_req *req)
{
	if (req->flags & WDMDMA_REQ_MAP_WAIT)
		return WDMDMA_WAIT_MAP;
	if (req->flags & WDMDMA_REQ_CHANNEL)
		return WDMDMA_WAIT_CHAN;
	if (!req->xfer)
		return WDMDMA_WAIT_MEM;
	if (req->nr_regs)
		return WDMDMA_WAIT_REGS;
	return WDMDMA_WAIT_NONE;
}

/*
 * What a channel request lacks besides the channel: list memory, else
 * map registers (as wdmdma_req_wait() for a list request). Bits of enum
 * wdmdma_wait.
 */
static u8 wdmdma_chan_lacks(const struct wdmdma_req *req)
{
	if (!req->xfer)
		return BIT(WDMDMA_WAIT_MEM);
	if (req->nr_regs)	/* never held while queued */
		return BIT(WDMDMA_WAIT_REGS);
	return 0;
}

/*
 * A channel request waits for the channel (its ->wait). While the channel
 * is free and no earlier channel request waits, it is counted too under
 * the list memory or map registers it lacks, so that a new Get or Build
 * that needs them waits behind it (wdmdma_behind(), wdmdma_fast_ok())
 * instead of starving it. While it waits only for the channel, it is not:
 * it could not use them anyway, and counting it would hold back every
 * Get and Build needing them for as long as the channel is held.
 * wdmdma_next_ready() counts it again when it finds it short of them, and
 * drops the counts when it skips it for the channel. Bits of enum
 * wdmdma_wait.
 */
static u8 wdmdma_req_also(const struct wdmdma_adapter *adapter,
			  const struct wdmdma_req *req)
{
	if (!(req->flags & WDMDMA_REQ_CHANNEL) || adapter->chan_owner ||
	    adapter->nr_waiting[WDMDMA_WAIT_CHAN])
		return 0;
	return wdmdma_chan_lacks(req);
}

/* Count @req in the waiting counts (@add), or take it out of them. */
static void wdmdma_wait_count(struct wdmdma_adapter *adapter,
			      struct wdmdma_req *req, bool add)
{
	unsigned long mask;
	unsigned int w;

	lockdep_assert_held(&adapter->lock);
	if (add) {
		/* Before @req itself counts under the channel. */
		req->also = wdmdma_req_also(adapter, req);
		req->wait = wdmdma_req_wait(req);
	}
	mask = BIT(req->wait) | req->also;
	for_each_set_bit(w, &mask, WDMDMA_NR_WAIT) {
		if (add)
			adapter->nr_waiting[w]++;
		else
			adapter->nr_waiting[w]--;
	}
}

/* Count queued channel request @req under @also (and the channel). */
static void wdmdma_chan_recount(struct wdmdma_adapter *adapter,
				struct wdmdma_req *req, u8 also)
{
	unsigned long mask = req->also ^ also;
	unsigned int w;

	lockdep_assert_held(&adapter->lock);
	for_each_set_bit(w, &mask, WDMDMA_NR_WAIT) {
		if (also & BIT(w))
			adapter->nr_waiting[w]++;
		else
			adapter->nr_waiting[w]--;
	}
	req->also = also;
}

static void wdmdma_queue_add(struct wdmdma_adapter *adapter,
			     struct wdmdma_req *req, bool head)
{
	lockdep_assert_held(&adapter->lock);
	req->state = WDMDMA_REQ_QUEUED;
	wdmdma_wait_count(adapter, req, true);
	adapter->stats.queue_depth++;
	if (head)
		list_add(&req->node, &adapter->queue);
	else
		list_add_tail(&req->node, &adapter->queue);
}

/*
 * Queue @tmpl, a new request that has to wait: it lives in @cur (the
 * transfer context of an _ex call), else in @xfer (its list memory), else
 * in a free waiter slot. Returns the request queued, or NULL (nothing
 * queued) when it needs a slot and none is free.
 */
struct wdmdma_req *wdmdma_queue_wait(struct wdmdma_adapter *adapter,
				     struct wdmdma_req *tmpl,
				     struct wdmdma_req *cur,
				     struct wdmdma_xfer *xfer)
{
	struct wdmdma_req *req;

	lockdep_assert_held(&adapter->lock);
	if (cur) {
		req = cur;
		tmpl->flags |= WDMDMA_REQ_CTX;
	} else if (xfer) {
		req = &xfer->req;
	} else {
		req = list_first_entry_or_null(&adapter->free_slots,
					       struct wdmdma_req, node);
		if (!req)
			return NULL;
		list_del(&req->node);
		tmpl->flags |= WDMDMA_REQ_SLOT;
	}
	*req = *tmpl;
	req->ctx = cur ? req : NULL;
	req->xfer = xfer;
	wdmdma_queue_add(adapter, req, false);
	adapter->stats.deferred++;
	return req;
}

static void wdmdma_queue_del(struct wdmdma_adapter *adapter,
			     struct wdmdma_req *req)
{
	lockdep_assert_held(&adapter->lock);
	list_del(&req->node);
	wdmdma_wait_count(adapter, req, false);
	adapter->stats.queue_depth--;
}

/* A queued request got list memory: it now waits for what is left. */
static void wdmdma_queue_rewait(struct wdmdma_adapter *adapter,
				struct wdmdma_req *req)
{
	lockdep_assert_held(&adapter->lock);
	wdmdma_wait_count(adapter, req, false);
	wdmdma_wait_count(adapter, req, true);
}

/*
 * Schedule the queue runner. Once wdmdma_destroy_adapter() has set ->dead
 * under the lock, no new run can be scheduled behind its
 * cancel_work_sync().
 */
void wdmdma_kick(struct wdmdma_adapter *adapter)
{
	lockdep_assert_held(&adapter->lock);
	if (!adapter->dead)
		queue_work(wdmdma_wq, &adapter->work);
}

/* Try again after a mapping failed for want of space, backing off. */
static void wdmdma_retry_later(struct wdmdma_adapter *adapter)
{
	lockdep_assert_held(&adapter->lock);
	if (adapter->dead)
		return;
	if (queue_delayed_work(wdmdma_wq, &adapter->retry, adapter->retry_delay))
		adapter->retry_delay = min(adapter->retry_delay * 2,
					   WDMDMA_RETRY_MAX);
}

void wdmdma_retry_work(struct work_struct *work)
{
	struct wdmdma_adapter *adapter =
		container_of(to_delayed_work(work), struct wdmdma_adapter, retry);
	unsigned long flags;

	spin_lock_irqsave(&adapter->lock, flags);
	wdmdma_kick(adapter);
	spin_unlock_irqrestore(&adapter->lock, flags);
}

/* --- Dispatch ------------------------------------------------------------- */

/*
 * @req has list memory and map registers: make them the list's, count it,
 * and take a reference on the adapter for it. Returns the list to map.
 */
static struct wdmdma_xfer *wdmdma_claim(struct wdmdma_adapter *adapter,
					struct wdmdma_req *req,
					unsigned int reg_base)
{
	struct wdmdma_xfer *xfer = req->xfer;
	u8 source = xfer->source;
	unsigned int max_ents = xfer->max_ents;

	lockdep_assert_held(&adapter->lock);
	if (xfer != container_of(req, struct wdmdma_xfer, req))
		xfer->req = *req;
	xfer->req.flags &= ~(WDMDMA_REQ_SLOT | WDMDMA_REQ_MAP_WAIT);
	xfer->req.xfer = xfer;
	xfer->req.state = WDMDMA_REQ_MAPPING;
	req->state = WDMDMA_REQ_MAPPING;
	if (req->ctx)
		req->ctx->state = WDMDMA_REQ_MAPPING;
	xfer->magic = WDMDMA_XFER_MAGIC;
	xfer->source = source;
	xfer->max_ents = max_ents;
	xfer->adapter = adapter;
	xfer->reg_base = reg_base;
	xfer->nr_regs = req->nr_regs;
	xfer->tracked = true;
	list_add_tail(&xfer->node, &adapter->outstanding);
	kref_get(&adapter->ref);
	atomic_inc(&adapter->mapping);
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

/*
 * Claim new request @tmpl (of transfer context @cur, or NULL) at once, if
 * what it needs is free: the list memory in *@xfer (allocated for it),
 * else a reserve element, and its map registers. Returns the list
 * (wdmdma_claim()), or NULL: then @tmpl has to wait, with the memory it
 * got in *@xfer.
 */
struct wdmdma_xfer *wdmdma_claim_now(struct wdmdma_adapter *adapter,
				     struct wdmdma_req *tmpl,
				     struct wdmdma_req *cur,
				     struct wdmdma_xfer **xfer)
{
	unsigned int base;

	lockdep_assert_held(&adapter->lock);
	if (!*xfer)
		*xfer = wdmdma_xfer_reserve(adapter);
	if (!*xfer)
		return NULL;
	if (!wdmdma_regs_alloc(adapter, tmpl->nr_regs, &base))
		return NULL;
	tmpl->xfer = *xfer;
	tmpl->ctx = cur;
	return wdmdma_claim(adapter, tmpl, base);
}

/*
 * Undo wdmdma_claim() after a failed mapping; the list memory stays with
 * the request. The caller drops the adapter reference the list held, with
 * wdmdma_adapter_put(), after dropping the lock.
 */
static void wdmdma_unclaim(struct wdmdma_adapter *adapter,
			   struct wdmdma_xfer *xfer)
{
	lockdep_assert_held(&adapter->lock);
	if (!xfer->tracked) {
		/* Claimed by wdmdma_claim_fast(): no registers, not listed. */
		this_cpu_dec(adapter->pcpu->outstanding);
		this_cpu_dec(adapter->pcpu->fast);
		if (xfer->source == WDMDMA_SRC_ALLOC)
			this_cpu_dec(adapter->pcpu->allocated);
		else
			this_cpu_dec(adapter->pcpu->built);
		xfer->magic = WDMDMA_XFER_PUT;
		return;
	}
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
	wdmdma_regs_free(adapter, xfer->reg_base, xfer->nr_regs);
	xfer->nr_regs = 0;
	xfer->magic = WDMDMA_XFER_PUT;
}

/*
 * Give back the memory and map registers of @xfer, a list (or map register
 * base) taken off the outstanding list and unmapped, let waiting requests
 * have them, and drop its adapter reference: the last one frees a
 * destroyed adapter.
 */
void wdmdma_xfer_retire(struct wdmdma_adapter *adapter,
			struct wdmdma_xfer *xfer)
{
	unsigned long flags;

	spin_lock_irqsave(&adapter->lock, flags);
	wdmdma_regs_free(adapter, xfer->reg_base, xfer->nr_regs);
	wdmdma_xfer_release(adapter, xfer);
	if (!list_empty(&adapter->queue))
		wdmdma_kick(adapter);
	spin_unlock_irqrestore(&adapter->lock, flags);
	wdmdma_adapter_put(adapter);
}

/*
 * A claimed list's mapping is over (it succeeded, or the failure has been
 * dealt with): wdmdma_destroy_adapter() waits for all of them.
 */
void wdmdma_mapping_done(struct wdmdma_adapter *adapter)
{
	if (atomic_dec_and_test(&adapter->mapping) && READ_ONCE(adapter->dead))
		wake_up_var(&adapter->mapping);
}

/*
 * Trace a list mapped for the driver: a Build in the caller's buffer, or a
 * Get. Nothing but the two tracepoints' static keys when both are off.
 */
static __always_inline void wdmdma_trace_mapped(const struct wdmdma_xfer *xfer)
{
	if (!trace_wdmdma_list_build_enabled() &&
	    !trace_wdmdma_list_get_enabled())
		return;
	if (xfer->source == WDMDMA_SRC_CALLER)
		trace_wdmdma_list_build(xfer);
	else
		trace_wdmdma_list_get(xfer);
}

/*
 * Run a request's callback with its list, or with NULL if it failed. From
 * here on wdmdma no longer touches the request's transfer context, so the
 * driver may reuse it.
 */
static void wdmdma_invoke(struct wdmdma_adapter *adapter,
			  const struct wdmdma_req *req,
			  struct wdmdma_sg_list *sgl)
{
	struct device *dev = req->dev ? req->dev : adapter->dev;

	if (req->ctx)
		WRITE_ONCE(req->ctx->state, WDMDMA_REQ_RUNNING);
	if (!req->fn)		/* synchronous _ex call returning the list */
		return;
	if (req->flags & WDMDMA_REQ_NT)
		req->nt_fn(dev, NULL, (PSCATTER_GATHER_LIST)sgl, req->context);
	else
		req->fn(dev, NULL, sgl, req->context);
}

/*
 * Put a request whose mapping failed for want of space back to wait: after
 * the others already waiting for mapping space (they lead the queue).
 */
static void wdmdma_queue_add_map_wait(struct wdmdma_adapter *adapter,
				      struct wdmdma_req *req)
{
	struct wdmdma_req *pos;
	struct list_head *after = &adapter->queue;

	lockdep_assert_held(&adapter->lock);
	list_for_each_entry(pos, &adapter->queue, node) {
		if (pos->wait != WDMDMA_WAIT_MAP)
			break;
		after = &pos->node;
	}
	req->state = WDMDMA_REQ_QUEUED;
	wdmdma_wait_count(adapter, req, true);
	adapter->stats.queue_depth++;
	list_add(&req->node, after);
}

/* What became of a claimed list whose mapping failed. */
enum wdmdma_map_end {
	WDMDMA_MAP_WAITS,	/* queued again: its callback runs later */
	WDMDMA_MAP_FAILED,	/* ended: no list (callback with NULL if it waited) */
	WDMDMA_MAP_CANCELLED,	/* transient, but the adapter is going away */
};

/*
 * A mapping of a claimed list failed with @err: put its request back to
 * wait (-ENOMEM: mapping space, -EAGAIN: map registers after all), or end
 * it. Called with the lock held, which it keeps; the caller then calls
 * wdmdma_mapping_done() and drops the list's adapter reference. The ended
 * request is copied to @failed (the list memory holding it is gone).
 */
static enum wdmdma_map_end wdmdma_map_failed(struct wdmdma_adapter *adapter,
					     struct wdmdma_xfer *xfer, int err,
					     bool fast, bool sync,
					     struct wdmdma_req *failed)
{
	struct wdmdma_req *req = xfer->req.ctx ? xfer->req.ctx : &xfer->req;
	bool transient = err == -ENOMEM || err == -EAGAIN;
	enum wdmdma_map_end end = WDMDMA_MAP_FAILED;

	lockdep_assert_held(&adapter->lock);
	wdmdma_unclaim(adapter, xfer);
	if (transient && !sync && !adapter->dead) {
		if (err == -ENOMEM) {
			adapter->stats.map_retries++;
			xfer->req.flags |= WDMDMA_REQ_MAP_WAIT;
		}
		if (req != &xfer->req)
			*req = xfer->req;
		req->xfer = xfer;
		if (err == -ENOMEM)
			wdmdma_queue_add_map_wait(adapter, req);
		else
			wdmdma_queue_add(adapter, req, true);
		if (fast) {
			adapter->stats.deferred++;
			trace_wdmdma_list_defer(adapter, req, err);
		}
		if (err == -ENOMEM)
			wdmdma_retry_later(adapter);
		else
			wdmdma_kick(adapter);
		return WDMDMA_MAP_WAITS;
	}
	*failed = xfer->req;
	if (!transient) {
		adapter->stats.failed++;
		trace_wdmdma_list_fail(adapter, failed, err);
	} else if (!sync) {
		end = WDMDMA_MAP_CANCELLED;
		adapter->stats.cancelled++;
		trace_wdmdma_list_cancel(adapter, failed, err);
	}
	if (xfer->req.ctx)
		xfer->req.ctx->state = end == WDMDMA_MAP_CANCELLED ?
				       WDMDMA_REQ_CANCELLED : WDMDMA_REQ_IDLE;
	wdmdma_xfer_release(adapter, xfer);
	wdmdma_kick(adapter);
	return end;
}

/*
 * The first waiting request that has, or can now get, everything it
 * lacks, given what the walk found short (@short_mask, bits of enum
 * wdmdma_wait). Takes what it gets; a request that got memory but not map
 * registers keeps the memory (it stays queued). Returns the request, with
 * its first map register in @base; NULL if none can run. A request that
 * needs list memory is returned in @alloc (and NULL) unless an allocation
 * already failed in this run: the caller allocates without the lock (to
 * @spare) and comes back; the reserve is the fallback.
 */
static struct wdmdma_req *wdmdma_next_ready(struct wdmdma_adapter *adapter,
					    unsigned long *short_mask,
					    unsigned int *base,
					    struct wdmdma_xfer **spare,
					    bool alloc_failed,
					    struct wdmdma_req **alloc)
{
	struct wdmdma_req *req;

	lockdep_assert_held(&adapter->lock);
	*alloc = NULL;
	list_for_each_entry(req, &adapter->queue, node) {
		bool chan = req->flags & WDMDMA_REQ_CHANNEL;

		if (chan) {
			/*
			 * The channel (packet.c), in FIFO order: a channel
			 * request skipped for any reason holds back the
			 * later ones. It maps nothing when granted, so
			 * mapping space does not hold it back. Skipped for
			 * the channel, it waits for nothing else.
			 */
			if (adapter->chan_owner ||
			    (*short_mask & BIT(WDMDMA_WAIT_CHAN))) {
				wdmdma_chan_recount(adapter, req, 0);
				goto skip;
			}
		} else if (req->wait == WDMDMA_WAIT_MAP) {
			if (*short_mask & BIT(WDMDMA_WAIT_MAP))
				continue;
		} else if (*short_mask & BIT(WDMDMA_WAIT_MAP)) {
			continue;	/* all mappings need space */
		}
		if (!req->xfer) {
			if (*short_mask & BIT(WDMDMA_WAIT_MEM))
				goto lacks;
			if (!*spare && !alloc_failed) {
				*alloc = req;
				return NULL;
			}
			if (*spare && (*spare)->max_ents >=
				      wdmdma_xfer_ents(adapter, req->span)) {
				req->xfer = *spare;
				*spare = NULL;
			} else {
				req->xfer = wdmdma_xfer_reserve(adapter);
			}
			if (!req->xfer) {
				*short_mask |= BIT(WDMDMA_WAIT_MEM);
				goto lacks;
			}
			/* A channel request is recounted below. */
			if (!chan)
				wdmdma_queue_rewait(adapter, req);
		}
		if (req->nr_regs) {
			if (*short_mask & BIT(WDMDMA_WAIT_REGS))
				goto lacks;
			if (!wdmdma_regs_alloc(adapter, req->nr_regs, base)) {
				*short_mask |= BIT(WDMDMA_WAIT_REGS);
				goto lacks;
			}
		} else {
			*base = 0;
		}
		return req;
lacks:
		/* The channel is free for it: it waits for what it lacks. */
		if (chan)
			wdmdma_chan_recount(adapter, req,
					    wdmdma_chan_lacks(req));
skip:
		/*
		 * A channel request skipped for memory or map registers
		 * holds back the later ones as well. The race this covers:
		 * the channel held, CPU1 submits B, reads
		 * nr_waiting[WDMDMA_WAIT_MEM] == 0 unlocked and allocates;
		 * CPU0 submits A, whose allocation fails, and takes the
		 * lock first: A is queued without memory, B behind it with
		 * memory. The channel is freed while the reserve is empty
		 * and this run's allocation fails, so A is skipped for
		 * memory; without this, B would be granted the channel
		 * ahead of A.
		 */
		if (chan)
			*short_mask |= BIT(WDMDMA_WAIT_CHAN);
	}
	return NULL;
}

/**
 * wdmdma_run_queue() - the adapter's work item: run waiting requests
 * @work: the adapter's work
 *
 * Dispatches, in queue order, every request that can get what it lacks.
 * Once a resource is found short, later requests needing it are skipped
 * (they stay behind the one that found it short); a mapping that fails
 * for space stops everything until the back-off or the next Put. List
 * memory for a waiting Get comes from the reserve, else from a
 * GFP_NOWAIT allocation made without the lock.
 */
void wdmdma_run_queue(struct work_struct *work)
{
	struct wdmdma_adapter *adapter =
		container_of(work, struct wdmdma_adapter, work);
	unsigned long short_mask = 0, flags;
	struct wdmdma_req *req, *alloc, failed;
	struct wdmdma_xfer *xfer, *spare = NULL;
	enum wdmdma_map_end end;
	unsigned int base, span;
	bool alloc_failed = false;
	int ret;

	spin_lock_irqsave(&adapter->lock, flags);
	while (!adapter->dead) {
		req = wdmdma_next_ready(adapter, &short_mask, &base, &spare,
					alloc_failed, &alloc);
		if (!req && alloc) {
			/* Allocate for it unlocked; it may be gone after. */
			span = alloc->span;
			spin_unlock_irqrestore(&adapter->lock, flags);
			spare = wdmdma_xfer_alloc(adapter, span);
			spin_lock_irqsave(&adapter->lock, flags);
			alloc_failed = !spare;
			continue;
		}
		if (!req)
			break;
		wdmdma_queue_del(adapter, req);
		xfer = wdmdma_claim(adapter, req, base);
		if (xfer->req.flags & WDMDMA_REQ_CHANNEL) {
			/* The channel and its registers: no mapping yet. */
			wdmdma_channel_claimed(adapter, xfer);
			spin_unlock_irqrestore(&adapter->lock, flags);
			local_bh_disable();
			wdmdma_channel_run(adapter, xfer);
			local_bh_enable();
			wdmdma_mapping_done(adapter);
			cond_resched();
			spin_lock_irqsave(&adapter->lock, flags);
			continue;
		}
		spin_unlock_irqrestore(&adapter->lock, flags);

		ret = wdmdma_xfer_map(xfer);
		if (ret) {
			spin_lock_irqsave(&adapter->lock, flags);
			end = wdmdma_map_failed(adapter, xfer, ret, false,
						false, &failed);
			if (ret == -ENOMEM)
				short_mask |= BIT(WDMDMA_WAIT_MAP);
			spin_unlock_irqrestore(&adapter->lock, flags);
			wdmdma_mapping_done(adapter);
			wdmdma_adapter_put(adapter);
			if (end == WDMDMA_MAP_FAILED) {
				local_bh_disable();
				wdmdma_invoke(adapter, &failed, NULL);
				local_bh_enable();
			}
		} else {
			WRITE_ONCE(adapter->retry_delay, 1);
			trace_wdmdma_list_run(xfer);
			wdmdma_trace_mapped(xfer);
			wdmdma_mapping_done(adapter);
			local_bh_disable();
			wdmdma_invoke(adapter, &xfer->req, &xfer->list);
			local_bh_enable();
		}
		cond_resched();
		spin_lock_irqsave(&adapter->lock, flags);
	}
	spin_unlock_irqrestore(&adapter->lock, flags);
	kfree(spare);	/* allocated for a request that went away */
}

/*
 * Cancel every waiting request (destroy, once, after ->dead is set): unlink,
 * mark cancelled and free each under the lock, so that a racing Cancel
 * finds it cancelled and the driver may reuse its context at once.
 */
void wdmdma_queue_cancel_all(struct wdmdma_adapter *adapter)
{
	struct wdmdma_req *req, *tmp;
	struct wdmdma_xfer *xfer;
	unsigned long flags;
	unsigned int n = 0;
	wdmdma_list_control_t fn = NULL;

	spin_lock_irqsave(&adapter->lock, flags);
	list_for_each_entry_safe(req, tmp, &adapter->queue, node) {
		if (!n++)
			fn = req->fn;
		wdmdma_queue_del(adapter, req);
		req->state = WDMDMA_REQ_CANCELLED;
		adapter->stats.cancelled++;
		trace_wdmdma_list_cancel(adapter, req, -ENODEV);
		xfer = req->xfer;
		req->xfer = NULL;
		if (xfer)	/* may hold @req: not read after */
			wdmdma_xfer_release(adapter, xfer);
	}
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (n)
		dev_warn(adapter->dev,
			 "adapter destroyed: cancelled %u waiting requests (the first with callback %ps)\n",
			 n, fn);
}

/* Wait until no claimed list is being mapped (destroy, ->dead set). */
void wdmdma_wait_mappings(struct wdmdma_adapter *adapter)
{
	wait_var_event(&adapter->mapping, !atomic_read(&adapter->mapping));
}

/*
 * May a new request of transfer context @cur (NULL if none) be taken?
 * 0; -ENODEV, the adapter is being destroyed; -EBUSY, @cur's request
 * still waits or is being mapped (wdmdma_submit_error() reports it, once
 * adapter->lock is dropped).
 */
int wdmdma_submit_allowed(struct wdmdma_adapter *adapter,
			  const struct wdmdma_req *cur)
{
	lockdep_assert_held(&adapter->lock);
	if (adapter->dead)
		return -ENODEV;
	if (cur && (cur->state == WDMDMA_REQ_QUEUED ||
		    cur->state == WDMDMA_REQ_MAPPING))
		return -EBUSY;
	return 0;
}

/* What a refused request returns: -EBUSY is reported, as -EINVAL. */
int wdmdma_submit_error(struct wdmdma_adapter *adapter, int ret)
{
	if (ret != -EBUSY)
		return ret;
	wdmdma_verifier_report(adapter,
			       "transfer context reused while its request is pending\n");
	return -EINVAL;
}

/*
 * Would a new request with @need (bits of enum wdmdma_wait) have to wait
 * behind one already waiting for the same thing?
 */
bool wdmdma_behind(struct wdmdma_adapter *adapter, unsigned long need)
{
	unsigned int w;

	lockdep_assert_held(&adapter->lock);
	/* A channel request maps nothing: mapping space is not its wait. */
	if (adapter->nr_waiting[WDMDMA_WAIT_MAP] &&
	    !(need & BIT(WDMDMA_WAIT_CHAN)))
		return true;
	for (w = WDMDMA_WAIT_MEM; w <= WDMDMA_WAIT_CHAN; w++)
		if ((need & BIT(w)) && adapter->nr_waiting[w])
			return true;
	return false;
}

/*
 * A submit's own mapping of @xfer failed with @err: end it or queue it
 * (wdmdma_map_failed()). Returns what Get/Build return then: 0 (it waits,
 * its callback runs later), -ENODEV, -ENOMEM or -EIO. The caller still
 * drops the list's adapter reference.
 */
static int wdmdma_submit_map_failed(struct wdmdma_adapter *adapter,
				    struct wdmdma_xfer *xfer, int err,
				    bool sync)
{
	enum wdmdma_map_end end;
	struct wdmdma_req failed;
	unsigned long flags;

	spin_lock_irqsave(&adapter->lock, flags);
	end = wdmdma_map_failed(adapter, xfer, err, true, sync, &failed);
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (end == WDMDMA_MAP_WAITS)
		return 0;
	if (end == WDMDMA_MAP_CANCELLED)
		return -ENODEV;
	return err == -ENOMEM || err == -EAGAIN ? -ENOMEM : -EIO;
}

/* --- The fast path -------------------------------------------------------- */

/*
 * On an adapter created with the verifier off, a request that needs no
 * map registers, has its
 * list memory (Build's buffer, or Get's allocation) and finds nobody
 * waiting for what it needs is claimed, mapped and dispatched without
 * adapter->lock: its list is not put on the outstanding list, its counters
 * and its adapter reference (adapter->fast_ref) are per CPU, and an RCU
 * read-side section stands in for the lock against
 * wdmdma_destroy_adapter(), which sets ->dead and then waits for a grace
 * period. A mapping that fails takes the lock and ends as on the
 * locked path.
 */
static bool wdmdma_fast_ok(struct wdmdma_adapter *adapter,
			   const struct wdmdma_req *req,
			   const struct wdmdma_req *ctx, bool get)
{
	u8 state;

	if (!adapter->fast || req->nr_regs)
		return false;
	if (READ_ONCE(adapter->nr_waiting[WDMDMA_WAIT_MAP]))
		return false;
	if (get && READ_ONCE(adapter->nr_waiting[WDMDMA_WAIT_MEM]))
		return false;
	if (!ctx)
		return true;
	/*
	 * A context whose request waits or is being mapped is being reused
	 * too early: the locked path reports it (under the lock, where the
	 * queue runner, Cancel and destroy change these states).
	 */
	state = READ_ONCE(ctx->state);
	return state != WDMDMA_REQ_QUEUED && state != WDMDMA_REQ_MAPPING;
}

/* wdmdma_claim() without the lock, for the fast path. */
static void wdmdma_claim_fast(struct wdmdma_adapter *adapter,
			      struct wdmdma_req *tmpl, struct wdmdma_req *ctx,
			      struct wdmdma_xfer *xfer, u8 source)
{
	struct wdmdma_req *req = &xfer->req;

	/* Field by field (no node yet): cheaper than a structure copy. */
	req->mdl = tmpl->mdl;
	req->offset = tmpl->offset;
	req->length = tmpl->length;
	req->flags = tmpl->flags;
	req->span = tmpl->span;
	req->nr_regs = 0;
	req->bounce_all = tmpl->bounce_all;
	req->state = WDMDMA_REQ_MAPPING;
	req->wait = 0;
	req->fn = tmpl->fn;
	req->context = tmpl->context;
	req->dev = tmpl->dev;
	req->xfer = xfer;
	req->ctx = ctx;
	req->buf_len = tmpl->buf_len;
	/* As wdmdma_claim(): Cancel now finds it being mapped. */
	if (ctx)
		WRITE_ONCE(ctx->state, WDMDMA_REQ_MAPPING);
	xfer->magic = WDMDMA_XFER_MAGIC;
	xfer->source = source;
	/* Get's memory says its own size (a spare may be larger). */
	if (source != WDMDMA_SRC_ALLOC)
		xfer->max_ents = wdmdma_xfer_ents(adapter, tmpl->span);
	xfer->adapter = adapter;
	xfer->reg_base = 0;
	xfer->nr_regs = 0;
	xfer->tracked = false;
	wdmdma_fast_get(adapter);
	this_cpu_inc(adapter->pcpu->outstanding);
	this_cpu_inc(adapter->pcpu->fast);
	if (source == WDMDMA_SRC_ALLOC)
		this_cpu_inc(adapter->pcpu->allocated);
	else
		this_cpu_inc(adapter->pcpu->built);
}

/*
 * The fast path of wdmdma_submit() for @xfer (Get's allocation or Build's
 * buffer, @source says which), with the _ex call's context @ctx or NULL,
 * @sync and @sglp as there. Returns as wdmdma_submit().
 */
static int wdmdma_submit_fast(struct wdmdma_adapter *adapter,
			      struct wdmdma_req *tmpl, struct wdmdma_req *ctx,
			      struct wdmdma_xfer *xfer, u8 source, bool sync,
			      struct wdmdma_sg_list **sglp)
{
	int ret;

	rcu_read_lock();
	if (READ_ONCE(adapter->dead)) {
		rcu_read_unlock();
		if (source == WDMDMA_SRC_ALLOC)
			kfree(xfer);
		return -ENODEV;
	}
	wdmdma_claim_fast(adapter, tmpl, ctx, xfer, source);
	ret = wdmdma_xfer_map(xfer);
	if (ret) {
		ret = wdmdma_submit_map_failed(adapter, xfer, ret, sync);
		rcu_read_unlock();
		wdmdma_fast_put(adapter);
		return ret;
	}
	wdmdma_trace_mapped(xfer);
	/*
	 * Inside the section: once destroy's grace period is over, no
	 * callback of the fast path is still running.
	 */
	if (sglp)
		*sglp = &xfer->list;
	wdmdma_invoke(adapter, &xfer->req, &xfer->list);
	rcu_read_unlock();
	return 0;
}

/**
 * wdmdma_submit() - common body of Get, Build and their _ex forms
 * @adapter: the adapter
 * @tmpl: the request (on the caller's stack): mdl, offset, length, flags,
 *	callback, context and device filled in
 * @ctx: transfer context of an _ex call, or NULL
 * @buf: Build buffer (with tmpl->buf_len), or NULL for Get
 * @flags: WDMDMA_SYNCHRONOUS
 * @sglp: where a synchronous call returns the list, or NULL
 *
 * Return: see wdmdma_get_sg_list().
 */
int wdmdma_submit(struct wdmdma_adapter *adapter, struct wdmdma_req *tmpl,
		  struct wdmdma_xfer_ctx *ctx, void *buf, unsigned int flags,
		  struct wdmdma_sg_list **sglp)
{
	struct wdmdma_req *cur = (struct wdmdma_req *)ctx, *req;
	bool sync = flags & WDMDMA_SYNCHRONOUS;
	struct wdmdma_xfer *xfer = NULL, *claimed;
	unsigned long irqflags, need = 0;
	int ret;

	if (!adapter) {
		pr_err("a list was requested from a NULL adapter\n");
		return -EINVAL;
	}
	if (flags & ~WDMDMA_SYNCHRONOUS)
		return -EINVAL;
	if (!tmpl->fn && !(sync && sglp))
		return -EINVAL;
	/* Zero length and too long are wdmdma_plan()'s to report. */
	ret = tmpl->length && tmpl->length <= adapter->desc.max_transfer ?
	      wdmdma_plan_quick(adapter, tmpl) : 1;
	if (ret > 0)
		ret = wdmdma_plan(adapter, tmpl);
	if (ret)
		return ret;

	if (buf) {
		size_t size = wdmdma_xfer_size(wdmdma_xfer_ents(adapter, tmpl->span));

		if (tmpl->buf_len < size)
			return -ENOBUFS;
		if (!IS_ALIGNED((unsigned long)buf, __alignof__(struct wdmdma_xfer)))
			return -EINVAL;
		tmpl->flags |= WDMDMA_REQ_BUILD;
	} else {
		if (!READ_ONCE(adapter->nr_waiting[WDMDMA_WAIT_MEM]))
			xfer = wdmdma_xfer_alloc(adapter, tmpl->span);
		if (!xfer)
			need |= BIT(WDMDMA_WAIT_MEM);
	}
	if (tmpl->nr_regs)
		need |= BIT(WDMDMA_WAIT_REGS);
	if ((buf || xfer) && wdmdma_fast_ok(adapter, tmpl, cur, !buf))
		return wdmdma_submit_fast(adapter, tmpl, cur, buf ? buf : xfer,
					  buf ? WDMDMA_SRC_CALLER :
						WDMDMA_SRC_ALLOC, sync, sglp);

	spin_lock_irqsave(&adapter->lock, irqflags);
	ret = wdmdma_submit_allowed(adapter, cur);
	if (ret)
		goto fail;	/* -EBUSY is reported below, outside the lock */
	if (buf && !wdmdma_verify_build_buf(adapter, buf)) {
		ret = -EEXIST;	/* reported below, outside the lock */
		goto fail;
	}
	/* Only now is the caller's buffer ours to write. */
	if (buf) {
		xfer = buf;
		xfer->source = WDMDMA_SRC_CALLER;
		xfer->max_ents = wdmdma_xfer_ents(adapter, tmpl->span);
	}
	if (wdmdma_behind(adapter, need))
		goto wait;
	claimed = wdmdma_claim_now(adapter, tmpl, cur, &xfer);
	if (!claimed)
		goto wait;
	xfer = claimed;
	spin_unlock_irqrestore(&adapter->lock, irqflags);

	ret = wdmdma_xfer_map(xfer);
	if (ret) {
		ret = wdmdma_submit_map_failed(adapter, xfer, ret, sync);
		wdmdma_mapping_done(adapter);
		wdmdma_adapter_put(adapter);
		return ret;
	}
	wdmdma_trace_mapped(xfer);
	if (sglp)
		*sglp = &xfer->list;
	if (!xfer->req.fn) {
		/* No callback: the context is free again, as after one. */
		wdmdma_invoke(adapter, &xfer->req, &xfer->list);
		wdmdma_mapping_done(adapter);
		return 0;
	}
	/*
	 * Destroy waits for the callback too, as on the fast path: the
	 * mapping count drops after it. The callback may put the list, and
	 * with it the list's adapter reference: hold one across.
	 */
	kref_get(&adapter->ref);
	wdmdma_invoke(adapter, &xfer->req, &xfer->list);
	wdmdma_mapping_done(adapter);
	wdmdma_adapter_put(adapter);
	return 0;

wait:
	if (sync) {
		ret = -ENOMEM;
		goto fail;
	}
	req = wdmdma_queue_wait(adapter, tmpl, cur, xfer);
	if (!req) {
		ret = -ENOMEM;
		dev_warn_ratelimited(adapter->dev,
				     "no memory, reserve and waiter slots all in use\n");
		goto fail;
	}
	trace_wdmdma_list_defer(adapter, req, 0);
	/* It may wait only behind others: have the queue looked at. */
	wdmdma_kick(adapter);
	spin_unlock_irqrestore(&adapter->lock, irqflags);
	return 0;

fail:
	/* Get's memory goes back; a caller's buffer is left untouched. */
	if (xfer && xfer != buf)
		wdmdma_xfer_release(adapter, xfer);
	spin_unlock_irqrestore(&adapter->lock, irqflags);
	if (ret == -EEXIST) {
		wdmdma_verifier_report(adapter,
				       "build into buffer %p, still in use (its list not put yet, or its Build waiting)\n",
				       buf);
		ret = -EINVAL;
	}
	return wdmdma_submit_error(adapter, ret);
}

/* --- The list routines ------------------------------------------------------ */

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
 * Finds list memory without sleeping: a GFP_NOWAIT allocation, else an
 * element of the adapter's emergency reserve. Then it takes the map
 * registers the transfer needs, maps it, and calls @fn. If memory, map
 * registers or mapping space are short, or earlier requests wait for what
 * this one needs, the request joins the adapter's queue and @fn runs
 * later, exactly once, from the adapter's work item: with the list, or
 * with a NULL list if the mapping then fails for good (see
 * wdmdma_list_control_t).
 *
 * Context: any; does not sleep. @fn may run before this returns.
 * Return: 0 if @fn has run or will run; -EINVAL (bad arguments),
 * -EMSGSIZE, -ENOSPC (see wdmdma_calculate_sg_list()), -ENOMEM (no memory,
 * reserve empty and all waiter slots in use), -EIO (the mapping failed and
 * will not succeed), -ENODEV (adapter being destroyed). On error @fn never
 * runs.
 */
int wdmdma_get_sg_list(struct wdmdma_adapter *adapter,
		       struct wdmdma_mdl *mdl, const void *current_va,
		       u32 length, wdmdma_list_control_t fn, void *context,
		       bool write_to_device)
{
	struct wdmdma_req req __uninitialized;
	u64 offset;

	if (wdmdma_offset_of(mdl, current_va, &offset))
		return -EINVAL;
	wdmdma_req_init(&req, mdl, offset, length,
			write_to_device ? WDMDMA_REQ_WRITE : 0, context, NULL, 0);
	req.fn = fn;
	return wdmdma_submit(adapter, &req, NULL, NULL, 0, NULL);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_get_sg_list);

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
 *	(else -EINVAL); owned by wdmdma until wdmdma_put_sg_list(), or until
 *	@fn runs with a NULL list
 * @buf_len: its size; wdmdma_calculate_sg_list() gives the size needed
 *
 * Like wdmdma_get_sg_list() but allocates nothing on any path. If map
 * registers or mapping space are short the request waits (in @buf) and
 * @fn runs later.
 *
 * Context: any; does not sleep.
 * Return: as wdmdma_get_sg_list(), plus -ENOBUFS if @buf_len is too small
 * (nothing mapped; @fn never runs). Never -ENOMEM. With the verifier on,
 * -EINVAL (reported) if @buf holds a list not put yet or a Build waiting.
 */
int wdmdma_build_sg_list(struct wdmdma_adapter *adapter,
			 struct wdmdma_mdl *mdl, const void *current_va,
			 u32 length, wdmdma_list_control_t fn, void *context,
			 bool write_to_device, void *buf, size_t buf_len)
{
	struct wdmdma_req req __uninitialized;
	u64 offset;

	if (!buf || wdmdma_offset_of(mdl, current_va, &offset))
		return -EINVAL;
	wdmdma_req_init(&req, mdl, offset, length,
			write_to_device ? WDMDMA_REQ_WRITE : 0, context, NULL,
			buf_len);
	req.fn = fn;
	return wdmdma_submit(adapter, &req, NULL, buf, 0, NULL);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_build_sg_list);

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
EXPORT_SYMBOL_WDMDMA(wdmdma_init_xfer_ctx);

static int wdmdma_submit_ex(struct wdmdma_adapter *adapter,
			    struct wdmdma_xfer_ctx *ctx, struct wdmdma_mdl *mdl,
			    u64 offset, u32 length, unsigned int flags,
			    wdmdma_list_control_t fn, void *context, bool write,
			    void *buf, size_t buf_len,
			    struct wdmdma_sg_list **sglp)
{
	struct wdmdma_req req __uninitialized;

	if (!ctx || !mdl)
		return -EINVAL;
	wdmdma_req_init(&req, mdl, offset, length,
			write ? WDMDMA_REQ_WRITE : 0, context, NULL, buf_len);
	req.fn = fn;
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
 * Return: as wdmdma_get_sg_list(); -EINVAL (and a verifier error) if @ctx's
 * request is still waiting.
 */
int wdmdma_get_sg_list_ex(struct wdmdma_adapter *adapter,
			  struct wdmdma_xfer_ctx *ctx, struct wdmdma_mdl *mdl,
			  u64 offset, u32 length, unsigned int flags,
			  wdmdma_list_control_t fn, void *context,
			  bool write_to_device, struct wdmdma_sg_list **sglp)
{
	return wdmdma_submit_ex(adapter, ctx, mdl, offset, length, flags, fn,
				context, write_to_device, NULL, 0, sglp);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_get_sg_list_ex);

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
	return wdmdma_submit_ex(adapter, ctx, mdl, offset, length, flags, fn,
				context, write_to_device, buf, buf_len, sglp);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_build_sg_list_ex);

/**
 * wdmdma_cancel() - cancel a waiting _ex request (CancelAdapterChannel)
 * @adapter: the adapter
 * @ctx: the request's transfer context: of a Get, Build or adapter channel
 *	request (wdmdma_allocate_channel_ex(), whose routine then never runs)
 *
 * Context: any; does not sleep.
 * Return: true if the request was waiting: this call removed it, and its
 * callback will never run. false if it is being mapped (its callback
 * follows, with the list or a NULL list, unless the adapter is being
 * destroyed), its callback has run or is running, it was never queued, or
 * an earlier Cancel or wdmdma_destroy_adapter() cancelled it already.
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
	/* The fast path writes it without the lock (a context in reuse). */
	if (READ_ONCE(req->state) == WDMDMA_REQ_QUEUED) {
		wdmdma_queue_del(adapter, req);
		req->state = WDMDMA_REQ_CANCELLED;
		adapter->stats.cancelled++;
		trace_wdmdma_list_cancel(adapter, req, 0);
		xfer = req->xfer;
		req->xfer = NULL;
		cancelled = true;
		if (xfer)
			wdmdma_xfer_release(adapter, xfer);
		/* It may have been holding back others that fit now. */
		wdmdma_kick(adapter);
	}
	spin_unlock_irqrestore(&adapter->lock, flags);
	return cancelled;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_cancel);

static void wdmdma_check_put_dir(struct wdmdma_adapter *adapter,
				 const struct wdmdma_xfer *xfer,
				 bool write_to_device)
{
	if (!!(xfer->req.flags & WDMDMA_REQ_WRITE) != !!write_to_device)
		wdmdma_verifier_report(adapter,
				       "put with write_to_device=%d, mapped with %d\n",
				       write_to_device,
				       !!(xfer->req.flags & WDMDMA_REQ_WRITE));
}

/*
 * Put of a list the fast path handed out (not on the outstanding list):
 * without the lock unless requests wait. Returns false if @xfer is not
 * such a list; the locked path then checks and ends it. Only adapters
 * created with the verifier off have such lists; on the others a stale
 * pointer is looked up before anything in it is read.
 */
static bool wdmdma_put_untracked(struct wdmdma_adapter *adapter,
				 struct wdmdma_xfer *xfer,
				 bool write_to_device)
{
	unsigned long flags;

	if (!adapter->fast)
		return false;
	if (READ_ONCE(xfer->magic) != WDMDMA_XFER_MAGIC ||
	    READ_ONCE(xfer->adapter) != adapter || READ_ONCE(xfer->tracked))
		return false;
	/* Exactly one of racing Puts gets past this. */
	if (cmpxchg(&xfer->magic, WDMDMA_XFER_MAGIC, WDMDMA_XFER_PUT) !=
	    WDMDMA_XFER_MAGIC)
		return false;
	trace_wdmdma_list_put(xfer);
	/* As the locked Put: off the count before it is unmapped. */
	this_cpu_dec(adapter->pcpu->outstanding);
	wdmdma_check_put_dir(adapter, xfer, write_to_device);
	wdmdma_xfer_unmap(xfer);
	wdmdma_xfer_release(adapter, xfer);
	/* Freed memory may let a waiting Get allocate. */
	if (READ_ONCE(adapter->stats.queue_depth)) {
		spin_lock_irqsave(&adapter->lock, flags);
		if (!list_empty(&adapter->queue))
			wdmdma_kick(adapter);
		spin_unlock_irqrestore(&adapter->lock, flags);
	}
	wdmdma_fast_put(adapter);
	return true;
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
 * data the device wrote. A list that is not outstanding on @adapter
 * (already put, or another adapter's) is reported and ignored (with the
 * verifier on it is looked up; off, its tracking data is trusted), and a
 * @write_to_device that differs from the mapping's is reported (the
 * mapping's direction is used).
 *
 * Context: any, including hardirq; does not sleep. Never runs a callback.
 */
void wdmdma_put_sg_list(struct wdmdma_adapter *adapter,
			struct wdmdma_sg_list *sgl, bool write_to_device)
{
	struct wdmdma_xfer *xfer;
	unsigned long flags;

	if (!adapter || !sgl) {
		pr_err("put_sg_list: NULL %s\n", adapter ? "list" : "adapter");
		return;
	}
	xfer = container_of(sgl, struct wdmdma_xfer, list);
	if (wdmdma_put_untracked(adapter, xfer, write_to_device))
		return;

	spin_lock_irqsave(&adapter->lock, flags);
	if (!wdmdma_verify_put(adapter, xfer)) {
		spin_unlock_irqrestore(&adapter->lock, flags);
		wdmdma_verifier_report(adapter,
				       "put of list %p that is not outstanding here (double put, or another adapter's)\n",
				       sgl);
		return;
	}
	xfer->magic = WDMDMA_XFER_PUT;	/* a racing second Put is refused */
	trace_wdmdma_list_put(xfer);
	list_del(&xfer->node);
	adapter->stats.outstanding--;
	spin_unlock_irqrestore(&adapter->lock, flags);

	wdmdma_check_put_dir(adapter, xfer, write_to_device);
	wdmdma_xfer_unmap(xfer);
	wdmdma_xfer_retire(adapter, xfer);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_put_sg_list);

/**
 * wdmdma_flush_adapter() - wait for the adapter's queue runner
 * @adapter: the adapter
 *
 * Returns once the adapter's work item has run every waiting request that
 * could run when it was called (their callbacks have returned); a pending
 * mapping retry is made at once. Requests still waiting for something
 * short stay queued. For tests and for
 * drivers that want to know a kick has been acted on.
 *
 * Context: process context; sleeps. Not from a list-control callback.
 */
void wdmdma_flush_adapter(struct wdmdma_adapter *adapter)
{
	might_sleep();
	if (!adapter)
		return;
	flush_delayed_work(&adapter->retry);
	flush_work(&adapter->work);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_flush_adapter);
