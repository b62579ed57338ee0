/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdmdma - the Windows scatter/gather DMA contract on the Linux DMA API.
 *
 * An adapter (IoGetDmaAdapter) wraps a struct device and what the device
 * can do: scatter/gather or one element, DMA address width, maximum
 * transfer. Drivers describe a buffer with an MDL chain and ask for a
 * scatter/gather list for a range of it; wdmdma fills an sg_table, maps it
 * with dma_map_sgtable(), bounces pages the device cannot reach through the
 * adapter's own preallocated map registers, and calls the driver's
 * list-control callback with a Windows-layout list. The driver programs the
 * device and, when the transfer is over, gives the list back with
 * wdmdma_put_sg_list(), which unmaps, copies bounce data back for reads and
 * frees what the list held.
 *
 * Memory for a list comes from one of three places:
 *  - wdmdma_get_sg_list(): a non-sleeping allocation, else an element of the
 *    adapter's emergency reserve (a mempool of lists sized for maximum
 *    transfers), else the request waits in the adapter's FIFO queue;
 *  - wdmdma_build_sg_list(): the caller's buffer, sized with
 *    wdmdma_calculate_sg_list(); nothing is ever allocated;
 * and in both cases the request also waits when map registers are short,
 * or when the DMA layer is out of mapping space (swiotlb, IOVA). A waiting
 * request waits only behind earlier requests that wait for something it
 * needs too (FIFO per resource), and its callback runs later, exactly once:
 * with the list, or with a NULL list if its mapping then fails for a
 * reason that will not go away.
 *
 * Map registers are needed for pages the DMA layer would bounce: when no
 * translating IOMMU domain maps the device (an identity domain counts as
 * none), pages whose bus address is beyond the smaller of the adapter's
 * width, the device's DMA mask and its bus limit. A one-element device
 * behind a translating IOMMU gets a discontiguous buffer as one IOVA range,
 * without copying.
 *
 * Lifetime: an adapter lives until it is destroyed and every list it
 * handed out is put; wdmdma_destroy_adapter() may race Put, Cancel and
 * deferred callbacks safely. The adapters of one device share its
 * streaming DMA mask (see wdmdma_create_adapter()); wdmdma never changes
 * the coherent mask.
 *
 * Context rules
 * -------------
 *  - wdmdma_calculate_sg_list(), wdmdma_get_sg_list(), wdmdma_build_sg_list(),
 *    their _ex variants, wdmdma_cancel() and wdmdma_put_sg_list() never
 *    sleep; nor do the packet-based calls (wdmdma_allocate_channel(_ex)(),
 *    wdmdma_map_transfer(_ex)(), wdmdma_flush_adapter_buffers(_ex)(),
 *    wdmdma_free_map_registers(), wdmdma_free_channel()), whose
 *    adapter-control routine runs in the contexts a list-control callback
 *    runs in. They may be called from process, softirq and hardirq context,
 *    with or without the caller's own spinlocks held (as long as the
 *    callback does not take those locks: see the next point).
 *  - When resources are available at once, the callback runs in the
 *    caller's context before Get/Build returns. Otherwise it runs later from
 *    the adapter's work item, in process context with bottom halves
 *    disabled, never from inside wdmdma_put_sg_list(). In both cases the
 *    callback must not sleep, and it may call Get, Build or Put itself.
 *  - wdmdma_create_adapter() and wdmdma_destroy_adapter() sleep.
 *  - Locking: each adapter has one spinlock (irq-safe) guarding its queue,
 *    map-register bitmap and statistics; it is never held while a callback
 *    runs or while dma_map_sgtable() runs.
 *  - wdmdma_flush_adapter() sleeps; not from a callback.
 *  - wdmdma_get_transfer_info(), wdmdma_get_adapter_info(),
 *    wdmdma_get_dma_alignment() and the MDL functions never sleep;
 *    wdmdma_mdl_from_sg_list() sleeps only as its gfp allows.
 *  - Common buffers: wdmdma_alloc_common_buffer(_bounds)() and
 *    wdmdma_free_common_buffer() run in process context and sleep (as on
 *    Windows, PASSIVE_LEVEL only); a gfp that may not sleep is refused. A
 *    common buffer keeps its adapter's memory alive until it is freed.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#ifndef WDMDMA_WDMDMA_H
#define WDMDMA_WDMDMA_H

#include <linux/bvec.h>
#include <linux/device.h>
#include <linux/mm.h>
#include <linux/types.h>

/*
 * The version of this API and of the modules built from this tree (their
 * MODULE_VERSION); dkms.conf's PACKAGE_VERSION is the same, as
 * scripts/dkms.sh checks.
 */
#define WDMDMA_VERSION		"0.1.0"

struct request;
struct wdmdma_adapter;

/**
 * struct wdmdma_sg_element - one bus-contiguous run of a list
 * @addr: bus (DMA) address of the run
 * @len: length of the run in bytes
 * @reserved: owned by wdmdma
 *
 * Same layout as Windows' SCATTER_GATHER_ELEMENT on 64-bit.
 */
struct wdmdma_sg_element {
	u64 addr;
	u32 len;
	unsigned long reserved;
};

/**
 * struct wdmdma_sg_list - the scatter/gather list handed to a callback
 * @nr_elements: number of valid entries in @elements
 * @reserved: owned by wdmdma (points to the list's tracking data)
 * @elements: the runs, in transfer order
 *
 * Same layout as Windows' SCATTER_GATHER_LIST on 64-bit.
 */
struct wdmdma_sg_list {
	u32 nr_elements;
	unsigned long reserved;
	struct wdmdma_sg_element elements[];
};

/**
 * typedef wdmdma_list_control_t - a driver's list-control callback
 * @dev: the device the adapter was created for
 * @irp: always NULL (Linux has no current IRP; keep requests in @context)
 * @sgl: the mapped list; valid until wdmdma_put_sg_list()
 * @context: the driver's context pointer given to Get/Build
 *
 * Runs exactly once for every Get/Build that returned 0, unless the
 * request was cancelled. Must not sleep (see "Context rules").
 *
 * @sgl is NULL when a request that had to wait could not be mapped for a
 * reason that will not go away (the DMA layer refused it, or it gave a bus
 * address the device cannot reach): end the request with -EIO. Nothing is
 * held for it then (no Put; a Build buffer is the caller's again). A
 * request that did not wait gets the same error as Get/Build's return
 * value instead, and its callback never runs.
 */
typedef void (*wdmdma_list_control_t)(struct device *dev, void *irp,
				      struct wdmdma_sg_list *sgl,
				      void *context);

/**
 * struct wdmdma_desc - what a device can do (Windows DEVICE_DESCRIPTION)
 * @scatter_gather: the device takes a list; false: it needs one element
 *	(wdmdma bounces through contiguous map registers when needed)
 * @dma_width: DMA address width in bits (24..64); wdmdma never hands the
 *	device a bus address beyond it. The device's streaming DMA mask is
 *	managed across all adapters of the device (see
 *	wdmdma_create_adapter()); its coherent mask is the driver's
 * @max_transfer: largest single transfer in bytes (Windows MaximumLength)
 * @nr_reserve: how many maximum-length transfers the emergency reserve
 *	covers (0 means 1)
 * @max_waiters: how many Get requests without a transfer context may wait
 *	for memory at once when even the reserve is empty (0 means 64); Build
 *	and _ex requests never need one of these slots
 */
struct wdmdma_desc {
	bool scatter_gather;
	unsigned int dma_width;
	u32 max_transfer;
	unsigned int nr_reserve;
	unsigned int max_waiters;
};

/*
 * MDL - a buffer descriptor that chains like a Windows MDL. The pages are
 * kept as bio_vecs, so a block request's segments fit one-to-one. @va is
 * the "virtual address" of the buffer's first byte: a real kernel address
 * for kernel buffers, a token for page-based MDLs. Windows-style offsets
 * work either way: CurrentVa = wdmdma_mdl_va(mdl) + byte offset.
 */

/**
 * struct wdmdma_mdl - memory descriptor list
 * @next: next MDL of the chain, or NULL
 * @va: virtual address (or token) of the first byte
 * @byte_count: bytes described
 * @nr_bvecs: entries in use in @bvec
 * @max_bvecs: capacity of @bvec
 * @flags: WDMDMA_MDL_* bits, owned by wdmdma
 * @bytes: sum of the pieces' lengths, owned by wdmdma
 * @phys_end: highest physical address past a piece, owned by wdmdma
 * @bvec: the pages, in order
 *
 * Fill @bvec only through the wdmdma_mdl_*() functions: they keep @flags,
 * @bytes and @phys_end, which let wdmdma size and map an ordinary MDL
 * without walking it. @next may be set directly to chain MDLs.
 */
struct wdmdma_mdl {
	struct wdmdma_mdl *next;
	void *va;
	u32 byte_count;
	u16 nr_bvecs;
	u16 max_bvecs;
	u32 flags;
	u32 bytes;
	u64 phys_end;
	struct bio_vec bvec[];
};

/**
 * wdmdma_mdl_size() - bytes needed for an MDL of up to @nr_bvecs pages
 * @nr_bvecs: capacity in bio_vecs
 *
 * Lets a driver embed MDLs in preallocated memory (wdmdma_mdl_init()).
 *
 * Return: the size in bytes.
 */
static inline size_t wdmdma_mdl_size(unsigned int nr_bvecs)
{
	return sizeof(struct wdmdma_mdl) + nr_bvecs * sizeof(struct bio_vec);
}

/**
 * wdmdma_mdl_va() - the MDL's virtual address (MmGetMdlVirtualAddress)
 * @mdl: the MDL
 *
 * Return: the address (or token) of the MDL's first byte.
 */
static inline void *wdmdma_mdl_va(const struct wdmdma_mdl *mdl)
{
	return mdl->va;
}

/**
 * wdmdma_mdl_byte_count() - bytes the MDL describes (MmGetMdlByteCount)
 * @mdl: the MDL
 *
 * Return: the byte count of this MDL alone, not of the chain.
 */
static inline u32 wdmdma_mdl_byte_count(const struct wdmdma_mdl *mdl)
{
	return mdl->byte_count;
}

struct wdmdma_mdl *wdmdma_mdl_alloc(void *va, u32 len, gfp_t gfp);
int wdmdma_mdl_build_for_kernel_buffer(struct wdmdma_mdl *mdl);
struct wdmdma_mdl *wdmdma_mdl_from_bvecs(const struct bio_vec *bv,
					 unsigned int nr, gfp_t gfp);
void wdmdma_mdl_init(struct wdmdma_mdl *mdl, unsigned int max_bvecs);
int wdmdma_mdl_add_page(struct wdmdma_mdl *mdl, struct page *page,
			unsigned int len, unsigned int offset);
int wdmdma_mdl_init_request(struct wdmdma_mdl *mdl, unsigned int max_bvecs,
			    struct request *rq);
void wdmdma_mdl_free(struct wdmdma_mdl *mdl);
int wdmdma_mdl_build_partial(const struct wdmdma_mdl *src,
			     struct wdmdma_mdl *target, const void *va,
			     u32 len);
void *wdmdma_mdl_system_address(const struct wdmdma_mdl *mdl);

/**
 * wdmdma_mdl_byte_offset() - offset of the MDL's first byte in its page
 *	(MmGetMdlByteOffset)
 * @mdl: the MDL
 *
 * Return: the page offset of wdmdma_mdl_va(@mdl), for kernel-buffer and
 * page-based MDLs alike (a page-based MDL's token keeps it).
 */
static inline u32 wdmdma_mdl_byte_offset(const struct wdmdma_mdl *mdl)
{
	return offset_in_page(mdl->va);
}

/* Adapters */
struct wdmdma_adapter *wdmdma_create_adapter(struct device *dev,
					     const struct wdmdma_desc *desc,
					     unsigned int *nr_map_registers);
void wdmdma_destroy_adapter(struct wdmdma_adapter *adapter);
struct device *wdmdma_adapter_device(const struct wdmdma_adapter *adapter);

/* Lists */
int wdmdma_calculate_sg_list(struct wdmdma_adapter *adapter,
			     const struct wdmdma_mdl *mdl,
			     const void *current_va, u32 length,
			     size_t *list_size,
			     unsigned int *nr_map_registers);
int wdmdma_get_sg_list(struct wdmdma_adapter *adapter,
		       struct wdmdma_mdl *mdl, const void *current_va,
		       u32 length, wdmdma_list_control_t fn, void *context,
		       bool write_to_device);
int wdmdma_build_sg_list(struct wdmdma_adapter *adapter,
			 struct wdmdma_mdl *mdl, const void *current_va,
			 u32 length, wdmdma_list_control_t fn, void *context,
			 bool write_to_device, void *buf, size_t buf_len);
void wdmdma_put_sg_list(struct wdmdma_adapter *adapter,
			struct wdmdma_sg_list *sgl, bool write_to_device);

/**
 * struct wdmdma_transfer_info - what one transfer needs
 *	(Windows DMA_TRANSFER_INFO_V2)
 * @nr_map_registers: map registers (pages spanned), as
 *	wdmdma_calculate_sg_list() counts them
 * @nr_elements: the most elements its list can have
 * @list_size: the Build buffer size, as wdmdma_calculate_sg_list() gives it
 * @nr_pages: logical pages the transfer touches (= @nr_map_registers)
 */
struct wdmdma_transfer_info {
	unsigned int nr_map_registers;
	unsigned int nr_elements;
	size_t list_size;
	unsigned int nr_pages;
};

int wdmdma_get_transfer_info(struct wdmdma_adapter *adapter,
			     const struct wdmdma_mdl *mdl, u64 offset,
			     u32 length, struct wdmdma_transfer_info *info);

/**
 * struct wdmdma_adapter_info - what an adapter is (Windows
 *	DMA_ADAPTER_INFO_V1, and the rest of its description)
 * @dma_width: DMA address width in bits
 * @scatter_gather: the device takes a list (false: one element)
 * @max_transfer: largest single transfer in bytes
 * @max_map_registers: most map registers one transfer may use
 * @max_elements: most elements one list can have (ScatterGatherLimit)
 * @alignment: wdmdma_get_dma_alignment()
 */
struct wdmdma_adapter_info {
	unsigned int dma_width;
	bool scatter_gather;
	u32 max_transfer;
	unsigned int max_map_registers;
	unsigned int max_elements;
	unsigned int alignment;
};

int wdmdma_get_adapter_info(struct wdmdma_adapter *adapter,
			    struct wdmdma_adapter_info *info);
unsigned int wdmdma_get_dma_alignment(struct wdmdma_adapter *adapter);
int wdmdma_mdl_from_sg_list(struct wdmdma_adapter *adapter,
			    const struct wdmdma_sg_list *sgl,
			    struct wdmdma_mdl *orig,
			    struct wdmdma_mdl **target, gfp_t gfp);

/* Common buffers (common.c) */
void *wdmdma_alloc_common_buffer(struct wdmdma_adapter *adapter, size_t size,
				 dma_addr_t *dma_handle, gfp_t gfp);
void *wdmdma_alloc_common_buffer_bounds(struct wdmdma_adapter *adapter,
					size_t size, u64 min_addr,
					u64 max_addr, dma_addr_t *dma_handle,
					gfp_t gfp);
int wdmdma_free_common_buffer(struct wdmdma_adapter *adapter, size_t size,
			      void *vaddr, dma_addr_t dma_handle);

/**
 * struct wdmdma_xfer_ctx - per-request storage for the _ex calls
 * @opaque: owned by wdmdma
 *
 * Windows' DMA_TRANSFER_CONTEXT: the driver keeps one per outstanding
 * request (e.g. in its request PDU), initialises it with
 * wdmdma_init_xfer_ctx(), and passes it to the _ex calls and to
 * wdmdma_cancel(). A waiting _ex request lives in it, so _ex requests can
 * always wait without allocating.
 */
struct wdmdma_xfer_ctx {
	unsigned long opaque[16];
};

/* Flags of the _ex calls */
#define WDMDMA_SYNCHRONOUS	0x01	/* run the callback now or fail: never wait */

void wdmdma_init_xfer_ctx(struct wdmdma_adapter *adapter,
			  struct wdmdma_xfer_ctx *ctx);
int wdmdma_get_sg_list_ex(struct wdmdma_adapter *adapter,
			  struct wdmdma_xfer_ctx *ctx, struct wdmdma_mdl *mdl,
			  u64 offset, u32 length, unsigned int flags,
			  wdmdma_list_control_t fn, void *context,
			  bool write_to_device, struct wdmdma_sg_list **sglp);
int wdmdma_build_sg_list_ex(struct wdmdma_adapter *adapter,
			    struct wdmdma_xfer_ctx *ctx,
			    struct wdmdma_mdl *mdl, u64 offset, u32 length,
			    unsigned int flags, wdmdma_list_control_t fn,
			    void *context, bool write_to_device, void *buf,
			    size_t buf_len, struct wdmdma_sg_list **sglp);
bool wdmdma_cancel(struct wdmdma_adapter *adapter,
		   struct wdmdma_xfer_ctx *ctx);

/*
 * Packet-based DMA (packet.c): one transfer at a time per adapter. A driver
 * asks for the adapter channel and some map registers; when both are free
 * its adapter-control routine runs with an opaque map register base, maps
 * the transfer piece by piece with wdmdma_map_transfer() and ends it with
 * wdmdma_flush_adapter_buffers().
 */

/* A map register base (Windows MapRegisterBase): opaque. */
struct wdmdma_map_regs;

/**
 * enum wdmdma_alloc_action - what an adapter-control routine keeps
 *	(Windows IO_ALLOCATION_ACTION)
 * @WDMDMA_KEEP_OBJECT: keep the channel and the map registers; free both
 *	later with wdmdma_free_channel() (which frees the map registers too,
 *	unless wdmdma_free_map_registers() freed them first)
 * @WDMDMA_DEALLOCATE_OBJECT: release both when the routine returns
 * @WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS: release the channel, keep the
 *	map registers (free them later with wdmdma_free_map_registers())
 */
enum wdmdma_alloc_action {
	WDMDMA_KEEP_OBJECT = 1,
	WDMDMA_DEALLOCATE_OBJECT = 2,
	WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS = 3,
};

/**
 * typedef wdmdma_adapter_control_t - a driver's adapter-control routine
 * @dev: the device passed to wdmdma_allocate_channel(), or the adapter's
 * @irp: always NULL
 * @regs: the map register base for wdmdma_map_transfer()
 * @context: the driver's context pointer
 *
 * Runs once for every wdmdma_allocate_channel(_ex)() that returned 0,
 * unless the request was cancelled; must not sleep (see "Context rules").
 *
 * Return: what to keep (enum wdmdma_alloc_action).
 */
typedef enum wdmdma_alloc_action (*wdmdma_adapter_control_t)(struct device *dev,
							      void *irp,
							      struct wdmdma_map_regs *regs,
							      void *context);

int wdmdma_allocate_channel(struct wdmdma_adapter *adapter,
			    struct device *dev, unsigned int nr_map_registers,
			    wdmdma_adapter_control_t fn, void *context);
int wdmdma_allocate_channel_ex(struct wdmdma_adapter *adapter,
			       struct device *dev, struct wdmdma_xfer_ctx *ctx,
			       unsigned int nr_map_registers,
			       unsigned int flags, wdmdma_adapter_control_t fn,
			       void *context, struct wdmdma_map_regs **regsp);
int wdmdma_map_transfer(struct wdmdma_adapter *adapter,
			struct wdmdma_mdl *mdl, struct wdmdma_map_regs *regs,
			const void *current_va, u32 *length,
			bool write_to_device, dma_addr_t *addr);
int wdmdma_flush_adapter_buffers(struct wdmdma_adapter *adapter,
				 struct wdmdma_mdl *mdl,
				 struct wdmdma_map_regs *regs,
				 const void *current_va, u32 length,
				 bool write_to_device);
int wdmdma_map_transfer_ex(struct wdmdma_adapter *adapter,
			   struct wdmdma_mdl *mdl,
			   struct wdmdma_map_regs *regs, u64 offset,
			   u32 *length, bool write_to_device,
			   struct wdmdma_sg_list *sgl, size_t sgl_len);
int wdmdma_flush_adapter_buffers_ex(struct wdmdma_adapter *adapter,
				    struct wdmdma_mdl *mdl,
				    struct wdmdma_map_regs *regs, u64 offset,
				    u32 length, bool write_to_device);
void wdmdma_free_map_registers(struct wdmdma_adapter *adapter,
			       struct wdmdma_map_regs *regs,
			       unsigned int nr_map_registers);
void wdmdma_free_channel(struct wdmdma_adapter *adapter);

/**
 * struct wdmdma_stats - an adapter's counters (also in debugfs)
 * @allocated: lists from a normal (non-sleeping) allocation
 * @reserve: lists from the emergency reserve
 * @built: lists built in caller buffers
 * @deferred: requests that had to wait (including any later cancelled)
 * @cancelled: waiting requests cancelled (by wdmdma_cancel() or at destroy)
 * @queue_depth: requests waiting now
 * @outstanding: lists handed out and not yet put, and map register bases
 *	of packet-based DMA not yet freed (their memory is counted in
 *	@allocated or @reserve, their waits in @deferred)
 * @bounced: lists that used map registers
 * @map_regs_in_use: map registers (pages) in use now
 * @map_regs_high: most map registers ever in use at once
 * @map_regs_total: map registers the adapter owns
 * @verifier_errors: contract violations the verifier caught
 * @failed: requests that could not be mapped for a reason that will not go
 *	away (an error from Get/Build, or a callback with a NULL list)
 * @map_retries: mappings that failed for want of mapping space (swiotlb,
 *	IOVA) and made their request wait to be tried again
 * @fast: lists claimed on the lock-free path (adapter created with the
 *	verifier off, nothing needed that anyone waits for); counted in
 *	@allocated or @built too
 * @iova: lists linked into one IOVA range with dma_iova_link() (behind a
 *	translating IOMMU, on kernels that have it; see the iova module
 *	parameter)
 */
struct wdmdma_stats {
	u64 allocated;
	u64 reserve;
	u64 built;
	u64 deferred;
	u64 cancelled;
	u64 queue_depth;
	u64 outstanding;
	u64 bounced;
	u64 map_regs_in_use;
	u64 map_regs_high;
	u64 map_regs_total;
	u64 verifier_errors;
	u64 failed;
	u64 map_retries;
	u64 fast;
	u64 iova;
};

void wdmdma_get_stats(struct wdmdma_adapter *adapter,
		      struct wdmdma_stats *stats);
void wdmdma_set_fail_alloc(struct wdmdma_adapter *adapter, int percent);
bool wdmdma_should_fail_alloc(struct wdmdma_adapter *adapter);
void wdmdma_inject_map_error(struct wdmdma_adapter *adapter, int err,
			     int times);
void wdmdma_fail_nth_alloc(unsigned int n);
bool wdmdma_set_verifier(bool on);
bool wdmdma_set_iova(bool on);
void wdmdma_flush_adapter(struct wdmdma_adapter *adapter);

#endif /* WDMDMA_WDMDMA_H */
