// SPDX-License-Identifier: GPL-2.0
/*
 * edublk - a block device on QEMU's stock edu device (PCI 1234:11e8), and
 * on this project's edu-sg scatter/gather device (PCI 1234:11e9, edusg.c).
 *
 * The edu has one 4 KiB buffer and one DMA engine without scatter/gather,
 * limited to 28-bit bus addresses. The disk's medium is memory this driver
 * owns and the device can reach (coherent chunks); every sector moves
 * between the request's pages and the medium through the edu's buffer by
 * real edu DMAs (see edu.c). The lists for the request side come from
 * wdmdma, which bounces through its map registers what the device cannot
 * reach in one element.
 *
 * Module parameter "mode" picks where list memory comes from:
 *  reserve - the storage-stack pattern of BuildScatterGatherList: a
 *	GFP_ATOMIC buffer sized by wdmdma_calculate_sg_list(), else one of
 *	the driver's preallocated emergency buffers, else the request waits
 *	for one to come back;
 *  pdu - a Build buffer preallocated in every request's PDU;
 *  get - wdmdma_get_sg_list_ex(), with the library's reserve and queue;
 *  native, native-sgt - edu-sg only: no wdmdma, the plain Linux way to
 *	map (edusg.c), the benchmarks' baseline.
 * The wdmdma modes map with the _ex calls (BuildScatterGatherListEx,
 * GetScatterGatherListEx) and a transfer context in each request, so a
 * request waiting for its list can be cancelled (edublk_cancel_wait()).
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "../compat.h"
#include "edublk.h"

/* --- Module parameters -------------------------------------------------- */

const char * const edublk_mode_names[] = {
	[EDUBLK_MODE_RESERVE] = "reserve",
	[EDUBLK_MODE_PDU] = "pdu",
	[EDUBLK_MODE_GET] = "get",
	[EDUBLK_MODE_NATIVE] = "native",
	[EDUBLK_MODE_NATIVE_SGT] = "native-sgt",
};

int edublk_mode_param = EDUBLK_MODE_RESERVE;

static int mode_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(edublk_mode_names, val);

	if (i < 0) {
		pr_err("mode must be reserve, pdu, get, native or native-sgt, not '%s'\n",
		       val);
		return -EINVAL;
	}
	*(int *)kp->arg = i;
	return 0;
}

static int mode_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n",
			 edublk_mode_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops mode_ops = {
	.set = mode_set,
	.get = mode_get,
};
module_param_cb(mode, &mode_ops, &edublk_mode_param, 0444);
MODULE_PARM_DESC(mode,
		 "Where DMA list memory comes from: reserve (kmalloc, else emergency buffer, else wait), pdu (Build buffer in each request), get (wdmdma_get_sg_list_ex), native (edu-sg only, no wdmdma, as NVMe: dma_map_bvec for one segment, else blk_rq_dma_map_iter (6.17 and later) or sg_alloc_table_chained + dma_map_sgtable; the benchmark baseline), native-sgt (as native, but always sg_alloc_table_chained + dma_map_sgtable, NVMe before 6.17) (default: reserve)");

/* Parse an unsigned int within [min, max] into kp->arg, or explain why not. */
static int uint_range_set(const char *val, const struct kernel_param *kp,
			  unsigned int min, unsigned int max)
{
	unsigned int n;

	if (kstrtouint(val, 0, &n) || n < min || n > max) {
		pr_err("%s must be an integer in %u..%u, not '%s'\n", kp->name,
		       min, max, val);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

/* The edu's default reach is 28 bits (-device edu,dma_mask=... changes it). */
static unsigned int dma_bits = 28;

static int dma_bits_set(const char *val, const struct kernel_param *kp)
{
	return uint_range_set(val, kp, 28, 64);
}

static const struct kernel_param_ops dma_bits_ops = {
	.set = dma_bits_set,
	.get = param_get_uint,
};
module_param_cb(dma_bits, &dma_bits_ops, &dma_bits, 0444);
MODULE_PARM_DESC(dma_bits,
		 "edu: DMA address width of the device, to match -device edu,dma_mask= (28..64, default: 28); edu-sg reports its own");

/*
 * 4 MiB by default: with a 28-bit device in a guest whose RAM reaches past
 * 2^28 the medium may have to come from ZONE_DMA (16 MiB on x86, shared
 * with wdmdma's map registers and others); and at one edu DMA (under
 * 4 KiB) per 100 ms of virtual time a whole-device test stays short.
 */
static unsigned int capacity_mb = 4;

static int capacity_mb_set(const char *val, const struct kernel_param *kp)
{
	return uint_range_set(val, kp, 1, 64);
}

static const struct kernel_param_ops capacity_mb_ops = {
	.set = capacity_mb_set,
	.get = param_get_uint,
};
module_param_cb(capacity_mb, &capacity_mb_ops, &capacity_mb, 0444);
MODULE_PARM_DESC(capacity_mb,
		 "edu: disk size in MiB, memory the device must reach (1..64, default: 4); edu-sg reports its medium's size");

unsigned int edublk_emergency_param = 1;

static int emergency_set(const char *val, const struct kernel_param *kp)
{
	return uint_range_set(val, kp, 1, 64);
}

static const struct kernel_param_ops emergency_ops = {
	.set = emergency_set,
	.get = param_get_uint,
};
module_param_cb(emergency, &emergency_ops, &edublk_emergency_param, 0444);
MODULE_PARM_DESC(emergency,
		 "reserve mode: preallocated emergency Build buffers (1..64, default: 1)");

bool edublk_use_msi = true;
module_param_named(msi, edublk_use_msi, bool, 0444);
MODULE_PARM_DESC(msi, "Use MSI-X or MSI when the device offers it; N forces legacy INTx (default: Y)");

static DEFINE_IDA(edublk_ida);

/* The N of the disk name edublkN. */
int edublk_index_alloc(void)
{
	return ida_alloc(&edublk_ida, GFP_KERNEL);
}

void edublk_index_free(int index)
{
	ida_free(&edublk_ida, index);
}

/* --- blk-mq ------------------------------------------------------------- */

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

/* Count a request that is being started. */
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
 * edublk_queue_rq() - blk-mq .queue_rq of both devices
 * @hctx: the hardware queue (on edu-sg, the device queue of the same number)
 * @bd: the request
 *
 * Maps the request through wdmdma in the configured mode; the list-control
 * callback hands it to the device engine. A flush, a discard and a write
 * zeroes (edu-sg only) carry no data and go to the device as they are, in
 * every mode. In the wdmdma
 * modes it never returns a busy status: requests that must wait for list
 * memory or map registers wait inside wdmdma or on the emergency buffers.
 * The native modes return BLK_STS_RESOURCE when memory or mapping space
 * is short, as NVMe does, after starting the request.
 *
 * Return: BLK_STS_OK; BLK_STS_RESOURCE (native modes: run it again
 * later); or an error that ends the request.
 */
blk_status_t edublk_queue_rq(struct blk_mq_hw_ctx *hctx,
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
	cmd->elem = 0;
	cmd->elem_off = 0;
	cmd->pos = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	cmd->qid = hctx->queue_num;
	cmd->sg_state = EDUBLK_SG_IDLE;
	cmd->native_map = EDUBLK_NATIVE_NONE;
	if (READ_ONCE(edu->dead)) {
		sts = BLK_STS_IOERR;
		goto end;
	}
	if (cmd->flush || cmd->zero_op) {
		/* No data, so nothing to map: the same in every mode. */
		sts = edublk_sg_queue_nodata(edu, cmd);
		if (sts == BLK_STS_OK)
			return BLK_STS_OK;
		goto end;
	}
	if (edublk_mode_is_native(edu->mode)) {
		/* edu-sg only (the edu probe refuses it); no wdmdma at all */
		sts = edublk_sg_native_queue(edu, cmd);
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

/**
 * edublk_init_request() - blk-mq .init_request of both devices
 * @set: the tag set
 * @rq: the request whose PDU to set up
 * @hctx_idx: unused
 * @numa_node: unused
 *
 * Return: 0.
 */
int edublk_init_request(struct blk_mq_tag_set *set, struct request *rq,
			unsigned int hctx_idx, wdmdma_numa_node_t numa_node)
{
	struct edublk_dev *edu = set->driver_data;
	struct edublk_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cmd->edu = edu;
	cmd->mdl = (void *)cmd + edu->pdu_mdl_off;
	cmd->pdu_buf = edu->mode == EDUBLK_MODE_PDU ?
		       (void *)cmd + edu->pdu_buf_off : NULL;
	cmd->inline_sg = edublk_mode_uses_sgt(edu->mode) ?
			 (void *)cmd + edu->pdu_sg_off : NULL;
	INIT_LIST_HEAD(&cmd->node);
	cmd->emergency_waiting = false;
	/* Reusable once its request has ended: initialised once. */
	wdmdma_init_xfer_ctx(edu->adapter, &cmd->xfer);
	return 0;
}

/*
 * No .timeout: a request may legitimately wait long for map registers, an
 * emergency buffer or the device (one DMA per 100 ms); blk-mq then just
 * re-arms its timer. A lost device interrupt is caught per DMA by
 * edublk_dma_timeout(), which ends the request.
 */
static const struct blk_mq_ops edublk_mq_ops = {
	.queue_rq = edublk_queue_rq,
	.init_request = edublk_init_request,
};

static const struct block_device_operations edublk_fops = {
	.owner = THIS_MODULE,
};

/* --- The medium --------------------------------------------------------- */

/*
 * dma_alloc_coherent() picks the zone the device's mask needs (falling back
 * to ZONE_DMA when ZONE_DMA32 memory lies beyond 2^dma_bits) or maps
 * through the IOMMU; 64 KiB pieces keep each allocation small.
 */
static int edublk_alloc_medium(struct edublk_dev *edu)
{
	struct device *dev = &edu->pdev->dev;
	unsigned int i;

	edu->nr_chunks = edu->capacity >> EDUBLK_CHUNK_SHIFT;
	edu->chunk = kcalloc(edu->nr_chunks, sizeof(*edu->chunk), GFP_KERNEL);
	edu->chunk_dma = kcalloc(edu->nr_chunks, sizeof(*edu->chunk_dma),
				 GFP_KERNEL);
	if (!edu->chunk || !edu->chunk_dma)
		goto free_arrays;
	for (i = 0; i < edu->nr_chunks; i++) {
		edu->chunk[i] = dma_alloc_coherent(dev, EDUBLK_CHUNK_SIZE,
						   &edu->chunk_dma[i],
						   GFP_KERNEL | __GFP_NOWARN);
		if (!edu->chunk[i])
			break;
	}
	if (i == edu->nr_chunks)
		return 0;

	dev_err(dev, "only %u of %llu KiB of medium within %u address bits\n",
		i * (EDUBLK_CHUNK_SIZE >> 10), edu->capacity >> 10,
		edu->dma_bits);
	while (i--)
		dma_free_coherent(dev, EDUBLK_CHUNK_SIZE, edu->chunk[i],
				  edu->chunk_dma[i]);
free_arrays:
	kfree(edu->chunk_dma);
	kfree(edu->chunk);
	edu->chunk = NULL;
	edu->chunk_dma = NULL;
	return -ENOMEM;
}

static void edublk_free_medium(struct edublk_dev *edu)
{
	unsigned int i;

	for (i = 0; i < edu->nr_chunks; i++)
		dma_free_coherent(&edu->pdev->dev, EDUBLK_CHUNK_SIZE,
				  edu->chunk[i], edu->chunk_dma[i]);
	kfree(edu->chunk_dma);
	kfree(edu->chunk);
}

/* --- Emergency Build buffers (reserve mode) ----------------------------- */

/* reserve mode: @nr Build buffers of edu->max_list_size bytes each. */
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

/* --- The disk ----------------------------------------------------------- */

/*
 * Create and add the disk edublkN: @nr_hw_queues hardware queues of
 * EDUBLK_QUEUE_DEPTH, @timeout in jiffies (0: the block layer's default),
 * a volatile write cache with FUA if edu->write_cache says so. On edu-sg
 * add_disk() scans its partition table.
 */
int edublk_add_disk(struct edublk_dev *edu, struct queue_limits *lim,
		    const struct blk_mq_ops *ops, unsigned int nr_hw_queues,
		    unsigned int timeout)
{
	struct blk_mq_tag_set *set = &edu->tag_set;
	struct gendisk *disk;
	int ret;

	edu->pdu_mdl_off = ALIGN(sizeof(struct edublk_cmd),
				 __alignof__(struct wdmdma_mdl));
	edu->pdu_buf_off = ALIGN(edu->pdu_mdl_off +
				 wdmdma_mdl_size(edu->nr_map_registers),
				 EDUBLK_BUF_ALIGN);

	set->ops = ops;
	set->nr_hw_queues = nr_hw_queues;
	set->queue_depth = EDUBLK_QUEUE_DEPTH;
	set->timeout = timeout;
	set->numa_node = dev_to_node(&edu->pdev->dev);
	edu->pdu_sg_off = ALIGN(edu->pdu_mdl_off +
				wdmdma_mdl_size(edu->nr_map_registers),
				__alignof__(struct scatterlist));

	if (edu->mode == EDUBLK_MODE_PDU)
		set->cmd_size = edu->pdu_buf_off + edu->max_list_size;
	else if (edublk_mode_uses_sgt(edu->mode))
		set->cmd_size = edu->pdu_sg_off + EDUBLK_NATIVE_INLINE_SG *
				sizeof(struct scatterlist);
	else
		set->cmd_size = edu->pdu_sg_off;
	set->flags = WDMDMA_BLK_MQ_F_SHOULD_MERGE;
	set->driver_data = edu;
	ret = blk_mq_alloc_tag_set(set);
	if (ret)
		return ret;

	if (edu->write_cache)
		wdmdma_lim_write_cache_fua(lim);
	disk = wdmdma_blk_mq_alloc_disk(set, lim, edu);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto free_tag_set;
	}
	if (edu->write_cache)
		wdmdma_queue_write_cache_fua(disk->queue);
	disk->fops = &edublk_fops;
	disk->private_data = edu;
	/*
	 * Partitions on edu-sg: no major of our own, so add_disk() gives the
	 * disk and each partition a dynamic dev_t from the extended range,
	 * up to DISK_MAX_PARTS partitions (edublk0p1 ...). disk->minors
	 * stays 0: it goes with a driver's own major, and add_disk() refuses
	 * it without one. The stock edu's disk has none: its few MiB take
	 * 100 ms per 4 KiB DMA, and a scan at every probe would cost seconds.
	 */
	if (!edu->sg)
		disk->flags |= GENHD_FL_NO_PART;
	snprintf(disk->disk_name, DISK_NAME_LEN, "edublk%d", edu->index);
	set_capacity(disk, edu->capacity >> SECTOR_SHIFT);
	edu->disk = disk;

	ret = add_disk(disk);
	if (ret)
		goto put_disk;
	return 0;

put_disk:
	put_disk(disk);
	edu->disk = NULL;
free_tag_set:
	blk_mq_free_tag_set(set);
	return ret;
}

void edublk_remove_disk(struct edublk_dev *edu)
{
	del_gendisk(edu->disk);		/* waits for the I/O in flight */
	put_disk(edu->disk);
	blk_mq_free_tag_set(&edu->tag_set);
}

/* --- PCI ---------------------------------------------------------------- */

/**
 * edublk_dev_get() - the common start of both probes
 * @pdev: the device
 * @bar0_min: registers the driver uses in BAR0, in bytes
 *
 * Allocates and initialises the driver's device structure, enables the
 * PCI device, claims its regions and maps BAR0.
 *
 * Return: the structure, or an ERR_PTR() with everything undone.
 */
struct edublk_dev *edublk_dev_get(struct pci_dev *pdev, resource_size_t bar0_min)
{
	struct edublk_dev *edu;
	int ret;

	edu = kzalloc_obj(*edu, GFP_KERNEL);
	if (!edu)
		return ERR_PTR(-ENOMEM);
	edu->pdev = pdev;
	edu->mode = edublk_mode_param;
	spin_lock_init(&edu->lock);
	INIT_LIST_HEAD(&edu->ready);
	INIT_LIST_HEAD(&edu->failed);
	INIT_LIST_HEAD(&edu->emergency_wait);
	INIT_WORK(&edu->fail_work, edublk_fail_work);

	ret = pci_enable_device(pdev);
	if (ret)
		goto free_edu;
	ret = pci_request_regions(pdev, KBUILD_MODNAME);
	if (ret)
		goto disable_device;
	if (pci_resource_len(pdev, 0) < bar0_min) {
		dev_err(&pdev->dev, "BAR0 is %llu bytes, the registers need %llu\n",
			(unsigned long long)pci_resource_len(pdev, 0),
			(unsigned long long)bar0_min);
		ret = -ENODEV;
		goto release_regions;
	}
	edu->regs = pci_iomap(pdev, 0, 0);
	if (!edu->regs) {
		ret = -ENOMEM;
		goto release_regions;
	}
	return edu;

release_regions:
	pci_release_regions(pdev);
disable_device:
	pci_disable_device(pdev);
free_edu:
	kfree(edu);
	return ERR_PTR(ret);
}

/**
 * edublk_dev_put() - undo edublk_dev_get()
 * @edu: the device structure, which is freed
 */
void edublk_dev_put(struct edublk_dev *edu)
{
	struct pci_dev *pdev = edu->pdev;

	pci_iounmap(pdev, edu->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	kfree(edu);
}

/**
 * edublk_set_dma_masks() - the device's DMA masks, set by the driver
 * @edu: the device, edu->dma_bits known
 *
 * The coherent mask governs the medium, rings and element tables this
 * driver allocates; the streaming mask governs what mode=native maps
 * itself. wdmdma keeps every list it hands out within the adapter's width
 * on its own and leaves the coherent mask to the driver, so both are set
 * here, before the adapter exists and before any coherent allocation.
 *
 * Return: 0, or -EIO if the platform cannot address the device that way.
 */
int edublk_set_dma_masks(struct edublk_dev *edu)
{
	struct device *dev = &edu->pdev->dev;
	int ret;

	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(edu->dma_bits));
	if (ret) {
		dev_err(dev, "cannot use a %u-bit DMA mask: %d\n",
			edu->dma_bits, ret);
		return -EIO;
	}
	return 0;
}

/* Identification and liveness: is this really an edu that answers? */
static int edublk_check_device(struct edublk_dev *edu)
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

static int edublk_edu_probe(struct pci_dev *pdev)
{
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
	struct edublk_dev *edu;
	unsigned int irq_types;
	int ret;

	edu = edublk_dev_get(pdev, EDU_REG_DMA_CMD + 8);
	if (IS_ERR(edu))
		return PTR_ERR(edu);
	edu->dma_bits = dma_bits;
	edu->dma_limit = DMA_BIT_MASK(dma_bits);
	edu->capacity = (u64)capacity_mb << 20;
	timer_setup(&edu->timer, edublk_dma_timeout, 0);
	if (edublk_mode_is_native(edu->mode)) {
		dev_err(dev, "mode=%s needs a scatter/gather device (edu-sg); the edu has none\n",
			edublk_mode_names[edu->mode]);
		ret = -EINVAL;
		goto put_dev;
	}

	ret = edublk_check_device(edu);
	if (ret)
		goto put_dev;
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

	ret = edublk_alloc_medium(edu);
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
	edu->irq = pci_irq_vector(pdev, 0);
	ret = request_irq(edu->irq, edublk_irq, IRQF_SHARED, KBUILD_MODNAME, edu);
	if (ret)
		goto free_irq_vectors;

	ret = edublk_index_alloc();
	if (ret < 0)
		goto free_irq;
	edu->index = ret;
	pci_set_drvdata(pdev, edu);
	ret = edublk_add_disk(edu, &lim, &edublk_mq_ops, 1, 0);
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
	free_irq(edu->irq, edu);
	timer_shutdown_sync(&edu->timer);
free_irq_vectors:
	pci_free_irq_vectors(pdev);
free_emergency:
	if (edu->mode == EDUBLK_MODE_RESERVE)
		edublk_free_emergency(edu);
free_medium:
	edublk_free_medium(edu);
destroy_adapter:
	wdmdma_destroy_adapter(edu->adapter);
clear_master:
	pci_clear_master(pdev);
put_dev:
	edublk_dev_put(edu);
	return ret;
}

static void edublk_edu_remove(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	edublk_debugfs_remove(edu);
	edublk_remove_disk(edu);	/* drains all I/O */
	flush_work(&edu->fail_work);
	edublk_index_free(edu->index);
	free_irq(edu->irq, edu);
	timer_shutdown_sync(&edu->timer);
	pci_free_irq_vectors(pdev);
	if (edu->mode == EDUBLK_MODE_RESERVE)
		edublk_free_emergency(edu);
	edublk_free_medium(edu);
	wdmdma_destroy_adapter(edu->adapter);
	pci_clear_master(pdev);
	edublk_dev_put(edu);
}

enum edublk_device_kind {
	EDUBLK_EDU,		/* QEMU's stock edu */
	EDUBLK_EDU_SG,		/* edu-sg (qemu/edu-sg/REGISTERS.md) */
};

static int edublk_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	if (id->driver_data == EDUBLK_EDU_SG)
		return edublk_sg_probe(pdev);
	return edublk_edu_probe(pdev);
}

static void edublk_remove(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (edu->sg)
		edublk_sg_remove(pdev);
	else
		edublk_edu_remove(pdev);
}

/*
 * A function reset (sysfs "reset"): edu-sg offers one (Advanced Features
 * FLR) and loses nothing across it. QEMU's stock edu offers none, so the
 * PCI core never calls these for it.
 */
static void edublk_reset_prepare(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (edu->sg)
		edublk_sg_reset_prepare(edu);
}

static void edublk_reset_done(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (edu->sg)
		edublk_sg_reset_done(edu);
}

static const struct pci_error_handlers edublk_err_handlers = {
	.reset_prepare = edublk_reset_prepare,
	.reset_done = edublk_reset_done,
};

/* Power-off, reboot, kexec: no DMA from here on. */
static void edublk_shutdown(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (!edu)
		return;
	if (edu->sg)
		edublk_sg_shutdown(edu);
	else
		pci_clear_master(pdev);
}

static const struct pci_device_id edublk_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8), .driver_data = EDUBLK_EDU },
	{ PCI_DEVICE(0x1234, 0x11e9), .driver_data = EDUBLK_EDU_SG },
	{ }
};
MODULE_DEVICE_TABLE(pci, edublk_ids);

static struct pci_driver edublk_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edublk_ids,
	.probe = edublk_probe,
	.remove = edublk_remove,
	.shutdown = edublk_shutdown,
	.err_handler = &edublk_err_handlers,
};

static int __init edublk_init(void)
{
	int ret;

	edublk_debugfs_init();
	ret = pci_register_driver(&edublk_driver);
	if (ret)
		edublk_debugfs_exit();
	return ret;
}

static void __exit edublk_exit(void)
{
	pci_unregister_driver(&edublk_driver);
	edublk_debugfs_exit();
	ida_destroy(&edublk_ida);
}

module_init(edublk_init);
module_exit(edublk_exit);

MODULE_DESCRIPTION("Block device on QEMU's edu and edu-sg devices, DMA lists from wdmdma");
MODULE_AUTHOR("The wdmdma authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(WDMDMA_VERSION);
WDMDMA_IMPORT_NS();
