// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_get": wdmdma_get_sg_list() (Windows'
 * GetScatterGatherList) and where its list memory comes from: a normal
 * allocation, else the emergency reserve, else the FIFO queue, whose
 * callbacks run later, in order, exactly once, from the adapter's work
 * item. Also: oversize and invalid requests never call back, the waiter
 * slots run out with -ENOMEM, requests wait only for what they lack (a
 * Build needing no map registers goes ahead of Gets waiting for memory,
 * requests waiting for map registers keep their order), Get and Put work
 * in hard interrupt context, and the verifier catches a bad Put.
 *
 * Negative checks ("this callback did not run") come after
 * wdmdma_flush_adapter(), which returns once everything that can run has.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define GET_MAX		SZ_64K
#define GET_PAGES	(GET_MAX / PAGE_SIZE + 1)	/* buffer: > GET_MAX */
#define GET_OFF		100
#define GET_LEN		(3 * PAGE_SIZE)
#define GET_QUEUED	16
#define GET_MANY	(GET_MAX / PAGE_SIZE + 2)	/* pieces of 512 */

static struct platform_device *get_pdev;

struct get_fixture {
	struct device *dev;
	void *va;			/* GET_PAGES vmalloc'd pages */
	struct wdmdma_mdl *mdl;
	struct page *many[GET_MANY];
	struct wdmdma_mdl *many_mdl;	/* GET_MANY 512-byte pieces */
};

static int get_init(struct kunit *test)
{
	struct bio_vec bv[GET_MANY];
	struct get_fixture *fx;
	unsigned int i;

	if (IS_ERR_OR_NULL(get_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	test->priv = fx;
	fx->dev = &get_pdev->dev;
	fx->va = vmalloc(GET_PAGES * PAGE_SIZE);
	if (!fx->va)
		return -ENOMEM;
	wdmdma_test_fill(fx->va, GET_PAGES * PAGE_SIZE, 0x11);
	fx->mdl = wdmdma_mdl_alloc(fx->va, GET_PAGES * PAGE_SIZE, GFP_KERNEL);
	if (!fx->mdl || wdmdma_mdl_build_for_kernel_buffer(fx->mdl))
		return -ENOMEM;
	for (i = 0; i < GET_MANY; i++) {
		fx->many[i] = alloc_page(GFP_KERNEL);
		if (!fx->many[i])
			return -ENOMEM;
		bvec_set_page(&bv[i], fx->many[i], 512, 0);
	}
	fx->many_mdl = wdmdma_mdl_from_bvecs(bv, GET_MANY, GFP_KERNEL);
	if (!fx->many_mdl)
		return -ENOMEM;
	return 0;
}

static void get_exit(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	unsigned int i;

	if (!fx)
		return;
	wdmdma_mdl_free(fx->many_mdl);
	for (i = 0; i < GET_MANY; i++)
		if (fx->many[i])
			__free_page(fx->many[i]);
	wdmdma_mdl_free(fx->mdl);
	vfree(fx->va);
}

static int get_call(struct get_fixture *fx, struct wdmdma_adapter *a,
		    u32 off, u32 len, struct wdmdma_test_rec *rec, bool write)
{
	return wdmdma_get_sg_list(a, fx->mdl, fx->va + off, len,
				  wdmdma_test_rec_cb, rec, write);
}

/*
 * Give back every list whose callback ran, let waiting requests run, and
 * destroy the adapter (marking the warnings a failed test leaves behind).
 */
static void get_finish(struct wdmdma_adapter *a, struct wdmdma_test_rec *rec,
		       bool *put, unsigned int n, bool write)
{
	struct wdmdma_stats st;
	bool again = true;
	unsigned int i, round;

	for (round = 0; again && round <= n; round++) {
		again = false;
		for (i = 0; i < n; i++) {
			if (put[i] || !wdmdma_test_rec_calls(&rec[i]))
				continue;
			wdmdma_put_sg_list(a, rec[i].sgl, write);
			put[i] = true;
			again = true;
		}
		if (again)
			wdmdma_flush_adapter(a);
	}
	st = wdmdma_test_stats(a);
	if (st.queue_depth || st.outstanding)
		pr_info(WDMDMA_TEST_WARN_BEGIN);
	wdmdma_destroy_adapter(a);
	if (st.queue_depth || st.outstanding)
		pr_info(WDMDMA_TEST_WARN_END);
}

/* Check the list maps the range page by page (dma-direct: bus == phys). */
static void get_check_list(struct kunit *test, struct get_fixture *fx,
			   struct wdmdma_sg_list *sgl, u32 off, u32 len)
{
	u32 pos;

	KUNIT_ASSERT_NOT_NULL(test, sgl);
	KUNIT_EXPECT_GE(test, sgl->nr_elements, 1);
	KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl), len);
	for (pos = 0; pos < len; pos += PAGE_SIZE - offset_in_page(off + pos)) {
		void *va = fx->va + off + pos;
		u64 want = page_to_phys(vmalloc_to_page(va)) +
			   offset_in_page(va);

		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_sgl_addr_at(sgl, pos),
				    want, "byte %u", pos);
	}
}

/* A normal Get: the callback runs before return with a correct list. */
static void get_test_normal(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_stats st0, st1, st2;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	int ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	st0 = wdmdma_test_stats(a);
	ret = get_call(fx, a, GET_OFF, GET_LEN, rec, false);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
	if (!ret && wdmdma_test_rec_calls(rec) == 1) {
		KUNIT_EXPECT_PTR_EQ(test, rec->dev, fx->dev);
		KUNIT_EXPECT_NULL(test, rec->irp);
		KUNIT_EXPECT_PTR_EQ(test, rec->task, current);
		get_check_list(test, fx, rec->sgl, GET_OFF, GET_LEN);
		st1 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st1.allocated, st0.allocated + 1);
		KUNIT_EXPECT_EQ(test, st1.reserve, st0.reserve);
		KUNIT_EXPECT_EQ(test, st1.deferred, 0);
		KUNIT_EXPECT_EQ(test, st1.outstanding, 1);
		KUNIT_EXPECT_EQ(test, st1.bounced, 0);
		wdmdma_put_sg_list(a, rec->sgl, false);
	}
	st2 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st2.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st2.verifier_errors, 0);
	wdmdma_destroy_adapter(a);
}

/* Normal allocation failing (fail_alloc 100): the reserve serves, again. */
static void get_test_reserve(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	int i, ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);
	for (i = 1; i <= 2; i++) {
		wdmdma_test_rec_init(rec, NULL);
		ret = get_call(fx, a, GET_OFF, GET_LEN, rec, true);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
		if (ret || wdmdma_test_rec_calls(rec) != 1)
			break;
		get_check_list(test, fx, rec->sgl, GET_OFF, GET_LEN);
		st = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st.reserve, i);
		KUNIT_EXPECT_EQ(test, st.allocated, 0);
		KUNIT_EXPECT_EQ(test, st.outstanding, 1);
		wdmdma_put_sg_list(a, rec->sgl, true);
	}
	/* Back to the module parameter (0 in the tests): allocations work. */
	wdmdma_set_fail_alloc(a, -1);
	wdmdma_test_rec_init(rec, NULL);
	ret = get_call(fx, a, GET_OFF, GET_LEN, rec, true);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret && wdmdma_test_rec_calls(rec) == 1)
		wdmdma_put_sg_list(a, rec->sgl, true);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.allocated, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	wdmdma_destroy_adapter(a);
}

/*
 * Reserve of one, allocations failing: the first Get runs at once, the
 * next GET_QUEUED wait. Each Put from this thread lets exactly the next
 * one run, in submission order, from the adapter's work item.
 */
static void get_test_deferred_fifo(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int i, n = GET_QUEUED + 1;
	atomic_t seq;
	bool *put;
	int ret;

	atomic_set(&seq, 0);
	rec = wdmdma_test_recs(test, n, &seq);
	put = kunit_kcalloc(test, n, sizeof(*put), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, put);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);

	for (i = 0; i < n; i++) {
		ret = get_call(fx, a, GET_OFF + i, GET_LEN, &rec[i], true);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "Get %u", i);
		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[i]),
				    i ? 0 : 1, "Get %u", i);
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, GET_QUEUED);
	KUNIT_EXPECT_EQ(test, st.reserve, 1);
	KUNIT_EXPECT_EQ(test, st.allocated, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1);
	KUNIT_EXPECT_EQ(test, rec[0].order, 0);

	for (i = 0; i + 1 < n; i++) {
		if (wdmdma_test_rec_calls(&rec[i]) != 1)
			break;
		wdmdma_put_sg_list(a, rec[i].sgl, true);
		put[i] = true;
		if (!wdmdma_test_rec_wait(&rec[i + 1])) {
			KUNIT_FAIL(test, "waiting Get %u never called back",
				   i + 1);
			break;
		}
		KUNIT_EXPECT_EQ(test, rec[i + 1].order, i + 1);
		KUNIT_EXPECT_PTR_NE(test, rec[i + 1].task, current);
		KUNIT_EXPECT_FALSE(test, rec[i + 1].hardirq);
		get_check_list(test, fx, rec[i + 1].sgl, GET_OFF + i + 1,
			       GET_LEN);
		if (i + 2 < n)
			KUNIT_EXPECT_EQ_MSG(test,
					    wdmdma_test_rec_calls(&rec[i + 2]),
					    0, "Get %u ran early", i + 2);
		st = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st.queue_depth, GET_QUEUED - i - 1);
		KUNIT_EXPECT_EQ(test, st.outstanding, 1);
	}
	if (wdmdma_test_rec_calls(&rec[n - 1]) == 1) {
		wdmdma_put_sg_list(a, rec[n - 1].sgl, true);
		put[n - 1] = true;
	}
	wdmdma_flush_adapter(a);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[i]), 1,
				    "Get %u", i);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.deferred, GET_QUEUED);
	KUNIT_EXPECT_EQ(test, st.reserve, n);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	get_finish(a, rec, put, n, true);
}

/*
 * FIFO by resource: a request waits only for what it lacks. With Gets
 * waiting for list memory, a Build (which needs no memory) on an adapter
 * that reaches everything needs nothing that is short: it runs at once,
 * in the caller's context, ahead of them. The Gets still run in their
 * order when memory comes back.
 */
static void get_test_build_needs_no_memory(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	bool put[4] = { };
	unsigned int nregs;
	size_t size = 0;
	void *buf = NULL;
	atomic_t seq;
	int ret;

	atomic_set(&seq, 0);
	rec = wdmdma_test_recs(test, 4, &seq);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);
	ret = wdmdma_calculate_sg_list(a, fx->mdl, fx->va + GET_OFF, GET_LEN,
				       &size, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	buf = kmalloc(size ? size : 1, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, buf);
	if (ret || !buf)
		goto out;

	KUNIT_EXPECT_EQ(test, get_call(fx, a, GET_OFF, GET_LEN, &rec[0], true),
			0);
	KUNIT_EXPECT_EQ(test, get_call(fx, a, GET_OFF, GET_LEN, &rec[1], true),
			0);
	KUNIT_EXPECT_EQ(test, get_call(fx, a, GET_OFF, GET_LEN, &rec[2], true),
			0);
	ret = wdmdma_build_sg_list(a, fx->mdl, fx->va + GET_OFF, GET_LEN,
				   wdmdma_test_rec_cb, &rec[3], true, buf, size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 0);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[3]), 1,
			    "the Build waited behind Gets waiting for memory");
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 2);
	KUNIT_EXPECT_EQ(test, st.deferred, 2);
	KUNIT_EXPECT_EQ(test, st.built, wdmdma_test_rec_calls(&rec[3]));
	if (wdmdma_test_rec_calls(&rec[3]) == 1) {
		KUNIT_EXPECT_EQ(test, rec[3].order, 1);
		KUNIT_EXPECT_PTR_EQ(test, rec[3].task, current);
		KUNIT_EXPECT_TRUE(test, (void *)rec[3].sgl >= buf &&
				  (void *)rec[3].sgl < buf + size);
		get_check_list(test, fx, rec[3].sgl, GET_OFF, GET_LEN);
		/* Its Put frees no memory the Gets wait for. */
		wdmdma_put_sg_list(a, rec[3].sgl, true);
		put[3] = true;
		wdmdma_flush_adapter(a);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	}
	if (wdmdma_test_rec_calls(&rec[0]) != 1)
		goto out;

	wdmdma_put_sg_list(a, rec[0].sgl, true);
	put[0] = true;
	KUNIT_EXPECT_TRUE(test, wdmdma_test_rec_wait(&rec[1]));
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[2]), 0,
			    "Get 2 ran while Get 1 held the reserve");
	if (wdmdma_test_rec_calls(&rec[1]) == 1) {
		wdmdma_put_sg_list(a, rec[1].sgl, true);
		put[1] = true;
	}
	KUNIT_EXPECT_TRUE(test, wdmdma_test_rec_wait(&rec[2]));
	KUNIT_EXPECT_EQ(test, rec[1].order, 2);
	KUNIT_EXPECT_EQ(test, rec[2].order, 3);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.deferred, 2);
	KUNIT_EXPECT_EQ(test, st.built, 1);
	KUNIT_EXPECT_EQ(test, st.reserve, 3);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
out:
	get_finish(a, rec, put, 4, true);
	kfree(buf);
}

/*
 * FIFO among requests that wait for the same thing: on a one-element
 * adapter with map registers for one bounced transfer, a bounced Build
 * and then a bounced Get wait for map registers and run in that order,
 * one Put each; meanwhile a Build of contiguous data (mapped in place,
 * needing neither memory nor map registers) runs at once.
 */
static void get_test_map_register_fifo(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_test_vbuf *vb;
	struct wdmdma_mdl *mdl = NULL, *kmdl = NULL;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	size_t size = 0, ksize = 0;
	void *va, *kva = NULL, *buf = NULL, *kbuf = NULL;
	unsigned int nregs, knregs;
	bool put[4] = { };
	const u32 len = 2 * PAGE_SIZE;
	atomic_t seq;
	int ret;

	atomic_set(&seq, 0);
	rec = wdmdma_test_recs(test, 4, &seq);
	vb = kunit_kzalloc(test, sizeof(*vb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, vb);
	va = wdmdma_test_vbuf_alloc(vb, 3);
	KUNIT_ASSERT_NOT_NULL(test, va);
	/* One chunk of map registers: three, one bounced transfer needs two. */
	a = wdmdma_test_adapter(test, fx->dev, false, 64, len, 1, 0);
	mdl = wdmdma_mdl_alloc(va, 3 * PAGE_SIZE, GFP_KERNEL);
	kva = kmalloc(len, GFP_KERNEL);
	kmdl = kva ? wdmdma_mdl_alloc(kva, len, GFP_KERNEL) : NULL;
	if (!mdl || wdmdma_mdl_build_for_kernel_buffer(mdl) || !kmdl ||
	    wdmdma_mdl_build_for_kernel_buffer(kmdl)) {
		KUNIT_FAIL(test, "out of memory");
		goto out;
	}
	ret = wdmdma_calculate_sg_list(a, mdl, va + GET_OFF, len, &size,
				       &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	ret |= wdmdma_calculate_sg_list(a, kmdl, kva, len, &ksize, &knregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	buf = kmalloc(size ? size : 1, GFP_KERNEL);
	kbuf = kmalloc(ksize ? ksize : 1, GFP_KERNEL);
	if (ret || !buf || !kbuf) {
		KUNIT_FAIL(test, "no Build buffers");
		goto out;
	}

	/* 0 holds two of the three map registers. */
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list(a, mdl, va + GET_OFF, len,
						 wdmdma_test_rec_cb, &rec[0],
						 true), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	/* 1 (Build) and 2 (Get) wait for map registers, in that order. */
	KUNIT_EXPECT_EQ(test, wdmdma_build_sg_list(a, mdl, va + GET_OFF, len,
						   wdmdma_test_rec_cb, &rec[1],
						   true, buf, size), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list(a, mdl, va + GET_OFF, len,
						 wdmdma_test_rec_cb, &rec[2],
						 true), 0);
	/* 3 needs nothing that is short. */
	KUNIT_EXPECT_EQ(test, wdmdma_build_sg_list(a, kmdl, kva, len,
						   wdmdma_test_rec_cb, &rec[3],
						   true, kbuf, ksize), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 0);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[3]), 1,
			    "a Build needing no map registers waited for them");
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 2);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 2);
	if (wdmdma_test_rec_calls(&rec[3]) == 1) {
		KUNIT_EXPECT_EQ(test, rec[3].order, 1);
		KUNIT_EXPECT_EQ(test, rec[3].sgl->nr_elements, 1);
		KUNIT_EXPECT_EQ(test, rec[3].sgl->elements[0].addr,
				virt_to_phys(kva));
		wdmdma_put_sg_list(a, rec[3].sgl, true);
		put[3] = true;
	}
	if (wdmdma_test_rec_calls(&rec[0]) != 1)
		goto out;

	wdmdma_put_sg_list(a, rec[0].sgl, true);
	put[0] = true;
	KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(&rec[1]),
			      "the waiting Build never called back");
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[2]), 0,
			    "the Get ran without map registers for it");
	if (wdmdma_test_rec_calls(&rec[1]) == 1) {
		KUNIT_EXPECT_EQ(test, rec[1].sgl->nr_elements, 1);
		wdmdma_put_sg_list(a, rec[1].sgl, true);
		put[1] = true;
	}
	KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(&rec[2]),
			      "the waiting Get never called back");
	KUNIT_EXPECT_EQ(test, rec[1].order, 2);
	KUNIT_EXPECT_EQ(test, rec[2].order, 3);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.deferred, 2);
	KUNIT_EXPECT_EQ(test, st.bounced, 3);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
out:
	get_finish(a, rec, put, 4, true);
	kfree(kbuf);
	kfree(buf);
	wdmdma_mdl_free(kmdl);
	kfree(kva);
	wdmdma_mdl_free(mdl);
	wdmdma_test_vbuf_free(vb);
}

/*
 * Too long (-EMSGSIZE) or spanning more pages than the adapter's map
 * registers (-ENOSPC): refused at once, the callback never runs.
 */
static void get_test_oversize(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	int ret;

	rec = wdmdma_test_recs(test, 3, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);

	ret = get_call(fx, a, 0, GET_MAX + 1, &rec[0], true);
	KUNIT_EXPECT_EQ(test, ret, -EMSGSIZE);
	ret = wdmdma_get_sg_list(a, fx->many_mdl, wdmdma_mdl_va(fx->many_mdl),
				 512 * GET_MANY, wdmdma_test_rec_cb, &rec[1],
				 true);
	KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
	/* One piece fewer spans exactly the adapter's map registers. */
	ret = wdmdma_get_sg_list(a, fx->many_mdl, wdmdma_mdl_va(fx->many_mdl),
				 512 * (GET_MANY - 1), wdmdma_test_rec_cb,
				 &rec[2], true);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 1);
	if (!ret && wdmdma_test_rec_calls(&rec[2]) == 1) {
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(rec[2].sgl),
				512 * (GET_MANY - 1));
		wdmdma_put_sg_list(a, rec[2].sgl, true);
	}
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.allocated, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	wdmdma_destroy_adapter(a);
}

/*
 * Invalid requests: -EINVAL, no callback. The verifier counts a zero
 * length and a range past the MDL chain.
 */
static void get_test_invalid(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_stats st0, st1;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	u32 end = GET_PAGES * PAGE_SIZE;

	rec = wdmdma_test_recs(test, 1, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	st0 = wdmdma_test_stats(a);

	KUNIT_EXPECT_EQ(test, get_call(fx, a, 0, 0, rec, true), -EINVAL);
	st1 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st1.verifier_errors, st0.verifier_errors + 1);

	KUNIT_EXPECT_EQ(test, get_call(fx, a, end - 100, 200, rec, true),
			-EINVAL);
	st1 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st1.verifier_errors, st0.verifier_errors + 2);

	KUNIT_EXPECT_EQ(test, get_call(fx, a, end, 1, rec, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list(a, fx->mdl, fx->va - 1, 16,
						 wdmdma_test_rec_cb, rec,
						 true),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list(NULL, fx->mdl, fx->va, 16,
						 wdmdma_test_rec_cb, rec,
						 true),
			-EINVAL);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 0);
	st1 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st1.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st1.allocated, 0);
	KUNIT_EXPECT_EQ(test, st1.queue_depth, 0);
	wdmdma_destroy_adapter(a);
}

/*
 * No memory, reserve in use and every waiter slot busy: -ENOMEM and the
 * callback never runs. The waiting ones still run, in order.
 */
static void get_test_max_waiters(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	bool put[4] = { };
	atomic_t seq;
	int i, ret;

	atomic_set(&seq, 0);
	rec = wdmdma_test_recs(test, 4, &seq);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 2);
	wdmdma_set_fail_alloc(a, 100);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, get_call(fx, a, GET_OFF, GET_LEN,
						   &rec[i], true),
				    0, "Get %d", i);
	ret = get_call(fx, a, GET_OFF, GET_LEN, &rec[3], true);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 2);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1);

	for (i = 0; i < 2; i++) {
		if (wdmdma_test_rec_calls(&rec[i]) != 1)
			break;
		wdmdma_put_sg_list(a, rec[i].sgl, true);
		put[i] = true;
		KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(&rec[i + 1]),
				      "waiting Get %d never called back",
				      i + 1);
		KUNIT_EXPECT_EQ(test, rec[i + 1].order, i + 1);
	}
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 0);
	/* The slots are free again. */
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	get_finish(a, rec, put, 4, true);
}

struct get_irq {
	struct hrtimer timer;
	struct completion done;
	struct get_fixture *fx;
	struct wdmdma_adapter *a;
	struct wdmdma_sg_list *put;	/* Put this, or else Get */
	struct wdmdma_test_rec *rec;	/* for the Get */
	bool hardirq;
	int ret;
};

static enum hrtimer_restart get_irq_fn(struct hrtimer *timer)
{
	struct get_irq *gi = container_of(timer, struct get_irq, timer);

	gi->hardirq = in_hardirq();
	if (gi->put)
		wdmdma_put_sg_list(gi->a, gi->put, true);
	else
		gi->ret = get_call(gi->fx, gi->a, GET_OFF, GET_LEN, gi->rec,
				   true);
	complete(&gi->done);
	return HRTIMER_NORESTART;
}

/*
 * An hrtimer in the default mode: its callback runs in hard interrupt
 * context (where an interrupt handler runs), except on PREEMPT_RT, where
 * interrupt handlers are threads and so are such callbacks; lockdep's
 * PREEMPT_RT nesting checks (7.3) hold the callback to that. wdmdma takes
 * spinlock_t locks, as drivers do: it is not for _HARD timers.
 */
static bool get_in_irq(struct kunit *test, struct get_irq *gi)
{
	bool done;

	init_completion(&gi->done);
	wdmdma_hrtimer_setup(&gi->timer, get_irq_fn, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL);
	hrtimer_start(&gi->timer, ms_to_ktime(1), HRTIMER_MODE_REL);
	done = wait_for_completion_timeout(&gi->done,
					   msecs_to_jiffies(WDMDMA_TEST_WAIT_MS));
	hrtimer_cancel(&gi->timer);
	KUNIT_EXPECT_TRUE(test, done);
	KUNIT_EXPECT_TRUE(test, gi->hardirq);
	return done;
}

/*
 * Get in hard interrupt context runs its callback there; a Put in hard
 * interrupt context frees the reserve, and the waiting Get's callback then
 * runs from the work item, not in the interrupt.
 */
static void get_test_hardirq(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	bool put[2] = { };
	struct get_irq *gi;
	atomic_t seq;

	gi = kunit_kzalloc(test, sizeof(*gi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, gi);
	atomic_set(&seq, 0);
	rec = wdmdma_test_recs(test, 2, &seq);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);
	gi->fx = fx;
	gi->a = a;
	gi->rec = &rec[0];
	if (!get_in_irq(test, gi))
		goto out;
	KUNIT_EXPECT_EQ(test, gi->ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	KUNIT_EXPECT_TRUE(test, rec[0].hardirq);
	if (gi->ret || wdmdma_test_rec_calls(&rec[0]) != 1)
		goto out;
	get_check_list(test, fx, rec[0].sgl, GET_OFF, GET_LEN);

	KUNIT_EXPECT_EQ(test, get_call(fx, a, GET_OFF, GET_LEN, &rec[1], true),
			0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	gi->put = rec[0].sgl;
	if (!get_in_irq(test, gi))
		goto out;
	put[0] = true;
	KUNIT_EXPECT_TRUE(test, wdmdma_test_rec_wait(&rec[1]));
	KUNIT_EXPECT_FALSE(test, rec[1].hardirq);
	KUNIT_EXPECT_EQ(test, rec[1].order, 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.reserve, 2);
	KUNIT_EXPECT_EQ(test, st.deferred, 1);
out:
	get_finish(a, rec, put, 2, true);
}

/*
 * The verifier: a second Put of the same list, and a Put of another
 * adapter's list, are reported, counted and ignored. a's list comes from
 * its reserve, so it is still memory after its Put: the double Put is
 * then refused with the verifier off too (kunit-pt runs it so), where
 * wdmdma trusts the list's own tracking data instead of looking it up.
 */
static void get_test_verifier_bad_put(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	struct wdmdma_adapter *a, *b;
	struct wdmdma_test_rec *ra, *rb;
	struct wdmdma_stats sa, sb;

	ra = wdmdma_test_recs(test, 1, NULL);
	rb = wdmdma_test_recs(test, 1, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	b = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);
	KUNIT_EXPECT_EQ(test, get_call(fx, a, GET_OFF, GET_LEN, ra, true), 0);
	KUNIT_EXPECT_EQ(test, get_call(fx, b, GET_OFF, GET_LEN, rb, true), 0);
	if (wdmdma_test_rec_calls(ra) != 1 || wdmdma_test_rec_calls(rb) != 1)
		goto out;

	/* b's list given to a: ignored, b's list still outstanding. */
	wdmdma_put_sg_list(a, rb->sgl, true);
	sa = wdmdma_test_stats(a);
	sb = wdmdma_test_stats(b);
	KUNIT_EXPECT_EQ(test, sa.verifier_errors, 1);
	KUNIT_EXPECT_EQ(test, sa.outstanding, 1);
	KUNIT_EXPECT_EQ(test, sb.outstanding, 1);

	wdmdma_put_sg_list(a, ra->sgl, true);
	wdmdma_put_sg_list(a, ra->sgl, true);	/* double Put */
	sa = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, sa.verifier_errors, 2);
	KUNIT_EXPECT_EQ(test, sa.outstanding, 0);

	wdmdma_put_sg_list(b, rb->sgl, true);
	sb = wdmdma_test_stats(b);
	KUNIT_EXPECT_EQ(test, sb.verifier_errors, 0);
	KUNIT_EXPECT_EQ(test, sb.outstanding, 0);
out:
	wdmdma_destroy_adapter(b);
	wdmdma_destroy_adapter(a);
}

/*
 * The verifier: a Build into the buffer of a list that is still
 * outstanding (not put yet) is refused with -EINVAL, reported and
 * counted, and the first list stays intact: its callback ran once, the
 * second's never, and it is put normally. (Unchecked, the second Build
 * relinked the first list's node: KASAN and a GPF at the next Put.) The
 * case turns the verifier on itself, so kunit-pt runs it too.
 */
static void get_test_verifier_build_busy(struct kunit *test)
{
	struct get_fixture *fx = test->priv;
	bool old = wdmdma_set_verifier(true);
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int nregs;
	size_t size = 0;
	void *buf = NULL;
	int ret;

	rec = wdmdma_test_recs(test, 2, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, GET_MAX, 1, 0);
	ret = wdmdma_calculate_sg_list(a, fx->mdl, fx->va + GET_OFF, GET_LEN,
				       &size, &nregs);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret)
		buf = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, buf);
	if (!buf)
		goto out;
	ret = wdmdma_build_sg_list(a, fx->mdl, fx->va + GET_OFF, GET_LEN,
				   wdmdma_test_rec_cb, &rec[0], true, buf, size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (wdmdma_test_rec_calls(&rec[0]) != 1)
		goto out;

	ret = wdmdma_build_sg_list(a, fx->mdl, fx->va + GET_OFF, GET_LEN,
				   wdmdma_test_rec_cb, &rec[1], true, buf, size);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 1);
	KUNIT_EXPECT_EQ(test, st.built, 1);
	get_check_list(test, fx, rec[0].sgl, GET_OFF, GET_LEN);

	wdmdma_put_sg_list(a, rec[0].sgl, true);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	/* Put, the buffer is free again. */
	ret = wdmdma_build_sg_list(a, fx->mdl, fx->va + GET_OFF, GET_LEN,
				   wdmdma_test_rec_cb, &rec[1], true, buf, size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (wdmdma_test_rec_calls(&rec[1]) == 1)
		wdmdma_put_sg_list(a, rec[1].sgl, true);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 1);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
out:
	wdmdma_destroy_adapter(a);
	wdmdma_set_verifier(old);
}

static int get_suite_init(struct kunit_suite *suite)
{
	get_pdev = wdmdma_test_pdev_create("wdmdma-test-get");
	return PTR_ERR_OR_ZERO(get_pdev);
}

static void get_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(get_pdev);
	get_pdev = NULL;
}

static struct kunit_case get_test_cases[] = {
	KUNIT_CASE(get_test_normal),
	KUNIT_CASE(get_test_reserve),
	KUNIT_CASE(get_test_deferred_fifo),
	KUNIT_CASE(get_test_build_needs_no_memory),
	KUNIT_CASE(get_test_map_register_fifo),
	KUNIT_CASE(get_test_oversize),
	KUNIT_CASE(get_test_invalid),
	KUNIT_CASE(get_test_max_waiters),
	KUNIT_CASE(get_test_hardirq),
	KUNIT_CASE(get_test_verifier_bad_put),
	KUNIT_CASE(get_test_verifier_build_busy),
	{ }
};

static struct kunit_suite get_test_suite = {
	.name = "wdmdma_get",
	.suite_init = get_suite_init,
	.suite_exit = get_suite_exit,
	.init = get_init,
	.exit = get_exit,
	.test_cases = get_test_cases,
};

kunit_test_suite(get_test_suite);

MODULE_DESCRIPTION("KUnit tests for wdmdma_get_sg_list(): reserve and queue");
MODULE_LICENSE("GPL");
