// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "wdmdma_nt": driver code written the Windows way, through
 * <wdmdma/ntdma.h> and Adapter->DmaOperations, against a real device:
 * lists, common buffers (two widths on one device), sizing and adapter
 * information, and the MDL routines (IoBuildPartialMdl and the rest).
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/sizes.h>
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

/*
 * A transfer longer than MaximumLength: Calculate says
 * STATUS_BUFFER_TOO_SMALL, Get and Build STATUS_INSUFFICIENT_RESOURCES (it
 * needs more map registers than the adapter has), as on Windows; the
 * routine never runs.
 */
static void nt_too_long(struct kunit *test)
{
	struct nt_test *t = test->priv;
	const DMA_OPERATIONS *ops = t->adapter->DmaOperations;
	ULONG length = NT_TEST_MAX + 1, size = 0;
	struct nt_io io;
	PVOID buffer, sgbuf;
	PMDL mdl;

	buffer = vmalloc(NT_TEST_MAX + PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, buffer);
	mdl = IoAllocateMdl(buffer, NT_TEST_MAX + PAGE_SIZE, FALSE, FALSE,
			    NULL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MmBuildMdlForNonPagedPool(mdl);
	sgbuf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sgbuf);

	KUNIT_EXPECT_EQ(test, ops->CalculateScatterGatherList(t->adapter, mdl,
							      buffer, length,
							      &size, NULL),
			STATUS_BUFFER_TOO_SMALL);
	nt_io_init(&io);
	KUNIT_EXPECT_EQ(test, ops->GetScatterGatherList(t->adapter,
							&t->pdev->dev, mdl,
							buffer, length,
							nt_list_control, &io,
							TRUE),
			STATUS_INSUFFICIENT_RESOURCES);
	KUNIT_EXPECT_EQ(test, ops->BuildScatterGatherList(t->adapter,
							  &t->pdev->dev, mdl,
							  buffer, length,
							  nt_list_control, &io,
							  TRUE, sgbuf,
							  PAGE_SIZE),
			STATUS_INSUFFICIENT_RESOURCES);
	KUNIT_EXPECT_EQ(test, io.calls, 0);
	/* One byte less fits. */
	KUNIT_EXPECT_EQ(test, ops->GetScatterGatherList(t->adapter,
							&t->pdev->dev, mdl,
							buffer, length - 1,
							nt_list_control, &io,
							TRUE),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, io.calls, 1);
	if (io.sgl)
		ops->PutScatterGatherList(t->adapter, io.sgl, TRUE);
	kfree(sgbuf);
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

/* A kmalloc'ed buffer of @length and an MDL for it, the Windows way. */
static PMDL nt_kernel_mdl(struct kunit *test, ULONG length, PVOID *buffer)
{
	PMDL mdl;

	*buffer = kmalloc(length, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, *buffer);
	mdl = IoAllocateMdl(*buffer, length, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MmBuildMdlForNonPagedPool(mdl);
	return mdl;
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
	PMDL mdl = nt_kernel_mdl(test, PAGE_SIZE, &buffer);

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

#define NT_COMMON_SIZE	(3 * PAGE_SIZE)

/*
 * A common buffer is page-aligned, zeroed, below @max_addr and shared:
 * what the CPU writes the device reads at the bus address (the test
 * device has no IOMMU: phys_to_virt() plays the device), and back.
 */
static void nt_common_check(struct kunit *test, PVOID va, LONGLONG la,
			    ULONG size, u64 max_addr)
{
	PUCHAR dev_view = phys_to_virt((phys_addr_t)la);

	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(va));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(la));
	KUNIT_EXPECT_LE(test, (u64)la + size - 1, max_addr);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(va, 0, size));
	memset(va, 0x5a, size);
	KUNIT_EXPECT_EQ(test, memcmp(dev_view, va, size), 0);
	memset(dev_view, 0xa5, size);
	KUNIT_EXPECT_EQ(test, memcmp(dev_view, va, size), 0);
}

/* The Windows way: DmaOperations of adapters from IoGetDmaAdapter. */
static PDMA_ADAPTER nt_common_adapter(struct kunit *test, struct device *dev,
				      ULONG width)
{
	DEVICE_DESCRIPTION dd = { };
	PDMA_ADAPTER adapter;
	ULONG regs = 0;

	dd.Version = DEVICE_DESCRIPTION_VERSION3;
	dd.Master = TRUE;
	dd.ScatterGather = TRUE;
	dd.DmaAddressWidth = width;
	dd.MaximumLength = NT_TEST_MAX;
	adapter = IoGetDmaAdapter(dev, &dd, &regs);
	KUNIT_ASSERT_NOT_NULL(test, adapter);
	KUNIT_EXPECT_NOT_NULL(test, adapter->DmaOperations->AllocateCommonBuffer);
	KUNIT_EXPECT_NOT_NULL(test, adapter->DmaOperations->FreeCommonBuffer);
	KUNIT_EXPECT_NOT_NULL(test, adapter->DmaOperations->AllocateCommonBufferEx);
	KUNIT_EXPECT_NOT_NULL(test,
			      adapter->DmaOperations->AllocateCommonBufferWithBounds);
	return adapter;
}

static void nt_common_buffer(struct kunit *test)
{
	struct nt_test *t = test->priv;
	PDMA_ADAPTER narrow = nt_common_adapter(test, &t->pdev->dev, 24);
	PDMA_ADAPTER wide = nt_common_adapter(test, &t->pdev->dev, 64);
	const DMA_OPERATIONS *nops = narrow->DmaOperations;
	const DMA_OPERATIONS *wops = wide->DmaOperations;
	PHYSICAL_ADDRESS la = { }, wla = { }, min, max;
	MEMORY_CACHING_TYPE cache;
	PVOID va, wva;

	/* AllocateCommonBuffer: each adapter its own width. */
	va = nops->AllocateCommonBuffer(narrow, NT_COMMON_SIZE, &la, FALSE);
	wva = wops->AllocateCommonBuffer(wide, NT_COMMON_SIZE, &wla, TRUE);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_ASSERT_NOT_NULL(test, wva);
	nt_common_check(test, va, la.QuadPart, NT_COMMON_SIZE, DMA_BIT_MASK(24));
	nt_common_check(test, wva, wla.QuadPart, NT_COMMON_SIZE, DMA_BIT_MASK(64));
	nops->FreeCommonBuffer(narrow, NT_COMMON_SIZE, la, va, FALSE);
	wops->FreeCommonBuffer(wide, NT_COMMON_SIZE, wla, wva, TRUE);

	/* AllocateCommonBufferEx: MaximumAddress below the width. */
	max.QuadPart = DMA_BIT_MASK(24);
	va = wops->AllocateCommonBufferEx(wide, &max, PAGE_SIZE, &la, TRUE,
					  MM_ANY_NODE_OK);
	KUNIT_ASSERT_NOT_NULL(test, va);
	nt_common_check(test, va, la.QuadPart, PAGE_SIZE, DMA_BIT_MASK(24));
	wops->FreeCommonBuffer(wide, PAGE_SIZE, la, va, TRUE);
	va = wops->AllocateCommonBufferEx(wide, NULL, PAGE_SIZE, &la, TRUE, 0);
	KUNIT_ASSERT_NOT_NULL(test, va);
	wops->FreeCommonBuffer(wide, PAGE_SIZE, la, va, TRUE);

	/* AllocateCommonBufferWithBounds. */
	min.QuadPart = SZ_16M;
	max.QuadPart = DMA_BIT_MASK(32);
	cache = MmNonCached;
	va = wops->AllocateCommonBufferWithBounds(wide, &min, &max, PAGE_SIZE,
						  0, &cache, 0, &la);
	KUNIT_ASSERT_NOT_NULL(test, va);
	KUNIT_EXPECT_GE(test, la.QuadPart, (LONGLONG)SZ_16M);
	nt_common_check(test, va, la.QuadPart, PAGE_SIZE, DMA_BIT_MASK(32));
	wops->FreeCommonBuffer(wide, PAGE_SIZE, la, va, FALSE);
	/* Large pages, write-combining, an empty range: NULL. */
	va = wops->AllocateCommonBufferWithBounds(wide, NULL, NULL, PAGE_SIZE,
						  DOMAIN_COMMON_BUFFER_LARGE_PAGE,
						  NULL, 0, &la);
	KUNIT_EXPECT_NULL(test, va);
	cache = MmWriteCombined;
	va = wops->AllocateCommonBufferWithBounds(wide, NULL, NULL, PAGE_SIZE,
						  0, &cache, 0, &la);
	KUNIT_EXPECT_NULL(test, va);
	va = nops->AllocateCommonBufferWithBounds(narrow, &min, NULL, PAGE_SIZE,
						  0, NULL, 0, &la);
	KUNIT_EXPECT_NULL(test, va);
	/* No LogicalAddress, no length. */
	KUNIT_EXPECT_NULL(test, wops->AllocateCommonBuffer(wide, PAGE_SIZE,
							   NULL, TRUE));
	KUNIT_EXPECT_NULL(test, wops->AllocateCommonBuffer(wide, 0, &la, TRUE));

	wops->PutDmaAdapter(wide);
	nops->PutDmaAdapter(narrow);
}

/* A Windows-style completion routine for the Ex call below. */
static VOID nt_info_list_control(PDEVICE_OBJECT DeviceObject, PIRP Irp,
				 PSCATTER_GATHER_LIST ScatterGather,
				 PVOID Context)
{
	*(PSCATTER_GATHER_LIST *)Context = ScatterGather;
}

/* The same, the Windows way. */
static void nt_info(struct kunit *test)
{
	struct nt_test *t = test->priv;
	DEVICE_DESCRIPTION dd = { };
	DMA_TRANSFER_INFO ti = { };
	DMA_ADAPTER_INFO ai = { };
	PSCATTER_GATHER_LIST sgl = NULL;
	const DMA_OPERATIONS *ops;
	ULONG regs = 0, size = 0, cregs = 0;
	PMDL mdl, part, target = NULL;
	PDMA_ADAPTER adapter;
	PUCHAR buf, start;

	dd.Version = DEVICE_DESCRIPTION_VERSION3;
	dd.Master = TRUE;
	dd.ScatterGather = TRUE;
	dd.DmaAddressWidth = 64;
	dd.MaximumLength = NT_TEST_MAX;
	adapter = IoGetDmaAdapter(&t->pdev->dev, &dd, &regs);
	KUNIT_ASSERT_NOT_NULL(test, adapter);
	ops = adapter->DmaOperations;

	buf = vmalloc(4 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0x19, 4 * PAGE_SIZE);
	mdl = IoAllocateMdl(buf, 4 * PAGE_SIZE, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, mdl);
	MmBuildMdlForNonPagedPool(mdl);
	KeFlushIoBuffers(mdl, FALSE, TRUE);
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdlSafe(mdl,
							       NormalPagePriority |
							       MdlMappingNoExecute),
			    (PVOID)buf);

	/* GetDmaAlignment, GetDmaAdapterInfo. */
	KUNIT_EXPECT_EQ(test, ops->GetDmaAlignment(adapter),
			(ULONG)max(dma_get_cache_alignment(), 1));
	ai.Version = DMA_ADAPTER_INFO_VERSION1;
	KUNIT_EXPECT_EQ(test, ops->GetDmaAdapterInfo(adapter, &ai),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ai.V1.DmaAddressWidth, 64U);
	KUNIT_EXPECT_EQ(test, ai.V1.ScatterGatherLimit, regs);
	KUNIT_EXPECT_EQ(test, ai.V1.MinimumTransferUnit, 1U);
	KUNIT_EXPECT_FALSE(test, ai.V1.ReadDmaCounterAvailable);
	ai.Version = 2;
	KUNIT_EXPECT_EQ(test, ops->GetDmaAdapterInfo(adapter, &ai),
			STATUS_NOT_SUPPORTED);
	KUNIT_EXPECT_EQ(test, ops->GetDmaAdapterInfo(adapter, NULL),
			STATUS_INVALID_PARAMETER);

	/* GetDmaTransferInfo agrees with CalculateScatterGatherList. */
	KUNIT_ASSERT_EQ(test, ops->CalculateScatterGatherList(adapter, mdl,
							      buf + 100,
							      2 * PAGE_SIZE,
							      &size, &cregs),
			STATUS_SUCCESS);
	ti.Version = DMA_TRANSFER_INFO_VERSION2;
	KUNIT_ASSERT_EQ(test, ops->GetDmaTransferInfo(adapter, mdl, 100,
						      2 * PAGE_SIZE, TRUE, &ti),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ti.V2.ScatterGatherListSize, size);
	KUNIT_EXPECT_EQ(test, ti.V2.MapRegisterCount, cregs);
	KUNIT_EXPECT_EQ(test, ti.V2.MapRegisterCount, 3U);
	KUNIT_EXPECT_EQ(test, ti.V2.LogicalPageCount, 3U);
	KUNIT_EXPECT_EQ(test, ti.V2.ScatterGatherElementCount, 3U);
	ti.Version = DMA_TRANSFER_INFO_VERSION1;
	KUNIT_EXPECT_EQ(test, ops->GetDmaTransferInfo(adapter, NULL, PAGE_SIZE - 1,
						      2, FALSE, &ti),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ti.V1.MapRegisterCount, 2U);
	ti.Version = 3;
	KUNIT_EXPECT_EQ(test, ops->GetDmaTransferInfo(adapter, mdl, 0, 1, TRUE,
						      &ti),
			STATUS_NOT_SUPPORTED);
	ti.Version = DMA_TRANSFER_INFO_VERSION1;
	KUNIT_EXPECT_EQ(test, ops->GetDmaTransferInfo(adapter, mdl, 0, 0, TRUE,
						      &ti),
			STATUS_INVALID_PARAMETER);
	KUNIT_EXPECT_EQ(test, ops->GetDmaTransferInfo(adapter, mdl, 0,
						      NT_TEST_MAX + 1, TRUE, &ti),
			STATUS_BUFFER_TOO_SMALL);

	/* IoBuildPartialMdl, then a list of it and its MDL back. */
	start = buf + PAGE_SIZE + 3;
	part = IoAllocateMdl(start, PAGE_SIZE, FALSE, FALSE, NULL);
	KUNIT_ASSERT_NOT_NULL(test, part);
	IoBuildPartialMdl(mdl, part, start, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteOffset(part), 3U);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(part), (ULONG)PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, MmGetSystemAddressForMdlSafe(part,
							       NormalPagePriority),
			    (PVOID)start);
	KUNIT_ASSERT_EQ(test, ops->GetScatterGatherList(adapter, &t->pdev->dev, part,
							MmGetMdlVirtualAddress(part),
							PAGE_SIZE,
							nt_info_list_control,
							&sgl, TRUE),
			STATUS_SUCCESS);
	KUNIT_ASSERT_NOT_NULL(test, sgl);
	KUNIT_EXPECT_EQ(test, memcmp(phys_to_virt(sgl->Elements[0].Address.QuadPart),
				     start, sgl->Elements[0].Length), 0);
	KUNIT_EXPECT_EQ(test, ops->BuildMdlFromScatterGatherList(adapter, sgl,
								 part, &target),
			STATUS_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, target, part);
	KUNIT_EXPECT_EQ(test, ops->BuildMdlFromScatterGatherList(adapter, sgl,
								 NULL, &target),
			STATUS_INVALID_PARAMETER);
	ops->PutScatterGatherList(adapter, sgl, TRUE);

	/* A partial MDL outside the source is left empty. */
	IoBuildPartialMdl(mdl, part, buf + 4 * PAGE_SIZE, 1);
	KUNIT_EXPECT_EQ(test, MmGetMdlByteCount(part), 0U);
	KUNIT_EXPECT_NULL(test, MmGetSystemAddressForMdlSafe(part,
							     NormalPagePriority));

	IoFreeMdl(part);
	IoFreeMdl(mdl);
	vfree(buf);
	ops->PutDmaAdapter(adapter);
}

/* A bus-master description the way a Windows driver fills one in. */
static void nt_desc_init(DEVICE_DESCRIPTION *dd, ULONG version)
{
	memset(dd, 0, sizeof(*dd));
	dd->Version = version;
	dd->Master = TRUE;
	dd->ScatterGather = TRUE;
	dd->Dma32BitAddresses = TRUE;
	dd->Dma64BitAddresses = TRUE;
	dd->InterfaceType = PCIBus;
	dd->MaximumLength = NT_TEST_MAX;
}

/* One Get/Put of a page through @adapter: version-1 drivers do no more. */
static void nt_one_get_put(struct kunit *test, struct device *dev,
			   PDMA_ADAPTER adapter)
{
	const DMA_OPERATIONS *ops = adapter->DmaOperations;
	struct nt_io io;
	PVOID buffer;
	PMDL mdl = nt_kernel_mdl(test, PAGE_SIZE, &buffer);

	nt_io_init(&io);
	KUNIT_EXPECT_EQ(test, ops->GetScatterGatherList(adapter, dev, mdl,
							MmGetMdlVirtualAddress(mdl),
							PAGE_SIZE,
							nt_list_control, &io,
							TRUE),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, io.calls, 1);
	if (io.sgl) {
		KUNIT_EXPECT_EQ(test, io.sgl->Elements[0].Length,
				(ULONG)PAGE_SIZE);
		ops->PutScatterGatherList(adapter, io.sgl, TRUE);
	}
	IoFreeMdl(mdl);
	kfree(buffer);
}

/*
 * DEVICE_DESCRIPTION.Version picks the DMA_OPERATIONS version: 0 and 1 end
 * at PutScatterGatherList, 2 adds Calculate, Build and
 * BuildMdlFromScatterGatherList, 3 the rest. DMA_ADAPTER.Version is 1 for
 * versions 1 and 2 (as Windows sets it) and 3 for version 3; the table's
 * Size says which. Unknown versions are refused.
 */
static void nt_versions(struct kunit *test)
{
	static const struct {
		ULONG version;
		USHORT adapter_version;
		ULONG ops_size;
	} v[] = {
		{ DEVICE_DESCRIPTION_VERSION, 1,
		  offsetof(DMA_OPERATIONS, CalculateScatterGatherList) },
		{ DEVICE_DESCRIPTION_VERSION1, 1,
		  offsetof(DMA_OPERATIONS, CalculateScatterGatherList) },
		{ DEVICE_DESCRIPTION_VERSION2, 1,
		  offsetof(DMA_OPERATIONS, GetDmaAdapterInfo) },
		{ DEVICE_DESCRIPTION_VERSION3, 3, sizeof(DMA_OPERATIONS) },
	};
	static const ULONG bad[] = { 4, 0x100, ~0U };
	struct nt_test *t = test->priv;
	struct device *dev = &t->pdev->dev;
	DEVICE_DESCRIPTION dd;
	unsigned int i;
	ULONG bad_regs;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		const DMA_OPERATIONS *ops;
		PDMA_ADAPTER adapter;
		bool v2 = v[i].version >= DEVICE_DESCRIPTION_VERSION2;
		bool v3 = v[i].version >= DEVICE_DESCRIPTION_VERSION3;
		ULONG regs = 0, size = 0, cregs = 0;

		nt_desc_init(&dd, v[i].version);
		adapter = IoGetDmaAdapter(dev, &dd, &regs);
		KUNIT_ASSERT_NOT_NULL_MSG(test, adapter, "version %u",
					  v[i].version);
		ops = adapter->DmaOperations;
		KUNIT_EXPECT_EQ_MSG(test, adapter->Version,
				    v[i].adapter_version, "version %u",
				    v[i].version);
		KUNIT_EXPECT_EQ(test, adapter->Size, (USHORT)sizeof(DMA_ADAPTER));
		KUNIT_EXPECT_EQ_MSG(test, ops->Size, v[i].ops_size,
				    "version %u", v[i].version);
		KUNIT_EXPECT_EQ(test, regs,
				(ULONG)DIV_ROUND_UP(NT_TEST_MAX + PAGE_SIZE - 1,
						    PAGE_SIZE));
		/* Version 1 */
		KUNIT_EXPECT_NOT_NULL(test, ops->PutDmaAdapter);
		KUNIT_EXPECT_NOT_NULL(test, ops->AllocateCommonBuffer);
		KUNIT_EXPECT_NOT_NULL(test, ops->FreeCommonBuffer);
		KUNIT_EXPECT_NOT_NULL(test, ops->AllocateAdapterChannel);
		KUNIT_EXPECT_NOT_NULL(test, ops->FlushAdapterBuffers);
		KUNIT_EXPECT_NOT_NULL(test, ops->FreeAdapterChannel);
		KUNIT_EXPECT_NOT_NULL(test, ops->FreeMapRegisters);
		KUNIT_EXPECT_NOT_NULL(test, ops->MapTransfer);
		KUNIT_EXPECT_NOT_NULL(test, ops->GetDmaAlignment);
		KUNIT_EXPECT_NOT_NULL(test, ops->GetScatterGatherList);
		KUNIT_EXPECT_NOT_NULL(test, ops->PutScatterGatherList);
		/* Version 2 */
		KUNIT_EXPECT_EQ(test, !!ops->CalculateScatterGatherList, v2);
		KUNIT_EXPECT_EQ(test, !!ops->BuildScatterGatherList, v2);
		KUNIT_EXPECT_EQ(test, !!ops->BuildMdlFromScatterGatherList, v2);
		/* Version 3 */
		KUNIT_EXPECT_EQ(test, !!ops->GetDmaAdapterInfo, v3);
		KUNIT_EXPECT_EQ(test, !!ops->GetDmaTransferInfo, v3);
		KUNIT_EXPECT_EQ(test, !!ops->InitializeDmaTransferContext, v3);
		KUNIT_EXPECT_EQ(test, !!ops->AllocateCommonBufferEx, v3);
		KUNIT_EXPECT_EQ(test, !!ops->AllocateAdapterChannelEx, v3);
		KUNIT_EXPECT_EQ(test, !!ops->MapTransferEx, v3);
		KUNIT_EXPECT_EQ(test, !!ops->FlushAdapterBuffersEx, v3);
		KUNIT_EXPECT_EQ(test, !!ops->CancelAdapterChannel, v3);
		KUNIT_EXPECT_EQ(test, !!ops->GetScatterGatherListEx, v3);
		KUNIT_EXPECT_EQ(test, !!ops->BuildScatterGatherListEx, v3);
		KUNIT_EXPECT_EQ(test, !!ops->AllocateCommonBufferWithBounds, v3);

		/* What the version has works. */
		nt_one_get_put(test, dev, adapter);
		if (v2 && ops->CalculateScatterGatherList) {
			KUNIT_EXPECT_EQ(test,
					ops->CalculateScatterGatherList(adapter, NULL,
									(PVOID)(PAGE_SIZE - 1),
									PAGE_SIZE, &size,
									&cregs),
					STATUS_SUCCESS);
			KUNIT_EXPECT_EQ(test, cregs, 2U);
		}
		ops->PutDmaAdapter(adapter);
	}

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		PDMA_ADAPTER adapter;

		nt_desc_init(&dd, bad[i]);
		adapter = IoGetDmaAdapter(dev, &dd, &bad_regs);
		KUNIT_EXPECT_NULL_MSG(test, adapter, "version %u", bad[i]);
	}
}

/* IoGetDmaAdapter(@dd) must fail: what Linux cannot do, or a contradiction. */
static void nt_expect_refused(struct kunit *test, DEVICE_DESCRIPTION *dd,
			      const char *why)
{
	struct nt_test *t = test->priv;
	PDMA_ADAPTER adapter;
	ULONG regs = 12345;

	adapter = IoGetDmaAdapter(&t->pdev->dev, dd, &regs);
	KUNIT_EXPECT_NULL_MSG(test, adapter, "%s", why);
	KUNIT_EXPECT_EQ_MSG(test, regs, 12345U, "%s", why);
	if (adapter)
		adapter->DmaOperations->PutDmaAdapter(adapter);
}

/* The address width IoGetDmaAdapter(@dd) gives, from GetDmaAdapterInfo. */
static ULONG nt_width_of(struct kunit *test, DEVICE_DESCRIPTION *dd)
{
	struct nt_test *t = test->priv;
	DMA_ADAPTER_INFO ai = { .Version = DMA_ADAPTER_INFO_VERSION1 };
	PDMA_ADAPTER adapter;
	ULONG regs;

	adapter = IoGetDmaAdapter(&t->pdev->dev, dd, &regs);
	KUNIT_EXPECT_NOT_NULL(test, adapter);
	if (!adapter)
		return 0;
	KUNIT_EXPECT_EQ(test, adapter->DmaOperations->GetDmaAdapterInfo(adapter,
									&ai),
			STATUS_SUCCESS);
	adapter->DmaOperations->PutDmaAdapter(adapter);
	return ai.V1.DmaAddressWidth;
}

/*
 * System (subordinate) DMA is refused, and so is a description that
 * contradicts itself; fields only system DMA uses are ignored for a bus
 * master, as Windows ignores them.
 */
static void nt_refused(struct kunit *test)
{
	struct nt_test *t = test->priv;
	DEVICE_DESCRIPTION dd;

	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.Master = FALSE;
	nt_expect_refused(test, &dd, "Master FALSE");

	/* An ISA slave the old way: channel, demand mode, 8-bit. */
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION);
	dd.Master = FALSE;
	dd.ScatterGather = FALSE;
	dd.Dma32BitAddresses = FALSE;
	dd.Dma64BitAddresses = FALSE;
	dd.InterfaceType = Isa;
	dd.DmaChannel = 5;
	dd.DemandMode = TRUE;
	dd.DmaWidth = Width8Bits;
	nt_expect_refused(test, &dd, "ISA system DMA");

	/* A system DMA controller's request line (version 3). */
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.Master = FALSE;
	dd.DmaControllerInstance = 1;
	dd.DmaRequestLine = 7;
	dd.DeviceAddress.QuadPart = 0xfe000000;
	nt_expect_refused(test, &dd, "system DMA request line");

	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.DmaAddressWidth = 16;
	nt_expect_refused(test, &dd, "DmaAddressWidth 16");
	dd.DmaAddressWidth = 65;
	nt_expect_refused(test, &dd, "DmaAddressWidth 65");

	/* The flags say one thing, DmaAddressWidth another. */
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.DmaAddressWidth = 32;
	nt_expect_refused(test, &dd, "Dma64BitAddresses with a 32-bit width");
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.Dma64BitAddresses = FALSE;
	dd.DmaAddressWidth = 40;
	nt_expect_refused(test, &dd, "Dma32BitAddresses only, 40-bit width");

	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.MaximumLength = 0;
	nt_expect_refused(test, &dd, "MaximumLength 0");

	/* Widths that agree: DmaAddressWidth is honoured, else the flags. */
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.DmaAddressWidth = 40;
	KUNIT_EXPECT_EQ(test, nt_width_of(test, &dd), 40U);
	dd.DmaAddressWidth = 0;
	KUNIT_EXPECT_EQ(test, nt_width_of(test, &dd), 64U);
	dd.Dma64BitAddresses = FALSE;
	KUNIT_EXPECT_EQ(test, nt_width_of(test, &dd), 32U);

	/*
	 * Neither flag: 24 bits, except for a scatter/gather bus master whose
	 * InterfaceType is PCIBus, which Windows' HAL takes as 32-bit.
	 */
	dd.Dma32BitAddresses = FALSE;
	KUNIT_EXPECT_EQ(test, nt_width_of(test, &dd), 32U);
	dd.InterfaceType = Internal;
	KUNIT_EXPECT_EQ(test, nt_width_of(test, &dd), 24U);
	dd.InterfaceType = PCIBus;
	dd.ScatterGather = FALSE;
	KUNIT_EXPECT_EQ(test, nt_width_of(test, &dd), 24U);

	/* NumberOfMapRegisters is not optional on Windows either. */
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	KUNIT_EXPECT_NULL(test, IoGetDmaAdapter(&t->pdev->dev, &dd, NULL));

	/*
	 * A bus master that fills in system DMA fields too (real drivers set
	 * DmaChannel and IgnoreCount): ignored, as on Windows.
	 */
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.IgnoreCount = TRUE;
	dd.DmaChannel = 1;
	dd.DmaPort = 2;
	dd.DmaSpeed = TypeB;
	dd.DmaRequestLine = 3;
	KUNIT_EXPECT_EQ(test, nt_width_of(test, &dd), 64U);
}

/*
 * IoGetDmaAdapter grants fewer map registers than MaximumLength needs when
 * the adapter cannot have them, and says how many: a driver then keeps
 * each transfer to (NumberOfMapRegisters - 1) pages, as on Windows.
 */
static void nt_map_register_grant(struct kunit *test)
{
	struct nt_test *t = test->priv;
	struct device *dev = &t->pdev->dev;
	DMA_ADAPTER_INFO ai = { .Version = DMA_ADAPTER_INFO_VERSION1 };
	const DMA_OPERATIONS *ops;
	ULONG regs = 0, size = 0, cregs = 0, max;
	DEVICE_DESCRIPTION dd;
	PDMA_ADAPTER adapter;

	/* "As much as you can": 4 GiB, over a million pages. */
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.MaximumLength = 0xffffffff;
	adapter = IoGetDmaAdapter(dev, &dd, &regs);
	KUNIT_ASSERT_NOT_NULL(test, adapter);
	ops = adapter->DmaOperations;
	KUNIT_EXPECT_GT(test, regs, 16U);
	KUNIT_EXPECT_LT(test, regs, (ULONG)(SZ_4G / PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, ops->GetDmaAdapterInfo(adapter, &ai),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, ai.V1.ScatterGatherLimit, regs);
	/* The most the granted registers carry at the worst alignment. */
	max = (regs - 1) * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, ops->CalculateScatterGatherList(adapter, NULL,
							      (PVOID)(PAGE_SIZE - 1),
							      max, &size,
							      &cregs),
			STATUS_SUCCESS);
	KUNIT_EXPECT_EQ(test, cregs, regs);
	KUNIT_EXPECT_NE(test, ops->CalculateScatterGatherList(adapter, NULL,
							      NULL, max + 1,
							      &size, NULL),
			STATUS_SUCCESS);
	nt_one_get_put(test, dev, adapter);
	ops->PutDmaAdapter(adapter);

	/*
	 * A one-element device gets no more than the device's DMA segment
	 * (64 KiB here) in one transfer: the registers for that.
	 */
	nt_desc_init(&dd, DEVICE_DESCRIPTION_VERSION3);
	dd.ScatterGather = FALSE;
	dd.MaximumLength = SZ_1M;
	regs = 0;
	adapter = IoGetDmaAdapter(dev, &dd, &regs);
	KUNIT_ASSERT_NOT_NULL(test, adapter);
	ops = adapter->DmaOperations;
	KUNIT_EXPECT_EQ(test, regs,
			(ULONG)DIV_ROUND_UP(NT_TEST_MAX + PAGE_SIZE - 1,
					    PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, ops->CalculateScatterGatherList(adapter, NULL,
							      NULL, NT_TEST_MAX,
							      &size, NULL),
			STATUS_SUCCESS);
	KUNIT_EXPECT_NE(test, ops->CalculateScatterGatherList(adapter, NULL,
							      NULL,
							      NT_TEST_MAX + 1,
							      &size, NULL),
			STATUS_SUCCESS);
	nt_one_get_put(test, dev, adapter);
	ops->PutDmaAdapter(adapter);
}

static struct kunit_case nt_test_cases[] = {
	KUNIT_CASE(nt_adapter),
	KUNIT_CASE(nt_get_put),
	KUNIT_CASE(nt_calculate_build),
	KUNIT_CASE(nt_too_long),
	KUNIT_CASE(nt_ex),
	KUNIT_CASE(nt_common_buffer),
	KUNIT_CASE(nt_info),
	KUNIT_CASE(nt_versions),
	KUNIT_CASE(nt_refused),
	KUNIT_CASE(nt_map_register_grant),
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
