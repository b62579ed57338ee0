// SPDX-License-Identifier: GPL-2.0
/*
 * Sample: a KMDF-style scatter/gather DMA transaction, ported to wdmdma.
 *
 * What KMDF's DMA enabler and transaction objects do underneath, as their
 * documented call sequence goes (written anew here), through
 * Adapter->DmaOperations:
 *  - Enabler creation: IoGetDmaAdapter, then CalculateScatterGatherList
 *    with a NULL MDL for the largest transfer, asserting that the list
 *    needs exactly the NumberOfMapRegisters the adapter was given (KMDF
 *    asks with NumberOfMapRegisters x PAGE_SIZE at page offset 0; wdmdma
 *    refuses a length over the adapter's MaximumLength with
 *    STATUS_BUFFER_TOO_SMALL, so this asks with MaximumLength at the
 *    worst page offset, PAGE_SIZE - 1, which spans the same pages and
 *    sizes the same list).
 *  - Transaction creation preallocates one list buffer of that size, so
 *    a transaction never fails for memory.
 *  - A transfer longer than the largest runs in stages. Each stage calls
 *    BuildScatterGatherListEx into the transaction's buffer when it has
 *    one, else GetScatterGatherListEx, with the transaction's
 *    DMA_TRANSFER_CONTEXT. The list-control routine programs the device
 *    (EvtProgramDma). After the call the stage never touches the
 *    transaction again: the routine may already have run on another CPU,
 *    and the device may have completed the stage.
 *  - When the device has done a stage (WdfDmaTransactionDmaCompleted):
 *    PutScatterGatherList, then the next stage or the end.
 *
 * One stage of a transaction is in flight at a time; the suite
 * "sample_kmdf_sg_txn" below plays the driver and the device.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>

#include <wdmdma/ntdma.h>

#include "../src/compat.h"
#include "sample_util.h"

/**
 * struct kst_enabler - the DMA enabler
 * @adapter: the adapter
 * @ops: its DMA_OPERATIONS
 * @device: the device object
 * @map_registers: what IoGetDmaAdapter granted
 * @max_length: the largest stage
 * @sg_size: the list buffer a stage of @max_length needs at most
 */
struct kst_enabler {
	PDMA_ADAPTER adapter;
	const DMA_OPERATIONS *ops;
	PDEVICE_OBJECT device;
	ULONG map_registers;
	ULONG max_length;
	ULONG sg_size;
};

struct kst_txn;

/* EvtProgramDma: give the device a stage; runs from the list-control routine. */
typedef void (*kst_program_t)(struct kst_txn *txn, PSCATTER_GATHER_LIST sgl);

/**
 * struct kst_txn - a DMA transaction
 * @enabler: its enabler
 * @context: the DMA_TRANSFER_CONTEXT of its stages
 * @sg_buffer: its list buffer, or NULL (stages use Get)
 * @mdl: the transfer's MDL chain
 * @offset: where the transfer starts in it
 * @length: the transfer's length
 * @write: to the device
 * @done: bytes transferred by finished stages
 * @stage_length: the length of the stage in flight
 * @stages: stages started
 * @sgl: the list of the stage in flight
 * @status: how the transaction ended
 * @program: EvtProgramDma
 * @driver_context: for @program
 */
struct kst_txn {
	struct kst_enabler *enabler;
	DMA_TRANSFER_CONTEXT_STORAGE context;
	PVOID sg_buffer;
	PMDL mdl;
	ULONG offset;
	ULONG length;
	BOOLEAN write;
	ULONG done;
	ULONG stage_length;
	ULONG stages;
	PSCATTER_GATHER_LIST sgl;
	NTSTATUS status;
	kst_program_t program;
	void *driver_context;
};

/**
 * kst_enabler_create() - create the DMA enabler of a device
 * @device: the device
 * @max_length: the device's largest transfer (a stage)
 *
 * Context: process context; sleeps.
 * Return: the enabler, or an ERR_PTR().
 */
static struct kst_enabler *kst_enabler_create(PDEVICE_OBJECT device,
					      ULONG max_length)
{
	DEVICE_DESCRIPTION dd = { };
	struct kst_enabler *en;
	ULONG map_registers;
	NTSTATUS status;

	en = kzalloc_obj(*en, GFP_KERNEL);
	if (!en)
		return ERR_PTR(-ENOMEM);
	dd.Version = DEVICE_DESCRIPTION_VERSION3;
	dd.Master = TRUE;
	dd.ScatterGather = TRUE;
	dd.Dma64BitAddresses = TRUE;
	dd.DmaAddressWidth = 64;
	dd.MaximumLength = max_length;
	en->adapter = IoGetDmaAdapter(device, &dd, &en->map_registers);
	if (!en->adapter) {
		kfree(en);
		return ERR_PTR(-ENODEV);
	}
	en->ops = en->adapter->DmaOperations;
	en->device = device;
	en->max_length = max_length;
	status = en->ops->CalculateScatterGatherList(en->adapter, NULL,
						     (PVOID)(PAGE_SIZE - 1),
						     max_length, &en->sg_size,
						     &map_registers);
	/* KMDF asserts this: the adapter's registers cover the largest stage. */
	if (WARN_ON(!NT_SUCCESS(status) ||
		    map_registers != en->map_registers)) {
		en->ops->PutDmaAdapter(en->adapter);
		kfree(en);
		return ERR_PTR(-EINVAL);
	}
	return en;
}

static void kst_enabler_destroy(struct kst_enabler *en)
{
	en->ops->PutDmaAdapter(en->adapter);
	kfree(en);
}

/**
 * kst_txn_create() - create a transaction
 * @en: the enabler
 * @preallocate: give it a list buffer (as KMDF does); false: its stages
 *	use GetScatterGatherListEx
 *
 * Context: process context.
 * Return: the transaction, or NULL.
 */
static struct kst_txn *kst_txn_create(struct kst_enabler *en, bool preallocate)
{
	struct kst_txn *txn = kzalloc_obj(*txn, GFP_KERNEL);

	if (!txn)
		return NULL;
	txn->enabler = en;
	if (preallocate) {
		txn->sg_buffer = kmalloc(en->sg_size, GFP_KERNEL);
		if (!txn->sg_buffer) {
			kfree(txn);
			return NULL;
		}
	}
	return txn;
}

static void kst_txn_free(struct kst_txn *txn)
{
	kfree(txn->sg_buffer);
	kfree(txn);
}

static VOID kst_list_control(PDEVICE_OBJECT DeviceObject, PIRP Irp,
			     PSCATTER_GATHER_LIST ScatterGather, PVOID Context)
{
	struct kst_txn *txn = Context;

	/* wdmdma: a stage that waited and then could not be mapped. */
	if (!ScatterGather) {
		txn->status = STATUS_IO_DEVICE_ERROR;
		txn->program(txn, NULL);
		return;
	}
	txn->sgl = ScatterGather;
	txn->program(txn, ScatterGather);
}

/* Start the next stage; after the call the transaction is not ours. */
static NTSTATUS kst_stage(struct kst_txn *txn)
{
	struct kst_enabler *en = txn->enabler;
	ULONG length = min(txn->length - txn->done, en->max_length);
	ULONGLONG offset = (ULONGLONG)txn->offset + txn->done;

	txn->stage_length = length;
	txn->stages++;
	txn->sgl = NULL;
	en->ops->InitializeDmaTransferContext(en->adapter, &txn->context);
	if (txn->sg_buffer)
		return en->ops->BuildScatterGatherListEx(en->adapter,
							 en->device,
							 &txn->context,
							 txn->mdl, offset,
							 length, 0,
							 kst_list_control, txn,
							 txn->write,
							 txn->sg_buffer,
							 en->sg_size, NULL,
							 NULL, NULL);
	return en->ops->GetScatterGatherListEx(en->adapter, en->device,
					       &txn->context, txn->mdl,
					       offset, length, 0,
					       kst_list_control, txn,
					       txn->write, NULL, NULL, NULL);
}

/**
 * kst_txn_execute() - start a transfer (WdfDmaTransactionInitialize and
 *	WdfDmaTransactionExecute)
 * @txn: an idle transaction
 * @mdl: the buffer
 * @offset: where the transfer starts in @mdl
 * @length: its length, any multiple of the largest stage
 * @write: to the device
 * @program: EvtProgramDma, called for each stage with its list
 * @driver_context: for @program
 *
 * Context: any; does not sleep.
 * Return: STATUS_SUCCESS (the first stage has been or will be programmed),
 * or the error of its Build/Get (nothing is programmed).
 */
static NTSTATUS kst_txn_execute(struct kst_txn *txn, PMDL mdl, ULONG offset,
				ULONG length, BOOLEAN write,
				kst_program_t program, void *driver_context)
{
	if (!length)
		return STATUS_INVALID_PARAMETER;
	txn->mdl = mdl;
	txn->offset = offset;
	txn->length = length;
	txn->write = write;
	txn->done = 0;
	txn->stages = 0;
	txn->status = STATUS_SUCCESS;
	txn->program = program;
	txn->driver_context = driver_context;
	return kst_stage(txn);
}

/**
 * kst_txn_dma_completed() - the device has done the stage in flight
 *	(WdfDmaTransactionDmaCompleted)
 * @txn: the transaction
 *
 * Puts the stage's list and starts the next stage, if any.
 *
 * Context: any; does not sleep.
 * Return: true if the transaction is over (@txn->status says how), false
 * if a next stage has been started.
 */
static bool kst_txn_dma_completed(struct kst_txn *txn)
{
	struct kst_enabler *en = txn->enabler;
	NTSTATUS status;

	en->ops->PutScatterGatherList(en->adapter, txn->sgl, txn->write);
	txn->sgl = NULL;
	txn->done += txn->stage_length;
	if (txn->done == txn->length)
		return true;
	status = kst_stage(txn);
	if (NT_SUCCESS(status))
		return false;
	txn->status = status;
	return true;
}

/* --- KUnit suite "sample_kmdf_sg_txn" ------------------------------------- */

#include "sample_test.h"

#define KST_MAX		(3 * PAGE_SIZE)		/* the largest stage */
#define KST_PAGES	8
#define KST_OFF		100
#define KST_LEN		(KST_PAGES * PAGE_SIZE - 300)	/* two full stages and a part */

static struct platform_device *kst_pdev;

/* The driver's side of a transaction: what its EvtProgramDma saw. */
struct kst_io {
	struct kst_txn *txn;
	struct completion programmed;
	atomic_t calls;
	PSCATTER_GATHER_LIST sgl;
	struct task_struct *task;
};

static void kst_program(struct kst_txn *txn, PSCATTER_GATHER_LIST sgl)
{
	struct kst_io *io = txn->driver_context;

	io->sgl = sgl;
	io->task = current;
	atomic_inc(&io->calls);
	complete(&io->programmed);
}

struct kst_fixture {
	struct kst_enabler *en;
	struct wdmdma_test_vbuf vb;
	PMDL mdl;
	u8 *data;	/* what the device holds */
};

static int kst_init(struct kunit *test)
{
	struct kst_fixture *fx;

	if (IS_ERR_OR_NULL(kst_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	fx->data = kunit_kzalloc(test, KST_PAGES * PAGE_SIZE, GFP_KERNEL);
	if (!fx->data || !wdmdma_test_vbuf_alloc(&fx->vb, KST_PAGES))
		return -ENOMEM;
	fx->mdl = IoAllocateMdl(fx->vb.va, KST_PAGES * PAGE_SIZE, FALSE, FALSE,
				NULL);
	if (!fx->mdl) {
		wdmdma_test_vbuf_free(&fx->vb);
		return -ENOMEM;
	}
	MmBuildMdlForNonPagedPool(fx->mdl);
	fx->en = kst_enabler_create(&kst_pdev->dev, KST_MAX);
	if (IS_ERR(fx->en)) {
		IoFreeMdl(fx->mdl);
		wdmdma_test_vbuf_free(&fx->vb);
		return PTR_ERR(fx->en);
	}
	test->priv = fx;
	return 0;
}

static void kst_exit(struct kunit *test)
{
	struct kst_fixture *fx = test->priv;

	if (!fx)
		return;
	kst_enabler_destroy(fx->en);
	IoFreeMdl(fx->mdl);
	wdmdma_test_vbuf_free(&fx->vb);
}

static void kst_io_init(struct kst_io *io, struct kst_txn *txn)
{
	memset(io, 0, sizeof(*io));
	io->txn = txn;
	init_completion(&io->programmed);
	atomic_set(&io->calls, 0);
}

static bool kst_wait(struct kst_io *io)
{
	return wait_for_completion_timeout(&io->programmed,
				msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)) != 0;
}

/*
 * Play the device for a started transaction: each stage's data moves
 * between its list and @fx->data at the stage's place, then the stage is
 * completed. Return the stages seen (0 on a failure already reported).
 */
static ULONG kst_run(struct kunit *test, struct kst_io *io)
{
	struct kst_fixture *fx = test->priv;
	struct kst_txn *txn = io->txn;
	ULONG stages = 0;
	bool over;

	do {
		ULONG at, len;

		if (!kst_wait(io)) {
			KUNIT_FAIL(test, "stage %u was never programmed",
				   stages + 1);
			return 0;
		}
		reinit_completion(&io->programmed);
		KUNIT_ASSERT_NOT_NULL(test, io->sgl);
		if (txn->sg_buffer)	/* Built in the transaction's buffer */
			KUNIT_EXPECT_TRUE(test, (void *)io->sgl >= txn->sg_buffer &&
					  (void *)io->sgl < txn->sg_buffer +
						txn->enabler->sg_size);
		at = txn->done;
		len = txn->stage_length;
		KUNIT_EXPECT_LE(test, len, (ULONG)KST_MAX);
		KUNIT_EXPECT_EQ(test, sample_sgl_bytes(io->sgl), len);
		if (txn->write)
			KUNIT_EXPECT_EQ(test, sample_dev_read(io->sgl,
							      fx->data + at, len),
					(size_t)len);
		else
			KUNIT_EXPECT_EQ(test, sample_dev_write(io->sgl,
							       fx->data + at, len),
					(size_t)len);
		stages++;
		over = kst_txn_dma_completed(txn);
	} while (!over);
	KUNIT_EXPECT_EQ(test, txn->status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, txn->done, txn->length);
	KUNIT_EXPECT_EQ(test, (ULONG)atomic_read(&io->calls), stages);
	return stages;
}

/* A write, then a read into a cleared buffer, of one transaction; bytes checked. */
static void kst_write_read(struct kunit *test, bool preallocate)
{
	struct kst_fixture *fx = test->priv;
	struct kst_txn *txn;
	struct kst_io io;
	u8 *buf = fx->vb.va;

	txn = kst_txn_create(fx->en, preallocate);
	KUNIT_ASSERT_NOT_NULL(test, txn);
	KUNIT_EXPECT_EQ(test, !!txn->sg_buffer, preallocate);

	/* Write: the device reads three stages. */
	wdmdma_test_fill(buf, KST_PAGES * PAGE_SIZE, 0x51);
	memset(fx->data, 0, KST_LEN);
	kst_io_init(&io, txn);
	KUNIT_EXPECT_EQ(test, kst_txn_execute(txn, fx->mdl, KST_OFF, KST_LEN,
					      TRUE, kst_program, &io),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, kst_run(test, &io), 3U);
	sample_expect_bytes(test, fx->data, buf + KST_OFF, KST_LEN);

	/* Read: the device writes a new pattern over a cleared buffer. */
	memset(buf, 0, KST_PAGES * PAGE_SIZE);
	wdmdma_test_fill(fx->data, KST_LEN, 0xa7);
	kst_io_init(&io, txn);
	KUNIT_EXPECT_EQ(test, kst_txn_execute(txn, fx->mdl, KST_OFF, KST_LEN,
					      FALSE, kst_program, &io),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, kst_run(test, &io), 3U);
	sample_expect_bytes(test, buf + KST_OFF, fx->data, KST_LEN);
	/* Nothing outside the transfer was written. */
	KUNIT_EXPECT_EQ(test, buf[KST_OFF - 1], 0);
	KUNIT_EXPECT_EQ(test, buf[KST_OFF + KST_LEN], 0);
	kst_txn_free(txn);
}

/*
 * The enabler: the list for the largest stage needs exactly the map
 * registers the adapter granted (it would not be created otherwise).
 */
static void kst_enabler_sizes(struct kunit *test)
{
	struct kst_fixture *fx = test->priv;

	KUNIT_EXPECT_EQ(test, fx->en->map_registers,
			(ULONG)DIV_ROUND_UP(KST_MAX + PAGE_SIZE - 1, PAGE_SIZE));
	KUNIT_EXPECT_GT(test, fx->en->sg_size,
			(ULONG)(fx->en->map_registers *
				sizeof(SCATTER_GATHER_ELEMENT)));
}

/* Stages built in the transaction's preallocated buffer. */
static void kst_build_stages(struct kunit *test)
{
	kst_write_read(test, true);
}

/* A transaction without a buffer: its stages use GetScatterGatherListEx. */
static void kst_get_stages(struct kunit *test)
{
	kst_write_read(test, false);
}

/*
 * No memory: with every allocation of this task failing, a transaction
 * with its buffer runs all its stages, each programmed before the call
 * that started it returned. Of two without one, the first gets the adapter's
 * reserve list; the second waits, and its stage is programmed later from
 * wdmdma's work item, on whatever CPU that runs: the transaction was left
 * alone after the call. Writes only (DMA-API debug allocates for mappings
 * the device writes). Every stage's bytes are checked.
 */
static void kst_no_memory(struct kunit *test)
{
	struct kst_fixture *fx = test->priv;
	struct kst_txn *built, *first, *second;
	struct kst_io io_built, io_first, io_second;
	NTSTATUS status, status2;
	u8 *buf = fx->vb.va;
	ULONG stages;

	built = kst_txn_create(fx->en, true);
	first = kst_txn_create(fx->en, false);
	second = kst_txn_create(fx->en, false);
	KUNIT_ASSERT_TRUE(test, built && first && second);
	wdmdma_test_fill(buf, KST_PAGES * PAGE_SIZE, 0x2d);
	kst_io_init(&io_built, built);
	kst_io_init(&io_first, first);
	kst_io_init(&io_second, second);

	/* Every stage started and done with allocations failing. */
	memset(fx->data, 0, KST_LEN);
	stages = 0;
	if (!wdmdma_test_fail_arm(test))
		goto out;
	status = kst_txn_execute(built, fx->mdl, KST_OFF, KST_LEN, TRUE,
				 kst_program, &io_built);
	while (NT_SUCCESS(status) &&
	       atomic_read(&io_built.calls) == stages + 1 && io_built.sgl) {
		sample_dev_read(io_built.sgl, fx->data + built->done,
				built->stage_length);
		stages++;
		if (kst_txn_dma_completed(built))
			break;
	}
	wdmdma_test_fail_disarm();
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, stages, 3U);
	KUNIT_EXPECT_EQ(test, built->status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, built->done, (ULONG)KST_LEN);
	sample_expect_bytes(test, fx->data, buf + KST_OFF, KST_LEN);

	memset(fx->data, 0, KST_LEN);
	if (!wdmdma_test_fail_arm(test))
		goto out;
	status = kst_txn_execute(first, fx->mdl, 0, PAGE_SIZE, TRUE,
				 kst_program, &io_first);
	status2 = kst_txn_execute(second, fx->mdl, KST_OFF, KST_MAX, TRUE,
				  kst_program, &io_second);
	wdmdma_test_fail_disarm();
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, status2, STATUS_SUCCESS);
	/* The first has the reserve and was programmed in this task. */
	KUNIT_EXPECT_EQ(test, atomic_read(&io_first.calls), 1);
	KUNIT_EXPECT_PTR_EQ(test, io_first.task, current);
	KUNIT_EXPECT_EQ(test, kst_run(test, &io_first), 1U);
	sample_expect_bytes(test, fx->data, buf, PAGE_SIZE);
	/* The second waited: programmed from the work item. */
	KUNIT_EXPECT_EQ(test, kst_run(test, &io_second), 1U);
	KUNIT_EXPECT_PTR_NE(test, io_second.task, current);
	sample_expect_bytes(test, fx->data, buf + KST_OFF, KST_MAX);
out:
	kst_txn_free(second);
	kst_txn_free(first);
	kst_txn_free(built);
}

static int kst_suite_init(struct kunit_suite *suite)
{
	kst_pdev = wdmdma_test_pdev_create("wdmdma-sample-kst");
	return PTR_ERR_OR_ZERO(kst_pdev);
}

static void kst_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(kst_pdev);
	kst_pdev = NULL;
}

static struct kunit_case kst_cases[] = {
	KUNIT_CASE(kst_enabler_sizes),
	KUNIT_CASE(kst_build_stages),
	KUNIT_CASE(kst_get_stages),
	KUNIT_CASE(kst_no_memory),
	{}
};

static struct kunit_suite kst_suite = {
	.name = "sample_kmdf_sg_txn",
	.init = kst_init,
	.exit = kst_exit,
	.suite_init = kst_suite_init,
	.suite_exit = kst_suite_exit,
	.test_cases = kst_cases,
};

kunit_test_suite(kst_suite);

MODULE_DESCRIPTION("wdmdma sample: a KMDF-style scatter/gather DMA transaction");
MODULE_LICENSE("GPL");
