// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_ex": the _ex calls (Windows' GetScatterGatherListEx
 * and BuildScatterGatherListEx) and wdmdma_cancel() (CancelAdapterChannel).
 * WDMDMA_SYNCHRONOUS runs the callback before returning or fails with
 * -ENOMEM and queues nothing; with it the callback may be NULL and the
 * list comes back through sglp. A 64-bit offset addresses the MDL chain.
 * A waiting _ex request lives in its transfer context (no waiter slot) and
 * can be cancelled while it waits, not after it ran. A request waits only
 * for what it lacks: a synchronous Build that needs neither memory nor
 * map registers runs even while Gets wait for memory.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define EX_MAX		SZ_64K
#define EX_PAGES	4
#define EX_LEN		(EX_PAGES * PAGE_SIZE)
#define EX_OFF		100
#define EX_XFER		(2 * PAGE_SIZE)

static struct platform_device *ex_pdev;

struct ex_fixture {
	struct device *dev;
	struct wdmdma_test_vbuf vb;
	void *va;			/* vb.va: EX_PAGES discontiguous pages */
	struct wdmdma_mdl *mdl;
	struct page *pages[2];
	struct wdmdma_mdl *chain[2];	/* one page each, chained */
};

static int ex_init(struct kunit *test)
{
	struct ex_fixture *fx;
	struct bio_vec bv;
	int i;

	if (IS_ERR_OR_NULL(ex_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	test->priv = fx;
	fx->dev = &ex_pdev->dev;
	fx->va = wdmdma_test_vbuf_alloc(&fx->vb, EX_LEN / PAGE_SIZE);
	if (!fx->va)
		return -ENOMEM;
	wdmdma_test_fill(fx->va, EX_LEN, 0x3c);
	fx->mdl = wdmdma_mdl_alloc(fx->va, EX_LEN, GFP_KERNEL);
	if (!fx->mdl || wdmdma_mdl_build_for_kernel_buffer(fx->mdl))
		return -ENOMEM;
	for (i = 0; i < 2; i++) {
		fx->pages[i] = alloc_page(GFP_KERNEL);
		if (!fx->pages[i])
			return -ENOMEM;
		bvec_set_page(&bv, fx->pages[i], PAGE_SIZE, 0);
		fx->chain[i] = wdmdma_mdl_from_bvecs(&bv, 1, GFP_KERNEL);
		if (!fx->chain[i])
			return -ENOMEM;
	}
	fx->chain[0]->next = fx->chain[1];
	return 0;
}

static void ex_exit(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	int i;

	if (!fx)
		return;
	for (i = 0; i < 2; i++) {
		wdmdma_mdl_free(fx->chain[i]);
		if (fx->pages[i])
			__free_page(fx->pages[i]);
	}
	wdmdma_mdl_free(fx->mdl);
	wdmdma_test_vbuf_free(&fx->vb);
}

/* @n transfer contexts, freed with the test. */
static struct wdmdma_xfer_ctx *ex_ctxs(struct kunit *test, unsigned int n)
{
	struct wdmdma_xfer_ctx *ctx;

	ctx = kunit_kcalloc(test, n, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	return ctx;
}

static int ex_get(struct ex_fixture *fx, struct wdmdma_adapter *a,
		  struct wdmdma_xfer_ctx *ctx, unsigned int flags,
		  struct wdmdma_test_rec *rec, struct wdmdma_sg_list **sglp)
{
	return wdmdma_get_sg_list_ex(a, ctx, fx->mdl, EX_OFF, EX_XFER, flags,
				     rec ? wdmdma_test_rec_cb : NULL, rec,
				     true, sglp);
}

/* Plain Get used to hold the reserve or the map registers. */
static int ex_plain_get(struct ex_fixture *fx, struct wdmdma_adapter *a,
			struct wdmdma_test_rec *rec)
{
	return wdmdma_get_sg_list(a, fx->mdl, fx->va + EX_OFF, EX_XFER,
				  wdmdma_test_rec_cb, rec, true);
}

/* Put @rec's list if its callback ran; wait for it first if @wait. */
static void ex_put(struct kunit *test, struct wdmdma_adapter *a,
		   struct wdmdma_test_rec *rec, bool wait)
{
	if (wait)
		KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(rec),
				      "waiting request never called back");
	if (wdmdma_test_rec_calls(rec) == 1)
		wdmdma_put_sg_list(a, rec->sgl, true);
}

/* Destroy, marking the warnings a failed test leaves behind. */
static void ex_destroy(struct wdmdma_adapter *a)
{
	struct wdmdma_stats st = wdmdma_test_stats(a);
	bool noisy = st.queue_depth || st.outstanding;

	if (noisy)
		pr_info(WDMDMA_TEST_WARN_BEGIN);
	wdmdma_destroy_adapter(a);
	if (noisy)
		pr_info(WDMDMA_TEST_WARN_END);
}

/* Resources free: a synchronous request runs before the call returns. */
static void ex_test_sync_runs_now(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	int ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	ctx = ex_ctxs(test, 1);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, EX_MAX, 1, 0);
	wdmdma_init_xfer_ctx(a, ctx);
	ret = ex_get(fx, a, ctx, WDMDMA_SYNCHRONOUS, rec, NULL);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
	KUNIT_EXPECT_PTR_EQ(test, rec->task, current);
	if (!ret && wdmdma_test_rec_calls(rec) == 1) {
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(rec->sgl), EX_XFER);
		KUNIT_EXPECT_PTR_EQ(test, rec->dev, fx->dev);
		/* It ran: too late to cancel. */
		KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, ctx));
		wdmdma_put_sg_list(a, rec->sgl, true);
	}
	ex_destroy(a);
}

/*
 * No callback: with WDMDMA_SYNCHRONOUS the list comes back through sglp,
 * for Get and for Build (inside the caller's buffer).
 */
static void ex_test_sync_no_callback(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	struct wdmdma_sg_list *sgl = NULL;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int nregs;
	size_t size = 0;
	void *buf;
	u8 *seen;
	int ret;

	ctx = ex_ctxs(test, 1);
	seen = kunit_kmalloc(test, EX_XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, EX_MAX, 1, 0);
	wdmdma_init_xfer_ctx(a, ctx);
	ret = ex_get(fx, a, ctx, WDMDMA_SYNCHRONOUS, NULL, &sgl);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, sgl);
	if (!ret && sgl) {
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl), EX_XFER);
		wdmdma_test_dev_read(sgl, seen, EX_XFER);
		KUNIT_EXPECT_EQ(test, memcmp(seen, fx->va + EX_OFF, EX_XFER),
				0);
		wdmdma_put_sg_list(a, sgl, true);
	}

	ret = wdmdma_calculate_sg_list(a, fx->mdl, fx->va + EX_OFF, EX_XFER,
				       &size, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	buf = kunit_kzalloc(test, size ? size : 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	sgl = NULL;
	wdmdma_init_xfer_ctx(a, ctx);
	ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, EX_OFF, EX_XFER,
				      WDMDMA_SYNCHRONOUS, NULL, NULL, true,
				      buf, size, &sgl);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, sgl);
	if (!ret && sgl) {
		KUNIT_EXPECT_TRUE(test, (void *)sgl >= buf &&
				  (void *)sgl < buf + size);
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl), EX_XFER);
		wdmdma_test_dev_read(sgl, seen, EX_XFER);
		KUNIT_EXPECT_EQ(test, memcmp(seen, fx->va + EX_OFF, EX_XFER),
				0);
		wdmdma_put_sg_list(a, sgl, true);
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.allocated, 1);
	KUNIT_EXPECT_EQ(test, st.built, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	ex_destroy(a);
}

/*
 * No memory (allocation failing, reserve held): a synchronous Get fails
 * with -ENOMEM and queues nothing. With a plain Get waiting for memory, a
 * synchronous Build (which needs no memory, and on this adapter no map
 * registers) lacks nothing: it runs before returning, ahead of the Get.
 */
static void ex_test_sync_no_memory(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	struct wdmdma_test_rec *hold, *wait, *rec;
	struct wdmdma_sg_list *sgl = NULL;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int nregs;
	size_t size = 0;
	void *buf = NULL;
	int ret;

	hold = wdmdma_test_recs(test, 1, NULL);
	wait = wdmdma_test_recs(test, 1, NULL);
	rec = wdmdma_test_recs(test, 1, NULL);
	ctx = ex_ctxs(test, 1);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, EX_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);
	KUNIT_EXPECT_EQ(test, ex_plain_get(fx, a, hold), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(hold), 1);

	wdmdma_init_xfer_ctx(a, ctx);
	ret = ex_get(fx, a, ctx, WDMDMA_SYNCHRONOUS, rec, NULL);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	ret = ex_get(fx, a, ctx, WDMDMA_SYNCHRONOUS, NULL, &sgl);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	KUNIT_EXPECT_NULL(test, sgl);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, ctx));

	/* A plain Get waits; a synchronous Build needs nothing it waits for. */
	KUNIT_EXPECT_EQ(test, ex_plain_get(fx, a, wait), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(wait), 0);
	ret = wdmdma_calculate_sg_list(a, fx->mdl, fx->va + EX_OFF, EX_XFER,
				       &size, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret)
		buf = kunit_kzalloc(test, size, GFP_KERNEL);
	if (buf) {
		wdmdma_init_xfer_ctx(a, ctx);
		ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, EX_OFF, EX_XFER,
					      WDMDMA_SYNCHRONOUS,
					      wdmdma_test_rec_cb, rec, true,
					      buf, size, NULL);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0,
				    "a Build waited behind a Get waiting for memory");
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), ret ? 0 : 1);
		if (!ret && wdmdma_test_rec_calls(rec) == 1) {
			KUNIT_EXPECT_PTR_EQ(test, rec->task, current);
			KUNIT_EXPECT_TRUE(test, (void *)rec->sgl >= buf &&
					  (void *)rec->sgl < buf + size);
			KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(rec->sgl),
					EX_XFER);
			ex_put(test, a, rec, false);
		}
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 1);
	KUNIT_EXPECT_EQ(test, st.built, buf && !ret ? 1 : 0);
	/* The Build's Put freed no memory: the Get still waits. */
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(wait), 0);

	ex_put(test, a, hold, false);
	ex_put(test, a, wait, true);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), buf && !ret ? 1 : 0);
	ex_destroy(a);
}

/*
 * Map registers held (one-element adapter, bounced data): synchronous
 * Build and Get fail with -ENOMEM and queue nothing.
 */
static void ex_test_sync_no_map_registers(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	struct wdmdma_test_rec *hold, *rec;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int nregs;
	size_t size = 0;
	void *buf;
	int ret;

	hold = wdmdma_test_recs(test, 1, NULL);
	rec = wdmdma_test_recs(test, 1, NULL);
	ctx = ex_ctxs(test, 1);
	/* One chunk of map registers, just big enough for one transfer. */
	a = wdmdma_test_adapter(test, fx->dev, false, 64, EX_XFER, 1, 0);
	KUNIT_EXPECT_EQ(test, ex_plain_get(fx, a, hold), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(hold), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.bounced, 1);

	ret = wdmdma_calculate_sg_list(a, fx->mdl, fx->va + EX_OFF, EX_XFER,
				       &size, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	buf = kunit_kzalloc(test, size ? size : 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	wdmdma_init_xfer_ctx(a, ctx);
	ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, EX_OFF, EX_XFER,
				      WDMDMA_SYNCHRONOUS, wdmdma_test_rec_cb,
				      rec, true, buf, size, NULL);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	wdmdma_init_xfer_ctx(a, ctx);
	ret = ex_get(fx, a, ctx, WDMDMA_SYNCHRONOUS, rec, NULL);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1);
	ex_put(test, a, hold, false);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0);
	ex_destroy(a);
}

/* The 64-bit offset addresses the whole chain, across MDL boundaries. */
static void ex_test_offset_in_chain(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	phys_addr_t p0 = page_to_phys(fx->pages[0]);
	phys_addr_t p1 = page_to_phys(fx->pages[1]);
	struct wdmdma_sg_list *sgl;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_adapter *a;
	int ret;

	ctx = ex_ctxs(test, 1);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, EX_MAX, 1, 0);

	wdmdma_init_xfer_ctx(a, ctx);
	sgl = NULL;
	ret = wdmdma_get_sg_list_ex(a, ctx, fx->chain[0], PAGE_SIZE + 100, 200,
				    WDMDMA_SYNCHRONOUS, NULL, NULL, true, &sgl);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret && sgl) {
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl), 200);
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_addr_at(sgl, 0),
				p1 + 100);
		wdmdma_put_sg_list(a, sgl, true);
	}

	wdmdma_init_xfer_ctx(a, ctx);
	sgl = NULL;
	ret = wdmdma_get_sg_list_ex(a, ctx, fx->chain[0], PAGE_SIZE - 96, 200,
				    WDMDMA_SYNCHRONOUS, NULL, NULL, false,
				    &sgl);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret && sgl) {
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl), 200);
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_addr_at(sgl, 0),
				p0 + PAGE_SIZE - 96);
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_addr_at(sgl, 95),
				p0 + PAGE_SIZE - 1);
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_addr_at(sgl, 96), p1);
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_addr_at(sgl, 199),
				p1 + 103);
		wdmdma_put_sg_list(a, sgl, false);
	}

	wdmdma_init_xfer_ctx(a, ctx);
	sgl = NULL;
	ret = wdmdma_get_sg_list_ex(a, ctx, fx->chain[0], 2 * PAGE_SIZE - 1,
				    2, WDMDMA_SYNCHRONOUS, NULL, NULL, true,
				    &sgl);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	ret = wdmdma_get_sg_list_ex(a, ctx, fx->chain[0], 1ULL << 32, 1,
				    WDMDMA_SYNCHRONOUS, NULL, NULL, true,
				    &sgl);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	KUNIT_EXPECT_NULL(test, sgl);
	ex_destroy(a);
}

/*
 * Three _ex requests wait behind a held reserve; the middle one is
 * cancelled (true, once). The others still run in order; it never does.
 */
static void ex_test_cancel_queued(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	struct wdmdma_test_rec *hold, *rec;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	atomic_t seq;
	int i, ret;

	atomic_set(&seq, 0);
	hold = wdmdma_test_recs(test, 1, &seq);
	rec = wdmdma_test_recs(test, 3, &seq);
	ctx = ex_ctxs(test, 3);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, EX_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);
	KUNIT_EXPECT_EQ(test, ex_plain_get(fx, a, hold), 0);
	for (i = 0; i < 3; i++) {
		wdmdma_init_xfer_ctx(a, &ctx[i]);
		ret = ex_get(fx, a, &ctx[i], 0, &rec[i], NULL);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[i]), 0);
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 3);
	KUNIT_EXPECT_EQ(test, st.cancelled, 0);

	KUNIT_EXPECT_TRUE(test, wdmdma_cancel(a, &ctx[1]));
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[1]));
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 2);
	KUNIT_EXPECT_EQ(test, st.cancelled, 1);

	ex_put(test, a, hold, false);
	ex_put(test, a, &rec[0], true);
	ex_put(test, a, &rec[2], true);
	KUNIT_EXPECT_EQ(test, rec[0].order, 1);
	KUNIT_EXPECT_EQ(test, rec[2].order, 2);
	/* Ran: no longer cancellable. */
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[0]));
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[2]));
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.cancelled, 1);

	/* The cancelled context can be used again. */
	wdmdma_init_xfer_ctx(a, &ctx[1]);
	wdmdma_test_rec_init(&rec[1], NULL);
	KUNIT_EXPECT_EQ(test, ex_get(fx, a, &ctx[1], 0, &rec[1], NULL), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 1);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, &ctx[1]));
	ex_put(test, a, &rec[1], false);
	ex_destroy(a);
}

/* A context never used, or whose request failed, is not cancellable. */
static void ex_test_cancel_never_queued(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;

	rec = wdmdma_test_recs(test, 1, NULL);
	ctx = ex_ctxs(test, 1);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, EX_MAX, 1, 0);
	wdmdma_init_xfer_ctx(a, ctx);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, ctx));
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list_ex(a, ctx, fx->mdl, 0,
						    EX_MAX + 1, 0,
						    wdmdma_test_rec_cb, rec,
						    true, NULL),
			-EMSGSIZE);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, ctx));
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_stats(a).cancelled, 0);
	ex_destroy(a);
}

/*
 * With every waiter slot busy a plain Get gets -ENOMEM, but an _ex
 * request still waits (in its context) and runs in turn.
 */
static void ex_test_no_waiter_slot_needed(struct kunit *test)
{
	struct ex_fixture *fx = test->priv;
	struct wdmdma_test_rec *hold, *slot, *nomem, *rec;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	atomic_t seq;

	atomic_set(&seq, 0);
	hold = wdmdma_test_recs(test, 1, &seq);
	slot = wdmdma_test_recs(test, 1, &seq);
	nomem = wdmdma_test_recs(test, 1, &seq);
	rec = wdmdma_test_recs(test, 1, &seq);
	ctx = ex_ctxs(test, 1);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, EX_MAX, 1, 1);
	wdmdma_set_fail_alloc(a, 100);
	KUNIT_EXPECT_EQ(test, ex_plain_get(fx, a, hold), 0);
	KUNIT_EXPECT_EQ(test, ex_plain_get(fx, a, slot), 0);
	KUNIT_EXPECT_EQ(test, ex_plain_get(fx, a, nomem), -ENOMEM);
	wdmdma_init_xfer_ctx(a, ctx);
	KUNIT_EXPECT_EQ(test, ex_get(fx, a, ctx, 0, rec, NULL), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 2);

	ex_put(test, a, hold, false);
	ex_put(test, a, slot, true);
	ex_put(test, a, rec, true);
	KUNIT_EXPECT_EQ(test, slot->order, 1);
	KUNIT_EXPECT_EQ(test, rec->order, 2);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(nomem), 0);
	ex_destroy(a);
}

static int ex_suite_init(struct kunit_suite *suite)
{
	ex_pdev = wdmdma_test_pdev_create("wdmdma-test-ex");
	return PTR_ERR_OR_ZERO(ex_pdev);
}

static void ex_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(ex_pdev);
	ex_pdev = NULL;
}

static struct kunit_case ex_test_cases[] = {
	KUNIT_CASE(ex_test_sync_runs_now),
	KUNIT_CASE(ex_test_sync_no_callback),
	KUNIT_CASE(ex_test_sync_no_memory),
	KUNIT_CASE(ex_test_sync_no_map_registers),
	KUNIT_CASE(ex_test_offset_in_chain),
	KUNIT_CASE(ex_test_cancel_queued),
	KUNIT_CASE(ex_test_cancel_never_queued),
	KUNIT_CASE(ex_test_no_waiter_slot_needed),
	{ }
};

static struct kunit_suite ex_test_suite = {
	.name = "wdmdma_ex",
	.suite_init = ex_suite_init,
	.suite_exit = ex_suite_exit,
	.init = ex_init,
	.exit = ex_exit,
	.test_cases = ex_test_cases,
};

kunit_test_suite(ex_test_suite);

MODULE_DESCRIPTION("KUnit tests for the wdmdma _ex calls and cancellation");
MODULE_LICENSE("GPL");
