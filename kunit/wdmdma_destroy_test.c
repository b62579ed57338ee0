// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_destroy": wdmdma_destroy_adapter() with work left.
 * Lists still outstanding draw a WARN (inside the expect-warning markers)
 * but stay valid: Put after destroy still unmaps, copies bounced read data
 * back and frees everything (kmemleak checks after the run). Requests
 * still waiting are cancelled: their callbacks never run, not even when a
 * later Put frees what they waited for. An idle adapter is destroyed
 * without a warning.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define DESTROY_MAX	SZ_64K
#define DESTROY_LEN	(4 * PAGE_SIZE)
#define DESTROY_OFF	100
#define DESTROY_XFER	(2 * PAGE_SIZE)

static struct platform_device *destroy_pdev;

struct destroy_fixture {
	struct device *dev;
	struct wdmdma_test_vbuf vb;
	void *va;		/* vb.va: discontiguous pages */
	struct wdmdma_mdl *mdl;
	void *kva;		/* contiguous kmalloc pages */
	struct wdmdma_mdl *kmdl;
};

static int destroy_init(struct kunit *test)
{
	struct destroy_fixture *fx;

	if (IS_ERR_OR_NULL(destroy_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	test->priv = fx;
	fx->dev = &destroy_pdev->dev;
	fx->va = wdmdma_test_vbuf_alloc(&fx->vb, DESTROY_LEN / PAGE_SIZE);
	fx->kva = kmalloc(DESTROY_LEN, GFP_KERNEL);
	if (!fx->va || !fx->kva)
		return -ENOMEM;
	wdmdma_test_fill(fx->va, DESTROY_LEN, 0x4d);
	wdmdma_test_fill(fx->kva, DESTROY_LEN, 0x6b);
	fx->mdl = wdmdma_mdl_alloc(fx->va, DESTROY_LEN, GFP_KERNEL);
	if (!fx->mdl || wdmdma_mdl_build_for_kernel_buffer(fx->mdl))
		return -ENOMEM;
	fx->kmdl = wdmdma_mdl_alloc(fx->kva, DESTROY_LEN, GFP_KERNEL);
	if (!fx->kmdl || wdmdma_mdl_build_for_kernel_buffer(fx->kmdl))
		return -ENOMEM;
	return 0;
}

static void destroy_exit(struct kunit *test)
{
	struct destroy_fixture *fx = test->priv;

	if (!fx)
		return;
	wdmdma_mdl_free(fx->kmdl);
	wdmdma_mdl_free(fx->mdl);
	kfree(fx->kva);
	wdmdma_test_vbuf_free(&fx->vb);
}

static int destroy_get(struct destroy_fixture *fx, struct wdmdma_adapter *a,
		       struct wdmdma_test_rec *rec, bool write)
{
	return wdmdma_get_sg_list(a, fx->mdl, fx->va + DESTROY_OFF,
				  DESTROY_XFER, wdmdma_test_rec_cb, rec, write);
}

/* Nothing outstanding or waiting: destroy is quiet (no markers here). */
static void destroy_test_idle(struct kunit *test)
{
	struct destroy_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;

	rec = wdmdma_test_recs(test, 1, NULL);
	a = wdmdma_test_adapter(test, fx->dev, false, 64, DESTROY_MAX, 1, 0);
	KUNIT_EXPECT_EQ(test, destroy_get(fx, a, rec, true), 0);
	if (wdmdma_test_rec_calls(rec) == 1)
		wdmdma_put_sg_list(a, rec->sgl, true);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 0);
	wdmdma_destroy_adapter(a);
}

/*
 * Two lists outstanding at destroy (a bounced read from Get and a direct
 * write from Build): WARN, then both are Put after destroy. The read's
 * data, written by the "device" into the map registers before destroy,
 * still reaches the buffer at that late Put.
 */
static void destroy_test_outstanding(struct kunit *test)
{
	struct destroy_fixture *fx = test->priv;
	struct wdmdma_test_rec *rd, *wr;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int nregs;
	size_t size = 0;
	u8 *pattern;
	void *buf;
	int ret;

	pattern = kunit_kmalloc(test, DESTROY_XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	wdmdma_test_fill(pattern, DESTROY_XFER, 0xe1);
	rd = wdmdma_test_recs(test, 1, NULL);
	wr = wdmdma_test_recs(test, 1, NULL);
	a = wdmdma_test_adapter(test, fx->dev, false, 64, DESTROY_MAX, 2, 0);

	ret = wdmdma_calculate_sg_list(a, fx->kmdl, fx->kva, DESTROY_XFER,
				       &size, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	buf = kmalloc(size ? size : 1, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, buf);
	if (ret || !buf) {
		wdmdma_destroy_adapter(a);
		kfree(buf);
		return;
	}
	KUNIT_EXPECT_EQ(test, destroy_get(fx, a, rd, false), 0);
	ret = wdmdma_build_sg_list(a, fx->kmdl, fx->kva, DESTROY_XFER,
				   wdmdma_test_rec_cb, wr, true, buf, size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rd), 1);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(wr), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.outstanding,
			wdmdma_test_rec_calls(rd) +
			wdmdma_test_rec_calls(wr));
	KUNIT_EXPECT_EQ(test, st.bounced, 1);
	if (wdmdma_test_rec_calls(rd) == 1)
		wdmdma_test_dev_write(rd->sgl, pattern, DESTROY_XFER);

	pr_info(WDMDMA_TEST_WARN_BEGIN);
	wdmdma_destroy_adapter(a);
	pr_info(WDMDMA_TEST_WARN_END);

	/* Late Puts: legal, and needed to free the lists and the adapter. */
	if (wdmdma_test_rec_calls(rd) == 1) {
		wdmdma_put_sg_list(a, rd->sgl, false);
		KUNIT_EXPECT_EQ(test, memcmp(fx->va + DESTROY_OFF, pattern,
					     DESTROY_XFER), 0);
	}
	if (wdmdma_test_rec_calls(wr) == 1)
		wdmdma_put_sg_list(a, wr->sgl, true);
	kfree(buf);
}

/*
 * Requests waiting at destroy are cancelled: two plain Gets and an _ex Get
 * waiting for list memory and map registers, and a Build waiting for map
 * registers, all queued behind a bounced Get that holds the reserve and
 * the map registers of a one-element adapter. After destroy, the Put of
 * that list frees everything they waited for, the queue runner is
 * flushed (a Build of contiguous data, mapped in place, keeps the adapter
 * alive until then), and still no callback runs.
 */
static void destroy_test_queued(struct kunit *test)
{
	struct destroy_fixture *fx = test->priv;
	struct wdmdma_test_rec *hold, *keep, *rec;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int nregs;
	size_t size = 0, ksize = 0;
	void *buf, *kbuf;
	int i, ret;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	hold = wdmdma_test_recs(test, 1, NULL);
	keep = wdmdma_test_recs(test, 1, NULL);
	rec = wdmdma_test_recs(test, 4, NULL);
	/* One chunk of map registers, just big enough for one transfer. */
	a = wdmdma_test_adapter(test, fx->dev, false, 64, DESTROY_XFER, 1, 0);
	wdmdma_set_fail_alloc(a, 100);
	ret = wdmdma_calculate_sg_list(a, fx->mdl, fx->va + DESTROY_OFF,
				       DESTROY_XFER, &size, &nregs);
	ret |= wdmdma_calculate_sg_list(a, fx->kmdl, fx->kva, DESTROY_XFER,
					&ksize, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	buf = kmalloc(size ? size : 1, GFP_KERNEL);
	kbuf = kmalloc(ksize ? ksize : 1, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, buf);
	KUNIT_EXPECT_NOT_NULL(test, kbuf);
	if (ret || !buf || !kbuf) {
		wdmdma_destroy_adapter(a);
		kfree(kbuf);
		kfree(buf);
		return;
	}

	/* Mapped in place: needs neither memory nor map registers. */
	ret = wdmdma_build_sg_list(a, fx->kmdl, fx->kva, DESTROY_XFER,
				   wdmdma_test_rec_cb, keep, true, kbuf, ksize);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(keep), 1);
	KUNIT_EXPECT_EQ(test, destroy_get(fx, a, hold, true), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(hold), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.bounced, 1);

	KUNIT_EXPECT_EQ(test, destroy_get(fx, a, &rec[0], true), 0);
	KUNIT_EXPECT_EQ(test, destroy_get(fx, a, &rec[1], true), 0);
	wdmdma_init_xfer_ctx(a, ctx);
	ret = wdmdma_get_sg_list_ex(a, ctx, fx->mdl, DESTROY_OFF, DESTROY_XFER,
				    0, wdmdma_test_rec_cb, &rec[2], true, NULL);
	KUNIT_EXPECT_EQ(test, ret, 0);
	ret = wdmdma_build_sg_list(a, fx->mdl, fx->va + DESTROY_OFF,
				   DESTROY_XFER, wdmdma_test_rec_cb, &rec[3],
				   true, buf, size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 4);
	KUNIT_EXPECT_EQ(test, st.outstanding, 2);
	KUNIT_EXPECT_EQ(test, st.cancelled, 0);

	pr_info(WDMDMA_TEST_WARN_BEGIN);
	wdmdma_destroy_adapter(a);
	pr_info(WDMDMA_TEST_WARN_END);

	/* Frees the reserve and the map registers: nothing may run. */
	if (wdmdma_test_rec_calls(hold) == 1)
		wdmdma_put_sg_list(a, hold->sgl, true);
	if (wdmdma_test_rec_calls(keep) == 1) {
		wdmdma_flush_adapter(a);
		for (i = 0; i < 4; i++)
			KUNIT_EXPECT_EQ_MSG(test,
					    wdmdma_test_rec_calls(&rec[i]), 0,
					    "cancelled request %d called back",
					    i);
		/* The last reference: the adapter is freed here. */
		wdmdma_put_sg_list(a, keep->sgl, true);
	}
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[i]), 0,
				    "cancelled request %d called back", i);
	kfree(kbuf);
	kfree(buf);
}

static int destroy_suite_init(struct kunit_suite *suite)
{
	destroy_pdev = wdmdma_test_pdev_create("wdmdma-test-destroy");
	return PTR_ERR_OR_ZERO(destroy_pdev);
}

static void destroy_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(destroy_pdev);
	destroy_pdev = NULL;
}

static struct kunit_case destroy_test_cases[] = {
	KUNIT_CASE(destroy_test_idle),
	KUNIT_CASE(destroy_test_outstanding),
	KUNIT_CASE(destroy_test_queued),
	{ }
};

static struct kunit_suite destroy_test_suite = {
	.name = "wdmdma_destroy",
	.suite_init = destroy_suite_init,
	.suite_exit = destroy_suite_exit,
	.init = destroy_init,
	.exit = destroy_exit,
	.test_cases = destroy_test_cases,
};

kunit_test_suite(destroy_test_suite);

MODULE_DESCRIPTION("KUnit tests for wdmdma_destroy_adapter() with work left");
MODULE_LICENSE("GPL");
