// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_nt_ex": the Windows-named calls through
 * Adapter->DmaOperations where they differ from the Linux ones.
 *
 *  - The list-control routine gets the DeviceObject the driver passed to
 *    GetScatterGatherList, BuildScatterGatherList and their Ex forms, not
 *    the adapter's device: at once and when the request waited.
 *  - GetScatterGatherListEx and BuildScatterGatherListEx refuse a transfer
 *    context whose request still waits (STATUS_INVALID_PARAMETER), and the
 *    waiting request is unharmed. (The verifier's count of it is checked
 *    on the Linux side, by wdmdma_progress: the DMA_ADAPTER view has no
 *    statistics.)
 *
 * The adapter is a one-element adapter of four map registers; a transfer
 * across pages of a discontiguous buffer needs map registers, one within
 * a page needs none. Requests wait while a four-page Build holds them all.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include <wdmdma/ntdma.h>

#include "wdmdma_test_util.h"

#define NTX_PAGES	4
#define NTX_LEN		(NTX_PAGES * PAGE_SIZE)
#define NTX_OFF		100
#define NTX_PAIR	(PAGE_SIZE + 200)	/* at NTX_OFF: 2 map registers */
#define NTX_NAME	"wdmdma-test-nt-ex"

static struct platform_device *ntx_pdev;	/* the adapter's device */
static struct platform_device *ntx_other_pdev;	/* another DeviceObject */

struct ntx_io {
	PSCATTER_GATHER_LIST sgl;
	PDEVICE_OBJECT device;
	PIRP irp;
	atomic_t calls;
	struct completion done;
};

struct ntx_fixture {
	PDMA_ADAPTER adapter;
	const DMA_OPERATIONS *ops;
	ULONG map_registers;
	struct wdmdma_test_vbuf vb;
	PVOID buffer;
	PMDL mdl;
	ULONG size;			/* Build buffer for any transfer */
};

static VOID ntx_list_control(PDEVICE_OBJECT DeviceObject, PIRP Irp,
			     PSCATTER_GATHER_LIST ScatterGather, PVOID Context)
{
	struct ntx_io *io = Context;

	io->device = DeviceObject;
	io->irp = Irp;
	io->sgl = ScatterGather;
	atomic_inc(&io->calls);
	complete(&io->done);
}

static void ntx_io_init(struct ntx_io *io)
{
	memset(io, 0, sizeof(*io));
	atomic_set(&io->calls, 0);
	init_completion(&io->done);
}

static bool ntx_io_wait(struct ntx_io *io)
{
	return wait_for_completion_timeout(&io->done,
				msecs_to_jiffies(WDMDMA_TEST_WAIT_MS)) != 0;
}

static int ntx_calls(struct ntx_io *io)
{
	return atomic_read(&io->calls);
}

static int ntx_init(struct kunit *test)
{
	DEVICE_DESCRIPTION dd = { };
	struct ntx_fixture *fx;
	ULONG regs = 0;

	if (IS_ERR_OR_NULL(ntx_pdev) || IS_ERR_OR_NULL(ntx_other_pdev))
		return -ENODEV;
	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	fx->buffer = wdmdma_test_vbuf_alloc(&fx->vb, NTX_PAGES);
	if (!fx->buffer)
		return -ENOMEM;
	wdmdma_test_fill(fx->buffer, NTX_LEN, 0x6b);
	fx->mdl = IoAllocateMdl(fx->buffer, NTX_LEN, FALSE, FALSE, NULL);
	if (!fx->mdl) {
		wdmdma_test_vbuf_free(&fx->vb);
		return -ENOMEM;
	}
	MmBuildMdlForNonPagedPool(fx->mdl);

	dd.Version = DEVICE_DESCRIPTION_VERSION3;
	dd.Master = TRUE;
	dd.ScatterGather = FALSE;
	dd.Dma64BitAddresses = TRUE;
	dd.DmaAddressWidth = 64;
	dd.MaximumLength = NTX_LEN;
	fx->adapter = IoGetDmaAdapter(&ntx_pdev->dev, &dd, &fx->map_registers);
	if (!fx->adapter) {
		IoFreeMdl(fx->mdl);
		wdmdma_test_vbuf_free(&fx->vb);
		return -ENODEV;
	}
	fx->ops = fx->adapter->DmaOperations;
	if (fx->ops->CalculateScatterGatherList(fx->adapter, NULL,
						(PVOID)(PAGE_SIZE - 1), NTX_LEN,
						&fx->size, &regs) !=
	    STATUS_SUCCESS) {
		fx->ops->PutDmaAdapter(fx->adapter);
		IoFreeMdl(fx->mdl);
		wdmdma_test_vbuf_free(&fx->vb);
		return -EINVAL;
	}
	test->priv = fx;
	return 0;
}

static void ntx_exit(struct kunit *test)
{
	struct ntx_fixture *fx = test->priv;

	if (!fx)
		return;
	fx->ops->PutDmaAdapter(fx->adapter);
	IoFreeMdl(fx->mdl);
	wdmdma_test_vbuf_free(&fx->vb);
}

static PVOID ntx_va(struct ntx_fixture *fx, ULONG off)
{
	return (PUCHAR)MmGetMdlVirtualAddress(fx->mdl) + off;
}

static PVOID ntx_buf(struct kunit *test, struct ntx_fixture *fx)
{
	PVOID buf = kunit_kzalloc(test, fx->size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

/* Put @io's list if its routine ran with one. */
static void ntx_put(struct ntx_fixture *fx, struct ntx_io *io)
{
	if (ntx_calls(io) && io->sgl) {
		fx->ops->PutScatterGatherList(fx->adapter, io->sgl, TRUE);
		io->sgl = NULL;
	}
}

/*
 * Build the whole buffer (four discontiguous pages) with the adapter's
 * device: it holds every map register until ntx_put().
 */
static bool ntx_hold_registers(struct kunit *test, struct ntx_fixture *fx,
			       struct ntx_io *io, PVOID buf)
{
	NTSTATUS status;

	ntx_io_init(io);
	status = fx->ops->BuildScatterGatherList(fx->adapter, &ntx_pdev->dev,
						 fx->mdl, ntx_va(fx, 0),
						 NTX_LEN, ntx_list_control, io,
						 TRUE, buf, fx->size);
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ntx_calls(io), 1);
	return status == STATUS_SUCCESS && ntx_calls(io) == 1 && io->sgl;
}

/*
 * A one-page transfer needs no map register and runs at once through each
 * of the four calls; the routine gets the DeviceObject passed, which is
 * not the adapter's device.
 */
static void ntx_device_object_immediate(struct kunit *test)
{
	struct ntx_fixture *fx = test->priv;
	PDEVICE_OBJECT other = &ntx_other_pdev->dev;
	DMA_TRANSFER_CONTEXT_STORAGE *ctx;
	struct ntx_io *io;
	NTSTATUS status[4];
	PVOID buf[2];
	int i;

	io = kunit_kcalloc(test, 4, sizeof(*io), GFP_KERNEL);
	ctx = kunit_kcalloc(test, 2, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	buf[0] = ntx_buf(test, fx);
	buf[1] = ntx_buf(test, fx);
	for (i = 0; i < 4; i++)
		ntx_io_init(&io[i]);
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ(test,
				fx->ops->InitializeDmaTransferContext(fx->adapter,
								      &ctx[i]),
				STATUS_SUCCESS);

	status[0] = fx->ops->GetScatterGatherList(fx->adapter, other, fx->mdl,
						  ntx_va(fx, NTX_OFF), 1000,
						  ntx_list_control, &io[0],
						  TRUE);
	status[1] = fx->ops->BuildScatterGatherList(fx->adapter, other,
						    fx->mdl,
						    ntx_va(fx, PAGE_SIZE),
						    PAGE_SIZE,
						    ntx_list_control, &io[1],
						    TRUE, buf[0], fx->size);
	status[2] = fx->ops->GetScatterGatherListEx(fx->adapter, other,
						    &ctx[0], fx->mdl,
						    2 * PAGE_SIZE, 2000, 0,
						    ntx_list_control, &io[2],
						    TRUE, NULL, NULL, NULL);
	status[3] = fx->ops->BuildScatterGatherListEx(fx->adapter, other,
						      &ctx[1], fx->mdl,
						      3 * PAGE_SIZE + 8, 3000,
						      0, ntx_list_control,
						      &io[3], TRUE, buf[1],
						      fx->size, NULL, NULL,
						      NULL);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ_MSG(test, status[i], STATUS_SUCCESS, "call %d",
				    i);
		KUNIT_EXPECT_EQ_MSG(test, ntx_calls(&io[i]), 1, "call %d", i);
		KUNIT_EXPECT_NOT_NULL_MSG(test, io[i].sgl, "call %d", i);
		if (ntx_calls(&io[i]) == 1)
			KUNIT_EXPECT_PTR_EQ_MSG(test, io[i].device, other,
						"call %d got the adapter's device",
						i);
		KUNIT_EXPECT_NULL(test, io[i].irp);
		ntx_put(fx, &io[i]);
	}
}

/*
 * Requests that wait for map registers (a Get, a Build, GetEx, BuildEx,
 * each passing the other device) get that device when their routine runs
 * later from the work item.
 */
static void ntx_device_object_deferred(struct kunit *test)
{
	struct ntx_fixture *fx = test->priv;
	PDEVICE_OBJECT other = &ntx_other_pdev->dev;
	DMA_TRANSFER_CONTEXT_STORAGE *ctx;
	struct ntx_io *io, *hold;
	NTSTATUS status[4];
	PVOID buf[3];
	int i;

	io = kunit_kcalloc(test, 4, sizeof(*io), GFP_KERNEL);
	hold = kunit_kzalloc(test, sizeof(*hold), GFP_KERNEL);
	ctx = kunit_kcalloc(test, 2, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io);
	KUNIT_ASSERT_NOT_NULL(test, hold);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	for (i = 0; i < 3; i++)
		buf[i] = ntx_buf(test, fx);
	for (i = 0; i < 4; i++)
		ntx_io_init(&io[i]);
	for (i = 0; i < 2; i++)
		fx->ops->InitializeDmaTransferContext(fx->adapter, &ctx[i]);
	if (!ntx_hold_registers(test, fx, hold, buf[0]))
		return;

	/* Two map registers each: two run after the first Put, two after. */
	status[0] = fx->ops->GetScatterGatherList(fx->adapter, other, fx->mdl,
						  ntx_va(fx, NTX_OFF),
						  NTX_PAIR, ntx_list_control,
						  &io[0], TRUE);
	status[1] = fx->ops->BuildScatterGatherList(fx->adapter, other,
						    fx->mdl,
						    ntx_va(fx, NTX_OFF),
						    NTX_PAIR,
						    ntx_list_control, &io[1],
						    TRUE, buf[1], fx->size);
	status[2] = fx->ops->GetScatterGatherListEx(fx->adapter, other,
						    &ctx[0], fx->mdl,
						    2 * PAGE_SIZE + NTX_OFF,
						    NTX_PAIR, 0,
						    ntx_list_control, &io[2],
						    TRUE, NULL, NULL, NULL);
	status[3] = fx->ops->BuildScatterGatherListEx(fx->adapter, other,
						      &ctx[1], fx->mdl,
						      2 * PAGE_SIZE + NTX_OFF,
						      NTX_PAIR, 0,
						      ntx_list_control,
						      &io[3], TRUE, buf[2],
						      fx->size, NULL, NULL,
						      NULL);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ_MSG(test, status[i], STATUS_SUCCESS, "call %d",
				    i);
		KUNIT_EXPECT_EQ_MSG(test, ntx_calls(&io[i]), 0,
				    "call %d did not wait", i);
	}

	ntx_put(fx, hold);
	for (i = 0; i < 4; i++) {
		if (status[i] != STATUS_SUCCESS)
			continue;
		if (!ntx_io_wait(&io[i])) {
			KUNIT_FAIL(test, "call %d never called back", i);
			continue;
		}
		KUNIT_EXPECT_PTR_EQ_MSG(test, io[i].device, other,
					"call %d got the adapter's device", i);
		KUNIT_EXPECT_NOT_NULL(test, io[i].sgl);
		/* Give back the first two so that the next two can run. */
		if (i == 1) {
			ntx_put(fx, &io[0]);
			ntx_put(fx, &io[1]);
		}
	}
	for (i = 0; i < 4; i++)
		ntx_put(fx, &io[i]);
}

/*
 * A GetScatterGatherListEx waits in its transfer context. Submitting the
 * same context again, through GetScatterGatherListEx or
 * BuildScatterGatherListEx, is STATUS_INVALID_PARAMETER; their routines
 * never run, and the waiting request runs once with a correct list after
 * the map registers come back.
 */
static void ntx_ctx_reuse_while_waiting(struct kunit *test)
{
	struct ntx_fixture *fx = test->priv;
	PDEVICE_OBJECT dev = &ntx_pdev->dev;
	DMA_TRANSFER_CONTEXT_STORAGE *ctx;
	struct ntx_io *io, *hold;
	NTSTATUS status;
	PVOID buf[2];
	int i;

	io = kunit_kcalloc(test, 3, sizeof(*io), GFP_KERNEL);
	hold = kunit_kzalloc(test, sizeof(*hold), GFP_KERNEL);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, io);
	KUNIT_ASSERT_NOT_NULL(test, hold);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	buf[0] = ntx_buf(test, fx);
	buf[1] = ntx_buf(test, fx);
	for (i = 0; i < 3; i++)
		ntx_io_init(&io[i]);
	fx->ops->InitializeDmaTransferContext(fx->adapter, ctx);
	if (!ntx_hold_registers(test, fx, hold, buf[0]))
		return;

	status = fx->ops->GetScatterGatherListEx(fx->adapter, dev, ctx,
						 fx->mdl, NTX_OFF, NTX_PAIR, 0,
						 ntx_list_control, &io[0],
						 TRUE, NULL, NULL, NULL);
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ntx_calls(&io[0]), 0);
	if (status != STATUS_SUCCESS || ntx_calls(&io[0]))
		goto out;

	status = fx->ops->GetScatterGatherListEx(fx->adapter, dev, ctx,
						 fx->mdl, 2 * PAGE_SIZE,
						 PAGE_SIZE, 0,
						 ntx_list_control, &io[1],
						 TRUE, NULL, NULL, NULL);
	KUNIT_EXPECT_EQ(test, status, STATUS_INVALID_PARAMETER);
	status = fx->ops->BuildScatterGatherListEx(fx->adapter, dev, ctx,
						   fx->mdl, 2 * PAGE_SIZE,
						   PAGE_SIZE, 0,
						   ntx_list_control, &io[2],
						   TRUE, buf[1], fx->size,
						   NULL, NULL, NULL);
	KUNIT_EXPECT_EQ(test, status, STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, ntx_calls(&io[1]), 0);
	KUNIT_EXPECT_EQ(test, ntx_calls(&io[2]), 0);

	/* The waiting request is intact: it runs once, with its range. */
	ntx_put(fx, hold);
	KUNIT_EXPECT_TRUE_MSG(test, ntx_io_wait(&io[0]),
			      "the waiting request never called back");
	KUNIT_EXPECT_EQ(test, ntx_calls(&io[0]), 1);
	if (ntx_calls(&io[0]) == 1 && io[0].sgl) {
		KUNIT_EXPECT_EQ(test, io[0].sgl->NumberOfElements, 1U);
		KUNIT_EXPECT_TRUE(test,
				  io[0].sgl->NumberOfElements == 1 &&
				  io[0].sgl->Elements[0].Length == NTX_PAIR &&
				  !memcmp(phys_to_virt(io[0].sgl->Elements[0].Address.QuadPart),
					  ntx_va(fx, NTX_OFF), NTX_PAIR));
	}
	KUNIT_EXPECT_FALSE(test, fx->ops->CancelAdapterChannel(fx->adapter,
							       dev, ctx));
	KUNIT_EXPECT_EQ(test, ntx_calls(&io[1]), 0);
	KUNIT_EXPECT_EQ(test, ntx_calls(&io[2]), 0);
out:
	for (i = 0; i < 3; i++)
		ntx_put(fx, &io[i]);
	ntx_put(fx, hold);
}

static int ntx_suite_init(struct kunit_suite *suite)
{
	ntx_pdev = wdmdma_test_pdev_create(NTX_NAME);
	ntx_other_pdev = platform_device_register_simple(NTX_NAME "-other",
							 PLATFORM_DEVID_AUTO,
							 NULL, 0);
	if (IS_ERR(ntx_pdev) || IS_ERR(ntx_other_pdev)) {
		int ret = PTR_ERR_OR_ZERO(ntx_pdev) ?:
			  PTR_ERR_OR_ZERO(ntx_other_pdev);

		wdmdma_test_pdev_destroy(ntx_pdev);
		wdmdma_test_pdev_destroy(ntx_other_pdev);
		ntx_pdev = NULL;
		ntx_other_pdev = NULL;
		return ret;
	}
	return 0;
}

static void ntx_suite_exit(struct kunit_suite *suite)
{
	wdmdma_test_pdev_destroy(ntx_other_pdev);
	wdmdma_test_pdev_destroy(ntx_pdev);
	ntx_other_pdev = NULL;
	ntx_pdev = NULL;
}

static struct kunit_case ntx_test_cases[] = {
	KUNIT_CASE(ntx_device_object_immediate),
	KUNIT_CASE(ntx_device_object_deferred),
	KUNIT_CASE(ntx_ctx_reuse_while_waiting),
	{ }
};

static struct kunit_suite ntx_test_suite = {
	.name = "wdmdma_nt_ex",
	.suite_init = ntx_suite_init,
	.suite_exit = ntx_suite_exit,
	.init = ntx_init,
	.exit = ntx_exit,
	.test_cases = ntx_test_cases,
};

kunit_test_suite(ntx_test_suite);

MODULE_DESCRIPTION("KUnit tests of wdmdma's Windows-named calls: DeviceObject, transfer-context reuse");
MODULE_LICENSE("GPL");
