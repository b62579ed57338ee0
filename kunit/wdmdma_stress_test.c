// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_stress": four kernel threads share one adapter
 * (reserve of two, half of the normal allocations failing) and loop over
 * Get, Build and _ex Get with random ranges and directions, a few
 * requests in flight each. Some lists are Put from the callback itself,
 * some with interrupts off, some waiting _ex requests are cancelled.
 *
 * Checked: every accepted request calls back exactly once unless it was
 * cancelled; a list handed to a callback is never one that is already
 * live (no reserve element or map register handed out twice); and at the
 * end nothing is outstanding, waiting or holding map registers.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include <wdmdma/wdmdma.h>

#include "wdmdma_test_util.h"

#define STRESS_THREADS	4
#define STRESS_SLOTS	4		/* requests in flight per thread */
#define STRESS_MS	2000		/* per test case */
#define STRESS_MAX	(3 * PAGE_SIZE)	/* max_transfer */
#define STRESS_REGION	(4 * PAGE_SIZE)	/* each slot's own data */
#define STRESS_LIVE	(STRESS_THREADS * STRESS_SLOTS)
#define STRESS_WAIT	msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)

enum { SLOT_IDLE, SLOT_SUBMITTED, SLOT_RAN };
enum { KIND_GET, KIND_BUILD, KIND_GET_EX, KIND_GET_SYNC };

struct stress_ctx;
struct stress_thread;

struct stress_slot {
	struct stress_thread *thr;
	atomic_t state;			/* SLOT_* */
	struct wdmdma_sg_list *sgl;	/* valid in SLOT_RAN */
	u32 len;
	bool write;
	bool put_in_cb;
	void *va;			/* STRESS_REGION bytes */
	struct wdmdma_mdl *mdl;
	void *buf;			/* Build buffer */
	size_t buf_len;
	struct wdmdma_xfer_ctx xctx;
};

struct stress_thread {
	struct stress_ctx *sc;
	struct task_struct *task;
	struct completion done;		/* the thread's loop and drain ended */
	wait_queue_head_t wq;
	atomic_t callbacks;
	unsigned int accepted;		/* Get/Build returned 0 */
	unsigned int cancelled;		/* wdmdma_cancel() said true */
	unsigned int refused;		/* -ENOMEM: allowed, not counted */
	int err;			/* first unexpected error */
	void *va;
	struct stress_slot slot[STRESS_SLOTS];
};

struct stress_ctx {
	struct wdmdma_adapter *a;
	unsigned long end;
	spinlock_t live_lock;		/* guards live[] */
	struct wdmdma_sg_list *live[STRESS_LIVE];
	atomic_t dup;			/* list handed out while live */
	atomic_t bad_state;		/* callback for a request not waiting */
	atomic_t bad_list;		/* list of the wrong length */
	struct stress_thread thr[STRESS_THREADS];
};

static struct platform_device *stress_pdev;

/* Record @sgl as live; false if it already was. */
static bool stress_live_add(struct stress_ctx *sc, struct wdmdma_sg_list *sgl)
{
	unsigned long flags;
	int i, free = -1;
	bool ok = true;

	spin_lock_irqsave(&sc->live_lock, flags);
	for (i = 0; i < STRESS_LIVE; i++) {
		if (sc->live[i] == sgl)
			ok = false;
		else if (!sc->live[i] && free < 0)
			free = i;
	}
	if (ok && free >= 0)
		sc->live[free] = sgl;
	else if (ok)
		ok = false;	/* more live lists than requests in flight */
	spin_unlock_irqrestore(&sc->live_lock, flags);
	return ok;
}

static void stress_live_del(struct stress_ctx *sc, struct wdmdma_sg_list *sgl)
{
	unsigned long flags;
	int i;

	spin_lock_irqsave(&sc->live_lock, flags);
	for (i = 0; i < STRESS_LIVE; i++)
		if (sc->live[i] == sgl)
			sc->live[i] = NULL;
	spin_unlock_irqrestore(&sc->live_lock, flags);
}

static void stress_cb(struct device *dev, void *irp,
		      struct wdmdma_sg_list *sgl, void *context)
{
	struct stress_slot *s = context;
	struct stress_thread *t = s->thr;
	struct stress_ctx *sc = t->sc;

	if (atomic_read(&s->state) != SLOT_SUBMITTED)
		atomic_inc(&sc->bad_state);
	if (!stress_live_add(sc, sgl))
		atomic_inc(&sc->dup);
	if (wdmdma_test_sgl_bytes(sgl) != s->len)
		atomic_inc(&sc->bad_list);
	atomic_inc(&t->callbacks);
	if (s->put_in_cb) {
		stress_live_del(sc, sgl);
		wdmdma_put_sg_list(sc->a, sgl, s->write);
		atomic_set_release(&s->state, SLOT_IDLE);
	} else {
		s->sgl = sgl;
		atomic_set_release(&s->state, SLOT_RAN);
	}
	wake_up(&t->wq);
}

static void stress_put(struct stress_ctx *sc, struct stress_slot *s)
{
	unsigned long flags;

	stress_live_del(sc, s->sgl);
	if (get_random_u32_below(4) == 0) {
		local_irq_save(flags);
		wdmdma_put_sg_list(sc->a, s->sgl, s->write);
		local_irq_restore(flags);
	} else {
		wdmdma_put_sg_list(sc->a, s->sgl, s->write);
	}
	s->sgl = NULL;
	atomic_set(&s->state, SLOT_IDLE);
}

static void stress_submit(struct stress_thread *t, struct stress_slot *s)
{
	struct stress_ctx *sc = t->sc;
	unsigned int kind = get_random_u32_below(8) / 2;
	u32 off = get_random_u32_below(PAGE_SIZE);
	unsigned int nregs;
	size_t size;
	int ret;

	s->len = 1 + get_random_u32_below(STRESS_MAX);
	s->write = get_random_u32_below(2);
	s->put_in_cb = get_random_u32_below(4) == 0;
	atomic_set(&s->state, SLOT_SUBMITTED);

	switch (kind) {
	case KIND_GET:
		ret = wdmdma_get_sg_list(sc->a, s->mdl, s->va + off, s->len,
					 stress_cb, s, s->write);
		break;
	case KIND_BUILD:
		ret = wdmdma_calculate_sg_list(sc->a, s->mdl, s->va + off,
					       s->len, &size, &nregs);
		if (!ret && size > s->buf_len)
			ret = -EFBIG;	/* Calculate disagrees with itself */
		if (!ret)
			ret = wdmdma_build_sg_list(sc->a, s->mdl, s->va + off,
						   s->len, stress_cb, s,
						   s->write, s->buf,
						   s->buf_len);
		break;
	default:
		wdmdma_init_xfer_ctx(sc->a, &s->xctx);
		ret = wdmdma_get_sg_list_ex(sc->a, &s->xctx, s->mdl, off,
					    s->len,
					    kind == KIND_GET_SYNC ?
					    WDMDMA_SYNCHRONOUS : 0,
					    stress_cb, s, s->write, NULL);
		break;
	}

	if (ret == -ENOMEM) {
		t->refused++;
	} else if (ret) {
		if (!t->err)
			t->err = ret;
	} else {
		t->accepted++;
	}
	if (ret) {
		/* The callback must not have run. */
		if (atomic_cmpxchg(&s->state, SLOT_SUBMITTED, SLOT_IDLE) !=
		    SLOT_SUBMITTED)
			atomic_inc(&sc->bad_state);
		return;
	}
	/* Now and then cancel a waiting _ex request. */
	if (kind == KIND_GET_EX && get_random_u32_below(4) == 0 &&
	    wdmdma_cancel(sc->a, &s->xctx)) {
		t->cancelled++;
		if (atomic_cmpxchg(&s->state, SLOT_SUBMITTED, SLOT_IDLE) !=
		    SLOT_SUBMITTED)
			atomic_inc(&sc->bad_state);
	}
}

static bool stress_any_done(struct stress_thread *t)
{
	int i;

	for (i = 0; i < STRESS_SLOTS; i++)
		if (atomic_read_acquire(&t->slot[i].state) != SLOT_SUBMITTED)
			return true;
	return false;
}

/* Something to Put, or nothing left waiting. */
static bool stress_drain_progress(struct stress_thread *t)
{
	bool waiting = false;
	int i;

	for (i = 0; i < STRESS_SLOTS; i++) {
		int state = atomic_read_acquire(&t->slot[i].state);

		if (state == SLOT_RAN)
			return true;
		if (state == SLOT_SUBMITTED)
			waiting = true;
	}
	return !waiting;
}

static int stress_thread_fn(void *data)
{
	struct stress_thread *t = data;
	struct stress_ctx *sc = t->sc;
	int i;

	while (time_before(jiffies, sc->end) && !t->err) {
		for (i = 0; i < STRESS_SLOTS; i++) {
			struct stress_slot *s = &t->slot[i];
			int state = atomic_read_acquire(&s->state);

			if (state == SLOT_RAN) {
				stress_put(sc, s);
				state = SLOT_IDLE;
			}
			if (state == SLOT_IDLE)
				stress_submit(t, s);
		}
		if (!stress_any_done(t) &&
		    !wait_event_timeout(t->wq, stress_any_done(t),
					STRESS_WAIT)) {
			t->err = -ETIMEDOUT;
			break;
		}
		cond_resched();
	}

	/*
	 * Drain: every accepted request calls back; give its list back.
	 * Lists that ran are Put before waiting for the rest, which may be
	 * waiting for exactly what those lists hold.
	 */
	for (;;) {
		bool pending = false;

		for (i = 0; i < STRESS_SLOTS; i++) {
			struct stress_slot *s = &t->slot[i];
			int state = atomic_read_acquire(&s->state);

			if (state == SLOT_RAN)
				stress_put(sc, s);
			else if (state == SLOT_SUBMITTED)
				pending = true;
		}
		if (!pending)
			break;
		if (!wait_event_timeout(t->wq, stress_drain_progress(t),
					STRESS_WAIT)) {
			if (!t->err)
				t->err = -ETIMEDOUT;
			break;
		}
	}
	complete(&t->done);
	return 0;
}

static void stress_free(struct stress_ctx *sc)
{
	int i, j;

	for (i = 0; i < STRESS_THREADS; i++) {
		struct stress_thread *t = &sc->thr[i];

		for (j = 0; j < STRESS_SLOTS; j++) {
			kfree(t->slot[j].buf);
			wdmdma_mdl_free(t->slot[j].mdl);
		}
		vfree(t->va);
	}
}

static int stress_setup(struct stress_ctx *sc)
{
	size_t max_size;
	unsigned int nregs;
	int i, j, ret;

	/* The largest list: a maximum transfer at the worst alignment. */
	ret = wdmdma_calculate_sg_list(sc->a, NULL, (void *)(PAGE_SIZE - 1),
				       STRESS_MAX, &max_size, &nregs);
	if (ret)
		return ret;
	spin_lock_init(&sc->live_lock);
	for (i = 0; i < STRESS_THREADS; i++) {
		struct stress_thread *t = &sc->thr[i];

		t->sc = sc;
		init_completion(&t->done);
		init_waitqueue_head(&t->wq);
		t->va = vmalloc(STRESS_SLOTS * STRESS_REGION);
		if (!t->va)
			return -ENOMEM;
		for (j = 0; j < STRESS_SLOTS; j++) {
			struct stress_slot *s = &t->slot[j];

			s->thr = t;
			s->va = t->va + j * STRESS_REGION;
			wdmdma_test_fill(s->va, STRESS_REGION, i * 16 + j);
			s->mdl = wdmdma_mdl_alloc(s->va, STRESS_REGION,
						  GFP_KERNEL);
			if (!s->mdl || wdmdma_mdl_build_for_kernel_buffer(s->mdl))
				return -ENOMEM;
			s->buf_len = max_size;
			s->buf = kmalloc(max_size, GFP_KERNEL);
			if (!s->buf)
				return -ENOMEM;
		}
	}
	return 0;
}

static void stress_run(struct kunit *test, bool sg)
{
	unsigned int accepted = 0, cancelled = 0, refused = 0, callbacks = 0;
	struct stress_ctx *sc;
	struct wdmdma_stats st;
	int i, ret, started = 0;

	sc = kunit_kzalloc(test, sizeof(*sc), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, stress_pdev);
	sc->a = wdmdma_test_adapter(test, &stress_pdev->dev, sg, 64,
				    STRESS_MAX, 2, 0);
	wdmdma_set_fail_alloc(sc->a, 50);
	ret = stress_setup(sc);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (ret)
		goto out;

	sc->end = jiffies + msecs_to_jiffies(STRESS_MS);
	for (i = 0; i < STRESS_THREADS; i++) {
		struct task_struct *task;

		task = kthread_run(stress_thread_fn, &sc->thr[i],
				   "wdmdma-stress/%d", i);
		KUNIT_EXPECT_FALSE(test, IS_ERR(task));
		if (IS_ERR(task))
			break;
		get_task_struct(task);
		sc->thr[i].task = task;
		started++;
	}
	/*
	 * Let every thread finish before kthread_stop(), which would keep a
	 * thread that has not started yet from running at all.
	 */
	for (i = 0; i < started; i++) {
		KUNIT_EXPECT_TRUE_MSG(test,
				      wait_for_completion_timeout(&sc->thr[i].done,
								  60 * HZ),
				      "thread %d did not finish", i);
		kthread_stop(sc->thr[i].task);
		put_task_struct(sc->thr[i].task);
	}

	for (i = 0; i < started; i++) {
		struct stress_thread *t = &sc->thr[i];
		unsigned int cb = atomic_read(&t->callbacks);

		KUNIT_EXPECT_EQ_MSG(test, t->err, 0, "thread %d", i);
		KUNIT_EXPECT_EQ_MSG(test, cb, t->accepted - t->cancelled,
				    "thread %d: callbacks vs accepted requests",
				    i);
		accepted += t->accepted;
		cancelled += t->cancelled;
		refused += t->refused;
		callbacks += cb;
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&sc->dup), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&sc->bad_state), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&sc->bad_list), 0);
	KUNIT_EXPECT_GT(test, callbacks, 0);

	st = wdmdma_test_stats(sc->a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 0);
	KUNIT_EXPECT_EQ(test, st.cancelled, cancelled);
	KUNIT_EXPECT_EQ(test, st.allocated + st.reserve + st.built, callbacks);
	KUNIT_EXPECT_GT(test, st.allocated, 0);
	KUNIT_EXPECT_GT(test, st.reserve, 0);
	KUNIT_EXPECT_GT(test, st.built, 0);
	KUNIT_EXPECT_GT(test, st.deferred, 0);
	kunit_info(test, "%u accepted, %u callbacks, %u cancelled, %u refused\n",
		   accepted, callbacks, cancelled, refused);
	kunit_info(test,
		   "%llu allocated, %llu reserve, %llu built, %llu deferred, %llu bounced, %llu map registers high\n",
		   st.allocated, st.reserve, st.built, st.deferred, st.bounced,
		   st.map_regs_high);
out:
	st = wdmdma_test_stats(sc->a);
	if (st.outstanding || st.queue_depth)
		pr_info(WDMDMA_TEST_WARN_BEGIN);
	wdmdma_destroy_adapter(sc->a);
	if (st.outstanding || st.queue_depth)
		pr_info(WDMDMA_TEST_WARN_END);
	stress_free(sc);
}

/* Scatter/gather adapter: memory is the contended resource. */
static void stress_test_sg(struct kunit *test)
{
	stress_run(test, true);
}

/* One-element adapter: map registers (two chunks) are contended too. */
static void stress_test_nonsg(struct kunit *test)
{
	stress_run(test, false);
}

static int stress_suite_init(struct kunit_suite *suite)
{
	stress_pdev = wdmdma_test_pdev_create("wdmdma-test-stress");
	return PTR_ERR_OR_ZERO(stress_pdev);
}

static void stress_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(stress_pdev);
	stress_pdev = NULL;
}

static struct kunit_case stress_test_cases[] = {
	KUNIT_CASE(stress_test_sg),
	KUNIT_CASE(stress_test_nonsg),
	{ }
};

static struct kunit_suite stress_test_suite = {
	.name = "wdmdma_stress",
	.suite_init = stress_suite_init,
	.suite_exit = stress_suite_exit,
	.test_cases = stress_test_cases,
};

kunit_test_suite(stress_test_suite);

MODULE_DESCRIPTION("KUnit concurrency tests for wdmdma");
MODULE_LICENSE("GPL");
