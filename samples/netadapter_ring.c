// SPDX-License-Identifier: GPL-2.0
/*
 * Sample: a NetAdapterCx-style transmit ring, ported to wdmdma.
 *
 * The DMA side of NetAdapterCx's transmit path as its documented call
 * sequence goes (written anew here), through Adapter->DmaOperations:
 *  - At start, CalculateScatterGatherList with a NULL MDL, PAGE_SIZE - 1 as
 *    the worst-case page offset and the largest packet sizes one list
 *    buffer, and every ring slot gets one: mapping a packet never
 *    allocates.
 *  - Per packet, BuildScatterGatherListEx with DMA_SYNCHRONOUS_CALLBACK
 *    into the slot's buffer: the list-control routine runs before the call
 *    returns, or the call fails and nothing is left waiting.
 *  - STATUS_INSUFFICIENT_RESOURCES (map registers or mapping space short
 *    now): try again later. The packet stays at the ring's next index and
 *    the packets behind it wait with it; completions free the resources
 *    and map it again.
 *  - STATUS_BUFFER_TOO_SMALL (more fragments than one contiguous buffer of
 *    the largest packet can have): bounce. The packet is copied into the
 *    slot's copy buffer, which is mapped instead; a packet too long for it
 *    is dropped.
 *  - Any other failure drops the packet; drops are counted.
 *  - At completion, PutScatterGatherList, and the slot is free again.
 *
 * The ring is driven by one caller at a time (NetAdapterCx serialises a
 * queue's advance); the list routines themselves may be called from any
 * context. The KUnit suite "sample_netadapter_ring" below plays the
 * client and the device.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/err.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/ntdma.h>

#include "sample_util.h"

/**
 * struct nxr_packet - a packet the client posts
 * @mdl: its fragments, as an MDL chain
 * @offset: its first byte, in bytes from the chain's first byte
 * @length: its length
 * @status: STATUS_PENDING until it is completed or dropped
 */
struct nxr_packet {
	PMDL mdl;
	ULONG offset;
	ULONG length;
	NTSTATUS status;
};

#define NXR_STATUS_PENDING	((NTSTATUS)0x00000103)

struct nxr_slot {
	DMA_TRANSFER_CONTEXT_STORAGE context;
	struct nxr_packet *packet;
	PVOID sg_buffer;
	PSCATTER_GATHER_LIST sgl;	/* what the device is given */
	PUCHAR bounce;
	PMDL bounce_mdl;
	BOOLEAN bounced;
};

/**
 * struct nxr_stats - what happened to the ring's packets
 * @mapped: packets mapped (bounced ones too)
 * @bounced: packets copied into a slot's copy buffer first
 * @retries: times a packet had to wait for resources
 * @dropped: packets dropped
 * @completed: packets the device completed
 */
struct nxr_stats {
	u64 mapped;
	u64 bounced;
	u64 retries;
	u64 dropped;
	u64 completed;
};

/*
 * Ring indices run freely; a packet's slot is its index modulo the ring
 * size. Packets [begin, next) are mapped (or dropped) and with the device,
 * [next, end) are posted and wait to be mapped.
 */
struct nxr_ring {
	PDMA_ADAPTER adapter;
	const DMA_OPERATIONS *ops;
	PDEVICE_OBJECT device;
	ULONG max_packet;
	ULONG sg_size;
	ULONG nr_slots;
	ULONG begin;
	ULONG next;
	ULONG end;
	struct nxr_stats stats;
	struct nxr_slot slots[];
};

static struct nxr_slot *nxr_slot(struct nxr_ring *ring, ULONG index)
{
	return &ring->slots[index & (ring->nr_slots - 1)];
}

/* The list-control routine: runs before BuildScatterGatherListEx returns. */
static VOID nxr_list_control(PDEVICE_OBJECT DeviceObject, PIRP Irp,
			     PSCATTER_GATHER_LIST ScatterGather, PVOID Context)
{
	struct nxr_slot *slot = Context;

	/* A real driver writes its transmit descriptors here. */
	slot->sgl = ScatterGather;
}

static void nxr_destroy(struct nxr_ring *ring);

/**
 * nxr_create() - set up a transmit ring
 * @adapter: the DMA adapter (IoGetDmaAdapter)
 * @device: the device object the list-control routine is to get
 * @nr_slots: ring size, a power of two
 * @max_packet: the largest packet
 *
 * Context: process context (allocates with GFP_KERNEL).
 * Return: the ring, or an ERR_PTR().
 */
static struct nxr_ring *nxr_create(PDMA_ADAPTER adapter, PDEVICE_OBJECT device,
				   ULONG nr_slots, ULONG max_packet)
{
	const DMA_OPERATIONS *ops = adapter->DmaOperations;
	struct nxr_ring *ring;
	ULONG size, map_registers, i;
	NTSTATUS status;

	if (!is_power_of_2(nr_slots))
		return ERR_PTR(-EINVAL);
	/* The worst case for one buffer of the largest packet. */
	status = ops->CalculateScatterGatherList(adapter, NULL,
						 (PVOID)(PAGE_SIZE - 1),
						 max_packet, &size,
						 &map_registers);
	if (!NT_SUCCESS(status))
		return ERR_PTR(-EINVAL);

	ring = kzalloc(struct_size(ring, slots, nr_slots), GFP_KERNEL);
	if (!ring)
		return ERR_PTR(-ENOMEM);
	ring->adapter = adapter;
	ring->ops = ops;
	ring->device = device;
	ring->max_packet = max_packet;
	ring->sg_size = size;
	ring->nr_slots = nr_slots;
	for (i = 0; i < nr_slots; i++) {
		struct nxr_slot *slot = &ring->slots[i];

		slot->sg_buffer = kmalloc(size, GFP_KERNEL);
		slot->bounce = kmalloc(max_packet, GFP_KERNEL);
		if (!slot->sg_buffer || !slot->bounce)
			goto fail;
		slot->bounce_mdl = IoAllocateMdl(slot->bounce, max_packet,
						 FALSE, FALSE, NULL);
		if (!slot->bounce_mdl)
			goto fail;
		MmBuildMdlForNonPagedPool(slot->bounce_mdl);
	}
	return ring;
fail:
	nxr_destroy(ring);
	return ERR_PTR(-ENOMEM);
}

/* Map a range into the slot's list buffer; never waits. */
static NTSTATUS nxr_build(struct nxr_ring *ring, struct nxr_slot *slot,
			  PMDL mdl, ULONG offset, ULONG length)
{
	ring->ops->InitializeDmaTransferContext(ring->adapter, &slot->context);
	return ring->ops->BuildScatterGatherListEx(ring->adapter, ring->device,
						   &slot->context, mdl, offset,
						   length,
						   DMA_SYNCHRONOUS_CALLBACK,
						   nxr_list_control, slot, TRUE,
						   slot->sg_buffer,
						   ring->sg_size, NULL, NULL,
						   NULL);
}

/* Map one packet: Build, or bounce and Build. */
static NTSTATUS nxr_map(struct nxr_ring *ring, struct nxr_slot *slot)
{
	struct nxr_packet *packet = slot->packet;
	NTSTATUS status;

	slot->sgl = NULL;
	slot->bounced = FALSE;
	/*
	 * Over the largest packet: dropped before any mapping. Past the
	 * adapter's MaximumLength, Build would say "insufficient resources",
	 * which is "try again later" to this ring: it would never go on.
	 */
	if (packet->length > ring->max_packet)
		return STATUS_BUFFER_TOO_SMALL;
	status = nxr_build(ring, slot, packet->mdl, packet->offset,
			   packet->length);
	if (status != STATUS_BUFFER_TOO_SMALL)
		return status;
	if (sample_mdl_copy(packet->mdl, packet->offset, slot->bounce,
			    packet->length, TRUE) != packet->length)
		return status;
	slot->bounced = TRUE;
	return nxr_build(ring, slot, slot->bounce_mdl, 0, packet->length);
}

/**
 * nxr_advance() - map the posted packets, in order, as far as resources go
 * @ring: the ring
 *
 * Context: any; does not sleep.
 * Return: the packets mapped now.
 */
static ULONG nxr_advance(struct nxr_ring *ring)
{
	ULONG mapped = 0;

	while (ring->next != ring->end) {
		struct nxr_slot *slot = nxr_slot(ring, ring->next);
		NTSTATUS status = nxr_map(ring, slot);

		if (status == STATUS_INSUFFICIENT_RESOURCES) {
			/* Try again later: the packet keeps its place. */
			ring->stats.retries++;
			break;
		}
		if (NT_SUCCESS(status)) {
			ring->stats.mapped++;
			if (slot->bounced)
				ring->stats.bounced++;
			mapped++;
		} else {
			slot->packet->status = status;
			ring->stats.dropped++;
		}
		ring->next++;
	}
	return mapped;
}

/**
 * nxr_post() - give the ring a packet to send
 * @ring: the ring
 * @packet: the packet; the ring's until it is completed or dropped
 *
 * Context: any.
 * Return: 0, or -ENOSPC if the ring is full.
 */
static int nxr_post(struct nxr_ring *ring, struct nxr_packet *packet)
{
	if (ring->end - ring->begin == ring->nr_slots)
		return -ENOSPC;
	packet->status = NXR_STATUS_PENDING;
	nxr_slot(ring, ring->end)->packet = packet;
	ring->end++;
	return 0;
}

/* The list of the @n-th packet with the device (NULL: dropped or none). */
static PSCATTER_GATHER_LIST nxr_programmed(struct nxr_ring *ring, ULONG n)
{
	if (n >= ring->next - ring->begin)
		return NULL;
	return nxr_slot(ring, ring->begin + n)->sgl;
}

/**
 * nxr_complete() - the device is done with the @n oldest packets
 * @ring: the ring
 * @n: how many
 *
 * Puts their lists, then maps the packets that waited for resources.
 *
 * Context: any; does not sleep.
 */
static void nxr_complete(struct nxr_ring *ring, ULONG n)
{
	while (n-- && ring->begin != ring->next) {
		struct nxr_slot *slot = nxr_slot(ring, ring->begin);

		if (slot->sgl) {
			ring->ops->PutScatterGatherList(ring->adapter,
							slot->sgl, TRUE);
			slot->sgl = NULL;
			slot->packet->status = STATUS_SUCCESS;
			ring->stats.completed++;
		}
		slot->packet = NULL;
		ring->begin++;
	}
	nxr_advance(ring);
}

/* Put what the device still holds and free the ring. */
static void nxr_destroy(struct nxr_ring *ring)
{
	ULONG i;

	if (IS_ERR_OR_NULL(ring))
		return;
	ring->end = ring->next;
	nxr_complete(ring, ring->nr_slots);
	for (i = 0; i < ring->nr_slots; i++) {
		struct nxr_slot *slot = &ring->slots[i];

		if (slot->bounce_mdl)
			IoFreeMdl(slot->bounce_mdl);
		kfree(slot->bounce);
		kfree(slot->sg_buffer);
	}
	kfree(ring);
}

/* --- KUnit suite "sample_netadapter_ring" --------------------------------- */

#include "sample_test.h"

#define NXR_SLOTS	8
#define NXR_MAX_PACKET	(PAGE_SIZE + 500)
#define NXR_ADAPTER_MAX	SZ_64K
#define NXR_BUF_PAGES	8

static struct platform_device *nxr_pdev;

struct nxr_fixture {
	PDMA_ADAPTER adapter;
	ULONG map_registers;
	struct wdmdma_test_vbuf vb;
	PMDL mdl;			/* all of vb */
	u8 *seen;
};

static int nxr_fixture_init(struct kunit *test, BOOLEAN scatter_gather,
			    ULONG max_length)
{
	struct nxr_fixture *fx = test->priv;

	fx->adapter = sample_get_adapter(&nxr_pdev->dev, scatter_gather,
					 max_length, &fx->map_registers);
	if (!fx->adapter)
		return -ENODEV;
	return 0;
}

static int nxr_init(struct kunit *test)
{
	struct nxr_fixture *fx;

	if (IS_ERR_OR_NULL(nxr_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	fx->seen = kunit_kzalloc(test, NXR_ADAPTER_MAX, GFP_KERNEL);
	if (!fx->seen || !wdmdma_test_vbuf_alloc(&fx->vb, NXR_BUF_PAGES))
		return -ENOMEM;
	wdmdma_test_fill(fx->vb.va, NXR_BUF_PAGES * PAGE_SIZE, 0x3c);
	fx->mdl = IoAllocateMdl(fx->vb.va, NXR_BUF_PAGES * PAGE_SIZE, FALSE,
				FALSE, NULL);
	if (!fx->mdl) {
		wdmdma_test_vbuf_free(&fx->vb);
		return -ENOMEM;
	}
	MmBuildMdlForNonPagedPool(fx->mdl);
	test->priv = fx;
	return 0;
}

static void nxr_exit(struct kunit *test)
{
	struct nxr_fixture *fx = test->priv;

	if (!fx)
		return;
	if (fx->adapter)
		fx->adapter->DmaOperations->PutDmaAdapter(fx->adapter);
	IoFreeMdl(fx->mdl);
	wdmdma_test_vbuf_free(&fx->vb);
}

/* The device sends packet @n of the ring; check the bytes against @want. */
static void nxr_check_sent(struct kunit *test, struct nxr_ring *ring, ULONG n,
			   const void *want, ULONG length)
{
	struct nxr_fixture *fx = test->priv;
	PSCATTER_GATHER_LIST sgl = nxr_programmed(ring, n);

	KUNIT_ASSERT_NOT_NULL(test, sgl);
	KUNIT_EXPECT_EQ(test, sample_sgl_bytes(sgl), length);
	memset(fx->seen, 0, length);
	KUNIT_EXPECT_EQ(test, sample_dev_read(sgl, fx->seen, length),
			(size_t)length);
	sample_expect_bytes(test, fx->seen, want, length);
}

/*
 * Two rounds of a full ring of packets at assorted offsets and lengths,
 * some across a page boundary of a discontiguous buffer: every packet is
 * mapped in its slot's buffer and the device reads its bytes.
 */
static void nxr_send(struct kunit *test)
{
	struct nxr_fixture *fx = test->priv;
	struct nxr_packet pkt[NXR_SLOTS];
	const DMA_OPERATIONS *ops;
	struct nxr_ring *ring;
	ULONG size, regs, round, i;

	KUNIT_ASSERT_EQ(test, nxr_fixture_init(test, TRUE, NXR_ADAPTER_MAX), 0);
	ring = nxr_create(fx->adapter, &nxr_pdev->dev, NXR_SLOTS,
			  NXR_MAX_PACKET);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ring);
	/* Sized for the largest packet at the worst offset: three pages. */
	ops = fx->adapter->DmaOperations;
	KUNIT_EXPECT_EQ(test, ops->CalculateScatterGatherList(fx->adapter, NULL,
							      (PVOID)(PAGE_SIZE - 1),
							      NXR_MAX_PACKET,
							      &size, &regs),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, regs, 3U);
	KUNIT_EXPECT_EQ(test, ring->sg_size, size);

	for (round = 0; round < 2; round++) {
		for (i = 0; i < NXR_SLOTS; i++) {
			pkt[i].mdl = fx->mdl;
			pkt[i].offset = i * (PAGE_SIZE - 300) + round * 64 + 60;
			pkt[i].length = NXR_MAX_PACKET - i * 150 - round;
			KUNIT_ASSERT_EQ(test, nxr_post(ring, &pkt[i]), 0);
		}
		KUNIT_EXPECT_EQ(test, nxr_post(ring, &pkt[0]), -ENOSPC);
		KUNIT_EXPECT_EQ(test, nxr_advance(ring), (ULONG)NXR_SLOTS);
		for (i = 0; i < NXR_SLOTS; i++)
			nxr_check_sent(test, ring, i,
				       (u8 *)fx->vb.va + pkt[i].offset,
				       pkt[i].length);
		nxr_complete(ring, NXR_SLOTS);
		for (i = 0; i < NXR_SLOTS; i++)
			KUNIT_EXPECT_EQ(test, pkt[i].status, STATUS_SUCCESS);
	}
	KUNIT_EXPECT_EQ(test, ring->stats.mapped, 2ULL * NXR_SLOTS);
	KUNIT_EXPECT_EQ(test, ring->stats.completed, 2ULL * NXR_SLOTS);
	KUNIT_EXPECT_EQ(test, ring->stats.bounced, 0ULL);
	KUNIT_EXPECT_EQ(test, ring->stats.retries, 0ULL);
	KUNIT_EXPECT_EQ(test, ring->stats.dropped, 0ULL);
	nxr_destroy(ring);
}

/*
 * STATUS_BUFFER_TOO_SMALL: a packet of four fragments on four pages needs
 * more than the slot's three-page list, so it is bounced through the copy
 * buffer and the device reads the fragments in order. Packets over the
 * largest, one within the adapter's MaximumLength and one over it (where
 * Build would say STATUS_INSUFFICIENT_RESOURCES), are dropped, counted,
 * and the ring goes on.
 */
static void nxr_bounce(struct kunit *test)
{
	struct nxr_fixture *fx = test->priv;
	struct nxr_packet frag = { }, mid = { }, big = { }, after = { };
	struct sample_chain chain;
	struct nxr_ring *ring;
	void *big_va;
	u8 *want;
	ULONG i;

	KUNIT_ASSERT_EQ(test, nxr_fixture_init(test, TRUE, NXR_ADAPTER_MAX), 0);
	KUNIT_ASSERT_EQ(test, sample_chain_build(&chain, &fx->vb, 4, 1000, 300),
			0);
	want = kunit_kzalloc(test, chain.length, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	for (i = 0; i < 4; i++)
		memcpy(want + i * 300, (u8 *)fx->vb.va + i * PAGE_SIZE + 1000,
		       300);

	ring = nxr_create(fx->adapter, &nxr_pdev->dev, NXR_SLOTS,
			  NXR_MAX_PACKET);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ring);
	frag.mdl = chain.mdl[0];
	frag.length = chain.length;
	big_va = vmalloc(NXR_ADAPTER_MAX + PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, big_va);
	big.mdl = IoAllocateMdl(big_va, NXR_ADAPTER_MAX + PAGE_SIZE, FALSE,
				FALSE, NULL);
	if (!big.mdl)
		vfree(big_va);
	KUNIT_ASSERT_NOT_NULL(test, big.mdl);
	MmBuildMdlForNonPagedPool(big.mdl);
	big.offset = 10;
	big.length = NXR_ADAPTER_MAX + 1;
	mid.mdl = fx->mdl;
	mid.offset = 10;
	mid.length = 3 * PAGE_SIZE;
	after.mdl = fx->mdl;
	after.offset = 5 * PAGE_SIZE + 7;
	after.length = 1000;
	KUNIT_EXPECT_EQ(test, nxr_post(ring, &frag), 0);
	KUNIT_EXPECT_EQ(test, nxr_post(ring, &mid), 0);
	KUNIT_EXPECT_EQ(test, nxr_post(ring, &big), 0);
	KUNIT_EXPECT_EQ(test, nxr_post(ring, &after), 0);
	KUNIT_EXPECT_EQ(test, nxr_advance(ring), 2U);
	KUNIT_EXPECT_EQ(test, ring->stats.bounced, 1ULL);
	KUNIT_EXPECT_EQ(test, ring->stats.dropped, 2ULL);
	KUNIT_EXPECT_EQ(test, mid.status, STATUS_BUFFER_TOO_SMALL);
	KUNIT_EXPECT_EQ(test, big.status, STATUS_BUFFER_TOO_SMALL);
	nxr_check_sent(test, ring, 0, want, chain.length);
	KUNIT_EXPECT_NULL(test, nxr_programmed(ring, 1));
	KUNIT_EXPECT_NULL(test, nxr_programmed(ring, 2));
	nxr_check_sent(test, ring, 3, (u8 *)fx->vb.va + after.offset,
		       after.length);
	nxr_complete(ring, 4);
	KUNIT_EXPECT_EQ(test, frag.status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, after.status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ring->stats.completed, 2ULL);
	nxr_destroy(ring);
	IoFreeMdl(big.mdl);
	vfree(big_va);
	sample_chain_free(&chain);
}

/*
 * STATUS_INSUFFICIENT_RESOURCES: on a one-element device the map
 * registers cover one largest packet. Two packets across a page boundary
 * of a discontiguous buffer both need them: the second is not mapped and
 * not dropped, and neither is the one behind it; once the first completes
 * both go out, and the device reads the right bytes.
 */
static void nxr_retry(struct kunit *test)
{
	struct nxr_fixture *fx = test->priv;
	struct nxr_packet pkt[3] = { };
	struct nxr_ring *ring;
	ULONG i;

	KUNIT_ASSERT_EQ(test, nxr_fixture_init(test, FALSE, NXR_MAX_PACKET), 0);
	ring = nxr_create(fx->adapter, &nxr_pdev->dev, NXR_SLOTS,
			  NXR_MAX_PACKET);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ring);
	for (i = 0; i < 3; i++) {
		pkt[i].mdl = fx->mdl;
		/* Packets 0 and 1 cross a page boundary; 2 does not. */
		pkt[i].offset = (2 * i + 1) * PAGE_SIZE - (i < 2 ? 700 : 0);
		pkt[i].length = i < 2 ? NXR_MAX_PACKET : 600;
		KUNIT_ASSERT_EQ(test, nxr_post(ring, &pkt[i]), 0);
	}
	KUNIT_EXPECT_EQ(test, nxr_advance(ring), 1U);
	KUNIT_EXPECT_EQ(test, ring->stats.retries, 1ULL);
	KUNIT_EXPECT_EQ(test, ring->stats.dropped, 0ULL);
	KUNIT_EXPECT_EQ(test, pkt[1].status, NXR_STATUS_PENDING);
	KUNIT_EXPECT_EQ(test, ring->next - ring->begin, 1U);
	nxr_check_sent(test, ring, 0, (u8 *)fx->vb.va + pkt[0].offset,
		       pkt[0].length);
	/* A one-element device gets one element. */
	KUNIT_EXPECT_EQ(test, nxr_programmed(ring, 0)->NumberOfElements, 1U);

	nxr_complete(ring, 1);
	KUNIT_EXPECT_EQ(test, pkt[0].status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ring->next - ring->begin, 2U);
	for (i = 1; i < 3; i++)
		nxr_check_sent(test, ring, i - 1,
			       (u8 *)fx->vb.va + pkt[i].offset, pkt[i].length);
	nxr_complete(ring, 2);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, pkt[i].status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ring->stats.mapped, 3ULL);
	KUNIT_EXPECT_EQ(test, ring->stats.dropped, 0ULL);
	nxr_destroy(ring);
}

static int nxr_suite_init(struct kunit_suite *suite)
{
	nxr_pdev = wdmdma_test_pdev_create("wdmdma-sample-nxr");
	return PTR_ERR_OR_ZERO(nxr_pdev);
}

static void nxr_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(nxr_pdev);
	nxr_pdev = NULL;
}

static struct kunit_case nxr_cases[] = {
	KUNIT_CASE(nxr_send),
	KUNIT_CASE(nxr_bounce),
	KUNIT_CASE(nxr_retry),
	{}
};

static struct kunit_suite nxr_suite = {
	.name = "sample_netadapter_ring",
	.init = nxr_init,
	.exit = nxr_exit,
	.suite_init = nxr_suite_init,
	.suite_exit = nxr_suite_exit,
	.test_cases = nxr_cases,
};

kunit_test_suite(nxr_suite);

MODULE_DESCRIPTION("wdmdma sample: a NetAdapterCx-style transmit ring");
MODULE_LICENSE("GPL");
