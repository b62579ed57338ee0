// SPDX-License-Identifier: GPL-2.0
/*
 * edublk core: a request's life. queue_rq starts it in the mode module
 * parameter "mode" picked (main.c): wdmdma maps it into a list whose
 * memory comes from kmalloc or an emergency buffer (reserve), its PDU
 * (pdu) or the library's reserve (get), and the list-control callback
 * hands the list to the backend; in the native modes the backend maps it
 * itself. A request with no data goes to the backend as it is. Every end
 * goes through edublk_complete(): the list is put (or the native mapping
 * undone), the Build buffer given back or on, the request counted and
 * ended.
 *
 * Locking: edu->lock (irq-safe) guards the emergency buffers and their
 * waiters, the failed list and the statistics. It is never held while
 * calling into wdmdma or the backend, so the list-control callback (which
 * takes it) may run inside Get/Build.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/slab.h>

#include "../compat.h"
#include "edublk.h"

/*
 * Map an error from wdmdma to a block status. None of these is "try again
 * later": wdmdma waits internally for map registers and list memory, and
 * the queue limits keep every request inside the adapter's limits, so an
 * error here is a bug or a mapping failure; requeueing would only loop.
 */
static blk_status_t edublk_map_status(struct edublk_dev *edu, int err)
{
	switch (err) {
	case 0:
		return BLK_STS_OK;
	case -ENODEV:
		return BLK_STS_OFFLINE;
	default:
		/*
		 * -EIO: the DMA mapping failed. -EMSGSIZE, -ENOSPC, -ENOBUFS,
		 * -EINVAL: the request broke the limits we set. -ENOMEM (get
		 * mode): all waiter slots in use, which max_waiters >= queue
		 * depth rules out.
		 */
		dev_err_ratelimited(&edu->pdev->dev, "wdmdma refused a request: %d\n",
				    err);
		return BLK_STS_IOERR;
	}
}

/* --- Requests that end later -------------------------------------------- */

/**
 * edublk_fail_later() - queue a request to be ended by the work item
 * @edu: the device
 * @cmd: the request, on no list, cmd->status set
 *
 * Context: edu->lock held.
 */
void edublk_fail_later(struct edublk_dev *edu, struct edublk_cmd *cmd)
{
	lockdep_assert_held(&edu->lock);
	list_add_tail(&cmd->node, &edu->failed);
	schedule_work(&edu->fail_work);
}

/**
 * edublk_fail_async() - end a request from the work item
 * @edu: the device
 * @cmd: the request, on no list
 * @status: the error to end it with
 *
 * For the list-control callback, which must not end a request itself
 * (that would Put the list inside the Get or Build that runs it).
 *
 * Context: any; does not sleep.
 */
void edublk_fail_async(struct edublk_dev *edu, struct edublk_cmd *cmd,
		       blk_status_t status)
{
	unsigned long flags;

	cmd->status = status;
	spin_lock_irqsave(&edu->lock, flags);
	edublk_fail_later(edu, cmd);
	spin_unlock_irqrestore(&edu->lock, flags);
}

/**
 * edublk_fail_work() - end requests that failed before reaching the device
 * @work: edu->fail_work
 *
 * Context: process.
 */
void edublk_fail_work(struct work_struct *work)
{
	struct edublk_dev *edu = container_of(work, struct edublk_dev, fail_work);
	struct edublk_cmd *cmd;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&edu->lock, flags);
		cmd = list_first_entry_or_null(&edu->failed, struct edublk_cmd,
					       node);
		if (cmd)
			list_del(&cmd->node);
		spin_unlock_irqrestore(&edu->lock, flags);
		if (!cmd)
			break;
		edublk_complete(edu, cmd);
	}
}

/* --- The list-source modes ---------------------------------------------- */

/**
 * edublk_list_ready() - wdmdma's list-control callback
 * @dev: the device
 * @irp: unused (NULL)
 * @sgl: the mapped list for the request, or NULL
 * @context: the request's struct edublk_cmd
 *
 * Hands the request to the backend (ops->list_ready), which starts it on
 * the device. Runs inside Get/Build (queue_rq, or the completion path for
 * a request that waited for an emergency buffer) or later from wdmdma's
 * work item. Never ends a request itself, so it cannot recurse into
 * wdmdma.
 *
 * @sgl is NULL for a request that waited and then could not be mapped
 * (wdmdma's permanent mapping failure): nothing is held for it, so the
 * request is ended with BLK_STS_IOERR without a Put; its Build buffer, if
 * any, is given back (or on) as for any other end.
 *
 * Context: any; does not sleep.
 */
static void edublk_list_ready(struct device *dev, void *irp,
			      struct wdmdma_sg_list *sgl, void *context)
{
	struct edublk_cmd *cmd = context;
	struct edublk_dev *edu = cmd->edu;
	unsigned long flags;

	cmd->sgl = sgl;
	if (!sgl) {
		dev_err_ratelimited(dev, "request at sector %llu could not be mapped\n",
				    (unsigned long long)blk_rq_pos(edublk_rq(cmd)));
		spin_lock_irqsave(&edu->lock, flags);
		edu->stats.unmapped++;
		spin_unlock_irqrestore(&edu->lock, flags);
		edublk_fail_async(edu, cmd, BLK_STS_IOERR);
		return;
	}
	spin_lock_irqsave(&edu->lock, flags);
	edu->stats.lists++;
	spin_unlock_irqrestore(&edu->lock, flags);
	edu->ops->list_ready(edu, cmd, sgl);
}

/*
 * Map a request's list in its Build buffer (cmd->buf and cmd->buf_len
 * set). On success the list-control callback has run or will run. On
 * failure the buffer is given back and the caller ends the request.
 * Returns BLK_STS_OK or the status to end the request with. Does not
 * sleep.
 */
static blk_status_t edublk_build(struct edublk_dev *edu,
				 struct edublk_cmd *cmd)
{
	int ret;

	ret = wdmdma_build_sg_list_ex(edu->adapter, &cmd->xfer, cmd->mdl, 0,
				      blk_rq_bytes(edublk_rq(cmd)), 0,
				      edublk_list_ready, cmd, cmd->write,
				      cmd->buf, cmd->buf_len, NULL);
	return edublk_map_status(edu, ret);
}

/* --- Emergency Build buffers (reserve mode) ----------------------------- */

/**
 * edublk_alloc_emergency() - reserve mode's emergency Build buffers
 * @edu: the device, edu->max_list_size known
 * @nr: how many, each of edu->max_list_size bytes
 *
 * Return: 0, or -ENOMEM with nothing allocated.
 */
int edublk_alloc_emergency(struct edublk_dev *edu, unsigned int nr)
{
	edu->emergency = kcalloc(nr, sizeof(*edu->emergency), GFP_KERNEL);
	if (!edu->emergency)
		return -ENOMEM;
	edu->nr_emergency = nr;
	for (edu->nr_emergency_free = 0; edu->nr_emergency_free < nr;
	     edu->nr_emergency_free++) {
		void *buf = kmalloc(edu->max_list_size, GFP_KERNEL);

		if (!buf) {
			while (edu->nr_emergency_free--)
				kfree(edu->emergency[edu->nr_emergency_free]);
			kfree(edu->emergency);
			edu->emergency = NULL;
			return -ENOMEM;
		}
		edu->emergency[edu->nr_emergency_free] = buf;
	}
	return 0;
}

void edublk_free_emergency(struct edublk_dev *edu)
{
	WARN_ON(edu->nr_emergency_free != edu->nr_emergency);
	while (edu->nr_emergency_free--)
		kfree(edu->emergency[edu->nr_emergency_free]);
	kfree(edu->emergency);
}

static blk_status_t edublk_submit_reserve(struct edublk_dev *edu,
					  struct edublk_cmd *cmd)
{
	u32 len = blk_rq_bytes(edublk_rq(cmd));
	unsigned long flags;
	size_t size;
	void *buf = NULL;
	int ret;

	ret = wdmdma_calculate_sg_list(edu->adapter, cmd->mdl,
				       wdmdma_mdl_va(cmd->mdl), len, &size, NULL);
	if (ret)
		return edublk_map_status(edu, ret);
	if (!wdmdma_should_fail_alloc(edu->adapter))
		buf = kmalloc(size, GFP_ATOMIC | __GFP_NOWARN);

	spin_lock_irqsave(&edu->lock, flags);
	if (buf) {
		edu->stats.reserve_allocs++;
		cmd->buf_src = EDUBLK_BUF_KMALLOC;
	} else {
		edu->stats.reserve_alloc_fails++;
		if (!edu->nr_emergency_free || !list_empty(&edu->emergency_wait)) {
			/* Started again by edublk_complete() with a buffer. */
			list_add_tail(&cmd->node, &edu->emergency_wait);
			cmd->emergency_waiting = true;
			edu->stats.emergency_waits++;
			spin_unlock_irqrestore(&edu->lock, flags);
			return BLK_STS_OK;
		}
		buf = edu->emergency[--edu->nr_emergency_free];
		size = edu->max_list_size;
		cmd->buf_src = EDUBLK_BUF_EMERGENCY;
		edu->stats.emergency_hits++;
	}
	spin_unlock_irqrestore(&edu->lock, flags);

	cmd->buf = buf;
	cmd->buf_len = size;
	return edublk_build(edu, cmd);
}

/* --- blk-mq ------------------------------------------------------------- */

/**
 * edublk_account() - count a request that is being started
 * @edu: the device
 * @cmd: the request, a read or a write
 */
void edublk_account(struct edublk_dev *edu, struct edublk_cmd *cmd)
{
	unsigned long flags;

	spin_lock_irqsave(&edu->lock, flags);
	edu->stats.requests++;
	if (cmd->write)
		edu->stats.write_bytes += blk_rq_bytes(edublk_rq(cmd));
	else
		edu->stats.read_bytes += blk_rq_bytes(edublk_rq(cmd));
	spin_unlock_irqrestore(&edu->lock, flags);
}

/**
 * __edublk_queue_rq() - start a request, for edublk_queue_rq()
 * @hctx: the hardware queue (on edu-sg, the device queue of the same number)
 * @bd: the request
 *
 * Maps the request through wdmdma in the configured mode; the list-control
 * callback hands it to the backend. A flush, a discard and a write zeroes
 * (edu-sg only) carry no data and go to the backend as they are, in every
 * mode. In the wdmdma
 * modes it never returns a busy status: requests that must wait for list
 * memory or map registers wait inside wdmdma or on the emergency buffers.
 * The native modes return BLK_STS_RESOURCE when memory or mapping space
 * is short, as NVMe does, after starting the request.
 *
 * Return: BLK_STS_OK; BLK_STS_RESOURCE (native modes: run it again
 * later); or an error that ends the request.
 */
static blk_status_t __edublk_queue_rq(struct blk_mq_hw_ctx *hctx,
				      const struct blk_mq_queue_data *bd)
{
	struct request *rq = bd->rq;
	struct edublk_cmd *cmd = blk_mq_rq_to_pdu(rq);
	struct edublk_dev *edu = cmd->edu;
	blk_status_t sts;
	int ret;

	cmd->write = false;
	cmd->flush = false;
	cmd->fua = false;
	cmd->zero_op = EDUBLK_ZERO_NONE;
	switch (req_op(rq)) {
	case REQ_OP_READ:
		break;
	case REQ_OP_WRITE:
		cmd->write = true;
		if (rq->cmd_flags & REQ_FUA)
			cmd->fua = true;	/* only edu-sg declares FUA */
		break;
	case REQ_OP_FLUSH:
		/* Only edu-sg declares a write cache, so only it gets these. */
		if (!edu->write_cache)
			return BLK_STS_NOTSUPP;
		cmd->flush = true;
		break;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		/* Only a device that has them sets the limits that send them. */
		if (!edu->discard)
			return BLK_STS_NOTSUPP;
		cmd->zero_op = req_op(rq) == REQ_OP_DISCARD ?
			       EDUBLK_ZERO_DISCARD : EDUBLK_ZERO_WRITE_ZEROES;
		cmd->unmap = !(rq->cmd_flags & REQ_NOUNMAP);
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	/* A flush has no position: blk-mq leaves its sector at -1. */
	if (!cmd->flush &&
	    ((u64)blk_rq_pos(rq) << SECTOR_SHIFT) + blk_rq_bytes(rq) >
	    edu->capacity)
		return BLK_STS_IOERR;

	blk_mq_start_request(rq);
	cmd->started = jiffies;
	cmd->status = BLK_STS_OK;
	cmd->sgl = NULL;
	cmd->buf = NULL;
	cmd->buf_src = EDUBLK_BUF_NONE;
	edu->ops->start_cmd(edu, cmd, hctx, bd->last);
	if (READ_ONCE(edu->dead)) {
		sts = BLK_STS_IOERR;
		goto end;
	}
	if (cmd->flush || cmd->zero_op) {
		/* No data, so nothing to map: the same in every mode. */
		sts = edu->ops->queue_nodata(edu, cmd);
		if (sts == BLK_STS_OK)
			return BLK_STS_OK;
		goto end;
	}
	if (edublk_mode_is_native(edu->mode)) {
		/* Only a backend that maps natively (edu-sg); no wdmdma at all */
		sts = edu->ops->native_queue(edu, cmd);
		if (sts == BLK_STS_RESOURCE)
			return sts;	/* blk-mq runs it again later */
		if (sts == BLK_STS_OK)
			return BLK_STS_OK;
		goto end;
	}
	ret = wdmdma_mdl_init_request(cmd->mdl, edu->nr_map_registers, rq);
	if (ret) {
		dev_err_ratelimited(&edu->pdev->dev,
				    "request does not fit its MDL: %d\n", ret);
		sts = BLK_STS_IOERR;
		goto end;
	}

	edublk_account(edu, cmd);

	/* From here the callback may run, and even end the request. */
	switch (edu->mode) {
	case EDUBLK_MODE_GET:
		ret = wdmdma_get_sg_list_ex(edu->adapter, &cmd->xfer, cmd->mdl,
					    0, blk_rq_bytes(rq), 0,
					    edublk_list_ready, cmd, cmd->write,
					    NULL);
		sts = edublk_map_status(edu, ret);
		break;
	case EDUBLK_MODE_PDU:
		cmd->buf = cmd->pdu_buf;
		cmd->buf_len = edu->max_list_size;
		cmd->buf_src = EDUBLK_BUF_PDU;
		sts = edublk_build(edu, cmd);
		break;
	default:
		sts = edublk_submit_reserve(edu, cmd);
		break;
	}
	if (sts == BLK_STS_OK)
		return BLK_STS_OK;
end:
	/* Nothing is mapped: give the buffer back (or on) and end it here. */
	cmd->status = sts;
	edublk_complete(edu, cmd);
	return BLK_STS_OK;
}

/* blk-mq .queue_rq of every backend: the request, then maybe its batch. */
static blk_status_t edublk_queue_rq(struct blk_mq_hw_ctx *hctx,
				    const struct blk_mq_queue_data *bd)
{
	struct edublk_dev *edu = hctx->queue->tag_set->driver_data;
	blk_status_t sts = __edublk_queue_rq(hctx, bd);

	/*
	 * The request may have ended already; what is left is the batch: the
	 * last request of one rings what its others left for it, however
	 * it ended.
	 */
	if (bd->last && edu->ops->commit)
		edu->ops->commit(edu, hctx);
	return sts;
}

/*
 * blk-mq .commit_rqs: a batch ended without a request marked last (one was
 * refused, or the dispatch stopped): ring what it left.
 */
static void edublk_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct edublk_dev *edu = hctx->queue->tag_set->driver_data;

	if (edu->ops->commit)
		edu->ops->commit(edu, hctx);
}

/**
 * edublk_init_request() - blk-mq .init_request of every backend
 * @set: the tag set
 * @rq: the request whose PDU to set up
 * @hctx_idx: unused
 * @numa_node: unused
 *
 * Return: 0.
 */
static int edublk_init_request(struct blk_mq_tag_set *set, struct request *rq,
			       unsigned int hctx_idx,
			       wdmdma_numa_node_t numa_node)
{
	struct edublk_dev *edu = set->driver_data;
	struct edublk_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cmd->edu = edu;
	cmd->mdl = (void *)cmd + edu->pdu_mdl_off;
	cmd->pdu_buf = edu->mode == EDUBLK_MODE_PDU ?
		       (void *)cmd + edu->pdu_buf_off : NULL;
	INIT_LIST_HEAD(&cmd->node);
	cmd->emergency_waiting = false;
	/* Reusable once its request has ended: initialised once. */
	wdmdma_init_xfer_ctx(edu->adapter, &cmd->xfer);
	return 0;
}

/* blk-mq .timeout of a backend that has one (ops->timeout). */
static enum blk_eh_timer_return edublk_timeout(struct request *rq)
{
	struct edublk_cmd *cmd = blk_mq_rq_to_pdu(rq);

	return cmd->edu->ops->timeout(cmd->edu, cmd);
}

/*
 * blk-mq .map_queues: the interrupt-driven queues by the backend's mapping,
 * else blk-mq's own spread; the polled ones after them, spread by blk-mq.
 */
static void edublk_map_queues(struct blk_mq_tag_set *set)
{
	struct edublk_dev *edu = set->driver_data;
	struct blk_mq_queue_map *qmap = &set->map[HCTX_TYPE_DEFAULT];

	qmap->nr_queues = set->nr_hw_queues - edu->nr_poll_queues;
	qmap->queue_offset = 0;
	if (edu->ops->map_queues)
		edu->ops->map_queues(edu, qmap);
	else
		blk_mq_map_queues(qmap);
	if (set->nr_maps <= HCTX_TYPE_POLL)
		return;
	/* No queues of their own for reads: they take the default map. */
	set->map[HCTX_TYPE_READ].nr_queues = 0;
	qmap = &set->map[HCTX_TYPE_POLL];
	qmap->nr_queues = edu->nr_poll_queues;
	qmap->queue_offset = set->nr_hw_queues - edu->nr_poll_queues;
	blk_mq_map_queues(qmap);
}

/* blk-mq .poll: a polled queue's completions, by the backend. */
static int edublk_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	struct edublk_dev *edu = hctx->queue->tag_set->driver_data;

	return edu->ops->poll(edu, hctx);
}

/*
 * Without a backend timeout, no .timeout: a request may legitimately wait
 * long for map registers, an emergency buffer or the device (the stock
 * edu does one DMA per 100 ms); blk-mq then just re-arms its timer, and
 * the backend catches a lost interrupt itself. A disk without .timeout
 * has no sysfs io_timeout either.
 */
const struct blk_mq_ops edublk_mq_ops = {
	.queue_rq = edublk_queue_rq,
	.commit_rqs = edublk_commit_rqs,
	.init_request = edublk_init_request,
	.map_queues = edublk_map_queues,
	.poll = edublk_poll,
};

const struct blk_mq_ops edublk_mq_ops_timeout = {
	.queue_rq = edublk_queue_rq,
	.commit_rqs = edublk_commit_rqs,
	.init_request = edublk_init_request,
	.timeout = edublk_timeout,
	.map_queues = edublk_map_queues,
	.poll = edublk_poll,
};

/* --- The end of a request ----------------------------------------------- */

/**
 * edublk_cancel_wait() - take a request off whatever its list waits for
 * @edu: the device
 * @cmd: a request started in one of wdmdma's modes, not yet on the device
 *
 * Removes @cmd from the emergency-buffer queue (reserve mode), or cancels
 * its wait inside wdmdma (map registers, list memory, mapping space). On
 * success nothing will start @cmd any more and the caller ends it; it
 * holds a Build buffer only if it was waiting inside wdmdma, and
 * edublk_complete() gives that back. Fails if @cmd is not waiting: being
 * mapped (its callback follows), already handed on, or never queued.
 *
 * Context: any; does not sleep.
 * Return: true if @cmd was waiting and no longer is.
 */
bool edublk_cancel_wait(struct edublk_dev *edu, struct edublk_cmd *cmd)
{
	unsigned long flags;
	bool cancelled = false;

	spin_lock_irqsave(&edu->lock, flags);
	if (cmd->emergency_waiting) {
		list_del_init(&cmd->node);
		cmd->emergency_waiting = false;
		cancelled = true;
	}
	spin_unlock_irqrestore(&edu->lock, flags);
	if (!cancelled && !edublk_mode_is_native(edu->mode))
		cancelled = wdmdma_cancel(edu->adapter, &cmd->xfer);
	if (cancelled) {
		spin_lock_irqsave(&edu->lock, flags);
		edu->stats.wait_timeouts++;
		spin_unlock_irqrestore(&edu->lock, flags);
	}
	return cancelled;
}

/*
 * Give back @cmd's Build buffer. An emergency buffer goes straight to the
 * first request waiting for one; that request is returned for the caller
 * to build. Does not sleep.
 */
static struct edublk_cmd *edublk_put_buf(struct edublk_dev *edu,
					 struct edublk_cmd *cmd)
{
	struct edublk_cmd *waiter = NULL;
	unsigned long flags;

	switch (cmd->buf_src) {
	case EDUBLK_BUF_KMALLOC:
		kfree(cmd->buf);
		break;
	case EDUBLK_BUF_EMERGENCY:
		spin_lock_irqsave(&edu->lock, flags);
		waiter = list_first_entry_or_null(&edu->emergency_wait,
						  struct edublk_cmd, node);
		if (waiter) {
			list_del_init(&waiter->node);
			waiter->emergency_waiting = false;
			waiter->buf = cmd->buf;
			waiter->buf_len = edu->max_list_size;
			waiter->buf_src = EDUBLK_BUF_EMERGENCY;
			edu->stats.emergency_hits++;
		} else {
			edu->emergency[edu->nr_emergency_free++] = cmd->buf;
		}
		spin_unlock_irqrestore(&edu->lock, flags);
		break;
	default:
		break;	/* PDU buffer, or get mode: nothing to give back */
	}
	cmd->buf = NULL;
	cmd->buf_src = EDUBLK_BUF_NONE;
	return waiter;
}

/**
 * edublk_complete() - end a request: Put its list, free its buffer, end it
 * @edu: the device
 * @cmd: the request, off every list, cmd->status final
 *
 * Gives the list back to wdmdma before the request ends (so bounced read
 * data is in place), or has the backend undo its native mapping, then
 * starts a request that waited for the emergency buffer this one freed.
 * Iterates instead of recursing when such a request fails at once. Counts
 * errors, and flushes, FUA writes, discards and write zeroes by how they
 * ended.
 *
 * Context: any; does not sleep.
 */
void edublk_complete(struct edublk_dev *edu, struct edublk_cmd *cmd)
{
	while (cmd) {
		struct edublk_cmd *waiter;
		unsigned long flags;

		if (cmd->sgl) {
			wdmdma_put_sg_list(edu->adapter, cmd->sgl, cmd->write);
			cmd->sgl = NULL;
		} else if (edublk_mode_is_native(edu->mode)) {
			edu->ops->native_unmap(edu, cmd);
		}
		waiter = edublk_put_buf(edu, cmd);
		if (cmd->status != BLK_STS_OK || cmd->flush || cmd->fua ||
		    cmd->zero_op) {
			spin_lock_irqsave(&edu->lock, flags);
			if (cmd->status != BLK_STS_OK)
				edu->stats.errors++;
			if (cmd->flush && cmd->status != BLK_STS_OK)
				edu->stats.flush_errors++;
			else if (cmd->flush)
				edu->stats.flushes++;
			else if (cmd->status == BLK_STS_OK && cmd->fua)
				edu->stats.fua_writes++;
			else if (cmd->status == BLK_STS_OK &&
				 cmd->zero_op == EDUBLK_ZERO_DISCARD)
				edu->stats.discards++;
			else if (cmd->status == BLK_STS_OK && cmd->zero_op)
				edu->stats.write_zeroes++;
			spin_unlock_irqrestore(&edu->lock, flags);
		}
		blk_mq_end_request(edublk_rq(cmd), cmd->status);

		cmd = NULL;
		/*
		 * Once built, the waiter belongs to wdmdma and its callback (it
		 * may even have ended, or been cancelled and ended by the
		 * timeout handler): only a failed build leaves it to us.
		 */
		if (waiter) {
			blk_status_t sts = edublk_build(edu, waiter);

			if (sts != BLK_STS_OK) {
				waiter->status = sts;
				cmd = waiter;
			}
		}
	}
}
