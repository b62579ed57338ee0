/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the wdmdma samples (samples/) share: copying between an MDL
 * chain of kernel buffers and a flat bounce buffer, the way a Windows
 * driver does it with MmGetSystemAddressForMdlSafe.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#ifndef WDMDMA_SAMPLE_UTIL_H
#define WDMDMA_SAMPLE_UTIL_H

#include <linux/minmax.h>
#include <linux/string.h>

#include <wdmdma/ntdma.h>

/**
 * sample_mdl_copy() - copy a range of an MDL chain to or from a flat buffer
 * @mdl: the first MDL of the chain (kernel-buffer MDLs)
 * @offset: where the range starts, in bytes from the chain's first byte
 * @flat: the flat buffer, @length bytes
 * @length: bytes to copy
 * @to_flat: true: chain to @flat; false: @flat to chain
 *
 * Context: any.
 * Return: the bytes copied: less than @length if the chain is shorter or
 * one of its MDLs has no kernel mapping.
 */
static inline ULONG sample_mdl_copy(PMDL mdl, ULONG offset, PVOID flat,
				    ULONG length, BOOLEAN to_flat)
{
	PUCHAR buf = flat;
	ULONG done = 0;

	for (; mdl && done < length; mdl = mdl->next) {
		ULONG count = MmGetMdlByteCount(mdl), n;
		PUCHAR va;

		if (offset >= count) {
			offset -= count;
			continue;
		}
		va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
		if (!va)
			break;
		n = min(count - offset, length - done);
		if (to_flat)
			memcpy(buf + done, va + offset, n);
		else
			memcpy(va + offset, buf + done, n);
		done += n;
		offset = 0;
	}
	return done;
}

#endif /* WDMDMA_SAMPLE_UTIL_H */
