/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edublk - a block device on QEMU's stock edu device (PCI 1234:11e8) or on
 * this project's edu-sg device (PCI 1234:11e9), with its DMA lists from
 * wdmdma. The core (main.c, request.c, debugfs.c) and what a backend
 * (edu.c for the edu, edusg.c for edu-sg) may use of it: the core's
 * per-device and per-request structures, each with a backend's own data
 * beside it, and the ops table through which the core calls the backend.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#ifndef EDUBLK_H
#define EDUBLK_H

#include <linux/blk-mq.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <wdmdma/wdmdma.h>

#include "../compat.h"

#define EDUBLK_QUEUE_DEPTH	32
/* wdmdma reserve: lists (get mode) and map-register chunks (all modes) */
#define EDUBLK_NR_RESERVE	2
/* Build buffers in the PDU are aligned like kmalloc'ed ones would be. */
#define EDUBLK_BUF_ALIGN	16

/* Where list memory comes from (module parameter "mode"). */
enum edublk_mode {
	EDUBLK_MODE_RESERVE,	/* kmalloc, else emergency buffer, else wait */
	EDUBLK_MODE_PDU,	/* a Build buffer in every request's PDU */
	EDUBLK_MODE_GET,	/* wdmdma_get_sg_list(): the library's reserve */
	EDUBLK_MODE_NATIVE,	/* edu-sg, no wdmdma: the way Linux maps */
	EDUBLK_MODE_NATIVE_SGT,	/* the same, always through an sg_table */
};

/*
 * Does @mode map without wdmdma? The backend maps such a request itself
 * (struct edublk_backend_ops.native_queue); edu-sg's does.
 */
static inline bool edublk_mode_is_native(enum edublk_mode mode)
{
	return mode == EDUBLK_MODE_NATIVE || mode == EDUBLK_MODE_NATIVE_SGT;
}

/* Where a request's Build buffer came from. */
enum edublk_buf_src {
	EDUBLK_BUF_NONE,	/* get mode, or not yet */
	EDUBLK_BUF_KMALLOC,
	EDUBLK_BUF_EMERGENCY,
	EDUBLK_BUF_PDU,
};

/*
 * The driver's counters (debugfs "stats"), under edu->lock. The core
 * counts the requests, their lists and buffers and how they ended; a
 * backend counts what only it sees, and a counter of the other device
 * stays 0.
 */
struct edublk_stats {
	u64 requests;		/* reads and writes started (not flushes) */
	u64 read_bytes;
	u64 write_bytes;
	u64 flushes;		/* edu-sg: FLUSH commands that succeeded */
	u64 flush_errors;	/* flushes ended with an error */
	u64 fua_writes;		/* edu-sg: FUA writes that succeeded */
	u64 discards;		/* edu-sg: DISCARDs that succeeded */
	u64 write_zeroes;	/* edu-sg: WRITE_ZEROES that succeeded */
	u64 dma_transfers;	/* edu DMAs completed */
	u64 dma_bytes;
	u64 reserve_allocs;	/* reserve mode: Build buffers from kmalloc */
	u64 reserve_alloc_fails;	/* kmalloc failed or was failed on purpose */
	u64 emergency_hits;	/* Build buffers taken from the emergency set */
	u64 emergency_waits;	/* requests that waited for one */
	u64 wait_timeouts;	/* waited too long for their list: ended */
	u64 errors;		/* requests ended with an error */
	u64 timeouts;		/* edu DMAs that never reported completion */
	u64 dropped_irqs;	/* completions ignored on purpose (debugfs) */
	u64 spurious_irqs;
	u64 native_requeues;	/* native modes: no memory or mapping: requeued */
	u64 lists;		/* lists the callback got from wdmdma */
	u64 unmapped;		/* waited, then wdmdma could not map them */
};

/* A request with a range and no data (struct edublk_cmd.zero_op). */
enum edublk_zero_op {
	EDUBLK_ZERO_NONE,
	EDUBLK_ZERO_DISCARD,
	EDUBLK_ZERO_WRITE_ZEROES,
};

/*
 * Per-request data (the blk-mq PDU): the core's, then the backend's
 * (ops->cmd_size() bytes, edublk_cmd_priv()). The request's MDL follows
 * them, and in pdu mode a Build buffer after that (offsets in struct
 * edublk_dev).
 */
struct edublk_cmd {
	/*
	 * On one list at a time: the core's emergency_wait or failed, or
	 * one of the backend's.
	 */
	struct list_head node;
	struct edublk_dev *edu;
	/*
	 * wdmdma's modes map with the _ex calls: a request that must wait
	 * for its list lives in xfer, so a backend's timeout handler can
	 * cancel one that waited too long (edublk_cancel_wait()).
	 */
	struct wdmdma_xfer_ctx xfer;
	unsigned long started;		/* jiffies when queue_rq started it */
	bool emergency_waiting;		/* on emergency_wait (edu->lock) */
	struct wdmdma_mdl *mdl;
	struct wdmdma_sg_list *sgl;	/* from the list-control callback */
	void *pdu_buf;			/* pdu mode: the Build buffer */
	void *buf;			/* Build buffer in use */
	size_t buf_len;
	u8 buf_src;			/* enum edublk_buf_src */
	bool write;
	bool flush;			/* REQ_OP_FLUSH (edu-sg): no data */
	/* REQ_OP_DISCARD or REQ_OP_WRITE_ZEROES (edu-sg): no data either */
	u8 zero_op;			/* enum edublk_zero_op */
	bool unmap;			/* write zeroes without REQ_NOUNMAP */
	bool fua;			/* a write with REQ_FUA (edu-sg) */
	blk_status_t status;
};

struct edublk_backend_ops;

/*
 * The core's per-device data. A backend's device structure starts with
 * it (ops->dev_size bytes are allocated; the backend finds its own with
 * container_of()).
 */
struct edublk_dev {
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0, for the backend */
	const struct edublk_backend_ops *ops;
	/*
	 * A volatile write cache with FUA: edu-sg's medium may be a host
	 * file that only FLUSH or a FUA write makes durable. The stock edu's
	 * medium is RAM this driver owns, with nothing to write back.
	 */
	bool write_cache;
	bool discard;		/* edu-sg 1.2: discard and write zeroes */
	bool msi;
	enum edublk_mode mode;
	unsigned int dma_bits;
	u64 dma_limit;

	struct wdmdma_adapter *adapter;
	unsigned int nr_map_registers;
	size_t max_list_size;	/* Calculate(NULL, PAGE_SIZE - 1, max) */

	u64 capacity;		/* bytes */

	/* reserve mode: free emergency buffers (a stack) and waiters */
	void **emergency;
	unsigned int nr_emergency;
	unsigned int nr_emergency_free;
	struct list_head emergency_wait;

	/*
	 * The emergency buffers, the failed list and the statistics; a
	 * backend may guard its own state with it too (edu.c does).
	 */
	spinlock_t lock;
	bool dead;			/* given up: new requests fail at once */
	struct list_head failed;	/* to be ended by fail_work */
	struct work_struct fail_work;
	struct edublk_stats stats;

	/*
	 * Hardware queues of type HCTX_TYPE_POLL (set by a backend with
	 * @poll before edublk_add_disk()): the last ones of nr_hw_queues.
	 */
	unsigned int nr_poll_queues;
	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	int index;
	size_t pdu_mdl_off;
	size_t pdu_buf_off;
	struct dentry *debugfs;
};

/**
 * struct edublk_backend_ops - how the core drives a device's backend
 * @dev_size: bytes of the backend's device structure, which starts with
 *	the core's struct edublk_dev
 * @bar0_min: registers the backend uses in BAR0, in bytes
 * @no_partitions: the disk is not scanned for partitions
 * @probe: set up the device and add its disk; the core has allocated
 *	@dev_size bytes, enabled the PCI device and mapped BAR0, and undoes
 *	that if @probe fails, which must undo the rest
 * @remove: drain the disk and undo @probe (the core then frees the device)
 * @shutdown: power-off, reboot, kexec: no DMA from here on
 * @reset_prepare: optional: a function reset (sysfs "reset") begins
 * @reset_done: optional: the function reset is over
 * @error_detected: optional: a PCI error (AER's error_detected); the core
 *	answers PCI_ERS_RESULT_NONE for a backend without it
 * @slot_reset: optional, with @error_detected: the link has been reset
 * @resume: optional, with @error_detected: recovery is over
 * @map_queues: optional: blk-mq's .map_queues for the interrupt-driven
 *	queues, the CPUs each serves (blk_mq_map_queues() without it)
 * @poll: optional: blk-mq's .poll for a HCTX_TYPE_POLL queue (needed if
 *	the backend sets nr_poll_queues): end what the device completed,
 *	return how many
 * @cmd_size: bytes of the backend's per-request data, placed after the
 *	core's struct edublk_cmd in the PDU (edublk_cmd_priv()); called once,
 *	when the disk is added
 * @start_cmd: queue_rq starts a request: set up its backend data, before
 *	anything can end it. @last is blk-mq's bd->last: false if more
 *	requests of the same batch follow on this hardware queue, so the
 *	backend may leave ringing the device to @commit (which it then has)
 * @commit: optional: the batch on @hctx has ended (its last request has
 *	been through queue_rq, or blk-mq's .commit_rqs): tell the device
 *	about every request the batch left for it
 * @list_ready: wdmdma mapped the request's list (cmd->sgl): hand it to the
 *	device. It runs inside Get/Build or from wdmdma's work item, so it
 *	must not end the request itself (edublk_fail_async() does)
 * @queue_nodata: a flush, discard or write zeroes, which no mode maps;
 *	needed if the backend sets write_cache or discard. Return BLK_STS_OK
 *	if the request is on its way, else the status to end it with
 * @native_queue: optional: map and start a request without wdmdma (the
 *	native modes); a backend without it refuses them at probe. Return as
 *	@queue_nodata, or BLK_STS_RESOURCE (nothing mapped, nothing counted
 *	but the requeue) for blk-mq to run it again later
 * @native_unmap: with @native_queue: undo its mapping as the request ends
 *	(whether or not it mapped anything)
 * @timeout: optional: blk-mq's .timeout for a request (the disk has none
 *	without it, so blk-mq re-arms the timer)
 * @debugfs_add: optional: the backend's files in the disk's directory
 * @debugfs_show: optional: the backend's lines at the end of "stats"
 *
 * The core holds no lock when it calls any of these.
 */
struct edublk_backend_ops {
	size_t dev_size;
	resource_size_t bar0_min;
	bool no_partitions;

	int (*probe)(struct edublk_dev *edu);
	void (*remove)(struct edublk_dev *edu);
	void (*shutdown)(struct edublk_dev *edu);
	void (*reset_prepare)(struct edublk_dev *edu);
	void (*reset_done)(struct edublk_dev *edu);
	pci_ers_result_t (*error_detected)(struct edublk_dev *edu,
					   pci_channel_state_t state);
	pci_ers_result_t (*slot_reset)(struct edublk_dev *edu);
	void (*resume)(struct edublk_dev *edu);

	void (*map_queues)(struct edublk_dev *edu,
			   struct blk_mq_queue_map *qmap);
	int (*poll)(struct edublk_dev *edu, struct blk_mq_hw_ctx *hctx);
	size_t (*cmd_size)(const struct edublk_dev *edu);
	void (*start_cmd)(struct edublk_dev *edu, struct edublk_cmd *cmd,
			  struct blk_mq_hw_ctx *hctx, bool last);
	void (*commit)(struct edublk_dev *edu, struct blk_mq_hw_ctx *hctx);
	void (*list_ready)(struct edublk_dev *edu, struct edublk_cmd *cmd,
			   struct wdmdma_sg_list *sgl);
	blk_status_t (*queue_nodata)(struct edublk_dev *edu,
				     struct edublk_cmd *cmd);
	blk_status_t (*native_queue)(struct edublk_dev *edu,
				     struct edublk_cmd *cmd);
	void (*native_unmap)(struct edublk_dev *edu, struct edublk_cmd *cmd);
	enum blk_eh_timer_return (*timeout)(struct edublk_dev *edu,
					    struct edublk_cmd *cmd);

	void (*debugfs_add)(struct edublk_dev *edu, struct dentry *dir);
	void (*debugfs_show)(struct seq_file *m, struct edublk_dev *edu);
};

/* The backends, for the core's PCI ID table alone. */
extern const struct edublk_backend_ops edublk_edu_ops;
extern const struct edublk_backend_ops edublk_sg_ops;

static inline struct request *edublk_rq(struct edublk_cmd *cmd)
{
	return blk_mq_rq_from_pdu(cmd);
}

/*
 * The backend's per-request data: right after the core's, so aligned as
 * struct edublk_cmd is (a backend checks its own fits that alignment).
 */
static inline void *edublk_cmd_priv(struct edublk_cmd *cmd)
{
	return cmd + 1;
}

/* For the backends: main.c, the device and the disk */
int edublk_set_dma_masks(struct edublk_dev *edu);
int edublk_add_disk(struct edublk_dev *edu, struct queue_limits *lim,
		    unsigned int nr_hw_queues, unsigned int timeout);
void edublk_remove_disk(struct edublk_dev *edu);
int edublk_index_alloc(void);
void edublk_index_free(int index);
int edublk_param_uint_range(const char *val, const struct kernel_param *kp,
			    unsigned int min, unsigned int max);
/*
 * EDUBLK_PARAM_UINT_RANGE(name, var, min, max): the read-only module
 * parameter @name setting the unsigned int @var, which must be within
 * [@min, @max] (edublk_param_uint_range()); its MODULE_PARM_DESC() follows.
 */
#define EDUBLK_PARAM_UINT_RANGE(name, var, min, max)			\
	static int name##_param_set(const char *val,			\
				    const struct kernel_param *kp)	\
	{								\
		return edublk_param_uint_range(val, kp, min, max);	\
	}								\
	static const struct kernel_param_ops name##_param_ops = {	\
		.set = name##_param_set,				\
		.get = param_get_uint,					\
	};								\
	module_param_cb(name, &name##_param_ops, &(var), 0444)

extern unsigned int edublk_emergency_param;
extern bool edublk_use_msi;
extern const char * const edublk_mode_names[];

/* For the backends: request.c, the list-source modes, the completion path */
int edublk_alloc_emergency(struct edublk_dev *edu, unsigned int nr);
void edublk_free_emergency(struct edublk_dev *edu);
void edublk_account(struct edublk_dev *edu, struct edublk_cmd *cmd);
bool edublk_cancel_wait(struct edublk_dev *edu, struct edublk_cmd *cmd);
void edublk_fail_later(struct edublk_dev *edu, struct edublk_cmd *cmd);
void edublk_fail_async(struct edublk_dev *edu, struct edublk_cmd *cmd,
		       blk_status_t status);
void edublk_complete(struct edublk_dev *edu, struct edublk_cmd *cmd);

/* For the backends: debugfs.c */
void edublk_debugfs_add(struct edublk_dev *edu);
void edublk_debugfs_remove(struct edublk_dev *edu);

/* The core's own, between its files */
pci_ers_result_t edublk_error_detected(struct pci_dev *pdev,
				       pci_channel_state_t state);
pci_ers_result_t edublk_slot_reset(struct pci_dev *pdev);
void edublk_resume(struct pci_dev *pdev);
void edublk_fail_work(struct work_struct *work);
extern const struct blk_mq_ops edublk_mq_ops;
extern const struct blk_mq_ops edublk_mq_ops_timeout;
void edublk_debugfs_init(void);
void edublk_debugfs_exit(void);

#endif /* EDUBLK_H */
