/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit helpers of the wdmdma samples: an adapter made the Windows way on
 * a real platform device (kunit/wdmdma_test_util.h), MDL chains of packet
 * fragments on pages that are never physically adjacent, and the device's
 * side of a list: it reads and writes the memory at the list's bus
 * addresses (the test device has no IOMMU: a bus address is physical).
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#ifndef WDMDMA_SAMPLE_TEST_H
#define WDMDMA_SAMPLE_TEST_H

#include "../kunit/wdmdma_test_util.h"
#include "sample_util.h"

#define SAMPLE_MAX_FRAGS	16

/* IoGetDmaAdapter for a 64-bit bus master, or NULL. */
static inline PDMA_ADAPTER sample_get_adapter(struct device *dev,
					      BOOLEAN scatter_gather,
					      ULONG max_length,
					      PULONG map_registers)
{
	DEVICE_DESCRIPTION dd = { };

	dd.Version = DEVICE_DESCRIPTION_VERSION3;
	dd.Master = TRUE;
	dd.ScatterGather = scatter_gather;
	dd.Dma64BitAddresses = TRUE;
	dd.DmaAddressWidth = 64;
	dd.MaximumLength = max_length;
	return IoGetDmaAdapter(dev, &dd, map_registers);
}

/**
 * struct sample_chain - fragments as a chain of kernel-buffer MDLs
 * @nr: fragments
 * @length: their total length
 * @mdl: one MDL per fragment, each linked to the next
 */
struct sample_chain {
	unsigned int nr;
	ULONG length;
	PMDL mdl[SAMPLE_MAX_FRAGS];
};

static inline void sample_chain_free(struct sample_chain *c)
{
	while (c->nr)
		IoFreeMdl(c->mdl[--c->nr]);
	c->length = 0;
}

/*
 * Fragment i is @len bytes at byte @off of page i of @vb (a buffer of at
 * least @nr pages): no two fragments are physically adjacent.
 */
static inline int sample_chain_build(struct sample_chain *c,
				     struct wdmdma_test_vbuf *vb,
				     unsigned int nr, ULONG off, ULONG len)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	if (nr > SAMPLE_MAX_FRAGS || nr > vb->nr || off + len > PAGE_SIZE)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		PMDL mdl = IoAllocateMdl((PUCHAR)vb->va + i * PAGE_SIZE + off,
					 len, FALSE, FALSE, NULL);

		if (!mdl) {
			sample_chain_free(c);
			return -ENOMEM;
		}
		MmBuildMdlForNonPagedPool(mdl);
		if (i)
			c->mdl[i - 1]->next = mdl;
		c->mdl[c->nr++] = mdl;
		c->length += len;
	}
	return 0;
}

/* The device reads @len bytes through @sgl into @dst. */
static inline size_t sample_dev_read(PSCATTER_GATHER_LIST sgl, void *dst,
				     size_t len)
{
	return wdmdma_test_dev_read((struct wdmdma_sg_list *)sgl, dst, len);
}

/* The device writes @len bytes of @src through @sgl. */
static inline size_t sample_dev_write(PSCATTER_GATHER_LIST sgl,
				      const void *src, size_t len)
{
	return wdmdma_test_dev_write((struct wdmdma_sg_list *)sgl, src, len);
}

/* Expect @len bytes at @got to be those at @want; report the first that is not. */
static inline void sample_expect_bytes(struct kunit *test, const void *got,
				       const void *want, size_t len)
{
	const u8 *g = got, *w = want;
	size_t i;

	for (i = 0; i < len && g[i] == w[i]; i++)
		;
	KUNIT_EXPECT_EQ_MSG(test, i, len, "first difference at byte %zu of %zu",
			    i, len);
}

/* Sum of the element lengths. */
static inline ULONG sample_sgl_bytes(PSCATTER_GATHER_LIST sgl)
{
	return wdmdma_test_sgl_bytes((struct wdmdma_sg_list *)sgl);
}

#endif /* WDMDMA_SAMPLE_TEST_H */
