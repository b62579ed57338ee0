/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wdmdma tracepoints (/sys/kernel/tracing/events/wdmdma/):
 *  wdmdma_adapter_create, wdmdma_adapter_destroy
 *  wdmdma_list_build, wdmdma_list_get  a list mapped and handed to the
 *	driver (Build: the caller's buffer; Get: an allocation or a reserve
 *	element), on any path
 *  wdmdma_list_put                     a list put
 *  wdmdma_list_defer                   a request queued to wait (each one
 *	counted in the "deferred" statistic)
 *  wdmdma_list_run                     a waiting request's list mapped by
 *	the queue runner (followed by its build or get event)
 *  wdmdma_list_cancel, wdmdma_list_fail  a waiting request cancelled; a
 *	request that can never be mapped
 *  wdmdma_reserve_take, wdmdma_reserve_release  an emergency-reserve element
 *  wdmdma_regs_take, wdmdma_regs_release  map registers
 * Every event names the adapter by its id, as debugfs does (<device>-<id>).
 * Fields are read from the objects at hand inside the tracepoint, so that
 * nothing is computed while the event is off.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM wdmdma

#if !defined(WDMDMA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define WDMDMA_TRACE_H

#include <linux/tracepoint.h>

#include "internal.h"

TRACE_DEFINE_ENUM(WDMDMA_SRC_ALLOC);
TRACE_DEFINE_ENUM(WDMDMA_SRC_RESERVE);
TRACE_DEFINE_ENUM(WDMDMA_SRC_CALLER);
TRACE_DEFINE_ENUM(WDMDMA_WAIT_MAP);
TRACE_DEFINE_ENUM(WDMDMA_WAIT_MEM);
TRACE_DEFINE_ENUM(WDMDMA_WAIT_REGS);
TRACE_DEFINE_ENUM(WDMDMA_WAIT_CHAN);
TRACE_DEFINE_ENUM(WDMDMA_WAIT_NONE);

#define wdmdma_show_src(src)					\
	__print_symbolic(src,					\
			 { WDMDMA_SRC_ALLOC, "alloc" },		\
			 { WDMDMA_SRC_RESERVE, "reserve" },	\
			 { WDMDMA_SRC_CALLER, "caller" })

#define wdmdma_show_wait(wait)					\
	__print_symbolic(wait,					\
			 { WDMDMA_WAIT_MAP, "map" },		\
			 { WDMDMA_WAIT_MEM, "mem" },		\
			 { WDMDMA_WAIT_REGS, "regs" },		\
			 { WDMDMA_WAIT_CHAN, "chan" },		\
			 { WDMDMA_WAIT_NONE, "none" })

TRACE_EVENT(wdmdma_adapter_create,
	    TP_PROTO(const struct wdmdma_adapter *adapter),
	    TP_ARGS(adapter),
	    TP_STRUCT__entry(__field(unsigned int, id)
			     __array(char, dev, 32)
			     __field(bool, sg)
			     __field(bool, fast)
			     __field(unsigned int, width)
			     __field(u32, max_transfer)
			     __field(unsigned int, max_regs)
			     __field(u64, regs_total)
			     __field(unsigned int, nr_reserve)),
	    TP_fast_assign(__entry->id = adapter->id;
			   strscpy(__entry->dev, dev_name(adapter->dev),
				   sizeof(__entry->dev));
			   __entry->sg = adapter->desc.scatter_gather;
			   __entry->fast = adapter->fast;
			   __entry->width = adapter->desc.dma_width;
			   __entry->max_transfer = adapter->desc.max_transfer;
			   __entry->max_regs = adapter->max_regs;
			   __entry->regs_total = adapter->stats.map_regs_total;
			   __entry->nr_reserve = adapter->desc.nr_reserve;),
	    TP_printk("adapter=%u dev=%s sg=%d width=%u max_transfer=%u max_regs=%u regs_total=%llu reserve=%u fast=%d",
		      __entry->id, __entry->dev, __entry->sg, __entry->width,
		      __entry->max_transfer, __entry->max_regs,
		      __entry->regs_total, __entry->nr_reserve, __entry->fast));

TRACE_EVENT(wdmdma_adapter_destroy,
	    TP_PROTO(const struct wdmdma_adapter *adapter, u64 outstanding),
	    TP_ARGS(adapter, outstanding),
	    TP_STRUCT__entry(__field(unsigned int, id)
			     __array(char, dev, 32)
			     __field(u64, outstanding)),
	    TP_fast_assign(__entry->id = adapter->id;
			   strscpy(__entry->dev, dev_name(adapter->dev),
				   sizeof(__entry->dev));
			   __entry->outstanding = outstanding;),
	    TP_printk("adapter=%u dev=%s outstanding=%llu", __entry->id,
		      __entry->dev, __entry->outstanding));

/* A list that exists: mapped, or being put. */
DECLARE_EVENT_CLASS(wdmdma_list_class,
		    TP_PROTO(const struct wdmdma_xfer *xfer),
		    TP_ARGS(xfer),
		    TP_STRUCT__entry(__field(const void *, list)
				     __field(unsigned int, id)
				     __field(u32, len)
				     __field(u32, elements)
				     __field(unsigned int, span)
				     __field(unsigned int, regs)
				     __field(u8, src)
				     __field(bool, write)
				     __field(bool, fast)),
		    TP_fast_assign(__entry->list = &xfer->list;
				   __entry->id = xfer->adapter->id;
				   __entry->len = xfer->req.length;
				   __entry->elements = xfer->list.nr_elements;
				   __entry->span = xfer->req.span;
				   __entry->regs = xfer->nr_regs;
				   __entry->src = xfer->source;
				   __entry->write = xfer->req.flags & WDMDMA_REQ_WRITE;
				   __entry->fast = !xfer->tracked;),
		    TP_printk("adapter=%u list=%p len=%u elements=%u span=%u map_regs=%u src=%s %s%s",
			      __entry->id, __entry->list, __entry->len, __entry->elements,
			      __entry->span, __entry->regs, wdmdma_show_src(__entry->src),
			      __entry->write ? "write" : "read",
			      __entry->fast ? " fast" : ""));

DEFINE_EVENT(wdmdma_list_class, wdmdma_list_build,
	     TP_PROTO(const struct wdmdma_xfer *xfer),
	     TP_ARGS(xfer));

DEFINE_EVENT(wdmdma_list_class, wdmdma_list_get,
	     TP_PROTO(const struct wdmdma_xfer *xfer),
	     TP_ARGS(xfer));

DEFINE_EVENT(wdmdma_list_class, wdmdma_list_run,
	     TP_PROTO(const struct wdmdma_xfer *xfer),
	     TP_ARGS(xfer));

DEFINE_EVENT(wdmdma_list_class, wdmdma_list_put,
	     TP_PROTO(const struct wdmdma_xfer *xfer),
	     TP_ARGS(xfer));

/* A request that has no list (yet): waiting, cancelled or failed. */
DECLARE_EVENT_CLASS(wdmdma_req_class,
		    TP_PROTO(const struct wdmdma_adapter *adapter,
			     const struct wdmdma_req *req, int err),
		    TP_ARGS(adapter, req, err),
		    TP_STRUCT__entry(__field(unsigned int, id)
				     __field(u32, len)
				     __field(unsigned int, span)
				     __field(unsigned int, regs)
				     __field(u8, wait)
				     __field(bool, has_mem)
				     __field(u64, depth)
				     __field(int, err)),
		    TP_fast_assign(__entry->id = adapter->id;
				   __entry->len = req->length;
				   __entry->span = req->span;
				   __entry->regs = req->nr_regs;
				   __entry->wait = req->wait;
				   __entry->has_mem = !!req->xfer;
				   __entry->depth = adapter->stats.queue_depth;
				   __entry->err = err;),
		    TP_printk("adapter=%u len=%u span=%u map_regs=%u wait=%s mem=%s queue_depth=%llu err=%d",
			      __entry->id, __entry->len, __entry->span, __entry->regs,
			      wdmdma_show_wait(__entry->wait),
			      __entry->has_mem ? "held" : "none", __entry->depth,
			      __entry->err));

DEFINE_EVENT(wdmdma_req_class, wdmdma_list_defer,
	     TP_PROTO(const struct wdmdma_adapter *adapter,
		      const struct wdmdma_req *req, int err),
	     TP_ARGS(adapter, req, err));

DEFINE_EVENT(wdmdma_req_class, wdmdma_list_cancel,
	     TP_PROTO(const struct wdmdma_adapter *adapter,
		      const struct wdmdma_req *req, int err),
	     TP_ARGS(adapter, req, err));

DEFINE_EVENT(wdmdma_req_class, wdmdma_list_fail,
	     TP_PROTO(const struct wdmdma_adapter *adapter,
		      const struct wdmdma_req *req, int err),
	     TP_ARGS(adapter, req, err));

DECLARE_EVENT_CLASS(wdmdma_reserve_class,
		    TP_PROTO(const struct wdmdma_adapter *adapter, const void *elem),
		    TP_ARGS(adapter, elem),
		    TP_STRUCT__entry(__field(unsigned int, id)
				     __field(const void *, elem)
				     __field(int, left)),
		    TP_fast_assign(__entry->id = adapter->id;
				   __entry->elem = elem;
				   __entry->left = adapter->reserve->curr_nr;),
		    TP_printk("adapter=%u elem=%p left=%d", __entry->id, __entry->elem,
			      __entry->left));

DEFINE_EVENT(wdmdma_reserve_class, wdmdma_reserve_take,
	     TP_PROTO(const struct wdmdma_adapter *adapter, const void *elem),
	     TP_ARGS(adapter, elem));

DEFINE_EVENT(wdmdma_reserve_class, wdmdma_reserve_release,
	     TP_PROTO(const struct wdmdma_adapter *adapter, const void *elem),
	     TP_ARGS(adapter, elem));

DECLARE_EVENT_CLASS(wdmdma_regs_class,
		    TP_PROTO(const struct wdmdma_adapter *adapter, unsigned int base,
			     unsigned int nr),
		    TP_ARGS(adapter, base, nr),
		    TP_STRUCT__entry(__field(unsigned int, id)
				     __field(unsigned int, base)
				     __field(unsigned int, nr)
				     __field(u64, in_use)),
		    TP_fast_assign(__entry->id = adapter->id;
				   __entry->base = base;
				   __entry->nr = nr;
				   __entry->in_use = adapter->stats.map_regs_in_use;),
		    TP_printk("adapter=%u base=%u nr=%u in_use=%llu", __entry->id,
			      __entry->base, __entry->nr, __entry->in_use));

DEFINE_EVENT(wdmdma_regs_class, wdmdma_regs_take,
	     TP_PROTO(const struct wdmdma_adapter *adapter, unsigned int base,
		      unsigned int nr),
	     TP_ARGS(adapter, base, nr));

DEFINE_EVENT(wdmdma_regs_class, wdmdma_regs_release,
	     TP_PROTO(const struct wdmdma_adapter *adapter, unsigned int base,
		      unsigned int nr),
	     TP_ARGS(adapter, base, nr));

#endif /* WDMDMA_TRACE_H */

/* This part must be outside the guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE wdmdma_trace
#include <trace/define_trace.h>
