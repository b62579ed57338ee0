// SPDX-License-Identifier: GPL-2.0
/*
 * edublk device engine: feeds the lists wdmdma hands over to the edu, one
 * DMA at a time, advancing from the completion interrupt.
 *
 * Every piece of a request moves in two edu DMAs through the device's
 * buffer at 0x40000, at most EDU_DMA_MAX bytes each:
 *   write: list element -> edu buffer, then edu buffer -> medium
 *   read:  medium -> edu buffer, then edu buffer -> list element
 * The CPU never copies data around the device.
 *
 * Locking: edu->lock (irq-safe) guards the ready list, the active request,
 * the device registers' DMA state, the emergency buffers and the
 * statistics. It is never held while calling into wdmdma, so the
 * list-control callback (which takes it) may run inside Get/Build.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "edublk.h"
#include "edublk_trace.h"

/*
 * Map an error from wdmdma to a block status. None of these is "try again
 * later": wdmdma waits internally for map registers and list memory, and
 * the queue limits keep every request inside the adapter's limits, so an
 * error here is a bug or a mapping failure; requeueing would only loop.
 */
blk_status_t edublk_map_status(struct edublk_dev *edu, int err)
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

/* Program one edu DMA and arm the timeout. Called with edu->lock held. */
static void edublk_dma(struct edublk_dev *edu, u64 src, u64 dst, u32 len,
		       bool to_ram)
{
	u32 cmd = EDU_DMA_START | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0);

	lockdep_assert_held(&edu->lock);
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_CNT);
	writeq(cmd, edu->regs + EDU_REG_DMA_CMD);
	trace_edublk_edu_dma(edu, src, dst, len, to_ram);
	edu->dma_busy = true;
	edu->dma_waits = 0;
	edu->deadline = jiffies + msecs_to_jiffies(EDUBLK_DMA_TIMEOUT_MS);
	mod_timer(&edu->timer, edu->deadline);
}

/* Is [addr, addr + len) inside what the device can address? */
static bool edublk_reachable(struct edublk_dev *edu, u64 addr, u32 len)
{
	return len && addr + len - 1 >= addr && addr + len - 1 <= edu->dma_limit;
}

/*
 * Start the next piece of @cmd: its first hop, into the device buffer.
 * Called with edu->lock held. Returns false (and sets cmd->status) if the
 * piece cannot be handed to the device.
 */
static bool edublk_start_piece(struct edublk_dev *edu, struct edublk_cmd *cmd)
{
	const struct wdmdma_sg_element *el = &cmd->sgl->elements[cmd->elem];
	u32 chunk_off = cmd->pos & (EDUBLK_CHUNK_SIZE - 1);
	u64 chunk = cmd->pos >> EDUBLK_CHUNK_SHIFT;
	u32 len;

	BUILD_BUG_ON(EDUBLK_CHUNK_SIZE != 1 << EDUBLK_CHUNK_SHIFT);
	/* The QEMU 7.2 erratum: never let a DMA end at 0x41000. */
	BUILD_BUG_ON(EDU_DMA_MAX >= EDU_BUF_SIZE);
	len = min3(el->len - cmd->elem_off, (u32)EDUBLK_CHUNK_SIZE - chunk_off,
		   (u32)EDU_DMA_MAX);
	if (chunk >= edu->nr_chunks || cmd->pos + len > edu->capacity) {
		dev_err_ratelimited(&edu->pdev->dev,
				    "transfer at %llu+%u runs past the medium\n",
				    cmd->pos, len);
		cmd->status = BLK_STS_IOERR;
		return false;
	}
	cmd->ram = el->addr + cmd->elem_off;
	cmd->medium = edu->chunk_dma[chunk] + chunk_off;
	cmd->len = len;
	cmd->second_hop = false;
	/* wdmdma and the coherent allocator promise this; never trust it blindly. */
	if (!edublk_reachable(edu, cmd->ram, len) ||
	    !edublk_reachable(edu, cmd->medium, len)) {
		dev_err_ratelimited(&edu->pdev->dev,
				    "bus address beyond the device's %u bits\n",
				    edu->dma_bits);
		cmd->status = BLK_STS_IOERR;
		return false;
	}
	if (cmd->write)
		edublk_dma(edu, cmd->ram, EDU_BUF_ADDR, len, false);
	else
		edublk_dma(edu, cmd->medium, EDU_BUF_ADDR, len, false);
	return true;
}

/* Queue @cmd to be ended with its status by the work item. Lock held. */
static void edublk_fail_later(struct edublk_dev *edu, struct edublk_cmd *cmd)
{
	lockdep_assert_held(&edu->lock);
	list_add_tail(&cmd->node, &edu->failed);
	schedule_work(&edu->fail_work);
}

/*
 * If the device is idle, start the first ready request on it. Requests
 * that cannot start (device fenced, bad list) go to the failed list.
 * Called with edu->lock held.
 */
static void edublk_kick(struct edublk_dev *edu)
{
	struct edublk_cmd *cmd;

	lockdep_assert_held(&edu->lock);
	while (!edu->active &&
	       (cmd = list_first_entry_or_null(&edu->ready, struct edublk_cmd,
					       node))) {
		list_del(&cmd->node);
		if (edu->dead) {
			cmd->status = BLK_STS_IOERR;
			edublk_fail_later(edu, cmd);
			continue;
		}
		edu->active = cmd;
		if (!edublk_start_piece(edu, cmd)) {
			edu->active = NULL;
			edublk_fail_later(edu, cmd);
		}
	}
}

/* Does the list cover exactly the request, inside the device's reach? */
static bool edublk_list_ok(struct edublk_dev *edu, struct edublk_cmd *cmd,
			   const struct wdmdma_sg_list *sgl)
{
	u64 total = 0;
	u32 i;

	if (!sgl->nr_elements)
		return false;
	for (i = 0; i < sgl->nr_elements; i++) {
		if (!edublk_reachable(edu, sgl->elements[i].addr,
				      sgl->elements[i].len))
			return false;
		total += sgl->elements[i].len;
	}
	return total == blk_rq_bytes(edublk_rq(cmd));
}

/**
 * edublk_list_ready() - wdmdma's list-control callback
 * @dev: the edu's device
 * @irp: unused (NULL)
 * @sgl: the mapped list for the request, or NULL
 * @context: the request's struct edublk_cmd
 *
 * Hands the request to the device engine: on edu-sg, posts it in its
 * queue; on the edu, queues it and starts it if the device is idle.
 * Runs inside Get/Build (queue_rq, or the completion path for a request
 * that waited for an emergency buffer) or later from wdmdma's work item.
 * Never ends a request itself, so it cannot recurse into wdmdma.
 *
 * @sgl is NULL for a request that waited and then could not be mapped
 * (wdmdma's permanent mapping failure): nothing is held for it, so the
 * request is ended with BLK_STS_IOERR without a Put; its Build buffer, if
 * any, is given back (or on) as for any other end.
 *
 * Context: any; does not sleep.
 */
void edublk_list_ready(struct device *dev, void *irp,
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
	if (edu->sg) {
		spin_unlock_irqrestore(&edu->lock, flags);
		edublk_sg_list_ready(edu, cmd, sgl);
		return;
	}
	if (!edublk_list_ok(edu, cmd, sgl)) {
		dev_err_ratelimited(dev, "unusable list of %u elements for %u bytes\n",
				    sgl->nr_elements, blk_rq_bytes(edublk_rq(cmd)));
		cmd->status = BLK_STS_IOERR;
		edublk_fail_later(edu, cmd);
	} else {
		list_add_tail(&cmd->node, &edu->ready);
		edublk_kick(edu);
	}
	spin_unlock_irqrestore(&edu->lock, flags);
}

/*
 * An edu DMA finished: start the next hop or piece, or, when the request
 * is done, the next request. Returns the finished request, for the caller
 * to complete without the lock. Called with edu->lock held.
 */
static struct edublk_cmd *edublk_dma_done(struct edublk_dev *edu)
{
	struct edublk_cmd *cmd = edu->active;
	const struct wdmdma_sg_element *el;

	lockdep_assert_held(&edu->lock);
	/* A DMA that still runs (RUN bit) was not the one that ended. */
	if (!edu->dma_busy || !cmd ||
	    (readl(edu->regs + EDU_REG_DMA_CMD) & EDU_DMA_START)) {
		edu->stats.spurious_irqs++;
		return NULL;
	}
	if (edu->drop_irqs) {
		/* Fault injection: behave as if this interrupt was lost. */
		edu->drop_irqs--;
		edu->stats.dropped_irqs++;
		return NULL;
	}
	edu->dma_busy = false;
	edu->stats.dma_transfers++;
	edu->stats.dma_bytes += cmd->len;

	if (!cmd->second_hop) {
		cmd->second_hop = true;
		if (cmd->write)
			edublk_dma(edu, EDU_BUF_ADDR, cmd->medium, cmd->len, true);
		else
			edublk_dma(edu, EDU_BUF_ADDR, cmd->ram, cmd->len, true);
		return NULL;
	}

	el = &cmd->sgl->elements[cmd->elem];
	cmd->pos += cmd->len;
	cmd->elem_off += cmd->len;
	if (cmd->elem_off == el->len) {
		cmd->elem++;
		cmd->elem_off = 0;
	}
	if (cmd->elem < cmd->sgl->nr_elements) {
		if (edublk_start_piece(edu, cmd))
			return NULL;
		/* cmd->status is set: end it now */
	}

	edu->active = NULL;
	edublk_kick(edu);
	if (!edu->dma_busy)
		timer_delete(&edu->timer);
	return cmd;
}

/**
 * edublk_irq() - the edu's interrupt handler
 * @irq: the interrupt
 * @data: the struct edublk_dev
 *
 * Acknowledges the interrupt and advances the DMA state machine; completes
 * the request the device finished.
 *
 * Return: IRQ_NONE if the edu raised nothing (INTx may be shared), else
 * IRQ_HANDLED.
 */
irqreturn_t edublk_irq(int irq, void *data)
{
	struct edublk_dev *edu = data;
	struct edublk_cmd *done = NULL;
	u32 status;

	status = readl(edu->regs + EDU_REG_IRQ_STATUS);
	if (!status)
		return IRQ_NONE;	/* INTx may be shared */
	/* Known gone: no config read per interrupt of a shared line. */
	if (status == U32_MAX && READ_ONCE(edu->dead))
		return IRQ_NONE;
	if (status == U32_MAX && !pci_device_is_present(edu->pdev)) {
		/* Gone: not its interrupt. The DMA timer ends the request. */
		WRITE_ONCE(edu->dead, true);
		return IRQ_NONE;
	}
	writel(status, edu->regs + EDU_REG_IRQ_ACK);
	if (!(status & EDU_IRQ_DMA))
		return IRQ_HANDLED;

	spin_lock(&edu->lock);
	done = edublk_dma_done(edu);
	spin_unlock(&edu->lock);
	if (done)
		edublk_complete(edu, done);
	return IRQ_HANDLED;
}

/**
 * edublk_dma_timeout() - an edu DMA did not report completion in time
 * @t: edu->timer
 *
 * If the device says the DMA is over, its interrupt was lost: the request
 * ends with BLK_STS_TIMEOUT and the device carries on with the next one.
 * If the DMA still runs, wait some more; if it still runs after
 * EDUBLK_DMA_HUNG_TRIES periods, the device is hung: bus mastering is
 * switched off so the DMA can never land in memory that is given back,
 * and this and every later request fail. A device that is gone (its
 * registers and config space read all ones) fails them at once.
 *
 * Context: timer (softirq).
 */
void edublk_dma_timeout(struct timer_list *t)
{
	struct edublk_dev *edu = timer_container_of(edu, t, timer);
	struct edublk_cmd *cmd;
	unsigned long flags;
	bool running, gone;
	u32 dma_cmd;

	spin_lock_irqsave(&edu->lock, flags);
	if (!edu->dma_busy || time_before(jiffies, edu->deadline)) {
		spin_unlock_irqrestore(&edu->lock, flags);
		return;
	}
	/*
	 * A device that is gone reads all ones, which would look like a DMA
	 * still running: fence it at once, not after EDUBLK_DMA_HUNG_TRIES.
	 */
	dma_cmd = readl(edu->regs + EDU_REG_DMA_CMD);
	gone = dma_cmd == U32_MAX && !pci_device_is_present(edu->pdev);
	running = !gone && (dma_cmd & EDU_DMA_START);
	if (running && ++edu->dma_waits < EDUBLK_DMA_HUNG_TRIES) {
		dev_warn_ratelimited(&edu->pdev->dev,
				     "DMA still running after %u ms\n",
				     edu->dma_waits * EDUBLK_DMA_TIMEOUT_MS);
		edu->deadline = jiffies + msecs_to_jiffies(EDUBLK_DMA_TIMEOUT_MS);
		mod_timer(&edu->timer, edu->deadline);
		spin_unlock_irqrestore(&edu->lock, flags);
		return;
	}
	edu->dma_busy = false;
	edu->stats.timeouts++;
	cmd = edu->active;
	edu->active = NULL;
	cmd->status = gone ? BLK_STS_IOERR : BLK_STS_TIMEOUT;
	if (gone) {
		WRITE_ONCE(edu->dead, true);
		dev_err(&edu->pdev->dev,
			"device gone (its registers and config space read all ones): failing all I/O\n");
	} else if (running) {
		WRITE_ONCE(edu->dead, true);
		pci_clear_master(edu->pdev);
		dev_err(&edu->pdev->dev,
			"DMA still running after %u ms: device fenced, failing all I/O\n",
			EDUBLK_DMA_HUNG_TRIES * EDUBLK_DMA_TIMEOUT_MS);
	} else {
		dev_warn_ratelimited(&edu->pdev->dev,
				     "DMA completion interrupt lost; request at sector %llu timed out\n",
				     (unsigned long long)blk_rq_pos(edublk_rq(cmd)));
	}
	edublk_kick(edu);
	spin_unlock_irqrestore(&edu->lock, flags);
	edublk_complete(edu, cmd);
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

/**
 * edublk_build() - map a request's list in its Build buffer
 * @edu: the device
 * @cmd: the request; cmd->buf and cmd->buf_len set
 *
 * On success the list-control callback has run or will run. On failure
 * the buffer is given back and the caller ends the request.
 *
 * Context: any; does not sleep.
 * Return: BLK_STS_OK or the status to end the request with.
 */
blk_status_t edublk_build(struct edublk_dev *edu, struct edublk_cmd *cmd)
{
	int ret;

	ret = wdmdma_build_sg_list_ex(edu->adapter, &cmd->xfer, cmd->mdl, 0,
				      blk_rq_bytes(edublk_rq(cmd)), 0,
				      edublk_list_ready, cmd, cmd->write,
				      cmd->buf, cmd->buf_len, NULL);
	return edublk_map_status(edu, ret);
}

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
 * data is in place), then starts a request that waited for the emergency
 * buffer this one freed. Iterates instead of recursing when such a
 * request fails at once. Counts errors, and flushes, FUA writes,
 * discards and write zeroes by how they ended.
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
		} else if (cmd->native_map != EDUBLK_NATIVE_NONE) {
			edublk_sg_native_unmap(edu, cmd);
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
