/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stock edu backend's tracepoints (/sys/kernel/tracing/events/edublk/,
 * with edu-sg's from edusg_trace.h):
 *  edublk_edu_dma       stock edu: one DMA programmed
 * The disk is named by its number N (edublkN).
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM edublk

#if !defined(EDU_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define EDU_TRACE_H

#include <linux/tracepoint.h>

#include "edublk.h"

TRACE_EVENT(edublk_edu_dma,
	    TP_PROTO(const struct edublk_dev *edu, u64 src, u64 dst, u32 len,
		     bool to_ram),
	    TP_ARGS(edu, src, dst, len, to_ram),
	    TP_STRUCT__entry(__field(int, disk)
			     __field(u64, src)
			     __field(u64, dst)
			     __field(u32, len)
			     __field(bool, to_ram)),
	    TP_fast_assign(__entry->disk = edu->index;
			   __entry->src = src;
			   __entry->dst = dst;
			   __entry->len = len;
			   __entry->to_ram = to_ram;),
	    TP_printk("edublk%d %#llx -> %#llx len=%u %s", __entry->disk,
		      __entry->src, __entry->dst, __entry->len,
		      __entry->to_ram ? "to RAM" : "to the device buffer"));

#endif /* EDU_TRACE_H */

/* This part must be outside the guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE edu_trace
#include <trace/define_trace.h>
