// SPDX-License-Identifier: GPL-2.0
/*
 * wdmdma's Windows-named entry points (include/wdmdma/ntdma.h): the
 * DMA_OPERATIONS table, IoGetDmaAdapter and the MDL routines. Each one
 * forwards to the wdmdma_* function and translates errno to NTSTATUS.
 * The list-control routine of a Windows-style request gets the
 * DeviceObject the driver passed with it.
 *
 * Locking: none of its own (see internal.h).
 *
 * Copyright (C) 2026 The wdmdma authors.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>

#include "internal.h"

static NTSTATUS to_ntstatus(int err)
{
	switch (err) {
	case 0:
		return STATUS_SUCCESS;
	case -ENOBUFS:
	case -EMSGSIZE:
		return STATUS_BUFFER_TOO_SMALL;
	case -ENOMEM:
	case -ENOSPC:
		return STATUS_INSUFFICIENT_RESOURCES;
	case -EIO:	/* will not succeed: no point trying again */
		return STATUS_IO_DEVICE_ERROR;
	case -ENODEV:
		return STATUS_DEVICE_NOT_READY;
	case -EINVAL:
		return STATUS_INVALID_PARAMETER;
	default:
		return STATUS_UNSUCCESSFUL;
	}
}

static VOID nt_put_dma_adapter(PDMA_ADAPTER DmaAdapter)
{
	wdmdma_destroy_adapter(wdmdma_from_nt(DmaAdapter));
}

/* Submit a request whose callback has the Windows signature. */
static NTSTATUS nt_submit(PDMA_ADAPTER DmaAdapter, PDEVICE_OBJECT DeviceObject,
			  PVOID ctx, PMDL Mdl,
			  u64 offset, ULONG Length, ULONG Flags,
			  PDRIVER_LIST_CONTROL ExecutionRoutine, PVOID Context,
			  BOOLEAN WriteToDevice, PVOID buf, ULONG buf_len,
			  PSCATTER_GATHER_LIST *ScatterGatherList)
{
	struct wdmdma_req req = {
		.mdl = Mdl,
		.offset = offset,
		.length = Length,
		.flags = WDMDMA_REQ_NT | (WriteToDevice ? WDMDMA_REQ_WRITE : 0),
		.nt_fn = ExecutionRoutine,
		.context = Context,
		.dev = DeviceObject,
		.buf_len = buf_len,
	};

	return to_ntstatus(wdmdma_submit(wdmdma_from_nt(DmaAdapter), &req, ctx,
					 buf, Flags,
					 (struct wdmdma_sg_list **)ScatterGatherList));
}

static NTSTATUS nt_offset(PMDL Mdl, PVOID CurrentVa, u64 *offset)
{
	return wdmdma_offset_of(Mdl, CurrentVa, offset) ?
	       STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
}

static NTSTATUS nt_get_sg_list(PDMA_ADAPTER DmaAdapter,
			       PDEVICE_OBJECT DeviceObject, PMDL Mdl,
			       PVOID CurrentVa, ULONG Length,
			       PDRIVER_LIST_CONTROL ExecutionRoutine,
			       PVOID Context, BOOLEAN WriteToDevice)
{
	u64 offset;

	if (!ExecutionRoutine || nt_offset(Mdl, CurrentVa, &offset))
		return STATUS_INVALID_PARAMETER;
	return nt_submit(DmaAdapter, DeviceObject, NULL, Mdl, offset, Length, 0,
			 ExecutionRoutine, Context, WriteToDevice, NULL, 0, NULL);
}

static VOID nt_put_sg_list(PDMA_ADAPTER DmaAdapter,
			   PSCATTER_GATHER_LIST ScatterGather,
			   BOOLEAN WriteToDevice)
{
	wdmdma_put_sg_list(wdmdma_from_nt(DmaAdapter),
			   (struct wdmdma_sg_list *)ScatterGather,
			   WriteToDevice);
}

static NTSTATUS nt_calculate_sg_list(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
				     PVOID CurrentVa, ULONG Length,
				     PULONG ScatterGatherListSize,
				     PULONG NumberOfMapRegisters)
{
	unsigned int regs;
	size_t size;
	int ret;

	if (!ScatterGatherListSize)
		return STATUS_INVALID_PARAMETER;
	ret = wdmdma_calculate_sg_list(wdmdma_from_nt(DmaAdapter), Mdl,
				       CurrentVa, Length, &size, &regs);
	if (ret)
		return to_ntstatus(ret);
	*ScatterGatherListSize = size;
	if (NumberOfMapRegisters)
		*NumberOfMapRegisters = regs;
	return STATUS_SUCCESS;
}

static NTSTATUS nt_build_sg_list(PDMA_ADAPTER DmaAdapter,
				 PDEVICE_OBJECT DeviceObject, PMDL Mdl,
				 PVOID CurrentVa, ULONG Length,
				 PDRIVER_LIST_CONTROL ExecutionRoutine,
				 PVOID Context, BOOLEAN WriteToDevice,
				 PVOID ScatterGatherBuffer,
				 ULONG ScatterGatherLength)
{
	u64 offset;

	if (!ExecutionRoutine || !ScatterGatherBuffer ||
	    nt_offset(Mdl, CurrentVa, &offset))
		return STATUS_INVALID_PARAMETER;
	return nt_submit(DmaAdapter, DeviceObject, NULL, Mdl, offset, Length, 0,
			 ExecutionRoutine, Context, WriteToDevice,
			 ScatterGatherBuffer, ScatterGatherLength, NULL);
}

static NTSTATUS nt_init_transfer_context(PDMA_ADAPTER DmaAdapter,
					 PVOID DmaTransferContext)
{
	if (!DmaAdapter || !DmaTransferContext)
		return STATUS_INVALID_PARAMETER;
	wdmdma_init_xfer_ctx(wdmdma_from_nt(DmaAdapter), DmaTransferContext);
	return STATUS_SUCCESS;
}

static BOOLEAN nt_cancel_adapter_channel(PDMA_ADAPTER DmaAdapter,
					 PDEVICE_OBJECT DeviceObject,
					 PVOID DmaTransferContext)
{
	return wdmdma_cancel(wdmdma_from_nt(DmaAdapter), DmaTransferContext);
}

static NTSTATUS nt_get_sg_list_ex(PDMA_ADAPTER DmaAdapter,
				  PDEVICE_OBJECT DeviceObject,
				  PVOID DmaTransferContext, PMDL Mdl,
				  ULONGLONG Offset, ULONG Length, ULONG Flags,
				  PDRIVER_LIST_CONTROL ExecutionRoutine,
				  PVOID Context, BOOLEAN WriteToDevice,
				  PVOID DmaCompletionRoutine,
				  PVOID CompletionContext,
				  PSCATTER_GATHER_LIST *ScatterGatherList)
{
	/* Completion routines are for system DMA, which wdmdma has not. */
	if (DmaCompletionRoutine || !DmaTransferContext)
		return DmaCompletionRoutine ? STATUS_NOT_SUPPORTED :
					      STATUS_INVALID_PARAMETER;
	return nt_submit(DmaAdapter, DeviceObject, DmaTransferContext, Mdl, Offset, Length,
			 Flags, ExecutionRoutine, Context, WriteToDevice,
			 NULL, 0, ScatterGatherList);
}

static NTSTATUS nt_build_sg_list_ex(PDMA_ADAPTER DmaAdapter,
				    PDEVICE_OBJECT DeviceObject,
				    PVOID DmaTransferContext, PMDL Mdl,
				    ULONGLONG Offset, ULONG Length, ULONG Flags,
				    PDRIVER_LIST_CONTROL ExecutionRoutine,
				    PVOID Context, BOOLEAN WriteToDevice,
				    PVOID ScatterGatherBuffer,
				    ULONG ScatterGatherLength,
				    PVOID DmaCompletionRoutine,
				    PVOID CompletionContext,
				    PSCATTER_GATHER_LIST *ScatterGatherList)
{
	if (DmaCompletionRoutine || !DmaTransferContext || !ScatterGatherBuffer)
		return DmaCompletionRoutine ? STATUS_NOT_SUPPORTED :
					      STATUS_INVALID_PARAMETER;
	return nt_submit(DmaAdapter, DeviceObject, DmaTransferContext, Mdl, Offset, Length,
			 Flags, ExecutionRoutine, Context, WriteToDevice,
			 ScatterGatherBuffer, ScatterGatherLength,
			 ScatterGatherList);
}

/*
 * Common buffers. CacheEnabled and CacheType are honoured as far as Linux
 * can (see src/wdmdma/common.c): the memory is coherent whatever they
 * say; PreferredNode is left to the DMA layer (the device's node).
 * Windows allows these at PASSIVE_LEVEL only: GFP_KERNEL.
 */
static PVOID nt_alloc_common(PDMA_ADAPTER DmaAdapter, u64 min_addr,
			     u64 max_addr, ULONG Length,
			     PPHYSICAL_ADDRESS LogicalAddress)
{
	dma_addr_t dma;
	void *va;

	if (!LogicalAddress) {
		pr_err("AllocateCommonBuffer: NULL LogicalAddress\n");
		return NULL;
	}
	va = wdmdma_alloc_common_buffer_bounds(wdmdma_from_nt(DmaAdapter),
					       Length, min_addr, max_addr,
					       &dma, GFP_KERNEL);
	if (IS_ERR(va))
		return NULL;
	LogicalAddress->QuadPart = dma;
	return va;
}

static PVOID nt_allocate_common_buffer(PDMA_ADAPTER DmaAdapter, ULONG Length,
				       PPHYSICAL_ADDRESS LogicalAddress,
				       BOOLEAN CacheEnabled)
{
	return nt_alloc_common(DmaAdapter, 0, U64_MAX, Length, LogicalAddress);
}

static PVOID nt_allocate_common_buffer_ex(PDMA_ADAPTER DmaAdapter,
					  PPHYSICAL_ADDRESS MaximumAddress,
					  ULONG Length,
					  PPHYSICAL_ADDRESS LogicalAddress,
					  BOOLEAN CacheEnabled,
					  NODE_REQUIREMENT PreferredNode)
{
	return nt_alloc_common(DmaAdapter, 0,
			       MaximumAddress ? MaximumAddress->QuadPart : U64_MAX,
			       Length, LogicalAddress);
}

static PVOID nt_allocate_common_buffer_with_bounds(PDMA_ADAPTER DmaAdapter,
						   PPHYSICAL_ADDRESS MinimumAddress,
						   PPHYSICAL_ADDRESS MaximumAddress,
						   ULONG Length, ULONG Flags,
						   PMEMORY_CACHING_TYPE CacheType,
						   NODE_REQUIREMENT PreferredNode,
						   PPHYSICAL_ADDRESS LogicalAddress)
{
	if (Flags) {
		pr_err("AllocateCommonBufferWithBounds: Flags %#x not supported (large pages are not)\n",
		       Flags);
		return NULL;
	}
	/* As on Windows, only these two (both give coherent memory here). */
	if (CacheType && *CacheType != MmCached && *CacheType != MmNonCached) {
		pr_err("AllocateCommonBufferWithBounds: CacheType %d not supported (MmCached or MmNonCached)\n",
		       *CacheType);
		return NULL;
	}
	return nt_alloc_common(DmaAdapter,
			       MinimumAddress ? MinimumAddress->QuadPart : 0,
			       MaximumAddress ? MaximumAddress->QuadPart : U64_MAX,
			       Length, LogicalAddress);
}

static VOID nt_free_common_buffer(PDMA_ADAPTER DmaAdapter, ULONG Length,
				  PHYSICAL_ADDRESS LogicalAddress,
				  PVOID VirtualAddress, BOOLEAN CacheEnabled)
{
	wdmdma_free_common_buffer(wdmdma_from_nt(DmaAdapter), Length,
				  VirtualAddress, LogicalAddress.QuadPart);
}

static ULONG nt_get_dma_alignment(PDMA_ADAPTER DmaAdapter)
{
	return wdmdma_get_dma_alignment(wdmdma_from_nt(DmaAdapter));
}

static NTSTATUS nt_get_dma_transfer_info(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
					 ULONGLONG Offset, ULONG Length,
					 BOOLEAN WriteOnly,
					 PDMA_TRANSFER_INFO TransferInfo)
{
	struct wdmdma_transfer_info info;
	int ret;

	if (!TransferInfo)
		return STATUS_INVALID_PARAMETER;
	if (TransferInfo->Version != DMA_TRANSFER_INFO_VERSION1 &&
	    TransferInfo->Version != DMA_TRANSFER_INFO_VERSION2)
		return STATUS_NOT_SUPPORTED;
	ret = wdmdma_get_transfer_info(wdmdma_from_nt(DmaAdapter), Mdl, Offset,
				       Length, &info);
	if (ret)
		return to_ntstatus(ret);
	TransferInfo->V1.MapRegisterCount = info.nr_map_registers;
	TransferInfo->V1.ScatterGatherElementCount = info.nr_elements;
	TransferInfo->V1.ScatterGatherListSize = info.list_size;
	if (TransferInfo->Version == DMA_TRANSFER_INFO_VERSION2)
		TransferInfo->V2.LogicalPageCount = info.nr_pages;
	return STATUS_SUCCESS;
}

static NTSTATUS nt_get_dma_adapter_info(PDMA_ADAPTER DmaAdapter,
					PDMA_ADAPTER_INFO AdapterInfo)
{
	struct wdmdma_adapter_info info;
	int ret;

	if (!AdapterInfo)
		return STATUS_INVALID_PARAMETER;
	if (AdapterInfo->Version != DMA_ADAPTER_INFO_VERSION1)
		return STATUS_NOT_SUPPORTED;
	ret = wdmdma_get_adapter_info(wdmdma_from_nt(DmaAdapter), &info);
	if (ret)
		return to_ntstatus(ret);
	/* A bus master: no DMA counter, and elements of any byte length. */
	AdapterInfo->V1.ReadDmaCounterAvailable = FALSE;
	AdapterInfo->V1.ScatterGatherLimit = info.max_elements;
	AdapterInfo->V1.DmaAddressWidth = info.dma_width;
	AdapterInfo->V1.Flags = 0;
	AdapterInfo->V1.MinimumTransferUnit = 1;
	return STATUS_SUCCESS;
}

/* Windows allows it at DISPATCH_LEVEL: GFP_ATOMIC. */
static NTSTATUS nt_build_mdl_from_sg_list(PDMA_ADAPTER DmaAdapter,
					  PSCATTER_GATHER_LIST ScatterGather,
					  PMDL OriginalMdl, PMDL *TargetMdl)
{
	return to_ntstatus(wdmdma_mdl_from_sg_list(wdmdma_from_nt(DmaAdapter),
						   (struct wdmdma_sg_list *)ScatterGather,
						   OriginalMdl, TargetMdl,
						   GFP_ATOMIC));
}

static const DMA_OPERATIONS wdmdma_nt_operations = {
	.Size = sizeof(DMA_OPERATIONS),
	.PutDmaAdapter = nt_put_dma_adapter,
	.AllocateCommonBuffer = nt_allocate_common_buffer,
	.FreeCommonBuffer = nt_free_common_buffer,
	.GetDmaAlignment = nt_get_dma_alignment,
	.GetScatterGatherList = nt_get_sg_list,
	.PutScatterGatherList = nt_put_sg_list,
	.CalculateScatterGatherList = nt_calculate_sg_list,
	.BuildScatterGatherList = nt_build_sg_list,
	.BuildMdlFromScatterGatherList = nt_build_mdl_from_sg_list,
	.GetDmaAdapterInfo = nt_get_dma_adapter_info,
	.GetDmaTransferInfo = nt_get_dma_transfer_info,
	.InitializeDmaTransferContext = nt_init_transfer_context,
	.AllocateCommonBufferEx = nt_allocate_common_buffer_ex,
	.CancelAdapterChannel = nt_cancel_adapter_channel,
	.GetScatterGatherListEx = nt_get_sg_list_ex,
	.BuildScatterGatherListEx = nt_build_sg_list_ex,
	.AllocateCommonBufferWithBounds = nt_allocate_common_buffer_with_bounds,
};

/* Fill in the Windows view of a new adapter. */
void wdmdma_nt_init(struct wdmdma_adapter *adapter)
{
	adapter->nt.Version = 3;
	adapter->nt.Size = sizeof(adapter->nt);
	adapter->nt.DmaOperations = &wdmdma_nt_operations;
}

/**
 * IoGetDmaAdapter() - create a DMA adapter from a DEVICE_DESCRIPTION
 * @PhysicalDeviceObject: the device
 * @DeviceDescription: its capabilities; ScatterGather, MaximumLength and the
 *	address width (DmaAddressWidth with Version 3, else Dma64BitAddresses
 *	/ Dma32BitAddresses, else 24 bits) are used
 * @NumberOfMapRegisters: receives the most map registers one transfer may
 *	use
 *
 * Forwards to wdmdma_create_adapter() with a one-transfer reserve.
 *
 * Context: process context; sleeps.
 * Return: the adapter (its DmaOperations filled in), or NULL.
 */
PDMA_ADAPTER IoGetDmaAdapter(PDEVICE_OBJECT PhysicalDeviceObject,
			     PDEVICE_DESCRIPTION DeviceDescription,
			     PULONG NumberOfMapRegisters)
{
	struct wdmdma_adapter *adapter;
	struct wdmdma_desc desc = { };
	unsigned int regs;

	if (!PhysicalDeviceObject || !DeviceDescription)
		return NULL;
	desc.scatter_gather = DeviceDescription->ScatterGather;
	desc.max_transfer = DeviceDescription->MaximumLength;
	if (DeviceDescription->Version >= DEVICE_DESCRIPTION_VERSION3 &&
	    DeviceDescription->DmaAddressWidth)
		desc.dma_width = DeviceDescription->DmaAddressWidth;
	else if (DeviceDescription->Dma64BitAddresses)
		desc.dma_width = 64;
	else if (DeviceDescription->Dma32BitAddresses)
		desc.dma_width = 32;
	else
		desc.dma_width = 24;

	adapter = wdmdma_create_adapter(PhysicalDeviceObject, &desc, &regs);
	if (IS_ERR(adapter))
		return NULL;
	if (NumberOfMapRegisters)
		*NumberOfMapRegisters = regs;
	return &adapter->nt;
}
EXPORT_SYMBOL_WDMDMA(IoGetDmaAdapter);

/**
 * IoAllocateMdl() - allocate an MDL for a kernel buffer
 * @VirtualAddress: the buffer
 * @Length: its length
 * @SecondaryBuffer: ignored (there is no IRP to chain to)
 * @ChargeQuota: ignored
 * @Irp: must be NULL
 *
 * Forwards to wdmdma_mdl_alloc() with GFP_ATOMIC (Windows allows this at
 * DISPATCH_LEVEL). Fill it with MmBuildMdlForNonPagedPool().
 *
 * Context: any.
 * Return: the MDL or NULL.
 */
PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
		   BOOLEAN ChargeQuota, PIRP Irp)
{
	if (Irp)
		return NULL;
	return wdmdma_mdl_alloc(VirtualAddress, Length, GFP_ATOMIC);
}
EXPORT_SYMBOL_WDMDMA(IoAllocateMdl);

/**
 * MmBuildMdlForNonPagedPool() - fill an MDL's pages for a kernel buffer
 * @MemoryDescriptorList: an MDL from IoAllocateMdl()
 *
 * Forwards to wdmdma_mdl_build_for_kernel_buffer(); a buffer that is not
 * vmalloc or linear-map memory leaves the MDL empty (and Get/Build on it
 * fail with STATUS_INVALID_PARAMETER).
 *
 * Context: any.
 * Return: nothing (VOID, as on Windows).
 */
VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList)
{
	wdmdma_mdl_build_for_kernel_buffer(MemoryDescriptorList);
}
EXPORT_SYMBOL_WDMDMA(MmBuildMdlForNonPagedPool);
