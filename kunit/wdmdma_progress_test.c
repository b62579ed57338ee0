// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_progress": forward progress of waiting requests and
 * the contract details around it.
 *
 *  - A waiting request whose mapping fails for good gets its callback once
 *    with a NULL list and the queue moves on; the same request on the fast
 *    path gets -EIO and no callback.
 *  - A mapping that fails for want of mapping space (-ENOMEM) makes the
 *    request wait and be retried (by the next Put or a back-off), never
 *    an error from Build; with WDMDMA_SYNCHRONOUS it is -ENOMEM.
 *  - A request waits only for what it lacks: a Build needing no map
 *    registers does not wait behind Gets waiting for memory; requests
 *    needing map registers keep FIFO order among themselves.
 *  - A transfer context cannot be submitted twice while its request waits,
 *    even by two threads at once, and the refusal leaves the waiting
 *    request (and its Build buffer) alone.
 *  - Merging honours the device's segment boundary; an MDL whose byte
 *    count disagrees with its pages is refused.
 *  - Get in hard interrupt context takes the reserve rather than make an
 *    allocation larger than a page.
 *  - A callback may itself call Get and Build, run at once or deferred.
 *  - Chained MDLs on a device whose bus (bus_dma_limit) cannot reach
 *    normal memory are bounced, on a one-element and on a scatter/gather
 *    adapter, and the data arrives both ways.
 *
 * Negative checks ("did not run") follow wdmdma_flush_adapter(), which
 * returns once everything that can run has run.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/bvec.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define PROG_MAX	SZ_64K
#define PROG_PAGES	4
#define PROG_LEN	(PROG_PAGES * PAGE_SIZE)
#define PROG_OFF	100
#define PROG_XFER	(2 * PAGE_SIZE)		/* at PROG_OFF: 3 pages */
#define PROG_PAIR	(PAGE_SIZE + 200)	/* at PROG_OFF: 2 pages */
#define PROG_WAITING	3

#define PROG_BIG_PAGES	128			/* list larger than a page */
#define PROG_BIG_MAX	(PROG_BIG_PAGES * PAGE_SIZE)

#define PROG_RACE_ITERS	500

#define PROG_BOUNDARY	(SZ_64K - 1)
#define PROG_BUS_BITS	28
#define PROG_HIGH_ORDER	9			/* 2 MiB blocks */
#define PROG_HIGH_TRIES	512

static struct platform_device *prog_pdev;	/* 64-bit, no boundary */
static struct platform_device *prog_bnd_pdev;	/* 64 KiB segment boundary */
static struct platform_device *prog_lim_pdev;	/* bus_dma_limit 28 bits */
static struct device_dma_parameters prog_bnd_parms;
static struct device_dma_parameters prog_lim_parms;

struct prog_fixture {
	struct device *dev;
	struct wdmdma_test_vbuf vb;
	void *va;		/* PROG_PAGES discontiguous pages */
	struct wdmdma_mdl *mdl;
	atomic_t seq;
};

static int prog_init(struct kunit *test)
{
	struct prog_fixture *fx;

	if (IS_ERR_OR_NULL(prog_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	test->priv = fx;
	fx->dev = &prog_pdev->dev;
	atomic_set(&fx->seq, 0);
	fx->va = wdmdma_test_vbuf_alloc(&fx->vb, PROG_PAGES);
	if (!fx->va)
		return -ENOMEM;
	wdmdma_test_fill(fx->va, PROG_LEN, 0x5a);
	fx->mdl = wdmdma_mdl_alloc(fx->va, PROG_LEN, GFP_KERNEL);
	if (!fx->mdl || wdmdma_mdl_build_for_kernel_buffer(fx->mdl))
		return -ENOMEM;
	return 0;
}

static void prog_exit(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;

	if (!fx)
		return;
	wdmdma_mdl_free(fx->mdl);
	wdmdma_test_vbuf_free(&fx->vb);
}

static int prog_get(struct prog_fixture *fx, struct wdmdma_adapter *a,
		    u32 off, u32 len, struct wdmdma_test_rec *rec, bool write)
{
	return wdmdma_get_sg_list(a, fx->mdl, fx->va + off, len,
				  wdmdma_test_rec_cb, rec, write);
}

/* A Build buffer for the worst case of @len bytes, freed with the test. */
static void *prog_build_buf(struct kunit *test, struct wdmdma_adapter *a,
			    u32 len, size_t *size)
{
	void *buf;
	int ret;

	ret = wdmdma_calculate_sg_list(a, NULL, (void *)(PAGE_SIZE - 1), len,
				       size, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	buf = kunit_kzalloc(test, *size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

static int prog_build(struct prog_fixture *fx, struct wdmdma_adapter *a,
		      u32 off, u32 len, struct wdmdma_test_rec *rec,
		      bool write, void *buf, size_t size)
{
	return wdmdma_build_sg_list(a, fx->mdl, fx->va + off, len,
				    wdmdma_test_rec_cb, rec, write, buf, size);
}

/* Check a list maps [off, off + len) of the fixture buffer in place. */
static void prog_check_in_place(struct kunit *test, struct prog_fixture *fx,
				const struct wdmdma_sg_list *sgl, u32 off,
				u32 len)
{
	u32 pos;

	KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl), len);
	for (pos = 0; pos < len; pos += PAGE_SIZE - offset_in_page(off + pos)) {
		void *va = fx->va + off + pos;

		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_sgl_addr_at(sgl, pos),
				    (u64)page_to_phys(vmalloc_to_page(va)) +
				    offset_in_page(va), "byte %u", pos);
	}
}

/* The device reads the list: does it see exactly @len bytes of @src? */
static bool prog_dev_sees(const struct wdmdma_sg_list *sgl, const void *src,
			  size_t len)
{
	u8 *seen;
	bool same;

	seen = kmalloc(len, GFP_KERNEL);
	if (!seen)
		return false;
	same = wdmdma_test_sgl_bytes(sgl) == len &&
	       wdmdma_test_dev_read(sgl, seen, len) == len &&
	       !memcmp(seen, src, len);
	kfree(seen);
	return same;
}

/*
 * Give back every list whose callback ran, let waiting requests run and
 * give theirs back too, then destroy the adapter (inside warning markers
 * if a failed test left requests waiting or lists out).
 */
static void prog_finish(struct wdmdma_adapter *a, struct wdmdma_test_rec *rec,
			unsigned int n, bool write)
{
	unsigned long done = 0;
	struct wdmdma_stats st;
	unsigned int i, round;
	bool noisy;

	wdmdma_inject_map_error(a, 0, 0);
	wdmdma_set_fail_alloc(a, 0);
	for (round = 0; round <= n; round++) {
		bool progress = false;

		for (i = 0; i < n && i < BITS_PER_LONG; i++) {
			if ((done & BIT(i)) || !wdmdma_test_rec_calls(&rec[i]))
				continue;
			done |= BIT(i);
			if (rec[i].sgl)
				wdmdma_put_sg_list(a, rec[i].sgl, write);
			progress = true;
		}
		wdmdma_flush_adapter(a);
		st = wdmdma_test_stats(a);
		if (!st.queue_depth && !progress)
			break;
		/* A failed test may leave a request on a retry timer. */
		for (i = 0; !progress && i < n && i < BITS_PER_LONG; i++) {
			if (done & BIT(i))
				continue;
			wait_for_completion_timeout(&rec[i].done, HZ);
			break;
		}
	}
	st = wdmdma_test_stats(a);
	noisy = st.queue_depth || st.outstanding;
	if (noisy)
		pr_info(WDMDMA_TEST_WARN_BEGIN);
	wdmdma_destroy_adapter(a);
	if (noisy)
		pr_info(WDMDMA_TEST_WARN_END);
}

/* --- Permanent mapping errors (issue item 5) ---------------------------- */

/*
 * Gets waiting for memory (reserve of one in use, allocations failing).
 * The head's mapping fails for good when it is dispatched: its callback
 * runs once with a NULL list, and the requests behind it get their lists.
 * The same request on the fast path fails with -EIO and never calls back.
 * stats.failed counts both.
 */
static void progress_test_permanent_get(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	const unsigned int n = PROG_WAITING + 3;
	struct wdmdma_test_rec *rec;
	struct wdmdma_stats st0, st;
	struct wdmdma_adapter *a;
	unsigned int i;
	int ret;

	rec = wdmdma_test_recs(test, n, &fx->seq);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);

	KUNIT_EXPECT_EQ(test, prog_get(fx, a, PROG_OFF, PROG_XFER, &rec[0],
				       true), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	for (i = 1; i <= PROG_WAITING; i++)
		KUNIT_EXPECT_EQ_MSG(test, prog_get(fx, a, PROG_OFF, PROG_XFER,
						   &rec[i], true),
				    0, "Get %u", i);
	st0 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st0.queue_depth, PROG_WAITING);
	if (wdmdma_test_rec_calls(&rec[0]) != 1 || !rec[0].sgl)
		goto out;

	/* The next mapping (the head's, once the reserve is back) fails. */
	wdmdma_inject_map_error(a, -EIO, 1);
	wdmdma_put_sg_list(a, rec[0].sgl, true);
	rec[0].sgl = NULL;

	KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(&rec[1]),
			      "the head never called back");
	KUNIT_EXPECT_NULL_MSG(test, rec[1].sgl,
			      "the head got a list although its mapping failed");
	for (i = 2; i <= PROG_WAITING; i++) {
		if (!wdmdma_test_rec_wait(&rec[i])) {
			KUNIT_FAIL(test, "Get %u behind the failed head starved",
				   i);
			goto out;
		}
		KUNIT_EXPECT_EQ(test, rec[i].order, i);
		KUNIT_ASSERT_NOT_NULL(test, rec[i].sgl);
		prog_check_in_place(test, fx, rec[i].sgl, PROG_OFF, PROG_XFER);
		wdmdma_put_sg_list(a, rec[i].sgl, true);
		rec[i].sgl = NULL;
	}
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.failed, 1);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.map_retries, 0);

	/* Same answer on the fast path: -EIO, no callback. */
	wdmdma_inject_map_error(a, -EIO, 1);
	ret = prog_get(fx, a, PROG_OFF, PROG_XFER, &rec[n - 2], true);
	KUNIT_EXPECT_EQ(test, ret, -EIO);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[n - 2]), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.failed, 2);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);

	/* Nothing was kept: the reserve serves the same request again. */
	ret = prog_get(fx, a, PROG_OFF, PROG_XFER, &rec[n - 1], true);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[n - 1]), 1);
out:
	prog_finish(a, rec, n, true);
}

static void prog_disarm_hook(struct wdmdma_test_rec *rec)
{
	wdmdma_inject_map_error(rec->data, 0, 0);
}

/*
 * Builds waiting for map registers on a one-element adapter. Every mapping
 * fails (as an unreachable bus address would, again and again) until the
 * head's callback disarms the injection: the head ends with a NULL list
 * and the next one runs at once, without another Put. The head's buffer
 * is the caller's again and serves a new Build.
 */
static void progress_test_permanent_build(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_stats st;
	struct wdmdma_adapter *a;
	void *buf[4];
	size_t size;
	int i, ret;

	rec = wdmdma_test_recs(test, 4, &fx->seq);
	a = wdmdma_test_adapter(test, fx->dev, false, 64, PROG_LEN, 1, 0);
	for (i = 0; i < 4; i++)
		buf[i] = prog_build_buf(test, a, PROG_LEN, &size);

	/* B0 holds the map registers: what is left is less than 2. */
	ret = prog_build(fx, a, 0, PROG_LEN, &rec[0], true, buf[0], size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.bounced, 1);
	if (ret || st.map_regs_total - st.map_regs_in_use >= 2) {
		KUNIT_FAIL(test, "B0 left %llu of %llu map registers",
			   st.map_regs_total - st.map_regs_in_use,
			   st.map_regs_total);
		goto out;
	}

	/* B1 (the head) and B2 need two map registers each: they wait. */
	rec[1].hook = prog_disarm_hook;
	rec[1].data = a;
	KUNIT_EXPECT_EQ(test, prog_build(fx, a, PROG_OFF, PROG_PAIR, &rec[1],
					 true, buf[1], size), 0);
	KUNIT_EXPECT_EQ(test, prog_build(fx, a, 2 * PAGE_SIZE + PROG_OFF,
					 PROG_PAIR, &rec[2], true, buf[2],
					 size), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 0);

	wdmdma_inject_map_error(a, -EIO, -1);
	wdmdma_put_sg_list(a, rec[0].sgl, true);
	rec[0].sgl = NULL;

	if (!wdmdma_test_rec_wait(&rec[1])) {
		wdmdma_inject_map_error(a, 0, 0);
		KUNIT_FAIL(test, "the head never called back (retried forever?)");
		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[2]), 0,
				    "B2 overtook the head");
		goto out;
	}
	KUNIT_EXPECT_NULL(test, rec[1].sgl);
	KUNIT_EXPECT_EQ(test, rec[1].order, 1);
	if (!wdmdma_test_rec_wait(&rec[2])) {
		KUNIT_FAIL(test, "B2 starved behind the failed head");
		goto out;
	}
	KUNIT_EXPECT_EQ(test, rec[2].order, 2);
	KUNIT_ASSERT_NOT_NULL(test, rec[2].sgl);
	KUNIT_EXPECT_EQ(test, rec[2].sgl->nr_elements, 1);
	KUNIT_EXPECT_TRUE(test, prog_dev_sees(rec[2].sgl,
					      fx->va + 2 * PAGE_SIZE + PROG_OFF,
					      PROG_PAIR));

	/* B1's buffer is free: a new Build in it runs at once. */
	ret = prog_build(fx, a, PROG_OFF, PROG_PAIR, &rec[3], true, buf[1],
			 size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 1);
	if (!ret && wdmdma_test_rec_calls(&rec[3]) == 1 && rec[3].sgl)
		KUNIT_EXPECT_TRUE(test, prog_dev_sees(rec[3].sgl,
						      fx->va + PROG_OFF,
						      PROG_PAIR));
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.failed, 1);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
out:
	prog_finish(a, rec, 4, true);
}

/* --- Transient mapping errors (issue item 6) ---------------------------- */

/*
 * dma_map_sgtable() failing with -ENOMEM 1, 2, then 3 times: Build
 * returns 0, the request waits and is retried; its callback then runs
 * from the work item with a correct list. Data goes both ways.
 */
static void progress_test_transient_build(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_stats st0, st1;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	u8 *pattern;
	size_t size;
	void *buf;
	int n, ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	pattern = kunit_kmalloc(test, PROG_XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	buf = prog_build_buf(test, a, PROG_XFER, &size);

	for (n = 1; n <= 3; n++) {
		bool write = n != 2;

		wdmdma_test_rec_init(rec, NULL);
		wdmdma_test_fill(fx->va, PROG_LEN, 0x30 + n);
		st0 = wdmdma_test_stats(a);
		wdmdma_inject_map_error(a, -ENOMEM, n);
		ret = prog_build(fx, a, PROG_OFF, PROG_XFER, rec, write, buf,
				 size);
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%d transient failures", n);
		if (ret)
			break;
		if (!wdmdma_test_rec_wait(rec)) {
			KUNIT_FAIL(test, "not retried after %d failures", n);
			break;
		}
		KUNIT_EXPECT_PTR_NE(test, rec->task, current);
		KUNIT_ASSERT_NOT_NULL(test, rec->sgl);
		prog_check_in_place(test, fx, rec->sgl, PROG_OFF, PROG_XFER);
		st1 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st1.map_retries, st0.map_retries + n);
		KUNIT_EXPECT_EQ(test, st1.deferred, st0.deferred + 1);
		KUNIT_EXPECT_EQ(test, st1.failed, 0);
		KUNIT_EXPECT_EQ(test, st1.outstanding, 1);
		if (write) {
			KUNIT_EXPECT_TRUE(test, prog_dev_sees(rec->sgl,
							      fx->va + PROG_OFF,
							      PROG_XFER));
		} else {
			wdmdma_test_fill(pattern, PROG_XFER, 0xa0 + n);
			wdmdma_test_dev_write(rec->sgl, pattern, PROG_XFER);
		}
		wdmdma_put_sg_list(a, rec->sgl, write);
		rec->sgl = NULL;
		if (!write)
			KUNIT_EXPECT_EQ(test, memcmp(fx->va + PROG_OFF, pattern,
						     PROG_XFER), 0);
	}
	prog_finish(a, rec, 1, true);
}

/*
 * With WDMDMA_SYNCHRONOUS a transient mapping failure is -ENOMEM and the
 * callback never runs; nothing stays queued, and the context serves the
 * next synchronous call.
 */
static void progress_test_transient_sync(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_sg_list *sgl = NULL;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	size_t size;
	void *buf;
	int ret;

	rec = wdmdma_test_recs(test, 3, NULL);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	buf = prog_build_buf(test, a, PROG_XFER, &size);
	wdmdma_init_xfer_ctx(a, ctx);

	wdmdma_inject_map_error(a, -ENOMEM, 1);
	ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, PROG_OFF, PROG_XFER,
				      WDMDMA_SYNCHRONOUS, wdmdma_test_rec_cb,
				      &rec[0], true, buf, size, NULL);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	wdmdma_inject_map_error(a, -ENOMEM, 1);
	ret = wdmdma_get_sg_list_ex(a, ctx, fx->mdl, PROG_OFF, PROG_XFER,
				    WDMDMA_SYNCHRONOUS, wdmdma_test_rec_cb,
				    &rec[1], true, NULL);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, ctx));
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.deferred, 0);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);

	/* The injection was used up: the same call now maps. */
	ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, PROG_OFF, PROG_XFER,
				      WDMDMA_SYNCHRONOUS, NULL, NULL, true,
				      buf, size, &sgl);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_NOT_NULL(test, sgl);
	if (!ret && sgl) {
		prog_check_in_place(test, fx, sgl, PROG_OFF, PROG_XFER);
		wdmdma_put_sg_list(a, sgl, true);
	}
	prog_finish(a, rec, 3, true);
}

/*
 * An _ex call whose mapping fails on the fast path (for good, or for space
 * with WDMDMA_SYNCHRONOUS) leaves nothing pending: the same transfer
 * context serves the next call at once, and there is nothing to cancel.
 */
static void progress_test_failed_ex_ctx_reusable(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st0, st;
	size_t size;
	void *buf;
	int ret;

	rec = wdmdma_test_recs(test, 4, NULL);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	buf = prog_build_buf(test, a, PROG_XFER, &size);
	wdmdma_init_xfer_ctx(a, ctx);
	st0 = wdmdma_test_stats(a);

	wdmdma_inject_map_error(a, -EIO, 1);
	ret = wdmdma_get_sg_list_ex(a, ctx, fx->mdl, PROG_OFF, PROG_XFER, 0,
				    wdmdma_test_rec_cb, &rec[0], true, NULL);
	KUNIT_EXPECT_EQ(test, ret, -EIO);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, ctx));
	ret = wdmdma_get_sg_list_ex(a, ctx, fx->mdl, PROG_OFF, PROG_XFER, 0,
				    wdmdma_test_rec_cb, &rec[1], true, NULL);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "context unusable after -EIO");
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 1);

	wdmdma_inject_map_error(a, -ENOMEM, 1);
	ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, PROG_OFF, PROG_XFER,
				      WDMDMA_SYNCHRONOUS, wdmdma_test_rec_cb,
				      &rec[2], true, buf, size, NULL);
	KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
	KUNIT_EXPECT_FALSE(test, wdmdma_cancel(a, ctx));
	ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, PROG_OFF, PROG_XFER,
				      WDMDMA_SYNCHRONOUS, wdmdma_test_rec_cb,
				      &rec[3], true, buf, size, NULL);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0,
			    "context unusable after a synchronous -ENOMEM");
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 1);

	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, st0.verifier_errors);
	KUNIT_EXPECT_EQ(test, st.failed, st0.failed + 1);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	prog_finish(a, rec, 4, true);
}

/*
 * A request waiting after a transient failure is retried when another
 * list is put: once the Put is done, flushing the adapter finds it run.
 */
static void progress_test_transient_put_retries(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	size_t size;
	void *buf;
	int ret;

	rec = wdmdma_test_recs(test, 2, NULL);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	buf = prog_build_buf(test, a, PROG_XFER, &size);

	ret = prog_get(fx, a, 0, PAGE_SIZE, &rec[0], false);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (ret || wdmdma_test_rec_calls(&rec[0]) != 1)
		goto out;

	wdmdma_inject_map_error(a, -ENOMEM, 1);
	ret = prog_build(fx, a, PROG_OFF, PROG_XFER, &rec[1], true, buf, size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (ret)
		goto out;
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.map_retries, 1);

	/*
	 * The back-off has not run yet (it is at least a jiffy away, and
	 * its work item could not run before this thread sleeps): only the
	 * Put can have the request retried by the time the flush returns.
	 */
	wdmdma_put_sg_list(a, rec[0].sgl, false);
	rec[0].sgl = NULL;
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[1]), 1,
			    "the Put did not retry the waiting request");
	if (wdmdma_test_rec_calls(&rec[1]) == 1 && rec[1].sgl)
		prog_check_in_place(test, fx, rec[1].sgl, PROG_OFF, PROG_XFER);
out:
	prog_finish(a, rec, 2, true);
}

/* --- Waiting only for what is short (issue item 8) ---------------------- */

/*
 * Gets wait for memory (reserve in use, allocations failing). A Build
 * needs no memory and, on a 64-bit scatter/gather adapter, no map
 * registers: it runs before it returns. The Gets keep their order.
 */
static void progress_test_build_passes_memory_waiters(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	unsigned int i;
	size_t size;
	void *buf;
	int ret;

	rec = wdmdma_test_recs(test, 4, &fx->seq);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	buf = prog_build_buf(test, a, PROG_XFER, &size);
	wdmdma_set_fail_alloc(a, 100);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test, prog_get(fx, a, PROG_OFF, PROG_XFER,
						   &rec[i], true),
				    0, "Get %u", i);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 2);

	ret = prog_build(fx, a, PROG_OFF, PROG_XFER, &rec[3], true, buf, size);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[3]), 1,
			    "the Build waited behind Gets waiting for memory");
	if (wdmdma_test_rec_calls(&rec[3]) == 1) {
		KUNIT_EXPECT_PTR_EQ(test, rec[3].task, current);
		KUNIT_EXPECT_EQ(test, rec[3].order, 1);
		prog_check_in_place(test, fx, rec[3].sgl, PROG_OFF, PROG_XFER);
		st = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st.built, 1);
		KUNIT_EXPECT_EQ(test, st.deferred, 2);
		KUNIT_EXPECT_EQ(test, st.queue_depth, 2);
	}

	/* The Gets still run one by one, in order. */
	for (i = 0; i < 2; i++) {
		if (wdmdma_test_rec_calls(&rec[i]) != 1 || !rec[i].sgl)
			break;
		wdmdma_put_sg_list(a, rec[i].sgl, true);
		rec[i].sgl = NULL;
		KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(&rec[i + 1]),
				      "Get %u never called back", i + 1);
		KUNIT_EXPECT_EQ(test, rec[i + 1].order, i + 2);
	}
	prog_finish(a, rec, 4, true);
}

/*
 * One-element adapter with four map registers. B0 holds two; B1 needs
 * three and waits; B2 needs two, which are free, but must not overtake
 * B1. After B0's Put, B1 runs and B2 still waits (one register left);
 * after B1's Put, B2 runs.
 */
static void progress_test_map_register_fifo(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	void *buf[3];
	size_t size;
	int i;

	rec = wdmdma_test_recs(test, 3, &fx->seq);
	a = wdmdma_test_adapter(test, fx->dev, false, 64, PROG_LEN, 1, 0);
	for (i = 0; i < 3; i++)
		buf[i] = prog_build_buf(test, a, PROG_LEN, &size);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.map_regs_total, PROG_PAGES);

	KUNIT_EXPECT_EQ(test, prog_build(fx, a, 0, 2 * PAGE_SIZE, &rec[0],
					 true, buf[0], size), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	KUNIT_EXPECT_EQ(test, prog_build(fx, a, PAGE_SIZE, 3 * PAGE_SIZE,
					 &rec[1], true, buf[1], size), 0);
	KUNIT_EXPECT_EQ(test, prog_build(fx, a, 2 * PAGE_SIZE, 2 * PAGE_SIZE,
					 &rec[2], true, buf[2], size), 0);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(&rec[2]), 0,
			    "B2 overtook B1 for map registers");
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 2);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 2);
	if (wdmdma_test_rec_calls(&rec[0]) != 1 || !rec[0].sgl)
		goto out;

	wdmdma_put_sg_list(a, rec[0].sgl, true);
	rec[0].sgl = NULL;
	KUNIT_EXPECT_TRUE(test, wdmdma_test_rec_wait(&rec[1]));
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 0);
	if (wdmdma_test_rec_calls(&rec[1]) != 1 || !rec[1].sgl)
		goto out;
	KUNIT_EXPECT_TRUE(test, prog_dev_sees(rec[1].sgl, fx->va + PAGE_SIZE,
					      3 * PAGE_SIZE));
	wdmdma_put_sg_list(a, rec[1].sgl, true);
	rec[1].sgl = NULL;
	KUNIT_EXPECT_TRUE(test, wdmdma_test_rec_wait(&rec[2]));
	KUNIT_EXPECT_EQ(test, rec[0].order, 0);
	KUNIT_EXPECT_EQ(test, rec[1].order, 1);
	KUNIT_EXPECT_EQ(test, rec[2].order, 2);
out:
	prog_finish(a, rec, 3, true);
}

/* --- Transfer-context reuse (issue item 11) ----------------------------- */

struct prog_race {
	struct wdmdma_adapter *a;
	struct wdmdma_mdl *mdl;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_test_rec rec[2];
	struct completion go[2];
	struct completion done[2];
	atomic_t arrived;
	int ret[2];
	bool stop;
	bool spin;
};

struct prog_racer {
	struct prog_race *race;
	int idx;
};

/* Submit the shared context once per round, as close to the other as can be. */
static int prog_racer_fn(void *data)
{
	struct prog_racer *racer = data;
	struct prog_race *r = racer->race;
	unsigned int round;
	unsigned long deadline;

	for (round = 0; ; round++) {
		wait_for_completion(&r->go[round & 1]);
		if (READ_ONCE(r->stop))
			break;
		if (r->spin) {
			atomic_inc(&r->arrived);
			deadline = jiffies + msecs_to_jiffies(20);
			while (atomic_read(&r->arrived) < 2 &&
			       time_before(jiffies, deadline))
				cpu_relax();
		}
		r->ret[racer->idx] =
			wdmdma_get_sg_list_ex(r->a, r->ctx, r->mdl, PROG_OFF,
					      PROG_XFER, 0, wdmdma_test_rec_cb,
					      &r->rec[racer->idx], true, NULL);
		complete(&r->done[racer->idx]);
	}
	return 0;
}

/*
 * Two threads submit the same idle transfer context at once while Gets
 * must wait (reserve in use, allocations failing): exactly one of the two
 * queues, the other gets -EINVAL and counts a verifier error. Repeated.
 */
static void progress_test_ctx_reuse_race(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct task_struct *task[2] = { };
	struct prog_racer racer[2];
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st0, st;
	struct prog_race *r;
	unsigned int round, next = 0, queued, refused;
	unsigned long wait = msecs_to_jiffies(WDMDMA_TEST_WAIT_MS);
	unsigned int cpu[2];
	bool ok = true;
	int i;

	rec = wdmdma_test_recs(test, 1, NULL);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->ctx = kunit_kzalloc(test, sizeof(*r->ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r->ctx);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	wdmdma_set_fail_alloc(a, 100);
	KUNIT_EXPECT_EQ(test, prog_get(fx, a, 0, PAGE_SIZE, rec, true), 0);
	if (wdmdma_test_rec_calls(rec) != 1)
		goto out;

	r->a = a;
	r->mdl = fx->mdl;
	/* Two CPUs: each thread on its own, spinning until both are there. */
	cpu[0] = cpumask_first(cpu_online_mask);
	cpu[1] = cpumask_next(cpu[0], cpu_online_mask);
	r->spin = cpu[1] < nr_cpu_ids;
	for (i = 0; i < 2; i++) {
		init_completion(&r->go[i]);
		init_completion(&r->done[i]);
	}
	for (i = 0; i < 2; i++) {
		racer[i].race = r;
		racer[i].idx = i;
		task[i] = kthread_create(prog_racer_fn, &racer[i],
					 "wdmdma-race/%d", i);
		if (IS_ERR(task[i])) {
			KUNIT_FAIL(test, "kthread_create: %ld",
				   PTR_ERR(task[i]));
			task[i] = NULL;
			goto stop;
		}
		get_task_struct(task[i]);
		if (r->spin)
			kthread_bind(task[i], cpu[i]);
	}
	for (i = 0; i < 2; i++)
		wake_up_process(task[i]);

	st0 = wdmdma_test_stats(a);
	for (round = 0; round < PROG_RACE_ITERS && ok; round++) {
		wdmdma_init_xfer_ctx(a, r->ctx);
		for (i = 0; i < 2; i++) {
			wdmdma_test_rec_init(&r->rec[i], NULL);
			reinit_completion(&r->done[i]);
			r->ret[i] = 1;
		}
		atomic_set(&r->arrived, 0);
		complete_all(&r->go[round & 1]);
		for (i = 0; i < 2; i++) {
			if (!wait_for_completion_timeout(&r->done[i], wait)) {
				KUNIT_FAIL(test, "round %u: thread %d stuck",
					   round, i);
				ok = false;
			}
		}
		/* Both are done with this round: they wait for the next. */
		reinit_completion(&r->go[round & 1]);
		next = round + 1;
		if (!ok)
			break;
		queued = (r->ret[0] == 0) + (r->ret[1] == 0);
		refused = (r->ret[0] == -EINVAL) + (r->ret[1] == -EINVAL);
		if (queued != 1 || refused != 1) {
			KUNIT_FAIL(test,
				   "round %u: the two submits of one context returned %d and %d",
				   round, r->ret[0], r->ret[1]);
			ok = false;
		}
		if (wdmdma_test_rec_calls(&r->rec[0]) ||
		    wdmdma_test_rec_calls(&r->rec[1])) {
			KUNIT_FAIL(test, "round %u: a callback ran", round);
			ok = false;
		}
		if (!wdmdma_cancel(a, r->ctx)) {
			KUNIT_FAIL(test, "round %u: nothing to cancel", round);
			ok = false;
		}
		st = wdmdma_test_stats(a);
		if (st.queue_depth) {
			KUNIT_FAIL(test, "round %u: %llu still queued", round,
				   st.queue_depth);
			ok = false;
		}
	}
	if (ok) {
		st = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st.verifier_errors,
				st0.verifier_errors + PROG_RACE_ITERS);
		KUNIT_EXPECT_EQ(test, st.cancelled,
				st0.cancelled + PROG_RACE_ITERS);
	}
stop:
	WRITE_ONCE(r->stop, true);
	complete_all(&r->go[next & 1]);
	for (i = 0; i < 2; i++) {
		if (!task[i])
			continue;
		kthread_stop(task[i]);
		put_task_struct(task[i]);
	}
out:
	prog_finish(a, rec, 1, true);
}

/*
 * A BuildEx waits in its context and its buffer (every mapping fails for
 * space until disarmed). The same context and buffer submitted again, for
 * a shorter range, is refused with -EINVAL and a verifier error, and the
 * refusal leaves the waiting request alone: once mapping space is back it
 * runs with its own list.
 */
static void progress_test_ctx_reuse_same_buffer(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_xfer_ctx *ctx;
	struct wdmdma_test_rec *rec;
	struct wdmdma_stats st0, st;
	struct wdmdma_adapter *a;
	size_t size;
	void *buf;
	int ret;

	rec = wdmdma_test_recs(test, 2, NULL);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	buf = prog_build_buf(test, a, PROG_LEN, &size);
	wdmdma_init_xfer_ctx(a, ctx);

	wdmdma_inject_map_error(a, -ENOMEM, -1);
	ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, PROG_OFF, PROG_XFER, 0,
				      wdmdma_test_rec_cb, &rec[0], true, buf,
				      size, NULL);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 0);
	st0 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st0.queue_depth, 1);
	if (ret)
		goto out;

	ret = wdmdma_build_sg_list_ex(a, ctx, fx->mdl, 0, 100, 0,
				      wdmdma_test_rec_cb, &rec[1], true, buf,
				      size, NULL);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, st0.verifier_errors + 1);

	/* Mapping space is back: the back-off retries the first one. */
	wdmdma_inject_map_error(a, 0, 0);
	KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(&rec[0]),
			      "the waiting BuildEx never called back");
	KUNIT_EXPECT_NOT_NULL_MSG(test, rec[0].sgl,
				  "the refused reuse broke the waiting request");
	if (wdmdma_test_rec_calls(&rec[0]) == 1 && rec[0].sgl)
		prog_check_in_place(test, fx, rec[0].sgl, PROG_OFF, PROG_XFER);
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 0);
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.failed, 0);
out:
	prog_finish(a, rec, 2, true);
}

/* --- Segment boundary and MDL consistency (issue item 13) --------------- */

/*
 * A device with a 64 KiB segment boundary, four physically contiguous
 * pages across a 64 KiB line, one bvec each: merged into two elements,
 * none crossing the line.
 */
static void progress_test_seg_boundary(struct kunit *test)
{
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_mdl *mdl;
	struct bio_vec bv[4];
	struct page *block;
	unsigned int order = get_order(2 * SZ_64K);
	unsigned int first = SZ_64K / PAGE_SIZE - 2;
	u64 start;
	u32 i;
	int ret;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, prog_bnd_pdev);
	KUNIT_ASSERT_EQ(test, dma_get_seg_boundary(&prog_bnd_pdev->dev),
			(unsigned long)PROG_BOUNDARY);
	rec = wdmdma_test_recs(test, 1, NULL);
	block = alloc_pages(GFP_KERNEL, order);
	KUNIT_ASSERT_NOT_NULL(test, block);
	for (i = 0; i < 4; i++)
		bvec_set_page(&bv[i], block + first + i, PAGE_SIZE, 0);
	mdl = wdmdma_mdl_from_bvecs(bv, 4, GFP_KERNEL);
	if (!mdl) {
		__free_pages(block, order);
		KUNIT_ASSERT_TRUE_MSG(test, false, "out of memory");
	}
	start = page_to_phys(block + first);
	KUNIT_EXPECT_NE(test, start & ~(u64)PROG_BOUNDARY,
			(start + 4 * PAGE_SIZE - 1) & ~(u64)PROG_BOUNDARY);

	a = wdmdma_test_adapter(test, &prog_bnd_pdev->dev, true, 64, PROG_MAX,
				1, 0);
	ret = wdmdma_get_sg_list(a, mdl, wdmdma_mdl_va(mdl), 4 * PAGE_SIZE,
				 wdmdma_test_rec_cb, rec, true);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
	if (!ret && wdmdma_test_rec_calls(rec) == 1 && rec->sgl) {
		const struct wdmdma_sg_list *sgl = rec->sgl;

		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl),
				4 * PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, sgl->nr_elements, 2);
		for (i = 0; i < sgl->nr_elements; i++) {
			u64 s = sgl->elements[i].addr;
			u64 e = s + sgl->elements[i].len - 1;

			KUNIT_EXPECT_EQ_MSG(test, s & ~(u64)PROG_BOUNDARY,
					    e & ~(u64)PROG_BOUNDARY,
					    "element %u (%llx..%llx) crosses the boundary",
					    i, s, e);
		}
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_addr_at(sgl, 0), start);
		KUNIT_EXPECT_EQ(test,
				wdmdma_test_sgl_addr_at(sgl, 3 * PAGE_SIZE),
				start + 3 * PAGE_SIZE);
	}
	prog_finish(a, rec, 1, true);
	wdmdma_mdl_free(mdl);
	__free_pages(block, order);
}

/*
 * Get [@off, @off + @len) of the MDL of @bv on @a: one callback with a
 * list of @nr elements, each at most @max bytes, none across the 64 KiB
 * line, that map the range as one physically contiguous run from @start
 * (no IOMMU: bus addresses are physical ones).
 */
static void prog_expect_pieces(struct kunit *test, struct wdmdma_adapter *a,
			       const struct bio_vec *bv, unsigned int nr_bv,
			       u32 off, u32 len, u64 start, u32 nr, u32 max,
			       const char *what)
{
	struct wdmdma_test_rec *rec = wdmdma_test_recs(test, 1, NULL);
	struct wdmdma_mdl *mdl = wdmdma_mdl_from_bvecs(bv, nr_bv, GFP_KERNEL);
	u64 at = start;
	int ret;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, mdl);
	ret = wdmdma_get_sg_list(a, mdl, wdmdma_mdl_va(mdl) + off, len,
				 wdmdma_test_rec_cb, rec, true);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(rec), 1, "%s", what);
	if (!ret && wdmdma_test_rec_calls(rec) == 1 && rec->sgl) {
		const struct wdmdma_sg_list *sgl = rec->sgl;

		KUNIT_EXPECT_EQ_MSG(test, sgl->nr_elements, nr, "%s", what);
		KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_sgl_bytes(sgl), len,
				    "%s", what);
		for (i = 0; i < sgl->nr_elements; i++) {
			u64 s = sgl->elements[i].addr;
			u64 e = s + sgl->elements[i].len - 1;

			KUNIT_EXPECT_EQ_MSG(test, s, at, "%s: element %u", what,
					    i);
			KUNIT_EXPECT_LE_MSG(test, sgl->elements[i].len, max,
					    "%s: element %u", what, i);
			KUNIT_EXPECT_EQ_MSG(test, s & ~(u64)PROG_BOUNDARY,
					    e & ~(u64)PROG_BOUNDARY,
					    "%s: element %u (%llx..%llx) crosses the boundary",
					    what, i, s, e);
			at = e + 1;
		}
		wdmdma_put_sg_list(a, rec->sgl, true);
	}
	wdmdma_mdl_free(mdl);
}

/*
 * The mapping path's shortcuts: a range inside one bio_vec of physically
 * contiguous pages is mapped as one piece (up to 4 pages) and longer lists
 * are filled bio_vec by bio_vec; a piece that must be split, across the
 * device's 64 KiB segment boundary or longer than its maximum segment, is
 * split as the page-by-page walk splits it; pieces that follow one
 * another are joined; a range that starts inside a piece starts there.
 */
static void progress_test_quick_pieces(struct kunit *test)
{
	struct device *dev = &prog_bnd_pdev->dev;
	unsigned int order = get_order(2 * SZ_64K), max_seg;
	unsigned int line = SZ_64K / PAGE_SIZE;	/* first page past the line */
	struct wdmdma_adapter *a;
	struct bio_vec bv[8];
	struct page *block;
	u64 base;
	u32 i;

	if (PAGE_SIZE > SZ_4K)
		kunit_skip(test, "needs 16 pages below the 64 KiB line");
	KUNIT_ASSERT_EQ(test, dma_get_seg_boundary(dev),
			(unsigned long)PROG_BOUNDARY);
	block = alloc_pages(GFP_KERNEL, order);
	KUNIT_ASSERT_NOT_NULL(test, block);
	/* Naturally aligned: the line is @line pages in. */
	base = page_to_phys(block);
	max_seg = dma_get_max_seg_size(dev);

	a = wdmdma_test_adapter(test, dev, true, 64, 16 * PAGE_SIZE, 1, 0);
	bvec_set_page(&bv[0], block + line - 2, 4 * PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 1, 0, 4 * PAGE_SIZE,
			   base + (line - 2) * PAGE_SIZE, 2, 2 * PAGE_SIZE,
			   "4 pages in one piece across the line");
	bvec_set_page(&bv[0], block + line - 4, 8 * PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 1, 0, 8 * PAGE_SIZE,
			   base + (line - 4) * PAGE_SIZE, 2, 4 * PAGE_SIZE,
			   "8 pages in one piece across the line");
	for (i = 0; i < 8; i++)
		bvec_set_page(&bv[i], block + i, PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 8, 0, 8 * PAGE_SIZE, base, 1,
			   8 * PAGE_SIZE, "8 contiguous pages in 8 pieces");
	bvec_set_page(&bv[0], block, 8 * PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 1, 100, 2 * PAGE_SIZE, base + 100, 1,
			   2 * PAGE_SIZE, "2 pages from byte 100 of a piece");
	prog_expect_pieces(test, a, bv, 1, PAGE_SIZE + 100, 6 * PAGE_SIZE,
			   base + PAGE_SIZE + 100, 1, 6 * PAGE_SIZE,
			   "6 pages from byte 100 of its second page");
	/* Exactly up to the line, one byte over it, and from it. */
	bvec_set_page(&bv[0], block + line - 2, 4 * PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 1, 0, 2 * PAGE_SIZE,
			   base + (line - 2) * PAGE_SIZE, 1, 2 * PAGE_SIZE,
			   "2 pages ending at the line");
	prog_expect_pieces(test, a, bv, 1, 0, 2 * PAGE_SIZE + 1,
			   base + (line - 2) * PAGE_SIZE, 2, 2 * PAGE_SIZE,
			   "2 pages and a byte, across the line");
	prog_expect_pieces(test, a, bv, 1, 2 * PAGE_SIZE, 2 * PAGE_SIZE,
			   base + line * PAGE_SIZE, 1, 2 * PAGE_SIZE,
			   "2 pages from the line");
	/* Contiguous one-page pieces across the line: split at it. */
	for (i = 0; i < 8; i++)
		bvec_set_page(&bv[i], block + line - 4 + i, PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 8, 0, 8 * PAGE_SIZE,
			   base + (line - 4) * PAGE_SIZE, 2, 4 * PAGE_SIZE,
			   "8 one-page pieces across the line");
	/* A range that starts exactly where the first piece ends. */
	for (i = 0; i < 8; i++)
		bvec_set_page(&bv[i], block + 2 * i, PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 8, PAGE_SIZE, PAGE_SIZE,
			   base + 2 * PAGE_SIZE, 1, PAGE_SIZE,
			   "the second piece alone");
	wdmdma_destroy_adapter(a);

	/* Segments of at most 2 pages: the device's, taken at creation. */
	dma_set_max_seg_size(dev, 2 * PAGE_SIZE);
	a = wdmdma_test_adapter(test, dev, true, 64, 16 * PAGE_SIZE, 1, 0);
	dma_set_max_seg_size(dev, max_seg);
	bvec_set_page(&bv[0], block, 8 * PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 1, 0, 8 * PAGE_SIZE, base, 4,
			   2 * PAGE_SIZE, "8 pages in one piece, 2-page segments");
	prog_expect_pieces(test, a, bv, 1, 0, 3 * PAGE_SIZE, base, 2,
			   2 * PAGE_SIZE, "3 pages in one piece, 2-page segments");
	for (i = 0; i < 8; i++)
		bvec_set_page(&bv[i], block + i, PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 8, 0, 8 * PAGE_SIZE, base, 4,
			   2 * PAGE_SIZE, "8 contiguous pages, 2-page segments");
	bvec_set_page(&bv[0], block, 8 * PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 1, 0, 2 * PAGE_SIZE, base, 1,
			   2 * PAGE_SIZE, "a whole 2-page segment");
	prog_expect_pieces(test, a, bv, 1, 0, 2 * PAGE_SIZE + 1, base, 2,
			   2 * PAGE_SIZE, "a 2-page segment and a byte");
	wdmdma_destroy_adapter(a);

	/*
	 * Segments of at most 4 pages, four contiguous 3-page pieces: each
	 * segment is filled before the next starts (3, not 4, elements),
	 * whichever way the list is made.
	 */
	dma_set_max_seg_size(dev, 4 * PAGE_SIZE);
	a = wdmdma_test_adapter(test, dev, true, 64, 16 * PAGE_SIZE, 1, 0);
	dma_set_max_seg_size(dev, max_seg);
	for (i = 0; i < 4; i++)
		bvec_set_page(&bv[i], block + 3 * i, 3 * PAGE_SIZE, 0);
	prog_expect_pieces(test, a, bv, 4, 0, 12 * PAGE_SIZE, base, 3,
			   4 * PAGE_SIZE, "four 3-page pieces, 4-page segments");
	wdmdma_destroy_adapter(a);
	__free_pages(block, order);
}

/*
 * Calculate, Get and Build on @mdl for [0, @len): each is refused with
 * -EINVAL and counted by the verifier; no callback.
 */
static void prog_expect_refused(struct kunit *test, struct wdmdma_adapter *a,
				struct wdmdma_mdl *mdl, u32 len,
				struct wdmdma_test_rec *rec, void *buf,
				size_t size, const char *what)
{
	struct wdmdma_stats st0, st1;
	unsigned int nregs;
	size_t need;
	int ret;

	st0 = wdmdma_test_stats(a);
	ret = wdmdma_calculate_sg_list(a, mdl, wdmdma_mdl_va(mdl), len, &need,
				       &nregs);
	KUNIT_EXPECT_EQ_MSG(test, ret, -EINVAL, "Calculate, %s", what);
	ret = wdmdma_get_sg_list(a, mdl, wdmdma_mdl_va(mdl), len,
				 wdmdma_test_rec_cb, rec, true);
	KUNIT_EXPECT_EQ_MSG(test, ret, -EINVAL, "Get, %s", what);
	if (!ret && wdmdma_test_rec_calls(rec) && rec->sgl) {
		wdmdma_put_sg_list(a, rec->sgl, true);
		wdmdma_test_rec_init(rec, NULL);
	}
	ret = wdmdma_build_sg_list(a, mdl, wdmdma_mdl_va(mdl), len,
				   wdmdma_test_rec_cb, rec, true, buf, size);
	KUNIT_EXPECT_EQ_MSG(test, ret, -EINVAL, "Build, %s", what);
	if (!ret && wdmdma_test_rec_calls(rec) && rec->sgl) {
		wdmdma_put_sg_list(a, rec->sgl, true);
		wdmdma_test_rec_init(rec, NULL);
	}
	wdmdma_flush_adapter(a);
	KUNIT_EXPECT_EQ_MSG(test, wdmdma_test_rec_calls(rec), 0, "%s", what);
	st1 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ_MSG(test, st1.verifier_errors, st0.verifier_errors + 3,
			    "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, st1.outstanding, 0, "%s", what);
}

/*
 * MDLs built by hand whose byte count disagrees with their pages: larger,
 * smaller, and a smaller first MDL of a chain (whose pages would otherwise
 * be mapped in place of the next MDL's).
 */
static void progress_test_mdl_byte_count(struct kunit *test)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_mdl *m1, *m2;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	size_t size;
	void *buf;
	int i;

	rec = wdmdma_test_recs(test, 1, NULL);
	m1 = kunit_kzalloc(test, wdmdma_mdl_size(2), GFP_KERNEL);
	m2 = kunit_kzalloc(test, wdmdma_mdl_size(1), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m1);
	KUNIT_ASSERT_NOT_NULL(test, m2);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	buf = prog_build_buf(test, a, PROG_LEN, &size);

	wdmdma_mdl_init(m1, 2);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test, wdmdma_mdl_add_page(m1, fx->vb.pages[i],
							  PAGE_SIZE, 0), 0);
	wdmdma_mdl_init(m2, 1);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_add_page(m2, fx->vb.pages[2],
						  PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_mdl_byte_count(m1), 2 * PAGE_SIZE);

	m1->byte_count = 3 * PAGE_SIZE;
	prog_expect_refused(test, a, m1, 2 * PAGE_SIZE, rec, buf, size,
			    "byte count above its pages");
	m1->byte_count = 2 * PAGE_SIZE - 100;
	prog_expect_refused(test, a, m1, PAGE_SIZE, rec, buf, size,
			    "byte count below its pages");
	m1->byte_count = PAGE_SIZE;
	m1->next = m2;
	prog_expect_refused(test, a, m1, 2 * PAGE_SIZE, rec, buf, size,
			    "chain, first byte count below its pages");
	prog_finish(a, rec, 1, true);
}

/* --- No high-order allocation with interrupts off (issue item 14) ------- */

struct prog_irq {
	struct hrtimer timer;
	struct completion done;
	struct wdmdma_adapter *a;
	struct wdmdma_mdl *mdl;
	u32 len;
	struct wdmdma_test_rec *rec;
	bool hardirq;
	int ret;
};

static enum hrtimer_restart prog_irq_fn(struct hrtimer *timer)
{
	struct prog_irq *pi = container_of(timer, struct prog_irq, timer);

	pi->hardirq = in_hardirq();
	pi->ret = wdmdma_get_sg_list(pi->a, pi->mdl, wdmdma_mdl_va(pi->mdl),
				     pi->len, wdmdma_test_rec_cb, pi->rec,
				     true);
	complete(&pi->done);
	return HRTIMER_NORESTART;
}

/* Get @len bytes of @pi->mdl from a hard interrupt; true if it ran. */
static bool prog_get_in_irq(struct kunit *test, struct prog_irq *pi, u32 len,
			    struct wdmdma_test_rec *rec)
{
	bool done;

	pi->len = len;
	pi->rec = rec;
	pi->ret = 1;
	init_completion(&pi->done);
	wdmdma_hrtimer_setup(&pi->timer, prog_irq_fn, CLOCK_MONOTONIC,
			     HRTIMER_MODE_REL);
	hrtimer_start(&pi->timer, ms_to_ktime(1), HRTIMER_MODE_REL);
	done = wait_for_completion_timeout(&pi->done,
					   msecs_to_jiffies(WDMDMA_TEST_WAIT_MS));
	hrtimer_cancel(&pi->timer);
	KUNIT_EXPECT_TRUE(test, done);
	KUNIT_EXPECT_TRUE(test, pi->hardirq);
	return done;
}

/*
 * A list of PROG_BIG_PAGES pages is larger than a page. In process
 * context Get allocates it; from a hard interrupt it takes the reserve
 * instead. A one-page list is still allocated from a hard interrupt.
 */
static void progress_test_hardirq_no_high_order(struct kunit *test)
{
	struct wdmdma_stats st0, st1;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_mdl *mdl;
	struct prog_irq *pi;
	size_t size = 0;
	void *va;

	rec = wdmdma_test_recs(test, 3, NULL);
	pi = kunit_kzalloc(test, sizeof(*pi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pi);
	va = vmalloc(PROG_BIG_MAX);
	KUNIT_ASSERT_NOT_NULL(test, va);
	mdl = wdmdma_mdl_alloc(va, PROG_BIG_MAX, GFP_KERNEL);
	if (!mdl || wdmdma_mdl_build_for_kernel_buffer(mdl)) {
		wdmdma_mdl_free(mdl);
		vfree(va);
		KUNIT_ASSERT_TRUE_MSG(test, false, "MDL failed");
	}
	a = wdmdma_test_adapter(test, &prog_pdev->dev, true, 64, PROG_BIG_MAX,
				1, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_calculate_sg_list(a, mdl, va,
						       PROG_BIG_MAX, &size,
						       NULL), 0);
	KUNIT_EXPECT_GT_MSG(test, size, PAGE_SIZE,
			    "the big list is not larger than a page");
	pi->a = a;
	pi->mdl = mdl;

	/* Process context: a normal allocation. */
	st0 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, wdmdma_get_sg_list(a, mdl, va, PROG_BIG_MAX,
						 wdmdma_test_rec_cb, &rec[0],
						 true), 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	st1 = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st1.allocated, st0.allocated + 1);
	if (wdmdma_test_rec_calls(&rec[0]) == 1 && rec[0].sgl) {
		wdmdma_put_sg_list(a, rec[0].sgl, true);
		rec[0].sgl = NULL;
	}

	/* Hard interrupt, big list: the reserve, no allocation. */
	st0 = wdmdma_test_stats(a);
	if (prog_get_in_irq(test, pi, PROG_BIG_MAX, &rec[1])) {
		KUNIT_EXPECT_EQ(test, pi->ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 1);
		KUNIT_EXPECT_TRUE(test, rec[1].hardirq);
		st1 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ_MSG(test, st1.allocated, st0.allocated,
				    "allocated %zu bytes with interrupts off",
				    size);
		KUNIT_EXPECT_EQ(test, st1.reserve, st0.reserve + 1);
		if (wdmdma_test_rec_calls(&rec[1]) == 1 && rec[1].sgl) {
			KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(rec[1].sgl),
					PROG_BIG_MAX);
			wdmdma_put_sg_list(a, rec[1].sgl, true);
			rec[1].sgl = NULL;
		}
	}

	/* Hard interrupt, one-page list: allocated as usual. */
	st0 = wdmdma_test_stats(a);
	if (prog_get_in_irq(test, pi, PAGE_SIZE, &rec[2])) {
		KUNIT_EXPECT_EQ(test, pi->ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[2]), 1);
		st1 = wdmdma_test_stats(a);
		KUNIT_EXPECT_EQ(test, st1.allocated, st0.allocated + 1);
	}
	prog_finish(a, rec, 3, true);
	wdmdma_mdl_free(mdl);
	vfree(va);
}

/* --- Callbacks that call Get and Build ---------------------------------- */

struct prog_nest {
	struct prog_fixture *fx;
	struct wdmdma_adapter *a;
	void *buf;
	size_t size;
	struct wdmdma_test_rec *build_rec;
	struct wdmdma_test_rec *get_rec;
	int build_ret;
	int get_ret;
	int build_calls;	/* Build's callbacks seen when Build returned */
};

static void prog_nest_hook(struct wdmdma_test_rec *rec)
{
	struct prog_nest *nest = rec->data;
	struct prog_fixture *fx = nest->fx;

	if (!rec->sgl)
		return;
	nest->build_ret = prog_build(fx, nest->a, 2 * PAGE_SIZE, PAGE_SIZE,
				     nest->build_rec, true, nest->buf,
				     nest->size);
	nest->build_calls = wdmdma_test_rec_calls(nest->build_rec);
	nest->get_ret = prog_get(fx, nest->a, 3 * PAGE_SIZE, PAGE_SIZE,
				 nest->get_rec, true);
}

/*
 * @deferred false: A's callback runs in Get; in it a Build and a Get both
 * run at once. @deferred true: A waits for the reserve and its callback
 * runs from the work item; in it the Build runs at once and the Get (no
 * memory, reserve held by A) waits, then runs after A's Put.
 */
static void prog_nested(struct kunit *test, bool deferred)
{
	struct prog_fixture *fx = test->priv;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct prog_nest *nest;
	struct wdmdma_test_rec *ra;
	int ret;

	/* rec[0]: holds the reserve; rec[1]: A; rec[2]: Build; rec[3]: Get */
	rec = wdmdma_test_recs(test, 4, &fx->seq);
	nest = kunit_kzalloc(test, sizeof(*nest), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, nest);
	a = wdmdma_test_adapter(test, fx->dev, true, 64, PROG_MAX, 1, 0);
	nest->fx = fx;
	nest->a = a;
	nest->buf = prog_build_buf(test, a, PAGE_SIZE, &nest->size);
	nest->build_rec = &rec[2];
	nest->get_rec = &rec[3];
	nest->build_ret = 1;
	nest->get_ret = 1;
	ra = &rec[1];
	ra->hook = prog_nest_hook;
	ra->data = nest;

	if (deferred) {
		wdmdma_set_fail_alloc(a, 100);
		KUNIT_EXPECT_EQ(test, prog_get(fx, a, 0, PAGE_SIZE, &rec[0],
					       true), 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[0]), 1);
	}
	ret = prog_get(fx, a, PAGE_SIZE, PAGE_SIZE, ra, true);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (ret)
		goto out;
	if (deferred) {
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(ra), 0);
		if (wdmdma_test_rec_calls(&rec[0]) != 1 || !rec[0].sgl)
			goto out;
		wdmdma_put_sg_list(a, rec[0].sgl, true);
		rec[0].sgl = NULL;
		if (!wdmdma_test_rec_wait(ra)) {
			KUNIT_FAIL(test, "A never called back");
			goto out;
		}
		KUNIT_EXPECT_PTR_NE(test, ra->task, current);
	} else {
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(ra), 1);
		KUNIT_EXPECT_PTR_EQ(test, ra->task, current);
	}
	KUNIT_ASSERT_NOT_NULL(test, ra->sgl);

	/* The nested Build ran inside A's callback, in A's context. */
	KUNIT_EXPECT_EQ(test, nest->build_ret, 0);
	KUNIT_EXPECT_EQ(test, nest->build_calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, rec[2].task, ra->task);
	if (rec[2].sgl)
		KUNIT_EXPECT_TRUE(test, prog_dev_sees(rec[2].sgl,
						      fx->va + 2 * PAGE_SIZE,
						      PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, nest->get_ret, 0);
	if (!deferred) {
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 1);
		KUNIT_EXPECT_PTR_EQ(test, rec[3].task, current);
	} else {
		/* The nested Get waits for the reserve A holds. */
		wdmdma_flush_adapter(a);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[3]), 0);
		wdmdma_put_sg_list(a, ra->sgl, true);
		ra->sgl = NULL;
		KUNIT_EXPECT_TRUE_MSG(test, wdmdma_test_rec_wait(&rec[3]),
				      "the nested Get never called back");
	}
	if (wdmdma_test_rec_calls(&rec[3]) == 1 && rec[3].sgl)
		KUNIT_EXPECT_TRUE(test, prog_dev_sees(rec[3].sgl,
						      fx->va + 3 * PAGE_SIZE,
						      PAGE_SIZE));
out:
	prog_finish(a, rec, 4, true);
}

static void progress_test_nested_immediate(struct kunit *test)
{
	prog_nested(test, false);
}

static void progress_test_nested_deferred(struct kunit *test)
{
	prog_nested(test, true);
}

/* --- Chained MDLs bounced for a device with a narrow bus ---------------- */

/*
 * A block of 2^PROG_HIGH_ORDER pages at or above @limit. The allocator
 * hands out low memory first, so whole blocks are tried to get past it
 * quickly; those below @limit are freed once one is found. NULL if none.
 */
static struct page *prog_high_block(u64 limit)
{
	static const unsigned int orders[] = { PROG_HIGH_ORDER };
	unsigned int order;

	return wdmdma_test_high_block(limit, orders, ARRAY_SIZE(orders),
				      PROG_HIGH_TRIES, U64_MAX, &order);
}

/*
 * Three chained MDLs, one page piece each, on pages the device's bus
 * (bus_dma_limit 28 bits) cannot reach, through a 32-bit adapter
 * (one-element if !@sg): every bus address is below 2^28 (one element if
 * !@sg), the device reads exactly the bytes of the three pieces and what
 * it writes lands in them after Put.
 */
static void prog_chained(struct kunit *test, bool sg)
{
	static const struct { unsigned int off, len; } piece[3] = {
		{ 1000, PAGE_SIZE - 1000 }, { 0, PAGE_SIZE }, { 0, 2000 },
	};
	const u32 skip = 500;
	const u32 len = piece[0].len - skip + piece[1].len + piece[2].len;
	static const unsigned int nth[3] = { 5, 2, 9 };	/* not adjacent */
	struct wdmdma_mdl *mdl[3] = { };
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats st;
	struct page *block, *pages[3];
	u8 *data, *seen;
	unsigned int i;
	int dir, ret;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, prog_lim_pdev);
	rec = wdmdma_test_recs(test, 1, NULL);
	data = kunit_kmalloc(test, len, GFP_KERNEL);
	seen = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	block = prog_high_block(DMA_BIT_MASK(PROG_BUS_BITS) + 1);
	KUNIT_ASSERT_NOT_NULL_MSG(test, block,
				  "no memory above 256 MiB (guest below 512 MiB?)");
	for (i = 0; i < 3; i++) {
		pages[i] = block + nth[i];
		mdl[i] = kunit_kzalloc(test, wdmdma_mdl_size(1), GFP_KERNEL);
		if (!mdl[i])
			goto free_block;
		wdmdma_mdl_init(mdl[i], 1);
		KUNIT_EXPECT_EQ(test, wdmdma_mdl_add_page(mdl[i], pages[i],
							  piece[i].len,
							  piece[i].off), 0);
		if (i)
			mdl[i - 1]->next = mdl[i];
	}

	a = wdmdma_test_adapter(test, &prog_lim_pdev->dev, sg, 32, PROG_LEN,
				1, 0);
	for (dir = 1; dir >= 0; dir--) {
		bool write = dir;
		u32 pos = 0;

		for (i = 0; i < 3; i++)
			wdmdma_test_fill(page_address(pages[i]), PAGE_SIZE,
					 0x40 + 16 * dir + i);
		/* The transfer's bytes, in order, as the buffer holds them. */
		memcpy(data, page_address(pages[0]) + piece[0].off + skip,
		       piece[0].len - skip);
		pos = piece[0].len - skip;
		for (i = 1; i < 3; i++) {
			memcpy(data + pos, page_address(pages[i]) + piece[i].off,
			       piece[i].len);
			pos += piece[i].len;
		}

		wdmdma_test_rec_init(rec, NULL);
		ret = wdmdma_get_sg_list(a, mdl[0], wdmdma_mdl_va(mdl[0]) + skip,
					 len, wdmdma_test_rec_cb, rec, write);
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
		if (ret || wdmdma_test_rec_calls(rec) != 1 || !rec->sgl)
			break;
		if (!sg)
			KUNIT_EXPECT_EQ(test, rec->sgl->nr_elements, 1);
		KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(rec->sgl), len);
		KUNIT_EXPECT_LE(test, wdmdma_test_sgl_max_addr(rec->sgl),
				DMA_BIT_MASK(PROG_BUS_BITS));
		st = wdmdma_test_stats(a);
		KUNIT_EXPECT_GE(test, st.map_regs_in_use,
				DIV_ROUND_UP(len, PAGE_SIZE));
		if (write) {
			wdmdma_test_dev_read(rec->sgl, seen, len);
			KUNIT_EXPECT_EQ(test, memcmp(seen, data, len), 0);
		} else {
			wdmdma_test_fill(data, len, 0x99);
			wdmdma_test_dev_write(rec->sgl, data, len);
		}
		wdmdma_put_sg_list(a, rec->sgl, write);
		rec->sgl = NULL;
		if (!write) {
			pos = piece[0].len - skip;
			KUNIT_EXPECT_EQ(test,
					memcmp(page_address(pages[0]) +
					       piece[0].off + skip, data, pos),
					0);
			for (i = 1; i < 3; i++) {
				KUNIT_EXPECT_EQ_MSG(test,
						    memcmp(page_address(pages[i]) +
							   piece[i].off,
							   data + pos,
							   piece[i].len),
						    0, "MDL %u", i);
				pos += piece[i].len;
			}
		}
	}
	st = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, st.bounced, 2);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0);
	prog_finish(a, rec, 1, true);
free_block:
	__free_pages(block, PROG_HIGH_ORDER);
}

static void progress_test_chained_bounce_one_element(struct kunit *test)
{
	prog_chained(test, false);
}

static void progress_test_chained_bounce_sg(struct kunit *test)
{
	prog_chained(test, true);
}

/* --- Suite -------------------------------------------------------------- */

/*
 * A test device like wdmdma_test_pdev_create()'s with DMA parameters of
 * its own (@parms if the platform core gave none), so that its segment
 * boundary is its own.
 */
static struct platform_device *
prog_pdev_create(const char *name, struct device_dma_parameters *parms)
{
	struct platform_device *pdev = wdmdma_test_pdev_create(name);

	if (IS_ERR(pdev))
		return pdev;
	if (pdev->dev.dma_parms == &wdmdma_test_dma_parms) {
		*parms = wdmdma_test_dma_parms;
		pdev->dev.dma_parms = parms;
	}
	return pdev;
}

static void prog_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(prog_lim_pdev);
	wdmdma_test_pdev_destroy(prog_bnd_pdev);
	wdmdma_test_pdev_destroy(prog_pdev);
	prog_lim_pdev = NULL;
	prog_bnd_pdev = NULL;
	prog_pdev = NULL;
}

static int prog_suite_init(struct kunit_suite *suite)
{
	int ret;

	prog_pdev = wdmdma_test_pdev_create("wdmdma-test-progress");
	prog_bnd_pdev = prog_pdev_create("wdmdma-test-progress-bnd",
					 &prog_bnd_parms);
	prog_lim_pdev = prog_pdev_create("wdmdma-test-progress-lim",
					 &prog_lim_parms);
	ret = PTR_ERR_OR_ZERO(prog_pdev) ?: PTR_ERR_OR_ZERO(prog_bnd_pdev) ?:
	      PTR_ERR_OR_ZERO(prog_lim_pdev);
	if (!ret) {
		/* 6.1 returns an error, 6.12 nothing: check the result. */
		dma_set_seg_boundary(&prog_bnd_pdev->dev, PROG_BOUNDARY);
		if (dma_get_seg_boundary(&prog_bnd_pdev->dev) != PROG_BOUNDARY)
			ret = -EIO;
	}
	if (ret) {
		prog_suite_exit(suite);
		return ret;
	}
	prog_lim_pdev->dev.bus_dma_limit = DMA_BIT_MASK(PROG_BUS_BITS);
	return 0;
}

static struct kunit_case prog_test_cases[] = {
	KUNIT_CASE(progress_test_permanent_get),
	KUNIT_CASE(progress_test_permanent_build),
	KUNIT_CASE(progress_test_transient_build),
	KUNIT_CASE(progress_test_transient_sync),
	KUNIT_CASE(progress_test_failed_ex_ctx_reusable),
	KUNIT_CASE(progress_test_transient_put_retries),
	KUNIT_CASE(progress_test_build_passes_memory_waiters),
	KUNIT_CASE(progress_test_map_register_fifo),
	KUNIT_CASE(progress_test_ctx_reuse_race),
	KUNIT_CASE(progress_test_ctx_reuse_same_buffer),
	KUNIT_CASE(progress_test_seg_boundary),
	KUNIT_CASE(progress_test_quick_pieces),
	KUNIT_CASE(progress_test_mdl_byte_count),
	KUNIT_CASE(progress_test_hardirq_no_high_order),
	KUNIT_CASE(progress_test_nested_immediate),
	KUNIT_CASE(progress_test_nested_deferred),
	KUNIT_CASE(progress_test_chained_bounce_one_element),
	KUNIT_CASE(progress_test_chained_bounce_sg),
	{ }
};

static struct kunit_suite prog_test_suite = {
	.name = "wdmdma_progress",
	.suite_init = prog_suite_init,
	.suite_exit = prog_suite_exit,
	.init = prog_init,
	.exit = prog_exit,
	.test_cases = prog_test_cases,
};

kunit_test_suite(prog_test_suite);

MODULE_DESCRIPTION("KUnit tests for wdmdma forward progress: failed and retried mappings, waiting by resource, context reuse");
MODULE_LICENSE("GPL");
