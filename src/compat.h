/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences for wdmdma, edublk and their tests, in one
 * place. Each entry says when the kernel changed. Supported: 6.1 .. 6.12.
 */
#ifndef WDMDMA_COMPAT_H
#define WDMDMA_COMPAT_H

#include <linux/version.h>
#include <linux/pci.h>
#include <linux/blk-mq.h>

/* 6.8: PCI_IRQ_LEGACY renamed PCI_IRQ_INTX (the old name went in 6.10). */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#endif

/*
 * 6.9: blk_mq_alloc_disk() takes the queue limits; the blk_queue_*() limit
 * setters went away in favour of struct queue_limits, and write cache,
 * FUA and rotational became lim.features flags (6.11).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define WDMDMA_HAVE_QUEUE_LIMITS_API 1
#endif

#endif /* WDMDMA_COMPAT_H */
