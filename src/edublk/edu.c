// SPDX-License-Identifier: GPL-2.0
/*
 * edublk backend for QEMU's stock edu device (PCI 1234:11e8).
 *
 * The edu has one 4 KiB buffer and one DMA engine without scatter/gather,
 * limited to 28-bit bus addresses. The disk's medium is memory this driver
 * owns and the device can reach (coherent chunks); every sector moves
 * between the request's pages and the medium through the edu's buffer by
 * real edu DMAs. The lists for the request side come from wdmdma, which
 * bounces through its map registers what the device cannot reach in one
 * element; the engine feeds them to the edu, one DMA at a time, advancing
 * from the completion interrupt.
 *
 * Every piece of a request moves in two edu DMAs through the device's
 * buffer at 0x40000, at most EDU_DMA_MAX bytes each:
 *   write: list element -> edu buffer, then edu buffer -> medium
 *   read:  medium -> edu buffer, then edu buffer -> list element
 * The CPU never copies data around the device.
 *
 * Locking: edu->lock (the core's, irq-safe) guards the ready list, the
 * active request, the device registers' DMA state and drop_irqs, as it
 * guards the core's emergency buffers and statistics. It is never held
 * while calling into wdmdma, so the list-control callback (which takes
 * it) may run inside Get/Build.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/timer.h>

#include "../compat.h"
#include "edublk.h"

#define CREATE_TRACE_POINTS
#include "edu_trace.h"

/* edu registers (BAR0) */
#define EDU_REG_ID		0x00
#define EDU_REG_LIVE		0x04	/* reads back the complement */
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID			0x010000ed
#define EDU_DMA_START		BIT(0)	/* also reads 1 while the DMA runs */
#define EDU_DMA_TO_RAM		BIT(1)	/* device buffer to RAM; 0: RAM to it */
#define EDU_DMA_IRQ		BIT(2)	/* raise EDU_IRQ_DMA when done */
#define EDU_IRQ_DMA		0x100

/*
 * The device buffer: 4 KiB at device address 0x40000. QEMU 7.2 checks the
 * range off by one and aborts the whole VM when a transfer's end reaches
 * 0x41000 (4096 bytes at 0x40000); newer QEMU accepts that. Every edu DMA
 * here starts at 0x40000 and moves at most 4032 bytes, so it ends at or
 * below 0x40fc0 on any version. (Each DMA costs 100 ms of virtual time,
 * so a piece near the buffer's size halves the DMAs that 2048 would need.)
 */
#define EDU_BUF_ADDR		0x40000
#define EDU_BUF_SIZE		4096
#define EDU_DMA_MAX		(EDU_BUF_SIZE - 64)

/*
 * One edu DMA takes 100 ms of QEMU virtual time. After this long without
 * its interrupt, a finished DMA counts as a lost interrupt; one that still
 * runs gets EDUBLK_DMA_HUNG_TRIES such periods before the device is fenced
 * (a TCG guest on a busy host can fall seconds behind).
 */
#define EDUBLK_DMA_TIMEOUT_MS	5000
#define EDUBLK_DMA_HUNG_TRIES	6

/*
 * Request size limit (wdmdma's max_transfer) and the size of one piece
 * of the medium; a transfer may cross from one piece into the next.
 */
#define EDUBLK_MAX_TRANSFER	SZ_64K
#define EDUBLK_CHUNK_SHIFT	16
#define EDUBLK_CHUNK_SIZE	SZ_64K

/* The edu's per-request data, after the core's in the PDU. */
struct edublk_edu_cmd {
	/* Progress: element, offset in it, medium position of the piece. */
	u32 elem;
	u32 elem_off;
	u64 pos;
	/* The piece in flight: two edu DMAs through the device buffer. */
	u64 ram;			/* bus address on the request side */
	dma_addr_t medium;		/* bus address on the medium side */
	u32 len;
	bool second_hop;
};

static_assert(__alignof__(struct edublk_edu_cmd) <=
	      __alignof__(struct edublk_cmd));

/* The edu's device data; the core's comes first. */
struct edublk_edu {
	struct edublk_dev edu;
	int irq;

	/* The medium: coherent chunks the device reaches. */
	unsigned int nr_chunks;
	void **chunk;
	dma_addr_t *chunk_dma;

	/* The device: one DMA at a time, advanced from the interrupt. */
	struct list_head ready;		/* mapped, waiting for the device */
	struct edublk_cmd *active;	/* the request the device works on */
	bool dma_busy;			/* an edu DMA is in flight */
	unsigned int dma_waits;		/* timeouts of this DMA while it ran */
	unsigned long deadline;
	struct timer_list timer;
	unsigned int drop_irqs;		/* debugfs: ignore this many completions */
};

static_assert(offsetof(struct edublk_edu, edu) == 0);

static struct edublk_edu *to_edublk_edu(struct edublk_dev *edu)
{
	return container_of(edu, struct edublk_edu, edu);
}

static struct edublk_edu_cmd *to_edublk_edu_cmd(struct edublk_cmd *cmd)
{
	return edublk_cmd_priv(cmd);
}

/* --- Module parameters -------------------------------------------------- */

/* The edu's default reach is 28 bits (-device edu,dma_mask=... changes it). */
static unsigned int dma_bits = 28;

EDUBLK_PARAM_UINT_RANGE(dma_bits, dma_bits, 28, 64);
MODULE_PARM_DESC(dma_bits,
		 "edu: DMA address width of the device, to match -device edu,dma_mask= (28..64, default: 28); edu-sg reports its own");

/*
 * 4 MiB by default: with a 28-bit device in a guest whose RAM reaches past
 * 2^28 the medium may have to come from ZONE_DMA (16 MiB on x86, shared
 * with wdmdma's map registers and others); and at one edu DMA (under
 * 4 KiB) per 100 ms of virtual time a whole-device test stays short.
 */
static unsigned int capacity_mb = 4;

EDUBLK_PARAM_UINT_RANGE(capacity_mb, capacity_mb, 1, 64);
MODULE_PARM_DESC(capacity_mb,
		 "edu: disk size in MiB, memory the device must reach (1..64, default: 4); edu-sg reports its medium's size");

/* --- The engine --------------------------------------------------------- */

/* Program one edu DMA and arm the timeout. Called with edu->lock held. */
static void edublk_edu_dma(struct edublk_edu *ed, u64 src, u64 dst, u32 len,
			   bool to_ram)
{
	struct edublk_dev *edu = &ed->edu;
	u32 cmd = EDU_DMA_START | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0);

	lockdep_assert_held(&edu->lock);
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_CNT);
	writeq(cmd, edu->regs + EDU_REG_DMA_CMD);
	trace_edublk_edu_dma(edu, src, dst, len, to_ram);
	ed->dma_busy = true;
	ed->dma_waits = 0;
	ed->deadline = jiffies + msecs_to_jiffies(EDUBLK_DMA_TIMEOUT_MS);
	mod_timer(&ed->timer, ed->deadline);
}

/* Is [addr, addr + len) inside what the device can address? */
static bool edublk_edu_reachable(struct edublk_dev *edu, u64 addr, u32 len)
{
	return len && addr + len - 1 >= addr && addr + len - 1 <= edu->dma_limit;
}

/*
 * Start the next piece of @cmd: its first hop, into the device buffer.
 * Called with edu->lock held. Returns false (and sets cmd->status) if the
 * piece cannot be handed to the device.
 */
static bool edublk_edu_start_piece(struct edublk_edu *ed,
				   struct edublk_cmd *cmd)
{
	struct edublk_dev *edu = &ed->edu;
	struct edublk_edu_cmd *ec = to_edublk_edu_cmd(cmd);
	const struct wdmdma_sg_element *el = &cmd->sgl->elements[ec->elem];
	u32 chunk_off = ec->pos & (EDUBLK_CHUNK_SIZE - 1);
	u64 chunk = ec->pos >> EDUBLK_CHUNK_SHIFT;
	u32 len;

	BUILD_BUG_ON(EDUBLK_CHUNK_SIZE != 1 << EDUBLK_CHUNK_SHIFT);
	/* The QEMU 7.2 erratum: never let a DMA end at 0x41000. */
	BUILD_BUG_ON(EDU_DMA_MAX >= EDU_BUF_SIZE);
	len = min3(el->len - ec->elem_off, (u32)EDUBLK_CHUNK_SIZE - chunk_off,
		   (u32)EDU_DMA_MAX);
	if (chunk >= ed->nr_chunks || ec->pos + len > edu->capacity) {
		dev_err_ratelimited(&edu->pdev->dev,
				    "transfer at %llu+%u runs past the medium\n",
				    ec->pos, len);
		cmd->status = BLK_STS_IOERR;
		return false;
	}
	ec->ram = el->addr + ec->elem_off;
	ec->medium = ed->chunk_dma[chunk] + chunk_off;
	ec->len = len;
	ec->second_hop = false;
	/* wdmdma and the coherent allocator promise this; never trust it blindly. */
	if (!edublk_edu_reachable(edu, ec->ram, len) ||
	    !edublk_edu_reachable(edu, ec->medium, len)) {
		dev_err_ratelimited(&edu->pdev->dev,
				    "bus address beyond the device's %u bits\n",
				    edu->dma_bits);
		cmd->status = BLK_STS_IOERR;
		return false;
	}
	if (cmd->write)
		edublk_edu_dma(ed, ec->ram, EDU_BUF_ADDR, len, false);
	else
		edublk_edu_dma(ed, ec->medium, EDU_BUF_ADDR, len, false);
	return true;
}

/*
 * If the device is idle, start the first ready request on it. Requests
 * that cannot start (device fenced, bad list) go to the failed list.
 * Called with edu->lock held.
 */
static void edublk_edu_kick(struct edublk_edu *ed)
{
	struct edublk_dev *edu = &ed->edu;
	struct edublk_cmd *cmd;

	lockdep_assert_held(&edu->lock);
	while (!ed->active &&
	       (cmd = list_first_entry_or_null(&ed->ready, struct edublk_cmd,
					       node))) {
		list_del(&cmd->node);
		if (edu->dead) {
			cmd->status = BLK_STS_IOERR;
			edublk_fail_later(edu, cmd);
			continue;
		}
		ed->active = cmd;
		if (!edublk_edu_start_piece(ed, cmd)) {
			ed->active = NULL;
			edublk_fail_later(edu, cmd);
		}
	}
}

/* Does the list cover exactly the request, inside the device's reach? */
static bool edublk_edu_list_ok(struct edublk_dev *edu, struct edublk_cmd *cmd,
			       const struct wdmdma_sg_list *sgl)
{
	u64 total = 0;
	u32 i;

	if (!sgl->nr_elements)
		return false;
	for (i = 0; i < sgl->nr_elements; i++) {
		if (!edublk_edu_reachable(edu, sgl->elements[i].addr,
					  sgl->elements[i].len))
			return false;
		total += sgl->elements[i].len;
	}
	return total == blk_rq_bytes(edublk_rq(cmd));
}

/* ops->cmd_size */
static size_t edublk_edu_cmd_size(const struct edublk_dev *edu)
{
	return sizeof(struct edublk_edu_cmd);
}

/* ops->start_cmd: the request starts at its first element and sector. */
static void edublk_edu_start_cmd(struct edublk_dev *edu,
				 struct edublk_cmd *cmd,
				 struct blk_mq_hw_ctx *hctx, bool last)
{
	struct edublk_edu_cmd *ec = to_edublk_edu_cmd(cmd);

	ec->elem = 0;
	ec->elem_off = 0;
	ec->pos = (u64)blk_rq_pos(edublk_rq(cmd)) << SECTOR_SHIFT;
}

/**
 * edublk_edu_list_ready() - ops->list_ready: a mapped request for the edu
 * @edu: the device
 * @cmd: the request
 * @sgl: its list from wdmdma
 *
 * Queues the request and starts it if the device is idle. A list the
 * device cannot use ends the request, from the work item.
 *
 * Context: any (wdmdma's list-control callback); does not sleep.
 */
static void edublk_edu_list_ready(struct edublk_dev *edu,
				  struct edublk_cmd *cmd,
				  struct wdmdma_sg_list *sgl)
{
	struct edublk_edu *ed = to_edublk_edu(edu);
	unsigned long flags;

	spin_lock_irqsave(&edu->lock, flags);
	if (!edublk_edu_list_ok(edu, cmd, sgl)) {
		dev_err_ratelimited(&edu->pdev->dev,
				    "unusable list of %u elements for %u bytes\n",
				    sgl->nr_elements, blk_rq_bytes(edublk_rq(cmd)));
		cmd->status = BLK_STS_IOERR;
		edublk_fail_later(edu, cmd);
	} else {
		list_add_tail(&cmd->node, &ed->ready);
		edublk_edu_kick(ed);
	}
	spin_unlock_irqrestore(&edu->lock, flags);
}

/*
 * An edu DMA finished: start the next hop or piece, or, when the request
 * is done, the next request. Returns the finished request, for the caller
 * to complete without the lock. Called with edu->lock held.
 */
static struct edublk_cmd *edublk_edu_dma_done(struct edublk_edu *ed)
{
	struct edublk_dev *edu = &ed->edu;
	struct edublk_cmd *cmd = ed->active;
	const struct wdmdma_sg_element *el;
	struct edublk_edu_cmd *ec;

	lockdep_assert_held(&edu->lock);
	/* A DMA that still runs (RUN bit) was not the one that ended. */
	if (!ed->dma_busy || !cmd ||
	    (readl(edu->regs + EDU_REG_DMA_CMD) & EDU_DMA_START)) {
		edu->stats.spurious_irqs++;
		return NULL;
	}
	if (ed->drop_irqs) {
		/* Fault injection: behave as if this interrupt was lost. */
		ed->drop_irqs--;
		edu->stats.dropped_irqs++;
		return NULL;
	}
	ec = to_edublk_edu_cmd(cmd);
	ed->dma_busy = false;
	edu->stats.dma_transfers++;
	edu->stats.dma_bytes += ec->len;

	if (!ec->second_hop) {
		ec->second_hop = true;
		if (cmd->write)
			edublk_edu_dma(ed, EDU_BUF_ADDR, ec->medium, ec->len,
				       true);
		else
			edublk_edu_dma(ed, EDU_BUF_ADDR, ec->ram, ec->len, true);
		return NULL;
	}

	el = &cmd->sgl->elements[ec->elem];
	ec->pos += ec->len;
	ec->elem_off += ec->len;
	if (ec->elem_off == el->len) {
		ec->elem++;
		ec->elem_off = 0;
	}
	if (ec->elem < cmd->sgl->nr_elements) {
		if (edublk_edu_start_piece(ed, cmd))
			return NULL;
		/* cmd->status is set: end it now */
	}

	ed->active = NULL;
	edublk_edu_kick(ed);
	if (!ed->dma_busy)
		timer_delete(&ed->timer);
	return cmd;
}

/**
 * edublk_edu_irq() - the edu's interrupt handler
 * @irq: the interrupt
 * @data: the struct edublk_dev
 *
 * Acknowledges the interrupt and advances the DMA state machine; completes
 * the request the device finished.
 *
 * Return: IRQ_NONE if the edu raised nothing (INTx may be shared), else
 * IRQ_HANDLED.
 */
static irqreturn_t edublk_edu_irq(int irq, void *data)
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
	done = edublk_edu_dma_done(to_edublk_edu(edu));
	spin_unlock(&edu->lock);
	if (done)
		edublk_complete(edu, done);
	return IRQ_HANDLED;
}

/**
 * edublk_edu_dma_timeout() - an edu DMA did not report completion in time
 * @t: the device's timer
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
static void edublk_edu_dma_timeout(struct timer_list *t)
{
	struct edublk_edu *ed = timer_container_of(ed, t, timer);
	struct edublk_dev *edu = &ed->edu;
	struct edublk_cmd *cmd;
	unsigned long flags;
	bool running, gone;
	u32 dma_cmd;

	spin_lock_irqsave(&edu->lock, flags);
	if (!ed->dma_busy || time_before(jiffies, ed->deadline)) {
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
	if (running && ++ed->dma_waits < EDUBLK_DMA_HUNG_TRIES) {
		dev_warn_ratelimited(&edu->pdev->dev,
				     "DMA still running after %u ms\n",
				     ed->dma_waits * EDUBLK_DMA_TIMEOUT_MS);
		ed->deadline = jiffies + msecs_to_jiffies(EDUBLK_DMA_TIMEOUT_MS);
		mod_timer(&ed->timer, ed->deadline);
		spin_unlock_irqrestore(&edu->lock, flags);
		return;
	}
	ed->dma_busy = false;
	edu->stats.timeouts++;
	cmd = ed->active;
	ed->active = NULL;
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
	edublk_edu_kick(ed);
	spin_unlock_irqrestore(&edu->lock, flags);
	edublk_complete(edu, cmd);
}

/* --- The medium --------------------------------------------------------- */

/*
 * dma_alloc_coherent() picks the zone the device's mask needs (falling back
 * to ZONE_DMA when ZONE_DMA32 memory lies beyond 2^dma_bits) or maps
 * through the IOMMU; 64 KiB pieces keep each allocation small.
 */
static int edublk_edu_alloc_medium(struct edublk_edu *ed)
{
	struct edublk_dev *edu = &ed->edu;
	struct device *dev = &edu->pdev->dev;
	unsigned int i;

	ed->nr_chunks = edu->capacity >> EDUBLK_CHUNK_SHIFT;
	ed->chunk = kcalloc(ed->nr_chunks, sizeof(*ed->chunk), GFP_KERNEL);
	ed->chunk_dma = kcalloc(ed->nr_chunks, sizeof(*ed->chunk_dma),
				GFP_KERNEL);
	if (!ed->chunk || !ed->chunk_dma)
		goto free_arrays;
	for (i = 0; i < ed->nr_chunks; i++) {
		ed->chunk[i] = dma_alloc_coherent(dev, EDUBLK_CHUNK_SIZE,
						  &ed->chunk_dma[i],
						  GFP_KERNEL | __GFP_NOWARN);
		if (!ed->chunk[i])
			break;
	}
	if (i == ed->nr_chunks)
		return 0;

	dev_err(dev, "only %u of %llu KiB of medium within %u address bits\n",
		i * (EDUBLK_CHUNK_SIZE >> 10), edu->capacity >> 10,
		edu->dma_bits);
	while (i--)
		dma_free_coherent(dev, EDUBLK_CHUNK_SIZE, ed->chunk[i],
				  ed->chunk_dma[i]);
free_arrays:
	kfree(ed->chunk_dma);
	kfree(ed->chunk);
	ed->chunk = NULL;
	ed->chunk_dma = NULL;
	return -ENOMEM;
}

static void edublk_edu_free_medium(struct edublk_edu *ed)
{
	unsigned int i;

	for (i = 0; i < ed->nr_chunks; i++)
		dma_free_coherent(&ed->edu.pdev->dev, EDUBLK_CHUNK_SIZE,
				  ed->chunk[i], ed->chunk_dma[i]);
	kfree(ed->chunk_dma);
	kfree(ed->chunk);
}

/* --- Set-up ------------------------------------------------------------- */

/* Identification and liveness: is this really an edu that answers? */
static int edublk_edu_check_device(struct edublk_dev *edu)
{
	static const u32 patterns[] = { 0, 0xffffffff, 0x5a5aa5a5 };
	struct device *dev = &edu->pdev->dev;
	u32 id = readl(edu->regs + EDU_REG_ID);
	unsigned int i;

	if (id != EDU_ID) {
		dev_err(dev, "identification register reads %#010x, not %#010x\n",
			id, EDU_ID);
		return -ENODEV;
	}
	for (i = 0; i < ARRAY_SIZE(patterns); i++) {
		u32 got;

		writel(patterns[i], edu->regs + EDU_REG_LIVE);
		got = readl(edu->regs + EDU_REG_LIVE);
		if (got != ~patterns[i]) {
			dev_err(dev, "liveness check: wrote %#010x, read %#010x\n",
				patterns[i], got);
			return -EIO;
		}
	}
	return 0;
}

/* ops->probe */
static int edublk_edu_probe(struct edublk_dev *edu)
{
	struct edublk_edu *ed = to_edublk_edu(edu);
	struct pci_dev *pdev = edu->pdev;
	struct device *dev = &pdev->dev;
	struct wdmdma_desc desc = {
		.scatter_gather = false,
		.dma_width = dma_bits,
		.max_transfer = EDUBLK_MAX_TRANSFER,
		.nr_reserve = EDUBLK_NR_RESERVE,
		.max_waiters = EDUBLK_QUEUE_DEPTH,
	};
	/*
	 * No write cache (edu->write_cache stays false): the medium is
	 * coherent RAM this driver owns, so a write is final when it ends.
	 */
	struct queue_limits lim = {
		/* Windows-MDL shape: a request spans at most its map registers */
		.logical_block_size = SECTOR_SIZE,
		.max_hw_sectors = EDUBLK_MAX_TRANSFER >> SECTOR_SHIFT,
		.virt_boundary_mask = PAGE_SIZE - 1,
	};
	unsigned int irq_types;
	int ret;

	INIT_LIST_HEAD(&ed->ready);
	edu->dma_bits = dma_bits;
	edu->dma_limit = DMA_BIT_MASK(dma_bits);
	edu->capacity = (u64)capacity_mb << 20;
	timer_setup(&ed->timer, edublk_edu_dma_timeout, 0);
	if (edublk_mode_is_native(edu->mode)) {
		dev_err(dev, "mode=%s needs a scatter/gather device (edu-sg); the edu has none\n",
			edublk_mode_names[edu->mode]);
		return -EINVAL;
	}

	ret = edublk_edu_check_device(edu);
	if (ret)
		return ret;
	/* Nothing of a previous owner may be pending. */
	writel(readl(edu->regs + EDU_REG_IRQ_STATUS), edu->regs + EDU_REG_IRQ_ACK);
	pci_set_master(pdev);

	ret = edublk_set_dma_masks(edu);
	if (ret)
		goto clear_master;
	/*
	 * A one-element device: the element may be a whole transfer. (Before
	 * 6.12 this could fail without dma_parms; wdmdma checks the result.)
	 */
	dma_set_max_seg_size(dev, EDUBLK_MAX_TRANSFER);
	edu->adapter = wdmdma_create_adapter(dev, &desc, &edu->nr_map_registers);
	if (IS_ERR(edu->adapter)) {
		ret = PTR_ERR(edu->adapter);
		goto clear_master;
	}
	ret = wdmdma_calculate_sg_list(edu->adapter, NULL,
				       (void *)(PAGE_SIZE - 1),
				       EDUBLK_MAX_TRANSFER, &edu->max_list_size,
				       NULL);
	if (ret)
		goto destroy_adapter;
	lim.max_segments = edu->nr_map_registers;

	ret = edublk_edu_alloc_medium(ed);
	if (ret)
		goto destroy_adapter;
	if (edu->mode == EDUBLK_MODE_RESERVE) {
		ret = edublk_alloc_emergency(edu, edublk_emergency_param);
		if (ret)
			goto free_medium;
	}

	irq_types = PCI_IRQ_INTX | (edublk_use_msi ? PCI_IRQ_MSI : 0);
	ret = pci_alloc_irq_vectors(pdev, 1, 1, irq_types);
	if (ret < 0)
		goto free_emergency;
	edu->msi = pdev->msi_enabled;
	ed->irq = pci_irq_vector(pdev, 0);
	ret = request_irq(ed->irq, edublk_edu_irq, IRQF_SHARED, KBUILD_MODNAME,
			  edu);
	if (ret)
		goto free_irq_vectors;

	ret = edublk_index_alloc();
	if (ret < 0)
		goto free_irq;
	edu->index = ret;
	pci_set_drvdata(pdev, edu);
	ret = edublk_add_disk(edu, &lim, 1, 0);
	if (ret)
		goto free_index;
	edublk_debugfs_add(edu);

	dev_info(dev, "%s: %llu MiB, %s, %u-bit DMA, mode %s, %u map registers per transfer\n",
		 edu->disk->disk_name, edu->capacity >> 20,
		 edu->msi ? "MSI" : "INTx", edu->dma_bits,
		 edublk_mode_names[edu->mode], edu->nr_map_registers);
	return 0;

free_index:
	edublk_index_free(edu->index);
free_irq:
	free_irq(ed->irq, edu);
	timer_shutdown_sync(&ed->timer);
free_irq_vectors:
	pci_free_irq_vectors(pdev);
free_emergency:
	if (edu->mode == EDUBLK_MODE_RESERVE)
		edublk_free_emergency(edu);
free_medium:
	edublk_edu_free_medium(ed);
destroy_adapter:
	wdmdma_destroy_adapter(edu->adapter);
clear_master:
	pci_clear_master(pdev);
	return ret;
}

/* ops->remove */
static void edublk_edu_remove(struct edublk_dev *edu)
{
	struct edublk_edu *ed = to_edublk_edu(edu);
	struct pci_dev *pdev = edu->pdev;

	edublk_debugfs_remove(edu);
	edublk_remove_disk(edu);	/* drains all I/O */
	flush_work(&edu->fail_work);
	edublk_index_free(edu->index);
	free_irq(ed->irq, edu);
	timer_shutdown_sync(&ed->timer);
	pci_free_irq_vectors(pdev);
	if (edu->mode == EDUBLK_MODE_RESERVE)
		edublk_free_emergency(edu);
	edublk_edu_free_medium(ed);
	wdmdma_destroy_adapter(edu->adapter);
	pci_clear_master(pdev);
}

/* ops->shutdown: power-off, reboot, kexec: no DMA from here on. */
static void edublk_edu_shutdown(struct edublk_dev *edu)
{
	pci_clear_master(edu->pdev);
}

/* --- debugfs: drop_irqs ------------------------------------------------- */

static int drop_irqs_get(void *data, u64 *val)
{
	struct edublk_dev *edu = data;
	unsigned long flags;

	spin_lock_irqsave(&edu->lock, flags);
	*val = to_edublk_edu(edu)->drop_irqs;
	spin_unlock_irqrestore(&edu->lock, flags);
	return 0;
}

static int drop_irqs_set(void *data, u64 val)
{
	struct edublk_dev *edu = data;
	unsigned long flags;

	if (val > UINT_MAX)
		return -EINVAL;
	spin_lock_irqsave(&edu->lock, flags);
	to_edublk_edu(edu)->drop_irqs = val;
	spin_unlock_irqrestore(&edu->lock, flags);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(drop_irqs_fops, drop_irqs_get, drop_irqs_set, "%llu\n");

/*
 * ops->debugfs_add: drop_irqs, to exercise the DMA timeout (edu-sg drops
 * completions itself, drop_every).
 */
static void edublk_edu_debugfs_add(struct edublk_dev *edu, struct dentry *dir)
{
	debugfs_create_file_unsafe("drop_irqs", 0600, dir, edu,
				   &drop_irqs_fops);
}

/*
 * No timeout op: a request may legitimately wait long for map registers,
 * an emergency buffer or the device (one DMA per 100 ms), and a lost
 * device interrupt is caught per DMA by edublk_edu_dma_timeout(), which
 * ends the request. No reset ops: the edu offers no function reset. No
 * partitions: the disk's few MiB take 100 ms per 4 KiB DMA, and a scan at
 * every probe would cost seconds. No native modes: it has no
 * scatter/gather (the probe refuses them).
 */
const struct edublk_backend_ops edublk_edu_ops = {
	.dev_size = sizeof(struct edublk_edu),
	.bar0_min = EDU_REG_DMA_CMD + 8,
	.no_partitions = true,
	.probe = edublk_edu_probe,
	.remove = edublk_edu_remove,
	.shutdown = edublk_edu_shutdown,
	.cmd_size = edublk_edu_cmd_size,
	.start_cmd = edublk_edu_start_cmd,
	.list_ready = edublk_edu_list_ready,
	.debugfs_add = edublk_edu_debugfs_add,
};
