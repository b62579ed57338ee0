/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdmdma internals, shared by the files of the library only.
 *
 * The library, one concern per file:
 *  adapter.c   adapter lifetime (kref), device DMA masks, module init/exit
 *  queue.c     submit, the waiting queue and its runner, cancel, put
 *  map.c       sizing, planning a request, mapping it, the MDL walk
 *  regs.c      reachability, map registers and bounce copies
 *  verifier.c  caller checks, fault injection
 *  packet.c    packet-based DMA: the adapter channel, MapTransfer, flush
 *  mdl.c       MDLs
 *  nt.c        the Windows names
 *  debugfs.c   statistics and the fault-injection knobs
 *
 * Locking, for all of them: each adapter has one spinlock, adapter->lock,
 * taken with interrupts off (Put may run in hardirq context). It guards the
 * queue, the outstanding list, the waiter slots, the map-register bitmap,
 * the statistics and ->dead. It is never held while a callback runs, while
 * the DMA layer maps or unmaps, or while data is bounced. The global
 * wdmdma_devs_lock (a mutex) serialises creation and destruction of the
 * adapters of a device, which share its streaming DMA mask. With the
 * verifier off, lists that need no map registers and find nobody waiting
 * are claimed and put without the lock (queue.c, "The fast path"): per-CPU
 * counters, and an RCU read-side section against destroy.
 *
 * Lifetime: adapter->ref counts the creator (dropped by destroy), every
 * outstanding list of the locked path, common buffers and map register
 * bases (each dropped when it ends), and adapter->fast_ref while that
 * lives. Lists of the fast path count in adapter->fast_ref instead, a
 * per-CPU reference (no atomic on a shared line per list), which destroy
 * kills once no fast claim can start. The last reference frees the
 * adapter: at once in wdmdma_destroy_adapter(), from the wdmdma workqueue
 * otherwise.
 */
#ifndef WDMDMA_INTERNAL_H
#define WDMDMA_INTERNAL_H

#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/completion.h>
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/fault-inject.h>
#include <linux/kref.h>
#include <linux/mempool.h>
#include <linux/mm.h>
#include <linux/percpu-refcount.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <wdmdma/wdmdma.h>
#include <wdmdma/ntdma.h>

#include "../compat.h"

#define WDMDMA_MDL_ALLOCATED	0x1	/* wdmdma_mdl_free() may kfree it */
/*
 * Set when a piece other than the first does not start a page, or one other
 * than the last does not end one: the pages touched then need a walk.
 */
#define WDMDMA_MDL_IRREGULAR	0x2
#define WDMDMA_MDL_DISCONTIG	0x4	/* pieces not physically contiguous */

/* Where a list's memory came from. */
enum wdmdma_source {
	WDMDMA_SRC_ALLOC,	/* kmalloc(GFP_NOWAIT) by Get */
	WDMDMA_SRC_RESERVE,	/* the adapter's mempool */
	WDMDMA_SRC_CALLER,	/* the caller's Build buffer */
};

/* Life of a request. */
enum wdmdma_req_state {
	WDMDMA_REQ_IDLE,
	WDMDMA_REQ_QUEUED,
	WDMDMA_REQ_MAPPING,	/* claimed, being mapped: no callback yet */
	WDMDMA_REQ_RUNNING,	/* callback ran or is running */
	WDMDMA_REQ_CANCELLED,
};

/*
 * What a waiting request lacks. A new request waits only behind requests
 * that lack something it needs too (FIFO per resource).
 */
enum wdmdma_wait {
	WDMDMA_WAIT_MAP,	/* mapping space: retried after a back-off */
	WDMDMA_WAIT_MEM,	/* list memory */
	WDMDMA_WAIT_REGS,	/* map registers */
	WDMDMA_WAIT_CHAN,	/* the adapter channel (packet.c) */
	WDMDMA_WAIT_NONE,	/* has all it needs: runs at the next kick */
	WDMDMA_NR_WAIT,
};

#define WDMDMA_REQ_WRITE	0x01	/* write to the device */
#define WDMDMA_REQ_BUILD	0x02	/* list memory is the caller's */
#define WDMDMA_REQ_SLOT		0x04	/* lives in an adapter waiter slot */
#define WDMDMA_REQ_CTX		0x08	/* lives in a wdmdma_xfer_ctx */
#define WDMDMA_REQ_NT		0x10	/* callback has the Windows signature */
#define WDMDMA_REQ_MAP_WAIT	0x20	/* its last mapping failed for space */
#define WDMDMA_REQ_CHANNEL	0x40	/* asks for the adapter channel (packet.c) */

struct wdmdma_xfer;

/*
 * What a map register base (a struct wdmdma_xfer of packet.c) has mapped
 * since its last flush. Its records of mapped pieces follow its elements
 * (where a list's scatterlist entries go); list.nr_elements is 1 once its
 * map registers are mapped for the device, at list.elements[0].addr.
 */
struct wdmdma_pkt {
	const struct wdmdma_mdl *mdl;	/* one-element copy: its MDL */
	u32 offset;			/* and where in it the copy starts */
	u32 cursor;			/* bytes of map registers copied to */
	u32 used;			/* map registers MapTransfer used */
	u32 nr_recs : 31;		/* records of mapped pieces */
	u32 write : 1;			/* direction of the transfer */
};

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
	bool bounce_all;	/* one element: copy it all to registers */
	u8 state;
	u8 wait;		/* enum wdmdma_wait, while queued */
	u8 also;		/* channel request: what else it is counted in */
	union {
		wdmdma_list_control_t fn;
		PDRIVER_LIST_CONTROL nt_fn;
		wdmdma_adapter_control_t ctl_fn;	/* WDMDMA_REQ_CHANNEL */
		PDRIVER_CONTROL nt_ctl_fn;		/* and WDMDMA_REQ_NT */
	};
	void *context;
	struct device *dev;		/* for the callback */
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
	bool in_routine;	/* map register base: its routine runs */
	bool free_at_return;	/* and it was freed meanwhile (packet.c) */
	struct wdmdma_adapter *adapter;
	struct list_head node;	/* adapter->outstanding */
	struct wdmdma_req req;	/* the request, once dispatched */
	unsigned int reg_base;	/* first map register held */
	unsigned int nr_regs;	/* map registers held */
	unsigned int max_ents;	/* capacity of elements[] and sg[] */
	bool direct;		/* mapped run by run, no scatterlist */
	bool iova;		/* linked into one IOVA range (wdmdma_iova) */
	unsigned int nr_runs;	/* runs mapped, while direct */
	bool tracked;		/* on adapter->outstanding (locked path) */
	union {
		struct {
			struct sg_table sgt;
			struct scatterlist *sg;
		};
		struct wdmdma_pkt pkt;	/* a map register base (packet.c) */
	};
	struct wdmdma_sg_list list;	/* must be last: elements[] follow */
};

/*
 * What Put unmaps of a directly mapped list, kept where the scatterlist
 * entries would be: the elements belong to the driver once it has them.
 */
struct wdmdma_run {
	dma_addr_t addr;
	u32 len;
};

/*
 * What Put unmaps of a list linked into one IOVA range, kept in the same
 * place (WDMDMA_HAVE_DMA_IOVA kernels only).
 */
struct wdmdma_iova {
#ifdef WDMDMA_HAVE_DMA_IOVA
	struct dma_iova_state state;
#endif
	size_t len;
};

/*
 * Lists of up to this many pages without a translating IOMMU are mapped
 * run by run; longer ones through one dma_map_sgtable(), whose loop costs
 * less per page than a call per run.
 */
#define WDMDMA_DIRECT_MAX	4
/* Get lists of up to this many pages are one size, and kept spare. */
#define WDMDMA_SPARE_SPAN	WDMDMA_DIRECT_MAX

#define WDMDMA_XFER_MAGIC	0x57444d41	/* "WDMA" */
#define WDMDMA_XFER_PUT		0x70757421	/* after Put */

/*
 * Counters of lists claimed and put without adapter->lock (the fast path),
 * per CPU; wdmdma_get_stats() adds them to the locked ones. A list put on
 * another CPU than it was claimed on leaves one CPU's @outstanding
 * negative: only the sum means anything.
 */
struct wdmdma_pcpu_stats {
	s64 outstanding;
	s64 allocated;
	s64 built;
	s64 fast;
	s64 iova;	/* lists linked into one IOVA range (map.c) */
	/* Get's spare list of adapter->spare_ents elements (queue.c). */
	struct wdmdma_xfer *spare;
};

struct wdmdma_adapter {
	DMA_ADAPTER nt;			/* what IoGetDmaAdapter returns */
	struct device *dev;
	struct wdmdma_desc desc;
	u64 limit;			/* DMA_BIT_MASK(desc.dma_width) */
	bool translated;		/* a translating IOMMU domain maps it */
	bool iova;			/* link lists into one IOVA range */
	unsigned long iova_mask;	/* IOMMU granule - 1, when iova */
	u64 reach;			/* wdmdma_reach() */
	bool pad_regs;			/* wdmdma_reg_place() */
	unsigned int max_regs;		/* map registers per transfer */
	unsigned int max_seg;		/* dma_get_max_seg_size() */
	u32 max_run;			/* max_seg, or what the DMA layer can map */
	unsigned long seg_boundary;	/* dma_get_seg_boundary() */
	size_t reserve_size;		/* one reserve element */
	struct kref ref;

	/* Adapters of one device, under wdmdma_devs_lock. */
	struct list_head dev_node;
	u64 saved_mask;			/* the device's mask before wdmdma */

	spinlock_t lock;		/* guards all below (see the top) */
	struct list_head queue;		/* waiting requests, FIFO */
	unsigned int nr_waiting[WDMDMA_NR_WAIT];
	struct list_head outstanding;	/* lists handed out */
	struct list_head free_slots;	/* waiter slots */
	struct wdmdma_req *slots;
	mempool_t *reserve;

	/* Map registers: nr_chunks contiguous chunks of chunk_pages pages. */
	unsigned int nr_chunks;
	unsigned int chunk_pages;
	void **chunk;
	unsigned long *reg_map;

	/* The adapter channel (packet.c). */
	struct wdmdma_xfer *chan_owner;	/* the base holding it, or NULL */
	struct task_struct *chan_task;	/* runs the owner's routine */
	unsigned int chan_ctx;		/* in this context (irq bits) */
	bool chan_kept;			/* its routine returned KeepObject */
	struct wdmdma_xfer *chan_base;	/* registers FreeAdapterChannel frees */
	struct wdmdma_xfer *chan_caller; /* base whose routine runs ... */
	struct task_struct *chan_caller_task;	/* ... in this task */
	unsigned int chan_caller_ctx;	/* ... and context */
	struct work_struct work;	/* runs deferred callbacks */
	struct delayed_work retry;	/* after a mapping failed for space */
	unsigned long retry_delay;	/* jiffies, doubles up to 100 ms */
	struct work_struct free_work;	/* final free from atomic context */
	atomic_t mapping;		/* claimed lists still being mapped */
	bool dead;

	/* Fault injection (verifier.c). */
	int fail_alloc;			/* percent, or -1: global knobs */
	int inject_err;			/* errno for injected map failures */
	atomic_t inject_times;		/* injected map failures left; -1: all */

	struct wdmdma_stats stats;
	struct wdmdma_pcpu_stats __percpu *pcpu;
	bool fast;			/* created with the verifier off */
	unsigned int spare_ents;	/* a spare list's elements, or 0 */
	struct percpu_ref fast_ref;	/* lists of the fast path */
	bool fast_waited;		/* destroy waits for fast_ref's end */
	struct completion fast_done;	/* ... which completes this */
	struct dentry *debugfs;
	unsigned int id;
};

/* adapter.c */
extern struct workqueue_struct *wdmdma_wq;
void wdmdma_adapter_release(struct kref *ref);
void wdmdma_read_stats(struct wdmdma_adapter *adapter,
		       struct wdmdma_stats *stats);

/* queue.c */
int wdmdma_submit(struct wdmdma_adapter *adapter, struct wdmdma_req *tmpl,
		  struct wdmdma_xfer_ctx *ctx, void *buf, unsigned int flags,
		  struct wdmdma_sg_list **sglp);
void wdmdma_kick(struct wdmdma_adapter *adapter);
void wdmdma_run_queue(struct work_struct *work);
void wdmdma_retry_work(struct work_struct *work);
void wdmdma_queue_cancel_all(struct wdmdma_adapter *adapter);
void wdmdma_wait_mappings(struct wdmdma_adapter *adapter);
void wdmdma_xfer_release(struct wdmdma_adapter *adapter,
			 struct wdmdma_xfer *xfer);
void *wdmdma_reserve_elem_alloc(gfp_t gfp, void *data);
void wdmdma_reserve_elem_free(void *elem, void *data);
struct wdmdma_xfer *wdmdma_xfer_alloc(struct wdmdma_adapter *adapter,
				      unsigned int span);
struct wdmdma_req *wdmdma_queue_wait(struct wdmdma_adapter *adapter,
				     struct wdmdma_req *tmpl,
				     struct wdmdma_req *cur,
				     struct wdmdma_xfer *xfer);
int wdmdma_submit_allowed(struct wdmdma_adapter *adapter,
			  const struct wdmdma_req *cur);
int wdmdma_submit_error(struct wdmdma_adapter *adapter, int ret);
bool wdmdma_behind(struct wdmdma_adapter *adapter, unsigned long need);
struct wdmdma_xfer *wdmdma_claim_now(struct wdmdma_adapter *adapter,
				     struct wdmdma_req *tmpl,
				     struct wdmdma_req *cur,
				     struct wdmdma_xfer **xfer);
void wdmdma_mapping_done(struct wdmdma_adapter *adapter);
void wdmdma_xfer_retire(struct wdmdma_adapter *adapter,
			struct wdmdma_xfer *xfer);

/* packet.c */
#define WDMDMA_REGS_MAGIC	0x57524547	/* "WREG": a map register base */

int wdmdma_channel_submit(struct wdmdma_adapter *adapter,
			  struct wdmdma_req *tmpl, unsigned int nr,
			  struct wdmdma_xfer_ctx *ctx, unsigned int flags,
			  struct wdmdma_map_regs **regsp);
void wdmdma_channel_claimed(struct wdmdma_adapter *adapter,
			    struct wdmdma_xfer *xfer);
void wdmdma_channel_run(struct wdmdma_adapter *adapter,
			struct wdmdma_xfer *xfer);

/* map.c */
/* Yields the pieces of a byte range, none crossing a page boundary. */
struct wdmdma_iter {
	const struct wdmdma_mdl *mdl;
	unsigned int idx;	/* bvec in mdl */
	u32 skip;		/* bytes of that bvec already consumed */
	u64 left;		/* bytes of the range still to yield */
};

int wdmdma_iter_init_walk(struct wdmdma_iter *it,
			  const struct wdmdma_mdl *mdl, u64 offset, u64 len);
int wdmdma_plan(struct wdmdma_adapter *adapter, struct wdmdma_req *req);
int wdmdma_xfer_map(struct wdmdma_xfer *xfer);
void wdmdma_xfer_unmap_sgt(struct wdmdma_xfer *xfer);
void wdmdma_unmap_direct(struct wdmdma_xfer *xfer, unsigned long attrs);
void wdmdma_unmap_iova(struct wdmdma_xfer *xfer, unsigned long attrs);
void wdmdma_iova_setup(struct wdmdma_adapter *adapter);

/* Hot-path helpers, inline: every call counts on the mapping path. */

static inline unsigned int wdmdma_span_pages(unsigned long off, u64 len)
{
	return DIV_ROUND_UP((u64)offset_in_page(off) + len, PAGE_SIZE);
}

/*
 * Entries of the element and scatterlist arrays a transfer needs. A
 * one-element device behind a translating IOMMU keeps one scatterlist
 * entry per run too: the IOMMU joins them into one bus range.
 */
static inline unsigned int
wdmdma_xfer_ents(const struct wdmdma_adapter *adapter, unsigned int span)
{
	return adapter->desc.scatter_gather || adapter->translated ? span : 1;
}

static inline size_t wdmdma_xfer_size(unsigned int ents)
{
	size_t size = sizeof(struct wdmdma_xfer) +
		      ents * sizeof(struct wdmdma_sg_element);

	return ALIGN(size, __alignof__(struct scatterlist)) +
	       ents * sizeof(struct scatterlist);
}

/*
 * Fill in every field of a request on the caller's stack but its node (set
 * when it is queued) and its callback (the caller's, in the union). Field
 * by field into a record declared __uninitialized: with the kernel's
 * zeroing of stack variables (INIT_STACK_ALL_ZERO) a zeroed record costs
 * more than the rest of Build.
 */
static __always_inline void wdmdma_req_init(struct wdmdma_req *req,
					    struct wdmdma_mdl *mdl, u64 offset,
					    u32 length, u32 flags,
					    void *context, struct device *dev,
					    size_t buf_len)
{
	req->mdl = mdl;
	req->offset = offset;
	req->length = length;
	req->flags = flags;
	req->span = 0;
	req->nr_regs = 0;
	req->bounce_all = false;
	req->state = WDMDMA_REQ_IDLE;
	req->wait = 0;
	req->also = 0;
	req->context = context;
	req->dev = dev;
	req->xfer = NULL;
	req->ctx = NULL;
	req->buf_len = buf_len;
}

static inline int wdmdma_offset_of(const struct wdmdma_mdl *mdl,
				   const void *current_va, u64 *offset)
{
	if (!mdl || (unsigned long)current_va < (unsigned long)mdl->va)
		return -EINVAL;
	*offset = (unsigned long)current_va - (unsigned long)mdl->va;
	return 0;
}

static inline bool wdmdma_iter_next(struct wdmdma_iter *it,
				    struct page **page, unsigned int *off,
				    unsigned int *len)
{
	const struct bio_vec *bv;
	unsigned int pos, n;

	while (it->left && it->mdl) {
		if (it->idx >= it->mdl->nr_bvecs) {
			it->mdl = it->mdl->next;
			it->idx = 0;
			it->skip = 0;
			continue;
		}
		bv = &it->mdl->bvec[it->idx];
		if (it->skip >= bv->bv_len) {
			it->idx++;
			it->skip = 0;
			continue;
		}
		pos = bv->bv_offset + it->skip;
		n = min_t(u64, it->left, bv->bv_len - it->skip);
		n = min_t(unsigned int, n, PAGE_SIZE - offset_in_page(pos));
		*page = wdmdma_nth_page(bv->bv_page, pos >> PAGE_SHIFT);
		*off = offset_in_page(pos);
		*len = n;
		it->skip += n;
		it->left -= n;
		return true;
	}
	return false;
}

/* Would a segment from @start to @last cross the device's boundary? */
static inline bool wdmdma_crosses(const struct wdmdma_adapter *adapter,
				  u64 start, u64 last)
{
	return (start ^ last) & ~(u64)adapter->seg_boundary;
}

/*
 * Pages the range @offset + @len of an ordinary MDL touches, without a
 * walk: one MDL (no chain) whose pieces follow one another page by page and
 * whose kept sum matches its byte count. False when it needs the walk
 * (chained, irregular, out of range or malformed: the walk says which).
 */
static inline bool wdmdma_quick_span(const struct wdmdma_mdl *mdl,
				     u64 offset, u32 len, unsigned int *span)
{
	if (!mdl || mdl->next || !mdl->nr_bvecs ||
	    mdl->nr_bvecs > mdl->max_bvecs || mdl->bytes != mdl->byte_count ||
	    (mdl->flags & WDMDMA_MDL_IRREGULAR))
		return false;
	if (offset >= mdl->byte_count || len > mdl->byte_count - offset)
		return false;
	*span = wdmdma_span_pages(mdl->bvec[0].bv_offset + offset, len);
	return true;
}

/*
 * Does the device reach every page of @mdl? From its highest physical end,
 * when bus addresses grow with physical ones (no DMA range map).
 */
static inline bool wdmdma_quick_reach(const struct wdmdma_adapter *adapter,
				      const struct wdmdma_mdl *mdl)
{
	struct device *dev = adapter->dev;

	if (adapter->reach == U64_MAX)
		return true;
	if (dev->dma_range_map || !mdl->phys_end)
		return false;
	return phys_to_dma(dev, mdl->phys_end - 1) <= adapter->reach;
}

/*
 * Can a one-element device take the range of a quick MDL as it is: one
 * physically contiguous run that crosses no segment boundary?
 */
static inline bool wdmdma_quick_one(const struct wdmdma_adapter *adapter,
				    const struct wdmdma_req *req)
{
	const struct wdmdma_mdl *mdl = req->mdl;
	u64 start;

	if (mdl->flags & WDMDMA_MDL_DISCONTIG)
		return false;
	start = page_to_phys(mdl->bvec[0].bv_page) + mdl->bvec[0].bv_offset +
		req->offset;
	return !wdmdma_crosses(adapter, start, start + req->length - 1);
}

/*
 * Position @it at @offset of the chain: -ERANGE if the chain ends before
 * @offset + @len, -EBADMSG if an MDL's byte count is not the sum of its
 * pieces. An MDL the wdmdma_mdl_*() functions keep (its sum known) whose
 * range starts in its first piece needs no walk.
 */
static inline int wdmdma_iter_init(struct wdmdma_iter *it,
				   const struct wdmdma_mdl *mdl, u64 offset,
				   u64 len)
{
	if (!mdl->next && mdl->bytes == mdl->byte_count && mdl->nr_bvecs &&
	    mdl->nr_bvecs <= mdl->max_bvecs && offset < mdl->bvec[0].bv_len &&
	    len <= mdl->byte_count - offset) {
		it->mdl = mdl;
		it->idx = 0;
		it->skip = offset;
		it->left = len;
		return 0;
	}
	return wdmdma_iter_init_walk(it, mdl, offset, len);
}

/*
 * wdmdma_plan() without a walk, for an ordinary MDL whose pages the device
 * all reaches as they are: 0 (planned), -ENOSPC, or 1 (walk it).
 */
static inline int wdmdma_plan_quick(const struct wdmdma_adapter *adapter,
				    struct wdmdma_req *req)
{
	unsigned int span;

	if (!wdmdma_quick_span(req->mdl, req->offset, req->length, &span) ||
	    !wdmdma_quick_reach(adapter, req->mdl) ||
	    (!adapter->desc.scatter_gather && !wdmdma_quick_one(adapter, req)))
		return 1;
	if (span > adapter->max_regs)
		return -ENOSPC;
	req->span = span;
	req->nr_regs = 0;
	req->bounce_all = false;
	return 0;
}

static inline enum dma_data_direction wdmdma_req_dir(const struct wdmdma_req *req)
{
	return req->flags & WDMDMA_REQ_WRITE ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
}

/*
 * The area after the elements: the scatterlist entries on the sg_table
 * path, else the private record of how the list was mapped (runs, or an
 * IOVA range).
 */
static inline void *wdmdma_xfer_private(struct wdmdma_xfer *xfer)
{
	return (void *)ALIGN((unsigned long)&xfer->list.elements[xfer->max_ents],
			     __alignof__(struct scatterlist));
}

/* The private record of a directly mapped list's runs (see wdmdma_run). */
static inline struct wdmdma_run *wdmdma_xfer_runs(struct wdmdma_xfer *xfer)
{
	return wdmdma_xfer_private(xfer);
}

/*
 * Unmap a list and copy bounced read data back to the buffer. A list of
 * one run (the usual one-page request) is unmapped here, with no call.
 */
static inline void wdmdma_xfer_unmap(struct wdmdma_xfer *xfer)
{
	if (xfer->direct && xfer->nr_runs == 1) {
		const struct wdmdma_run *run = wdmdma_xfer_runs(xfer);

		dma_unmap_page_attrs(xfer->adapter->dev, run->addr, run->len,
				     wdmdma_req_dir(&xfer->req), 0);
	} else if (xfer->direct) {
		wdmdma_unmap_direct(xfer, 0);
	} else if (xfer->iova) {
		wdmdma_unmap_iova(xfer, 0);
	} else {
		wdmdma_xfer_unmap_sgt(xfer);
	}
}

/* regs.c */
/* Bounced pieces of a scatter/gather list never share a cache line. */
#define WDMDMA_BOUNCE_ALIGN	L1_CACHE_BYTES

bool wdmdma_translated(struct device *dev);
u64 wdmdma_reach(const struct wdmdma_adapter *adapter);
bool wdmdma_reachable(const struct wdmdma_adapter *adapter, u64 reach,
		      struct page *page, unsigned int off, unsigned int len);
int wdmdma_regs_init(struct wdmdma_adapter *adapter);
void wdmdma_regs_exit(struct wdmdma_adapter *adapter);
bool wdmdma_regs_alloc(struct wdmdma_adapter *adapter, unsigned int nr,
		       unsigned int *base);
void wdmdma_regs_free(struct wdmdma_adapter *adapter, unsigned int base,
		      unsigned int nr);
void *wdmdma_reg_addr(struct wdmdma_adapter *adapter, unsigned int reg);
size_t wdmdma_reg_place(const struct wdmdma_adapter *adapter,
			const struct wdmdma_req *req, size_t pos,
			unsigned int len);
void wdmdma_copy_piece(struct page *page, unsigned int off, void *regs,
		       unsigned int len, bool to_regs);
void wdmdma_bounce_copy(struct wdmdma_xfer *xfer, bool to_regs);

/* verifier.c */
extern bool wdmdma_verifier;
__printf(2, 3) void wdmdma_verifier_report(struct wdmdma_adapter *adapter,
					   const char *fmt, ...);
bool wdmdma_verify_put(struct wdmdma_adapter *adapter,
		       struct wdmdma_xfer *xfer);
bool wdmdma_verify_build_buf(struct wdmdma_adapter *adapter, void *buf);
bool wdmdma_list_alloc_should_fail(struct wdmdma_adapter *adapter);
bool wdmdma_create_alloc_should_fail(void);
int wdmdma_map_injected_error_armed(struct wdmdma_adapter *adapter);

/* The error an injected mapping failure gives now, or 0. */
static inline int wdmdma_map_injected_error(struct wdmdma_adapter *adapter)
{
	if (likely(!atomic_read(&adapter->inject_times)))
		return 0;
	return wdmdma_map_injected_error_armed(adapter);
}

#ifdef CONFIG_FAULT_INJECTION
extern struct fault_attr wdmdma_fail_alloc_attr;
#endif

/* nt.c */
void wdmdma_nt_init(struct wdmdma_adapter *adapter);

/* debugfs.c */
void wdmdma_debugfs_init(void);
void wdmdma_debugfs_exit(void);
void wdmdma_debugfs_add(struct wdmdma_adapter *adapter);
void wdmdma_debugfs_remove(struct wdmdma_adapter *adapter);

/* Drop a reference from any context; the last one frees from the queue. */
static inline void wdmdma_adapter_put(struct wdmdma_adapter *adapter)
{
	kref_put(&adapter->ref, wdmdma_adapter_release);
}

/* The reference of a list of the fast path (queue.c), taken and dropped. */
static inline void wdmdma_fast_get(struct wdmdma_adapter *adapter)
{
	percpu_ref_get(&adapter->fast_ref);
}

static inline void wdmdma_fast_put(struct wdmdma_adapter *adapter)
{
	percpu_ref_put(&adapter->fast_ref);
}

static inline struct wdmdma_adapter *wdmdma_from_nt(PDMA_ADAPTER nt)
{
	return nt ? container_of(nt, struct wdmdma_adapter, nt) : NULL;
}

#endif /* WDMDMA_INTERNAL_H */
