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
	struct wdmdma_adapter *adapter = wdmdma_from_nt(DmaAdapter);
	struct wdmdma_req req __uninitialized;
	int ret;

	wdmdma_req_init(&req, Mdl, offset, Length,
			WDMDMA_REQ_NT | (WriteToDevice ? WDMDMA_REQ_WRITE : 0),
			Context, DeviceObject, buf_len);
	req.nt_fn = ExecutionRoutine;
	ret = wdmdma_submit(adapter, &req, ctx, buf, Flags,
			    (struct wdmdma_sg_list **)ScatterGatherList);
	if (ret != -EMSGSIZE && ret != -ENOSPC)
		return to_ntstatus(ret);
	/*
	 * More map registers than the adapter grants: Windows returns
	 * STATUS_INSUFFICIENT_RESOURCES, as for memory short now, though
	 * this one never succeeds. Say which it is (CalculateScatterGatherList
	 * or GetDmaTransferInfo tell it before the call).
	 */
	if (ret == -EMSGSIZE)
		dev_warn_ratelimited(adapter->dev,
				     "%s of %u bytes: longer than the adapter's largest transfer (%u bytes): STATUS_INSUFFICIENT_RESOURCES, and retrying cannot help\n",
				     buf ? "Build" : "Get", Length,
				     adapter->desc.max_transfer);
	else
		dev_warn_ratelimited(adapter->dev,
				     "%s of %u bytes: needs more map registers than the adapter grants: STATUS_INSUFFICIENT_RESOURCES, and retrying cannot help\n",
				     buf ? "Build" : "Get", Length);
	return STATUS_INSUFFICIENT_RESOURCES;
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
 * Packet-based DMA. The adapter-control routine gets the DeviceObject
 * passed and a NULL Irp; MapRegisterBase is wdmdma's opaque base.
 */
static NTSTATUS nt_channel(PDMA_ADAPTER DmaAdapter, PDEVICE_OBJECT DeviceObject,
			   PVOID ctx, ULONG NumberOfMapRegisters, ULONG Flags,
			   PDRIVER_CONTROL ExecutionRoutine, PVOID Context,
			   PVOID *MapRegisterBase)
{
	struct wdmdma_req req = {
		.flags = WDMDMA_REQ_NT,
		.nt_ctl_fn = ExecutionRoutine,
		.context = Context,
		.dev = DeviceObject,
	};

	return to_ntstatus(wdmdma_channel_submit(wdmdma_from_nt(DmaAdapter),
						 &req, NumberOfMapRegisters,
						 ctx, Flags,
						 (struct wdmdma_map_regs **)MapRegisterBase));
}

static NTSTATUS nt_allocate_adapter_channel(PDMA_ADAPTER DmaAdapter,
					    PDEVICE_OBJECT DeviceObject,
					    ULONG NumberOfMapRegisters,
					    PDRIVER_CONTROL ExecutionRoutine,
					    PVOID Context)
{
	if (!ExecutionRoutine)
		return STATUS_INVALID_PARAMETER;
	return nt_channel(DmaAdapter, DeviceObject, NULL, NumberOfMapRegisters,
			  0, ExecutionRoutine, Context, NULL);
}

static NTSTATUS nt_allocate_adapter_channel_ex(PDMA_ADAPTER DmaAdapter,
					       PDEVICE_OBJECT DeviceObject,
					       PVOID DmaTransferContext,
					       ULONG NumberOfMapRegisters,
					       ULONG Flags,
					       PDRIVER_CONTROL ExecutionRoutine,
					       PVOID ExecutionContext,
					       PVOID *MapRegisterBase)
{
	if (!DmaTransferContext)
		return STATUS_INVALID_PARAMETER;
	return nt_channel(DmaAdapter, DeviceObject, DmaTransferContext,
			  NumberOfMapRegisters, Flags, ExecutionRoutine,
			  ExecutionContext, MapRegisterBase);
}

/* On failure: a zero address and *Length 0 (MapTransfer has no status). */
static PHYSICAL_ADDRESS nt_map_transfer(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
					PVOID MapRegisterBase, PVOID CurrentVa,
					PULONG Length, BOOLEAN WriteToDevice)
{
	PHYSICAL_ADDRESS pa = { .QuadPart = 0 };
	dma_addr_t addr;
	u32 len;

	if (!Length) {
		pr_err_ratelimited("MapTransfer: NULL Length: refused\n");
		return pa;
	}
	len = *Length;
	if (wdmdma_map_transfer(wdmdma_from_nt(DmaAdapter), Mdl,
				MapRegisterBase, CurrentVa, &len,
				WriteToDevice, &addr))
		len = 0;
	else
		pa.QuadPart = addr;
	*Length = len;
	return pa;
}

static BOOLEAN nt_flush_adapter_buffers(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
					PVOID MapRegisterBase, PVOID CurrentVa,
					ULONG Length, BOOLEAN WriteToDevice)
{
	return !wdmdma_flush_adapter_buffers(wdmdma_from_nt(DmaAdapter), Mdl,
					     MapRegisterBase, CurrentVa,
					     Length, WriteToDevice);
}

/*
 * DeviceOffset and the completion routine are for system DMA: the offset
 * is ignored for a bus master (as Windows does), a completion routine is
 * STATUS_NOT_SUPPORTED.
 */
static NTSTATUS nt_map_transfer_ex(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
				   PVOID MapRegisterBase, ULONGLONG Offset,
				   ULONG DeviceOffset, PULONG Length,
				   BOOLEAN WriteToDevice,
				   PSCATTER_GATHER_LIST ScatterGatherBuffer,
				   ULONG ScatterGatherBufferLength,
				   PVOID DmaCompletionRoutine,
				   PVOID CompletionContext)
{
	if (DmaCompletionRoutine)
		return STATUS_NOT_SUPPORTED;
	if (!Length || !ScatterGatherBuffer)
		return STATUS_INVALID_PARAMETER;
	return to_ntstatus(wdmdma_map_transfer_ex(wdmdma_from_nt(DmaAdapter),
						  Mdl, MapRegisterBase, Offset,
						  Length, WriteToDevice,
						  (struct wdmdma_sg_list *)ScatterGatherBuffer,
						  ScatterGatherBufferLength));
}

static NTSTATUS nt_flush_adapter_buffers_ex(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
					    PVOID MapRegisterBase,
					    ULONGLONG Offset, ULONG Length,
					    BOOLEAN WriteToDevice)
{
	return to_ntstatus(wdmdma_flush_adapter_buffers_ex(wdmdma_from_nt(DmaAdapter),
							   Mdl, MapRegisterBase,
							   Offset, Length,
							   WriteToDevice));
}

static VOID nt_free_map_registers(PDMA_ADAPTER DmaAdapter,
				  PVOID MapRegisterBase,
				  ULONG NumberOfMapRegisters)
{
	wdmdma_free_map_registers(wdmdma_from_nt(DmaAdapter), MapRegisterBase,
				  NumberOfMapRegisters);
}

static VOID nt_free_adapter_channel(PDMA_ADAPTER DmaAdapter)
{
	wdmdma_free_channel(wdmdma_from_nt(DmaAdapter));
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

/*
 * DMA_OPERATIONS comes in the versions DEVICE_DESCRIPTION.Version asks for:
 * version 1 (asked with 0 or 1) ends at PutScatterGatherList (with the
 * packet-based routines before it), version 2
 * adds CalculateScatterGatherList, BuildScatterGatherList and
 * BuildMdlFromScatterGatherList, version 3 the rest. A table's Size ends
 * at its version's last member (as a driver's RTL_SIZEOF_THROUGH_FIELD
 * checks expect); the members of later versions are NULL.
 */
#define NT_OPS_V1							\
	.PutDmaAdapter = nt_put_dma_adapter,				\
	.AllocateCommonBuffer = nt_allocate_common_buffer,		\
	.FreeCommonBuffer = nt_free_common_buffer,			\
	.AllocateAdapterChannel = nt_allocate_adapter_channel,		\
	.FlushAdapterBuffers = nt_flush_adapter_buffers,		\
	.FreeAdapterChannel = nt_free_adapter_channel,			\
	.FreeMapRegisters = nt_free_map_registers,			\
	.MapTransfer = nt_map_transfer,					\
	.GetDmaAlignment = nt_get_dma_alignment,			\
	.GetScatterGatherList = nt_get_sg_list,				\
	.PutScatterGatherList = nt_put_sg_list
#define NT_OPS_V2							\
	NT_OPS_V1,							\
	.CalculateScatterGatherList = nt_calculate_sg_list,		\
	.BuildScatterGatherList = nt_build_sg_list,			\
	.BuildMdlFromScatterGatherList = nt_build_mdl_from_sg_list

/* Indexed by DMA_OPERATIONS version - 1. */
static const DMA_OPERATIONS wdmdma_nt_operations[] = {
	{
		.Size = offsetof(DMA_OPERATIONS, CalculateScatterGatherList),
		NT_OPS_V1,
	}, {
		.Size = offsetof(DMA_OPERATIONS, GetDmaAdapterInfo),
		NT_OPS_V2,
	}, {
		.Size = sizeof(DMA_OPERATIONS),
		NT_OPS_V2,
		.GetDmaAdapterInfo = nt_get_dma_adapter_info,
		.GetDmaTransferInfo = nt_get_dma_transfer_info,
		.InitializeDmaTransferContext = nt_init_transfer_context,
		.AllocateCommonBufferEx = nt_allocate_common_buffer_ex,
		.AllocateAdapterChannelEx = nt_allocate_adapter_channel_ex,
		.CancelAdapterChannel = nt_cancel_adapter_channel,
		.MapTransferEx = nt_map_transfer_ex,
		.GetScatterGatherListEx = nt_get_sg_list_ex,
		.BuildScatterGatherListEx = nt_build_sg_list_ex,
		.FlushAdapterBuffersEx = nt_flush_adapter_buffers_ex,
		.AllocateCommonBufferWithBounds =
			nt_allocate_common_buffer_with_bounds,
	},
};

static void wdmdma_nt_set_version(struct wdmdma_adapter *adapter,
				  unsigned int version)
{
	/* Windows sets DMA_ADAPTER.Version to 1 for versions 1 and 2. */
	adapter->nt.Version = version == 3 ? 3 : 1;
	adapter->nt.Size = sizeof(adapter->nt);
	adapter->nt.DmaOperations = &wdmdma_nt_operations[version - 1];
}

/* Fill in the Windows view of a new adapter (all of version 3). */
void wdmdma_nt_init(struct wdmdma_adapter *adapter)
{
	wdmdma_nt_set_version(adapter, 3);
}

/*
 * The most map registers IoGetDmaAdapter grants an adapter: a chunk of them
 * (with the bounce alignment of each page, see regs.c) is one physically
 * contiguous allocation, and the page allocator makes none larger than
 * MAX_ORDER_NR_PAGES. 1008 with 4 KiB pages: transfers of 4028 KiB.
 */
#define NT_MAX_MAP_REGISTERS						\
	((unsigned int)(MAX_ORDER_NR_PAGES * PAGE_SIZE /		\
			(PAGE_SIZE + WDMDMA_BOUNCE_ALIGN)))

/*
 * The width the address flags give. Neither flag means 24 bits, except
 * for a scatter/gather bus master whose InterfaceType is PCIBus: Windows'
 * HAL takes that one as 32-bit even when its driver forgot
 * Dma32BitAddresses, going by the description as this does.
 */
static unsigned int nt_flags_width(struct device *dev,
				   const DEVICE_DESCRIPTION *dd)
{
	if (dd->Dma64BitAddresses)
		return 64;
	if (dd->Dma32BitAddresses)
		return 32;
	if (dd->ScatterGather && dd->InterfaceType == PCIBus)
		return 32;
	dev_notice(dev, "IoGetDmaAdapter: neither Dma32BitAddresses nor Dma64BitAddresses: 24-bit addresses, as on Windows; transfers above 16 MiB bounce\n");
	return 24;
}

/*
 * The address width from DmaAddressWidth (version 3), else from the flags.
 * A width the flags contradict is refused: Dma64BitAddresses says the
 * device reaches past 4 GiB, Dma32BitAddresses alone that it does not.
 */
static int nt_dma_width(struct device *dev, const DEVICE_DESCRIPTION *dd,
			unsigned int *width)
{
	ULONG w = dd->DmaAddressWidth;

	if (dd->Version < DEVICE_DESCRIPTION_VERSION3 || !w) {
		if (w)
			dev_warn(dev, "IoGetDmaAdapter: DmaAddressWidth %u ignored: it needs DEVICE_DESCRIPTION_VERSION3, Version is %u\n",
				 w, dd->Version);
		*width = nt_flags_width(dev, dd);
		return 0;
	}
	if (w < 24 || w > 64) {
		dev_err(dev, "IoGetDmaAdapter: DmaAddressWidth %u is outside 24..64 bits\n",
			w);
		return -EINVAL;
	}
	if (dd->Dma64BitAddresses && w <= 32) {
		dev_err(dev, "IoGetDmaAdapter: Dma64BitAddresses is TRUE but DmaAddressWidth is %u: which is it?\n",
			w);
		return -EINVAL;
	}
	if (dd->Dma32BitAddresses && !dd->Dma64BitAddresses && w > 32) {
		dev_err(dev, "IoGetDmaAdapter: Dma32BitAddresses without Dma64BitAddresses but DmaAddressWidth is %u: which is it?\n",
			w);
		return -EINVAL;
	}
	*width = w;
	return 0;
}

/*
 * Check @dd and turn it into @desc: refuse what Linux cannot do and what
 * contradicts itself, saying which field and why.
 */
static int nt_desc(struct device *dev, const DEVICE_DESCRIPTION *dd,
		   struct wdmdma_desc *desc)
{
	if (dd->Version > DEVICE_DESCRIPTION_VERSION3) {
		dev_err(dev, "IoGetDmaAdapter: DEVICE_DESCRIPTION Version %u is unknown (0..3)\n",
			dd->Version);
		return -EINVAL;
	}
	if (!dd->Master) {
		dev_err(dev, "IoGetDmaAdapter: Master is FALSE: system DMA through a platform DMA controller is not supported (Linux drives those through dmaengine); only bus-master devices are\n");
		return -EOPNOTSUPP;
	}
	if (!dd->MaximumLength) {
		dev_err(dev, "IoGetDmaAdapter: MaximumLength is 0\n");
		return -EINVAL;
	}
	/* System DMA's fields (and DmaPort) are ignored, as on Windows. */
	if (dd->DemandMode || dd->AutoInitialize || dd->DmaChannel ||
	    dd->DmaPort || dd->DmaWidth || dd->DmaSpeed ||
	    (dd->Version >= DEVICE_DESCRIPTION_VERSION3 &&
	     (dd->DmaControllerInstance || dd->DmaRequestLine ||
	      dd->DeviceAddress.QuadPart)))
		dev_dbg(dev, "IoGetDmaAdapter: a bus master: the system DMA fields are ignored\n");

	desc->scatter_gather = dd->ScatterGather;
	desc->max_transfer = dd->MaximumLength;
	return nt_dma_width(dev, dd, &desc->dma_width);
}

/*
 * Grant fewer map registers than MaximumLength needs when the adapter
 * cannot have them: shorten the maximum transfer to what the registers
 * carry at the worst alignment, (registers - 1) pages, and to the device's
 * DMA segment for a one-element device (its transfer is one segment).
 */
static void nt_grant(struct device *dev, struct wdmdma_desc *desc)
{
	u32 max = (NT_MAX_MAP_REGISTERS - 1) * PAGE_SIZE;

	if (!desc->scatter_gather)
		max = min(max, dma_get_max_seg_size(dev));
	if (desc->max_transfer <= max)
		return;
	dev_info(dev, "IoGetDmaAdapter: MaximumLength %u needs %u map registers; %u granted (transfers of up to %u bytes)\n",
		 desc->max_transfer,
		 wdmdma_span_pages(PAGE_SIZE - 1, desc->max_transfer),
		 wdmdma_span_pages(PAGE_SIZE - 1, max), max);
	desc->max_transfer = max;
}

/**
 * IoGetDmaAdapter() - create a DMA adapter from a DEVICE_DESCRIPTION
 * @PhysicalDeviceObject: the device
 * @DeviceDescription: what the device can do. Version picks the
 *	DMA_OPERATIONS version (0 and 1: version 1; 2; 3); Master must be
 *	TRUE; ScatterGather, MaximumLength and the address width
 *	(DmaAddressWidth with Version 3, else Dma64BitAddresses /
 *	Dma32BitAddresses, else 32 bits for a scatter/gather device whose
 *	InterfaceType is PCIBus and 24 bits for others, as on Windows) are
 *	used; the fields of
 *	system DMA are ignored, as Windows ignores them for a bus master
 * @NumberOfMapRegisters: receives the map registers granted: the most one
 *	transfer may use. It may be fewer than MaximumLength needs (see
 *	below); a transfer that needs more fails. Not optional.
 *
 * Forwards to wdmdma_create_adapter() with a one-transfer reserve. Unlike
 * that function, it grants what it can: at most NT_MAX_MAP_REGISTERS (what
 * one contiguous allocation holds), and for a one-element device no more
 * than its DMA segment (dma_get_max_seg_size()) carries.
 *
 * DMA_ADAPTER.Version is 1 for versions 1 and 2 (as on Windows) and 3 for
 * version 3; DmaOperations->Size tells the versions apart, and a member
 * the version has not is NULL.
 *
 * Refused, with a message naming the field: a NULL argument, an unknown
 * Version, Master FALSE (system DMA), a MaximumLength of 0, a DmaAddressWidth outside
 * 24..64 or one the Dma64BitAddresses/Dma32BitAddresses flags contradict.
 *
 * Context: process context; sleeps.
 * Return: the adapter, or NULL.
 */
PDMA_ADAPTER IoGetDmaAdapter(PDEVICE_OBJECT PhysicalDeviceObject,
			     PDEVICE_DESCRIPTION DeviceDescription,
			     PULONG NumberOfMapRegisters)
{
	struct wdmdma_adapter *adapter;
	struct wdmdma_desc desc = { };
	unsigned int regs;

	if (!PhysicalDeviceObject || !DeviceDescription ||
	    !NumberOfMapRegisters) {
		pr_err("%s: NULL %s\n", __func__,
		       !PhysicalDeviceObject ? "PhysicalDeviceObject" :
		       !DeviceDescription ? "DeviceDescription" :
		       "NumberOfMapRegisters (it is not optional)");
		return NULL;
	}
	if (nt_desc(PhysicalDeviceObject, DeviceDescription, &desc))
		return NULL;
	nt_grant(PhysicalDeviceObject, &desc);

	adapter = wdmdma_create_adapter(PhysicalDeviceObject, &desc, &regs);
	if (IS_ERR(adapter))
		return NULL;
	wdmdma_nt_set_version(adapter,
			      max_t(ULONG, DeviceDescription->Version, 1));
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
