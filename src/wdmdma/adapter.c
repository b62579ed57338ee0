// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma adapters: creation, destruction and lifetime, the device's DMA
 * mask shared by its adapters, statistics, module init and exit.
 *
 * Lifetime: adapter->ref starts at two: the creator's, which
 * wdmdma_destroy_adapter() drops, and adapter->fast_ref's. Each list of
 * the locked path, common buffer and map register base holds one more
 * (queue.c, common.c, packet.c). Lists of the lock-free fast path hold
 * adapter->fast_ref instead, a per-CPU reference, so that no list claim
 * or Put writes a line all CPUs share. Destroy first marks the adapter
 * dead under its lock, so nothing new starts, waits out the fast path's
 * RCU read-side sections, cancels what waits and waits for the queue
 * runner; then it kills fast_ref, whose end (its last list put) drops its
 * reference on the adapter. The last reference frees the adapter: at once
 * in destroy when no list is out (destroy waits for fast_ref's end then:
 * at most for a Put under way), else from the wdmdma workqueue (a last Put
 * may come from hardirq context).
 *
 * DMA masks: wdmdma never touches a device's coherent mask (it is the
 * driver's). The streaming mask is shared by the device's adapters: with no
 * translating IOMMU it is the widest adapter's width (every adapter bounces
 * what is beyond its own width through its own map registers, so a wider
 * mask costs a narrower adapter nothing), behind a translating IOMMU the
 * narrowest (bus addresses are then IOVAs, which the IOMMU gives below the
 * mask). The mask the device had before its first adapter comes back when
 * its last adapter goes, or when creating the first one fails.
 *
 * Locking: wdmdma_devs_lock (a mutex) guards wdmdma_devs, the list of all
 * adapters, and serialises mask changes. adapter->lock is described in
 * internal.h.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include "wdmdma_trace.h"

/*
 * Runs deferred callbacks, retries and late frees. Destroying it at module
 * exit waits for them, so none outlives the code.
 */
struct workqueue_struct *wdmdma_wq;

static DEFINE_IDA(wdmdma_ida);
static DEFINE_MUTEX(wdmdma_devs_lock);
static LIST_HEAD(wdmdma_devs);

/* --- Lifetime ------------------------------------------------------------- */

static void wdmdma_adapter_free(struct wdmdma_adapter *adapter)
{
	int cpu;

	if (adapter->pcpu)
		for_each_possible_cpu(cpu)
			kfree(per_cpu_ptr(adapter->pcpu, cpu)->spare);
	percpu_ref_exit(&adapter->fast_ref);
	mempool_destroy(adapter->reserve);
	free_percpu(adapter->pcpu);
	wdmdma_regs_exit(adapter);
	kfree(adapter->slots);
	ida_free(&wdmdma_ida, adapter->id);
	put_device(adapter->dev);
	kfree(adapter);
}

static void wdmdma_free_work(struct work_struct *work)
{
	wdmdma_adapter_free(container_of(work, struct wdmdma_adapter,
					 free_work));
}

void wdmdma_adapter_release(struct kref *ref)
{
	struct wdmdma_adapter *adapter =
		container_of(ref, struct wdmdma_adapter, ref);

	queue_work(wdmdma_wq, &adapter->free_work);
}

static void wdmdma_adapter_release_now(struct kref *ref)
{
	wdmdma_adapter_free(container_of(ref, struct wdmdma_adapter, ref));
}

/*
 * The last list of the fast path is put after destroy killed fast_ref
 * (any context, possibly an RCU callback). Destroy either waits for this,
 * and then drops the adapter reference of fast_ref itself, or has gone,
 * and this drops it.
 */
static void wdmdma_fast_release(struct percpu_ref *ref)
{
	struct wdmdma_adapter *adapter =
		container_of(ref, struct wdmdma_adapter, fast_ref);

	if (READ_ONCE(adapter->fast_waited))
		complete(&adapter->fast_done);
	else
		wdmdma_adapter_put(adapter);
}

/* Lists of the fast path not put yet (a Put under way has taken its own off). */
static s64 wdmdma_fast_outstanding(struct wdmdma_adapter *adapter)
{
	s64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(adapter->pcpu, cpu)->outstanding);
	return sum;
}

/*
 * The counters: the locked ones plus the fast path's per-CPU ones. Not a
 * snapshot of one instant when lists are claimed or put meanwhile.
 */
void wdmdma_read_stats(struct wdmdma_adapter *adapter,
		       struct wdmdma_stats *stats)
{
	s64 outstanding = 0, allocated = 0, built = 0, fast = 0, iova = 0;
	unsigned long flags;
	int cpu;

	spin_lock_irqsave(&adapter->lock, flags);
	*stats = adapter->stats;
	spin_unlock_irqrestore(&adapter->lock, flags);
	for_each_possible_cpu(cpu) {
		const struct wdmdma_pcpu_stats *p = per_cpu_ptr(adapter->pcpu, cpu);

		outstanding += READ_ONCE(p->outstanding);
		allocated += READ_ONCE(p->allocated);
		built += READ_ONCE(p->built);
		fast += READ_ONCE(p->fast);
		iova += READ_ONCE(p->iova);
	}
	/* A sum caught between a claim and a Put on two CPUs may dip below 0. */
	stats->outstanding += max_t(s64, outstanding, 0);
	stats->allocated += max_t(s64, allocated, 0);
	stats->built += max_t(s64, built, 0);
	stats->fast += max_t(s64, fast, 0);
	stats->iova += iova;
}

/* --- The device's streaming mask ------------------------------------------ */

/*
 * The streaming mask the device's adapters want, @adapter included or
 * (@leaving) not; 0 if none is left.
 */
static u64 wdmdma_devs_mask(struct wdmdma_adapter *adapter, bool leaving)
{
	struct wdmdma_adapter *a;
	u64 mask = leaving ? 0 : adapter->limit;

	lockdep_assert_held(&wdmdma_devs_lock);
	list_for_each_entry(a, &wdmdma_devs, dev_node) {
		if (a == adapter || a->dev != adapter->dev)
			continue;
		if (!mask)
			mask = a->limit;
		else if (adapter->translated)
			mask = min(mask, a->limit);
		else
			mask = max(mask, a->limit);
	}
	return mask;
}

/* The saved mask of the device's first adapter, or its mask now. */
static u64 wdmdma_devs_saved_mask(struct device *dev)
{
	struct wdmdma_adapter *a;

	lockdep_assert_held(&wdmdma_devs_lock);
	list_for_each_entry(a, &wdmdma_devs, dev_node)
		if (a->dev == dev)
			return a->saved_mask;
	return dma_get_mask(dev);
}

/* --- Creation --------------------------------------------------------------- */

static int wdmdma_check_desc(struct device *dev, const struct wdmdma_desc *desc)
{
	if (desc->dma_width < 24 || desc->dma_width > 64) {
		dev_err(dev, "DMA address width %u is outside 24..64 bits\n",
			desc->dma_width);
		return -EINVAL;
	}
	if (!desc->max_transfer) {
		dev_err(dev, "maximum transfer length is zero\n");
		return -EINVAL;
	}
	if (!desc->scatter_gather &&
	    dma_get_max_seg_size(dev) < desc->max_transfer) {
		dev_err(dev,
			"one-element device: max DMA segment %u < max transfer %u; call dma_set_max_seg_size()\n",
			dma_get_max_seg_size(dev), desc->max_transfer);
		return -EINVAL;
	}
	if (dma_get_max_seg_size(dev) < PAGE_SIZE) {
		dev_err(dev, "max DMA segment %u is below a page\n",
			dma_get_max_seg_size(dev));
		return -EINVAL;
	}
	if (dma_get_seg_boundary(dev) < PAGE_SIZE - 1) {
		dev_err(dev, "DMA segment boundary %#lx is below a page\n",
			dma_get_seg_boundary(dev));
		return -EINVAL;
	}
	if (!dev->dma_mask) {
		dev_err(dev, "device has no DMA mask: it cannot do DMA\n");
		return -EIO;
	}
	return 0;
}

/* Allocate what the adapter preallocates: slots, reserve, map registers. */
static int wdmdma_adapter_prealloc(struct wdmdma_adapter *adapter)
{
	unsigned int i;
	int ret;

	if (wdmdma_create_alloc_should_fail())
		return -ENOMEM;
	adapter->pcpu = alloc_percpu(struct wdmdma_pcpu_stats);
	if (!adapter->pcpu)
		return -ENOMEM;

	if (wdmdma_create_alloc_should_fail())
		return -ENOMEM;
	/*
	 * Without the fast path it is only ever one shared count. Destroy
	 * switches it to one before it kills it: ALLOW_REINIT keeps the
	 * switch from ending it early (it is ended when the adapter is
	 * freed).
	 */
	ret = percpu_ref_init(&adapter->fast_ref, wdmdma_fast_release,
			      PERCPU_REF_ALLOW_REINIT |
			      (adapter->fast ? 0 : PERCPU_REF_INIT_ATOMIC),
			      GFP_KERNEL);
	if (ret)
		return ret;

	if (wdmdma_create_alloc_should_fail())
		return -ENOMEM;
	adapter->slots = kcalloc(adapter->desc.max_waiters,
				 sizeof(*adapter->slots), GFP_KERNEL);
	if (!adapter->slots)
		return -ENOMEM;
	for (i = 0; i < adapter->desc.max_waiters; i++)
		list_add_tail(&adapter->slots[i].node, &adapter->free_slots);

	if (wdmdma_create_alloc_should_fail())
		return -ENOMEM;
	adapter->reserve = mempool_create(adapter->desc.nr_reserve,
					  wdmdma_reserve_elem_alloc,
					  wdmdma_reserve_elem_free, adapter);
	if (!adapter->reserve) {
		dev_err(adapter->dev,
			"cannot preallocate %u reserve lists of %zu bytes\n",
			adapter->desc.nr_reserve, adapter->reserve_size);
		return -ENOMEM;
	}
	ret = wdmdma_regs_init(adapter);
	if (ret)
		return ret;
	return 0;
}

/**
 * wdmdma_create_adapter() - create a DMA adapter for a device (IoGetDmaAdapter)
 * @dev: the device that will do the DMA
 * @desc: what the device can do
 * @nr_map_registers: if not NULL, receives the most map registers (pages
 *	spanned) one transfer may use
 *
 * Preallocates everything the emergency reserve needs: @desc->nr_reserve
 * lists sized for a maximum transfer at the worst alignment, the waiter
 * slots, and, when the device may need bouncing (no scatter/gather, or a
 * reach below what memory needs and no translating IOMMU), map registers:
 * @desc->nr_reserve contiguous chunks of bounce memory the device reaches.
 *
 * The device's streaming DMA mask is shared by its adapters (the widest
 * width without a translating IOMMU, the narrowest behind one); its
 * coherent mask is left to the driver. On failure nothing is left
 * allocated and the masks are as they were.
 *
 * Context: process context; sleeps.
 * Return: the adapter, or ERR_PTR(-EINVAL) for a bad description (or
 * one-element map registers that would cross the device's segment
 * boundary), ERR_PTR(-EIO) if the device cannot take the DMA mask,
 * ERR_PTR(-ENOMEM), or the error of allocating an adapter id.
 */
struct wdmdma_adapter *wdmdma_create_adapter(struct device *dev,
					     const struct wdmdma_desc *desc,
					     unsigned int *nr_map_registers)
{
	struct wdmdma_adapter *adapter;
	u64 old_mask, mask;
	int ret;

	might_sleep();
	if (!dev || !desc) {
		pr_err("create_adapter: NULL device or description\n");
		return ERR_PTR(-EINVAL);
	}
	ret = wdmdma_check_desc(dev, desc);
	if (ret)
		return ERR_PTR(ret);

	if (wdmdma_create_alloc_should_fail())
		return ERR_PTR(-ENOMEM);
	adapter = kzalloc_obj(*adapter, GFP_KERNEL);
	if (!adapter)
		return ERR_PTR(-ENOMEM);
	ret = ida_alloc(&wdmdma_ida, GFP_KERNEL);
	if (ret < 0) {
		kfree(adapter);
		return ERR_PTR(ret);
	}
	adapter->id = ret;
	adapter->dev = get_device(dev);
	adapter->desc = *desc;
	if (!adapter->desc.nr_reserve)
		adapter->desc.nr_reserve = 1;
	if (!adapter->desc.max_waiters)
		adapter->desc.max_waiters = 64;
	adapter->limit = DMA_BIT_MASK(desc->dma_width);
	adapter->translated = wdmdma_translated(dev);
	adapter->max_seg = dma_get_max_seg_size(dev);
	adapter->max_run = min_t(size_t, adapter->max_seg,
				 dma_max_mapping_size(dev));
	adapter->seg_boundary = dma_get_seg_boundary(dev);
	wdmdma_iova_setup(adapter);
	adapter->max_regs = wdmdma_span_pages(PAGE_SIZE - 1, desc->max_transfer);
	adapter->reserve_size =
		wdmdma_xfer_size(wdmdma_xfer_ents(adapter, adapter->max_regs));
	adapter->fail_alloc = -1;
	adapter->retry_delay = 1;
	/* The verifier looks up every Put: it keeps to the locked path. */
	adapter->fast = !READ_ONCE(wdmdma_verifier);
	/* Spare Get lists only with the fast path (see wdmdma_xfer_alloc()). */
	if (adapter->fast)
		adapter->spare_ents =
			wdmdma_xfer_ents(adapter,
					 min_t(unsigned int, adapter->max_regs,
					       WDMDMA_SPARE_SPAN));
	kref_init(&adapter->ref);
	kref_get(&adapter->ref);	/* fast_ref's, made in prealloc */
	init_completion(&adapter->fast_done);
	wdmdma_nt_init(adapter);
	spin_lock_init(&adapter->lock);
	INIT_LIST_HEAD(&adapter->queue);
	INIT_LIST_HEAD(&adapter->outstanding);
	INIT_LIST_HEAD(&adapter->free_slots);
	INIT_LIST_HEAD(&adapter->dev_node);
	INIT_WORK(&adapter->work, wdmdma_run_queue);
	INIT_DELAYED_WORK(&adapter->retry, wdmdma_retry_work);
	INIT_WORK(&adapter->free_work, wdmdma_free_work);

	mutex_lock(&wdmdma_devs_lock);
	old_mask = dma_get_mask(dev);
	adapter->saved_mask = wdmdma_devs_saved_mask(dev);
	mask = wdmdma_devs_mask(adapter, false);
	if (mask != old_mask) {
		ret = dma_set_mask(dev, mask);
		if (ret) {
			dev_err(dev, "cannot use a %u-bit DMA mask: %d\n",
				desc->dma_width, ret);
			ret = -EIO;
			goto unlock;
		}
	}
	ret = wdmdma_adapter_prealloc(adapter);
	if (ret) {
		if (mask != old_mask)
			dma_set_mask(dev, old_mask);
		goto unlock;
	}
	list_add_tail(&adapter->dev_node, &wdmdma_devs);
	mutex_unlock(&wdmdma_devs_lock);

	wdmdma_debugfs_add(adapter);
	trace_wdmdma_adapter_create(adapter);
	if (nr_map_registers)
		*nr_map_registers = adapter->max_regs;
	dev_dbg(dev, "adapter %u: %s, %u-bit, max %u bytes, %u map registers per transfer, %llu owned\n",
		adapter->id, desc->scatter_gather ? "scatter/gather" : "one element",
		desc->dma_width, desc->max_transfer, adapter->max_regs,
		adapter->stats.map_regs_total);
	return adapter;

unlock:
	mutex_unlock(&wdmdma_devs_lock);
	wdmdma_adapter_free(adapter);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_create_adapter);

/**
 * wdmdma_destroy_adapter() - tear an adapter down (PutDmaAdapter)
 * @adapter: the adapter; NULL is ignored
 *
 * Requests still waiting are cancelled (their callbacks never run; a
 * racing wdmdma_cancel() of one returns false), each reported. Lists still
 * outstanding are a caller bug: a WARN gives their count, and the adapter's
 * memory stays valid until the last of them is put, so that late Puts do
 * not touch freed memory. Safe against Put, Cancel and deferred callbacks
 * running at the same time. When it returns, no list-control callback of
 * the adapter is running, and none will run: it waits for those a racing
 * Get or Build is calling, and such a call made after it began fails with
 * -ENODEV. The device's streaming mask is settled for the adapters that
 * remain (restored when none does).
 *
 * Context: process context; sleeps (waits for a running deferred callback,
 * and for a Put of another thread that is under way).
 * Not from a list-control callback.
 */
void wdmdma_destroy_adapter(struct wdmdma_adapter *adapter)
{
	struct wdmdma_stats st;
	unsigned long flags;
	u64 outstanding, mask;
	bool chan_held, fast_idle;

	if (!adapter)
		return;
	might_sleep();

	spin_lock_irqsave(&adapter->lock, flags);
	adapter->dead = true;
	spin_unlock_irqrestore(&adapter->lock, flags);
	/*
	 * fast_ref's switch to one shared count takes a grace period, mostly
	 * the one below (if its callback is still pending after it, the kill
	 * further down waits for it). A fast claim racing it is counted
	 * either way.
	 */
	percpu_ref_switch_to_atomic(&adapter->fast_ref, NULL);
	/*
	 * The lock-free fast path maps inside an RCU read-side section that
	 * starts by checking ->dead: after a grace period none is under way,
	 * and a request it queued after a failed mapping is on the queue.
	 */
	synchronize_rcu();
	wdmdma_queue_cancel_all(adapter);
	cancel_work_sync(&adapter->work);
	cancel_delayed_work_sync(&adapter->retry);
	/* A submit may still be mapping a list it claimed before ->dead. */
	wdmdma_wait_mappings(adapter);
	wdmdma_debugfs_remove(adapter);

	mutex_lock(&wdmdma_devs_lock);
	list_del_init(&adapter->dev_node);
	mask = wdmdma_devs_mask(adapter, true);
	if (!mask)
		mask = adapter->saved_mask;
	if (mask != dma_get_mask(adapter->dev) &&
	    dma_set_mask(adapter->dev, mask))
		dev_warn(adapter->dev, "cannot set the DMA mask back to %#llx\n",
			 mask);
	mutex_unlock(&wdmdma_devs_lock);

	/* Lists the driver holds (a Put under way has taken its own off). */
	wdmdma_read_stats(adapter, &st);
	outstanding = st.outstanding;
	trace_wdmdma_adapter_destroy(adapter, outstanding);
	if (outstanding)
		dev_WARN(adapter->dev,
			 "adapter destroyed with %llu lists or map register bases outstanding\n",
			 outstanding);
	spin_lock_irqsave(&adapter->lock, flags);
	chan_held = adapter->chan_owner;
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (chan_held)
		dev_warn(adapter->dev,
			 "adapter destroyed with its channel allocated (no FreeAdapterChannel)\n");
	/*
	 * No fast claim can start now (->dead, and the grace period above).
	 * With no fast list out, killing fast_ref ends it (at once, or as a
	 * Put under way drops it): wait, so that the adapter is gone when
	 * this returns. Else the last of those lists' Puts ends it.
	 */
	fast_idle = wdmdma_fast_outstanding(adapter) <= 0;
	WRITE_ONCE(adapter->fast_waited, fast_idle);
	percpu_ref_kill(&adapter->fast_ref);
	if (fast_idle) {
		wait_for_completion(&adapter->fast_done);
		kref_put(&adapter->ref, wdmdma_adapter_release_now);
	}
	/* The creator's reference; the last Put frees it if lists are out. */
	kref_put(&adapter->ref, wdmdma_adapter_release_now);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_destroy_adapter);

/**
 * wdmdma_adapter_device() - the device an adapter was created for
 * @adapter: the adapter
 *
 * Context: any.
 * Return: the device.
 */
struct device *wdmdma_adapter_device(const struct wdmdma_adapter *adapter)
{
	return adapter->dev;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_adapter_device);

/**
 * wdmdma_get_stats() - read an adapter's counters
 * @adapter: the adapter
 * @stats: receives the counters; those the locked path keeps are one
 *	snapshot, and lists claimed or put on the lock-free path while this
 *	runs may or may not be counted
 *
 * Context: any.
 */
void wdmdma_get_stats(struct wdmdma_adapter *adapter,
		      struct wdmdma_stats *stats)
{
	wdmdma_read_stats(adapter, stats);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_get_stats);

static int __init wdmdma_init(void)
{
	wdmdma_wq = alloc_workqueue("wdmdma", WQ_HIGHPRI | WQ_MEM_RECLAIM |
				    WDMDMA_WQ_PERCPU, 0);
	if (!wdmdma_wq)
		return -ENOMEM;
	wdmdma_debugfs_init();
	return 0;
}

static void __exit wdmdma_exit(void)
{
	/* fast_ref's last switch may still call wdmdma_fast_release(). */
	rcu_barrier();
	destroy_workqueue(wdmdma_wq);
	wdmdma_debugfs_exit();
	ida_destroy(&wdmdma_ida);
}

module_init(wdmdma_init);
module_exit(wdmdma_exit);

MODULE_DESCRIPTION("Windows scatter/gather DMA contract on the Linux DMA API");
MODULE_AUTHOR("The wdmdma authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(WDMDMA_VERSION);
