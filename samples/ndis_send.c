// SPDX-License-Identifier: GPL-2.0
/*
 * Sample: an NDIS miniport's scatter/gather send path, ported to wdmdma.
 *
 * How an NDIS 6 miniport (or NDIS on its behalf) maps a net buffer for
 * the device, as the documented call sequence goes (written anew here),
 * through Adapter->DmaOperations:
 *  - BuildScatterGatherList into the caller's buffer, sized for the
 *    frames the miniport expects (CalculateScatterGatherList with a NULL
 *    MDL at the worst page offset);
 *  - if that fails (a frame with more pages than the buffer covers), fall
 *    back to GetScatterGatherList;
 *  - if that fails too (more fragments than the adapter has map
 *    registers, or no memory), copy the frame into a buffer of the
 *    miniport's pool and GetScatterGatherList on that; with no pool
 *    buffer left the send fails with STATUS_INSUFFICIENT_RESOURCES;
 *  - when the device is done: PutScatterGatherList, then, for a receive
 *    (the device wrote), copy the pool buffer back into the frame.
 *
 * The list-control routine may run later, from wdmdma's work item, when
 * Get has to wait for memory; a send's fields are all set before the
 * call. The suite "sample_ndis_send" below plays the protocol and the
 * device.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <wdmdma/ntdma.h>

#include "../src/compat.h"
#include "sample_util.h"

#define NDS_POOL_MAX	BITS_PER_LONG

/**
 * struct nds_stats - how sends were mapped
 * @built: in the caller's buffer
 * @got: by Get, after Build failed
 * @bounced: through a pool buffer, after Get failed too
 * @failed: not at all (no pool buffer, or the bounce failed too)
 */
struct nds_stats {
	atomic_t built;
	atomic_t got;
	atomic_t bounced;
	atomic_t failed;
};

/**
 * struct nds_miniport - the miniport's DMA state
 * @adapter: the adapter
 * @ops: its DMA_OPERATIONS
 * @device: the device object
 * @sg_size: the size of a caller's list buffer
 * @pool_length: the size of a pool buffer (the largest frame)
 * @nr_pool: pool buffers
 * @pool_busy: a bit per pool buffer in use
 * @pool: the pool buffers
 * @pool_mdl: an MDL for each
 * @stats: counters
 */
struct nds_miniport {
	PDMA_ADAPTER adapter;
	const DMA_OPERATIONS *ops;
	PDEVICE_OBJECT device;
	ULONG sg_size;
	ULONG pool_length;
	unsigned int nr_pool;
	unsigned long pool_busy;
	PUCHAR pool[NDS_POOL_MAX];
	PMDL pool_mdl[NDS_POOL_MAX];
	struct nds_stats stats;
};

struct nds_send;

/* Give the device the list of a send; runs from the list-control routine. */
typedef void (*nds_program_t)(struct nds_send *send, PSCATTER_GATHER_LIST sgl);

/**
 * struct nds_send - one frame to map, the caller's
 * @mp: the miniport
 * @mdl: the frame's MDL chain
 * @length: its length (from the first byte of @mdl)
 * @write: a send (to the device); false: a receive into the frame
 * @sg_buffer: the caller's list buffer, @mp->sg_size bytes
 * @pool_index: the pool buffer it is bounced through, or -1
 * @sgl: its list, once programmed
 * @program: called with the list
 * @context: for @program
 */
struct nds_send {
	struct nds_miniport *mp;
	PMDL mdl;
	ULONG length;
	BOOLEAN write;
	PVOID sg_buffer;
	int pool_index;
	PSCATTER_GATHER_LIST sgl;
	nds_program_t program;
	void *context;
};

static void nds_destroy(struct nds_miniport *mp);

/**
 * nds_create() - set up a miniport's DMA
 * @adapter: the adapter (IoGetDmaAdapter)
 * @device: the device object
 * @typical_frame: frames up to this size are mapped in the caller's buffer
 * @max_frame: the largest frame (the pool buffers' size)
 * @nr_pool: how many pool buffers (at most NDS_POOL_MAX)
 *
 * Context: process context.
 * Return: the miniport, or an ERR_PTR().
 */
static struct nds_miniport *nds_create(PDMA_ADAPTER adapter,
				       PDEVICE_OBJECT device,
				       ULONG typical_frame, ULONG max_frame,
				       unsigned int nr_pool)
{
	struct nds_miniport *mp;
	NTSTATUS status;
	unsigned int i;

	if (!nr_pool || nr_pool > NDS_POOL_MAX)
		return ERR_PTR(-EINVAL);
	mp = kzalloc_obj(*mp, GFP_KERNEL);
	if (!mp)
		return ERR_PTR(-ENOMEM);
	mp->adapter = adapter;
	mp->ops = adapter->DmaOperations;
	mp->device = device;
	mp->pool_length = max_frame;
	status = mp->ops->CalculateScatterGatherList(adapter, NULL,
						     (PVOID)(PAGE_SIZE - 1),
						     typical_frame,
						     &mp->sg_size, NULL);
	if (!NT_SUCCESS(status)) {
		kfree(mp);
		return ERR_PTR(-EINVAL);
	}
	for (i = 0; i < nr_pool; i++) {
		mp->pool[i] = kmalloc(max_frame, GFP_KERNEL);
		if (!mp->pool[i])
			goto fail;
		mp->pool_mdl[i] = IoAllocateMdl(mp->pool[i], max_frame, FALSE,
						FALSE, NULL);
		if (!mp->pool_mdl[i])
			goto fail;
		MmBuildMdlForNonPagedPool(mp->pool_mdl[i]);
		mp->nr_pool = i + 1;
	}
	return mp;
fail:
	kfree(mp->pool[i]);
	nds_destroy(mp);
	return ERR_PTR(-ENOMEM);
}

static void nds_destroy(struct nds_miniport *mp)
{
	unsigned int i;

	for (i = 0; i < mp->nr_pool; i++) {
		IoFreeMdl(mp->pool_mdl[i]);
		kfree(mp->pool[i]);
	}
	kfree(mp);
}

static int nds_pool_get(struct nds_miniport *mp)
{
	unsigned int i;

	for (i = 0; i < mp->nr_pool; i++)
		if (!test_and_set_bit(i, &mp->pool_busy))
			return i;
	return -1;
}

static void nds_pool_put(struct nds_miniport *mp, int index)
{
	clear_bit(index, &mp->pool_busy);
}

static VOID nds_list_control(PDEVICE_OBJECT DeviceObject, PIRP Irp,
			     PSCATTER_GATHER_LIST ScatterGather, PVOID Context)
{
	struct nds_send *send = Context;

	send->sgl = ScatterGather;
	send->program(send, ScatterGather);
}

/**
 * nds_map() - map a frame for the device
 * @send: the frame, its fields filled in (not @pool_index and @sgl)
 *
 * Context: any; does not sleep.
 * Return: STATUS_SUCCESS (@send->program has been or will be called), or
 * the error of the last attempt (nothing is held).
 */
static NTSTATUS nds_map(struct nds_send *send)
{
	struct nds_miniport *mp = send->mp;
	PVOID va = MmGetMdlVirtualAddress(send->mdl);
	NTSTATUS status;
	int index;

	send->pool_index = -1;
	send->sgl = NULL;
	status = mp->ops->BuildScatterGatherList(mp->adapter, mp->device,
						 send->mdl, va, send->length,
						 nds_list_control, send,
						 send->write, send->sg_buffer,
						 mp->sg_size);
	if (NT_SUCCESS(status)) {
		atomic_inc(&mp->stats.built);
		return status;
	}
	status = mp->ops->GetScatterGatherList(mp->adapter, mp->device,
					       send->mdl, va, send->length,
					       nds_list_control, send,
					       send->write);
	if (NT_SUCCESS(status)) {
		atomic_inc(&mp->stats.got);
		return status;
	}

	/* Bounce through a pool buffer. */
	index = send->length <= mp->pool_length ? nds_pool_get(mp) : -1;
	if (index < 0) {
		atomic_inc(&mp->stats.failed);
		return STATUS_INSUFFICIENT_RESOURCES;
	}
	if (send->write &&
	    sample_mdl_copy(send->mdl, 0, mp->pool[index], send->length,
			    TRUE) != send->length) {
		nds_pool_put(mp, index);
		atomic_inc(&mp->stats.failed);
		return STATUS_INVALID_PARAMETER;
	}
	send->pool_index = index;
	status = mp->ops->GetScatterGatherList(mp->adapter, mp->device,
					       mp->pool_mdl[index],
					       mp->pool[index], send->length,
					       nds_list_control, send,
					       send->write);
	if (NT_SUCCESS(status)) {
		atomic_inc(&mp->stats.bounced);
		return status;
	}
	send->pool_index = -1;
	nds_pool_put(mp, index);
	atomic_inc(&mp->stats.failed);
	return status;
}

/**
 * nds_complete() - the device is done with a frame
 * @send: the frame, programmed with a list
 *
 * Puts the list; for a receive bounced through the pool, copies the data
 * into the frame after that.
 *
 * Context: any; does not sleep.
 * Return: STATUS_SUCCESS, or STATUS_INVALID_PARAMETER if the frame could
 * not take the data back.
 */
static NTSTATUS nds_complete(struct nds_send *send)
{
	struct nds_miniport *mp = send->mp;
	NTSTATUS status = STATUS_SUCCESS;
	int index = send->pool_index;

	mp->ops->PutScatterGatherList(mp->adapter, send->sgl, send->write);
	send->sgl = NULL;
	if (index < 0)
		return status;
	if (!send->write &&
	    sample_mdl_copy(send->mdl, 0, mp->pool[index], send->length,
			    FALSE) != send->length)
		status = STATUS_INVALID_PARAMETER;
	send->pool_index = -1;
	nds_pool_put(mp, index);
	return status;
}

/* --- KUnit suite "sample_ndis_send" --------------------------------------- */

#include "sample_test.h"

#define NDS_ADAPTER_MAX	(8 * PAGE_SIZE)		/* 9 map registers */
#define NDS_TYPICAL	1514			/* two pages at worst */
#define NDS_FRAGS	12			/* more than the map registers */
#define NDS_FRAG_LEN	200
#define NDS_SMALL_OFF	(PAGE_SIZE - 700)
#define NDS_LARGE_OFF	300
#define NDS_LARGE	(3 * PAGE_SIZE)
#define NDS_CHAIN_OFF	1000

static struct platform_device *nds_pdev;

struct nds_fixture {
	PDMA_ADAPTER adapter;
	ULONG map_registers;
	struct nds_miniport *mp;
	struct wdmdma_test_vbuf vb;
	u8 *wire;		/* what the device holds */
	u8 *want;
};

/* The protocol's side: what the program routine saw. */
struct nds_io {
	struct completion programmed;
	atomic_t calls;
};

static void nds_program(struct nds_send *send, PSCATTER_GATHER_LIST sgl)
{
	struct nds_io *io = send->context;

	atomic_inc(&io->calls);
	complete(&io->programmed);
}

static int nds_make(struct kunit *test, unsigned int nr_pool)
{
	struct nds_fixture *fx = test->priv;

	fx->mp = nds_create(fx->adapter, &nds_pdev->dev, NDS_TYPICAL,
			    NDS_ADAPTER_MAX, nr_pool);
	if (IS_ERR(fx->mp)) {
		int err = PTR_ERR(fx->mp);

		fx->mp = NULL;
		return err;
	}
	return 0;
}

static int nds_init(struct kunit *test)
{
	struct nds_fixture *fx;

	if (IS_ERR_OR_NULL(nds_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	fx->wire = kunit_kzalloc(test, NDS_ADAPTER_MAX, GFP_KERNEL);
	fx->want = kunit_kzalloc(test, NDS_ADAPTER_MAX, GFP_KERNEL);
	if (!fx->wire || !fx->want)
		return -ENOMEM;
	if (!wdmdma_test_vbuf_alloc(&fx->vb, WDMDMA_TEST_VBUF_PAGES))
		return -ENOMEM;
	fx->adapter = sample_get_adapter(&nds_pdev->dev, TRUE, NDS_ADAPTER_MAX,
					 &fx->map_registers);
	if (!fx->adapter) {
		wdmdma_test_vbuf_free(&fx->vb);
		return -ENODEV;
	}
	test->priv = fx;
	return 0;
}

static void nds_exit(struct kunit *test)
{
	struct nds_fixture *fx = test->priv;

	if (!fx)
		return;
	if (fx->mp)
		nds_destroy(fx->mp);
	fx->adapter->DmaOperations->PutDmaAdapter(fx->adapter);
	wdmdma_test_vbuf_free(&fx->vb);
}

static bool nds_wait(struct nds_io *io)
{
	return wait_for_completion_timeout(&io->programmed,
				msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)) != 0;
}

static void nds_send_init(struct nds_send *send, struct nds_io *io,
			  struct nds_miniport *mp, PMDL mdl, ULONG length,
			  BOOLEAN write, PVOID sg_buffer)
{
	memset(send, 0, sizeof(*send));
	send->mp = mp;
	send->mdl = mdl;
	send->length = length;
	send->write = write;
	send->sg_buffer = sg_buffer;
	send->program = nds_program;
	send->context = io;
	init_completion(&io->programmed);
	atomic_set(&io->calls, 0);
}

/* The fragments of the chain, in order. */
static void nds_chain_frame(struct kunit *test, u8 *dst)
{
	struct nds_fixture *fx = test->priv;
	unsigned int i;

	for (i = 0; i < NDS_FRAGS; i++)
		memcpy(dst + i * NDS_FRAG_LEN,
		       (u8 *)fx->vb.va + (i % WDMDMA_TEST_VBUF_PAGES) * PAGE_SIZE +
		       NDS_CHAIN_OFF + (i / WDMDMA_TEST_VBUF_PAGES) * NDS_FRAG_LEN,
		       NDS_FRAG_LEN);
}

/* The frame's bytes as the CPU sees them: @frame, or the chain's. */
static void nds_frame(struct kunit *test, const u8 *frame, ULONG length,
		      u8 *dst)
{
	if (frame)
		memcpy(dst, frame, length);
	else
		nds_chain_frame(test, dst);
}

/*
 * Map a frame both ways and play the device: a send (the device reads
 * the frame), then a receive (the device writes a new pattern, which the
 * frame holds once it is completed). @frame is the frame's bytes as the
 * CPU sees them, or NULL for the fragments of nds_chain(); the counter
 * @path goes up by 2.
 */
static void nds_both_ways(struct kunit *test, PMDL mdl, ULONG length,
			  const u8 *frame, atomic_t *path)
{
	struct nds_fixture *fx = test->priv;
	int before = atomic_read(path);
	struct nds_send send;
	struct nds_io io;
	PVOID sg_buffer;

	sg_buffer = kunit_kzalloc(test, fx->mp->sg_size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sg_buffer);

	/* Send. */
	nds_frame(test, frame, length, fx->want);
	memset(fx->wire, 0, length);
	nds_send_init(&send, &io, fx->mp, mdl, length, TRUE, sg_buffer);
	KUNIT_ASSERT_EQ(test, nds_map(&send), STATUS_SUCCESS);
	KUNIT_ASSERT_TRUE(test, nds_wait(&io));
	KUNIT_ASSERT_NOT_NULL(test, send.sgl);
	KUNIT_EXPECT_EQ(test, sample_sgl_bytes(send.sgl), length);
	KUNIT_EXPECT_EQ(test, sample_dev_read(send.sgl, fx->wire, length),
			(size_t)length);
	KUNIT_EXPECT_EQ(test, nds_complete(&send), STATUS_SUCCESS);
	sample_expect_bytes(test, fx->wire, fx->want, length);

	/* Receive. */
	wdmdma_test_fill(fx->wire, length, 0x95);
	nds_send_init(&send, &io, fx->mp, mdl, length, FALSE, sg_buffer);
	KUNIT_ASSERT_EQ(test, nds_map(&send), STATUS_SUCCESS);
	KUNIT_ASSERT_TRUE(test, nds_wait(&io));
	KUNIT_ASSERT_NOT_NULL(test, send.sgl);
	KUNIT_EXPECT_EQ(test, sample_dev_write(send.sgl, fx->wire, length),
			(size_t)length);
	KUNIT_EXPECT_EQ(test, nds_complete(&send), STATUS_SUCCESS);
	nds_frame(test, frame, length, fx->want);
	sample_expect_bytes(test, fx->want, fx->wire, length);

	KUNIT_EXPECT_EQ(test, atomic_read(path), before + 2);
	KUNIT_EXPECT_EQ(test, fx->mp->pool_busy, 0UL);
}

/*
 * A frame of @length bytes at @offset of the buffer, in one MDL, both
 * ways; it must take the path counted by @path and not that of @other.
 */
static void nds_flat(struct kunit *test, ULONG offset, ULONG length,
		     atomic_t *path, atomic_t *other)
{
	struct nds_fixture *fx = test->priv;
	PMDL mdl;

	wdmdma_test_fill(fx->vb.va, WDMDMA_TEST_VBUF_PAGES * PAGE_SIZE,
			 (u8)offset);
	mdl = IoAllocateMdl((PUCHAR)fx->vb.va + offset, length, FALSE, FALSE,
			    NULL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MmBuildMdlForNonPagedPool(mdl);
	nds_both_ways(test, mdl, length, (u8 *)fx->vb.va + offset, path);
	KUNIT_EXPECT_EQ(test, atomic_read(other), 0);
	IoFreeMdl(mdl);
}

/* A typical frame across a page boundary: built in the caller's buffer. */
static void nds_build(struct kunit *test)
{
	struct nds_fixture *fx = test->priv;

	KUNIT_ASSERT_EQ(test, nds_make(test, 1), 0);
	nds_flat(test, NDS_SMALL_OFF, NDS_TYPICAL, &fx->mp->stats.built,
		 &fx->mp->stats.got);
}

/* A frame over four pages: too many for the caller's buffer, so Get. */
static void nds_get(struct kunit *test)
{
	struct nds_fixture *fx = test->priv;

	KUNIT_ASSERT_EQ(test, nds_make(test, 1), 0);
	nds_flat(test, NDS_LARGE_OFF, NDS_LARGE, &fx->mp->stats.got,
		 &fx->mp->stats.built);
}

/* Twelve fragments MDL by MDL, on eight pages, two per page at most. */
static int nds_chain(struct kunit *test, PMDL *mdls)
{
	struct nds_fixture *fx = test->priv;
	unsigned int i;

	for (i = 0; i < NDS_FRAGS; i++) {
		PUCHAR va = (PUCHAR)fx->vb.va +
			    (i % WDMDMA_TEST_VBUF_PAGES) * PAGE_SIZE +
			    NDS_CHAIN_OFF + (i / WDMDMA_TEST_VBUF_PAGES) * NDS_FRAG_LEN;

		mdls[i] = IoAllocateMdl(va, NDS_FRAG_LEN, FALSE, FALSE, NULL);
		if (!mdls[i])
			return -ENOMEM;
		MmBuildMdlForNonPagedPool(mdls[i]);
		if (i)
			mdls[i - 1]->next = mdls[i];
	}
	return 0;
}

static void nds_chain_free(PMDL *mdls)
{
	unsigned int i;

	for (i = 0; i < NDS_FRAGS; i++)
		if (mdls[i])
			IoFreeMdl(mdls[i]);
}

/*
 * A frame of twelve fragments on as many pieces of pages: more than the
 * adapter's nine map registers, so Build and Get both fail and the frame
 * is bounced through the pool; a receive is copied back after Put.
 */
static void nds_bounce(struct kunit *test)
{
	struct nds_fixture *fx = test->priv;
	PMDL mdls[NDS_FRAGS] = { };
	const DMA_OPERATIONS *ops;
	ULONG size = 0;

	KUNIT_ASSERT_EQ(test, nds_make(test, 1), 0);
	KUNIT_EXPECT_EQ(test, fx->map_registers, 9U);
	wdmdma_test_fill(fx->vb.va, WDMDMA_TEST_VBUF_PAGES * PAGE_SIZE, 0x33);
	if (nds_chain(test, mdls)) {
		nds_chain_free(mdls);
		KUNIT_FAIL(test, "no memory for the chain");
		return;
	}
	/* The adapter cannot map it as it is. */
	ops = fx->adapter->DmaOperations;
	KUNIT_EXPECT_EQ(test, ops->CalculateScatterGatherList(fx->adapter, mdls[0],
							      MmGetMdlVirtualAddress(mdls[0]),
							      NDS_FRAGS * NDS_FRAG_LEN,
							      &size, NULL),
			STATUS_INSUFFICIENT_RESOURCES);
	nds_both_ways(test, mdls[0], NDS_FRAGS * NDS_FRAG_LEN, NULL,
		      &fx->mp->stats.bounced);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->mp->stats.built), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->mp->stats.got), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->mp->stats.failed), 0);
	nds_chain_free(mdls);
}

/*
 * The pool has one buffer: while one bounced frame holds it, a second
 * fails with STATUS_INSUFFICIENT_RESOURCES and holds nothing; once the
 * first is completed, the second maps and moves its bytes.
 */
static void nds_pool_empty(struct kunit *test)
{
	struct nds_fixture *fx = test->priv;
	PMDL mdls[NDS_FRAGS] = { };
	struct nds_send first, second;
	struct nds_io io1, io2;
	PVOID buf1, buf2;
	ULONG length = NDS_FRAGS * NDS_FRAG_LEN;

	KUNIT_ASSERT_EQ(test, nds_make(test, 1), 0);
	buf1 = kunit_kzalloc(test, fx->mp->sg_size, GFP_KERNEL);
	buf2 = kunit_kzalloc(test, fx->mp->sg_size, GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, buf1 && buf2);
	wdmdma_test_fill(fx->vb.va, WDMDMA_TEST_VBUF_PAGES * PAGE_SIZE, 0x44);
	if (nds_chain(test, mdls)) {
		nds_chain_free(mdls);
		KUNIT_FAIL(test, "no memory for the chain");
		return;
	}
	nds_chain_frame(test, fx->want);

	nds_send_init(&first, &io1, fx->mp, mdls[0], length, TRUE, buf1);
	nds_send_init(&second, &io2, fx->mp, mdls[0], length, TRUE, buf2);
	KUNIT_EXPECT_EQ(test, nds_map(&first), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, nds_map(&second), STATUS_INSUFFICIENT_RESOURCES);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->mp->stats.failed), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&io2.calls), 0);
	KUNIT_EXPECT_EQ(test, second.pool_index, -1);
	KUNIT_EXPECT_EQ(test, atomic_read(&io1.calls), 1);
	if (first.sgl)
		KUNIT_EXPECT_EQ(test, nds_complete(&first), STATUS_SUCCESS);

	/* Tried again once the pool buffer is back. */
	memset(fx->wire, 0, length);
	KUNIT_EXPECT_EQ(test, nds_map(&second), STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&io2.calls), 1);
	if (second.sgl) {
		KUNIT_EXPECT_EQ(test, sample_dev_read(second.sgl, fx->wire,
						      length), (size_t)length);
		KUNIT_EXPECT_EQ(test, nds_complete(&second), STATUS_SUCCESS);
	}
	sample_expect_bytes(test, fx->wire, fx->want, length);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->mp->stats.bounced), 2);
	KUNIT_EXPECT_EQ(test, fx->mp->pool_busy, 0UL);
	nds_chain_free(mdls);
}

static int nds_suite_init(struct kunit_suite *suite)
{
	nds_pdev = wdmdma_test_pdev_create("wdmdma-sample-nds");
	return PTR_ERR_OR_ZERO(nds_pdev);
}

static void nds_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(nds_pdev);
	nds_pdev = NULL;
}

static struct kunit_case nds_cases[] = {
	KUNIT_CASE(nds_build),
	KUNIT_CASE(nds_get),
	KUNIT_CASE(nds_bounce),
	KUNIT_CASE(nds_pool_empty),
	{}
};

static struct kunit_suite nds_suite = {
	.name = "sample_ndis_send",
	.init = nds_init,
	.exit = nds_exit,
	.suite_init = nds_suite_init,
	.suite_exit = nds_suite_exit,
	.test_cases = nds_cases,
};

kunit_test_suite(nds_suite);

MODULE_DESCRIPTION("wdmdma sample: an NDIS miniport's scatter/gather send path");
MODULE_LICENSE("GPL");
