// SPDX-License-Identifier: GPL-2.0
/*
 * edublk backend for edu-sg (PCI 1234:11e9), this project's scatter/gather
 * block device model; registers and formats in qemu/edu-sg/REGISTERS.md.
 *
 * One blk-mq hardware queue per device queue pair. wdmdma maps each request
 * for a scatter/gather adapter with the device's address width and limits;
 * the list-control callback copies the list into the request's element
 * table (the device's 16-byte elements differ from wdmdma's 24-byte,
 * Windows-shaped ones, and the table must sit in memory the device can
 * read) and posts the command. Completions arrive by MSI-X, one vector per
 * queue (spread over the CPUs as blk-mq spreads its queues, so a request
 * completes where it was submitted), or on one MSI/INTx vector with
 * INT_STATUS naming the queues. With poll_queues, the last device queues
 * have no interrupt (masked in INT_MASK): blk-mq polls them for io_uring's
 * IOPOLL. A batch of requests (blk-mq's bd->last) rings the doorbell once,
 * at its end; the CQ head is written back every EDUBLK_SG_CQ_RELEASE
 * entries; irq_coalesce sets the device's interrupt coalescing (1.3).
 *
 * The device's medium may be a host file, which a WRITE leaves in the
 * host's page cache: the disk declares a volatile write cache with FUA, a
 * REQ_OP_FLUSH becomes the device's FLUSH command and a REQ_FUA write a
 * WRITE with the FUA flag, so that fsync() is durable on the host.
 *
 * A request that the device does not complete in time (io_timeout, by
 * default EDUBLK_SG_TIMEOUT plus twice the latency the device advertises)
 * ends with BLK_STS_TIMEOUT, and the driver escalates while a queue's
 * timeouts come with no completion in between: the first restarts the
 * queue (abort, so the device does no more DMA for it, then re-enable;
 * its other commands are posted again); the second resets the controller
 * (every queue set up afresh, every command in flight posted again); the
 * third gives the device up: everything in flight and every later request
 * fails at once with BLK_STS_IOERR, and removal does not wait. A queue the
 * device halts (a DMA fault on its rings) fails its commands with
 * BLK_STS_IOERR and is restarted. A device that is gone (its registers
 * and config space read all ones: surprise removal) is noticed in the
 * interrupt, the timeout or remove(), and everything in flight fails at
 * once (edublk_sg_gone()).
 *
 * A function reset (sysfs "reset", pci_reset_function()) loses nothing:
 * edublk_sg_reset_prepare() quiesces the disk and resets the device, so it
 * does no DMA during the reset, and takes what it completed until then;
 * edublk_sg_reset_done() sets the queues up again and posts the commands
 * still in flight again. In between (sg->resetting) a list that wdmdma
 * maps is written to its ring without ringing the doorbell, and the
 * interrupt handlers and the timeout leave the device alone. Shutdown
 * (power-off, reboot, kexec) resets the device so it does no more DMA.
 *
 * Locking: each queue's lock (irq-safe) guards its rings, its in-flight
 * table, its batch state (batch, ring_pending; batch_open is also read
 * without it, see edublk_sg_commit()) and its counters. It is never held
 * while calling into wdmdma or ending a request, and never together with
 * edu->lock. A controller reset (from the timeout handler) and
 * edublk_sg_gone() (from the interrupt handlers, the timeout handler and
 * remove(), with no lock held) take every queue's lock, in queue order
 * with lockdep subclass = queue number, and nothing else takes two.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/mempool.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "../compat.h"
#include "edublk.h"
#include "edusg_hw.h"

/*
 * The sg_table modes map multi-segment requests with
 * sg_alloc_table_chained(): mode=native-sgt on every kernel, and
 * mode=native where blk_rq_dma_map_iter_start() is missing. Without
 * CONFIG_SG_POOL, native-sgt is refused at probe (edublk_sg_native_init());
 * native then needs the iterator.
 */
#if !defined(CONFIG_SG_POOL) && !defined(WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER)
#error "edublk needs CONFIG_SG_POOL (selected by SCSI, NVMe or virtio-blk) before Linux 6.17"
#endif

/*
 * Ring entries per queue. blk-mq keeps at most EDUBLK_QUEUE_DEPTH requests
 * per hardware queue, fewer than the SIZE - 1 a ring holds, so neither the
 * SQ nor the CQ can overflow.
 */
#define EDUBLK_SG_QSIZE		128
/*
 * Completions taken before the CQ head is written back (CQ_HEAD): the
 * device needs the head only for room, and with at most
 * EDUBLK_QUEUE_DEPTH commands in flight and fewer than this many entries
 * held back the CQ never fills, so one MMIO write releases a batch.
 */
#define EDUBLK_SG_CQ_RELEASE	(EDUBLK_SG_QSIZE / 4)
static_assert(EDUBLK_SG_CQ_RELEASE - 1 + EDUBLK_QUEUE_DEPTH <
	      EDUBLK_SG_QSIZE - 1);
/* Largest request; also bounded by the device's limits (see below). */
#define EDUBLK_SG_MAX_TRANSFER	SZ_1M
/*
 * A command the device has not completed after this long, plus twice the
 * device's advertised latency, is timed out (io_timeout overrides it).
 */
#define EDUBLK_SG_TIMEOUT	(5 * HZ)
/* Timeouts in a row on a queue that reset the controller, give it up. */
#define EDUBLK_SG_RESET_AFTER	2
#define EDUBLK_SG_DEAD_AFTER	3
/*
 * A request that has waited this many timeouts for its list (map
 * registers, list memory, mapping space) is cancelled and ends with
 * BLK_STS_TIMEOUT: the resources it waits for are held by requests that
 * each end within a timeout or two, so a wait this long will not end.
 */
#define EDUBLK_SG_WAIT_TIMEOUTS	3

static unsigned int edublk_sg_io_timeout;
module_param_named(io_timeout, edublk_sg_io_timeout, uint, 0444);
MODULE_PARM_DESC(io_timeout,
		 "edu-sg: seconds a command may take before it is timed out (default 0: 5 s plus twice the latency the device advertises)");

/*
 * Interrupt coalescing (device version 1.3, INT_COALESCE): a queue's
 * interrupt waits for this many completions, or this long after the first
 * of them. Off (0) by default: at a queue depth of 1 every completion
 * would wait the whole time.
 */
static unsigned int edublk_sg_coalesce_n;
static unsigned int edublk_sg_coalesce_us;

EDUBLK_PARAM_UINT_RANGE(irq_coalesce, edublk_sg_coalesce_n, 0,
			ES_INT_COALESCE_MAX_N);
MODULE_PARM_DESC(irq_coalesce,
		 "edu-sg 1.3: completions a queue's interrupt waits for (0..255, default 0: off; needs irq_coalesce_us)");
EDUBLK_PARAM_UINT_RANGE(irq_coalesce_us, edublk_sg_coalesce_us, 0,
			ES_INT_COALESCE_MAX_US);
MODULE_PARM_DESC(irq_coalesce_us,
		 "edu-sg 1.3: longest wait of a coalesced interrupt, in microseconds (0..65535, default 0: off)");

/*
 * Device queues the driver polls (io_uring's IOPOLL, RWF_HIPRI) rather than
 * taking their interrupts: blk-mq's HCTX_TYPE_POLL queues, after the
 * interrupt-driven ones, with their interrupts masked (INT_MASK). At least
 * one device queue stays interrupt-driven.
 */
static unsigned int edublk_sg_poll_queues;

EDUBLK_PARAM_UINT_RANGE(poll_queues, edublk_sg_poll_queues, 0,
			EDUSG_MAX_QUEUES - 1);
MODULE_PARM_DESC(poll_queues,
		 "edu-sg: device queues used as polled queues, without interrupts (0..7, default 0; at least one queue keeps its interrupt)");

/*
 * Does @mode map a request of several segments through an sg_table
 * (sg_alloc_table_chained(), blk_rq_map_sg(), dma_map_sgtable())?
 * native-sgt does on every kernel; native only where the kernel lacks
 * blk_rq_dma_map_iter_start() (before 6.17), else it takes the iterator.
 */
static bool edublk_mode_uses_sgt(enum edublk_mode mode)
{
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	return mode == EDUBLK_MODE_NATIVE_SGT;
#else
	return edublk_mode_is_native(mode);
#endif
}

/*
 * How a native request is mapped (struct edublk_sg_cmd.native_map), so
 * that edublk_sg_native_unmap() undoes exactly that.
 */
enum edublk_native_map {
	EDUBLK_NATIVE_NONE,	/* nothing mapped */
	EDUBLK_NATIVE_BVEC,	/* one segment: dma_map_bvec() */
	EDUBLK_NATIVE_SGT,	/* sc->sgt: dma_map_sgtable() */
	EDUBLK_NATIVE_ITER,	/* blk_rq_dma_map_iter_start() (6.17 and later) */
};

/*
 * The sg_table modes (edublk_mode_uses_sgt()): scatterlist entries kept in
 * each PDU, as NVMe did before 6.17; a request with more segments chains a
 * table from the kernel's sg pools (a one-segment request needs none: it
 * is mapped with dma_map_bvec()).
 */
#define EDUBLK_NATIVE_INLINE_SG	2

#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
/*
 * mode=native on kernels with blk_rq_dma_map_iter_start(): no scatterlist.
 * A range the iterator mapped on its own (no IOMMU to coalesce into), kept
 * for its unmap: the first ones in the PDU, more in an array from the
 * device's mempool.
 */
struct edublk_native_range {
	dma_addr_t addr;
	u32 len;
};

#define EDUBLK_NATIVE_INLINE_RANGES	2
#endif

/* Where an edu-sg request is (struct edublk_sg_cmd.sg_state). */
enum edublk_sg_state {
	EDUBLK_SG_IDLE,		/* not started, or waiting for its list */
	EDUBLK_SG_ON_DEVICE,	/* posted in its queue's SQ */
	EDUBLK_SG_DONE,		/* handed to the completion path */
};

/* edu-sg's per-request data, after the core's in the PDU. */
struct edublk_sg_cmd {
	/* The hardware queue, the device tag and the table size */
	u16 qid;
	u16 nelems;
	u8 sg_state;			/* enum edublk_sg_state */
	u8 native_map;			/* enum edublk_native_map */
	/*
	 * More of its batch follow: posted in batch @batch of its queue, it
	 * leaves the doorbell to the batch's commit (edublk_sg_submit()).
	 */
	bool defer;
	u32 batch;
	u32 dev_tag;
	unsigned long posted;		/* jiffies when last posted */
	/* EDUBLK_NATIVE_BVEC: the dma_map_bvec() mapping */
	dma_addr_t bvec_addr;
	u32 bvec_len;
	/*
	 * The sg_table modes: the request's own table, first entries in the
	 * PDU (inline_sg, which the other modes' PDUs leave out).
	 */
	struct sg_table sgt;
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	/*
	 * mode=native with blk_rq_dma_map_iter_start() (sgt unused): the
	 * request's IOVA range when the IOMMU coalesced it into one (iova_len
	 * bytes linked), else the ranges to unmap one by one (the iterator's
	 * only if dma_need_unmap() says they need an unmap).
	 */
	struct dma_iova_state iova;
	size_t iova_len;
	struct edublk_native_range *ranges;	/* inline_ranges or pooled */
	unsigned int nr_ranges;
	struct edublk_native_range inline_ranges[EDUBLK_NATIVE_INLINE_RANGES];
#endif
	/* The sg_table modes: EDUBLK_NATIVE_INLINE_SG entries */
	struct scatterlist inline_sg[];
};

static_assert(__alignof__(struct edublk_sg_cmd) <=
	      __alignof__(struct edublk_cmd));

struct edublk_sgq_stats {
	u64 posted;		/* commands written to the SQ (reposts too) */
	u64 completed;		/* valid completions taken from the CQ */
	u64 dev_errors;		/* completions with a non-OK status */
	u64 timeouts;		/* commands ended by the timeout handler */
	u64 restarts;		/* queue aborts and re-enables */
	u64 reposted;		/* commands posted again after a restart */
	u64 halts;		/* the device halted the queue */
	u64 bad_cqes;		/* completions that failed validation */
	u64 doorbells;		/* SQ_TAIL writes */
};

struct edublk_sgq {
	struct edublk_dev *edu;
	unsigned int qid;
	spinlock_t lock;		/* the rings, inflight[], stats */
	struct edusg_cmd *sq;
	dma_addr_t sq_dma;
	struct edusg_cqe *cq;
	dma_addr_t cq_dma;
	struct edusg_elem *tables;	/* tbl_elems entries per blk-mq tag */
	dma_addr_t tables_dma;
	u16 sq_tail;
	u16 cq_head;
	u16 cq_released;		/* the CQ_HEAD last written */
	bool phase;			/* the phase a new CQ entry has */
	bool dead;			/* could not be re-enabled */
	unsigned int stuck;		/* timeouts since the last completion */
	u16 seq;			/* upper half of the device tags */
	/*
	 * Doorbells left to a batch's end (bd->last, .commit_rqs): the
	 * batch a request starting now belongs to, ended (incremented) by
	 * each commit; whether one is open; SQ entries not yet rung.
	 */
	u32 batch;
	bool batch_open;
	bool ring_pending;
	unsigned int nr_inflight;
	struct edublk_cmd *inflight[EDUBLK_QUEUE_DEPTH];	/* by blk-mq tag */
	struct edublk_sgq_stats stats;
	char irq_name[32];
};

/* edu-sg's device data; the core's comes first. */
struct edublk_sg {
	struct edublk_dev edu;
	unsigned int nq;
	/* The first nq_irq queues signal; the rest are polled (none at 0). */
	unsigned int nq_irq;
	u32 max_elems;
	u32 max_elem_len;
	u32 max_xfer;			/* the device's MAX_XFER */
	u32 max_transfer;		/* what the driver uses */
	unsigned int tbl_elems;		/* elements per table */
	u64 latency_ns;			/* the device's advertised latency */
	unsigned long timeout;		/* jiffies a command may take */
	u64 resets;			/* controller resets (all queue locks) */
	/* The device's STAT_* counters before its last reset (all locks) */
	u64 dev_cmds, dev_errors, dev_dropped, dev_injected, dev_bad_cqes;
	size_t max_map;			/* dma_max_mapping_size() */
	bool msix;			/* one vector per queue */
	bool gone;			/* surprise removal seen (all locks) */
	bool resetting;			/* function reset or shutdown (all locks) */
	bool aer_stopped;		/* stopped by a PCI error (all locks) */
	u64 function_resets;		/* reset_done() calls (all locks) */
	u64 aer_recoveries;		/* resume() calls (all locks) */
	bool v11;			/* device version 1.1: STAT_BAD_CQES */
	u32 coalesce;			/* INT_COALESCE (1.3), 0 if off */
	const char *irq_mode;
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	/* mode=native: range arrays of requests with many segments */
	mempool_t *native_pool;
	unsigned int native_max_ranges;	/* entries per array */
#endif
	/* native modes: how requests were mapped (debugfs) */
	atomic_long_t native_single;	/* one segment: dma_map_bvec() */
	atomic_long_t native_sgt;	/* several segments, sg_table */
	atomic_long_t native_sgt_segs;	/* the segments of those */
	atomic_long_t native_sgt_elems;	/* their device elements */
	atomic_long_t native_iova;	/* iterator: one IOVA range */
	atomic_long_t native_iova_segs;	/* the segments of those */
	atomic_long_t native_iova_elems;	/* their device elements */
	atomic_long_t native_direct;	/* iterator: range by range */
	atomic_long_t native_direct_ranges;	/* the ranges of those */
	struct edublk_sgq *q;		/* nq of them */
};

static_assert(offsetof(struct edublk_sg, edu) == 0);

static struct edublk_sg *to_edublk_sg(struct edublk_dev *edu)
{
	return container_of(edu, struct edublk_sg, edu);
}

static struct edublk_sg_cmd *to_edublk_sg_cmd(struct edublk_cmd *cmd)
{
	return edublk_cmd_priv(cmd);
}

#define CREATE_TRACE_POINTS
#include "edusg_trace.h"

static u32 es_rd(struct edublk_dev *edu, unsigned int off)
{
	return readl(edu->regs + off);
}

static void es_wr(struct edublk_dev *edu, unsigned int off, u32 val)
{
	writel(val, edu->regs + off);
}

/*
 * ops->cmd_size: edu-sg's per-request data, with the sg_table modes'
 * first scatterlist entries.
 */
static size_t edublk_sg_cmd_size(const struct edublk_dev *edu)
{
	size_t size = sizeof(struct edublk_sg_cmd);

	if (edublk_mode_uses_sgt(edu->mode))
		size += EDUBLK_NATIVE_INLINE_SG * sizeof(struct scatterlist);
	return size;
}

/*
 * ops->start_cmd: the request goes to the device queue of its hardware
 * queue's number; it waits for its list, with nothing mapped natively.
 */
static void edublk_sg_start_cmd(struct edublk_dev *edu, struct edublk_cmd *cmd,
				struct blk_mq_hw_ctx *hctx, bool last)
{
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct edublk_sgq *q = &to_edublk_sg(edu)->q[hctx->queue_num];
	unsigned long flags;

	sc->qid = hctx->queue_num;
	sc->sg_state = EDUBLK_SG_IDLE;
	sc->native_map = EDUBLK_NATIVE_NONE;
	sc->defer = !last;
	if (last)
		return;
	/* Its batch is open until ops->commit; see edublk_sg_submit(). */
	spin_lock_irqsave(&q->lock, flags);
	sc->batch = q->batch;
	WRITE_ONCE(q->batch_open, true);
	spin_unlock_irqrestore(&q->lock, flags);
}

/* --- Submission --------------------------------------------------------- */

/*
 * Write @cmd into the SQ at the tail under a new device tag: a READ or a
 * WRITE (with FUA if the request has REQ_FUA) of its element table; a
 * FLUSH, whose fields but opcode and tag must all be 0; a DISCARD or a
 * WRITE_ZEROES of its range, without an element table. Lock held.
 */
static void edublk_sg_post(struct edublk_sgq *q, struct edublk_cmd *cmd)
{
	struct edublk_sg *sg = to_edublk_sg(q->edu);
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct request *rq = edublk_rq(cmd);
	struct edusg_cmd *sqe = &q->sq[q->sq_tail];
	dma_addr_t table;

	lockdep_assert_held(&q->lock);
	sc->dev_tag = (u32)q->seq++ << 16 | rq->tag;
	sqe->tag = cpu_to_le32(sc->dev_tag);
	sqe->rsvd = 0;
	if (cmd->flush) {
		sqe->opcode = ES_OP_FLUSH;
		sqe->flags = 0;
		sqe->nelems = 0;
		sqe->sector = 0;
		sqe->length = 0;
		sqe->sgl_addr = 0;
	} else if (cmd->zero_op) {
		bool discard = cmd->zero_op == EDUBLK_ZERO_DISCARD;

		sqe->opcode = discard ? ES_OP_DISCARD : ES_OP_WRITE_ZEROES;
		sqe->flags = !discard && cmd->unmap ? ES_CMD_DEALLOC : 0;
		sqe->nelems = 0;
		sqe->sector = cpu_to_le64(blk_rq_pos(rq));
		sqe->length = cpu_to_le32(blk_rq_bytes(rq));
		sqe->sgl_addr = 0;
	} else {
		table = q->tables_dma + (dma_addr_t)rq->tag * sg->tbl_elems *
			sizeof(struct edusg_elem);
		sqe->opcode = cmd->write ? ES_OP_WRITE : ES_OP_READ;
		sqe->flags = cmd->write && cmd->fua ? ES_CMD_FUA : 0;
		sqe->nelems = cpu_to_le16(sc->nelems);
		sqe->sector = cpu_to_le64(blk_rq_pos(rq));
		sqe->length = cpu_to_le32(blk_rq_bytes(rq));
		sqe->sgl_addr = cpu_to_le64(table);
	}
	q->sq_tail = (q->sq_tail + 1) & (EDUBLK_SG_QSIZE - 1);
	q->inflight[rq->tag] = cmd;
	q->nr_inflight++;
	q->stats.posted++;
	sc->posted = jiffies;
	trace_edublk_cmd_post(cmd);
	sc->sg_state = EDUBLK_SG_ON_DEVICE;
}

/* Tell the device about everything posted on @q. Lock held. */
static void edublk_sg_ring(struct edublk_sgq *q)
{
	lockdep_assert_held(&q->lock);
	es_wr(q->edu, ES_Q(q->qid, ESQ_SQ_TAIL), q->sq_tail);
	q->ring_pending = false;
	q->stats.doorbells++;
}

/*
 * Post @cmd, its element table filled, on its queue and ring the doorbell
 * (not during a function reset; for a batch, maybe at its end). Returns
 * false if the queue was given up (its commands fail).
 */
static bool edublk_sg_submit(struct edublk_dev *edu, struct edublk_cmd *cmd)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct edublk_sgq *q = &sg->q[sc->qid];
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	if (q->dead) {
		spin_unlock_irqrestore(&q->lock, flags);
		return false;
	}
	edublk_sg_post(q, cmd);
	/*
	 * In a function reset: posted again by edublk_sg_reset_done(). A
	 * request of a batch still open leaves the doorbell to the batch's
	 * commit; once the batch has ended (its commit may have come before
	 * this list, which waited), it rings at once.
	 */
	if (!sg->resetting) {
		if (sc->defer && sc->batch == q->batch)
			q->ring_pending = true;
		else
			edublk_sg_ring(q);
	}
	spin_unlock_irqrestore(&q->lock, flags);
	return true;
}

/*
 * ops->commit: the batch on @hctx's queue has ended; ring for what its
 * requests posted, and let the ones still waiting for their lists ring
 * for themselves.
 */
static void edublk_sg_commit(struct edublk_dev *edu,
			     struct blk_mq_hw_ctx *hctx)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct edublk_sgq *q = &sg->q[hctx->queue_num];
	unsigned long flags;

	/*
	 * Set under the lock by this batch's own requests, or cleared by
	 * another batch's commit, which then rang and ended this batch too.
	 */
	if (!READ_ONCE(q->batch_open))
		return;
	spin_lock_irqsave(&q->lock, flags);
	q->batch++;
	WRITE_ONCE(q->batch_open, false);
	/* Not for a queue given up (the device may be gone). */
	if (q->ring_pending && !sg->resetting && !q->dead)
		edublk_sg_ring(q);
	spin_unlock_irqrestore(&q->lock, flags);
}

/* Is the list usable by the device as it is? */
static bool edublk_sg_list_ok(struct edublk_dev *edu, struct edublk_cmd *cmd,
			      const struct wdmdma_sg_list *sgl)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	u64 total = 0;
	u32 i;

	if (!sgl->nr_elements || sgl->nr_elements > sg->tbl_elems)
		return false;
	for (i = 0; i < sgl->nr_elements; i++) {
		const struct wdmdma_sg_element *el = &sgl->elements[i];

		if (!el->len || el->len > sg->max_elem_len ||
		    el->addr + el->len - 1 < el->addr ||
		    el->addr + el->len - 1 > edu->dma_limit)
			return false;
		total += el->len;
	}
	return total == blk_rq_bytes(edublk_rq(cmd));
}

/**
 * edublk_sg_list_ready() - ops->list_ready: post a mapped request
 * @edu: the device
 * @cmd: the request
 * @sgl: its list from wdmdma
 *
 * Copies the list into the request's element table and rings the doorbell
 * of the request's edu-sg queue. Requests that cannot be posted are ended
 * by the work item.
 *
 * Context: any (wdmdma's list-control callback); does not sleep.
 */
static void edublk_sg_list_ready(struct edublk_dev *edu,
				 struct edublk_cmd *cmd,
				 struct wdmdma_sg_list *sgl)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct edublk_sgq *q = &sg->q[sc->qid];
	struct request *rq = edublk_rq(cmd);
	struct edusg_elem *t;
	u32 i;

	if (WARN_ON_ONCE(rq->tag < 0 || rq->tag >= EDUBLK_QUEUE_DEPTH) ||
	    !edublk_sg_list_ok(edu, cmd, sgl)) {
		dev_err_ratelimited(&edu->pdev->dev,
				    "unusable list of %u elements for %u bytes\n",
				    sgl->nr_elements, blk_rq_bytes(rq));
		edublk_fail_async(edu, cmd, BLK_STS_IOERR);
		return;
	}
	/* The table belongs to this tag alone; writel() orders it first. */
	t = q->tables + rq->tag * sg->tbl_elems;
	for (i = 0; i < sgl->nr_elements; i++) {
		t[i].addr = cpu_to_le64(sgl->elements[i].addr);
		t[i].len = cpu_to_le32(sgl->elements[i].len);
		t[i].rsvd = 0;
	}
	sc->nelems = sgl->nr_elements;
	if (!edublk_sg_submit(edu, cmd))
		edublk_fail_async(edu, cmd, BLK_STS_IOERR);
}

/**
 * edublk_sg_queue_nodata() - ops->queue_nodata: post a request without data
 * @edu: the device
 * @cmd: a REQ_OP_FLUSH, REQ_OP_DISCARD or REQ_OP_WRITE_ZEROES request
 *
 * A flush becomes a FLUSH command: the device writes its whole medium
 * back to the backing file (without one, FLUSH does nothing). A discard
 * becomes a DISCARD, a write zeroes a WRITE_ZEROES (with DEALLOC unless
 * REQ_NOUNMAP): the range reads back as zeroes. No data, so no element
 * table and nothing for wdmdma or the DMA API to map, whatever the mode;
 * the completion ends the request like any other.
 *
 * Context: queue_rq; does not sleep.
 * Return: BLK_STS_OK (posted), or BLK_STS_IOERR if the queue was given up.
 */
static blk_status_t edublk_sg_queue_nodata(struct edublk_dev *edu,
					   struct edublk_cmd *cmd)
{
	struct request *rq = edublk_rq(cmd);

	if (WARN_ON_ONCE(rq->tag < 0 || rq->tag >= EDUBLK_QUEUE_DEPTH))
		return BLK_STS_IOERR;
	to_edublk_sg_cmd(cmd)->nelems = 0;
	return edublk_sg_submit(edu, cmd) ? BLK_STS_OK : BLK_STS_IOERR;
}

/*
 * --- mode=native and native-sgt: plain Linux, no wdmdma ----------------
 *
 * A request of one physical segment is mapped with dma_map_bvec() in both
 * modes. Any other is mapped through an sg_table (sg_alloc_table_chained(),
 * blk_rq_map_sg(), dma_map_sgtable()) in native-sgt, and in native where
 * the kernel lacks blk_rq_dma_map_iter_start() (before 6.17); native on
 * later kernels takes that iterator instead (edublk_mode_uses_sgt()).
 * sc->native_map says which mapped the request.
 */

static void edublk_sg_native_unmap(struct edublk_dev *edu,
				   struct edublk_cmd *cmd);

/* Count a native request that blk-mq will run again later. */
static blk_status_t edublk_sg_native_requeue(struct edublk_dev *edu)
{
	unsigned long flags;

	spin_lock_irqsave(&edu->lock, flags);
	edu->stats.native_requeues++;
	spin_unlock_irqrestore(&edu->lock, flags);
	return BLK_STS_RESOURCE;
}

/* Is [@addr, @addr + @len) one element the device can use? */
static bool edublk_sg_native_elem_ok(struct edublk_dev *edu, dma_addr_t addr,
				     u32 len)
{
	return len && len <= to_edublk_sg(edu)->max_elem_len &&
	       addr + len - 1 >= addr && addr + len - 1 <= edu->dma_limit;
}

/*
 * Append the mapped range [@addr, @addr + @len) to the element table @t,
 * which holds *@n elements so far, in elements of at most the device's
 * MAX_ELEM_LEN (an IOVA range spans the whole request, and segments are
 * as long as virt_boundary_mask lets blk-mq merge them). Returns false if
 * the table is full or a piece is unusable.
 */
static bool edublk_sg_native_add(struct edublk_dev *edu, struct edusg_elem *t,
				 u32 *n, dma_addr_t addr, u32 len)
{
	struct edublk_sg *sg = to_edublk_sg(edu);

	while (len) {
		u32 piece = min(len, sg->max_elem_len);

		if (*n >= sg->tbl_elems ||
		    !edublk_sg_native_elem_ok(edu, addr, piece))
			return false;
		t[*n].addr = cpu_to_le64(addr);
		t[*n].len = cpu_to_le32(piece);
		t[*n].rsvd = 0;
		(*n)++;
		addr += piece;
		len -= piece;
	}
	return true;
}

/*
 * A request of one physical segment, as NVMe maps it: its one bio_vec with
 * dma_map_bvec(), no scatterlist, no iterator, no allocation. blk-mq
 * counts at least one segment per bio_vec, so that bio_vec is the whole
 * request; one that is not, or that is longer than one mapping may be
 * (swiotlb's limit when the device needs bouncing, which would fail every
 * time), returns BLK_STS_NOTSUPP: the caller takes the mode's other path.
 * So a mapping error here is transient (swiotlb full) and the request is
 * retried later, as NVMe does. The mapping is kept in sc->bvec_addr and
 * sc->bvec_len.
 */
static blk_status_t edublk_sg_native_map_bvec(struct edublk_dev *edu,
					      struct edublk_cmd *cmd,
					      struct edusg_elem *t)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct request *rq = edublk_rq(cmd);
	struct device *dev = &edu->pdev->dev;
	struct bio_vec bv = req_bvec(rq);
	dma_addr_t addr;
	u32 n = 0;

	if (bv.bv_len != blk_rq_bytes(rq) || bv.bv_len > sg->max_map)
		return BLK_STS_NOTSUPP;
	addr = dma_map_bvec(dev, &bv, rq_dma_dir(rq), DMA_ATTR_NO_WARN);
	if (dma_mapping_error(dev, addr))
		return edublk_sg_native_requeue(edu);
	sc->bvec_addr = addr;
	sc->bvec_len = bv.bv_len;
	sc->native_map = EDUBLK_NATIVE_BVEC;
	if (!edublk_sg_native_add(edu, t, &n, addr, bv.bv_len)) {
		dev_err_ratelimited(dev, "unusable mapping: %pad for %u bytes\n",
				    &addr, bv.bv_len);
		edublk_sg_native_unmap(edu, cmd);
		return BLK_STS_IOERR;
	}
	sc->nelems = n;
	atomic_long_inc(&sg->native_single);
	return BLK_STS_OK;
}

#ifdef CONFIG_SG_POOL
/*
 * Give @cmd's table back to the sg pools. sg_free_table_chained() frees by
 * orig_nents, and blk_rq_map_sg() may fill fewer entries than blk-mq
 * counted segments (it merges physically contiguous pages where two bios
 * meet, which the count does not: seen on 7.3), so orig_nents is set back
 * to the size the table was allocated with, blk_rq_nr_phys_segments(),
 * which stays put while the driver holds the request. Else the chained
 * chunks leak.
 */
static void edublk_sg_native_free_sgt(struct edublk_cmd *cmd)
{
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);

	sc->sgt.orig_nents = blk_rq_nr_phys_segments(edublk_rq(cmd));
	sg_free_table_chained(&sc->sgt, EDUBLK_NATIVE_INLINE_SG);
}

/*
 * A request of several segments in the sg_table modes, as NVMe mapped it
 * before 6.17: a table chained from the kernel's sg pools past
 * EDUBLK_NATIVE_INLINE_SG entries (allocation failures injected like
 * wdmdma's, by wdmdma_should_fail_alloc()), blk_rq_map_sg(),
 * dma_map_sgtable().
 */
static blk_status_t edublk_sg_native_map_sgt(struct edublk_dev *edu,
					     struct edublk_cmd *cmd,
					     struct edusg_elem *t,
					     unsigned int nents)
{
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct request *rq = edublk_rq(cmd);
	struct device *dev = &edu->pdev->dev;
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct scatterlist *s;
	u64 total = 0;
	unsigned int i;
	u32 n = 0;
	int ret;

	if (nents > EDUBLK_NATIVE_INLINE_SG &&
	    wdmdma_should_fail_alloc(edu->adapter))
		return edublk_sg_native_requeue(edu);
	sc->sgt.sgl = sc->inline_sg;
	if (sg_alloc_table_chained(&sc->sgt, nents, sc->inline_sg,
				   EDUBLK_NATIVE_INLINE_SG))
		return edublk_sg_native_requeue(edu);
	sc->sgt.orig_nents = wdmdma_blk_rq_map_sg(rq, sc->sgt.sgl);
	if (!sc->sgt.orig_nents) {
		edublk_sg_native_free_sgt(cmd);
		dev_err_ratelimited(dev, "blk_rq_map_sg found no data in %u bytes\n",
				    blk_rq_bytes(rq));
		return BLK_STS_IOERR;
	}
	ret = dma_map_sgtable(dev, &sc->sgt, rq_dma_dir(rq), DMA_ATTR_NO_WARN);
	if (ret) {
		edublk_sg_native_free_sgt(cmd);
		/*
		 * As NVMe did before 6.17: -EINVAL (a malformed table) and
		 * -EREMOTEIO (peer-to-peer memory this device cannot reach)
		 * never succeed; anything else, -ENOMEM or dma-direct's -EIO
		 * when swiotlb is full, is mapping space short now: retry.
		 */
		if (ret == -EREMOTEIO)
			return BLK_STS_TARGET;
		if (ret == -EINVAL) {
			dev_err_ratelimited(dev, "dma_map_sgtable refused the table of %u bytes: %d\n",
					    blk_rq_bytes(rq), ret);
			return BLK_STS_IOERR;
		}
		return edublk_sg_native_requeue(edu);
	}
	sc->native_map = EDUBLK_NATIVE_SGT;

	for_each_sgtable_dma_sg(&sc->sgt, s, i) {
		if (!edublk_sg_native_add(edu, t, &n, sg_dma_address(s),
					  sg_dma_len(s)))
			goto bad;
		total += sg_dma_len(s);
	}
	if (total != blk_rq_bytes(rq))
		goto bad;
	sc->nelems = n;
	atomic_long_inc(&sg->native_sgt);
	atomic_long_add(sc->sgt.orig_nents, &sg->native_sgt_segs);
	atomic_long_add(n, &sg->native_sgt_elems);
	return BLK_STS_OK;

bad:
	dev_err_ratelimited(dev, "unusable mapping: %u DMA segments for %u bytes\n",
			    sc->sgt.nents, blk_rq_bytes(rq));
	edublk_sg_native_unmap(edu, cmd);
	return BLK_STS_IOERR;
}

static void edublk_sg_native_unmap_sgt(struct edublk_dev *edu,
				       struct edublk_cmd *cmd,
				       enum dma_data_direction dir)
{
	dma_unmap_sgtable(&edu->pdev->dev, &to_edublk_sg_cmd(cmd)->sgt, dir, 0);
	edublk_sg_native_free_sgt(cmd);
}
#endif /* CONFIG_SG_POOL */

#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
/*
 * Keep a range the iterator mapped on its own for the unmap. A request of
 * at most EDUBLK_NATIVE_INLINE_RANGES segments keeps them in its PDU; one
 * of more takes an array from the device's pool at its first range
 * (allocation failures injected like wdmdma's, by
 * wdmdma_should_fail_alloc()). blk-mq maps no more ranges than it counted
 * segments. Returns BLK_STS_RESOURCE if there is no array, BLK_STS_IOERR
 * if the range does not fit.
 */
static blk_status_t edublk_sg_native_keep(struct edublk_dev *edu,
					  struct edublk_cmd *cmd,
					  unsigned int nsegs, dma_addr_t addr,
					  u32 len)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	unsigned int max = EDUBLK_NATIVE_INLINE_RANGES;

	if (!sc->nr_ranges && nsegs > EDUBLK_NATIVE_INLINE_RANGES) {
		if (wdmdma_should_fail_alloc(edu->adapter))
			return BLK_STS_RESOURCE;
		sc->ranges = mempool_alloc(sg->native_pool, GFP_ATOMIC);
		if (!sc->ranges) {
			sc->ranges = sc->inline_ranges;
			return BLK_STS_RESOURCE;
		}
	}
	if (sc->ranges != sc->inline_ranges)
		max = sg->native_max_ranges;
	if (sc->nr_ranges >= max)
		return BLK_STS_IOERR;
	sc->ranges[sc->nr_ranges].addr = addr;
	sc->ranges[sc->nr_ranges].len = len;
	sc->nr_ranges++;
	return BLK_STS_OK;
}

/*
 * A request of several segments in mode=native, as NVMe maps it since
 * 6.17: blk_rq_dma_map_iter_start() links the whole request into one IOVA
 * range where an IOMMU translates (then nothing but that range is kept),
 * else maps it range by range, and each range is kept for the unmap if
 * dma_need_unmap() says one is needed. The device's elements are written
 * from the ranges as they come.
 */
static blk_status_t edublk_sg_native_map_iter(struct edublk_dev *edu,
					      struct edublk_cmd *cmd,
					      struct edusg_elem *t,
					      unsigned int nsegs)
{
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct request *rq = edublk_rq(cmd);
	struct device *dev = &edu->pdev->dev;
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct blk_dma_iter iter;
	unsigned int ranges = 0;
	const char *why;
	blk_status_t sts;
	u64 total = 0;
	bool keep;
	u32 n = 0;

	memset(&sc->iova, 0, sizeof(sc->iova));
	sc->iova_len = 0;
	sc->ranges = sc->inline_ranges;
	sc->nr_ranges = 0;
	if (!blk_rq_dma_map_iter_start(rq, dev, &sc->iova, &iter)) {
		sts = iter.status;
		if (sts == BLK_STS_OK)	/* blk-mq found no data to map */
			sts = BLK_STS_IOERR;
		goto failed;
	}
	sc->native_map = EDUBLK_NATIVE_ITER;
	if (blk_rq_dma_map_coalesce(&sc->iova)) {
		sc->iova_len = iter.len;
		if (!edublk_sg_native_add(edu, t, &n, iter.addr, iter.len))
			goto bad_elem;
		total = iter.len;
		goto mapped;
	}

	keep = dma_need_unmap(dev);
	for (;;) {
		if (keep) {
			sts = edublk_sg_native_keep(edu, cmd, nsegs, iter.addr,
						    iter.len);
			if (sts != BLK_STS_OK) {
				/* Not kept, so not unmapped with the rest. */
				dma_unmap_page(dev, iter.addr, iter.len,
					       rq_dma_dir(rq));
				if (sts == BLK_STS_RESOURCE) {
					edublk_sg_native_unmap(edu, cmd);
					return edublk_sg_native_requeue(edu);
				}
				why = "more ranges than blk-mq counted segments";
				goto bad;
			}
		}
		if (!edublk_sg_native_add(edu, t, &n, iter.addr, iter.len))
			goto bad_elem;
		total += iter.len;
		ranges++;
		if (!wdmdma_blk_rq_dma_map_iter_next(rq, dev, &sc->iova, &iter))
			break;
	}
	sts = iter.status;
	if (sts != BLK_STS_OK) {
		edublk_sg_native_unmap(edu, cmd);
		goto failed;
	}

mapped:
	if (total != blk_rq_bytes(rq)) {
		why = "the ranges do not add up to the request";
		goto bad;
	}
	sc->nelems = n;
	if (dma_use_iova(&sc->iova)) {
		atomic_long_inc(&sg->native_iova);
		atomic_long_add(nsegs, &sg->native_iova_segs);
		atomic_long_add(n, &sg->native_iova_elems);
	} else {
		atomic_long_inc(&sg->native_direct);
		atomic_long_add(ranges, &sg->native_direct_ranges);
	}
	return BLK_STS_OK;

failed:
	/* Nothing is mapped (any more). */
	if (sts == BLK_STS_RESOURCE)
		return edublk_sg_native_requeue(edu);	/* no IOVA or swiotlb space */
	dev_err_ratelimited(dev, "cannot map %u bytes in %u segments: error %d\n",
			    blk_rq_bytes(rq), nsegs, blk_status_to_errno(sts));
	return sts;

bad_elem:
	why = "more elements than the table holds, or one beyond the device's reach";
bad:
	dev_err_ratelimited(dev, "unusable mapping of %u bytes in %u segments (%s, %u elements): %s\n",
			    blk_rq_bytes(rq), nsegs,
			    dma_use_iova(&sc->iova) ? "one IOVA range" :
			    "range by range", n, why);
	edublk_sg_native_unmap(edu, cmd);
	return BLK_STS_IOERR;
}

static void edublk_sg_native_unmap_iter(struct edublk_dev *edu,
					struct edublk_cmd *cmd,
					enum dma_data_direction dir)
{
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct device *dev = &edu->pdev->dev;
	unsigned int i;

	if (dma_use_iova(&sc->iova)) {
		dma_iova_destroy(dev, &sc->iova, sc->iova_len, dir, 0);
		memset(&sc->iova, 0, sizeof(sc->iova));
		sc->iova_len = 0;
	}
	for (i = 0; i < sc->nr_ranges; i++)
		dma_unmap_page(dev, sc->ranges[i].addr, sc->ranges[i].len,
			       dir);
	sc->nr_ranges = 0;
	if (sc->ranges != sc->inline_ranges) {
		mempool_free(sc->ranges, to_edublk_sg(edu)->native_pool);
		sc->ranges = sc->inline_ranges;
	}
}
#endif /* WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER */

/*
 * A request that dma_map_bvec() alone does not map: the iterator in
 * mode=native on 6.17 and later, the sg_table otherwise.
 */
static blk_status_t edublk_sg_native_map_multi(struct edublk_dev *edu,
					       struct edublk_cmd *cmd,
					       struct edusg_elem *t,
					       unsigned int nents)
{
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	if (!edublk_mode_uses_sgt(edu->mode))
		return edublk_sg_native_map_iter(edu, cmd, t, nents);
#endif
#ifdef CONFIG_SG_POOL
	return edublk_sg_native_map_sgt(edu, cmd, t, nents);
#else
	/* edublk_sg_native_init() refused the sg_table modes. */
	return BLK_STS_NOTSUPP;
#endif
}

/**
 * edublk_sg_native_queue() - ops->native_queue: map and post a request
 * @edu: the device
 * @cmd: the request
 *
 * mode=native and native-sgt, the benchmark's baselines: what a Linux
 * block driver does on its own, the way NVMe does. A request of one
 * physical segment is mapped with dma_map_bvec() alone; any other, in
 * mode=native where the kernel has blk_rq_dma_map_iter_start() (6.17),
 * through that iterator without a scatterlist (one IOVA range for the
 * whole request behind an IOMMU), else (native-sgt, or native before
 * 6.17) through a chained sg_table and dma_map_sgtable(). All map with
 * the streaming mask edublk_set_dma_masks() set (swiotlb bouncing what
 * the device cannot reach).
 *
 * Context: queue_rq; does not sleep.
 * Return: BLK_STS_OK (posted), BLK_STS_RESOURCE (nothing mapped: no
 * memory, IOVA or swiotlb space; blk-mq retries later, the Linux way) or
 * an error.
 */
static blk_status_t edublk_sg_native_queue(struct edublk_dev *edu,
					   struct edublk_cmd *cmd)
{
	struct request *rq = edublk_rq(cmd);
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int nents = blk_rq_nr_phys_segments(rq);
	struct edusg_elem *t;
	blk_status_t sts = BLK_STS_NOTSUPP;

	if (WARN_ON_ONCE(!nents || rq->tag < 0 ||
			 rq->tag >= EDUBLK_QUEUE_DEPTH))
		return BLK_STS_IOERR;
	/* The table belongs to this tag alone; writel() orders it first. */
	t = sg->q[to_edublk_sg_cmd(cmd)->qid].tables + rq->tag * sg->tbl_elems;
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	/*
	 * The queue does not declare BLK_FEAT_PCI_P2PDMA, so blk-mq hands it
	 * no peer-to-peer memory, whose mappings are undone differently.
	 */
	if (is_pci_p2pdma_page(req_bvec(rq).bv_page)) {
		dev_err_ratelimited(&edu->pdev->dev,
				    "request in PCI peer-to-peer memory: not supported\n");
		return BLK_STS_NOTSUPP;
	}
#endif
	if (nents == 1)
		sts = edublk_sg_native_map_bvec(edu, cmd, t);
	if (sts == BLK_STS_NOTSUPP)
		sts = edublk_sg_native_map_multi(edu, cmd, t, nents);
	if (sts != BLK_STS_OK)
		return sts;
	edublk_account(edu, cmd);
	if (edublk_sg_submit(edu, cmd))
		return BLK_STS_OK;
	edublk_sg_native_unmap(edu, cmd);
	return BLK_STS_IOERR;
}

/**
 * edublk_sg_native_unmap() - ops->native_unmap: undo the native mapping
 * @edu: the device
 * @cmd: the request; the device is done with it
 *
 * Unmaps exactly what was mapped, the way sc->native_map says, with the
 * same sizes and direction: the dma_map_bvec() mapping, the sg_table (and
 * its chained entries go back to the pools), or the IOVA range and the
 * ranges the iterator kept.
 *
 * Context: any; does not sleep.
 */
static void edublk_sg_native_unmap(struct edublk_dev *edu,
				   struct edublk_cmd *cmd)
{
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	enum dma_data_direction dir = rq_dma_dir(edublk_rq(cmd));

	switch (sc->native_map) {
	case EDUBLK_NATIVE_BVEC:
		dma_unmap_page(&edu->pdev->dev, sc->bvec_addr, sc->bvec_len,
			       dir);
		break;
#ifdef CONFIG_SG_POOL
	case EDUBLK_NATIVE_SGT:
		edublk_sg_native_unmap_sgt(edu, cmd, dir);
		break;
#endif
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	case EDUBLK_NATIVE_ITER:
		edublk_sg_native_unmap_iter(edu, cmd, dir);
		break;
#endif
	default:
		break;
	}
	sc->native_map = EDUBLK_NATIVE_NONE;
}

/* Room for edublk_sg_cmd_desc()'s longest line. */
#define EDUBLK_SG_DESC_LEN	48

/*
 * What a log line calls @cmd: "FLUSH" (blk-mq leaves a flush's sector at
 * -1, and it has no data), else "READ" or "WRITE" (with "+FUA"), its size
 * and sector. Returns @buf, or a constant string.
 */
static const char *edublk_sg_cmd_desc(struct edublk_cmd *cmd,
				      char buf[EDUBLK_SG_DESC_LEN])
{
	struct request *rq = edublk_rq(cmd);

	if (cmd->flush)
		return "FLUSH";
	if (cmd->zero_op) {
		snprintf(buf, EDUBLK_SG_DESC_LEN, "%s of %u bytes at sector %llu",
			 cmd->zero_op == EDUBLK_ZERO_DISCARD ? "DISCARD" :
			 "WRITE_ZEROES", blk_rq_bytes(rq),
			 (unsigned long long)blk_rq_pos(rq));
		return buf;
	}
	snprintf(buf, EDUBLK_SG_DESC_LEN, "%s%s of %u bytes at sector %llu",
		 cmd->write ? "WRITE" : "READ", cmd->fua ? "+FUA" : "",
		 blk_rq_bytes(rq), (unsigned long long)blk_rq_pos(rq));
	return buf;
}

/* --- Completion --------------------------------------------------------- */

static blk_status_t edublk_sg_status(struct edublk_sgq *q, u16 status,
				     u32 info, struct edublk_cmd *cmd)
{
	struct device *dev = &q->edu->pdev->dev;
	char desc[EDUBLK_SG_DESC_LEN];

	if (status == ES_ST_OK)
		return BLK_STS_OK;
	q->stats.dev_errors++;
	switch (status) {
	case ES_ST_DEVICE_ERROR:
		dev_err_ratelimited(dev, "q%u: device error on %s\n", q->qid,
				    edublk_sg_cmd_desc(cmd, desc));
		return BLK_STS_IOERR;
	case ES_ST_MEDIUM_ERROR:
		/* On FLUSH and FUA: the backing file could not be synced. */
		if (cmd->flush || cmd->fua) {
			dev_err_ratelimited(dev, "q%u: %s: the device could not sync its backing file\n",
					    q->qid,
					    edublk_sg_cmd_desc(cmd, desc));
			return BLK_STS_IOERR;
		}
		dev_err_ratelimited(dev, "q%u: medium error on %s\n", q->qid,
				    edublk_sg_cmd_desc(cmd, desc));
		return BLK_STS_MEDIUM;
	case ES_ST_DMA_RANGE:
	case ES_ST_DMA_FAULT:
		dev_err_ratelimited(dev, "q%u: DMA %s at element %d\n", q->qid,
				    status == ES_ST_DMA_FAULT ? "fault" :
				    "out of range", (int)info);
		return BLK_STS_IOERR;
	case ES_ST_OUT_OF_RANGE:
		dev_err_ratelimited(dev, "q%u: %s: beyond the medium\n", q->qid,
				    edublk_sg_cmd_desc(cmd, desc));
		return BLK_STS_IOERR;
	default:
		/* The driver built a command the device rejects: a bug. */
		dev_err_ratelimited(dev, "q%u: command rejected, status %#x info %#x\n",
				    q->qid, status, info);
		return BLK_STS_IOERR;
	}
}

/*
 * Take every new completion from @q's CQ, moving the finished requests to
 * @done, and (if @release) release the entries to the device once
 * EDUBLK_SG_CQ_RELEASE of them are held back: not to a queue that was just
 * aborted or reset, whose doorbells are off. Every
 * field is checked before use: an entry that names no request posted on
 * this queue is counted and dropped. Returns the number of entries taken.
 * Lock held.
 */
static unsigned int edublk_sg_drain(struct edublk_sgq *q,
				    struct list_head *done, bool release)
{
	struct device *dev = &q->edu->pdev->dev;
	unsigned int n;

	lockdep_assert_held(&q->lock);
	/* At most a ring's worth, however broken the device is. */
	for (n = 0; n < EDUBLK_SG_QSIZE; n++) {
		const struct edusg_cqe *e = &q->cq[q->cq_head];
		u16 flags = le16_to_cpu(READ_ONCE(e->flags));
		struct edublk_cmd *cmd;
		u32 tag, idx;
		u16 qid, sq_head;

		if (!!(flags & ES_CQE_PHASE) != q->phase)
			break;
		dma_rmb();	/* the other fields after the phase */
		tag = le32_to_cpu(e->tag);
		qid = le16_to_cpu(e->qid);
		sq_head = le16_to_cpu(e->sq_head);
		q->cq_head = (q->cq_head + 1) & (EDUBLK_SG_QSIZE - 1);
		if (!q->cq_head)
			q->phase = !q->phase;

		idx = tag & 0xffff;
		cmd = idx < EDUBLK_QUEUE_DEPTH ? q->inflight[idx] : NULL;
		if (qid != q->qid || sq_head >= EDUBLK_SG_QSIZE || !cmd ||
		    to_edublk_sg_cmd(cmd)->dev_tag != tag ||
		    (flags & ~ES_CQE_PHASE)) {
			q->stats.bad_cqes++;
			dev_err_ratelimited(dev, "q%u: invalid completion: tag %#x qid %u sq_head %u flags %#x\n",
					    q->qid, tag, qid, sq_head, flags);
			continue;
		}
		q->inflight[idx] = NULL;
		q->nr_inflight--;
		q->stats.completed++;
		q->stuck = 0;
		to_edublk_sg_cmd(cmd)->sg_state = EDUBLK_SG_DONE;
		cmd->status = edublk_sg_status(q, le16_to_cpu(e->status),
					       le32_to_cpu(e->info), cmd);
		trace_edublk_cmd_complete(cmd, e);
		list_add_tail(&cmd->node, done);
	}
	if (n && release &&
	    ((q->cq_head - q->cq_released) & (EDUBLK_SG_QSIZE - 1)) >=
	    EDUBLK_SG_CQ_RELEASE) {
		es_wr(q->edu, ES_Q(q->qid, ESQ_CQ_HEAD), q->cq_head);
		q->cq_released = q->cq_head;
	}
	return n;
}

/*
 * Program @q's rings into the device and enable the queue, which is
 * disabled (aborted, or the device reset). Returns its STATUS: exactly
 * ESQ_ST_ENABLED if that worked. Lock held, or the queue not yet in use.
 */
static u32 edublk_sg_enable_queue(struct edublk_dev *edu,
				  struct edublk_sgq *q)
{
	unsigned int i = q->qid;

	es_wr(edu, ES_Q(i, ESQ_SQ_BASE), lower_32_bits(q->sq_dma));
	es_wr(edu, ES_Q(i, ESQ_SQ_BASE_HI), upper_32_bits(q->sq_dma));
	es_wr(edu, ES_Q(i, ESQ_CQ_BASE), lower_32_bits(q->cq_dma));
	es_wr(edu, ES_Q(i, ESQ_CQ_BASE_HI), upper_32_bits(q->cq_dma));
	es_wr(edu, ES_Q(i, ESQ_SIZE), EDUBLK_SG_QSIZE);
	es_wr(edu, ES_Q(i, ESQ_CTRL), ESQ_CTRL_ENABLE);
	return es_rd(edu, ES_Q(i, ESQ_STATUS));
}

/* Start @q's rings afresh; the device no longer uses them. Lock held. */
static void edublk_sg_ring_reset(struct edublk_sgq *q)
{
	memset(q->cq, 0, EDUBLK_SG_QSIZE * sizeof(*q->cq));
	q->sq_tail = 0;
	q->ring_pending = false;
	q->cq_head = 0;
	q->cq_released = 0;
	q->phase = true;
}

/*
 * After @q was aborted or the device reset (and @q re-enabled, unless
 * @others is an error): end @victim (if any) with BLK_STS_TIMEOUT and
 * @q's other commands in flight with @others, or with BLK_STS_OK post
 * them again. Lock held.
 */
static void edublk_sg_requeue(struct edublk_sgq *q, struct edublk_cmd *victim,
			      blk_status_t others, struct list_head *done)
{
	unsigned int i, reposted = 0;

	lockdep_assert_held(&q->lock);
	for (i = 0; i < EDUBLK_QUEUE_DEPTH; i++) {
		struct edublk_cmd *cmd = q->inflight[i];

		if (!cmd)
			continue;
		q->inflight[i] = NULL;
		q->nr_inflight--;
		if (cmd == victim || others != BLK_STS_OK) {
			to_edublk_sg_cmd(cmd)->sg_state = EDUBLK_SG_DONE;
			cmd->status = cmd == victim ? BLK_STS_TIMEOUT : others;
			list_add_tail(&cmd->node, done);
			continue;
		}
		edublk_sg_post(q, cmd);
		q->stats.reposted++;
		reposted++;
	}
	if (reposted)
		edublk_sg_ring(q);
}

/*
 * Abort @q and start it afresh. @victim (if any) ends with BLK_STS_TIMEOUT;
 * the other commands in flight end with @others, or with BLK_STS_OK posted
 * again. Once the abort has reached the device (the read after it flushes
 * the posted write, and any DMA the device had under way lands before the
 * read's answer), it does no more DMA for the queue: what it posted until
 * then is taken first (those requests end as the device said, @victim
 * too), then clearing the ring and ending requests (unmapping their
 * lists) is safe. Lock held.
 */
static void edublk_sg_restart(struct edublk_sgq *q, struct edublk_cmd *victim,
			      blk_status_t others, struct list_head *done)
{
	struct edublk_dev *edu = q->edu;
	u32 st;

	lockdep_assert_held(&q->lock);
	es_wr(edu, ES_Q(q->qid, ESQ_CTRL), ESQ_CTRL_ABORT);
	es_rd(edu, ES_Q(q->qid, ESQ_STATUS));
	edublk_sg_drain(q, done, false);
	q->stats.restarts++;
	edublk_sg_ring_reset(q);
	es_wr(edu, ES_Q(q->qid, ESQ_CTRL), ESQ_CTRL_ENABLE);
	st = es_rd(edu, ES_Q(q->qid, ESQ_STATUS));
	if (st != ESQ_ST_ENABLED) {
		dev_err(&edu->pdev->dev,
			"q%u: cannot re-enable after abort (STATUS %#x, ERROR %u): failing its I/O\n",
			q->qid, st, es_rd(edu, ES_Q(q->qid, ESQ_ERROR)));
		q->dead = true;
		others = BLK_STS_IOERR;
	}
	trace_edublk_queue_restart(edu, q->qid, q->nr_inflight, q->dead);
	edublk_sg_requeue(q, victim, others, done);
}

/*
 * Every queue's lock, in queue order, interrupts off: lockdep knows the
 * nesting by the subclass (EDUSG_MAX_QUEUES fits its subclasses). The
 * first lock takes the interrupts with it, so this is right on PREEMPT_RT
 * too. sparse cannot count locks taken in a loop; the __release() and
 * __acquire() (nothing at run time) keep its context balanced.
 */
static unsigned long edublk_sg_lock_all(struct edublk_sg *sg)
{
	unsigned long flags;
	unsigned int i;

	BUILD_BUG_ON(EDUSG_MAX_QUEUES > MAX_LOCKDEP_SUBCLASSES);
	spin_lock_irqsave_nested(&sg->q[0].lock, flags, 0);
	__release(&sg->q[0].lock);
	for (i = 1; i < sg->nq; i++) {
		spin_lock_nested(&sg->q[i].lock, i);
		__release(&sg->q[i].lock);
	}
	return flags;
}

static void edublk_sg_unlock_all(struct edublk_sg *sg, unsigned long flags)
{
	unsigned int i = sg->nq;

	while (--i) {
		__acquire(&sg->q[i].lock);
		spin_unlock(&sg->q[i].lock);
	}
	__acquire(&sg->q[0].lock);
	spin_unlock_irqrestore(&sg->q[0].lock, flags);
}

/*
 * Reset the device (DEV_CTRL.RESET) and read it back: once the read
 * returns, the device does no more DMA and raises no interrupt. The reset
 * zeroes its counters: their sums are kept first. All queue locks held.
 */
static void edublk_sg_reset_device(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);

	sg->dev_cmds += es_rd(edu, ES_STAT_CMDS);
	sg->dev_errors += es_rd(edu, ES_STAT_ERRORS);
	sg->dev_dropped += es_rd(edu, ES_STAT_DROPPED);
	sg->dev_injected += es_rd(edu, ES_STAT_INJECTED);
	if (sg->v11)
		sg->dev_bad_cqes += es_rd(edu, ES_STAT_BAD_CQES);
	es_wr(edu, ES_DEV_CTRL, ES_DEV_CTRL_RESET);
	es_rd(edu, ES_ID);
}

/*
 * The device-wide settings a reset clears, before the queues are enabled.
 * Lock held (every queue's), or the device not yet in use.
 */
static void edublk_sg_setup_device(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);

	if (sg->coalesce)
		es_wr(edu, ES_INT_COALESCE, sg->coalesce);
	/* The polled queues never signal. */
	if (sg->nq_irq < sg->nq)
		es_wr(edu, ES_INT_MASK, GENMASK(sg->nq - 1, sg->nq_irq));
}

/*
 * @victim on @vq has timed out and @vq's last timeout came with no
 * completion since. Under every queue's lock, first take what @vq posted
 * meanwhile: if @victim completed, nothing more (returns false). Else
 * count the timeout; if @vq has completed something since its last one,
 * restart @vq alone; else reset the controller and post every queue's
 * commands again, or, if @vq's timeouts go on after a reset
 * (EDUBLK_SG_DEAD_AFTER in a row), give the device up. The device is
 * reset first; the read after the reset returns once it does no more DMA,
 * and what it posted until then is taken before the rings are cleared.
 * Giving up sets edu->dead (queue_rq fails new requests at once) and every
 * queue's dead (lists that wdmdma maps later fail at submission), ends
 * every command in flight with BLK_STS_IOERR (@victim with
 * BLK_STS_TIMEOUT), and turns bus mastering off. Called with no lock
 * held. Returns 1 if @victim timed out, 0 if it completed, -EAGAIN if a
 * function reset has begun (it posts @victim again).
 */
static int edublk_sg_escalate(struct edublk_dev *edu, struct edublk_sgq *vq,
			      struct edublk_cmd *victim, struct list_head *done)
{
	struct device *dev = &edu->pdev->dev;
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i, stuck, failed = 0, dead_queues = 0;
	unsigned long flags;
	bool give_up;

	flags = edublk_sg_lock_all(sg);
	if (sg->resetting) {
		/* A function reset began: it posts @victim again. */
		edublk_sg_unlock_all(sg, flags);
		return -EAGAIN;
	}
	edublk_sg_drain(vq, done, true);
	if (to_edublk_sg_cmd(victim)->sg_state != EDUBLK_SG_ON_DEVICE) {
		edublk_sg_unlock_all(sg, flags);
		return 0;
	}
	vq->stats.timeouts++;
	stuck = ++vq->stuck;
	trace_edublk_cmd_timeout(victim, stuck);
	if (stuck < EDUBLK_SG_RESET_AFTER) {
		edublk_sg_restart(vq, victim, BLK_STS_OK, done);
		edublk_sg_unlock_all(sg, flags);
		return 1;
	}
	give_up = stuck >= EDUBLK_SG_DEAD_AFTER;
	trace_edublk_ctrl_reset(edu, vq->qid, stuck, give_up);
	if (give_up)
		WRITE_ONCE(edu->dead, true);
	edublk_sg_reset_device(edu);
	if (!give_up) {
		sg->resets++;
		edublk_sg_setup_device(edu);
	}
	for (i = 0; i < sg->nq; i++) {
		struct edublk_sgq *q = &sg->q[i];
		blk_status_t others = BLK_STS_OK;

		edublk_sg_drain(q, done, false);
		edublk_sg_ring_reset(q);
		if (give_up) {
			q->dead = true;
		} else if (!q->dead &&
			   edublk_sg_enable_queue(edu, q) != ESQ_ST_ENABLED) {
			q->dead = true;
			dead_queues++;
		}
		if (q->dead) {
			others = BLK_STS_IOERR;
			failed += q->nr_inflight;
		}
		edublk_sg_requeue(q, q == vq ? victim : NULL, others, done);
	}
	edublk_sg_unlock_all(sg, flags);

	if (give_up) {
		pci_clear_master(edu->pdev);
		dev_err(dev, "q%u: %u timeouts in a row, the last after a controller reset: giving the device up; %u commands in flight and all later I/O fail\n",
			vq->qid, stuck, failed);
	} else {
		dev_warn(dev, "q%u: %u timeouts in a row: controller reset, commands in flight posted again\n",
			 vq->qid, stuck);
		if (dead_queues)
			dev_err(dev, "%u queues would not enable after the controller reset: failing their I/O\n",
				dead_queues);
	}
	return 1;
}

/* End the requests on @done (no lock held). */
static void edublk_sg_end(struct edublk_dev *edu, struct list_head *done)
{
	struct edublk_cmd *cmd, *next;

	list_for_each_entry_safe(cmd, next, done, node) {
		list_del_init(&cmd->node);
		edublk_complete(edu, cmd);
	}
}

/*
 * Is the device still there? A register that read all ones may mean it
 * is not (surprise removal, a dead link); the config space says for sure.
 * Does not sleep.
 */
static bool edublk_sg_present(struct edublk_dev *edu, u32 val)
{
	if (val != U32_MAX)
		return true;
	return pci_device_is_present(edu->pdev);
}

/* Why a device is taken for gone, most of the time. */
#define EDUBLK_SG_ALL_ONES	"its config space reads all ones"

/*
 * The device is gone (@why, for the log). It does no DMA and raises no interrupt any more,
 * so every command in flight ends at once with BLK_STS_IOERR, without a
 * word to the device and without waiting for a timeout; queue_rq fails
 * new requests (edu->dead), and a list wdmdma maps later fails at
 * submission (every queue dead). Said once. Not during a function reset
 * (a function being reset may read all ones for a while):
 * edublk_sg_reset_done() checks the device is there. Called with no lock
 * held; does not sleep. Returns false if it did nothing for that reason.
 */
static bool edublk_sg_gone(struct edublk_dev *edu, const char *why)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i, failed = 0;
	unsigned long flags;
	LIST_HEAD(done);

	flags = edublk_sg_lock_all(sg);
	if (sg->gone || sg->resetting) {
		edublk_sg_unlock_all(sg, flags);
		return sg->gone;
	}
	sg->gone = true;
	WRITE_ONCE(edu->dead, true);
	/*
	 * All ones and no config space may also be a device in a reset or
	 * a retraining link that comes back: it must not DMA into the pages
	 * given back below. A config write; harmless if it is really gone.
	 */
	pci_clear_master(edu->pdev);
	for (i = 0; i < sg->nq; i++) {
		struct edublk_sgq *q = &sg->q[i];

		q->dead = true;
		failed += q->nr_inflight;
		edublk_sg_requeue(q, NULL, BLK_STS_IOERR, &done);
	}
	edublk_sg_unlock_all(sg, flags);
	dev_err(&edu->pdev->dev,
		"device gone (%s): %u commands in flight failed, all later I/O fails\n",
		why, failed);
	edublk_sg_end(edu, &done);
	return true;
}

/*
 * Has the device halted @q (a DMA fault on its rings)? Then fail its
 * commands and start it afresh. Returns the queue's STATUS: all ones (no
 * halt) if the device is gone, which the caller checks unlocked. Lock held.
 */
static u32 edublk_sg_check_halt(struct edublk_sgq *q, struct list_head *done)
{
	struct edublk_dev *edu = q->edu;
	u32 st = es_rd(edu, ES_Q(q->qid, ESQ_STATUS));

	lockdep_assert_held(&q->lock);
	if (st != U32_MAX && (st & ESQ_ST_HALTED)) {
		q->stats.halts++;
		dev_err_ratelimited(&edu->pdev->dev,
				    "q%u: halted by the device (ERROR %u): failing its %u commands\n",
				    q->qid, es_rd(edu, ES_Q(q->qid, ESQ_ERROR)),
				    q->nr_inflight);
		edublk_sg_restart(q, NULL, BLK_STS_IOERR, done);
	}
	return st;
}

/*
 * Drain @q; then, if it signalled with nothing new or commands are still
 * in flight, see whether it halted: a halt may follow the last entries
 * the device posted, with one interrupt for both.
 */
static void edublk_sg_service(struct edublk_sgq *q)
{
	struct edublk_dev *edu = q->edu;
	unsigned long flags;
	u32 st = 0;
	LIST_HEAD(done);

	spin_lock_irqsave(&q->lock, flags);
	if (to_edublk_sg(edu)->resetting) {
		/* edublk_sg_reset_done() takes what is there. */
		spin_unlock_irqrestore(&q->lock, flags);
		return;
	}
	/* A dead queue has nothing in flight, nor a device to restart. */
	if ((!edublk_sg_drain(q, &done, true) || q->nr_inflight) && !q->dead)
		st = edublk_sg_check_halt(q, &done);
	spin_unlock_irqrestore(&q->lock, flags);
	edublk_sg_end(edu, &done);
	if (!edublk_sg_present(edu, st))
		edublk_sg_gone(edu, EDUBLK_SG_ALL_ONES);
}

/**
 * edublk_sg_poll() - ops->poll: take a polled queue's completions
 * @edu: the device
 * @hctx: a HCTX_TYPE_POLL hardware queue (a device queue without interrupt)
 *
 * Ends the requests the device completed. A halted queue is left to the
 * timeout handler, which restarts it: a status read on every poll would
 * cost an MMIO read per empty poll.
 *
 * Context: process (blk-mq's poll); does not sleep.
 * Return: the number of completions taken.
 */
static int edublk_sg_poll(struct edublk_dev *edu, struct blk_mq_hw_ctx *hctx)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct edublk_sgq *q = &sg->q[hctx->queue_num];
	unsigned long flags;
	unsigned int n;
	LIST_HEAD(done);

	spin_lock_irqsave(&q->lock, flags);
	/* In a function reset, edublk_sg_reset_done() takes what is there. */
	n = sg->resetting ? 0 : edublk_sg_drain(q, &done, true);
	spin_unlock_irqrestore(&q->lock, flags);
	edublk_sg_end(edu, &done);
	return n;
}

/* MSI-X: one vector per queue. */
static irqreturn_t edublk_sg_irq_queue(int irq, void *data)
{
	edublk_sg_service(data);
	return IRQ_HANDLED;
}

/* MSI or INTx: one vector, INT_STATUS names the queues. */
static irqreturn_t edublk_sg_irq_shared(int irq, void *data)
{
	struct edublk_dev *edu = data;
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned long status;
	unsigned int qid;

	/* Gone, or in a reset (its config space may read all ones). */
	if (READ_ONCE(sg->gone) || READ_ONCE(sg->resetting))
		return IRQ_NONE;
	status = es_rd(edu, ES_INT_STATUS);
	if (!status)
		return IRQ_NONE;	/* INTx may be shared */
	if (!edublk_sg_present(edu, status)) {
		/* Not its interrupt: it is gone (and the line may be shared). */
		edublk_sg_gone(edu, EDUBLK_SG_ALL_ONES);
		return IRQ_NONE;
	}
	/* A polled queue sets its bit too, masked: not an interrupt. */
	status &= GENMASK(sg->nq_irq - 1, 0);
	if (!status)
		return IRQ_NONE;
	/* Ack first: a completion during the drain raises a new interrupt. */
	es_wr(edu, ES_INT_ACK, status);
	for_each_set_bit(qid, &status, sg->nq_irq)
		edublk_sg_service(&sg->q[qid]);
	return IRQ_HANDLED;
}

/*
 * ops->timeout, blk-mq's .timeout. A request still waiting for its list (map registers,
 * list memory) or posted less than sg->timeout ago gets more time. A
 * request the device sits on ends with BLK_STS_TIMEOUT after its queue is
 * restarted, and the device keeps serving the queue's other commands; if
 * the queue's timeouts come in a row, with no completion between them,
 * edublk_sg_escalate() resets the controller, then gives the device up.
 * A device that is gone fails everything at once (edublk_sg_gone()).
 * blk-mq runs one timeout handler of a disk at a time, and holds a
 * reference on @cmd's request while it runs.
 */
static enum blk_eh_timer_return edublk_sg_timeout(struct edublk_dev *edu,
						  struct edublk_cmd *cmd)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct edublk_sg_cmd *sc = to_edublk_sg_cmd(cmd);
	struct edublk_sgq *q = &sg->q[sc->qid];
	enum blk_eh_timer_return ret = BLK_EH_DONE;
	char desc[EDUBLK_SG_DESC_LEN];
	bool timed_out = false, escalate = false;
	unsigned long flags;
	LIST_HEAD(done);

	if (sc->sg_state == EDUBLK_SG_IDLE) {
		/* On a device given up or gone, no wait can end well. */
		if ((!READ_ONCE(edu->dead) &&
		     time_before(jiffies, cmd->started +
				 EDUBLK_SG_WAIT_TIMEOUTS * sg->timeout)) ||
		    !edublk_cancel_wait(edu, cmd))
			return BLK_EH_RESET_TIMER;
		trace_edublk_cmd_timeout(cmd, 0);
		dev_warn_ratelimited(&edu->pdev->dev,
				     "%s waited %u ms for its DMA list: ended\n",
				     edublk_sg_cmd_desc(cmd, desc),
				     jiffies_to_msecs(jiffies - cmd->started));
		cmd->status = BLK_STS_TIMEOUT;
		edublk_complete(edu, cmd);
		return BLK_EH_DONE;
	}
	/* A function reset posts it again: its config space may read ~0. */
	if (READ_ONCE(sg->resetting))
		return BLK_EH_RESET_TIMER;
	/*
	 * Surprise removal: fail everything now, not timeout by timeout. A
	 * function reset that began meanwhile may read all ones too: then
	 * edublk_sg_gone() does nothing and the request gets more time.
	 */
	if (!edublk_sg_present(edu, es_rd(edu, ES_ID)))
		return edublk_sg_gone(edu, EDUBLK_SG_ALL_ONES) ?
		       BLK_EH_DONE : BLK_EH_RESET_TIMER;
	spin_lock_irqsave(&q->lock, flags);
	if (sg->resetting ||
	    (sc->sg_state == EDUBLK_SG_ON_DEVICE &&
	     time_before(jiffies, sc->posted + sg->timeout))) {
		ret = BLK_EH_RESET_TIMER;
		goto unlock;
	}
	if (sc->sg_state != EDUBLK_SG_ON_DEVICE)
		goto unlock;		/* being completed right now */
	/* Its completion may be posted with the interrupt still on its way. */
	edublk_sg_drain(q, &done, true);
	/*
	 * A polled queue has no interrupt to bring its halt (nor a status read
	 * in every poll): a halt is not a timeout, as on the other queues.
	 */
	if (sc->sg_state == EDUBLK_SG_ON_DEVICE && q->qid >= sg->nq_irq &&
	    !q->dead)
		edublk_sg_check_halt(q, &done);
	if (sc->sg_state == EDUBLK_SG_ON_DEVICE) {
		dev_warn_ratelimited(&edu->pdev->dev,
				     "q%u: no completion for %s in %u ms (timeout %u in a row)\n",
				     q->qid, edublk_sg_cmd_desc(cmd, desc),
				     jiffies_to_msecs(sg->timeout),
				     q->stuck + 1);
		if (q->stuck + 1 < EDUBLK_SG_RESET_AFTER) {
			q->stuck++;
			q->stats.timeouts++;
			trace_edublk_cmd_timeout(cmd, q->stuck);
			timed_out = true;
			edublk_sg_restart(q, cmd, BLK_STS_OK, &done);
		} else {
			escalate = true;
		}
	}
unlock:
	spin_unlock_irqrestore(&q->lock, flags);
	if (escalate) {
		int r = edublk_sg_escalate(edu, q, cmd, &done);

		timed_out = r > 0;
		if (r == -EAGAIN)
			ret = BLK_EH_RESET_TIMER;
	}
	if (timed_out) {
		spin_lock_irqsave(&edu->lock, flags);
		edu->stats.timeouts++;
		spin_unlock_irqrestore(&edu->lock, flags);
	}
	edublk_sg_end(edu, &done);
	return ret;
}

/* --- Set-up ------------------------------------------------------------- */

/*
 * Identify the device and read its limits; refuse values this driver
 * cannot use, saying which. Fills @sg's limits and edu->capacity.
 */
static int edublk_sg_read_limits(struct edublk_dev *edu, unsigned int *nq)
{
	struct device *dev = &edu->pdev->dev;
	u32 id = es_rd(edu, ES_ID);
	u32 version = es_rd(edu, ES_VERSION);
	u32 entries = es_rd(edu, ES_MAX_QUEUE_ENTRIES);
	u64 size;

	if (id != EDUSG_MAGIC) {
		dev_err(dev, "identification register reads %#010x, not %#010x\n",
			id, EDUSG_MAGIC);
		return -ENODEV;
	}
	if (version >> 16 != EDUSG_VERSION >> 16) {
		dev_err(dev, "device version %u.%u; this driver knows %u.x\n",
			version >> 16, version & 0xffff, EDUSG_VERSION >> 16);
		return -ENODEV;
	}
	*nq = es_rd(edu, ES_NUM_QUEUES);
	if (!*nq || *nq > EDUSG_MAX_QUEUES) {
		dev_err(dev, "NUM_QUEUES reads %u, not 1..%u\n", *nq,
			EDUSG_MAX_QUEUES);
		return -EIO;
	}
	if (entries < EDUBLK_SG_QSIZE) {
		dev_err(dev, "queues hold %u entries, %u needed\n", entries,
			EDUBLK_SG_QSIZE);
		return -EIO;
	}
	size = (u64)es_rd(edu, ES_MEDIUM_SIZE_HI) << 32 |
	       es_rd(edu, ES_MEDIUM_SIZE_LO);
	if (!size || size & (SECTOR_SIZE - 1)) {
		dev_err(dev, "medium size %llu is not a positive multiple of %u\n",
			size, SECTOR_SIZE);
		return -EIO;
	}
	edu->capacity = size;
	edu->dma_bits = es_rd(edu, ES_DMA_BITS);
	if (edu->dma_bits < 24 || edu->dma_bits > 64) {
		dev_err(dev, "DMA_BITS reads %u; this driver needs 24..64\n",
			edu->dma_bits);
		return -EIO;
	}
	edu->dma_limit = DMA_BIT_MASK(edu->dma_bits);
	return 0;
}

static int edublk_sg_read_xfer_limits(struct edublk_dev *edu,
				      struct edublk_sg *sg)
{
	struct device *dev = &edu->pdev->dev;
	u32 pages;

	sg->max_elems = es_rd(edu, ES_MAX_ELEMS);
	sg->max_elem_len = es_rd(edu, ES_MAX_ELEM_LEN);
	sg->max_xfer = es_rd(edu, ES_MAX_XFER);
	/* Every page of a request may become its own element. */
	if (sg->max_elems < 2 || sg->max_elem_len < PAGE_SIZE ||
	    sg->max_xfer < PAGE_SIZE) {
		dev_err(dev, "limits too small: %u elements of at most %u bytes, %u bytes per command; needs 2, %lu and %lu\n",
			sg->max_elems, sg->max_elem_len, sg->max_xfer,
			PAGE_SIZE, PAGE_SIZE);
		return -EIO;
	}
	/*
	 * A transfer of N bytes may touch N / PAGE_SIZE + 1 pages, each an
	 * element: keep that within MAX_ELEMS, and a power of two so large
	 * sequential I/O splits evenly.
	 */
	pages = min3(sg->max_elems - 1, sg->max_xfer >> PAGE_SHIFT,
		     (u32)(EDUBLK_SG_MAX_TRANSFER >> PAGE_SHIFT));
	sg->max_transfer = rounddown_pow_of_two(pages) << PAGE_SHIFT;
	sg->tbl_elems = (sg->max_transfer >> PAGE_SHIFT) + 1;
	return 0;
}

/*
 * The native modes' own state. mode=native with the iterator (6.17 and
 * later) takes a pool of range arrays for requests of more segments than
 * the PDU keeps, one array in reserve so such requests progress when
 * kmalloc fails (blk-mq gives a request at most tbl_elems segments). The
 * sg_table modes chain their tables from the kernel's sg pools, so they
 * need CONFIG_SG_POOL (native before 6.17 cannot build without it).
 */
static int edublk_sg_native_init(struct edublk_sg *sg)
{
	struct edublk_dev *edu = &sg->edu;

	if (!edublk_mode_is_native(edu->mode))
		return 0;
	if (edublk_mode_uses_sgt(edu->mode)) {
		if (IS_ENABLED(CONFIG_SG_POOL))
			return 0;
		dev_err(&edu->pdev->dev,
			"mode=%s needs a kernel with CONFIG_SG_POOL (selected by SCSI, NVMe or virtio-blk)\n",
			edublk_mode_names[edu->mode]);
		return -EINVAL;
	}
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	sg->native_max_ranges = sg->tbl_elems;
	sg->native_pool =
		mempool_create_kmalloc_pool(1, sg->native_max_ranges *
					    sizeof(struct edublk_native_range));
	if (!sg->native_pool) {
		dev_err(&edu->pdev->dev,
			"mode=native: no memory for a reserve array of %u DMA ranges\n",
			sg->native_max_ranges);
		return -ENOMEM;
	}
#endif
	return 0;
}

static void edublk_sg_native_exit(struct edublk_sg *sg)
{
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	mempool_destroy(sg->native_pool);	/* NULL unless mode=native */
#endif
}

static void edublk_sg_free_queues(struct edublk_dev *edu)
{
	struct device *dev = &edu->pdev->dev;
	struct edublk_sg *sg = to_edublk_sg(edu);
	size_t tables = (size_t)EDUBLK_QUEUE_DEPTH * sg->tbl_elems *
			sizeof(struct edusg_elem);
	unsigned int i;

	for (i = 0; i < sg->nq; i++) {
		struct edublk_sgq *q = &sg->q[i];

		if (q->tables)
			dma_free_coherent(dev, tables, q->tables, q->tables_dma);
		if (q->cq)
			dma_free_coherent(dev, EDUBLK_SG_QSIZE * sizeof(*q->cq),
					  q->cq, q->cq_dma);
		if (q->sq)
			dma_free_coherent(dev, EDUBLK_SG_QSIZE * sizeof(*q->sq),
					  q->sq, q->sq_dma);
	}
}

/*
 * Rings and element tables, in memory the device reaches (the coherent mask
 * edublk_set_dma_masks() set).
 */
static int edublk_sg_alloc_queues(struct edublk_dev *edu)
{
	struct device *dev = &edu->pdev->dev;
	struct edublk_sg *sg = to_edublk_sg(edu);
	size_t tables = (size_t)EDUBLK_QUEUE_DEPTH * sg->tbl_elems *
			sizeof(struct edusg_elem);
	unsigned int i;

	BUILD_BUG_ON(EDUBLK_SG_QSIZE - 1 <= EDUBLK_QUEUE_DEPTH);
	for (i = 0; i < sg->nq; i++) {
		struct edublk_sgq *q = &sg->q[i];

		q->edu = edu;
		q->qid = i;
		q->phase = true;
		spin_lock_init(&q->lock);
		/* Coherent memory is page aligned: 64-byte ring alignment. */
		q->sq = dma_alloc_coherent(dev, EDUBLK_SG_QSIZE * sizeof(*q->sq),
					   &q->sq_dma, GFP_KERNEL);
		q->cq = dma_alloc_coherent(dev, EDUBLK_SG_QSIZE * sizeof(*q->cq),
					   &q->cq_dma, GFP_KERNEL);
		q->tables = dma_alloc_coherent(dev, tables, &q->tables_dma,
					       GFP_KERNEL);
		if (!q->sq || !q->cq || !q->tables) {
			dev_err(dev, "q%u: no memory for rings and %zu bytes of element tables within %u address bits\n",
				i, tables, edu->dma_bits);
			edublk_sg_free_queues(edu);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Configure and enable every queue; the device was just reset. */
static int edublk_sg_enable_queues(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i;

	edublk_sg_setup_device(edu);
	for (i = 0; i < sg->nq; i++) {
		u32 st = edublk_sg_enable_queue(edu, &sg->q[i]);

		if (st != ESQ_ST_ENABLED) {
			dev_err(&edu->pdev->dev,
				"q%u: enable failed: STATUS %#x, ERROR %u\n", i,
				st, es_rd(edu, ES_Q(i, ESQ_ERROR)));
			return -EIO;
		}
	}
	return 0;
}

static void edublk_sg_free_irqs(struct edublk_dev *edu, unsigned int nr)
{
	struct edublk_sg *sg = to_edublk_sg(edu);

	if (!sg->msix) {
		if (nr)
			free_irq(pci_irq_vector(edu->pdev, 0), edu);
		return;
	}
	while (nr--)
		free_irq(pci_irq_vector(edu->pdev, nr), &sg->q[nr]);
}

/*
 * ops->map_queues: with a vector per queue, each hardware queue serves the
 * CPUs its vector's affinity names; else blk-mq's own spread.
 */
static void edublk_sg_map_queues(struct edublk_dev *edu,
				 struct blk_mq_queue_map *qmap)
{
	if (to_edublk_sg(edu)->msix)
		wdmdma_blk_mq_pci_map_queues(qmap, edu->pdev);
	else
		blk_mq_map_queues(qmap);
}

/* MSI-X with a vector per queue, else one MSI or INTx vector. */
static int edublk_sg_setup_irqs(struct edublk_dev *edu)
{
	struct pci_dev *pdev = edu->pdev;
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i;
	int ret = -ENODEV;

	/*
	 * Managed affinity spreads the queues' vectors over the CPUs as
	 * blk-mq spreads its hardware queues (edublk_sg_map_queues()), so a
	 * request completes on a CPU that submits to its queue.
	 */
	if (edublk_use_msi)
		ret = pci_alloc_irq_vectors(pdev, sg->nq_irq, sg->nq_irq,
					    PCI_IRQ_MSIX | PCI_IRQ_AFFINITY);
	if (ret < 0)
		ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_INTX |
					    (edublk_use_msi ? PCI_IRQ_MSI : 0));
	if (ret < 0) {
		dev_err(&pdev->dev, "no interrupt vectors: %d\n", ret);
		return ret;
	}
	sg->msix = pdev->msix_enabled;
	edu->msi = pdev->msix_enabled || pdev->msi_enabled;
	sg->irq_mode = pdev->msix_enabled ? "msix" :
		       pdev->msi_enabled ? "msi" : "intx";

	if (!sg->msix) {
		ret = request_irq(pci_irq_vector(pdev, 0), edublk_sg_irq_shared,
				  IRQF_SHARED, KBUILD_MODNAME, edu);
		if (ret)
			goto free_vectors;
		return 0;
	}
	for (i = 0; i < sg->nq_irq; i++) {
		struct edublk_sgq *q = &sg->q[i];

		snprintf(q->irq_name, sizeof(q->irq_name), "%s-q%u",
			 dev_name(&pdev->dev), i);
		ret = request_irq(pci_irq_vector(pdev, i), edublk_sg_irq_queue,
				  0, q->irq_name, q);
		if (ret) {
			edublk_sg_free_irqs(edu, i);
			goto free_vectors;
		}
	}
	return 0;

free_vectors:
	dev_err(&pdev->dev, "cannot request the %s interrupt: %d\n",
		sg->irq_mode, ret);
	pci_free_irq_vectors(pdev);
	return ret;
}

/**
 * edublk_sg_probe() - ops->probe: bind to an edu-sg device
 * @edu: the device, its BAR0 mapped
 *
 * Return: 0, or a negative errno with everything undone.
 */
static int edublk_sg_probe(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct pci_dev *pdev = edu->pdev;
	struct device *dev = &pdev->dev;
	struct wdmdma_desc desc = {
		.scatter_gather = true,
		.nr_reserve = EDUBLK_NR_RESERVE,
	};
	struct queue_limits lim = {
		.logical_block_size = SECTOR_SIZE,
		/* Windows-MDL shape: whole pages inside a request */
		.virt_boundary_mask = PAGE_SIZE - 1,
	};
	unsigned int nq;
	u32 max_rq;
	int ret;

	ret = edublk_sg_read_limits(edu, &nq);
	if (ret)
		return ret;
	/* Polled queues first taken from the device's, then one per CPU. */
	edu->nr_poll_queues = min(edublk_sg_poll_queues, nq - 1);
	sg->nq_irq = min_t(unsigned int, nq - edu->nr_poll_queues,
			   nr_cpu_ids);
	nq = sg->nq_irq + edu->nr_poll_queues;
	sg->q = kcalloc(nq, sizeof(*sg->q), GFP_KERNEL);
	if (!sg->q)
		return -ENOMEM;
	sg->nq = nq;
	sg->v11 = (es_rd(edu, ES_VERSION) & 0xffff) >= 1;
	/* 1.2: DISCARD and WRITE_ZEROES */
	edu->discard = (es_rd(edu, ES_VERSION) & 0xffff) >= 2;
	/* 1.3: INT_COALESCE; both parameters needed, as the device does */
	if (edublk_sg_coalesce_n > 1 && edublk_sg_coalesce_us) {
		if ((es_rd(edu, ES_VERSION) & 0xffff) >= 3)
			sg->coalesce = edublk_sg_coalesce_n |
				       edublk_sg_coalesce_us << 16;
		else
			dev_warn(dev, "irq_coalesce ignored: the device has no INT_COALESCE (version 1.3)\n");
	} else if (edublk_sg_coalesce_n || edublk_sg_coalesce_us) {
		dev_warn(dev, "interrupt coalescing stays off: it needs irq_coalesce >= 2 and irq_coalesce_us >= 1 (%u and %u given)\n",
			 edublk_sg_coalesce_n, edublk_sg_coalesce_us);
	}
	ret = edublk_sg_read_xfer_limits(edu, sg);
	if (ret)
		goto free_sg;
	ret = edublk_set_dma_masks(edu);
	if (ret)
		goto free_sg;
	sg->max_map = dma_max_mapping_size(dev);
	sg->latency_ns = es_rd(edu, ES_LATENCY_NS_LO) |
			 (u64)es_rd(edu, ES_LATENCY_NS_HI) << 32;
	sg->timeout = edublk_sg_io_timeout ? edublk_sg_io_timeout * HZ :
		      EDUBLK_SG_TIMEOUT + 2 * nsecs_to_jiffies(sg->latency_ns);
	/* Nothing of a previous owner may remain: queues off, no interrupt. */
	es_wr(edu, ES_DEV_CTRL, ES_DEV_CTRL_RESET);
	pci_set_master(pdev);

	/*
	 * Merged DMA segments must fit an element (PCI devices have
	 * dma_parms, so this cannot fail; it returns void since 6.12, and
	 * edublk_sg_list_ok() checks every element anyway).
	 */
	dma_set_max_seg_size(dev, min(sg->max_elem_len, sg->max_transfer));
	desc.dma_width = edu->dma_bits;
	desc.max_transfer = sg->max_transfer;
	desc.max_waiters = nq * EDUBLK_QUEUE_DEPTH;
	edu->adapter = wdmdma_create_adapter(dev, &desc, &edu->nr_map_registers);
	if (IS_ERR(edu->adapter)) {
		ret = PTR_ERR(edu->adapter);
		dev_err(dev, "cannot create the DMA adapter: %d\n", ret);
		goto clear_master;
	}
	ret = wdmdma_calculate_sg_list(edu->adapter, NULL,
				       (void *)(PAGE_SIZE - 1), sg->max_transfer,
				       &edu->max_list_size, NULL);
	if (ret)
		goto destroy_adapter;
	if (edu->mode == EDUBLK_MODE_RESERVE) {
		ret = edublk_alloc_emergency(edu, edublk_emergency_param);
		if (ret)
			goto destroy_adapter;
	}
	ret = edublk_sg_native_init(sg);
	if (ret)
		goto free_emergency;
	ret = edublk_sg_alloc_queues(edu);
	if (ret)
		goto native_exit;
	ret = edublk_sg_setup_irqs(edu);
	if (ret)
		goto free_queues;
	ret = edublk_sg_enable_queues(edu);
	if (ret)
		goto reset_device;

	ret = edublk_index_alloc();
	if (ret < 0)
		goto reset_device;
	edu->index = ret;
	pci_set_drvdata(pdev, edu);
	/*
	 * The native modes bounce through swiotlb, which maps at most
	 * dma_max_mapping_size() in one piece: like NVMe, keep requests (so
	 * every segment) within it, else large contiguous segments never map.
	 */
	max_rq = sg->max_transfer;
	if (edublk_mode_is_native(edu->mode) && sg->max_map < max_rq)
		max_rq = sg->max_map < PAGE_SIZE ? PAGE_SIZE :
			 rounddown_pow_of_two(sg->max_map);
	lim.max_hw_sectors = max_rq >> SECTOR_SHIFT;
	lim.max_segments = min(edu->nr_map_registers, sg->tbl_elems);
	if (edu->discard) {
		/* One range per command, as long as a transfer. */
		lim.max_hw_discard_sectors = sg->max_xfer >> SECTOR_SHIFT;
		lim.max_write_zeroes_sectors = sg->max_xfer >> SECTOR_SHIFT;
		lim.discard_granularity = SECTOR_SIZE;
	}
	if (edublk_mode_is_native(edu->mode)) {
		/*
		 * Plain Linux needs no MDL shape: the block layer splits
		 * requests into segments of at most an element, so that
		 * neither blk_rq_map_sg() nor the iterator merges pages past
		 * MAX_ELEM_LEN (a virt_boundary_mask would lift
		 * max_segment_size to UINT_MAX).
		 */
		lim.virt_boundary_mask = 0;
		lim.max_segment_size = min(sg->max_elem_len, max_rq);
		lim.max_segments = sg->tbl_elems;
	}
	/* A file-backed medium is durable only after FLUSH or FUA. */
	edu->write_cache = true;
	/* What slot_reset restores after a PCI error's link reset. */
	pci_save_state(pdev);
	ret = edublk_add_disk(edu, &lim, nq, sg->timeout);
	if (ret)
		goto free_index;
	edublk_debugfs_add(edu);

	if (edu->nr_poll_queues)
		dev_info(dev, "%s: %u of its queues polled, no interrupt\n",
			 edu->disk->disk_name, edu->nr_poll_queues);
	dev_info(dev, "%s: edu-sg, %llu MiB, %u queues, %s, %u-bit DMA, %u KiB per request, mode %s\n",
		 edu->disk->disk_name, edu->capacity >> 20, nq, sg->irq_mode,
		 edu->dma_bits, max_rq >> 10,
		 edublk_mode_names[edu->mode]);
	return 0;

free_index:
	edublk_index_free(edu->index);
reset_device:
	es_wr(edu, ES_DEV_CTRL, ES_DEV_CTRL_RESET);
	es_rd(edu, ES_ID);
	edublk_sg_free_irqs(edu, sg->msix ? sg->nq_irq : 1);
	pci_free_irq_vectors(pdev);
free_queues:
	edublk_sg_free_queues(edu);
native_exit:
	edublk_sg_native_exit(sg);
free_emergency:
	if (edu->mode == EDUBLK_MODE_RESERVE)
		edublk_free_emergency(edu);
destroy_adapter:
	wdmdma_destroy_adapter(edu->adapter);
clear_master:
	pci_clear_master(pdev);
free_sg:
	kfree(sg->q);
	return ret;
}

/*
 * The device will not come back from a PCI error (a permanent failure,
 * or removed while stopped for one): if a PCI error stopped the disk, the
 * held commands fail with the device given up (@why), and the disk runs
 * again, failing what comes. Returns false if no PCI error had stopped it.
 */
static bool edublk_sg_aer_abandon(struct edublk_dev *edu, const char *why)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned long flags;

	flags = edublk_sg_lock_all(sg);
	if (!sg->aer_stopped) {
		edublk_sg_unlock_all(sg, flags);
		return false;
	}
	sg->aer_stopped = false;
	sg->resetting = false;
	edublk_sg_unlock_all(sg, flags);
	edublk_sg_gone(edu, why);
	wdmdma_blk_mq_unquiesce_queue(edu->disk->queue);
	return true;
}

/**
 * edublk_sg_remove() - ops->remove: unbind from an edu-sg device
 * @edu: the device
 *
 * Drains I/O (del_gendisk), then stops the device before freeing what it
 * could reach.
 */
static void edublk_sg_remove(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	struct pci_dev *pdev = edu->pdev;

	edublk_debugfs_remove(edu);
	/* Held by a PCI error's stop: the device will not come back. */
	edublk_sg_aer_abandon(edu, "removed during PCI error recovery");
	/* A device that is gone completes nothing: fail its I/O, not wait. */
	if (!pci_device_is_present(pdev))
		edublk_sg_gone(edu, EDUBLK_SG_ALL_ONES);
	edublk_remove_disk(edu);	/* drains all I/O */
	flush_work(&edu->fail_work);
	edublk_index_free(edu->index);
	es_wr(edu, ES_DEV_CTRL, ES_DEV_CTRL_RESET);
	es_rd(edu, ES_ID);	/* the reset has landed: no more DMA */
	edublk_sg_free_irqs(edu, sg->msix ? sg->nq_irq : 1);
	pci_free_irq_vectors(pdev);
	edublk_sg_free_queues(edu);
	edublk_sg_native_exit(sg);
	if (edu->mode == EDUBLK_MODE_RESERVE)
		edublk_free_emergency(edu);
	wdmdma_destroy_adapter(edu->adapter);
	pci_clear_master(pdev);
	kfree(sg->q);
}

/* Wait for the interrupt handlers running now (process context). */
static void edublk_sg_sync_irqs(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i, nr = sg->msix ? sg->nq_irq : 1;

	for (i = 0; i < nr; i++)
		synchronize_irq(pci_irq_vector(edu->pdev, i));
}

/*
 * Stop for a reset of the function: new requests wait (the disk is
 * quiesced); with @touch the device is reset here, so it does no DMA
 * while its configuration is saved and it is reset again (not when a PCI
 * error froze its channel: its registers cannot be reached then, and the
 * link reset that follows stops it). What it completed until then is
 * taken. The commands still in flight stay, for edublk_sg_restart_all()
 * to post again; until then (sg->resetting) a list that wdmdma maps is
 * written to its ring without the doorbell, and the interrupt handlers
 * and the timeout leave the device alone. A device given up or gone is
 * left alone. @why names the reset in the log. Process context.
 */
static void edublk_sg_stop(struct edublk_dev *edu, bool touch,
			   const char *why)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i, held = 0;
	unsigned long flags;
	LIST_HEAD(done);

	blk_mq_quiesce_queue(edu->disk->queue);
	flags = edublk_sg_lock_all(sg);
	sg->resetting = true;
	if (!sg->gone && !READ_ONCE(edu->dead)) {
		if (touch)
			edublk_sg_reset_device(edu);
		for (i = 0; i < sg->nq; i++) {
			edublk_sg_drain(&sg->q[i], &done, false);
			held += sg->q[i].nr_inflight;
		}
	}
	edublk_sg_unlock_all(sg, flags);
	dev_info(&edu->pdev->dev, "%s: the device is stopped, %u commands in flight\n",
		 why, held);
	/* A handler that began before sg->resetting was set has ended. */
	edublk_sg_sync_irqs(edu);
	edublk_sg_end(edu, &done);
}

/**
 * edublk_sg_reset_prepare() - ops->reset_prepare: stop for a reset
 * @edu: the device
 *
 * The PCI core calls this before it resets the function (sysfs "reset",
 * pci_reset_function()), with the device still usable: edublk_sg_stop(),
 * the device reset here; nothing if a PCI error has stopped the disk
 * already. Process context.
 */
static void edublk_sg_reset_prepare(struct edublk_dev *edu)
{
	/* Stopped for a PCI error already: its resume starts the disk. */
	if (READ_ONCE(to_edublk_sg(edu)->aer_stopped))
		return;
	edublk_sg_stop(edu, true, "function reset");
}

/*
 * Use the device again after a reset of the function, its configuration
 * (BARs, bus mastering, MSI/MSI-X) restored: every queue is set up afresh
 * and its commands in flight posted again; a queue that will not enable
 * fails its commands. A device that did not come back is gone
 * (edublk_sg_gone()); one given up before stays so, bus mastering off.
 * Then the disk runs again. @why names the reset in the log; @count is
 * the counter of such resets (all locks). Process context.
 */
static void edublk_sg_restart_all(struct edublk_dev *edu, const char *why,
				  u64 *count)
{
	struct device *dev = &edu->pdev->dev;
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i, reposted = 0, dead_queues = 0;
	bool present = pci_device_is_present(edu->pdev), dead;
	unsigned long flags;
	LIST_HEAD(done);

	flags = edublk_sg_lock_all(sg);
	dead = sg->gone || READ_ONCE(edu->dead);
	if (!dead && present) {
		(*count)++;
		edublk_sg_setup_device(edu);
		for (i = 0; i < sg->nq; i++) {
			struct edublk_sgq *q = &sg->q[i];
			blk_status_t others = BLK_STS_OK;

			edublk_sg_ring_reset(q);
			q->stuck = 0;
			if (!q->dead &&
			    edublk_sg_enable_queue(edu, q) != ESQ_ST_ENABLED) {
				q->dead = true;
				dead_queues++;
			}
			if (q->dead)
				others = BLK_STS_IOERR;
			else
				reposted += q->nr_inflight;
			edublk_sg_requeue(q, NULL, others, &done);
		}
	}
	sg->resetting = false;
	edublk_sg_unlock_all(sg, flags);
	if (dead) {
		/* Given up or gone before: the restored state had it on. */
		pci_clear_master(edu->pdev);
	} else if (!present) {
		edublk_sg_gone(edu, EDUBLK_SG_ALL_ONES);
	} else {
		if (dead_queues)
			dev_err(dev, "%u queues would not enable after the %s: failing their I/O\n",
				dead_queues, why);
		else
			dev_info(dev, "%s: %u commands in flight posted again\n",
				 why, reposted);
		/*
		 * A reposted command may have completed before resetting
		 * was cleared, its MSI or INTx dropped by the shared handler:
		 * ack and look at every queue once.
		 */
		if (!sg->msix) {
			u32 st = es_rd(edu, ES_INT_STATUS);

			if (st && st != U32_MAX)
				es_wr(edu, ES_INT_ACK, st);
		}
		for (i = 0; i < sg->nq; i++)
			edublk_sg_service(&sg->q[i]);
	}
	edublk_sg_end(edu, &done);
	wdmdma_blk_mq_unquiesce_queue(edu->disk->queue);
}

/**
 * edublk_sg_reset_done() - ops->reset_done: use the device again
 * @edu: the device
 *
 * The PCI core calls this once the function is reset and its
 * configuration restored: the configuration is saved again for a later
 * PCI error, then edublk_sg_restart_all(). Not while a PCI error holds
 * the disk stopped: that error's resume restarts it. Process context.
 */
static void edublk_sg_reset_done(struct edublk_dev *edu)
{
	if (READ_ONCE(to_edublk_sg(edu)->aer_stopped))
		return;
	/* The PCI core's restore used up the state slot_reset needs. */
	if (pci_device_is_present(edu->pdev))
		pci_save_state(edu->pdev);
	edublk_sg_restart_all(edu, "function reset",
			      &to_edublk_sg(edu)->function_resets);
}

/*
 * Stop for a PCI error's reset, once: edublk_sg_stop() without a word to
 * the device, and sg->aer_stopped set for resume (or for
 * edublk_sg_aer_abandon()).
 */
static void edublk_sg_aer_stop(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned long flags;

	if (READ_ONCE(sg->aer_stopped))
		return;
	edublk_sg_stop(edu, false, "PCI error");
	flags = edublk_sg_lock_all(sg);
	sg->aer_stopped = true;
	edublk_sg_unlock_all(sg, flags);
}

/**
 * edublk_sg_error_detected() - ops->error_detected: a PCI error (AER)
 * @edu: the device
 * @state: the channel's state
 *
 * Normal (a non-fatal error): the device still works; a command it lost
 * times out as any other. Frozen: its registers cannot be reached until
 * the link is reset: the disk stops as for a function reset, without a
 * word to the device, holding its commands in flight, and asks for that
 * reset; slot_reset and resume follow. Permanent failure: the device is
 * given up (edublk_sg_gone()), its I/O failed at once, and the disk runs
 * again if a PCI error stopped it. Process context.
 *
 * Return: what the AER core is to do next.
 */
static pci_ers_result_t edublk_sg_error_detected(struct edublk_dev *edu,
						 pci_channel_state_t state)
{
	struct device *dev = &edu->pdev->dev;

	switch (state) {
	case pci_channel_io_normal:
		dev_warn(dev, "PCI error (non-fatal): carrying on\n");
		return PCI_ERS_RESULT_CAN_RECOVER;
	case pci_channel_io_frozen:
		dev_warn(dev, "PCI error: channel frozen: stopping for a reset\n");
		edublk_sg_aer_stop(edu);
		return PCI_ERS_RESULT_NEED_RESET;
	default:
		break;
	}
	dev_err(dev, "PCI error: permanent failure: giving the device up\n");
	if (!edublk_sg_aer_abandon(edu, "a permanent PCI error"))
		edublk_sg_gone(edu, "a permanent PCI error");
	return PCI_ERS_RESULT_DISCONNECT;
}

/**
 * edublk_sg_slot_reset() - ops->slot_reset: the link has been reset
 * @edu: the device
 *
 * Stops the disk if error_detected did not (another device under the
 * link asked for the reset), restores the configuration saved at probe
 * (the link reset lost it) and saves it again for the next time. The
 * queues start in resume. Process context.
 *
 * Return: PCI_ERS_RESULT_RECOVERED, or PCI_ERS_RESULT_DISCONNECT if the
 * device did not come back.
 */
static pci_ers_result_t edublk_sg_slot_reset(struct edublk_dev *edu)
{
	struct pci_dev *pdev = edu->pdev;

	edublk_sg_aer_stop(edu);
	if (!pci_device_is_present(pdev)) {
		dev_err(&pdev->dev, "PCI error: the device did not come back after the reset\n");
		return PCI_ERS_RESULT_DISCONNECT;
	}
	pci_restore_state(pdev);
	pci_save_state(pdev);
	return PCI_ERS_RESULT_RECOVERED;
}

/**
 * edublk_sg_resume() - ops->resume: use the device again after a PCI error
 * @edu: the device
 *
 * If a PCI error stopped the disk, edublk_sg_restart_all(): the commands
 * held since are posted again. After a non-fatal error nothing stopped:
 * nothing to do. Process context.
 */
static void edublk_sg_resume(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned long flags;
	bool stopped;

	flags = edublk_sg_lock_all(sg);
	stopped = sg->aer_stopped;
	sg->aer_stopped = false;
	edublk_sg_unlock_all(sg, flags);
	if (stopped)
		edublk_sg_restart_all(edu, "PCI error recovery",
				      &sg->aer_recoveries);
}

/**
 * edublk_sg_shutdown() - ops->shutdown: stop the device's DMA for good
 * @edu: the device
 *
 * Power-off, reboot or kexec: the device is reset, so it does no more DMA
 * into memory the next kernel may own, and bus mastering is turned off.
 * The commands in flight fail with BLK_STS_IOERR, as does every later
 * request (the device is given up): nothing may wait on it any more.
 */
static void edublk_sg_shutdown(struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i, failed = 0;
	unsigned long flags;
	LIST_HEAD(done);

	flags = edublk_sg_lock_all(sg);
	sg->resetting = true;
	WRITE_ONCE(edu->dead, true);
	if (!sg->gone)
		edublk_sg_reset_device(edu);
	for (i = 0; i < sg->nq; i++) {
		struct edublk_sgq *q = &sg->q[i];

		q->dead = true;
		failed += q->nr_inflight;
		edublk_sg_requeue(q, NULL, BLK_STS_IOERR, &done);
	}
	edublk_sg_unlock_all(sg, flags);
	pci_clear_master(edu->pdev);
	if (failed)
		dev_warn(&edu->pdev->dev, "shutdown: %u commands in flight failed\n",
			 failed);
	edublk_sg_end(edu, &done);
}

/*
 * The device's fault-injection registers (qemu/edu-sg/REGISTERS.md), for
 * the guest checks: dev_fail_every, dev_drop_every, dev_halt_after,
 * dev_latency_ns and dev_bad_cqe read and write FAIL_EVERY, DROP_EVERY,
 * HALT_AFTER, LATENCY_NS_LO/_HI and BAD_CQE, and dev_vanish_ms writes
 * VANISH_MS, so a test can make the device faulty while I/O runs. The
 * driver reads the latency once, at probe, for its timeout. A latency over
 * 60 s is refused by the device (it keeps the old one: read it back).
 */
static int edublk_sg_reg_get(struct edublk_dev *edu, unsigned int off,
			     u64 *val)
{
	*val = es_rd(edu, off);
	return 0;
}

static int edublk_sg_reg_set(struct edublk_dev *edu, unsigned int off,
			     u64 val)
{
	if (val > U32_MAX)
		return -EINVAL;
	es_wr(edu, off, val);
	/* A device without x-fault-regs=on ignores the write. */
	return es_rd(edu, off) == val ? 0 : -EINVAL;
}

static int dev_fail_every_get(void *data, u64 *val)
{
	return edublk_sg_reg_get(data, ES_FAIL_EVERY, val);
}

static int dev_fail_every_set(void *data, u64 val)
{
	return edublk_sg_reg_set(data, ES_FAIL_EVERY, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(dev_fail_every_fops, dev_fail_every_get,
			 dev_fail_every_set, "%llu\n");

static int dev_drop_every_get(void *data, u64 *val)
{
	return edublk_sg_reg_get(data, ES_DROP_EVERY, val);
}

static int dev_drop_every_set(void *data, u64 val)
{
	return edublk_sg_reg_set(data, ES_DROP_EVERY, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(dev_drop_every_fops, dev_drop_every_get,
			 dev_drop_every_set, "%llu\n");

static int dev_halt_after_get(void *data, u64 *val)
{
	return edublk_sg_reg_get(data, ES_HALT_AFTER, val);
}

static int dev_halt_after_set(void *data, u64 val)
{
	return edublk_sg_reg_set(data, ES_HALT_AFTER, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(dev_halt_after_fops, dev_halt_after_get,
			 dev_halt_after_set, "%llu\n");

static int dev_bad_cqe_get(void *data, u64 *val)
{
	return edublk_sg_reg_get(data, ES_BAD_CQE, val);
}

static int dev_bad_cqe_set(void *data, u64 val)
{
	return edublk_sg_reg_set(data, ES_BAD_CQE, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(dev_bad_cqe_fops, dev_bad_cqe_get, dev_bad_cqe_set,
			 "%#llx\n");

/*
 * The device acts as if pulled out for @val ms (VANISH_MS), then comes
 * back PCI-reset: a surprise removal for the guest checks. It worked if
 * the device now reads all ones.
 */
static int dev_vanish_ms_set(void *data, u64 val)
{
	struct edublk_dev *edu = data;

	if (!val || val > U32_MAX)
		return -EINVAL;
	es_wr(edu, ES_VANISH_MS, val);
	if (es_rd(edu, ES_ID) == U32_MAX)
		return 0;
	dev_warn(&edu->pdev->dev,
		 "VANISH_MS %llu refused: the device needs x-fault-regs=on and version 1.1, and takes 1..600000 ms\n",
		 val);
	return -EINVAL;
}
DEFINE_DEBUGFS_ATTRIBUTE(dev_vanish_ms_fops, NULL, dev_vanish_ms_set,
			 "%llu\n");

static int dev_latency_get(void *data, u64 *val)
{
	struct edublk_dev *edu = data;

	*val = es_rd(edu, ES_LATENCY_NS_LO) |
	       (u64)es_rd(edu, ES_LATENCY_NS_HI) << 32;
	return 0;
}

/*
 * Low half to 0, high half, low half: no value in between exceeds both the
 * old and the new latency, so none trips the device's 60 s bound unless
 * the new one does, which the read-back then reports.
 */
static int dev_latency_set(void *data, u64 val)
{
	struct edublk_dev *edu = data;
	u64 now;

	es_wr(edu, ES_LATENCY_NS_LO, 0);
	es_wr(edu, ES_LATENCY_NS_HI, upper_32_bits(val));
	es_wr(edu, ES_LATENCY_NS_LO, lower_32_bits(val));
	dev_latency_get(edu, &now);
	return now == val ? 0 : -EINVAL;
}
DEFINE_DEBUGFS_ATTRIBUTE(dev_latency_fops, dev_latency_get, dev_latency_set,
			 "%llu\n");

/**
 * edublk_sg_debugfs_add() - ops->debugfs_add: the edu-sg files
 * @edu: the device
 * @dir: its directory
 */
static void edublk_sg_debugfs_add(struct edublk_dev *edu, struct dentry *dir)
{
	debugfs_create_file_unsafe("dev_fail_every", 0600, dir, edu,
				   &dev_fail_every_fops);
	debugfs_create_file_unsafe("dev_drop_every", 0600, dir, edu,
				   &dev_drop_every_fops);
	debugfs_create_file_unsafe("dev_halt_after", 0600, dir, edu,
				   &dev_halt_after_fops);
	debugfs_create_file_unsafe("dev_latency_ns", 0600, dir, edu,
				   &dev_latency_fops);
	debugfs_create_file_unsafe("dev_bad_cqe", 0600, dir, edu,
				   &dev_bad_cqe_fops);
	debugfs_create_file_unsafe("dev_vanish_ms", 0200, dir, edu,
				   &dev_vanish_ms_fops);
}

/* A STAT_* register of the device, or 0 once it is gone. */
static u32 edublk_sg_stat(struct edublk_dev *edu, unsigned int off)
{
	return READ_ONCE(to_edublk_sg(edu)->gone) ? 0 : es_rd(edu, off);
}

/**
 * edublk_sg_debugfs_show() - ops->debugfs_show: edu-sg's part of "stats"
 * @m: the seq_file
 * @edu: the device
 */
static void edublk_sg_debugfs_show(struct seq_file *m,
				   struct edublk_dev *edu)
{
	struct edublk_sg *sg = to_edublk_sg(edu);
	unsigned int i;

	seq_puts(m, "device edu-sg\n");
	seq_printf(m, "irq_mode %s\n", sg->irq_mode);
	seq_printf(m, "queues %u\n", sg->nq);
	seq_printf(m, "max_transfer %u\n", sg->max_transfer);
	seq_printf(m, "max_elem_len %u\n", sg->max_elem_len);
	seq_printf(m, "latency_ns %llu\n", sg->latency_ns);
	seq_printf(m, "io_timeout_ms %u\n", jiffies_to_msecs(sg->timeout));
	seq_printf(m, "resets %llu\n", READ_ONCE(sg->resets));
	seq_printf(m, "function_resets %llu\n", READ_ONCE(sg->function_resets));
	seq_printf(m, "aer_recoveries %llu\n", READ_ONCE(sg->aer_recoveries));
	/*
	 * The device's counters, over its controller resets too; those it
	 * had when it went away are lost with it.
	 */
	seq_printf(m, "dev_cmds %llu\n",
		   READ_ONCE(sg->dev_cmds) + edublk_sg_stat(edu, ES_STAT_CMDS));
	seq_printf(m, "dev_errors %llu\n", READ_ONCE(sg->dev_errors) +
		   edublk_sg_stat(edu, ES_STAT_ERRORS));
	seq_printf(m, "dev_dropped %llu\n", READ_ONCE(sg->dev_dropped) +
		   edublk_sg_stat(edu, ES_STAT_DROPPED));
	seq_printf(m, "dev_injected %llu\n", READ_ONCE(sg->dev_injected) +
		   edublk_sg_stat(edu, ES_STAT_INJECTED));
	seq_printf(m, "dev_bad_cqes %llu\n", READ_ONCE(sg->dev_bad_cqes) +
		   (sg->v11 ? edublk_sg_stat(edu, ES_STAT_BAD_CQES) : 0));
	/* What the device holds (0 if the driver never wrote it). */
	seq_printf(m, "dev_int_coalesce %#x\n",
		   sg->coalesce ? edublk_sg_stat(edu, ES_INT_COALESCE) : 0);
	if (edublk_mode_is_native(edu->mode)) {
		/* What maps a request of several segments: iter or sgt. */
		seq_printf(m, "native_map %s\n",
			   edublk_mode_uses_sgt(edu->mode) ? "sgt" : "iter");
		seq_printf(m, "native_single %ld\n",
			   atomic_long_read(&sg->native_single));
		seq_printf(m, "native_sgt %ld\n",
			   atomic_long_read(&sg->native_sgt));
		seq_printf(m, "native_sgt_segments %ld\n",
			   atomic_long_read(&sg->native_sgt_segs));
		seq_printf(m, "native_sgt_elements %ld\n",
			   atomic_long_read(&sg->native_sgt_elems));
		seq_printf(m, "native_iova %ld\n",
			   atomic_long_read(&sg->native_iova));
		seq_printf(m, "native_iova_segments %ld\n",
			   atomic_long_read(&sg->native_iova_segs));
		seq_printf(m, "native_iova_elements %ld\n",
			   atomic_long_read(&sg->native_iova_elems));
		seq_printf(m, "native_direct %ld\n",
			   atomic_long_read(&sg->native_direct));
		seq_printf(m, "native_direct_ranges %ld\n",
			   atomic_long_read(&sg->native_direct_ranges));
	}
	for (i = 0; i < sg->nq; i++) {
		struct edublk_sgq *q = &sg->q[i];
		struct edublk_sgq_stats st;
		unsigned long flags;
		unsigned int inflight;
		bool dead;

		spin_lock_irqsave(&q->lock, flags);
		st = q->stats;
		inflight = q->nr_inflight;
		dead = q->dead;
		spin_unlock_irqrestore(&q->lock, flags);
		seq_printf(m, "q%u posted %llu completed %llu dev_errors %llu timeouts %llu restarts %llu reposted %llu halts %llu bad_cqes %llu doorbells %llu inflight %u dead %d\n",
			   i, st.posted, st.completed, st.dev_errors,
			   st.timeouts, st.restarts, st.reposted, st.halts,
			   st.bad_cqes, st.doorbells, inflight, dead);
	}
}

const struct edublk_backend_ops edublk_sg_ops = {
	.dev_size = sizeof(struct edublk_sg),
	.bar0_min = ES_QEND,
	.probe = edublk_sg_probe,
	.remove = edublk_sg_remove,
	.shutdown = edublk_sg_shutdown,
	.reset_prepare = edublk_sg_reset_prepare,
	.reset_done = edublk_sg_reset_done,
	.error_detected = edublk_sg_error_detected,
	.slot_reset = edublk_sg_slot_reset,
	.resume = edublk_sg_resume,
	.map_queues = edublk_sg_map_queues,
	.cmd_size = edublk_sg_cmd_size,
	.start_cmd = edublk_sg_start_cmd,
	.commit = edublk_sg_commit,
	.poll = edublk_sg_poll,
	.list_ready = edublk_sg_list_ready,
	.queue_nodata = edublk_sg_queue_nodata,
	.native_queue = edublk_sg_native_queue,
	.native_unmap = edublk_sg_native_unmap,
	.timeout = edublk_sg_timeout,
	.debugfs_add = edublk_sg_debugfs_add,
	.debugfs_show = edublk_sg_debugfs_show,
};
