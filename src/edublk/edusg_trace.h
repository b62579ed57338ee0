/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The edu-sg backend's tracepoints (/sys/kernel/tracing/events/edublk/,
 * with the stock edu's from edu_trace.h):
 *  edublk_cmd_post      edu-sg: a command written to its queue's SQ (each
 *	one counted in that queue's "posted"; repost=1 after a restart or
 *	a controller reset)
 *  edublk_cmd_complete  edu-sg: a valid completion taken from the CQ (each
 *	one counted in "completed"), with the device's status and the block
 *	status the request ends with
 *  edublk_cmd_timeout   edu-sg: a request timed out on the device (counted
 *	in "timeouts"), or (waited=1) while it waited for its DMA list
 *  edublk_queue_restart edu-sg: a queue aborted and enabled again
 *  edublk_ctrl_reset    edu-sg: the controller reset, or the device given up
 * The disk is named by its number N (edublkN). Included by edusg.c alone,
 * after its structures (struct edublk_sg_cmd, to_edublk_sg_cmd()).
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM edublk

#if !defined(EDUSG_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define EDUSG_TRACE_H

#include <linux/tracepoint.h>

#include "edublk.h"
#include "edusg_hw.h"

/* The request's operation, for the events' op field. */
#define EDUBLK_TRACE_READ	0
#define EDUBLK_TRACE_WRITE	1
#define EDUBLK_TRACE_FLUSH	2
#define EDUBLK_TRACE_DISCARD	3
#define EDUBLK_TRACE_ZEROES	4

#ifndef EDUBLK_TRACE_OP_DEFINED		/* once, though read many times */
#define EDUBLK_TRACE_OP_DEFINED
static inline u8 edublk_trace_op(const struct edublk_cmd *cmd)
{
	if (cmd->flush)
		return EDUBLK_TRACE_FLUSH;
	if (cmd->zero_op == EDUBLK_ZERO_DISCARD)
		return EDUBLK_TRACE_DISCARD;
	if (cmd->zero_op)
		return EDUBLK_TRACE_ZEROES;
	return cmd->write ? EDUBLK_TRACE_WRITE : EDUBLK_TRACE_READ;
}
#endif

#define edublk_show_op(op)						\
	__print_symbolic(op, { EDUBLK_TRACE_READ, "read" },		\
			 { EDUBLK_TRACE_WRITE, "write" },		\
			 { EDUBLK_TRACE_FLUSH, "flush" },		\
			 { EDUBLK_TRACE_DISCARD, "discard" },		\
			 { EDUBLK_TRACE_ZEROES, "write-zeroes" })

TRACE_EVENT(edublk_cmd_post,
	    TP_PROTO(struct edublk_cmd *cmd),
	    TP_ARGS(cmd),
	    TP_STRUCT__entry(__field(int, disk)
			     __field(u16, qid)
			     __field(int, tag)
			     __field(u32, dev_tag)
			     __field(u64, sector)
			     __field(u32, bytes)
			     __field(u16, nelems)
			     __field(u8, op)
			     __field(bool, fua)
			     __field(bool, repost)),
	    TP_fast_assign(__entry->disk = cmd->edu->index;
			   __entry->qid = to_edublk_sg_cmd(cmd)->qid;
			   __entry->tag = edublk_rq(cmd)->tag;
			   __entry->dev_tag = to_edublk_sg_cmd(cmd)->dev_tag;
			   __entry->sector = cmd->flush ? 0 :
			   blk_rq_pos(edublk_rq(cmd));
			   __entry->bytes = blk_rq_bytes(edublk_rq(cmd));
			   __entry->nelems = to_edublk_sg_cmd(cmd)->nelems;
			   __entry->op = edublk_trace_op(cmd);
			   __entry->fua = cmd->fua;
			   __entry->repost = to_edublk_sg_cmd(cmd)->sg_state ==
					     EDUBLK_SG_ON_DEVICE;),
	    TP_printk("edublk%d q%u tag=%d dev_tag=%#x %s%s sector=%llu bytes=%u elements=%u%s",
		      __entry->disk, __entry->qid, __entry->tag, __entry->dev_tag,
		      edublk_show_op(__entry->op), __entry->fua ? "+fua" : "",
		      __entry->sector, __entry->bytes, __entry->nelems,
		      __entry->repost ? " repost" : ""));

TRACE_EVENT(edublk_cmd_complete,
	    TP_PROTO(struct edublk_cmd *cmd, const struct edusg_cqe *cqe),
	    TP_ARGS(cmd, cqe),
	    TP_STRUCT__entry(__field(int, disk)
			     __field(u16, qid)
			     __field(int, tag)
			     __field(u32, dev_tag)
			     __field(u16, dev_status)
			     __field(u32, info)
			     __field(int, err)
			     __field(u64, usecs)),
	    TP_fast_assign(__entry->disk = cmd->edu->index;
			   __entry->qid = to_edublk_sg_cmd(cmd)->qid;
			   __entry->tag = edublk_rq(cmd)->tag;
			   __entry->dev_tag = to_edublk_sg_cmd(cmd)->dev_tag;
			   __entry->dev_status = le16_to_cpu(cqe->status);
			   __entry->info = le32_to_cpu(cqe->info);
			   __entry->err = blk_status_to_errno(cmd->status);
			   __entry->usecs = jiffies_to_usecs(jiffies -
					to_edublk_sg_cmd(cmd)->posted);),
	    TP_printk("edublk%d q%u tag=%d dev_tag=%#x status=%#x info=%#x err=%d posted_us_ago=%llu",
		      __entry->disk, __entry->qid, __entry->tag, __entry->dev_tag,
		      __entry->dev_status, __entry->info, __entry->err,
		      __entry->usecs));

TRACE_EVENT(edublk_cmd_timeout,
	    TP_PROTO(struct edublk_cmd *cmd, unsigned int in_a_row),
	    TP_ARGS(cmd, in_a_row),
	    TP_STRUCT__entry(__field(int, disk)
			     __field(u16, qid)
			     __field(int, tag)
			     __field(u32, dev_tag)
			     __field(u32, bytes)
			     __field(u8, op)
			     __field(bool, waited)
			     __field(unsigned int, in_a_row)
			     __field(unsigned int, msecs)),
	    TP_fast_assign(__entry->disk = cmd->edu->index;
			   __entry->qid = to_edublk_sg_cmd(cmd)->qid;
			   __entry->tag = edublk_rq(cmd)->tag;
			   __entry->dev_tag = to_edublk_sg_cmd(cmd)->dev_tag;
			   __entry->bytes = blk_rq_bytes(edublk_rq(cmd));
			   __entry->op = edublk_trace_op(cmd);
			   __entry->waited = to_edublk_sg_cmd(cmd)->sg_state ==
					     EDUBLK_SG_IDLE;
			   __entry->in_a_row = in_a_row;
			   __entry->msecs = jiffies_to_msecs(jiffies - cmd->started);),
	    TP_printk("edublk%d q%u tag=%d dev_tag=%#x %s bytes=%u %s in_a_row=%u started_ms_ago=%u",
		      __entry->disk, __entry->qid, __entry->tag, __entry->dev_tag,
		      edublk_show_op(__entry->op), __entry->bytes,
		      __entry->waited ? "waited for its list" : "on the device",
		      __entry->in_a_row, __entry->msecs));

TRACE_EVENT(edublk_queue_restart,
	    TP_PROTO(const struct edublk_dev *edu, unsigned int qid,
		     unsigned int inflight, bool dead),
	    TP_ARGS(edu, qid, inflight, dead),
	    TP_STRUCT__entry(__field(int, disk)
			     __field(unsigned int, qid)
			     __field(unsigned int, inflight)
			     __field(bool, dead)),
	    TP_fast_assign(__entry->disk = edu->index;
			   __entry->qid = qid;
			   __entry->inflight = inflight;
			   __entry->dead = dead;),
	    TP_printk("edublk%d q%u inflight=%u%s", __entry->disk, __entry->qid,
		      __entry->inflight,
		      __entry->dead ? " dead: would not enable" : ""));

TRACE_EVENT(edublk_ctrl_reset,
	    TP_PROTO(const struct edublk_dev *edu, unsigned int qid,
		     unsigned int in_a_row, bool give_up),
	    TP_ARGS(edu, qid, in_a_row, give_up),
	    TP_STRUCT__entry(__field(int, disk)
			     __field(unsigned int, qid)
			     __field(unsigned int, in_a_row)
			     __field(bool, give_up)),
	    TP_fast_assign(__entry->disk = edu->index;
			   __entry->qid = qid;
			   __entry->in_a_row = in_a_row;
			   __entry->give_up = give_up;),
	    TP_printk("edublk%d after q%u's timeout %u in a row: %s",
		      __entry->disk, __entry->qid, __entry->in_a_row,
		      __entry->give_up ? "device given up" : "controller reset"));

#endif /* EDUSG_TRACE_H */

/* This part must be outside the guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE edusg_trace
#include <trace/define_trace.h>
