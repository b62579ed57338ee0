// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_nt": driver code written the Windows way, through
 * <wdmdma/ntdma.h> and Adapter->DmaOperations, against a real device.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <wdmdma/ntdma.h>

#include "../src/compat.h"

WDMDMA_IMPORT_NS();

#define NT_TEST_MAX	(64 * 1024)

struct nt_test {
	struct platform_device *pdev;
	struct device_dma_parameters parms;
	PDMA_ADAPTER adapter;
	ULONG map_registers;
};

/* What a Windows driver would keep per I/O: the list, and a flag. */
struct nt_io {
	PSCATTER_GATHER_LIST sgl;
	PDEVICE_OBJECT device;
	PIRP irp;
	int calls;
	struct completion done;
};

/* An AdapterListControl routine, Windows signature. */
static VOID nt_list_control(PDEVICE_OBJECT DeviceObject, PIRP Irp,
			    PSCATTER_GATHER_LIST ScatterGather, PVOID Context)
{
	struct nt_io *io = Context;

	io->device = DeviceObject;
	io->irp = Irp;
	io->sgl = ScatterGather;
	io->calls++;
	complete(&io->done);
}

static void nt_io_init(struct nt_io *io)
{
	memset(io, 0, sizeof(*io));
	init_completion(&io->done);
}

static int nt_test_init(struct kunit *test)
{
	DEVICE_DESCRIPTION dd = { };
	struct nt_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->pdev = platform_device_register_simple("wdmdma-nt-test",
						  PLATFORM_DEVID_AUTO, NULL, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->pdev));
	if (!t->pdev->dev.dma_mask)
		t->pdev->dev.dma_mask = &t->pdev->dev.coherent_dma_mask;
	t->pdev->dev.dma_parms = &t->parms;
	dma_set_max_seg_size(&t->pdev->dev, NT_TEST_MAX);
	/* The driver's masks, as a driver sets them; wdmdma needs none. */
	if (dma_set_mask_and_coherent(&t->pdev->dev, DMA_BIT_MASK(64))) {
		platform_device_unregister(t->pdev);
		KUNIT_FAIL(test, "cannot set a 64-bit DMA mask");
		return -EIO;
	}

	dd.Version = DEVICE_DESCRIPTION_VERSION3;
	dd.Master = TRUE;
	dd.ScatterGather = TRUE;
	dd.Dma64BitAddresses = TRUE;
	dd.DmaAddressWidth = 64;
	dd.MaximumLength = NT_TEST_MAX;
	t->adapter = IoGetDmaAdapter(&t->pdev->dev, &dd, &t->map_registers);
	if (!t->adapter) {
		platform_device_unregister(t->pdev);
		KUNIT_FAIL(test, "IoGetDmaAdapter returned NULL");
		return -ENODEV;
	}
	test->priv = t;
	return 0;
}

static void nt_test_exit(struct kunit *test)
{
	struct nt_test *t = test->priv;

	if (!t)
		return;
	t->adapter->DmaOperations->PutDmaAdapter(t->adapter);
	platform_device_unregister(t->pdev);
}

/* IoGetDmaAdapter fills in the table and the map-register count. */
static void nt_adapter(struct kunit *test)
{
	struct nt_test *t = test->priv;
	const DMA_OPERATIONS *ops = t->adapter->DmaOperations;

	KUNIT_EXPECT_EQ(test, ops->Size, (ULONG)sizeof(DMA_OPERATIONS));
	KUNIT_EXPECT_NOT_NULL(test, ops->GetScatterGatherList);
	KUNIT_EXPECT_NOT_NULL(test, ops->BuildScatterGatherListEx);
	/* 64 KiB at the worst alignment spans 17 pages. */
	KUNIT_EXPECT_EQ(test, t->map_registers,
			(ULONG)DIV_ROUND_UP(NT_TEST_MAX + PAGE_SIZE - 1, PAGE_SIZE));
}

/* Get/Put on a vmalloc buffer: one element per page, bytes accounted. */
static void nt_get_put(struct kunit *test)
{
	struct nt_test *t = test->priv;
	const DMA_OPERATIONS *ops = t->adapter->DmaOperations;
	ULONG length = 3 * PAGE_SIZE, total = 0, i;
	struct nt_io io;
	NTSTATUS status;
	PVOID buffer;
	PMDL mdl;

	buffer = vmalloc(4 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, buffer);
	mdl = IoAllocateMdl(buffer, 4 * PAGE_SIZE, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MmBuildMdlForNonPagedPool(mdl);
	KUNIT_EXPECT_PTR_EQ(test, MmGetMdlVirtualAddress(mdl), buffer);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(mdl), (ULONG)(4 * PAGE_SIZE));

	nt_io_init(&io);
	status = ops->GetScatterGatherList(t->adapter, &t->pdev->dev, mdl,
					   (PUCHAR)MmGetMdlVirtualAddress(mdl) + 100,
					   length, nt_list_control, &io, TRUE);
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, io.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, io.device, &t->pdev->dev);
	KUNIT_EXPECT_NULL(test, io.irp);
	if (io.sgl) {
		/* 100 bytes in, 4 pages are touched (fewer runs if adjacent). */
		KUNIT_EXPECT_GE(test, io.sgl->NumberOfElements, 1U);
		KUNIT_EXPECT_LE(test, io.sgl->NumberOfElements, 4U);
		for (i = 0; i < io.sgl->NumberOfElements; i++) {
			KUNIT_EXPECT_NE(test, io.sgl->Elements[i].Address.QuadPart, 0);
			total += io.sgl->Elements[i].Length;
		}
		KUNIT_EXPECT_EQ(test, total, length);
		ops->PutScatterGatherList(t->adapter, io.sgl, TRUE);
	}
	IoFreeMdl(mdl);
	vfree(buffer);
}

/* Calculate + Build in a caller buffer; too small a buffer is refused. */
static void nt_calculate_build(struct kunit *test)
{
	struct nt_test *t = test->priv;
	const DMA_OPERATIONS *ops = t->adapter->DmaOperations;
	ULONG size = 0, regs = 0;
	struct nt_io io;
	NTSTATUS status;
	PVOID buffer, sgbuf;
	PMDL mdl;

	buffer = kmalloc(2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buffer);
	mdl = IoAllocateMdl(buffer, 2 * PAGE_SIZE, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MmBuildMdlForNonPagedPool(mdl);

	/* NULL MDL: sized from CurrentVa and Length alone. */
	status = ops->CalculateScatterGatherList(t->adapter, NULL,
						 (PVOID)(PAGE_SIZE - 1),
						 2 * PAGE_SIZE, &size, &regs);
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, regs, 3U);

	status = ops->CalculateScatterGatherList(t->adapter, mdl,
						 MmGetMdlVirtualAddress(mdl),
						 2 * PAGE_SIZE, &size, &regs);
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	sgbuf = kmalloc(size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sgbuf);

	nt_io_init(&io);
	status = ops->BuildScatterGatherList(t->adapter, &t->pdev->dev, mdl,
					     MmGetMdlVirtualAddress(mdl),
					     2 * PAGE_SIZE, nt_list_control,
					     &io, FALSE, sgbuf, size - 1);
	KUNIT_EXPECT_EQ(test, status, STATUS_BUFFER_TOO_SMALL);
	KUNIT_EXPECT_EQ(test, io.calls, 0);

	status = ops->BuildScatterGatherList(t->adapter, &t->pdev->dev, mdl,
					     MmGetMdlVirtualAddress(mdl),
					     2 * PAGE_SIZE, nt_list_control,
					     &io, FALSE, sgbuf, size);
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, io.calls, 1);
	if (io.sgl) {
		/* The list lives inside the caller's buffer. */
		KUNIT_EXPECT_TRUE(test, (void *)io.sgl > sgbuf &&
				  (void *)io.sgl < sgbuf + size);
		ops->PutScatterGatherList(t->adapter, io.sgl, FALSE);
	}

	/* Over MaximumLength: BUFFER_TOO_SMALL, as Windows says. */
	status = ops->CalculateScatterGatherList(t->adapter, NULL, NULL,
						 NT_TEST_MAX + 1, &size, NULL);
	KUNIT_EXPECT_EQ(test, status, STATUS_BUFFER_TOO_SMALL);
	/* Zero length is a bad parameter. */
	status = ops->CalculateScatterGatherList(t->adapter, NULL, NULL, 0,
						 &size, NULL);
	KUNIT_EXPECT_EQ(test, status, STATUS_INVALID_PARAMETER);

	kfree(sgbuf);
	IoFreeMdl(mdl);
	kfree(buffer);
}

/* The Ex forms: synchronous list return, and a transfer context. */
static void nt_ex(struct kunit *test)
{
	struct nt_test *t = test->priv;
	const DMA_OPERATIONS *ops = t->adapter->DmaOperations;
	DMA_TRANSFER_CONTEXT_STORAGE ctx;
	PSCATTER_GATHER_LIST sgl = NULL;
	NTSTATUS status;
	PVOID buffer;
	PMDL mdl;

	buffer = kmalloc(PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buffer);
	mdl = IoAllocateMdl(buffer, PAGE_SIZE, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MmBuildMdlForNonPagedPool(mdl);

	KUNIT_EXPECT_EQ(test, ops->InitializeDmaTransferContext(t->adapter, &ctx),
			STATUS_SUCCESS);
	status = ops->GetScatterGatherListEx(t->adapter, &t->pdev->dev, &ctx,
					     mdl, 0, PAGE_SIZE,
					     DMA_SYNCHRONOUS_CALLBACK, NULL,
					     NULL, TRUE, NULL, NULL, &sgl);
	KUNIT_EXPECT_EQ(test, status, STATUS_SUCCESS);
	KUNIT_ASSERT_NOT_NULL(test, sgl);
	KUNIT_EXPECT_EQ(test, sgl->NumberOfElements, 1U);
	KUNIT_EXPECT_EQ(test, sgl->Elements[0].Length, (ULONG)PAGE_SIZE);
	/* It ran: nothing to cancel. */
	KUNIT_EXPECT_FALSE(test, ops->CancelAdapterChannel(t->adapter,
							   &t->pdev->dev, &ctx));
	ops->PutScatterGatherList(t->adapter, sgl, TRUE);

	/* Completion routines are for system DMA: not supported. */
	status = ops->GetScatterGatherListEx(t->adapter, &t->pdev->dev, &ctx,
					     mdl, 0, PAGE_SIZE, 0,
					     nt_list_control, NULL, TRUE,
					     (PVOID)nt_list_control, NULL, NULL);
	KUNIT_EXPECT_EQ(test, status, STATUS_NOT_SUPPORTED);

	IoFreeMdl(mdl);
	kfree(buffer);
}

static struct kunit_case nt_test_cases[] = {
	KUNIT_CASE(nt_adapter),
	KUNIT_CASE(nt_get_put),
	KUNIT_CASE(nt_calculate_build),
	KUNIT_CASE(nt_ex),
	{ }
};

static struct kunit_suite nt_test_suite = {
	.name = "wdmdma_nt",
	.init = nt_test_init,
	.exit = nt_test_exit,
	.test_cases = nt_test_cases,
};

kunit_test_suite(nt_test_suite);

MODULE_DESCRIPTION("KUnit tests of wdmdma's Windows-named interface");
MODULE_LICENSE("GPL");
