/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edublk - a block device on QEMU's stock edu device (PCI 1234:11e8) or on
 * this project's edu-sg device (PCI 1234:11e9), with its DMA lists from
 * wdmdma. Shared by main.c, edu.c (edu engine), edusg.c (edu-sg engine)
 * and debugfs.c.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#ifndef EDUBLK_H
#define EDUBLK_H

#include <linux/blk-mq.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

#include <wdmdma/wdmdma.h>

#include "../compat.h"

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

/* Does @mode map without wdmdma (edu-sg only)? */
static inline bool edublk_mode_is_native(enum edublk_mode mode)
{
	return mode == EDUBLK_MODE_NATIVE || mode == EDUBLK_MODE_NATIVE_SGT;
}

/*
 * Does @mode map a request of several segments through an sg_table
 * (sg_alloc_table_chained(), blk_rq_map_sg(), dma_map_sgtable())?
 * native-sgt does on every kernel; native only where the kernel lacks
 * blk_rq_dma_map_iter_start() (before 6.17), else it takes the iterator.
 */
static inline bool edublk_mode_uses_sgt(enum edublk_mode mode)
{
#ifdef WDMDMA_HAVE_BLK_RQ_DMA_MAP_ITER
	return mode == EDUBLK_MODE_NATIVE_SGT;
#else
	return edublk_mode_is_native(mode);
#endif
}

/*
 * How a native request is mapped (struct edublk_cmd.native_map), so that
 * edublk_sg_native_unmap() undoes exactly that.
 */
enum edublk_native_map {
	EDUBLK_NATIVE_NONE,	/* nothing mapped */
	EDUBLK_NATIVE_BVEC,	/* one segment: dma_map_bvec() */
	EDUBLK_NATIVE_SGT,	/* cmd->sgt: dma_map_sgtable() */
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

/* Where a request's Build buffer came from. */
enum edublk_buf_src {
	EDUBLK_BUF_NONE,	/* get mode, or not yet */
	EDUBLK_BUF_KMALLOC,
	EDUBLK_BUF_EMERGENCY,
	EDUBLK_BUF_PDU,
};

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

/* Where an edu-sg request is (struct edublk_cmd.sg_state). */
enum edublk_sg_state {
	EDUBLK_SG_IDLE,		/* not started, or waiting for its list */
	EDUBLK_SG_ON_DEVICE,	/* posted in its queue's SQ */
	EDUBLK_SG_DONE,		/* handed to the completion path */
};

struct edublk_sg;

/*
 * Per-request data (the blk-mq PDU). The request's MDL follows it, and in
 * pdu mode a Build buffer after that (offsets in struct edublk_dev).
 */
struct edublk_cmd {
	struct list_head node;		/* ready, emergency_wait or failed */
	struct edublk_dev *edu;
	/*
	 * wdmdma's modes map with the _ex calls: a request that must wait
	 * for its list lives in xfer, so edu-sg's timeout handler can cancel
	 * one that waited too long (wdmdma_cancel()).
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

	/* Progress: element, offset in it, medium position of the piece. */
	u32 elem;
	u32 elem_off;
	u64 pos;
	/*
	 * The piece in flight: two edu DMAs through the device buffer. On
	 * edu-sg, ram and len hold the mapping of EDUBLK_NATIVE_BVEC.
	 */
	u64 ram;			/* bus address on the request side */
	dma_addr_t medium;		/* bus address on the medium side */
	u32 len;
	bool second_hop;

	/* edu-sg: the hardware queue, the device tag and the table size */
	u16 qid;
	u16 nelems;
	u8 sg_state;			/* enum edublk_sg_state */
	u8 native_map;			/* enum edublk_native_map */
	u32 dev_tag;
	unsigned long posted;		/* jiffies when last posted */
	/*
	 * The sg_table modes: the request's own table, first entries in the
	 * PDU (inline_sg is NULL in the other modes).
	 */
	struct sg_table sgt;
	struct scatterlist *inline_sg;
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
};

struct edublk_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct edublk_sg *sg;		/* edu-sg state; NULL on the stock edu */
	/*
	 * A volatile write cache with FUA: edu-sg's medium may be a host
	 * file that only FLUSH or a FUA write makes durable. The stock edu's
	 * medium is RAM this driver owns, with nothing to write back.
	 */
	bool write_cache;
	bool discard;		/* edu-sg 1.2: discard and write zeroes */
	int irq;
	bool msi;
	enum edublk_mode mode;
	unsigned int dma_bits;
	u64 dma_limit;

	struct wdmdma_adapter *adapter;
	unsigned int nr_map_registers;
	size_t max_list_size;	/* Calculate(NULL, PAGE_SIZE - 1, max) */

	/* The medium: coherent chunks the device reaches. */
	u64 capacity;		/* bytes */
	unsigned int nr_chunks;
	void **chunk;
	dma_addr_t *chunk_dma;

	/* reserve mode: free emergency buffers (a stack) and waiters */
	void **emergency;
	unsigned int nr_emergency;
	unsigned int nr_emergency_free;
	struct list_head emergency_wait;

	/* The device: one DMA at a time, advanced from the interrupt. */
	spinlock_t lock;
	struct list_head ready;		/* mapped, waiting for the device */
	struct edublk_cmd *active;	/* the request the device works on */
	bool dma_busy;			/* an edu DMA is in flight */
	unsigned int dma_waits;		/* timeouts of this DMA while it ran */
	bool dead;			/* fenced after a hung DMA */
	unsigned long deadline;
	struct timer_list timer;
	struct list_head failed;	/* to be ended by fail_work */
	struct work_struct fail_work;
	unsigned int drop_irqs;		/* debugfs: ignore this many completions */
	struct edublk_stats stats;

	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	int index;
	size_t pdu_mdl_off;
	size_t pdu_buf_off;
	size_t pdu_sg_off;
	struct dentry *debugfs;
};

static inline struct request *edublk_rq(struct edublk_cmd *cmd)
{
	return blk_mq_rq_from_pdu(cmd);
}

/* main.c: shared by both devices */
struct edublk_dev *edublk_dev_get(struct pci_dev *pdev, resource_size_t bar0_min);
void edublk_dev_put(struct edublk_dev *edu);
int edublk_set_dma_masks(struct edublk_dev *edu);
int edublk_alloc_emergency(struct edublk_dev *edu, unsigned int nr);
void edublk_free_emergency(struct edublk_dev *edu);
int edublk_add_disk(struct edublk_dev *edu, struct queue_limits *lim,
		    const struct blk_mq_ops *ops, unsigned int nr_hw_queues,
		    unsigned int timeout);
void edublk_remove_disk(struct edublk_dev *edu);
blk_status_t edublk_queue_rq(struct blk_mq_hw_ctx *hctx,
			     const struct blk_mq_queue_data *bd);
int edublk_init_request(struct blk_mq_tag_set *set, struct request *rq,
			unsigned int hctx_idx, wdmdma_numa_node_t numa_node);
void edublk_account(struct edublk_dev *edu, struct edublk_cmd *cmd);
int edublk_index_alloc(void);
void edublk_index_free(int index);
extern int edublk_mode_param;
extern unsigned int edublk_emergency_param;
extern bool edublk_use_msi;

/* edu.c: the edu engine, and the completion path of both */
void edublk_list_ready(struct device *dev, void *irp,
		       struct wdmdma_sg_list *sgl, void *context);
irqreturn_t edublk_irq(int irq, void *data);
void edublk_dma_timeout(struct timer_list *t);
void edublk_fail_work(struct work_struct *work);
void edublk_complete(struct edublk_dev *edu, struct edublk_cmd *cmd);
blk_status_t edublk_build(struct edublk_dev *edu, struct edublk_cmd *cmd);
blk_status_t edublk_map_status(struct edublk_dev *edu, int err);
void edublk_fail_async(struct edublk_dev *edu, struct edublk_cmd *cmd,
		       blk_status_t status);

/* edusg.c: the edu-sg backend */
int edublk_sg_probe(struct pci_dev *pdev);
void edublk_sg_remove(struct pci_dev *pdev);
void edublk_sg_reset_prepare(struct edublk_dev *edu);
void edublk_sg_reset_done(struct edublk_dev *edu);
void edublk_sg_shutdown(struct edublk_dev *edu);
void edublk_sg_list_ready(struct edublk_dev *edu, struct edublk_cmd *cmd,
			  struct wdmdma_sg_list *sgl);
blk_status_t edublk_sg_native_queue(struct edublk_dev *edu,
				    struct edublk_cmd *cmd);
void edublk_sg_native_unmap(struct edublk_dev *edu, struct edublk_cmd *cmd);
blk_status_t edublk_sg_queue_nodata(struct edublk_dev *edu,
				    struct edublk_cmd *cmd);
void edublk_sg_debugfs_show(struct seq_file *m, struct edublk_dev *edu);
void edublk_sg_debugfs_add(struct edublk_dev *edu, struct dentry *dir);
bool edublk_cancel_wait(struct edublk_dev *edu, struct edublk_cmd *cmd);

/* debugfs.c */
void edublk_debugfs_init(void);
void edublk_debugfs_exit(void);
void edublk_debugfs_add(struct edublk_dev *edu);
void edublk_debugfs_remove(struct edublk_dev *edu);

extern const char * const edublk_mode_names[];

#endif /* EDUBLK_H */
