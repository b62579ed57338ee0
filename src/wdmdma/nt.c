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

static const DMA_OPERATIONS wdmdma_nt_operations = {
	.Size = sizeof(DMA_OPERATIONS),
	.PutDmaAdapter = nt_put_dma_adapter,
	.GetScatterGatherList = nt_get_sg_list,
	.PutScatterGatherList = nt_put_sg_list,
	.CalculateScatterGatherList = nt_calculate_sg_list,
	.BuildScatterGatherList = nt_build_sg_list,
	.InitializeDmaTransferContext = nt_init_transfer_context,
	.CancelAdapterChannel = nt_cancel_adapter_channel,
	.GetScatterGatherListEx = nt_get_sg_list_ex,
	.BuildScatterGatherListEx = nt_build_sg_list_ex,
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
