/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdmdma internals: shared by core.c, mdl.c, nt.c and debugfs.c only.
 */
#ifndef WDMDMA_INTERNAL_H
#define WDMDMA_INTERNAL_H

#include <linux/dma-mapping.h>
#include <linux/mempool.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <wdmdma/wdmdma.h>
#include <wdmdma/ntdma.h>

#define WDMDMA_MDL_ALLOCATED	0x1	/* wdmdma_mdl_free() may kfree it */

/* Where a list's memory came from. */
enum wdmdma_source {
	WDMDMA_SRC_ALLOC,	/* kmalloc(GFP_ATOMIC) by Get */
	WDMDMA_SRC_RESERVE,	/* the adapter's mempool */
	WDMDMA_SRC_CALLER,	/* the caller's Build buffer */
};

/* Life of a request. */
enum wdmdma_req_state {
	WDMDMA_REQ_IDLE,
	WDMDMA_REQ_QUEUED,
	WDMDMA_REQ_RUNNING,	/* dispatched: callback ran or is running */
	WDMDMA_REQ_CANCELLED,
};

#define WDMDMA_REQ_WRITE	0x01	/* write to the device */
#define WDMDMA_REQ_BUILD	0x02	/* list memory is the caller's */
#define WDMDMA_REQ_SLOT		0x04	/* lives in an adapter waiter slot */
#define WDMDMA_REQ_CTX		0x08	/* lives in a wdmdma_xfer_ctx */
#define WDMDMA_REQ_NT		0x10	/* callback has the Windows signature */

struct wdmdma_xfer;

/*
 * A request for a list: everything Get/Build were given. While it waits it
 * sits on adapter->queue; it lives in a transfer context (_ex calls), in the
 * list memory it already holds, or in a preallocated waiter slot.
 */
struct wdmdma_req {
	struct list_head node;
	struct wdmdma_mdl *mdl;
	u64 offset;
	u32 length;
	u32 flags;
	unsigned int span;	/* pages spanned: Windows map registers */
	unsigned int nr_regs;	/* bounce pages needed */
	bool bounce_all;	/* non-SG and not one reachable run */
	u8 state;
	union {
		wdmdma_list_control_t fn;
		PDRIVER_LIST_CONTROL nt_fn;
	};
	void *context;
	struct wdmdma_xfer *xfer;	/* list memory, once held */
	struct wdmdma_req *ctx;		/* the _ex caller's context, or NULL */
	size_t buf_len;			/* Build: the caller's buffer size */
};

/*
 * Tracking data of one list. It heads the list memory (the caller's buffer
 * for Build, the allocation or reserve element for Get) and is followed by
 * the Windows-layout list and then the scatterlist entries.
 */
struct wdmdma_xfer {
	u32 magic;
	u8 source;		/* enum wdmdma_source */
	struct wdmdma_adapter *adapter;
	struct list_head node;	/* adapter->outstanding */
	struct wdmdma_req req;	/* the request, once dispatched */
	unsigned int reg_base;	/* first map register held */
	unsigned int nr_regs;	/* map registers held */
	unsigned int max_ents;	/* capacity of elements[] and sg[] */
	struct sg_table sgt;
	struct scatterlist *sg;
	struct wdmdma_sg_list list;	/* must be last: elements[] follow */
};

#define WDMDMA_XFER_MAGIC	0x57444d41	/* "WDMA" */
#define WDMDMA_XFER_PUT		0x70757421	/* after Put */

struct wdmdma_adapter {
	DMA_ADAPTER nt;			/* what IoGetDmaAdapter returns */
	struct device *dev;
	struct wdmdma_desc desc;
	u64 limit;			/* DMA_BIT_MASK(desc.dma_width) */
	bool iommu;			/* device behind an IOMMU */
	unsigned int max_regs;		/* map registers per transfer */
	unsigned int max_seg;		/* dma_get_max_seg_size() */
	size_t reserve_size;		/* one reserve element */

	spinlock_t lock;		/* guards all below, and stats */
	struct list_head queue;		/* waiting requests, FIFO */
	struct list_head outstanding;	/* lists handed out */
	struct list_head free_slots;	/* waiter slots */
	struct wdmdma_req *slots;
	mempool_t *reserve;

	/* Map registers: nr_chunks contiguous chunks of chunk_pages pages. */
	unsigned int nr_chunks;
	unsigned int chunk_pages;
	void **chunk;
	unsigned long *reg_map;

	struct work_struct work;	/* runs deferred callbacks */
	struct delayed_work retry;	/* after a failed deferred mapping */
	struct work_struct free_work;	/* final free after a late Put */
	bool dead;
	int fail_alloc;			/* percent, or -1: module parameter */

	struct wdmdma_stats stats;
	struct dentry *debugfs;
	unsigned int id;
};

extern bool wdmdma_verifier;
void wdmdma_nt_init(struct wdmdma_adapter *adapter);

int wdmdma_submit(struct wdmdma_adapter *adapter, struct wdmdma_req *tmpl,
		  struct wdmdma_xfer_ctx *ctx, void *buf, unsigned int flags,
		  struct wdmdma_sg_list **sglp);
int wdmdma_offset_of(const struct wdmdma_mdl *mdl, const void *current_va,
		     u64 *offset);

void wdmdma_debugfs_init(void);
void wdmdma_debugfs_exit(void);
void wdmdma_debugfs_add(struct wdmdma_adapter *adapter);
void wdmdma_debugfs_remove(struct wdmdma_adapter *adapter);

static inline struct wdmdma_adapter *wdmdma_from_nt(PDMA_ADAPTER nt)
{
	return nt ? container_of(nt, struct wdmdma_adapter, nt) : NULL;
}

#endif /* WDMDMA_INTERNAL_H */
