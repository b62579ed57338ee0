// SPDX-License-Identifier: GPL-2.0
/*
 * edublk - a block device on QEMU's stock edu device (PCI 1234:11e8,
 * edu.c), and on this project's edu-sg scatter/gather device (PCI
 * 1234:11e9, edusg.c).
 *
 * The core is this file (the module and its parameters, the PCI driver,
 * the device structure, the disk), request.c (blk-mq, where list memory
 * comes from, the completion path) and debugfs.c. The PCI ID picks the
 * device's backend, which the core calls through its ops table (struct
 * edublk_backend_ops); no backend knows the other. The lists for the
 * request side come from wdmdma, which bounces through its map registers
 * what the device cannot reach in one element.
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
 * Locking: none of its own. The PCI core calls probe, remove, shutdown
 * and the reset handlers with the device locked, one at a time.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/dma-mapping.h>
#include <linux/idr.h>
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

static int edublk_mode_param = EDUBLK_MODE_RESERVE;

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

/**
 * edublk_param_uint_range() - set an unsigned int parameter within bounds
 * @val: the value written
 * @kp: the parameter; kp->arg is the unsigned int
 * @min: the smallest value allowed
 * @max: the largest value allowed
 *
 * Parses @val within [@min, @max] into kp->arg, or explains why not.
 *
 * Return: 0, or -EINVAL.
 */
int edublk_param_uint_range(const char *val, const struct kernel_param *kp,
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

unsigned int edublk_emergency_param = 1;

EDUBLK_PARAM_UINT_RANGE(emergency, edublk_emergency_param, 1, 64);
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

/* --- The disk ----------------------------------------------------------- */

static const struct block_device_operations edublk_fops = {
	.owner = THIS_MODULE,
};

/*
 * Create and add the disk edublkN: @nr_hw_queues hardware queues of
 * EDUBLK_QUEUE_DEPTH (the last edu->nr_poll_queues of them polled),
 * @timeout in jiffies (0: the block layer's default),
 * a volatile write cache with FUA if edu->write_cache says so. add_disk()
 * scans its partition table unless the backend has none.
 */
int edublk_add_disk(struct edublk_dev *edu, struct queue_limits *lim,
		    unsigned int nr_hw_queues, unsigned int timeout)
{
	struct blk_mq_tag_set *set = &edu->tag_set;
	struct gendisk *disk;
	int ret;

	/* The core's data, the backend's, the MDL, pdu mode's buffer. */
	edu->pdu_mdl_off = ALIGN(sizeof(struct edublk_cmd) +
				 edu->ops->cmd_size(edu),
				 __alignof__(struct wdmdma_mdl));
	edu->pdu_buf_off = ALIGN(edu->pdu_mdl_off +
				 wdmdma_mdl_size(edu->nr_map_registers),
				 EDUBLK_BUF_ALIGN);

	if (WARN_ON(edu->nr_poll_queues && (!edu->ops->poll ||
					    edu->nr_poll_queues >= nr_hw_queues)))
		return -EINVAL;
	/* No .timeout (nor sysfs io_timeout) for a backend without one. */
	set->ops = edu->ops->timeout ? &edublk_mq_ops_timeout : &edublk_mq_ops;
	set->nr_hw_queues = nr_hw_queues;
	/* Polled queues: their own map (no interrupt), none for reads. */
	set->nr_maps = edu->nr_poll_queues ? HCTX_MAX_TYPES : 1;
	set->queue_depth = EDUBLK_QUEUE_DEPTH;
	set->timeout = timeout;
	set->numa_node = dev_to_node(&edu->pdev->dev);

	if (edu->mode == EDUBLK_MODE_PDU)
		set->cmd_size = edu->pdu_buf_off + edu->max_list_size;
	else
		set->cmd_size = edu->pdu_mdl_off +
				wdmdma_mdl_size(edu->nr_map_registers);
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
	 * Partitions: no major of our own, so add_disk() gives the disk and
	 * each partition a dynamic dev_t from the extended range, up to
	 * DISK_MAX_PARTS partitions (edublk0p1 ...). disk->minors stays 0:
	 * it goes with a driver's own major, and add_disk() refuses it
	 * without one. A backend may have none (ops->no_partitions).
	 */
	if (edu->ops->no_partitions)
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

/*
 * The common start of every probe: allocates and initialises the
 * backend's device structure (ops->dev_size bytes, the core's first),
 * enables the PCI device, claims its regions and maps BAR0, which must
 * hold ops->bar0_min bytes. Returns the structure, or an ERR_PTR() with
 * everything undone.
 */
static struct edublk_dev *edublk_dev_get(struct pci_dev *pdev,
					 const struct edublk_backend_ops *ops)
{
	struct edublk_dev *edu;
	int ret;

	edu = kzalloc(ops->dev_size, GFP_KERNEL);
	if (!edu)
		return ERR_PTR(-ENOMEM);
	edu->pdev = pdev;
	edu->ops = ops;
	edu->mode = edublk_mode_param;
	spin_lock_init(&edu->lock);
	INIT_LIST_HEAD(&edu->failed);
	INIT_LIST_HEAD(&edu->emergency_wait);
	INIT_WORK(&edu->fail_work, edublk_fail_work);

	ret = pci_enable_device(pdev);
	if (ret)
		goto free_edu;
	ret = pci_request_regions(pdev, KBUILD_MODNAME);
	if (ret)
		goto disable_device;
	if (pci_resource_len(pdev, 0) < ops->bar0_min) {
		dev_err(&pdev->dev, "BAR0 is %llu bytes, the registers need %llu\n",
			(unsigned long long)pci_resource_len(pdev, 0),
			(unsigned long long)ops->bar0_min);
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

/* Undo edublk_dev_get(); @edu is freed. */
static void edublk_dev_put(struct edublk_dev *edu)
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

/* The PCI ID's driver_data is its backend's ops table. */
static int edublk_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	const struct edublk_backend_ops *ops = (const void *)id->driver_data;
	struct edublk_dev *edu;
	int ret;

	edu = edublk_dev_get(pdev, ops);
	if (IS_ERR(edu))
		return PTR_ERR(edu);
	ret = ops->probe(edu);
	if (ret)
		edublk_dev_put(edu);
	return ret;
}

static void edublk_remove(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	edu->ops->remove(edu);
	edublk_dev_put(edu);
}

/*
 * A function reset (sysfs "reset"): edu-sg offers one (Advanced Features
 * FLR) and loses nothing across it. QEMU's stock edu offers none, so the
 * PCI core never calls these for it; its backend has no reset ops.
 */
static void edublk_reset_prepare(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (edu->ops->reset_prepare)
		edu->ops->reset_prepare(edu);
}

static void edublk_reset_done(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (edu->ops->reset_done)
		edu->ops->reset_done(edu);
}

/*
 * A PCI error the AER core reports (pcie_do_recovery()), or debugfs
 * "aer_recover" on machines without AER. A backend without these (the
 * stock edu's) answers as a driver without error_detected would
 * (PCI_ERS_RESULT_NO_AER_DRIVER): the recovery fails.
 */
pci_ers_result_t edublk_error_detected(struct pci_dev *pdev,
				       pci_channel_state_t state)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (!edu || !edu->ops->error_detected)
		return PCI_ERS_RESULT_NO_AER_DRIVER;
	return edu->ops->error_detected(edu, state);
}

pci_ers_result_t edublk_slot_reset(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (!edu || !edu->ops->slot_reset)
		return PCI_ERS_RESULT_NONE;
	return edu->ops->slot_reset(edu);
}

void edublk_resume(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (edu && edu->ops->resume)
		edu->ops->resume(edu);
}

static const struct pci_error_handlers edublk_err_handlers = {
	.error_detected = edublk_error_detected,
	.slot_reset = edublk_slot_reset,
	.resume = edublk_resume,
	.reset_prepare = edublk_reset_prepare,
	.reset_done = edublk_reset_done,
};

/* Power-off, reboot, kexec: no DMA from here on. */
static void edublk_shutdown(struct pci_dev *pdev)
{
	struct edublk_dev *edu = pci_get_drvdata(pdev);

	if (!edu)
		return;
	edu->ops->shutdown(edu);
}

static const struct pci_device_id edublk_ids[] = {
	/* QEMU's stock edu */
	{ PCI_DEVICE(0x1234, 0x11e8),
	  .driver_data = (kernel_ulong_t)&edublk_edu_ops },
	/* edu-sg (qemu/edu-sg/REGISTERS.md) */
	{ PCI_DEVICE(0x1234, 0x11e9),
	  .driver_data = (kernel_ulong_t)&edublk_sg_ops },
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
