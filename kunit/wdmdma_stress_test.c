// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_stress": four kernel threads share one adapter
 * (reserve of two, half of the normal allocations failing) and loop over
 * Get, Build and _ex Get with random ranges and directions, a few
 * requests in flight each. Some lists are Put from the callback itself,
 * some with interrupts off, some waiting _ex requests are cancelled.
 *
 * The test plays the device (the platform test device has no IOMMU, so a
 * bus address is a physical address). Every request gets its own data
 * pattern: a write's buffer holds it and the device must read exactly it
 * through the list's bus addresses; for a read the device writes it
 * through the list and the buffer must hold it after Put, while the bytes
 * of the slot outside the transfer keep their guard pattern. Between the
 * callback and the device's access the list stays outstanding for a
 * while, so a map register (or reserve element) that two lists share
 * shows up as wrong data.
 *
 * Checked: every accepted request calls back exactly once, with a list,
 * unless it was cancelled; no two outstanding lists share a bus address
 * (each list's ranges are recorded at its callback and dropped just
 * before its Put), nor a list pointer; a list's elements do not change
 * while it is outstanding; the device reads and writes exactly each
 * request's pattern; and at the end nothing is outstanding, waiting or
 * holding map registers.
 *
 * Cases: a scatter/gather adapter that reaches all memory (list memory is
 * the contended resource), a one-element adapter (every list of
 * discontiguous pages bounces: map registers are contended too), and a
 * 28-bit scatter/gather adapter given pages above 256 MiB (a list bounces
 * some of its pages and maps the others in place).
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
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
#define STRESS_PAGES	(STRESS_SLOTS * STRESS_REGION / PAGE_SIZE)
#define STRESS_LIVE	(STRESS_THREADS * STRESS_SLOTS)
#define STRESS_ELEMS	(STRESS_MAX / PAGE_SIZE + 1)	/* most per list */
#define STRESS_WAIT	msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)
#define STRESS_HIGH	BIT_ULL(28)	/* beyond the narrow adapter */
#define STRESS_HIGH_ORDER 3		/* half a thread's pages */
#define STRESS_TRIES	256		/* blocks tried, of each size */
#define STRESS_GUARD	0xa5		/* slot bytes outside the transfer */
#define STRESS_STALE	0x5a		/* a read's bytes before the device */

enum { SLOT_IDLE, SLOT_SUBMITTED, SLOT_RAN };
enum { KIND_GET, KIND_BUILD, KIND_GET_EX, KIND_GET_SYNC };

struct stress_ctx;
struct stress_thread;

/* A bus range of a list, as its callback saw it. */
struct stress_range {
	u64 addr;
	u32 len;
};

struct stress_slot {
	struct stress_thread *thr;
	atomic_t state;			/* SLOT_* */
	struct wdmdma_sg_list *sgl;	/* valid in SLOT_RAN */
	u32 off;			/* of the transfer in @va */
	u32 len;
	u32 gen;			/* the request's pattern */
	bool write;
	bool put_in_cb;
	void *va;			/* STRESS_REGION bytes */
	struct wdmdma_mdl *mdl;
	void *buf;			/* Build buffer */
	size_t buf_len;
	u8 *scratch;			/* the device's side: STRESS_MAX */
	u8 *pattern;			/* the request's data: STRESS_MAX */
	struct wdmdma_xfer_ctx xctx;
	/* The list's ranges; in sc->live while @live (sc->live_lock). */
	bool live;
	unsigned int nr_ranges;
	struct stress_range range[STRESS_ELEMS];
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
	void *va;			/* vmap of @pages */
	struct page *pages[STRESS_PAGES];
	struct stress_slot slot[STRESS_SLOTS];
};

struct stress_ctx {
	struct wdmdma_adapter *a;
	u64 limit;			/* the adapter's highest bus address */
	unsigned long end;
	atomic_t gen;			/* pattern of the next request */
	spinlock_t live_lock;		/* guards live[] and slot ranges */
	struct stress_slot *live[STRESS_LIVE];
	atomic_t dup;			/* list handed out while live */
	atomic_t overlap;		/* bus range shared by two live lists */
	atomic_t bad_state;		/* callback for a request not waiting */
	atomic_t bad_list;		/* wrong length, beyond reach, NULL */
	atomic_t changed;		/* list changed while outstanding */
	atomic_t bad_data;		/* the device saw or left wrong bytes */
	struct stress_thread thr[STRESS_THREADS];
};

static struct platform_device *stress_pdev;

/* The data of request @gen: differs between requests in most bytes. */
static void stress_fill(u8 *p, size_t len, u32 gen)
{
	u32 h = gen * 0x9e3779b1;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)((h >> ((i & 3) * 8)) + i * 7 + (i >> 8));
}

/* Does @len bytes at @p hold @c throughout? */
static bool stress_all(const u8 *p, size_t len, u8 c)
{
	return !len || (p[0] == c && !memcmp(p, p + 1, len - 1));
}

static bool stress_overlap(const struct stress_range *x,
			   const struct stress_range *y)
{
	return x->addr < y->addr + y->len && y->addr < x->addr + x->len;
}

/*
 * Record @s's list ranges as live, counting any bus address that another
 * live list (or the list itself, twice) already uses, and any list
 * pointer that is live already. Called from the callback.
 */
static void stress_live_add(struct stress_ctx *sc, struct stress_slot *s,
			    struct wdmdma_sg_list *sgl)
{
	unsigned long flags;
	int i, j, k, free = -1;
	bool dup = false, overlap = false;

	spin_lock_irqsave(&sc->live_lock, flags);
	for (j = 0; j < s->nr_ranges; j++)
		for (k = j + 1; k < s->nr_ranges; k++)
			if (stress_overlap(&s->range[j], &s->range[k]))
				overlap = true;
	for (i = 0; i < STRESS_LIVE; i++) {
		struct stress_slot *o = sc->live[i];

		if (!o) {
			if (free < 0)
				free = i;
			continue;
		}
		if (o->sgl == sgl)
			dup = true;
		for (j = 0; j < s->nr_ranges; j++)
			for (k = 0; k < o->nr_ranges; k++)
				if (stress_overlap(&s->range[j], &o->range[k]))
					overlap = true;
	}
	s->sgl = sgl;
	if (free >= 0) {
		sc->live[free] = s;
		s->live = true;
	} else {
		dup = true;	/* more live lists than requests in flight */
	}
	spin_unlock_irqrestore(&sc->live_lock, flags);
	if (dup)
		atomic_inc(&sc->dup);
	if (overlap)
		atomic_inc(&sc->overlap);
}

/* Drop @s's list from the live set: it is about to be Put. */
static void stress_live_del(struct stress_ctx *sc, struct stress_slot *s)
{
	unsigned long flags;
	int i;

	spin_lock_irqsave(&sc->live_lock, flags);
	for (i = 0; i < STRESS_LIVE; i++)
		if (sc->live[i] == s)
			sc->live[i] = NULL;
	s->live = false;
	spin_unlock_irqrestore(&sc->live_lock, flags);
}

/*
 * Take the list's ranges at the callback; false if the list is unusable
 * (too many elements, wrong length, a bus address beyond the adapter).
 */
static bool stress_take_ranges(struct stress_ctx *sc, struct stress_slot *s,
			       const struct wdmdma_sg_list *sgl)
{
	u64 total = 0;
	u32 i;

	s->nr_ranges = 0;
	if (!sgl->nr_elements || sgl->nr_elements > STRESS_ELEMS)
		return false;
	for (i = 0; i < sgl->nr_elements; i++) {
		const struct wdmdma_sg_element *e = &sgl->elements[i];

		if (!e->len || e->addr + e->len - 1 < e->addr ||
		    e->addr + e->len - 1 > sc->limit)
			return false;
		s->range[i].addr = e->addr;
		s->range[i].len = e->len;
		total += e->len;
	}
	s->nr_ranges = sgl->nr_elements;
	return total == s->len;
}

/* Is the list still what its callback saw? */
static bool stress_list_same(const struct stress_slot *s,
			     const struct wdmdma_sg_list *sgl)
{
	u32 i;

	if (sgl->nr_elements != s->nr_ranges)
		return false;
	for (i = 0; i < s->nr_ranges; i++)
		if (sgl->elements[i].addr != s->range[i].addr ||
		    sgl->elements[i].len != s->range[i].len)
			return false;
	return true;
}

/*
 * The device's transfer: a write is read through the list and must be
 * the request's pattern; a read writes the pattern through the list.
 */
static void stress_device(struct stress_ctx *sc, struct stress_slot *s,
			  const struct wdmdma_sg_list *sgl)
{
	if (s->write) {
		memset(s->scratch, 0, s->len);
		if (wdmdma_test_dev_read(sgl, s->scratch, s->len) != s->len ||
		    memcmp(s->scratch, s->pattern, s->len))
			atomic_inc(&sc->bad_data);
	} else {
		wdmdma_test_dev_write(sgl, s->pattern, s->len);
	}
}

/*
 * After Put: the transfer's bytes hold the pattern (a read brought it in,
 * a write left it alone) and the rest of the slot its guard.
 */
static void stress_check_buffer(struct stress_ctx *sc, struct stress_slot *s)
{
	u8 *va = s->va;

	if (memcmp(va + s->off, s->pattern, s->len) ||
	    !stress_all(va, s->off, STRESS_GUARD) ||
	    !stress_all(va + s->off + s->len,
			STRESS_REGION - s->off - s->len, STRESS_GUARD))
		atomic_inc(&sc->bad_data);
}

/* Device transfer, Put and buffer check of @s's list. */
static void stress_finish(struct stress_ctx *sc, struct stress_slot *s,
			  bool irqs_off)
{
	struct wdmdma_sg_list *sgl = s->sgl;
	unsigned long flags;

	stress_device(sc, s, sgl);
	if (!stress_list_same(s, sgl))
		atomic_inc(&sc->changed);
	stress_live_del(sc, s);
	if (irqs_off) {
		local_irq_save(flags);
		wdmdma_put_sg_list(sc->a, sgl, s->write);
		local_irq_restore(flags);
	} else {
		wdmdma_put_sg_list(sc->a, sgl, s->write);
	}
	s->sgl = NULL;
	stress_check_buffer(sc, s);
}

static void stress_cb(struct device *dev, void *irp,
		      struct wdmdma_sg_list *sgl, void *context)
{
	struct stress_slot *s = context;
	struct stress_thread *t = s->thr;
	struct stress_ctx *sc = t->sc;

	if (atomic_read(&s->state) != SLOT_SUBMITTED)
		atomic_inc(&sc->bad_state);
	atomic_inc(&t->callbacks);
	if (!sgl) {
		/* Nothing here can fail for good: no list is a bug. */
		atomic_inc(&sc->bad_list);
		atomic_set_release(&s->state, SLOT_IDLE);
		wake_up(&t->wq);
		return;
	}
	if (!stress_take_ranges(sc, s, sgl))
		atomic_inc(&sc->bad_list);
	stress_live_add(sc, s, sgl);
	if (s->put_in_cb) {
		stress_finish(sc, s, false);
		atomic_set_release(&s->state, SLOT_IDLE);
	} else {
		atomic_set_release(&s->state, SLOT_RAN);
	}
	wake_up(&t->wq);
}

static void stress_put(struct stress_ctx *sc, struct stress_slot *s)
{
	stress_finish(sc, s, get_random_u32_below(4) == 0);
	atomic_set(&s->state, SLOT_IDLE);
}

/*
 * A new request's data, and its slot: guard everywhere, and in the
 * transfer the data (write) or stale bytes the device must replace
 * (read).
 */
static void stress_prepare(struct stress_ctx *sc, struct stress_slot *s)
{
	u8 *va = s->va;

	s->gen = atomic_inc_return(&sc->gen);
	stress_fill(s->pattern, s->len, s->gen);
	memset(va, STRESS_GUARD, STRESS_REGION);
	if (s->write)
		memcpy(va + s->off, s->pattern, s->len);
	else
		memset(va + s->off, STRESS_STALE, s->len);
}

static void stress_submit(struct stress_thread *t, struct stress_slot *s)
{
	struct stress_ctx *sc = t->sc;
	unsigned int kind = get_random_u32_below(8) / 2;
	unsigned int nregs;
	size_t size;
	int ret;

	s->off = get_random_u32_below(PAGE_SIZE);
	s->len = 1 + get_random_u32_below(STRESS_MAX);
	s->write = get_random_u32_below(2);
	s->put_in_cb = get_random_u32_below(4) == 0;
	stress_prepare(sc, s);
	atomic_set(&s->state, SLOT_SUBMITTED);

	switch (kind) {
	case KIND_GET:
		ret = wdmdma_get_sg_list(sc->a, s->mdl, s->va + s->off, s->len,
					 stress_cb, s, s->write);
		break;
	case KIND_BUILD:
		ret = wdmdma_calculate_sg_list(sc->a, s->mdl, s->va + s->off,
					       s->len, &size, &nregs);
		if (!ret && size > s->buf_len)
			ret = -EFBIG;	/* Calculate disagrees with itself */
		if (!ret)
			ret = wdmdma_build_sg_list(sc->a, s->mdl,
						   s->va + s->off, s->len,
						   stress_cb, s, s->write,
						   s->buf, s->buf_len);
		break;
	default:
		wdmdma_init_xfer_ctx(sc->a, &s->xctx);
		ret = wdmdma_get_sg_list_ex(sc->a, &s->xctx, s->mdl, s->off,
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
			kfree(t->slot[j].pattern);
			kfree(t->slot[j].scratch);
			kfree(t->slot[j].buf);
			wdmdma_mdl_free(t->slot[j].mdl);
		}
		if (t->va)
			vunmap(t->va);
		for (j = 0; j < STRESS_PAGES; j++)
			if (t->pages[j])
				__free_page(t->pages[j]);
	}
}

/*
 * STRESS_PAGES / 2 single pages above STRESS_HIGH, physically in a row
 * (from one block, split), or NULL if the guest has none there. Low
 * memory is handed out first: 2 MiB blocks are tried first, as they come
 * from where memory is still unfragmented.
 */
static struct page *stress_high_pages_alloc(void)
{
	static const unsigned int orders[] = { 9, STRESS_HIGH_ORDER };
	struct page *page, *found = NULL, *tmp;
	unsigned int i, o, order = 0;
	LIST_HEAD(low);

	for (o = 0; o < ARRAY_SIZE(orders) && !found; o++) {
		for (i = 0; i < STRESS_TRIES && !found; i++) {
			page = alloc_pages(GFP_KERNEL | __GFP_NOWARN |
					   __GFP_NORETRY, orders[o]);
			if (!page)
				break;
			if (page_to_phys(page) >= STRESS_HIGH) {
				found = page;
				order = orders[o];
			} else {
				page->private = orders[o];
				list_add(&page->lru, &low);
			}
		}
	}
	list_for_each_entry_safe(page, tmp, &low, lru) {
		list_del(&page->lru);
		o = page->private;
		page->private = 0;
		__free_pages(page, o);
	}
	if (!found)
		return NULL;
	split_page(found, order);
	for (i = 1 << STRESS_HIGH_ORDER; i < 1 << order; i++)
		__free_page(found + i);
	return found;
}

/*
 * A thread's pages: every other one from a block above STRESS_HIGH, the
 * others from the 16 MiB DMA zone. The narrow adapter then bounces part of
 * most lists and maps the rest in place, and no two neighbours are
 * physically contiguous, so the one-element adapter bounces every list of
 * more than one page.
 */
static int stress_alloc_pages(struct stress_thread *t)
{
	struct page *high = stress_high_pages_alloc();
	int i;

	BUILD_BUG_ON(STRESS_PAGES / 2 != 1 << STRESS_HIGH_ORDER);
	for (i = 0; i < STRESS_PAGES; i++) {
		if (high && !(i & 1))
			t->pages[i] = high + i / 2;
		else
			t->pages[i] = alloc_page(GFP_KERNEL | GFP_DMA);
		if (!t->pages[i])
			return -ENOMEM;
	}
	t->va = vmap(t->pages, STRESS_PAGES, VM_MAP, PAGE_KERNEL);
	return t->va ? 0 : -ENOMEM;
}

static unsigned int stress_high_pages(struct stress_ctx *sc)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < STRESS_THREADS; i++)
		for (j = 0; j < STRESS_PAGES; j++)
			if (page_to_phys(sc->thr[i].pages[j]) >= STRESS_HIGH)
				n++;
	return n;
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
	atomic_set(&sc->gen, 0);
	for (i = 0; i < STRESS_THREADS; i++) {
		struct stress_thread *t = &sc->thr[i];

		t->sc = sc;
		init_completion(&t->done);
		init_waitqueue_head(&t->wq);
		ret = stress_alloc_pages(t);
		if (ret)
			return ret;
		for (j = 0; j < STRESS_SLOTS; j++) {
			struct stress_slot *s = &t->slot[j];

			s->thr = t;
			s->va = t->va + j * STRESS_REGION;
			s->mdl = wdmdma_mdl_alloc(s->va, STRESS_REGION,
						  GFP_KERNEL);
			if (!s->mdl || wdmdma_mdl_build_for_kernel_buffer(s->mdl))
				return -ENOMEM;
			s->buf_len = max_size;
			s->buf = kmalloc(max_size, GFP_KERNEL);
			s->scratch = kmalloc(STRESS_MAX, GFP_KERNEL);
			s->pattern = kmalloc(STRESS_MAX, GFP_KERNEL);
			if (!s->buf || !s->scratch || !s->pattern)
				return -ENOMEM;
		}
	}
	return 0;
}

static void stress_run(struct kunit *test, bool sg, unsigned int width)
{
	unsigned int accepted = 0, cancelled = 0, refused = 0, callbacks = 0;
	struct stress_ctx *sc;
	struct wdmdma_stats st;
	int i, ret, started = 0;

	sc = kunit_kzalloc(test, sizeof(*sc), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, stress_pdev);
	sc->a = wdmdma_test_adapter(test, &stress_pdev->dev, sg, width,
				    STRESS_MAX, 2, 0);
	sc->limit = DMA_BIT_MASK(width);
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
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&sc->overlap), 0,
			    "lists outstanding at once shared bus addresses (a map register handed out twice)");
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&sc->dup), 0,
			    "a list handed out while it was outstanding");
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&sc->changed), 0,
			    "a list changed while it was outstanding");
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&sc->bad_data), 0,
			    "the device read or left wrong data");
	KUNIT_EXPECT_EQ(test, atomic_read(&sc->bad_state), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&sc->bad_list), 0);
	KUNIT_EXPECT_GT(test, callbacks, 0);

	st = wdmdma_test_stats(sc->a);
	KUNIT_EXPECT_EQ(test, st.outstanding, 0);
	KUNIT_EXPECT_EQ(test, st.queue_depth, 0);
	KUNIT_EXPECT_EQ(test, st.map_regs_in_use, 0);
	KUNIT_EXPECT_EQ(test, st.verifier_errors, 0);
	KUNIT_EXPECT_EQ(test, st.failed, 0);
	KUNIT_EXPECT_EQ(test, st.cancelled, cancelled);
	KUNIT_EXPECT_EQ(test, st.allocated + st.reserve + st.built, callbacks);
	KUNIT_EXPECT_GT(test, st.allocated, 0);
	KUNIT_EXPECT_GT(test, st.reserve, 0);
	KUNIT_EXPECT_GT(test, st.built, 0);
	KUNIT_EXPECT_GT(test, st.deferred, 0);
	/* Map registers were in play wherever the case is about them. */
	if (!sg || width < 64)
		KUNIT_EXPECT_GT(test, st.bounced, 0);
	kunit_info(test, "%u accepted, %u callbacks, %u cancelled, %u refused, %u of %u pages above 256 MiB\n",
		   accepted, callbacks, cancelled, refused, stress_high_pages(sc),
		   (unsigned int)(STRESS_THREADS * STRESS_PAGES));
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

/* Scatter/gather adapter reaching everything: memory is contended. */
static void stress_test_sg(struct kunit *test)
{
	stress_run(test, true, 64);
}

/* One-element adapter: map registers (two chunks) are contended too. */
static void stress_test_nonsg(struct kunit *test)
{
	stress_run(test, false, 64);
}

/* 28-bit scatter/gather adapter: the pages above 256 MiB bounce. */
static void stress_test_sg_narrow(struct kunit *test)
{
	stress_run(test, true, 28);
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
	KUNIT_CASE(stress_test_sg_narrow),
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
