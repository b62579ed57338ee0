// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_lifecycle": creating and destroying adapters from
 * any state.
 *
 *  - Creation that fails part-way (a map-register chunk that cannot exist,
 *    and every single allocation of creation failed in turn) returns
 *    ERR_PTR(-ENOMEM), leaves nothing allocated (kmemleak checks after the
 *    run) and leaves the device's DMA masks as they were.
 *  - Destroy races, many rounds each, a kernel thread or a deferred
 *    callback started together with it through completions: the last Put
 *    of lists from Get and Build; a deferred callback that Puts at once;
 *    wdmdma_cancel() of waiting _ex requests (each ends exactly once:
 *    cancel returns true, or destroy cancels it; no callback runs); a
 *    fast-path submit whose mapping fails (the adapter is still freed:
 *    the device reference it held is dropped and the device's streaming
 *    mask restored; and destroy does not WARN about the list being
 *    unclaimed, which the driver never had).
 *  - Two adapters of different widths on one device: the coherent mask is
 *    the driver's, the streaming mask is the widest live adapter's and
 *    is restored when the last one goes or a creation fails, and the
 *    narrow adapter still hands out only addresses within its width.
 *
 * To meet a racing party inside destroy, a thread "probes" the adapter
 * with a synchronous _ex Build (no memory needed) until it returns
 * -ENODEV, i.e. until destroy has begun. A probe only runs while the
 * prober holds another list of the adapter, so the adapter cannot be
 * freed under it. Destroy with lists outstanding WARNs by design; where
 * the driver may still hold a list when destroy counts them (racing Puts,
 * a held list), destroy is printed between the expected-warning markers.
 * Where it holds none once destroy has waited for callbacks and mappings
 * under way (deferred callback, failed mapping), a WARN fails the run.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define LC_MAX		SZ_64K		/* max_transfer of the race adapters */
#define LC_BUF_LEN	(4 * PAGE_SIZE)	/* the small contiguous buffer */
#define LC_OFF		100
#define LC_XFER		(2 * PAGE_SIZE)
#define LC_PROBE_MS	10000		/* longest a probe waits for destroy */
#define LC_WAIT		msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)

#define LC_NTH_MAX	64		/* fail_nth: give up after this many */
#define LC_HUGE_MAX	SZ_64M		/* no chunk this large exists */

#define LC_PUT_ROUNDS	150
#define LC_CB_ROUNDS	150
#define LC_CANCEL_ROUNDS 60
#define LC_CANCEL_REQS	6
#define LC_MAPFAIL_ROUNDS 60
#define LC_MAPFAIL_PAGES 256		/* 1 MiB bounced write */

/* Masks the device has before each case: neither is any adapter's width. */
#define LC_MASK0	DMA_BIT_MASK(36)
#define LC_COHERENT0	DMA_BIT_MASK(40)

static struct platform_device *lc_pdev;

struct lc_fixture {
	struct device *dev;
	void *va;			/* LC_BUF_LEN contiguous bytes */
	struct wdmdma_mdl *mdl;
};

static int lc_init(struct kunit *test)
{
	struct lc_fixture *fx;

	if (IS_ERR_OR_NULL(lc_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	test->priv = fx;
	fx->dev = &lc_pdev->dev;
	dma_set_max_seg_size(fx->dev, SZ_1M);
	if (dma_set_mask(fx->dev, LC_MASK0) ||
	    dma_set_coherent_mask(fx->dev, LC_COHERENT0))
		return -EIO;
	fx->va = kmalloc(LC_BUF_LEN, GFP_KERNEL);
	if (!fx->va)
		return -ENOMEM;
	wdmdma_test_fill(fx->va, LC_BUF_LEN, 0x3c);
	fx->mdl = wdmdma_mdl_alloc(fx->va, LC_BUF_LEN, GFP_KERNEL);
	if (!fx->mdl || wdmdma_mdl_build_for_kernel_buffer(fx->mdl))
		return -ENOMEM;
	return 0;
}

static void lc_exit(struct kunit *test)
{
	struct lc_fixture *fx = test->priv;

	if (!fx)
		return;
	wdmdma_fail_nth_alloc(0);
	wdmdma_mdl_free(fx->mdl);
	kfree(fx->va);
	dma_set_max_seg_size(fx->dev, SZ_1M);
}

static struct wdmdma_adapter *lc_create(struct device *dev, bool sg,
					unsigned int width, u32 max_transfer,
					unsigned int nr_reserve)
{
	struct wdmdma_desc desc = {
		.scatter_gather = sg,
		.dma_width = width,
		.max_transfer = max_transfer,
		.nr_reserve = nr_reserve,
	};

	return wdmdma_create_adapter(dev, &desc, NULL);
}

/* References to the device: the adapter's get_device() shows here. */
static unsigned int lc_dev_refs(struct device *dev)
{
	return kref_read(&dev->kobj.kref);
}

/*
 * Wait until the device holds @refs references (the last adapter's final
 * free may run in a work item after the last Put) and, unless @mask is 0,
 * its streaming mask is @mask. Return true if so within the wait.
 */
static bool lc_wait_released(struct device *dev, u64 mask, unsigned int refs)
{
	unsigned long end = jiffies + LC_WAIT;

	for (;;) {
		if ((!mask || dma_get_mask(dev) == mask) &&
		    lc_dev_refs(dev) == refs)
			return true;
		if (time_after(jiffies, end))
			return false;
		usleep_range(200, 400);
	}
}

/* After the last adapter is gone: the device is as the case set it up. */
static void lc_expect_released(struct kunit *test, struct device *dev,
			       unsigned int refs)
{
	KUNIT_EXPECT_TRUE_MSG(test, lc_wait_released(dev, 0, refs),
			      "device references %u, %u before",
			      lc_dev_refs(dev), refs);
	KUNIT_EXPECT_TRUE_MSG(test, lc_wait_released(dev, LC_MASK0, refs),
			      "streaming mask %llx", dma_get_mask(dev));
	KUNIT_EXPECT_EQ(test, dev->coherent_dma_mask, LC_COHERENT0);
}

/* --- A thread that runs one round of a race per go ---------------------- */

struct lc_worker {
	struct task_struct *task;
	struct completion go;		/* test -> thread: run a round */
	struct completion started;	/* thread -> test: round begun */
	struct completion done;		/* thread -> test: round over */
	bool quit;
	void (*round)(void *data);
	void *data;
};

static int lc_worker_fn(void *arg)
{
	struct lc_worker *w = arg;

	for (;;) {
		wait_for_completion(&w->go);
		if (READ_ONCE(w->quit))
			break;
		complete(&w->started);
		w->round(w->data);
		complete(&w->done);
	}
	return 0;
}

static int lc_worker_start(struct lc_worker *w, void (*round)(void *data),
			   void *data, const char *name)
{
	struct task_struct *task;

	init_completion(&w->go);
	init_completion(&w->started);
	init_completion(&w->done);
	w->round = round;
	w->data = data;
	w->quit = false;
	task = kthread_run(lc_worker_fn, w, "wdmdma-lc/%s", name);
	if (IS_ERR(task))
		return PTR_ERR(task);
	get_task_struct(task);
	w->task = task;
	return 0;
}

/* Start a round and return once the thread runs it. */
static bool lc_worker_go(struct lc_worker *w)
{
	complete(&w->go);
	return wait_for_completion_timeout(&w->started, LC_WAIT);
}

/* Wait for the round to end; a round may probe for LC_PROBE_MS. */
static bool lc_worker_wait(struct lc_worker *w)
{
	return wait_for_completion_timeout(&w->done, LC_WAIT +
					   msecs_to_jiffies(LC_PROBE_MS));
}

/* Only after every round started has ended (else this waits for it). */
static void lc_worker_stop(struct lc_worker *w)
{
	if (!w->task)
		return;
	WRITE_ONCE(w->quit, true);
	complete(&w->go);
	kthread_stop(w->task);
	put_task_struct(w->task);
	w->task = NULL;
}

/* --- Probing for "destroy has begun" ------------------------------------- */

struct lc_probe {
	struct wdmdma_xfer_ctx ctx;
	struct wdmdma_mdl *mdl;
	void *buf;
	size_t buf_len;
	unsigned int tries;
};

/*
 * Spin until @a refuses requests with -ENODEV, at most LC_PROBE_MS. A
 * probe is a synchronous _ex Build of one page: while the adapter lives it
 * maps (the list is Put at once) or fails with -ENOMEM when it would have
 * to wait. The caller must hold another list of @a (keeping it alive).
 * Where it may sleep, it yields between probes: on a kernel without
 * preemption the destroying thread may be waiting for this CPU.
 * Context: any; may spin with bottom halves disabled.
 * Return: true once -ENODEV was seen.
 */
static bool lc_probe_dead(struct wdmdma_adapter *a, struct lc_probe *p)
{
	unsigned long end = jiffies + msecs_to_jiffies(LC_PROBE_MS);
	struct wdmdma_sg_list *sgl;
	int ret;

	do {
		sgl = NULL;
		p->tries++;
		wdmdma_init_xfer_ctx(a, &p->ctx);
		ret = wdmdma_build_sg_list_ex(a, &p->ctx, p->mdl, 0, PAGE_SIZE,
					      WDMDMA_SYNCHRONOUS, NULL, NULL,
					      true, p->buf, p->buf_len, &sgl);
		if (ret == -ENODEV)
			return true;
		if (!ret && sgl)
			wdmdma_put_sg_list(a, sgl, true);
		else if (ret != -ENOMEM)
			return false;
		if (preemptible())
			cond_resched();
		else
			cpu_relax();
	} while (time_before(jiffies, end));
	return false;
}

static int lc_probe_init(struct kunit *test, struct lc_probe *p,
			 struct wdmdma_adapter *a, struct wdmdma_mdl *mdl)
{
	unsigned int nregs;
	int ret;

	memset(p, 0, sizeof(*p));
	p->mdl = mdl;
	ret = wdmdma_calculate_sg_list(a, mdl, wdmdma_mdl_va(mdl), PAGE_SIZE,
				       &p->buf_len, &nregs);
	if (ret)
		return ret;
	p->buf = kunit_kzalloc(test, p->buf_len, GFP_KERNEL);
	return p->buf ? 0 : -ENOMEM;
}

/* Build buffer size for the LC_XFER range of the fixture's buffer. */
static size_t lc_xfer_size(struct kunit *test, struct wdmdma_adapter *a,
			   struct lc_fixture *fx)
{
	unsigned int nregs;
	size_t size = 0;

	KUNIT_EXPECT_EQ(test, wdmdma_calculate_sg_list(a, fx->mdl,
						       fx->va + LC_OFF,
						       LC_XFER, &size, &nregs),
			0);
	return size;
}

/* === Item 1: creation failing part-way ================================== */

/*
 * A one-element adapter needs one contiguous map-register run of its
 * maximum transfer; 64 MiB is beyond the page allocator's largest order,
 * so the chunk allocation fails after the adapter, its waiter slots, its
 * reserve and its chunk array exist.
 */
static void lc_create_huge_chunk(struct kunit *test)
{
	struct lc_fixture *fx = test->priv;
	unsigned int refs = lc_dev_refs(fx->dev);
	struct wdmdma_adapter *a;

	dma_set_max_seg_size(fx->dev, LC_HUGE_MAX);
	a = lc_create(fx->dev, false, 64, LC_HUGE_MAX, 1);
	KUNIT_EXPECT_TRUE(test, IS_ERR(a));
	if (!IS_ERR(a)) {
		wdmdma_destroy_adapter(a);
		return;
	}
	KUNIT_EXPECT_EQ(test, PTR_ERR(a), -ENOMEM);
	KUNIT_EXPECT_EQ(test, dma_get_mask(fx->dev), LC_MASK0);
	KUNIT_EXPECT_EQ(test, fx->dev->coherent_dma_mask, LC_COHERENT0);
	KUNIT_EXPECT_EQ(test, lc_dev_refs(fx->dev), refs);
}

/*
 * Fail the n-th allocation of creation for n = 1, 2, ... until creation
 * succeeds: each failure is -ENOMEM, leaves the masks and the device's
 * references as they were, and leaks nothing; at least 4 allocations
 * were failed in turn.
 */
static void lc_fail_nth(struct kunit *test, bool sg, unsigned int width)
{
	struct lc_fixture *fx = test->priv;
	unsigned int refs = lc_dev_refs(fx->dev);
	struct wdmdma_adapter *a = NULL;
	unsigned int n, failures = 0;

	for (n = 1; n <= LC_NTH_MAX; n++) {
		wdmdma_fail_nth_alloc(n);
		a = lc_create(fx->dev, sg, width, LC_MAX, 2);
		if (!IS_ERR(a))
			break;
		failures++;
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(a), -ENOMEM, "n=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, dma_get_mask(fx->dev), LC_MASK0,
				    "streaming mask after failure n=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, fx->dev->coherent_dma_mask,
				    LC_COHERENT0,
				    "coherent mask after failure n=%u", n);
		KUNIT_EXPECT_EQ_MSG(test, lc_dev_refs(fx->dev), refs,
				    "device references after failure n=%u", n);
	}
	wdmdma_fail_nth_alloc(0);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(a),
			       "creation still failing at n=%u", LC_NTH_MAX);
	KUNIT_EXPECT_GE(test, failures, 4);
	kunit_info(test, "creation failed cleanly at n = 1..%u\n", failures);
	KUNIT_EXPECT_EQ(test, dma_get_mask(fx->dev), DMA_BIT_MASK(width));
	KUNIT_EXPECT_EQ(test, fx->dev->coherent_dma_mask, LC_COHERENT0);
	wdmdma_destroy_adapter(a);
	lc_expect_released(test, fx->dev, refs);
}

static void lc_create_fail_nth_sg64(struct kunit *test)
{
	lc_fail_nth(test, true, 64);
}

static void lc_create_fail_nth_one32(struct kunit *test)
{
	lc_fail_nth(test, false, 32);
}

/* === Item 2: destroy racing the last Put ================================ */

struct lc_put_race {
	struct wdmdma_adapter *a;
	struct wdmdma_test_rec *rec;	/* [0] Get, [1] Build */
	struct lc_probe probe;
	bool wait_dead;			/* probe for destroy, then Put */
	bool build_first;
	bool saw_dead;
};

static void lc_put_round(void *data)
{
	struct lc_put_race *r = data;
	int first = r->build_first ? 1 : 0;

	r->saw_dead = false;
	if (r->wait_dead)
		r->saw_dead = lc_probe_dead(r->a, &r->probe);
	wdmdma_put_sg_list(r->a, r->rec[first].sgl, true);
	wdmdma_put_sg_list(r->a, r->rec[!first].sgl, true);
}

/*
 * Destroy frees the adapter before it returns when no list is out, after
 * lists were claimed and put on the lock-free path (adapters created with
 * the verifier off: their per-CPU reference must have ended by then); with
 * a list out the adapter lives until its Put, which frees it.
 */
static void lc_destroy_frees(struct kunit *test)
{
	struct lc_fixture *fx = test->priv;
	unsigned int refs = lc_dev_refs(fx->dev);
	struct wdmdma_test_rec *rec = wdmdma_test_recs(test, 1, NULL);
	bool verifier = wdmdma_set_verifier(false);	/* the fast path */
	struct wdmdma_adapter *a;
	unsigned int i;
	int ret;

	a = lc_create(fx->dev, true, 64, LC_MAX, 1);
	wdmdma_set_verifier(verifier);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(a));
	KUNIT_EXPECT_EQ(test, lc_dev_refs(fx->dev), refs + 1);
	for (i = 0; i < 4; i++) {
		wdmdma_test_rec_init(rec, NULL);
		ret = wdmdma_get_sg_list(a, fx->mdl, fx->va + LC_OFF, LC_XFER,
					 wdmdma_test_rec_cb, rec, true);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
		if (!ret && wdmdma_test_rec_calls(rec) == 1)
			wdmdma_put_sg_list(a, rec->sgl, true);
	}
	wdmdma_destroy_adapter(a);
	/* No waiting: it is gone, and its device reference with it. */
	KUNIT_EXPECT_EQ_MSG(test, lc_dev_refs(fx->dev), refs,
			    "device references right after destroying an idle adapter");

	verifier = wdmdma_set_verifier(false);
	a = lc_create(fx->dev, true, 64, LC_MAX, 1);
	wdmdma_set_verifier(verifier);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(a));
	wdmdma_test_rec_init(rec, NULL);
	ret = wdmdma_get_sg_list(a, fx->mdl, fx->va + LC_OFF, LC_XFER,
				 wdmdma_test_rec_cb, rec, true);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, wdmdma_test_rec_calls(rec), 1);
	pr_info(WDMDMA_TEST_WARN_BEGIN);
	wdmdma_destroy_adapter(a);
	pr_info(WDMDMA_TEST_WARN_END);
	KUNIT_EXPECT_EQ_MSG(test, lc_dev_refs(fx->dev), refs + 1,
			    "device references with a list out after destroy");
	wdmdma_put_sg_list(a, rec->sgl, true);
	lc_expect_released(test, fx->dev, refs);
}

/*
 * A thread holds two lists (Get and Build) and Puts them while the test
 * thread destroys the adapter: at once in even rounds, or as soon as
 * destroy has begun in odd rounds. Whichever Put is last, the adapter is
 * freed exactly once (KASAN), and all of it (kmemleak).
 */
static void lc_destroy_vs_put(struct kunit *test)
{
	struct lc_fixture *fx = test->priv;
	unsigned int refs = lc_dev_refs(fx->dev);
	unsigned int i, probed = 0, dead = 0;
	struct lc_worker *w;
	struct lc_put_race *r;
	size_t size = 0;
	void *buf = NULL;
	int ret;

	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->rec = wdmdma_test_recs(test, 2, NULL);
	KUNIT_ASSERT_EQ(test, lc_worker_start(w, lc_put_round, r, "put"), 0);

	for (i = 0; i < LC_PUT_ROUNDS; i++) {
		struct wdmdma_adapter *a;

		a = lc_create(fx->dev, true, 64, LC_MAX, 1);
		KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(a));
		if (IS_ERR_OR_NULL(a))
			break;
		if (!buf) {
			size = lc_xfer_size(test, a, fx);
			buf = kunit_kzalloc(test, size ? size : 1, GFP_KERNEL);
			ret = lc_probe_init(test, &r->probe, a, fx->mdl);
			if (!buf || !size || ret) {
				KUNIT_FAIL(test, "setup: size %zu, probe %d",
					   size, ret);
				wdmdma_destroy_adapter(a);
				break;
			}
		}
		wdmdma_test_rec_init(&r->rec[0], NULL);
		wdmdma_test_rec_init(&r->rec[1], NULL);
		ret = wdmdma_get_sg_list(a, fx->mdl, fx->va + LC_OFF, LC_XFER,
					 wdmdma_test_rec_cb, &r->rec[0], true);
		KUNIT_EXPECT_EQ(test, ret, 0);
		ret = wdmdma_build_sg_list(a, fx->mdl, fx->va + LC_OFF,
					   LC_XFER, wdmdma_test_rec_cb,
					   &r->rec[1], true, buf, size);
		KUNIT_EXPECT_EQ(test, ret, 0);
		if (wdmdma_test_rec_calls(&r->rec[0]) != 1 ||
		    wdmdma_test_rec_calls(&r->rec[1]) != 1) {
			KUNIT_FAIL(test, "round %u: lists not mapped at once",
				   i);
			if (wdmdma_test_rec_calls(&r->rec[0]) == 1)
				wdmdma_put_sg_list(a, r->rec[0].sgl, true);
			if (wdmdma_test_rec_calls(&r->rec[1]) == 1)
				wdmdma_put_sg_list(a, r->rec[1].sgl, true);
			wdmdma_destroy_adapter(a);
			break;
		}
		r->a = a;
		r->wait_dead = i & 1;
		r->build_first = i & 2;
		if (!lc_worker_go(w)) {
			KUNIT_FAIL(test, "round %u: thread did not start", i);
			break;
		}
		pr_info(WDMDMA_TEST_WARN_BEGIN);
		wdmdma_destroy_adapter(a);
		pr_info(WDMDMA_TEST_WARN_END);
		KUNIT_ASSERT_TRUE_MSG(test, lc_worker_wait(w),
				      "round %u: the Puts did not return", i);
		if (r->wait_dead) {
			probed++;
			dead += r->saw_dead;
		}
	}
	lc_worker_stop(w);
	KUNIT_EXPECT_EQ(test, i, LC_PUT_ROUNDS);
	/* Destroy had begun, the lists were held: Build said -ENODEV. */
	KUNIT_EXPECT_EQ(test, dead, probed);
	lc_expect_released(test, fx->dev, refs);
	kunit_info(test, "%u rounds, %u Puts after destroy began (%u probes)\n",
		   i, dead, r->probe.tries);
}

struct lc_cb_race {
	struct wdmdma_adapter *a;
	struct lc_probe probe;
	struct completion cb_started;
	bool destroying;		/* the test thread calls destroy now */
	bool wait_dead;
	bool saw_dead;
	bool put;
};

/*
 * The deferred callback: tell the test it runs, wait for it to call
 * destroy, then (odd rounds) for destroy to begin, and Put at once.
 */
static void lc_cb_put_hook(struct wdmdma_test_rec *rec)
{
	struct lc_cb_race *r = rec->data;
	unsigned long end = jiffies + msecs_to_jiffies(LC_PROBE_MS);

	complete(&r->cb_started);
	while (!READ_ONCE(r->destroying) && time_before(jiffies, end))
		cpu_relax();
	r->saw_dead = false;
	if (r->wait_dead && rec->sgl)
		r->saw_dead = lc_probe_dead(r->a, &r->probe);
	if (rec->sgl) {
		wdmdma_put_sg_list(r->a, rec->sgl, true);
		r->put = true;
	}
}

/*
 * A request waits for memory (allocations failing, the reserve held);
 * the Put of the held list lets the adapter's work item run its callback,
 * which Puts its own list at once while destroy runs: that Put is the
 * last, racing destroy's own decision to free.
 */
static void lc_destroy_vs_deferred_put(struct kunit *test)
{
	struct lc_fixture *fx = test->priv;
	unsigned int refs = lc_dev_refs(fx->dev);
	struct wdmdma_test_rec *hold, *rec;
	unsigned int i, probed = 0, dead = 0;
	struct wdmdma_stats st;
	struct lc_cb_race *r;
	int ret;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	hold = wdmdma_test_recs(test, 1, NULL);
	rec = wdmdma_test_recs(test, 1, NULL);
	init_completion(&r->cb_started);

	for (i = 0; i < LC_CB_ROUNDS; i++) {
		struct wdmdma_adapter *a;

		a = lc_create(fx->dev, true, 64, LC_MAX, 1);
		KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(a));
		if (IS_ERR_OR_NULL(a))
			break;
		if (!r->probe.buf &&
		    lc_probe_init(test, &r->probe, a, fx->mdl)) {
			KUNIT_FAIL(test, "probe setup failed");
			wdmdma_destroy_adapter(a);
			break;
		}
		wdmdma_set_fail_alloc(a, 100);
		wdmdma_test_rec_init(hold, NULL);
		wdmdma_test_rec_init(rec, NULL);
		rec->hook = lc_cb_put_hook;
		rec->data = r;
		r->a = a;
		r->destroying = false;
		r->put = false;
		r->wait_dead = i & 1;
		reinit_completion(&r->cb_started);

		ret = wdmdma_get_sg_list(a, fx->mdl, fx->va + LC_OFF, LC_XFER,
					 wdmdma_test_rec_cb, hold, true);
		KUNIT_EXPECT_EQ(test, ret, 0);
		ret = wdmdma_get_sg_list(a, fx->mdl, fx->va + LC_OFF, LC_XFER,
					 wdmdma_test_rec_cb, rec, true);
		KUNIT_EXPECT_EQ(test, ret, 0);
		st = wdmdma_test_stats(a);
		if (wdmdma_test_rec_calls(hold) != 1 ||
		    wdmdma_test_rec_calls(rec) != 0 || st.queue_depth != 1) {
			KUNIT_FAIL(test, "round %u: hold %d, waiter %d, queue %llu",
				   i, wdmdma_test_rec_calls(hold),
				   wdmdma_test_rec_calls(rec), st.queue_depth);
			pr_info(WDMDMA_TEST_WARN_BEGIN);
			wdmdma_destroy_adapter(a);
			pr_info(WDMDMA_TEST_WARN_END);
			if (wdmdma_test_rec_calls(hold) == 1)
				wdmdma_put_sg_list(a, hold->sgl, true);
			break;
		}

		/* The Put frees the reserve: the work item runs the waiter. */
		wdmdma_put_sg_list(a, hold->sgl, true);
		if (!wait_for_completion_timeout(&r->cb_started, LC_WAIT)) {
			KUNIT_FAIL(test, "round %u: deferred callback never ran",
				   i);
			wdmdma_destroy_adapter(a);
			break;
		}
		/*
		 * Destroy waits for the running callback, whose Put comes
		 * first: no list is left to WARN about (no markers).
		 */
		WRITE_ONCE(r->destroying, true);
		wdmdma_destroy_adapter(a);
		KUNIT_ASSERT_TRUE_MSG(test, wdmdma_test_rec_wait(rec),
				      "round %u: callback did not return", i);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
		KUNIT_EXPECT_TRUE(test, r->put);
		if (r->wait_dead) {
			probed++;
			dead += r->saw_dead;
		}
	}
	KUNIT_EXPECT_EQ(test, i, LC_CB_ROUNDS);
	lc_expect_released(test, fx->dev, refs);
	kunit_info(test, "%u rounds, %u of %u callback Puts after destroy began\n",
		   i, dead, probed);
}

/* === Item 3: destroy racing wdmdma_cancel() ============================= */

struct lc_cancel_race {
	struct wdmdma_adapter *a;
	struct wdmdma_xfer_ctx *ctx[LC_CANCEL_REQS];
	bool cancelled[LC_CANCEL_REQS];	/* wdmdma_cancel() returned true */
	struct lc_probe probe;
	bool wait_dead;
	bool saw_dead;
	unsigned int delay_us;
};

/*
 * Cancel every waiting request, newest first (destroy walks them oldest
 * first), and free a context as soon as its cancel returned true, as a
 * driver freeing its request would.
 */
static void lc_cancel_round(void *data)
{
	struct lc_cancel_race *r = data;
	int j;

	r->saw_dead = false;
	if (r->wait_dead)
		r->saw_dead = lc_probe_dead(r->a, &r->probe);
	udelay(r->delay_us);
	for (j = LC_CANCEL_REQS - 1; j >= 0; j--) {
		r->cancelled[j] = wdmdma_cancel(r->a, r->ctx[j]);
		if (r->cancelled[j]) {
			kfree(r->ctx[j]);
			r->ctx[j] = NULL;
		}
	}
}

/*
 * _ex requests wait for memory (allocations failing, the reserve held by
 * the test); a thread cancels them while destroy runs. Each request is
 * cancelled exactly once, by wdmdma_cancel() (true) or by destroy, and
 * none calls back, not even after the held list is Put.
 */
static void lc_destroy_vs_cancel(struct kunit *test)
{
	struct lc_fixture *fx = test->priv;
	unsigned int refs = lc_dev_refs(fx->dev);
	unsigned int i, by_cancel = 0, by_destroy = 0;
	struct wdmdma_test_rec *hold, *rec;
	struct lc_cancel_race *r;
	struct wdmdma_stats st;
	struct lc_worker *w;
	int j, ret;

	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_NOT_NULL(test, r);
	hold = wdmdma_test_recs(test, 1, NULL);
	rec = wdmdma_test_recs(test, LC_CANCEL_REQS, NULL);
	KUNIT_ASSERT_EQ(test, lc_worker_start(w, lc_cancel_round, r, "cancel"),
			0);

	for (i = 0; i < LC_CANCEL_ROUNDS; i++) {
		struct wdmdma_adapter *a;
		unsigned int n_true = 0;

		a = lc_create(fx->dev, true, 64, LC_MAX, 1);
		KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(a));
		if (IS_ERR_OR_NULL(a))
			break;
		if (!r->probe.buf &&
		    lc_probe_init(test, &r->probe, a, fx->mdl)) {
			KUNIT_FAIL(test, "probe setup failed");
			wdmdma_destroy_adapter(a);
			break;
		}
		wdmdma_set_fail_alloc(a, 100);
		r->a = a;
		wdmdma_test_rec_init(hold, NULL);
		ret = wdmdma_get_sg_list(a, fx->mdl, fx->va + LC_OFF, LC_XFER,
					 wdmdma_test_rec_cb, hold, true);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(hold), 1);
		for (j = 0; j < LC_CANCEL_REQS; j++) {
			wdmdma_test_rec_init(&rec[j], NULL);
			r->cancelled[j] = false;
			r->ctx[j] = kzalloc_obj(*r->ctx[j], GFP_KERNEL);
			KUNIT_EXPECT_NOT_NULL(test, r->ctx[j]);
			if (!r->ctx[j])
				continue;
			wdmdma_init_xfer_ctx(a, r->ctx[j]);
			ret = wdmdma_get_sg_list_ex(a, r->ctx[j], fx->mdl,
						    LC_OFF, LC_XFER, 0,
						    wdmdma_test_rec_cb, &rec[j],
						    true, NULL);
			KUNIT_EXPECT_EQ(test, ret, 0);
		}
		st = wdmdma_test_stats(a);
		if (wdmdma_test_rec_calls(hold) != 1 ||
		    st.queue_depth != LC_CANCEL_REQS) {
			KUNIT_FAIL(test, "round %u: %llu waiting", i,
				   st.queue_depth);
			pr_info(WDMDMA_TEST_WARN_BEGIN);
			wdmdma_destroy_adapter(a);
			pr_info(WDMDMA_TEST_WARN_END);
			if (wdmdma_test_rec_calls(hold) == 1)
				wdmdma_put_sg_list(a, hold->sgl, true);
			for (j = 0; j < LC_CANCEL_REQS; j++)
				kfree(r->ctx[j]);
			break;
		}

		r->wait_dead = i % 4 != 0;
		r->delay_us = get_random_u32_below(400);
		if (!lc_worker_go(w)) {
			KUNIT_FAIL(test, "round %u: thread did not start", i);
			break;
		}
		/* The held list is outstanding: destroy WARNs. */
		pr_info(WDMDMA_TEST_WARN_BEGIN);
		wdmdma_destroy_adapter(a);
		pr_info(WDMDMA_TEST_WARN_END);
		KUNIT_ASSERT_TRUE_MSG(test, lc_worker_wait(w),
				      "round %u: the cancels did not return", i);

		/* Still alive: the held list keeps it. */
		st = wdmdma_test_stats(a);
		for (j = 0; j < LC_CANCEL_REQS; j++)
			n_true += r->cancelled[j];
		KUNIT_EXPECT_EQ_MSG(test, st.cancelled, LC_CANCEL_REQS,
				    "round %u: %u cancelled by wdmdma_cancel()",
				    i, n_true);
		KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
		KUNIT_EXPECT_EQ(test, st.deferred, LC_CANCEL_REQS);
		KUNIT_EXPECT_EQ(test, st.outstanding, 1);
		wdmdma_put_sg_list(a, hold->sgl, true);
		/* Destroyed: nothing can run a callback any more. */
		for (j = 0; j < LC_CANCEL_REQS; j++) {
			KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[j]),
					    0, "round %u: request %d called back",
					    i, j);
			kfree(r->ctx[j]);
			r->ctx[j] = NULL;
		}
		by_cancel += n_true;
		by_destroy += LC_CANCEL_REQS - n_true;
		if (st.cancelled != LC_CANCEL_REQS)
			break;
	}
	lc_worker_stop(w);
	KUNIT_EXPECT_EQ(test, i, LC_CANCEL_ROUNDS);
	lc_expect_released(test, fx->dev, refs);
	kunit_info(test, "%u rounds: %u cancelled by wdmdma_cancel(), %u by destroy\n",
		   i, by_cancel, by_destroy);
}

/* === Item 4: destroy racing a fast-path submit whose mapping fails ======= */

/* A buffer of @nr pages, none followed by its physical successor. */
struct lc_vbuf {
	void *va;
	unsigned int nr;
	struct page **pages;
};

static void lc_vbuf_free(struct lc_vbuf *vb)
{
	if (vb->va)
		vunmap(vb->va);
	vb->va = NULL;
	while (vb->nr)
		__free_page(vb->pages[--vb->nr]);
	kfree(vb->pages);
	vb->pages = NULL;
}

static int lc_page_cmp_desc(const void *a, const void *b)
{
	unsigned long pa = page_to_pfn(*(struct page * const *)a);
	unsigned long pb = page_to_pfn(*(struct page * const *)b);

	return pa < pb ? 1 : pa > pb ? -1 : 0;
}

static int lc_vbuf_alloc(struct lc_vbuf *vb, unsigned int nr)
{
	memset(vb, 0, sizeof(*vb));
	vb->pages = kcalloc(nr, sizeof(*vb->pages), GFP_KERNEL);
	if (!vb->pages)
		return -ENOMEM;
	for (vb->nr = 0; vb->nr < nr; vb->nr++) {
		vb->pages[vb->nr] = alloc_page(GFP_KERNEL);
		if (!vb->pages[vb->nr])
			goto fail;
	}
	sort(vb->pages, nr, sizeof(*vb->pages), lc_page_cmp_desc, NULL);
	vb->va = vmap(vb->pages, nr, VM_MAP, PAGE_KERNEL);
	if (vb->va)
		return 0;
fail:
	lc_vbuf_free(vb);
	return -ENOMEM;
}

struct lc_mapfail_race {
	struct wdmdma_adapter *a;
	struct wdmdma_mdl *mdl;
	void *va;
	void *buf;			/* Build buffer */
	size_t buf_len;
	struct wdmdma_test_rec rec;
	bool build;
	int ret;
};

/* One bounced 1 MiB write whose mapping fails (injected -EIO). */
static void lc_mapfail_round(void *data)
{
	struct lc_mapfail_race *r = data;

	if (r->build)
		r->ret = wdmdma_build_sg_list(r->a, r->mdl, r->va,
					      LC_MAPFAIL_PAGES * PAGE_SIZE,
					      wdmdma_test_rec_cb, &r->rec,
					      true, r->buf, r->buf_len);
	else
		r->ret = wdmdma_get_sg_list(r->a, r->mdl, r->va,
					    LC_MAPFAIL_PAGES * PAGE_SIZE,
					    wdmdma_test_rec_cb, &r->rec, true);
}

/*
 * A thread submits a bounced write to a one-element adapter whose every
 * mapping fails; once it holds map registers (the submit is past its
 * checks, copying into them) the test thread destroys the adapter. The
 * submit fails with -EIO, its callback never runs, and the adapter is
 * still freed: its device reference dropped, the device's streaming mask
 * restored (no adapter is left), and a new adapter can be created.
 */
static void lc_destroy_vs_map_failure(struct kunit *test)
{
	struct lc_fixture *fx = test->priv;
	unsigned int refs = lc_dev_refs(fx->dev);
	unsigned int i, armed = 0;
	struct lc_mapfail_race *r;
	u64 mask_wrong = 0;
	struct wdmdma_stats st;
	struct lc_worker *w;
	struct lc_vbuf *vb;
	unsigned int nregs;
	int ret;

	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	vb = kunit_kzalloc(test, sizeof(*vb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, vb);
	KUNIT_ASSERT_EQ(test, lc_vbuf_alloc(vb, LC_MAPFAIL_PAGES), 0);
	r->va = vb->va;
	r->mdl = wdmdma_mdl_alloc(vb->va, LC_MAPFAIL_PAGES * PAGE_SIZE,
				  GFP_KERNEL);
	if (!r->mdl || wdmdma_mdl_build_for_kernel_buffer(r->mdl)) {
		KUNIT_FAIL(test, "no MDL");
		goto out;
	}
	ret = lc_worker_start(w, lc_mapfail_round, r, "mapfail");
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (ret)
		goto out;

	for (i = 0; i < LC_MAPFAIL_ROUNDS; i++) {
		struct wdmdma_adapter *a;
		unsigned long end;
		bool seen = false;

		a = lc_create(fx->dev, false, 64, LC_MAPFAIL_PAGES * PAGE_SIZE,
			      1);
		KUNIT_EXPECT_FALSE_MSG(test, IS_ERR_OR_NULL(a),
				       "round %u: creation failed", i);
		if (IS_ERR_OR_NULL(a))
			break;
		if (!r->buf) {
			ret = wdmdma_calculate_sg_list(a, r->mdl, r->va,
						       LC_MAPFAIL_PAGES * PAGE_SIZE,
						       &r->buf_len, &nregs);
			KUNIT_EXPECT_EQ(test, ret, 0);
			r->buf = kunit_kzalloc(test, r->buf_len ?: 1,
					       GFP_KERNEL);
			if (ret || !r->buf) {
				wdmdma_destroy_adapter(a);
				break;
			}
		}
		wdmdma_inject_map_error(a, -EIO, -1);
		wdmdma_test_rec_init(&r->rec, NULL);
		r->a = a;
		r->build = i & 1;
		r->ret = 1;
		if (!lc_worker_go(w)) {
			KUNIT_FAIL(test, "round %u: thread did not start", i);
			wdmdma_destroy_adapter(a);
			break;
		}
		/* Destroy once the submit holds map registers. */
		end = jiffies + LC_WAIT;
		while (!completion_done(&w->done) && time_before(jiffies, end)) {
			st = wdmdma_test_stats(a);
			if (st.map_regs_in_use) {
				seen = true;
				break;
			}
			cpu_relax();
		}
		armed += seen;
		/* The driver holds no list: no WARN (no markers). */
		wdmdma_destroy_adapter(a);
		KUNIT_ASSERT_TRUE_MSG(test, lc_worker_wait(w),
				      "round %u: the submit did not return", i);
		KUNIT_EXPECT_EQ_MSG(test, r->ret, -EIO, "round %u", i);
		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&r->rec), 0,
				    "round %u: failed submit called back", i);
		/* The adapter is freed: it dropped its device reference. */
		if (!lc_wait_released(fx->dev, 0, refs)) {
			KUNIT_FAIL(test,
				   "round %u: adapter never freed (device refs %u, %u before)",
				   i, lc_dev_refs(fx->dev), refs);
			break;
		}
		/* No adapter is left: the device's own mask is back. */
		if (!mask_wrong && !lc_wait_released(fx->dev, LC_MASK0, refs))
			mask_wrong = dma_get_mask(fx->dev);
	}
	KUNIT_EXPECT_EQ(test, i, LC_MAPFAIL_ROUNDS);
	KUNIT_EXPECT_EQ_MSG(test, mask_wrong, 0,
			    "streaming mask not restored after destroy");
	kunit_info(test, "%u rounds, destroy met the submit in %u\n", i, armed);
out:
	lc_worker_stop(w);
	wdmdma_mdl_free(r->mdl);
	lc_vbuf_free(vb);
}

/* === Item 10: two adapters on one device ================================ */

#define LC_NARROW	28

/*
 * A block of 2^LC_HIGH_ORDER pages beyond @bits, or NULL. Free memory is
 * handed out lowest address first after boot, so walk up in large blocks
 * (holding those below until one above is found).
 */
#define LC_HIGH_ORDER	9

static struct page *lc_pages_above(unsigned int bits)
{
	struct page *page = NULL, *p, *tmp;
	unsigned int n;
	LIST_HEAD(low);

	for (n = 0; n < 1024 && !page; n++) {
		p = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY,
				LC_HIGH_ORDER);
		if (!p)
			break;
		if (page_to_phys(p) > DMA_BIT_MASK(bits))
			page = p;
		else
			list_add(&p->lru, &low);
	}
	list_for_each_entry_safe(p, tmp, &low, lru) {
		list_del(&p->lru);
		__free_pages(p, LC_HIGH_ORDER);
	}
	return page;
}

/* Get a list of @len bytes of @mdl from @a, check it, and Put it. */
static void lc_check_reach(struct kunit *test, struct wdmdma_adapter *a,
			   struct wdmdma_mdl *mdl, u32 len, u64 limit,
			   const char *what)
{
	struct wdmdma_test_rec *rec = wdmdma_test_recs(test, 1, NULL);
	int ret;

	ret = wdmdma_get_sg_list(a, mdl, wdmdma_mdl_va(mdl), len,
				 wdmdma_test_rec_cb, rec, false);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s", what);
	if (ret)
		return;
	KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(rec), "%s", what);
	if (wdmdma_test_rec_calls(rec) != 1 || !rec->sgl)
		return;
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_sgl_bytes(rec->sgl), len, "%s",
			    what);
	KUNIT_EXPECT_LE_MSG(test, wdmdma_test_sgl_max_addr(rec->sgl), limit,
			    "%s", what);
	wdmdma_put_sg_list(a, rec->sgl, false);
}

static void lc_expect_masks(struct kunit *test, struct device *dev, u64 mask,
			    const char *when)
{
	KUNIT_EXPECT_EQ_MSG(test, dma_get_mask(dev), mask, "streaming, %s",
			    when);
	KUNIT_EXPECT_EQ_MSG(test, dev->coherent_dma_mask, LC_COHERENT0,
			    "coherent, %s", when);
}

/*
 * A 28-bit and a 64-bit scatter/gather adapter on one device. A buffer
 * above 2^28 (half of a 512 MiB guest) is mapped by both, before and
 * after the other exists: the narrow one always bounces it below 2^28,
 * the wide one maps it where it is. The coherent mask never changes; the
 * streaming mask is the widest live adapter's, and the driver's own
 * again when the last is destroyed; failed creations change nothing.
 */
static void lc_two_adapters(struct kunit *test)
{
	struct lc_fixture *fx = test->priv;
	struct wdmdma_adapter *narrow, *wide, *a;
	unsigned int refs = lc_dev_refs(fx->dev);
	struct wdmdma_mdl *mdl;
	struct page *page;
	void *va;

	page = lc_pages_above(LC_NARROW);
	KUNIT_ASSERT_NOT_NULL(test, page);
	va = page_address(page);
	wdmdma_test_fill(va, PAGE_SIZE, 0x5a);
	mdl = wdmdma_mdl_alloc(va, PAGE_SIZE, GFP_KERNEL);
	if (!mdl || wdmdma_mdl_build_for_kernel_buffer(mdl)) {
		KUNIT_FAIL(test, "no MDL");
		goto out;
	}

	/* Refused before anything is touched. */
	a = lc_create(fx->dev, true, 20, LC_MAX, 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(a), -EINVAL);
	lc_expect_masks(test, fx->dev, LC_MASK0, "after a 20-bit creation");
	/* The first adapter's creation fails: the masks are restored. */
	wdmdma_fail_nth_alloc(1);
	a = lc_create(fx->dev, true, LC_NARROW, LC_MAX, 1);
	wdmdma_fail_nth_alloc(0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(a), -ENOMEM);
	if (!IS_ERR(a))
		wdmdma_destroy_adapter(a);
	lc_expect_masks(test, fx->dev, LC_MASK0, "after a failed creation");

	narrow = lc_create(fx->dev, true, LC_NARROW, LC_MAX, 1);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(narrow));
	lc_expect_masks(test, fx->dev, DMA_BIT_MASK(LC_NARROW),
			"with the 28-bit adapter");
	lc_check_reach(test, narrow, mdl, PAGE_SIZE, DMA_BIT_MASK(LC_NARROW),
		       "28-bit adapter alone");

	wide = lc_create(fx->dev, true, 64, LC_MAX, 1);
	KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(wide));
	if (IS_ERR_OR_NULL(wide)) {
		wdmdma_destroy_adapter(narrow);
		goto out;
	}
	lc_expect_masks(test, fx->dev, DMA_BIT_MASK(64),
			"with the 28- and 64-bit adapters");
	lc_check_reach(test, narrow, mdl, PAGE_SIZE, DMA_BIT_MASK(LC_NARROW),
		       "28-bit adapter beside the 64-bit one");
	lc_check_reach(test, wide, mdl, PAGE_SIZE, DMA_BIT_MASK(64),
		       "64-bit adapter");
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(wide).bounced, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(narrow).bounced, 2);

	/* A third creation fails: the two adapters' mask stays. */
	wdmdma_fail_nth_alloc(1);
	a = lc_create(fx->dev, true, 32, LC_MAX, 1);
	wdmdma_fail_nth_alloc(0);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(a), -ENOMEM);
	if (!IS_ERR(a))
		wdmdma_destroy_adapter(a);
	lc_expect_masks(test, fx->dev, DMA_BIT_MASK(64),
			"after a failed third creation");

	wdmdma_destroy_adapter(wide);
	KUNIT_EXPECT_TRUE(test, lc_wait_released(fx->dev,
						 DMA_BIT_MASK(LC_NARROW),
						 refs + 1));
	lc_expect_masks(test, fx->dev, DMA_BIT_MASK(LC_NARROW),
			"after the 64-bit adapter is gone");
	lc_check_reach(test, narrow, mdl, PAGE_SIZE, DMA_BIT_MASK(LC_NARROW),
		       "28-bit adapter after the 64-bit one");

	wdmdma_destroy_adapter(narrow);
	KUNIT_EXPECT_TRUE(test, lc_wait_released(fx->dev, LC_MASK0, refs));
	lc_expect_masks(test, fx->dev, LC_MASK0, "after both are gone");
out:
	wdmdma_mdl_free(mdl);
	__free_pages(page, LC_HIGH_ORDER);
}

static int lc_suite_init(struct kunit_suite *suite)
{
	lc_pdev = wdmdma_test_pdev_create("wdmdma-test-lifecycle");
	return PTR_ERR_OR_ZERO(lc_pdev);
}

static void lc_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(lc_pdev);
	lc_pdev = NULL;
}

static struct kunit_case lc_test_cases[] = {
	KUNIT_CASE(lc_create_huge_chunk),
	KUNIT_CASE(lc_create_fail_nth_sg64),
	KUNIT_CASE(lc_create_fail_nth_one32),
	KUNIT_CASE(lc_destroy_frees),
	KUNIT_CASE(lc_destroy_vs_put),
	KUNIT_CASE(lc_destroy_vs_deferred_put),
	KUNIT_CASE(lc_destroy_vs_cancel),
	KUNIT_CASE(lc_destroy_vs_map_failure),
	KUNIT_CASE(lc_two_adapters),
	{ }
};

static struct kunit_suite lc_test_suite = {
	.name = "wdmdma_lifecycle",
	.suite_init = lc_suite_init,
	.suite_exit = lc_suite_exit,
	.init = lc_init,
	.exit = lc_exit,
	.test_cases = lc_test_cases,
};

kunit_test_suite(lc_test_suite);

MODULE_DESCRIPTION("KUnit tests for wdmdma adapter creation and destruction");
MODULE_LICENSE("GPL");
