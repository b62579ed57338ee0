/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu-sg hardware interface: registers, command, element and completion
 * formats of this project's QEMU device (qemu/edu-sg/REGISTERS.md is the
 * specification). Shared by edublk's edu-sg backend and the edusg KUnit
 * suite, which drives the device directly.
 *
 * Copyright (C) 2026 The wdmdma authors.
 */
#ifndef EDUSG_HW_H
#define EDUSG_HW_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/sizes.h>
#include <linux/types.h>

#define EDUSG_VENDOR_ID		0x1234	/* QEMU */
#define EDUSG_DEVICE_ID		0x11e9
#define EDUSG_MAGIC		0x45445347	/* "EDSG" */
#define EDUSG_VERSION		0x00010003	/* 1.3: INT_COALESCE */
#define EDUSG_MAX_QUEUES	8
#define EDUSG_MAX_QUEUE_ENTRIES	4096
#define EDUSG_MAX_XFER_CAP	0xfffffe00u
#define EDUSG_BAR_SIZE		SZ_4K
#define EDUSG_SECTOR		512

/* Global registers (BAR0) */
#define ES_ID			0x000
#define ES_VERSION		0x004
#define ES_CAPS			0x008
#define ES_NUM_QUEUES		0x00c
#define ES_MEDIUM_SIZE_LO	0x010
#define ES_MEDIUM_SIZE_HI	0x014
#define ES_MAX_ELEMS		0x018
#define ES_MAX_ELEM_LEN		0x01c
#define ES_MAX_XFER		0x020
#define ES_DMA_BITS		0x024
#define ES_MAX_QUEUE_ENTRIES	0x028
#define ES_FAIL_EVERY		0x030
#define ES_DROP_EVERY		0x034
#define ES_LATENCY_NS_LO	0x038
#define ES_LATENCY_NS_HI	0x03c
#define ES_DEV_CTRL		0x040
#define ES_SCRATCH		0x044
#define ES_INT_STATUS		0x048
#define ES_INT_ACK		0x04c
#define ES_INT_MASK		0x050
#define ES_IRQ_MODE		0x054
#define ES_HALT_AFTER		0x058
#define ES_STAT_CMDS		0x060
#define ES_STAT_ERRORS		0x064
#define ES_STAT_DROPPED		0x068
#define ES_STAT_INJECTED	0x06c
/* Device version 1.1 */
#define ES_BAD_CQE		0x05c	/* kind 3:0, every Nth 31:16 */
#define ES_STAT_BAD_CQES	0x074
#define ES_VANISH_MS		0x090
/* Device version 1.3 */
#define ES_INT_COALESCE		0x094	/* threshold 7:0, time (us) 31:16 */
#define ES_INT_COALESCE_MAX_N	0xff
#define ES_INT_COALESCE_MAX_US	0xffff

#define ES_CAPS_MSIX		BIT(0)
#define ES_CAPS_MSI		BIT(1)
#define ES_CAPS_FILE		BIT(2)
#define ES_DEV_CTRL_RESET	BIT(0)
#define ES_IRQ_MODE_INTX	0
#define ES_IRQ_MODE_MSI		1
#define ES_IRQ_MODE_MSIX	2

/* Queue registers: 0x100 + q * 0x40 */
#define ES_QBASE		0x100
#define ES_QSTRIDE		0x40
#define ES_QEND			0x300
#define ES_Q(q, reg)		(ES_QBASE + (q) * ES_QSTRIDE + (reg))
#define ESQ_SQ_BASE		0x00
#define ESQ_SQ_BASE_HI		0x04
#define ESQ_CQ_BASE		0x08
#define ESQ_CQ_BASE_HI		0x0c
#define ESQ_SIZE		0x10
#define ESQ_CTRL		0x14
#define ESQ_STATUS		0x18
#define ESQ_ERROR		0x1c
#define ESQ_SQ_TAIL		0x20
#define ESQ_SQ_HEAD		0x24
#define ESQ_CQ_HEAD		0x28
#define ESQ_CQ_TAIL		0x2c
#define ESQ_PENDING		0x30

#define ESQ_CTRL_ENABLE		BIT(0)
#define ESQ_CTRL_ABORT		BIT(1)
#define ESQ_ST_ENABLED		BIT(0)
#define ESQ_ST_HALTED		BIT(1)
#define ESQ_ST_CQ_FULL		BIT(2)

/* Queue error codes (ERROR register) */
#define ES_QERR_NONE		0
#define ES_QERR_BAD_SIZE		1
#define ES_QERR_SQ_ALIGN		2
#define ES_QERR_CQ_ALIGN		3
#define ES_QERR_SQ_RANGE		4
#define ES_QERR_CQ_RANGE		5
#define ES_QERR_SQ_FETCH		6
#define ES_QERR_CQ_WRITE		7
#define ES_QERR_BAD_SQ_TAIL	8
#define ES_QERR_BAD_CQ_HEAD	9
#define ES_QERR_DB_DISABLED	10
#define ES_QERR_CFG_ENABLED	11

/* Opcodes, command flags, completion status codes */
#define ES_OP_READ			0x01
#define ES_OP_WRITE		0x02
#define ES_OP_FLUSH		0x03
#define ES_OP_DISCARD		0x04	/* 1.2 */
#define ES_OP_WRITE_ZEROES	0x05	/* 1.2 */
#define ES_CMD_FUA			BIT(0)
#define ES_CMD_DEALLOC		BIT(1)	/* WRITE_ZEROES may unmap */

#define ES_ST_OK			0x00
#define ES_ST_BAD_OPCODE		0x01
#define ES_ST_INVALID_FIELD	0x02
#define ES_ST_BAD_LENGTH		0x03
#define ES_ST_LENGTH_ALIGN		0x04
#define ES_ST_OUT_OF_RANGE		0x05
#define ES_ST_BAD_ELEM_COUNT	0x06
#define ES_ST_BAD_SGL_ADDR		0x07
#define ES_ST_BAD_ELEM_LEN		0x08
#define ES_ST_LENGTH_MISMATCH	0x09
#define ES_ST_DMA_RANGE		0x10
#define ES_ST_DMA_FAULT		0x11
#define ES_ST_DEVICE_ERROR	0x20
#define ES_ST_MEDIUM_ERROR	0x21

#define ES_INFO_TABLE		0xffffffffu
#define ES_CQE_PHASE		BIT(0)

struct edusg_cmd {
	u8 opcode;
	u8 flags;
	__le16 nelems;
	__le32 tag;
	__le64 sector;
	__le32 length;
	__le32 rsvd;
	__le64 sgl_addr;
} __packed;

struct edusg_elem {
	__le64 addr;
	__le32 len;
	__le32 rsvd;
} __packed;

struct edusg_cqe {
	__le32 tag;
	__le32 info;
	__le16 sq_head;
	__le16 qid;
	__le16 status;
	__le16 flags;
} __packed;

static_assert(sizeof(struct edusg_cmd) == 32);
static_assert(sizeof(struct edusg_elem) == 16);
static_assert(sizeof(struct edusg_cqe) == 16);

#endif /* EDUSG_HW_H */
