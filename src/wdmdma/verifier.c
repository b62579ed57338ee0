// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma verifier and fault injection.
 *
 * The verifier (module parameter verifier=1) reports callers that break the
 * contract, as Driver Verifier's DMA checks do; its errors are counted
 * whether or not it is on. Fault injection makes list allocations and
 * mappings fail on purpose, for tests and benchmarks: the kernel's
 * fault-injection knobs in /sys/kernel/debug/wdmdma/fail_alloc/ for list
 * allocations of every adapter, wdmdma_set_fail_alloc() for one adapter,
 * wdmdma_inject_map_error() for mappings and wdmdma_fail_nth_alloc() for
 * the allocations of adapter creation.
 *
 * Locking: wdmdma_verifier_report() takes adapter->lock for its counter;
 * wdmdma_verify_put() and wdmdma_verify_build_buf() are called with it
 * held. The rest is lockless.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched.h>

#include "internal.h"

bool wdmdma_verifier;
module_param_named(verifier, wdmdma_verifier, bool, 0644);
MODULE_PARM_DESC(verifier,
		 "Check callers like Driver Verifier's DMA checks: double Put, foreign lists, bad ranges (default: N)");

void wdmdma_verifier_report(struct wdmdma_adapter *adapter, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;
	unsigned long flags;

	spin_lock_irqsave(&adapter->lock, flags);
	adapter->stats.verifier_errors++;
	spin_unlock_irqrestore(&adapter->lock, flags);
	if (!wdmdma_verifier)
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	dev_err_ratelimited(adapter->dev, "verifier: %pV", &vaf);
	va_end(args);
}

/*
 * Is @xfer a list this adapter handed out and has not had back? With the
 * verifier on, look it up; else trust its magic and owner.
 */
bool wdmdma_verify_put(struct wdmdma_adapter *adapter, struct wdmdma_xfer *xfer)
{
	struct wdmdma_xfer *x;

	lockdep_assert_held(&adapter->lock);
	if (!wdmdma_verifier)
		return xfer->magic == WDMDMA_XFER_MAGIC && xfer->adapter == adapter;
	/* A map register base is outstanding too, but is not a list. */
	list_for_each_entry(x, &adapter->outstanding, node)
		if (x == xfer)
			return x->magic == WDMDMA_XFER_MAGIC;
	return false;
}

/*
 * With the verifier on: is @buf, a caller's Build buffer, free to be
 * built into? Not if it holds a list handed out and not yet put, nor a
 * Build still waiting (its request lives in @buf): a Build into it would
 * relink that node and corrupt the adapter's lists. With the verifier
 * off, not checked.
 */
bool wdmdma_verify_build_buf(struct wdmdma_adapter *adapter, void *buf)
{
	struct wdmdma_req *req;

	lockdep_assert_held(&adapter->lock);
	if (!wdmdma_verifier)
		return true;
	if (wdmdma_verify_put(adapter, buf))
		return false;
	list_for_each_entry(req, &adapter->queue, node)
		if (req->xfer == buf)
			return false;
	return true;
}

/**
 * wdmdma_set_verifier() - turn the verifier on or off (module parameter
 *	verifier)
 * @on: the new setting
 *
 * For tests of the lock-free path. The setting when an adapter is
 * created decides whether it uses that path (verifier off) or looks up
 * every Put (verifier on); a later change only turns reports on or off.
 *
 * Context: any.
 * Return: the previous setting.
 */
bool wdmdma_set_verifier(bool on)
{
	bool old = READ_ONCE(wdmdma_verifier);

	WRITE_ONCE(wdmdma_verifier, on);
	return old;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_set_verifier);

/* --- Fault injection ----------------------------------------------------- */

#ifdef CONFIG_FAULT_INJECTION
/* /sys/kernel/debug/wdmdma/fail_alloc/: list allocations of every adapter. */
DECLARE_FAULT_ATTR(wdmdma_fail_alloc_attr);

/*
 * should_fail() costs about fifty instructions on every Get even when
 * nothing is armed: it decides nothing unless the knobs' probability is
 * set or the task counts down its /proc/self/fail-nth, so look first.
 */
static bool wdmdma_fault_attr_fails(void)
{
	if (!READ_ONCE(wdmdma_fail_alloc_attr.probability) &&
	    (!in_task() || !READ_ONCE(current->fail_nth)))
		return false;
	return should_fail(&wdmdma_fail_alloc_attr, 1);
}
#else
static bool wdmdma_fault_attr_fails(void)
{
	return false;
}
#endif

static atomic_t wdmdma_fail_nth = ATOMIC_INIT(0);

/**
 * wdmdma_fail_nth_alloc() - fail one allocation of adapter creation
 * @n: the @n-th allocation wdmdma makes from now on fails (once); 0 disarms
 *
 * Counts every allocation of wdmdma_create_adapter() (the adapter, waiter
 * slots, reserve and its elements, map-register bookkeeping and chunks) and
 * Get's list allocations. For tests that fail each allocation in turn.
 *
 * Context: any.
 */
void wdmdma_fail_nth_alloc(unsigned int n)
{
	atomic_set(&wdmdma_fail_nth, n);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_fail_nth_alloc);

static bool wdmdma_nth_fails(void)
{
	return atomic_read(&wdmdma_fail_nth) > 0 &&
	       atomic_dec_if_positive(&wdmdma_fail_nth) == 0;
}

bool wdmdma_create_alloc_should_fail(void)
{
	return wdmdma_nth_fails();
}

/**
 * wdmdma_should_fail_alloc() - should this allocation be failed on purpose?
 * @adapter: the adapter
 *
 * True when allocation-failure injection picks this allocation: the
 * adapter's own setting (wdmdma_set_fail_alloc()) if it has one, else the
 * kernel fault-injection knobs in /sys/kernel/debug/wdmdma/fail_alloc/
 * (probability, interval, times, ...). Drivers that keep their own
 * emergency buffers (the Build pattern) consult it so tests exercise their
 * reserve too.
 *
 * Context: any.
 * Return: true if the caller should treat this allocation as failed.
 */
bool wdmdma_should_fail_alloc(struct wdmdma_adapter *adapter)
{
	int pct = READ_ONCE(adapter->fail_alloc);

	if (pct < 0)
		return wdmdma_fault_attr_fails();
	if (pct == 0)
		return false;
	return pct >= 100 || get_random_u32() % 100 < pct;
}
EXPORT_SYMBOL_WDMDMA(wdmdma_should_fail_alloc);

bool wdmdma_list_alloc_should_fail(struct wdmdma_adapter *adapter)
{
	return wdmdma_nth_fails() || wdmdma_should_fail_alloc(adapter);
}

/**
 * wdmdma_set_fail_alloc() - inject list-allocation failures on one adapter
 * @adapter: the adapter
 * @percent: 0..100: fail that share of Get's normal allocations, so the
 *	reserve and the queue are used; -1: follow the fault-injection knobs
 *	in /sys/kernel/debug/wdmdma/fail_alloc/ (the default)
 *
 * For tests and benchmarks. The reserve itself never fails.
 * Context: any.
 */
void wdmdma_set_fail_alloc(struct wdmdma_adapter *adapter, int percent)
{
	WRITE_ONCE(adapter->fail_alloc, clamp(percent, -1, 100));
}
EXPORT_SYMBOL_WDMDMA(wdmdma_set_fail_alloc);

/**
 * wdmdma_inject_map_error() - make an adapter's mappings fail
 * @adapter: the adapter
 * @err: the error the DMA layer is to seem to return: -ENOMEM (mapping
 *	space short: the request waits and is tried again) or any other
 *	negative errno (the request ends with -EIO)
 * @times: how many of the next mappings fail; -1: all until called again
 *	with 0
 *
 * For tests. The failing mappings never reach the DMA layer.
 * Context: any.
 */
void wdmdma_inject_map_error(struct wdmdma_adapter *adapter, int err, int times)
{
	WRITE_ONCE(adapter->inject_err, err < 0 ? err : -EIO);
	atomic_set(&adapter->inject_times, times < 0 ? -1 : times);
}
EXPORT_SYMBOL_WDMDMA(wdmdma_inject_map_error);

/* wdmdma_map_injected_error() once failures are armed. */
int wdmdma_map_injected_error_armed(struct wdmdma_adapter *adapter)
{
	int left = atomic_read(&adapter->inject_times);

	if (!left)
		return 0;
	if (left > 0 && atomic_dec_if_positive(&adapter->inject_times) < 0)
		return 0;
	return READ_ONCE(adapter->inject_err);
}
