/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ntdma.h - Windows names for wdmdma, for driver code ported from Windows.
 *
 * DEVICE_OBJECT is struct device; an IRP is whatever the driver's own
 * request is (the callback's Irp argument is always NULL: keep your
 * request in Context). Routines are reached the Windows way, through
 * Adapter->DmaOperations; they forward to the wdmdma_* functions of
 * <wdmdma/wdmdma.h> and translate errno values to NTSTATUS. This header
 * has no logic of its own. Context rules are those of wdmdma.h: the list
 * routines never sleep, and a list-control routine must not sleep.
 *
 * Two differences from Windows a port must handle: the list-control
 * routine of a request that had to wait may get a NULL ScatterGather when
 * its mapping then fails for good (end the request with an I/O error;
 * nothing is to be put), and the DeviceObject it gets is the one passed to
 * Get/Build.
 *
 *   Windows                        wdmdma
 *   IoGetDmaAdapter                wdmdma_create_adapter()
 *   PutDmaAdapter                  wdmdma_destroy_adapter()
 *   GetScatterGatherList(Ex)       wdmdma_get_sg_list(_ex)()
 *   BuildScatterGatherList(Ex)     wdmdma_build_sg_list(_ex)()
 *   CalculateScatterGatherList     wdmdma_calculate_sg_list()
 *   PutScatterGatherList           wdmdma_put_sg_list()
 *   InitializeDmaTransferContext   wdmdma_init_xfer_ctx()
 *   CancelAdapterChannel           wdmdma_cancel()
 *   AllocateAdapterChannel(Ex)     wdmdma_allocate_channel(_ex)()
 *   MapTransfer(Ex)                wdmdma_map_transfer(_ex)()
 *   FlushAdapterBuffers(Ex)        wdmdma_flush_adapter_buffers(_ex)()
 *   FreeMapRegisters               wdmdma_free_map_registers()
 *   FreeAdapterChannel             wdmdma_free_channel()
 *   AllocateCommonBuffer(Ex), AllocateCommonBufferWithBounds
 *                                  wdmdma_alloc_common_buffer(_bounds)()
 *   FreeCommonBuffer               wdmdma_free_common_buffer()
 *   GetDmaAlignment                wdmdma_get_dma_alignment()
 *   GetDmaTransferInfo             wdmdma_get_transfer_info()
 *   GetDmaAdapterInfo              wdmdma_get_adapter_info()
 *   BuildMdlFromScatterGatherList  wdmdma_mdl_from_sg_list()
 *   IoBuildPartialMdl              wdmdma_mdl_build_partial()
 *   MmGetMdlByteOffset             wdmdma_mdl_byte_offset()
 *   MmGetSystemAddressForMdlSafe   wdmdma_mdl_system_address()
 *   KeFlushIoBuffers               (nothing to do: see below)
 */
#ifndef WDMDMA_NTDMA_H
#define WDMDMA_NTDMA_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <wdmdma/wdmdma.h>

typedef u8 UCHAR, *PUCHAR, BOOLEAN;
typedef u16 USHORT;
typedef u32 ULONG, *PULONG;
typedef s32 LONG, NTSTATUS;
typedef u64 ULONGLONG;
typedef s64 LONGLONG;
typedef unsigned long ULONG_PTR;
typedef void VOID, *PVOID;
typedef struct device DEVICE_OBJECT, *PDEVICE_OBJECT;
typedef struct _IRP IRP, *PIRP;		/* the driver's own request */
typedef struct wdmdma_mdl MDL, *PMDL;

#ifndef TRUE
#define TRUE	1
#endif
#ifndef FALSE
#define FALSE	0
#endif

#define STATUS_SUCCESS			((NTSTATUS)0x00000000)
#define STATUS_NOT_SUPPORTED		((NTSTATUS)0xC00000BB)
#define STATUS_INVALID_PARAMETER	((NTSTATUS)0xC000000D)
#define STATUS_INSUFFICIENT_RESOURCES	((NTSTATUS)0xC000009A)
#define STATUS_BUFFER_TOO_SMALL		((NTSTATUS)0xC0000023)
#define STATUS_DEVICE_NOT_READY		((NTSTATUS)0xC00000A3)
#define STATUS_UNSUCCESSFUL		((NTSTATUS)0xC0000001)
#define STATUS_IO_DEVICE_ERROR		((NTSTATUS)0xC0000185)
#define STATUS_NONE_MAPPED		((NTSTATUS)0xC0000073)
#define NT_SUCCESS(status)		((NTSTATUS)(status) >= 0)

typedef union _LARGE_INTEGER {
	struct {
		ULONG LowPart;
		LONG HighPart;
	};
	LONGLONG QuadPart;
} LARGE_INTEGER, PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

typedef struct _SCATTER_GATHER_ELEMENT {
	PHYSICAL_ADDRESS Address;
	ULONG Length;
	ULONG_PTR Reserved;
} SCATTER_GATHER_ELEMENT, *PSCATTER_GATHER_ELEMENT;

typedef struct _SCATTER_GATHER_LIST {
	ULONG NumberOfElements;
	ULONG_PTR Reserved;
	SCATTER_GATHER_ELEMENT Elements[];
} SCATTER_GATHER_LIST, *PSCATTER_GATHER_LIST;

/* The Windows view and struct wdmdma_sg_list are the same memory. */
static_assert(sizeof(SCATTER_GATHER_ELEMENT) == sizeof(struct wdmdma_sg_element));
static_assert(offsetof(SCATTER_GATHER_ELEMENT, Address) ==
	      offsetof(struct wdmdma_sg_element, addr));
static_assert(offsetof(SCATTER_GATHER_ELEMENT, Length) ==
	      offsetof(struct wdmdma_sg_element, len));
static_assert(offsetof(SCATTER_GATHER_ELEMENT, Reserved) ==
	      offsetof(struct wdmdma_sg_element, reserved));
static_assert(sizeof(SCATTER_GATHER_LIST) == sizeof(struct wdmdma_sg_list));
static_assert(offsetof(SCATTER_GATHER_LIST, NumberOfElements) ==
	      offsetof(struct wdmdma_sg_list, nr_elements));
static_assert(offsetof(SCATTER_GATHER_LIST, Reserved) ==
	      offsetof(struct wdmdma_sg_list, reserved));
static_assert(offsetof(SCATTER_GATHER_LIST, Elements) ==
	      offsetof(struct wdmdma_sg_list, elements));
#if defined(CONFIG_64BIT)
static_assert(sizeof(SCATTER_GATHER_ELEMENT) == 24);
static_assert(offsetof(SCATTER_GATHER_LIST, Elements) == 16);
#endif

typedef enum _DMA_WIDTH { Width8Bits, Width16Bits, Width32Bits, MaximumDmaWidth } DMA_WIDTH;
typedef enum _DMA_SPEED { Compatible, TypeA, TypeB, TypeC, TypeF, MaximumDmaSpeed } DMA_SPEED;
typedef enum _INTERFACE_TYPE { InterfaceTypeUndefined = -1, Internal, Isa, Eisa,
			       MicroChannel, TurboChannel, PCIBus } INTERFACE_TYPE;

#define DEVICE_DESCRIPTION_VERSION	0
#define DEVICE_DESCRIPTION_VERSION1	1
#define DEVICE_DESCRIPTION_VERSION2	2
#define DEVICE_DESCRIPTION_VERSION3	3

/*
 * DEVICE_DESCRIPTION; wdmdma reads the fields marked "used" (see
 * IoGetDmaAdapter() in src/wdmdma/nt.c for what it refuses). The fields
 * marked "system DMA" describe a transfer through a platform DMA
 * controller; wdmdma refuses system DMA (Master FALSE) and ignores them
 * for a bus master, as Windows does.
 */
typedef struct _DEVICE_DESCRIPTION {
	ULONG Version;			/* used: 0..3, the DMA_OPERATIONS version */
	BOOLEAN Master;			/* used: must be TRUE */
	BOOLEAN ScatterGather;		/* used */
	BOOLEAN DemandMode;		/* system DMA */
	BOOLEAN AutoInitialize;		/* system DMA */
	BOOLEAN Dma32BitAddresses;	/* used */
	BOOLEAN IgnoreCount;		/* system DMA */
	BOOLEAN Reserved1;
	BOOLEAN Dma64BitAddresses;	/* used */
	ULONG BusNumber;
	ULONG DmaChannel;		/* system DMA */
	INTERFACE_TYPE InterfaceType;	/* used: PCIBus (see IoGetDmaAdapter) */
	DMA_WIDTH DmaWidth;		/* system DMA */
	DMA_SPEED DmaSpeed;		/* system DMA */
	ULONG MaximumLength;		/* used */
	ULONG DmaPort;			/* obsolete (Micro Channel): ignored */
	ULONG DmaAddressWidth;		/* used (version 3; 0: from the flags) */
	ULONG DmaControllerInstance;	/* system DMA (version 3) */
	ULONG DmaRequestLine;		/* system DMA (version 3) */
	PHYSICAL_ADDRESS DeviceAddress;	/* system DMA (version 3) */
} DEVICE_DESCRIPTION, *PDEVICE_DESCRIPTION;

typedef VOID DRIVER_LIST_CONTROL(PDEVICE_OBJECT DeviceObject, PIRP Irp,
				 PSCATTER_GATHER_LIST ScatterGather,
				 PVOID Context);
typedef void (*PDRIVER_LIST_CONTROL)(PDEVICE_OBJECT DeviceObject, PIRP Irp,
				     PSCATTER_GATHER_LIST ScatterGather,
				     PVOID Context);

typedef struct _DMA_ADAPTER DMA_ADAPTER, *PDMA_ADAPTER;

/* Packet-based DMA: what an adapter-control routine keeps. */
typedef enum _IO_ALLOCATION_ACTION {
	KeepObject = WDMDMA_KEEP_OBJECT,
	DeallocateObject = WDMDMA_DEALLOCATE_OBJECT,
	DeallocateObjectKeepRegisters = WDMDMA_DEALLOCATE_OBJECT_KEEP_REGISTERS,
} IO_ALLOCATION_ACTION, *PIO_ALLOCATION_ACTION;

typedef IO_ALLOCATION_ACTION DRIVER_CONTROL(PDEVICE_OBJECT DeviceObject,
					    PIRP Irp, PVOID MapRegisterBase,
					    PVOID Context);
typedef enum _IO_ALLOCATION_ACTION (*PDRIVER_CONTROL)(PDEVICE_OBJECT DeviceObject,
						      PIRP Irp,
						      PVOID MapRegisterBase,
						      PVOID Context);
typedef struct wdmdma_xfer_ctx DMA_TRANSFER_CONTEXT_STORAGE;

#define DMA_TRANSFER_CONTEXT_VERSION1	1
#define DMA_TRANSFER_CONTEXT_SIZE_V1	128
#define DMA_SYNCHRONOUS_CALLBACK	WDMDMA_SYNCHRONOUS
static_assert(sizeof(struct wdmdma_xfer_ctx) == DMA_TRANSFER_CONTEXT_SIZE_V1);

/* Common buffers: the NUMA node (a hint wdmdma leaves to the DMA layer). */
typedef ULONG NODE_REQUIREMENT;
#define MM_ANY_NODE_OK			0x80000000

typedef enum _MEMORY_CACHING_TYPE {
	MmNotMapped = -1,
	MmNonCached = 0,
	MmCached = 1,
	MmWriteCombined = 2,
	MmHardwareCoherentCached,
	MmNonCachedUnordered,
	MmUSWCCached,
	MmMaximumCacheType,
} MEMORY_CACHING_TYPE, *PMEMORY_CACHING_TYPE;

/* AllocateCommonBufferWithBounds Flags (none is supported by wdmdma). */
#define DOMAIN_COMMON_BUFFER_LARGE_PAGE	0x00000001

/* GetDmaTransferInfo: what a transfer needs. */
#define DMA_TRANSFER_INFO_VERSION1	1
#define DMA_TRANSFER_INFO_VERSION2	2

typedef struct _DMA_TRANSFER_INFO_V1 {
	ULONG MapRegisterCount;
	ULONG ScatterGatherElementCount;
	ULONG ScatterGatherListSize;
} DMA_TRANSFER_INFO_V1, *PDMA_TRANSFER_INFO_V1;

typedef struct _DMA_TRANSFER_INFO_V2 {
	ULONG MapRegisterCount;
	ULONG ScatterGatherElementCount;
	ULONG ScatterGatherListSize;
	ULONG LogicalPageCount;
} DMA_TRANSFER_INFO_V2, *PDMA_TRANSFER_INFO_V2;

typedef struct _DMA_TRANSFER_INFO {
	ULONG Version;		/* set by the caller */
	union {
		DMA_TRANSFER_INFO_V1 V1;
		DMA_TRANSFER_INFO_V2 V2;
	};
} DMA_TRANSFER_INFO, *PDMA_TRANSFER_INFO;

/* GetDmaAdapterInfo: what the adapter is. */
#define DMA_ADAPTER_INFO_VERSION1	1

typedef struct _DMA_ADAPTER_INFO_V1 {
	ULONG ReadDmaCounterAvailable;
	ULONG ScatterGatherLimit;
	ULONG DmaAddressWidth;
	ULONG Flags;
	ULONG MinimumTransferUnit;
} DMA_ADAPTER_INFO_V1, *PDMA_ADAPTER_INFO_V1;

typedef struct _DMA_ADAPTER_INFO {
	ULONG Version;		/* set by the caller */
	union {
		DMA_ADAPTER_INFO_V1 V1;
	};
} DMA_ADAPTER_INFO, *PDMA_ADAPTER_INFO;

/* The routine types, as the WDK declares them. */
typedef VOID PUT_DMA_ADAPTER(PDMA_ADAPTER DmaAdapter);
typedef PVOID ALLOCATE_COMMON_BUFFER(PDMA_ADAPTER DmaAdapter, ULONG Length,
				     PPHYSICAL_ADDRESS LogicalAddress,
				     BOOLEAN CacheEnabled);
typedef VOID FREE_COMMON_BUFFER(PDMA_ADAPTER DmaAdapter, ULONG Length,
				PHYSICAL_ADDRESS LogicalAddress,
				PVOID VirtualAddress, BOOLEAN CacheEnabled);
typedef PVOID ALLOCATE_COMMON_BUFFER_EX(PDMA_ADAPTER DmaAdapter,
					PPHYSICAL_ADDRESS MaximumAddress,
					ULONG Length,
					PPHYSICAL_ADDRESS LogicalAddress,
					BOOLEAN CacheEnabled,
					NODE_REQUIREMENT PreferredNode);
typedef PVOID ALLOCATE_COMMON_BUFFER_WITH_BOUNDS(PDMA_ADAPTER DmaAdapter,
						 PPHYSICAL_ADDRESS MinimumAddress,
						 PPHYSICAL_ADDRESS MaximumAddress,
						 ULONG Length, ULONG Flags,
						 PMEMORY_CACHING_TYPE CacheType,
						 NODE_REQUIREMENT PreferredNode,
						 PPHYSICAL_ADDRESS LogicalAddress);
typedef NTSTATUS ALLOCATE_ADAPTER_CHANNEL(PDMA_ADAPTER DmaAdapter,
					  PDEVICE_OBJECT DeviceObject,
					  ULONG NumberOfMapRegisters,
					  PDRIVER_CONTROL ExecutionRoutine,
					  PVOID Context);
typedef BOOLEAN FLUSH_ADAPTER_BUFFERS(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
				      PVOID MapRegisterBase, PVOID CurrentVa,
				      ULONG Length, BOOLEAN WriteToDevice);
typedef VOID FREE_ADAPTER_CHANNEL(PDMA_ADAPTER DmaAdapter);
typedef VOID FREE_MAP_REGISTERS(PDMA_ADAPTER DmaAdapter,
				PVOID MapRegisterBase,
				ULONG NumberOfMapRegisters);
typedef PHYSICAL_ADDRESS MAP_TRANSFER(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
				      PVOID MapRegisterBase, PVOID CurrentVa,
				      PULONG Length, BOOLEAN WriteToDevice);
typedef NTSTATUS ALLOCATE_ADAPTER_CHANNEL_EX(PDMA_ADAPTER DmaAdapter,
					     PDEVICE_OBJECT DeviceObject,
					     PVOID DmaTransferContext,
					     ULONG NumberOfMapRegisters,
					     ULONG Flags,
					     PDRIVER_CONTROL ExecutionRoutine,
					     PVOID ExecutionContext,
					     PVOID *MapRegisterBase);
typedef NTSTATUS MAP_TRANSFER_EX(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
				 PVOID MapRegisterBase, ULONGLONG Offset,
				 ULONG DeviceOffset, PULONG Length,
				 BOOLEAN WriteToDevice,
				 struct _SCATTER_GATHER_LIST *ScatterGatherBuffer,
				 ULONG ScatterGatherBufferLength,
				 PVOID DmaCompletionRoutine,
				 PVOID CompletionContext);
typedef NTSTATUS FLUSH_ADAPTER_BUFFERS_EX(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
					  PVOID MapRegisterBase,
					  ULONGLONG Offset, ULONG Length,
					  BOOLEAN WriteToDevice);
typedef ULONG GET_DMA_ALIGNMENT(PDMA_ADAPTER DmaAdapter);
typedef NTSTATUS BUILD_MDL_FROM_SCATTER_GATHER_LIST(PDMA_ADAPTER DmaAdapter,
						    PSCATTER_GATHER_LIST ScatterGather,
						    PMDL OriginalMdl,
						    struct wdmdma_mdl **TargetMdl);
typedef NTSTATUS GET_DMA_ADAPTER_INFO(PDMA_ADAPTER DmaAdapter,
				      PDMA_ADAPTER_INFO AdapterInfo);
typedef NTSTATUS GET_DMA_TRANSFER_INFO(PDMA_ADAPTER DmaAdapter, PMDL Mdl,
				       ULONGLONG Offset, ULONG Length,
				       BOOLEAN WriteOnly,
				       PDMA_TRANSFER_INFO TransferInfo);
typedef NTSTATUS GET_SCATTER_GATHER_LIST(PDMA_ADAPTER DmaAdapter,
					 PDEVICE_OBJECT DeviceObject, PMDL Mdl,
					 PVOID CurrentVa, ULONG Length,
					 PDRIVER_LIST_CONTROL ExecutionRoutine,
					 PVOID Context, BOOLEAN WriteToDevice);
typedef VOID PUT_SCATTER_GATHER_LIST(PDMA_ADAPTER DmaAdapter,
				     PSCATTER_GATHER_LIST ScatterGather,
				     BOOLEAN WriteToDevice);
typedef NTSTATUS CALCULATE_SCATTER_GATHER_LIST_SIZE(PDMA_ADAPTER DmaAdapter,
						    PMDL Mdl, PVOID CurrentVa,
						    ULONG Length,
						    PULONG ScatterGatherListSize,
						    PULONG NumberOfMapRegisters);
typedef NTSTATUS BUILD_SCATTER_GATHER_LIST(PDMA_ADAPTER DmaAdapter,
					   PDEVICE_OBJECT DeviceObject,
					   PMDL Mdl, PVOID CurrentVa,
					   ULONG Length,
					   PDRIVER_LIST_CONTROL ExecutionRoutine,
					   PVOID Context, BOOLEAN WriteToDevice,
					   PVOID ScatterGatherBuffer,
					   ULONG ScatterGatherLength);
typedef NTSTATUS INITIALIZE_DMA_TRANSFER_CONTEXT(PDMA_ADAPTER DmaAdapter,
						 PVOID DmaTransferContext);
typedef BOOLEAN CANCEL_ADAPTER_CHANNEL(PDMA_ADAPTER DmaAdapter,
				       PDEVICE_OBJECT DeviceObject,
				       PVOID DmaTransferContext);
typedef NTSTATUS GET_SCATTER_GATHER_LIST_EX(PDMA_ADAPTER DmaAdapter,
					    PDEVICE_OBJECT DeviceObject,
					    PVOID DmaTransferContext, PMDL Mdl,
					    ULONGLONG Offset, ULONG Length,
					    ULONG Flags,
					    PDRIVER_LIST_CONTROL ExecutionRoutine,
					    PVOID Context, BOOLEAN WriteToDevice,
					    PVOID DmaCompletionRoutine,
					    PVOID CompletionContext,
					    struct _SCATTER_GATHER_LIST **ScatterGatherList);
typedef NTSTATUS BUILD_SCATTER_GATHER_LIST_EX(PDMA_ADAPTER DmaAdapter,
					      PDEVICE_OBJECT DeviceObject,
					      PVOID DmaTransferContext,
					      PMDL Mdl, ULONGLONG Offset,
					      ULONG Length, ULONG Flags,
					      PDRIVER_LIST_CONTROL ExecutionRoutine,
					      PVOID Context,
					      BOOLEAN WriteToDevice,
					      PVOID ScatterGatherBuffer,
					      ULONG ScatterGatherLength,
					      PVOID DmaCompletionRoutine,
					      PVOID CompletionContext,
					      struct _SCATTER_GATHER_LIST **ScatterGatherList);

/*
 * DMA_OPERATIONS: the entries wdmdma implements, in the WDK's order (the
 * table is not binary compatible with Windows; the calls are). Its version
 * is DEVICE_DESCRIPTION.Version's: version 1 (0 or 1) ends at
 * PutScatterGatherList, version 2 at BuildMdlFromScatterGatherList,
 * version 3 has them all. Size ends at the version's last member, so a
 * driver's "Size >= RTL_SIZEOF_THROUGH_FIELD(DMA_OPERATIONS, Member)"
 * check works; a member past Size is NULL.
 */
typedef struct _DMA_OPERATIONS {
	ULONG Size;
	PUT_DMA_ADAPTER *PutDmaAdapter;
	ALLOCATE_COMMON_BUFFER *AllocateCommonBuffer;
	FREE_COMMON_BUFFER *FreeCommonBuffer;
	ALLOCATE_ADAPTER_CHANNEL *AllocateAdapterChannel;
	FLUSH_ADAPTER_BUFFERS *FlushAdapterBuffers;
	FREE_ADAPTER_CHANNEL *FreeAdapterChannel;
	FREE_MAP_REGISTERS *FreeMapRegisters;
	MAP_TRANSFER *MapTransfer;
	GET_DMA_ALIGNMENT *GetDmaAlignment;
	GET_SCATTER_GATHER_LIST *GetScatterGatherList;
	PUT_SCATTER_GATHER_LIST *PutScatterGatherList;
	CALCULATE_SCATTER_GATHER_LIST_SIZE *CalculateScatterGatherList;
	BUILD_SCATTER_GATHER_LIST *BuildScatterGatherList;
	BUILD_MDL_FROM_SCATTER_GATHER_LIST *BuildMdlFromScatterGatherList;
	GET_DMA_ADAPTER_INFO *GetDmaAdapterInfo;
	GET_DMA_TRANSFER_INFO *GetDmaTransferInfo;
	INITIALIZE_DMA_TRANSFER_CONTEXT *InitializeDmaTransferContext;
	ALLOCATE_COMMON_BUFFER_EX *AllocateCommonBufferEx;
	ALLOCATE_ADAPTER_CHANNEL_EX *AllocateAdapterChannelEx;
	CANCEL_ADAPTER_CHANNEL *CancelAdapterChannel;
	MAP_TRANSFER_EX *MapTransferEx;
	GET_SCATTER_GATHER_LIST_EX *GetScatterGatherListEx;
	BUILD_SCATTER_GATHER_LIST_EX *BuildScatterGatherListEx;
	FLUSH_ADAPTER_BUFFERS_EX *FlushAdapterBuffersEx;
	ALLOCATE_COMMON_BUFFER_WITH_BOUNDS *AllocateCommonBufferWithBounds;
} DMA_OPERATIONS, *PDMA_OPERATIONS;

/*
 * DMA_ADAPTER: Version is 1 for DMA_OPERATIONS versions 1 and 2 (as
 * Windows sets it) and 3 for version 3; Size is sizeof(DMA_ADAPTER).
 */
struct _DMA_ADAPTER {
	USHORT Version;
	USHORT Size;
	const struct _DMA_OPERATIONS *DmaOperations;
};

PDMA_ADAPTER IoGetDmaAdapter(PDEVICE_OBJECT PhysicalDeviceObject,
			     PDEVICE_DESCRIPTION DeviceDescription,
			     PULONG NumberOfMapRegisters);
PMDL IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer,
		   BOOLEAN ChargeQuota, PIRP Irp);
VOID MmBuildMdlForNonPagedPool(PMDL MemoryDescriptorList);

/* IoFreeMdl - free an MDL from IoAllocateMdl(). */
static inline VOID IoFreeMdl(PMDL Mdl)
{
	wdmdma_mdl_free(Mdl);
}

/* MmGetMdlVirtualAddress - the virtual address an MDL starts at. */
static inline PVOID MmGetMdlVirtualAddress(PMDL Mdl)
{
	return wdmdma_mdl_va(Mdl);
}

/* MmGetMdlByteCount - the number of bytes an MDL describes. */
static inline ULONG MmGetMdlByteCount(PMDL Mdl)
{
	return wdmdma_mdl_byte_count(Mdl);
}

/* MmGetMdlByteOffset - the offset of an MDL's first byte in its page. */
static inline ULONG MmGetMdlByteOffset(PMDL Mdl)
{
	return wdmdma_mdl_byte_offset(Mdl);
}

/*
 * IoBuildPartialMdl - make TargetMdl (from IoAllocateMdl(VirtualAddress,
 * Length, ...)) describe Length bytes of SourceMdl's buffer from
 * VirtualAddress (Length 0: to the end). A bad range is reported and
 * leaves TargetMdl empty (Get/Build on it then fail).
 */
static inline VOID IoBuildPartialMdl(PMDL SourceMdl, PMDL TargetMdl,
				     PVOID VirtualAddress, ULONG Length)
{
	wdmdma_mdl_build_partial(SourceMdl, TargetMdl, VirtualAddress, Length);
}

/* MmGetSystemAddressForMdlSafe Priority values (ignored by wdmdma). */
typedef enum _MM_PAGE_PRIORITY {
	LowPagePriority,
	NormalPagePriority = 16,
	HighPagePriority = 32,
} MM_PAGE_PRIORITY;
#define MdlMappingNoWrite	0x80000000
#define MdlMappingNoExecute	0x40000000

/*
 * MmGetSystemAddressForMdlSafe - the kernel address of an MDL's buffer:
 * its virtual address, for an MDL of a kernel buffer (IoAllocateMdl +
 * MmBuildMdlForNonPagedPool, or a partial MDL of one). NULL for an MDL
 * whose pages are not mapped there (page-based MDLs: mapping them would
 * sleep); Priority is ignored.
 */
static inline PVOID MmGetSystemAddressForMdlSafe(PMDL Mdl, ULONG Priority)
{
	return wdmdma_mdl_system_address(Mdl);
}

/*
 * KeFlushIoBuffers - nothing to do. Windows needs it on processors whose
 * caches DMA does not keep coherent; on Linux the DMA API does that cache
 * maintenance itself when a list is mapped and put (dma_map_*() and
 * dma_unmap_*()), and common buffers are coherent memory.
 */
static inline VOID KeFlushIoBuffers(PMDL Mdl, BOOLEAN ReadOperation,
				    BOOLEAN DmaOperation)
{
}

#endif /* WDMDMA_NTDMA_H */
