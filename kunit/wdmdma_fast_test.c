// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_fast": the lock-free path (adapters created with
 * the verifier off).
 *
 *  - Get and Build of a transfer that needs no map registers take it (the
 *    "fast" counter), map every run of the buffer straight to its bus
 *    address, and their lists are put without the lock; on an adapter
 *    created with the verifier on they take the locked path.
 *  - A second Put of such a list, and a Put to another adapter, are
 *    refused and counted; the list stays outstanding where it belongs.
 *  - Mapping failures on the fast path end as on the locked one: -EIO with
 *    no callback, or (no mapping space) a wait and a later callback; a new
 *    request does not overtake one waiting for mapping space, but does go
 *    past requests waiting for map registers it does not need.
 *  - The _ex calls take it too; their transfer contexts keep their meaning
 *    (Cancel, synchronous calls, a wait for mapping space in the context);
 *    a synchronous call without a callback on the locked path leaves its
 *    context free as well.
 *  - Destroy racing two threads that Build and Get in a loop, every other
 *    call an _ex call (their callbacks Put at once; destroy meets a slow
 *    one): every submit either maps (one callback, one Put) or returns
 *    -ENODEV, and no callback is running or runs after destroy returned;
 *    the same on the locked path (an adapter created with the verifier on).
 *  - A thread on the fast path while another's bounced transfers wait for
 *    map registers and are put: every request ends once, in order, with
 *    its data intact.
 *
 * Each case turns the verifier off (wdmdma_set_verifier()) before it
 * creates adapters and restores it after.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define FAST_MAX	SZ_64K
#define FAST_BUF_LEN	(6 * PAGE_SIZE)
#define FAST_OFF	100
#define FAST_LEN	(2 * PAGE_SIZE)
#define FAST_RACE_ROUNDS	12
#define FAST_RACE_WARMUP	50	/* maps per thread before destroy */
#define FAST_SLOW_MS	200	/* the slow callback destroy meets */
#define FAST_WAIT	msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)

static struct platform_device *fast_pdev;

struct fast_fixture {
	struct device *dev;
	bool verifier;		/* the setting to restore */
	void *buf;		/* FAST_BUF_LEN, physically contiguous */
	struct wdmdma_mdl *mdl;
	void *build_buf;
	size_t build_len;
};

static int fast_init(struct kunit *test)
{
	struct fast_fixture *fx;

	if (IS_ERR_OR_NULL(fast_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	fx->dev = &fast_pdev->dev;
	fx->buf = kunit_kzalloc(test, FAST_BUF_LEN, GFP_KERNEL);
	fx->build_len = 4096;
	fx->build_buf = kunit_kzalloc(test, fx->build_len, GFP_KERNEL);
	if (!fx->buf || !fx->build_buf)
		return -ENOMEM;
	fx->mdl = wdmdma_mdl_alloc(fx->buf, FAST_BUF_LEN, GFP_KERNEL);
	if (!fx->mdl)
		return -ENOMEM;
	if (wdmdma_mdl_build_for_kernel_buffer(fx->mdl)) {
		wdmdma_mdl_free(fx->mdl);
		return -EINVAL;
	}
	fx->verifier = wdmdma_set_verifier(false);
	test->priv = fx;
	return 0;
}

static void fast_exit(struct kunit *test)
{
	struct fast_fixture *fx = test->priv;

	wdmdma_set_verifier(fx->verifier);
	wdmdma_mdl_free(fx->mdl);
}

static int fast_build(struct fast_fixture *fx, struct wdmdma_adapter *a,
		      void *buf, struct wdmdma_test_rec *rec)
{
	return wdmdma_build_sg_list(a, fx->mdl, fx->buf + FAST_OFF, FAST_LEN,
				    wdmdma_test_rec_cb, rec, true, buf,
				    fx->build_len);
}

static int fast_get(struct fast_fixture *fx, struct wdmdma_adapter *a,
		    struct wdmdma_test_rec *rec)
{
	return wdmdma_get_sg_list(a, fx->mdl, fx->buf + FAST_OFF, FAST_LEN,
				  wdmdma_test_rec_cb, rec, false);
}

/*
 * Get and Build take the fast path; each run of the buffer is one element
 * at its physical address (no IOMMU); Put ends them. With the verifier on,
 * the locked path.
 */
static void fast_test_taken(struct kunit *test)
{
	struct fast_fixture *fx = test->priv;
	struct wdmdma_test_vbuf vb;
	struct wdmdma_desc desc = {
		.scatter_gather = true,
		.dma_width = 64,
		.max_transfer = FAST_MAX,
	};
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a, *b;
	struct wdmdma_mdl *vmdl;
	struct wdmdma_stats st;
	unsigned int i;

	rec = wdmdma_test_recs(test, 4, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, FAST_MAX, 1, 0);

	KUNIT_EXPECT_EQ(test, fast_build(fx, a, fx->build_buf, &rec[0]), 0);
	KUNIT_EXPECT_EQ(test, fast_get(fx, a, &rec[1]), 0);
	KUNIT_ASSERT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	KUNIT_ASSERT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, 2);
	KUNIT_EXPECT_EQ(test, st.built, 1);
	KUNIT_EXPECT_EQ(test, st.allocated, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 2);
	KUNIT_EXPECT_EQ(test, st.deferred, 0);
	for (i = 0; i < 2; i++) {
		struct wdmdma_sg_list *sgl = rec[i].sgl;

		KUNIT_ASSERT_NOT_NULL(test, sgl);
		/* kmalloc memory: one physically contiguous run. */
		KUNIT_EXPECT_EQ(test, sgl->nr_elements, 1);
		KUNIT_EXPECT_EQ(test, sgl->elements[0].addr,
				(u64)virt_to_phys(fx->buf + FAST_OFF));
		KUNIT_EXPECT_EQ(test, sgl->elements[0].len, FAST_LEN);
	}
	wdmdma_put_sg_list(a, rec[0].sgl, true);
	wdmdma_put_sg_list(a, rec[1].sgl, false);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 0);

	/* Discontiguous pages: one element per page, each its own address. */
	KUNIT_ASSERT_NOT_NULL(test, wdmdma_test_vbuf_alloc(&vb, 4));
	vmdl = wdmdma_mdl_alloc(vb.va, 4 * PAGE_SIZE, GFP_KERNEL);
	if (!vmdl || wdmdma_mdl_build_for_kernel_buffer(vmdl)) {
		KUNIT_FAIL(test, "no MDL for the discontiguous buffer");
		goto out;
	}
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list(a, vmdl, vb.va + 10,
						 4 * PAGE_SIZE - 20,
						 wdmdma_test_rec_cb, &rec[2],
						 true), 0);
	if (wdmdma_test_rec_calls(&rec[2]) == 1 && rec[2].sgl) {
		struct wdmdma_sg_list *sgl = rec[2].sgl;

		KUNIT_EXPECT_EQ(test, sgl->nr_elements, 4);
		for (i = 0; i < 4 && i < sgl->nr_elements; i++)
			KUNIT_EXPECT_EQ(test, sgl->elements[i].addr,
					(u64)page_to_phys(vb.pages[i]) +
					(i ? 0 : 10));
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl),
				4 * PAGE_SIZE - 20);
		wdmdma_put_sg_list(a, sgl, true);
	} else {
		KUNIT_FAIL(test, "Get of the discontiguous buffer did not call back");
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, 3);

	/* An adapter created with the verifier on: the locked path. */
	wdmdma_set_verifier(true);
	b = wdmdma_create_adapter(fx->dev, &desc, NULL);
	wdmdma_set_verifier(false);
	if (IS_ERR(b)) {
		KUNIT_FAIL(test, "second adapter: %ld", PTR_ERR(b));
		goto out;
	}
	KUNIT_EXPECT_EQ(test, fast_build(fx, b, fx->build_buf, &rec[3]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 1);
	st = wdmdma_test_stats(b);
	KUNIT_EXPECT_EQ(test, st.fast, 0);
	KUNIT_EXPECT_EQ(test, st.built, 1);
	if (rec[3].sgl)
		wdmdma_put_sg_list(b, rec[3].sgl, true);
	st = wdmdma_test_stats(b);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	wdmdma_destroy_adapter(b);
out:
	wdmdma_mdl_free(vmdl);
	wdmdma_test_vbuf_free(&vb);
	wdmdma_destroy_adapter(a);
}

/* A second Put, and a Put to the wrong adapter, are refused and counted. */
static void fast_test_bad_put(struct kunit *test)
{
	struct fast_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a, *b;
	struct wdmdma_stats sa, sb;

	rec = wdmdma_test_recs(test, 1, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, FAST_MAX, 1, 0);
	b = wdmdma_test_adapter(test, fx->dev, true, 64, FAST_MAX, 1, 0);
	KUNIT_EXPECT_EQ(test, fast_build(fx, a, fx->build_buf, &rec[0]), 0);
	if (wdmdma_test_rec_calls(&rec[0]) != 1 || !rec[0].sgl) {
		KUNIT_FAIL(test, "Build did not call back with a list");
		goto out;
	}
	wdmdma_put_sg_list(b, rec[0].sgl, true);	/* not b's */
	sa = wdmdma_test_stats(a);
	sb = wdmdma_test_stats(b);
	KUNIT_EXPECT_EQ(test, sb.verifier_errors, 1);
	KUNIT_EXPECT_EQ(test, sa.outstanding, 1);

	wdmdma_put_sg_list(a, rec[0].sgl, true);
	wdmdma_put_sg_list(a, rec[0].sgl, true);	/* double Put */
	sa = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, sa.verifier_errors, 1);
	KUNIT_EXPECT_EQ(test, sa.outstanding, 0);
out:
	wdmdma_destroy_adapter(b);
	wdmdma_destroy_adapter(a);
}

/*
 * Mapping failures on the fast path; who waits behind whom.
 */
static void fast_test_map_failures(struct kunit *test)
{
	struct fast_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	atomic_t seq = ATOMIC_INIT(0);
	void *buf2;

	rec = wdmdma_test_recs(test, 4, &seq);
	buf2 = kunit_kzalloc(test, fx->build_len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf2);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, FAST_MAX, 1, 0);

	/* Permanent: -EIO, no callback, nothing left outstanding. */
	wdmdma_inject_map_error(a, -EINVAL, 1);
	KUNIT_EXPECT_EQ(test, fast_build(fx, a, fx->build_buf, &rec[0]), -EIO);
	KUNIT_EXPECT_EQ(test, fast_get(fx, a, &rec[0]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.failed, 1);
	KUNIT_EXPECT_EQ(test, st.fast, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1);
	if (rec[0].sgl)
		wdmdma_put_sg_list(a, rec[0].sgl, false);

	/*
	 * No mapping space (until the injection is disarmed): the Build
	 * waits; a Get after it waits behind it, though it needs nothing
	 * else; both run in order once mappings succeed again.
	 */
	wdmdma_inject_map_error(a, -ENOMEM, -1);
	KUNIT_EXPECT_EQ(test, fast_build(fx, a, fx->build_buf, &rec[1]), 0);
	KUNIT_EXPECT_EQ(test, fast_get(fx, a, &rec[2]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 0);
	wdmdma_inject_map_error(a, -ENOMEM, 0);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_TRUE(test, wdmdma_test_rec_wait(&rec[1]));
	KUNIT_EXPECT_TRUE(test, wdmdma_test_rec_wait(&rec[2]));
	KUNIT_EXPECT_LT(test, rec[1].order, rec[2].order);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_GE(test, st.map_retries, 1);
	KUNIT_EXPECT_EQ(test, st.deferred, 2);
	KUNIT_EXPECT_EQ(test, st.outstanding, 2);
	if (rec[1].sgl)
		wdmdma_put_sg_list(a, rec[1].sgl, true);
	if (rec[2].sgl)
		wdmdma_put_sg_list(a, rec[2].sgl, false);

	/* The waiters gone, the next Build is fast again. */
	KUNIT_EXPECT_EQ(test, fast_build(fx, a, buf2, &rec[3]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, 2);
	if (rec[3].sgl)
		wdmdma_put_sg_list(a, rec[3].sgl, true);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	wdmdma_destroy_adapter(a);
}

/*
 * The _ex calls take the fast path too, and a transfer context keeps its
 * meaning there: Cancel finds nothing to cancel once the callback has run,
 * a synchronous call returns its list, and a request whose mapping finds
 * no space waits in its context, where Cancel finds it.
 */
static void fast_test_ex(struct kunit *test)
{
	struct fast_fixture *fx = test->priv;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_sg_list *sgl = NULL;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int i;
	void *buf2;

	rec = wdmdma_test_recs(test, 5, NULL);
	ctx = kunit_kcalloc(test, 3, sizeof(*ctx), GFP_KERNEL);
	buf2 = kunit_kzalloc(test, fx->build_len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_NOT_NULL(test, buf2);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, FAST_MAX, 1, 0);
	wdmdma_init_xfer_ctx(a, &ctx[0]);
	wdmdma_init_xfer_ctx(a, &ctx[1]);
	wdmdma_init_xfer_ctx(a, &ctx[2]);

	KUNIT_EXPECT_EQ(test, wdmdma_build_sg_list_ex(a, &ctx[0], fx->mdl,
						      FAST_OFF, FAST_LEN, 0,
						      wdmdma_test_rec_cb,
						      &rec[0], true,
						      fx->build_buf,
						      fx->build_len, NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list_ex(a, &ctx[1], fx->mdl,
						    FAST_OFF, FAST_LEN, 0,
						    wdmdma_test_rec_cb,
						    &rec[1], false, NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 1);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[0]));
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[1]));
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, 2);
	KUNIT_EXPECT_EQ(test, st.cancelled, 0);

	/* Synchronous, no callback: the list comes back through sglp. */
	KUNIT_EXPECT_EQ(test, wdmdma_build_sg_list_ex(a, &ctx[2], fx->mdl,
						      FAST_OFF, FAST_LEN,
						      WDMDMA_SYNCHRONOUS,
						      NULL, NULL, true, buf2,
						      fx->build_len, &sgl), 0);
	KUNIT_ASSERT_NOT_NULL(test, sgl);
	KUNIT_EXPECT_EQ(test, sgl->nr_elements, 1);
	KUNIT_EXPECT_EQ(test, sgl->elements[0].addr,
			(u64)virt_to_phys(fx->buf + FAST_OFF));
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, 3);
	KUNIT_EXPECT_EQ(test, st.outstanding, 3);
	wdmdma_put_sg_list(a, sgl, true);
	if (rec[0].sgl)
		wdmdma_put_sg_list(a, rec[0].sgl, true);
	if (rec[1].sgl)
		wdmdma_put_sg_list(a, rec[1].sgl, false);

	/* A context whose callback has run is free again. */
	KUNIT_EXPECT_EQ(test, wdmdma_build_sg_list_ex(a, &ctx[0], fx->mdl,
						      FAST_OFF, FAST_LEN, 0,
						      wdmdma_test_rec_cb,
						      &rec[2], true,
						      fx->build_buf,
						      fx->build_len, NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 1);
	if (rec[2].sgl)
		wdmdma_put_sg_list(a, rec[2].sgl, true);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, 4);

	/*
	 * No mapping space: a synchronous call fails at once and leaves its
	 * context idle; an asynchronous one waits in its context, and Cancel
	 * takes it back: its callback never runs.
	 */
	wdmdma_inject_map_error(a, -ENOMEM, -1);
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list_ex(a, &ctx[2], fx->mdl,
						    FAST_OFF, FAST_LEN,
						    WDMDMA_SYNCHRONOUS,
						    NULL, NULL, false, &sgl),
			-ENOMEM);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[2]));
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list_ex(a, &ctx[1], fx->mdl,
						    FAST_OFF, FAST_LEN, 0,
						    wdmdma_test_rec_cb,
						    &rec[3], false, NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 0);
	/*
	 * It waits in its context, retried now and then (every retry fails
	 * for space and puts it back): Cancel takes it once it is not being
	 * retried, which a few tries find.
	 */
	for (i = 0; i < 1000 && !wdmdma_cancel(a, &ctx[1]); i++)
		usleep_range(100, 200);
	KUNIT_EXPECT_LT_MSG(test, i, 1000, "Cancel never found it waiting");
	wdmdma_inject_map_error(a, -ENOMEM, 0);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.cancelled, 1);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);

	/* A permanent mapping error: -EIO, no callback, context free. */
	wdmdma_inject_map_error(a, -EINVAL, 1);
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list_ex(a, &ctx[1], fx->mdl,
						    FAST_OFF, FAST_LEN, 0,
						    wdmdma_test_rec_cb,
						    &rec[4], false, NULL),
			-EIO);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[4]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list_ex(a, &ctx[1], fx->mdl,
						    FAST_OFF, FAST_LEN, 0,
						    wdmdma_test_rec_cb,
						    &rec[4], false, NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[4]), 1);
	if (rec[4].sgl)
		wdmdma_put_sg_list(a, rec[4].sgl, false);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, 5);
	KUNIT_EXPECT_EQ(test, st.failed, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 0);
	wdmdma_destroy_adapter(a);
}

/*
 * A synchronous _ex call without a callback on the locked path (an adapter
 * created with the verifier on) leaves its context free for the next
 * call, as on the fast path: no re-initialisation needed.
 */
static void fast_test_ex_sync_locked(struct kunit *test)
{
	struct fast_fixture *fx = test->priv;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_sg_list *sgl;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int i;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	wdmdma_set_verifier(true);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, FAST_MAX, 1, 0);
	wdmdma_set_verifier(false);
	wdmdma_init_xfer_ctx(a, ctx);
	for (i = 0; i < 3; i++) {
		sgl = NULL;
		KUNIT_EXPECT_EQ_MSG(test,
				    wdmdma_get_sg_list_ex(a, ctx, fx->mdl,
							  FAST_OFF, FAST_LEN,
							  WDMDMA_SYNCHRONOUS,
							  NULL, NULL, false,
							  &sgl), 0,
				    "call %u", i);
		KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, ctx));
		if (sgl)
			wdmdma_put_sg_list(a, sgl, false);
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 0);
	wdmdma_destroy_adapter(a);
}

/* --- Destroy racing the fast path ----------------------------------------- */

struct fast_racer {
	struct fast_fixture *fx;
	struct wdmdma_adapter *a;
	struct task_struct *task;
	struct completion warm;		/* FAST_RACE_WARMUP maps done */
	struct completion done;		/* saw -ENODEV, put its pin */
	struct completion slow;		/* in its slow callback */
	struct wdmdma_sg_list *pin;	/* keeps the adapter alive */
	void *buf;
	atomic_t calls;			/* callbacks */
	atomic_t in_cb;			/* callbacks running now */
	atomic_t puts;
	unsigned int maps;		/* submits that returned 0 */
	unsigned int bad;		/* callbacks with a wrong list */
	int last;			/* the last submit's return */
	bool get;
	unsigned int off;		/* where its transfer starts in fx->buf */
	struct wdmdma_xfer_ctx ctx;	/* every other submit is an _ex call */
};

static void fast_race_cb(struct device *dev, void *irp,
			 struct wdmdma_sg_list *sgl, void *context)
{
	struct fast_racer *r = context;

	atomic_inc(&r->in_cb);
	/* The Build thread's warm-up callback is slow: destroy meets it. */
	if (atomic_inc_return(&r->calls) == FAST_RACE_WARMUP && !r->get) {
		complete(&r->slow);
		mdelay(FAST_SLOW_MS);
	}
	if (!sgl || wdmdma_test_sgl_bytes(sgl) != FAST_LEN) {
		r->bad++;
	} else {
		wdmdma_put_sg_list(r->a, sgl, !r->get);
		atomic_inc(&r->puts);
	}
	atomic_dec(&r->in_cb);
}

static void fast_pin_cb(struct device *dev, void *irp,
			struct wdmdma_sg_list *sgl, void *context)
{
	struct fast_racer *r = context;

	r->pin = sgl;
}

/* A finished thread waits for kthread_stop(). */
static void fast_park(void)
{
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
}

static int fast_race_fn(void *data)
{
	struct fast_racer *r = data;
	struct fast_fixture *fx = r->fx;
	int ret;

	wdmdma_init_xfer_ctx(r->a, &r->ctx);
	for (;;) {
		if ((r->maps & 1) && r->get)
			ret = wdmdma_get_sg_list_ex(r->a, &r->ctx, fx->mdl,
						    r->off, FAST_LEN, 0,
						    fast_race_cb, r, false,
						    NULL);
		else if (r->maps & 1)
			ret = wdmdma_build_sg_list_ex(r->a, &r->ctx, fx->mdl,
						      r->off, FAST_LEN, 0,
						      fast_race_cb, r, true,
						      r->buf, fx->build_len,
						      NULL);
		else if (r->get)
			ret = wdmdma_get_sg_list(r->a, fx->mdl,
						 fx->buf + r->off, FAST_LEN,
						 fast_race_cb, r, false);
		else
			ret = wdmdma_build_sg_list(r->a, fx->mdl,
						   fx->buf + r->off,
						   FAST_LEN, fast_race_cb, r,
						   true, r->buf,
						   fx->build_len);
		r->last = ret;
		if (ret)
			break;
		if (++r->maps == FAST_RACE_WARMUP)
			complete(&r->warm);
		cond_resched();
	}
	complete(&r->warm);
	/* The pin's Put may free the adapter. */
	wdmdma_put_sg_list(r->a, r->pin, true);
	complete(&r->done);
	fast_park();
	return 0;
}

/*
 * Two threads, one Building and one Getting, each holding a pinned list;
 * destroy once both have mapped a while. Every submit that returned 0 had
 * one callback and one Put; the loops end with -ENODEV; no callback runs
 * after destroy returned; KASAN and lockdep watch the rest.
 */
static void fast_destroy_race(struct kunit *test, bool locked)
{
	struct fast_fixture *fx = test->priv;
	struct fast_racer *r;
	unsigned int round, i;

	r = kunit_kcalloc(test, 2, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	for (i = 0; i < 2; i++) {
		r[i].buf = kunit_kzalloc(test, fx->build_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, r[i].buf);
	}

	for (round = 0; round < FAST_RACE_ROUNDS; round++) {
		struct wdmdma_adapter *a;
		unsigned int calls_at_destroy[2];
		bool started = true;

		wdmdma_set_verifier(locked);
		a = wdmdma_test_adapter(test, fx->dev, true, 64, FAST_MAX, 1, 0);
		wdmdma_set_verifier(false);
		/* Every Get allocates: none waits (global knobs ignored). */
		wdmdma_set_fail_alloc(a, 0);
		for (i = 0; i < 2; i++) {
			struct fast_racer *x = &r[i];
			int ret;

			x->fx = fx;
			x->a = a;
			x->get = i;
			/*
			 * Apart: DMA-API debug cannot tell two mappings of
			 * one address made at once apart.
			 */
			x->off = FAST_OFF + i * (FAST_LEN + PAGE_SIZE);
			x->maps = 0;
			x->bad = 0;
			x->pin = NULL;
			atomic_set(&x->calls, 0);
			atomic_set(&x->in_cb, 0);
			atomic_set(&x->puts, 0);
			init_completion(&x->warm);
			init_completion(&x->done);
			init_completion(&x->slow);
			/* A write: it may overlap the racers' mappings. */
			ret = wdmdma_get_sg_list(a, fx->mdl, fx->buf,
						 PAGE_SIZE, fast_pin_cb, x,
						 true);
			KUNIT_EXPECT_EQ(test, ret, 0);
			KUNIT_EXPECT_NOT_NULL(test, x->pin);
			x->task = NULL;
			if (ret || !x->pin) {
				started = false;
				continue;
			}
			x->task = kthread_run(fast_race_fn, x, "wdmdma-fast/%u", i);
			if (IS_ERR(x->task)) {
				x->task = NULL;
				started = false;
				wdmdma_put_sg_list(a, x->pin, true);
				continue;
			}
			get_task_struct(x->task);
		}
		/*
		 * Destroy once the Get thread has mapped a while, and while
		 * the Build thread is in its slow callback.
		 */
		if (r[1].task &&
		    !wait_for_completion_timeout(&r[1].warm, FAST_WAIT))
			KUNIT_FAIL(test, "round %u: the Get thread never mapped",
				   round);
		if (r[0].task &&
		    !wait_for_completion_timeout(&r[0].slow, FAST_WAIT))
			KUNIT_FAIL(test, "round %u: no slow callback", round);
		/* Both threads hold their pin: destroy WARNs about them. */
		pr_info(WDMDMA_TEST_WARN_BEGIN);
		wdmdma_destroy_adapter(a);
		pr_info(WDMDMA_TEST_WARN_END);
		for (i = 0; i < 2; i++) {
			calls_at_destroy[i] = atomic_read(&r[i].calls);
			/* Destroy waited for every callback under way. */
			KUNIT_EXPECT_EQ_MSG(test, atomic_read(&r[i].in_cb), 0,
					    "round %u thread %u: a callback still ran when destroy returned",
					    round, i);
		}
		for (i = 0; i < 2; i++) {
			struct fast_racer *x = &r[i];

			if (!x->task)
				continue;
			if (!wait_for_completion_timeout(&x->done, FAST_WAIT))
				KUNIT_FAIL(test, "round %u: thread %u never saw -ENODEV",
					   round, i);
			kthread_stop(x->task);
			put_task_struct(x->task);
			KUNIT_EXPECT_EQ_MSG(test, x->last, -ENODEV, "round %u", round);
			KUNIT_EXPECT_EQ_MSG(test, atomic_read(&x->calls), x->maps,
					    "round %u thread %u: callbacks vs maps",
					    round, i);
			KUNIT_EXPECT_EQ_MSG(test, atomic_read(&x->puts), x->maps,
					    "round %u thread %u: puts vs maps",
					    round, i);
			KUNIT_EXPECT_EQ_MSG(test, x->bad, 0, "round %u", round);
			KUNIT_EXPECT_EQ_MSG(test, atomic_read(&x->calls),
					    calls_at_destroy[i],
					    "round %u thread %u: a callback ran after destroy returned",
					    round, i);
		}
		if (!started)
			break;
	}
	KUNIT_EXPECT_EQ(test, round, FAST_RACE_ROUNDS);
}

static void fast_test_destroy_race(struct kunit *test)
{
	fast_destroy_race(test, false);
}

/*
 * The same on an adapter created with the verifier on, where every list
 * takes the locked path: destroy waits for a callback its submit runs.
 */
static void fast_test_destroy_race_locked(struct kunit *test)
{
	fast_destroy_race(test, true);
}

/* --- The fast path beside map-register waiters ----------------------------- */

#define FAST_BOUNCE_N	6	/* bounced requests, 2 fit the registers */
#define FAST_STREAM_MIN	16	/* fast-path maps made while others wait */

struct fast_streamer {
	struct fast_fixture *fx;
	struct wdmdma_adapter *a;
	struct completion done;
	struct completion going;
	atomic_t *stop;
	unsigned int maps;
	unsigned int bad;
	int err;
	void *buf;
};

static void fast_stream_cb(struct device *dev, void *irp,
			   struct wdmdma_sg_list *sgl, void *context)
{
	struct fast_streamer *s = context;

	if (!sgl || sgl->nr_elements != 1 ||
	    sgl->elements[0].addr != virt_to_phys(s->fx->buf + FAST_OFF)) {
		s->bad++;
		return;
	}
	s->maps++;
	wdmdma_put_sg_list(s->a, sgl, true);
}

static int fast_stream_fn(void *data)
{
	struct fast_streamer *s = data;
	struct fast_fixture *fx = s->fx;
	unsigned int calls;

	while (!atomic_read(s->stop)) {
		calls = s->maps + s->bad;
		s->err = wdmdma_build_sg_list(s->a, fx->mdl, fx->buf + FAST_OFF,
					      FAST_LEN, fast_stream_cb, s, true,
					      s->buf, fx->build_len);
		/* Synchronous: nothing it needs is waited for. */
		if (s->err || s->maps + s->bad != calls + 1) {
			s->bad++;
			break;
		}
		if (s->maps == FAST_STREAM_MIN)
			complete(&s->going);
		cond_resched();
	}
	complete(&s->going);
	complete(&s->done);
	fast_park();
	return 0;
}

/*
 * A one-element adapter with registers for two bounced transfers of a
 * discontiguous buffer; six such Gets: two map, four wait for registers.
 * Meanwhile a thread Builds and puts a contiguous transfer in a loop: it
 * never waits (it needs no registers) and takes the fast path. Putting the
 * bounced lists one by one lets the waiters run in order, each with its
 * own data.
 */
static void fast_test_beside_waiters(struct kunit *test)
{
	struct fast_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct fast_streamer *s;
	struct wdmdma_test_vbuf vb;
	struct wdmdma_adapter *a;
	struct task_struct *task;
	struct wdmdma_mdl *vmdl;
	struct wdmdma_stats st;
	atomic_t seq = ATOMIC_INIT(0), stop = ATOMIC_INIT(0);
	u8 *data, *seen;
	unsigned int i, len = 2 * PAGE_SIZE;

	rec = wdmdma_test_recs(test, FAST_BOUNCE_N, &seq);
	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	seen = kunit_kzalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	s->buf = kunit_kzalloc(test, fx->build_len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s->buf);
	KUNIT_ASSERT_NOT_NULL(test, wdmdma_test_vbuf_alloc(&vb, 2));
	data = vb.va;
	wdmdma_test_fill(data, len, 0x5a);
	vmdl = wdmdma_mdl_alloc(vb.va, len, GFP_KERNEL);
	if (!vmdl || wdmdma_mdl_build_for_kernel_buffer(vmdl)) {
		KUNIT_FAIL(test, "no MDL");
		wdmdma_mdl_free(vmdl);
		wdmdma_test_vbuf_free(&vb);
		return;
	}
	/* Registers for one maximum transfer: two of these. */
	a = wdmdma_test_adapter(test, fx->dev, false, 64, 2 * len, 1, 0);

	s->fx = fx;
	s->a = a;
	s->stop = &stop;
	init_completion(&s->done);
	init_completion(&s->going);
	task = kthread_run(fast_stream_fn, s, "wdmdma-fast/s");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	get_task_struct(task);

	for (i = 0; i < FAST_BOUNCE_N; i++)
		KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list(a, vmdl, vb.va, len,
							 wdmdma_test_rec_cb,
							 &rec[i], true), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, FAST_BOUNCE_N - 2);
	/*
	 * The streamer maps beside the waiters before any register frees:
	 * wait for its progress rather than hope the scheduler ran it.
	 */
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&s->going,
							    FAST_WAIT));
	KUNIT_EXPECT_GE(test, READ_ONCE(s->maps), FAST_STREAM_MIN);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, FAST_BOUNCE_N - 2);
	for (i = 0; i < FAST_BOUNCE_N; i++) {
		if (!wdmdma_test_rec_wait(&rec[i]) || !rec[i].sgl) {
			KUNIT_FAIL(test, "bounced Get %u never got its list", i);
			break;
		}
		KUNIT_EXPECT_EQ(test, rec[i].order, i);
		KUNIT_EXPECT_EQ(test, rec[i].sgl->nr_elements, 1);
		memset(seen, 0, len);
		KUNIT_EXPECT_EQ(test, wdmdma_test_dev_read(rec[i].sgl, seen, len),
				len);
		KUNIT_EXPECT_EQ(test, memcmp(seen, data, len), 0);
		wdmdma_put_sg_list(a, rec[i].sgl, true);
	}

	atomic_set(&stop, 1);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&s->done, FAST_WAIT));
	kthread_stop(task);
	put_task_struct(task);
	KUNIT_EXPECT_EQ(test, s->err, 0);
	KUNIT_EXPECT_EQ(test, s->bad, 0);
	KUNIT_EXPECT_GT(test, s->maps, 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.fast, s->maps);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0);
	wdmdma_destroy_adapter(a);
	wdmdma_mdl_free(vmdl);
	wdmdma_test_vbuf_free(&vb);
}

static int fast_suite_init(struct kunit_suite *suite)
{
	fast_pdev = wdmdma_test_pdev_create("wdmdma-test-fast");
	return PTR_ERR_OR_ZERO(fast_pdev);
}

static void fast_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(fast_pdev);
	fast_pdev = NULL;
}

/* A Get of [@off, @off + @len) of the buffer; its list, or NULL. */
static struct wdmdma_sg_list *fast_get_range(struct fast_fixture *fx,
					     struct wdmdma_adapter *a,
					     struct wdmdma_test_rec *rec,
					     u32 off, u32 len)
{
	if (wdmdma_get_sg_list(a, fx->mdl, fx->buf + off, len,
			       wdmdma_test_rec_cb, rec, true) ||
	    wdmdma_test_rec_calls(rec) != 1)
		return NULL;
	return rec->sgl;
}

/*
 * Get's spare list: a small list put on a CPU is the next small Get's
 * list there (the same memory: the test kernels' KASAN quarantine keeps
 * a freed one from coming back at once); a large Get's list is not kept
 * and does not take the spare; allocation-failure injection still fails
 * a Get with a spare at hand (the reserve serves it). The adapter frees
 * the spare with itself (kmemleak, KASAN). All on one CPU.
 */
static void fast_test_spare(struct kunit *test)
{
	struct fast_fixture *fx = test->priv;
	static const u32 lens[] = { FAST_LEN, FAST_LEN, 5 * PAGE_SIZE,
				    FAST_LEN, FAST_LEN };
	unsigned long mem[ARRAY_SIZE(lens)] = { 0 }, large = 0, small = 0;
	struct wdmdma_sg_list *held, *l;
	struct wdmdma_test_rec *rec;
	struct wdmdma_stats st0, st;
	struct wdmdma_adapter *a;
	u64 reserve = 0;
	unsigned int i;

	rec = wdmdma_test_recs(test, ARRAY_SIZE(lens) + 3, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, FAST_MAX, 1, 0);
	st0 = wdmdma_test_stats(a);

	/*
	 * Small (3 pages), small again, large (6 pages), small with every
	 * allocation failing, small: each put before the next Get, and its
	 * list memory (the list's reserved field) noted before its Put.
	 */
	preempt_disable();
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		wdmdma_set_fail_alloc(a, i == 3 ? 100 : -1);
		l = fast_get_range(fx, a, &rec[i], FAST_OFF, lens[i]);
		if (!l)
			continue;
		mem[i] = l->reserved;
		if (i == 3) {
			wdmdma_get_stats(a, &st);
			reserve = st.reserve - st0.reserve;
		}
		wdmdma_put_sg_list(a, l, true);
	}
	wdmdma_set_fail_alloc(a, -1);
	preempt_enable();

	for (i = 0; i < ARRAY_SIZE(lens); i++)
		KUNIT_EXPECT_NE_MSG(test, mem[i], 0UL, "Get %u mapped nothing", i);
	KUNIT_EXPECT_EQ_MSG(test, mem[1], mem[0],
			    "the second small Get did not take the spare");
	KUNIT_EXPECT_NE_MSG(test, mem[2], mem[0],
			    "a large Get took the small spare");
	KUNIT_EXPECT_NE_MSG(test, mem[3], mem[0],
			    "failure injection did not fail the Get");
	KUNIT_EXPECT_EQ(test, reserve, 1);
	KUNIT_EXPECT_EQ_MSG(test, mem[4], mem[0],
			    "no spare after a large Get and the reserve");

	/*
	 * With the slot empty (a small list out), a large list's Put does
	 * not leave it as the spare: the next small Get has other memory.
	 */
	preempt_disable();
	held = fast_get_range(fx, a, &rec[5], FAST_OFF, FAST_LEN);
	l = fast_get_range(fx, a, &rec[6], FAST_OFF, 5 * PAGE_SIZE);
	if (l) {
		large = l->reserved;
		wdmdma_put_sg_list(a, l, true);
	}
	l = fast_get_range(fx, a, &rec[7], FAST_OFF, FAST_LEN);
	if (l) {
		small = l->reserved;
		wdmdma_put_sg_list(a, l, true);
	}
	if (held)
		wdmdma_put_sg_list(a, held, true);
	preempt_enable();
	KUNIT_EXPECT_NOT_NULL(test, held);
	KUNIT_EXPECT_NE(test, large, 0UL);
	KUNIT_EXPECT_NE(test, small, 0UL);
	KUNIT_EXPECT_NE_MSG(test, small, large,
			    "a large list was kept as the small spare");
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	/* Spare lists count as allocated: seven Gets, one from the reserve. */
	KUNIT_EXPECT_EQ(test, st.allocated - st0.allocated, 7);
	/* It frees its spare (kmemleak). */
	wdmdma_destroy_adapter(a);
}

static struct kunit_case fast_test_cases[] = {
	KUNIT_CASE(fast_test_taken),
	KUNIT_CASE(fast_test_spare),
	KUNIT_CASE(fast_test_bad_put),
	KUNIT_CASE(fast_test_map_failures),
	KUNIT_CASE(fast_test_ex),
	KUNIT_CASE(fast_test_ex_sync_locked),
	KUNIT_CASE(fast_test_destroy_race),
	KUNIT_CASE(fast_test_destroy_race_locked),
	KUNIT_CASE(fast_test_beside_waiters),
	{ }
};

static struct kunit_suite fast_test_suite = {
	.name = "wdmdma_fast",
	.suite_init = fast_suite_init,
	.suite_exit = fast_suite_exit,
	.init = fast_init,
	.exit = fast_exit,
	.test_cases = fast_test_cases,
};

kunit_test_suite(fast_test_suite);

MODULE_DESCRIPTION("KUnit tests for wdmdma's lock-free path");
MODULE_LICENSE("GPL");
