// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_build": wdmdma_build_sg_list() (Windows'
 * BuildScatterGatherList) allocates nothing. With fault injection armed
 * for the test task (scripts/guest/kunit.sh sets failslab and
 * fail_page_alloc to fail every allocation of a task whose make_it_fail
 * is set), Calculate + Build must still map the range and run the
 * callback, on SG and one-element adapters, direct and bounced, at once or
 * after waiting for map registers. A buffer one byte short of what
 * Calculate asked for is refused and nothing is mapped.
 *
 * Only transfers to the device are built while fault injection is armed:
 * DMA-API debug tracks device-writable mappings in a radix tree that
 * allocates, and a failure there would turn DMA-API debug off.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define BUILD_MAX	SZ_64K
#define BUILD_LEN	(3 * PAGE_SIZE)		/* data buffers */
#define BUILD_OFF	100			/* transfers start here ... */
#define BUILD_XFER	(BUILD_LEN - 200)	/* ... and are this long */

static struct platform_device *build_pdev;

struct build_buf {
	void *va;
	bool vmalloced;
	struct wdmdma_test_vbuf vb;	/* if vmalloced */
	struct wdmdma_mdl *mdl;
	void *list;		/* the Build buffer */
	size_t list_len;	/* what Calculate said */
};

static struct device *build_dev(struct kunit *test)
{
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, build_pdev);
	return &build_pdev->dev;
}

/*
 * A data buffer (discontiguous pages in vmalloc space, or kmalloc'd), its
 * MDL, and a Build buffer sized by Calculate for the test range.
 */
static void build_buf_init(struct kunit *test, struct wdmdma_adapter *a,
			   struct build_buf *b, bool vmalloced)
{
	unsigned int nregs;
	int ret;

	memset(b, 0, sizeof(*b));
	b->vmalloced = vmalloced;
	if (vmalloced)
		b->va = wdmdma_test_vbuf_alloc(&b->vb, BUILD_LEN / PAGE_SIZE);
	else
		b->va = kmalloc(BUILD_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->va);
	wdmdma_test_fill(b->va, BUILD_LEN, 0x5a);
	b->mdl = wdmdma_mdl_alloc(b->va, BUILD_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->mdl);
	KUNIT_ASSERT_EQ(test, wdmdma_mdl_build_for_kernel_buffer(b->mdl), 0);
	ret = wdmdma_calculate_sg_list(a, b->mdl, b->va + BUILD_OFF,
				       BUILD_XFER, &b->list_len, &nregs);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_GT(test, b->list_len, 0);
	b->list = kmalloc(b->list_len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->list);
}

static void build_buf_free(struct build_buf *b)
{
	kfree(b->list);
	wdmdma_mdl_free(b->mdl);
	if (b->vmalloced)
		wdmdma_test_vbuf_free(&b->vb);
	else
		kfree(b->va);
	memset(b, 0, sizeof(*b));
}

static int build_call(struct wdmdma_adapter *a, struct build_buf *b,
		      struct wdmdma_test_rec *rec, size_t list_len)
{
	return wdmdma_build_sg_list(a, b->mdl, b->va + BUILD_OFF, BUILD_XFER,
				    wdmdma_test_rec_cb, rec, true, b->list,
				    list_len);
}

/* Check what the device would read through @sgl against the buffer. */
static void build_check_data(struct kunit *test, struct build_buf *b,
			     struct wdmdma_sg_list *sgl)
{
	u8 *seen = kmalloc(BUILD_XFER, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, seen);
	KUNIT_EXPECT_EQ(test, wdmdma_test_sgl_bytes(sgl), BUILD_XFER);
	KUNIT_EXPECT_EQ(test, wdmdma_test_dev_read(sgl, seen, BUILD_XFER),
			BUILD_XFER);
	KUNIT_EXPECT_EQ(test, memcmp(seen, b->va + BUILD_OFF, BUILD_XFER), 0);
	kfree(seen);
}

/*
 * One Build with fault injection armed: returns 0, runs the callback
 * before returning, with a list inside the caller's buffer. Put is done
 * armed too.
 */
static void build_no_alloc(struct kunit *test, bool sg, bool vmalloced,
			   bool bounced)
{
	struct wdmdma_adapter *a;
	struct wdmdma_stats before, during, after;
	struct wdmdma_test_rec *rec;
	struct build_buf *b;
	int ret, calls;

	rec = wdmdma_test_recs(test, 1, NULL);
	b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	a = wdmdma_test_adapter(test, build_dev(test), sg, 64, BUILD_MAX, 1, 0);
	build_buf_init(test, a, b, vmalloced);
	before = wdmdma_test_stats(a);

	if (!wdmdma_test_fail_arm(test))
		goto out;
	ret = build_call(a, b, rec, b->list_len);
	calls = wdmdma_test_rec_calls(rec);
	wdmdma_test_fail_disarm();

	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, calls, 1);
	if (ret || calls != 1)
		goto out;
	KUNIT_EXPECT_PTR_EQ(test, rec->dev, build_dev(test));
	KUNIT_EXPECT_NULL(test, rec->irp);
	KUNIT_EXPECT_TRUE(test, (void *)rec->sgl >= b->list &&
			  (void *)rec->sgl < b->list + b->list_len);
	if (!sg)
		KUNIT_EXPECT_EQ(test, rec->sgl->nr_elements, 1);
	if (!vmalloced)
		KUNIT_EXPECT_EQ(test, rec->sgl->elements[0].addr,
				virt_to_phys(b->va + BUILD_OFF));
	build_check_data(test, b, rec->sgl);

	during = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, during.built, before.built + 1);
	KUNIT_EXPECT_EQ(test, during.allocated, before.allocated);
	KUNIT_EXPECT_EQ(test, during.reserve, before.reserve);
	KUNIT_EXPECT_EQ(test, during.outstanding, 1);
	KUNIT_EXPECT_EQ(test, during.bounced, before.bounced + bounced);
	if (bounced)
		KUNIT_EXPECT_GT(test, during.map_regs_in_use, 0);
	else
		KUNIT_EXPECT_EQ(test, during.map_regs_in_use, 0);

	if (wdmdma_test_fail_arm(test)) {
		wdmdma_put_sg_list(a, rec->sgl, true);
		wdmdma_test_fail_disarm();
	} else {
		wdmdma_put_sg_list(a, rec->sgl, true);
	}
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.outstanding, 0);
	KUNIT_EXPECT_EQ(test, after.map_regs_in_use, 0);
	KUNIT_EXPECT_EQ(test, after.verifier_errors, before.verifier_errors);
out:
	build_buf_free(b);
	wdmdma_destroy_adapter(a);
}

/* SG adapter, vmalloc buffer: one element per page run. */
static void build_test_no_alloc_sg(struct kunit *test)
{
	build_no_alloc(test, true, true, false);
}

/* One-element adapter, contiguous kmalloc buffer: mapped in place. */
static void build_test_no_alloc_nonsg_direct(struct kunit *test)
{
	build_no_alloc(test, false, false, false);
}

/* One-element adapter, discontiguous vmalloc buffer: bounced. */
static void build_test_no_alloc_nonsg_bounced(struct kunit *test)
{
	build_no_alloc(test, false, true, true);
}

/*
 * Map registers short: a second bounced Build waits (its wait record lives
 * in its buffer), still allocating nothing, and its callback runs once,
 * later and from another task, after the first list is Put.
 */
static void build_test_waits_without_alloc(struct kunit *test)
{
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct wdmdma_stats mid, end;
	struct build_buf *b;
	int ret[2] = { -1, -1 }, calls[2];
	bool ran = false;
	atomic_t seq;

	atomic_set(&seq, 0);
	rec = wdmdma_test_recs(test, 2, &seq);
	b = kunit_kcalloc(test, 2, sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	/* One chunk of map registers, just big enough for one transfer. */
	a = wdmdma_test_adapter(test, build_dev(test), false, 64, BUILD_XFER,
				1, 0);
	build_buf_init(test, a, &b[0], true);
	build_buf_init(test, a, &b[1], true);
	wdmdma_test_fill(b[1].va, BUILD_LEN, 0xc3);

	if (!wdmdma_test_fail_arm(test))
		goto out;
	ret[0] = build_call(a, &b[0], &rec[0], b[0].list_len);
	ret[1] = build_call(a, &b[1], &rec[1], b[1].list_len);
	calls[0] = wdmdma_test_rec_calls(&rec[0]);
	calls[1] = wdmdma_test_rec_calls(&rec[1]);
	wdmdma_test_fail_disarm();

	KUNIT_EXPECT_EQ(test, ret[0], 0);
	KUNIT_EXPECT_EQ(test, ret[1], 0);
	KUNIT_EXPECT_EQ(test, calls[0], 1);
	KUNIT_EXPECT_EQ(test, calls[1], 0);
	if (ret[0] || calls[0] != 1)
		goto out;
	mid = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, mid.queue_depth, ret[1] ? 0 : 1);
	KUNIT_EXPECT_EQ(test, mid.outstanding, 1);

	if (wdmdma_test_fail_arm(test)) {
		wdmdma_put_sg_list(a, rec[0].sgl, true);
		wdmdma_test_fail_disarm();
	} else {
		wdmdma_put_sg_list(a, rec[0].sgl, true);
	}
	if (ret[1])
		goto out;
	ran = wdmdma_test_rec_wait(&rec[1]);
	KUNIT_EXPECT_TRUE_MSG(test, ran, "waiting Build never called back");
	if (!ran)
		goto out;
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(&rec[1]), 1);
	KUNIT_EXPECT_EQ(test, rec[1].order, 1);
	KUNIT_EXPECT_PTR_NE(test, rec[1].task, current);
	KUNIT_EXPECT_FALSE(test, rec[1].hardirq);
	KUNIT_EXPECT_EQ(test, rec[1].sgl->nr_elements, 1);
	KUNIT_EXPECT_TRUE(test, (void *)rec[1].sgl >= b[1].list &&
			  (void *)rec[1].sgl < b[1].list + b[1].list_len);
	build_check_data(test, &b[1], rec[1].sgl);
	wdmdma_put_sg_list(a, rec[1].sgl, true);

	end = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, end.built, 2);
	KUNIT_EXPECT_EQ(test, end.deferred, 1);
	KUNIT_EXPECT_EQ(test, end.allocated, 0);
	KUNIT_EXPECT_EQ(test, end.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, end.outstanding, 0);
	KUNIT_EXPECT_EQ(test, end.map_regs_in_use, 0);
out:
	/* A request still waiting would be cancelled by destroy. */
	if (ret[1] == 0 && !ran)
		pr_info(WDMDMA_TEST_WARN_BEGIN);
	wdmdma_destroy_adapter(a);
	if (ret[1] == 0 && !ran)
		pr_info(WDMDMA_TEST_WARN_END);
	build_buf_free(&b[1]);
	build_buf_free(&b[0]);
}

/*
 * A Build buffer one byte short of Calculate's size is refused with
 * -ENOBUFS: the callback never runs and nothing is mapped or held.
 */
static void build_too_small(struct kunit *test, bool sg, bool vmalloced)
{
	struct wdmdma_stats before, after;
	struct wdmdma_test_rec *rec;
	struct wdmdma_adapter *a;
	struct build_buf *b;
	int ret;

	rec = wdmdma_test_recs(test, 1, NULL);
	b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	a = wdmdma_test_adapter(test, build_dev(test), sg, 64, BUILD_MAX, 1, 0);
	build_buf_init(test, a, b, vmalloced);
	before = wdmdma_test_stats(a);

	ret = build_call(a, b, rec, b->list_len - 1);
	KUNIT_EXPECT_EQ(test, ret, -ENOBUFS);
	wdmdma_flush_adapter(a);	/* a stray deferred callback has run */
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 0);
	after = wdmdma_test_stats(a);
	KUNIT_EXPECT_EQ(test, after.outstanding, 0);
	KUNIT_EXPECT_EQ(test, after.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, after.map_regs_in_use, 0);
	KUNIT_EXPECT_EQ(test, after.built, before.built);
	KUNIT_EXPECT_EQ(test, after.bounced, before.bounced);

	/* The exact size works. */
	ret = build_call(a, b, rec, b->list_len);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, wdmdma_test_rec_calls(rec), 1);
	if (!ret && wdmdma_test_rec_calls(rec))
		wdmdma_put_sg_list(a, rec->sgl, true);

	build_buf_free(b);
	wdmdma_destroy_adapter(a);
}

static void build_test_too_small_sg(struct kunit *test)
{
	build_too_small(test, true, true);
}

static void build_test_too_small_nonsg(struct kunit *test)
{
	build_too_small(test, false, true);
}

static int build_suite_init(struct kunit_suite *suite)
{
	build_pdev = wdmdma_test_pdev_create("wdmdma-test-build");
	return PTR_ERR_OR_ZERO(build_pdev);
}

static void build_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(build_pdev);
	build_pdev = NULL;
}

static struct kunit_case build_test_cases[] = {
	KUNIT_CASE(build_test_no_alloc_sg),
	KUNIT_CASE(build_test_no_alloc_nonsg_direct),
	KUNIT_CASE(build_test_no_alloc_nonsg_bounced),
	KUNIT_CASE(build_test_waits_without_alloc),
	KUNIT_CASE(build_test_too_small_sg),
	KUNIT_CASE(build_test_too_small_nonsg),
	{ }
};

static struct kunit_suite build_test_suite = {
	.name = "wdmdma_build",
	.suite_init = build_suite_init,
	.suite_exit = build_suite_exit,
	.test_cases = build_test_cases,
};

kunit_test_suite(build_test_suite);

MODULE_DESCRIPTION("KUnit tests: wdmdma_build_sg_list() allocates nothing");
MODULE_LICENSE("GPL");
