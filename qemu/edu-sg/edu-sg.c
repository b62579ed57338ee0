/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * edu-sg: a small scatter/gather block-style PCI device for driver testing.
 *
 * The device owns a medium of "size" bytes (in memory, or a host file that
 * persists across runs) and serves read/write/flush commands posted by the
 * guest in submission queues in guest memory; results come back in
 * completion queues with a phase bit.  Data moves through a scatter/gather
 * element table per command.  Every DMA goes through pci_dma_read() and
 * pci_dma_write(), so an emulated IOMMU applies.  Limits (DMA address width,
 * elements per command, element length) behave like hardware limits, and
 * faults (failed or lost completions) can be injected.
 *
 * The register map and the command, element and completion formats are
 * documented in REGISTERS.md next to this file in the wdmdma project.
 *
 * Copyright (c) 2026 The wdmdma authors
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include "qemu/units.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"
#include "edu-sg-compat.h"     /* what differs between QEMU 7.2 and 10.0 */

#define TYPE_EDU_SG "edu-sg"
OBJECT_DECLARE_SIMPLE_TYPE(EduSgState, EDU_SG)

#define EDU_SG_DEVICE_ID        0x11e9
#define EDU_SG_MAGIC            0x45445347  /* "EDSG" */
#define EDU_SG_VERSION          0x00010000  /* 1.0 */

#define EDU_SG_MAX_QUEUES       8
#define EDU_SG_MAX_QUEUE_ENTRIES 4096
#define EDU_SG_SECTOR           512
#define EDU_SG_CMD_SIZE         32
#define EDU_SG_CQE_SIZE         16
#define EDU_SG_ELEM_SIZE        16
#define EDU_SG_RING_ALIGN       64
#define EDU_SG_SGL_ALIGN        16
#define EDU_SG_MAX_XFER_CAP     0xfffffe00u
#define EDU_SG_BH_BUDGET        256
#define EDU_SG_MAX_LATENCY_NS   (60 * NANOSECONDS_PER_SECOND)
#define EDU_SG_MMIO_SIZE        (4 * KiB)

/* Global registers (BAR0) */
#define REG_ID                  0x000
#define REG_VERSION             0x004
#define REG_CAPS                0x008
#define REG_NUM_QUEUES          0x00c
#define REG_MEDIUM_SIZE_LO      0x010
#define REG_MEDIUM_SIZE_HI      0x014
#define REG_MAX_ELEMS           0x018
#define REG_MAX_ELEM_LEN        0x01c
#define REG_MAX_XFER            0x020
#define REG_DMA_BITS            0x024
#define REG_MAX_QUEUE_ENTRIES   0x028
#define REG_FAIL_EVERY          0x030
#define REG_DROP_EVERY          0x034
#define REG_LATENCY_NS_LO       0x038
#define REG_LATENCY_NS_HI       0x03c
#define REG_DEV_CTRL            0x040
#define REG_SCRATCH             0x044
#define REG_INT_STATUS          0x048
#define REG_INT_ACK             0x04c
#define REG_INT_MASK            0x050
#define REG_IRQ_MODE            0x054
#define REG_HALT_AFTER          0x058
#define REG_STAT_CMDS           0x060
#define REG_STAT_ERRORS         0x064
#define REG_STAT_DROPPED        0x068
#define REG_STAT_INJECTED       0x06c

#define CAPS_MSIX               (1u << 0)
#define CAPS_MSI                (1u << 1)
#define CAPS_FILE               (1u << 2)

#define DEV_CTRL_RESET          (1u << 0)

#define IRQ_MODE_INTX           0
#define IRQ_MODE_MSI            1
#define IRQ_MODE_MSIX           2

/* Per-queue registers: BAR0 + 0x100 + q * 0x40 */
#define REG_QUEUE_BASE          0x100
#define REG_QUEUE_STRIDE        0x40
#define QREG_SQ_BASE_LO         0x00
#define QREG_SQ_BASE_HI         0x04
#define QREG_CQ_BASE_LO         0x08
#define QREG_CQ_BASE_HI         0x0c
#define QREG_SIZE               0x10
#define QREG_CTRL               0x14
#define QREG_STATUS             0x18
#define QREG_ERROR              0x1c
#define QREG_SQ_TAIL            0x20
#define QREG_SQ_HEAD            0x24
#define QREG_CQ_HEAD            0x28
#define QREG_CQ_TAIL            0x2c
#define QREG_PENDING            0x30

#define QCTRL_ENABLE            (1u << 0)
#define QCTRL_ABORT             (1u << 1)

#define QSTATUS_ENABLED         (1u << 0)
#define QSTATUS_HALTED          (1u << 1)
#define QSTATUS_CQ_FULL         (1u << 2)

/* Queue error codes (QREG_ERROR) */
enum {
    QERR_NONE = 0,
    QERR_BAD_SIZE = 1,
    QERR_SQ_ALIGN = 2,
    QERR_CQ_ALIGN = 3,
    QERR_SQ_RANGE = 4,
    QERR_CQ_RANGE = 5,
    QERR_SQ_FETCH = 6,
    QERR_CQ_WRITE = 7,
    QERR_BAD_SQ_TAIL = 8,
    QERR_BAD_CQ_HEAD = 9,
    QERR_DB_DISABLED = 10,
    QERR_CFG_ENABLED = 11,
};

/* Command opcodes and flags */
#define OP_READ                 0x01
#define OP_WRITE                0x02
#define OP_FLUSH                0x03
#define CMD_FLAG_FUA            (1u << 0)

/* Completion status codes */
enum {
    ST_OK = 0x00,
    ST_BAD_OPCODE = 0x01,
    ST_INVALID_FIELD = 0x02,
    ST_BAD_LENGTH = 0x03,
    ST_LENGTH_ALIGN = 0x04,
    ST_OUT_OF_RANGE = 0x05,
    ST_BAD_ELEM_COUNT = 0x06,
    ST_BAD_SGL_ADDR = 0x07,
    ST_BAD_ELEM_LEN = 0x08,
    ST_LENGTH_MISMATCH = 0x09,
    ST_DMA_RANGE = 0x10,
    ST_DMA_FAULT = 0x11,
    ST_DEVICE_ERROR = 0x20,
    ST_MEDIUM_ERROR = 0x21,
};

#define INFO_NONE               0u
#define INFO_TABLE              0xffffffffu

#define CQE_FLAG_PHASE          (1u << 0)

/* Guest memory formats, all little-endian */
typedef struct QEMU_PACKED EduSgCmd {
    uint8_t opcode;
    uint8_t flags;
    uint16_t nelems;
    uint32_t tag;
    uint64_t sector;
    uint32_t length;
    uint32_t rsvd;
    uint64_t sgl_addr;
} EduSgCmd;

typedef struct QEMU_PACKED EduSgElem {
    uint64_t addr;
    uint32_t len;
    uint32_t rsvd;
} EduSgElem;

typedef struct QEMU_PACKED EduSgCqe {
    uint32_t tag;
    uint32_t info;
    uint16_t sq_head;
    uint16_t qid;
    uint16_t status;
    uint16_t flags;
} EduSgCqe;

QEMU_BUILD_BUG_ON(sizeof(EduSgCmd) != EDU_SG_CMD_SIZE);
QEMU_BUILD_BUG_ON(sizeof(EduSgElem) != EDU_SG_ELEM_SIZE);
QEMU_BUILD_BUG_ON(sizeof(EduSgCqe) != EDU_SG_CQE_SIZE);

/* A completion produced by a command but not yet written to the CQ */
typedef struct EduSgPending {
    int64_t due_ns;
    uint32_t tag;
    uint32_t info;
    uint16_t status;
    uint16_t sq_head;
} EduSgPending;

typedef struct EduSgQueue {
    uint64_t sq_base;
    uint64_t cq_base;
    uint32_t size;
    uint32_t error;
    bool enabled;
    bool halted;
    bool pass_posted;           /* a completion posted in this BH pass */
    bool phase;
    uint32_t sq_tail;
    uint32_t sq_head;
    uint32_t cq_head;
    uint32_t cq_tail;
    EduSgPending *pend;         /* ring of EDU_SG_MAX_QUEUE_ENTRIES */
    uint32_t pend_head;
    uint32_t pend_count;
} EduSgQueue;

struct EduSgState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    QEMUBH *bh;
    QEMUTimer *timer;

    /* medium */
    uint8_t *medium;
    int fd;

    /* properties */
    uint32_t num_queues;
    uint64_t medium_size;
    char *file;
    uint8_t dma_bits;
    uint32_t max_elems;
    uint32_t max_elem_len;
    uint64_t prop_latency_ns;
    uint32_t prop_fail_every;
    uint32_t prop_drop_every;
    bool fault_regs;            /* x-fault-regs: knob registers writable */
    bool use_msix;
    bool use_msi;

    /*
     * The fault knobs in use: the properties' values after realize and a
     * system reset; with x-fault-regs the guest may change them through
     * their registers, and DEV_CTRL.RESET keeps what it wrote.
     */
    uint64_t latency_ns;
    uint32_t fail_every;
    uint32_t drop_every;
    uint32_t halt_after;        /* HALT_AFTER: countdown, 0 = off */

    /* derived */
    uint64_t dma_limit;         /* highest usable bus address */
    uint32_t max_xfer;
    EduSgElem *elems;           /* scratch for one element table */

    /* state */
    uint32_t scratch;
    uint32_t int_status;
    uint32_t int_mask;
    uint64_t cmd_count;
    uint64_t post_count;
    uint32_t stat_errors;
    uint32_t stat_dropped;
    uint32_t stat_injected;
    EduSgQueue q[EDU_SG_MAX_QUEUES];
};

static uint32_t edu_sg_queue_bits(EduSgState *s)
{
    return (1u << s->num_queues) - 1;
}

static int edu_sg_irq_mode(EduSgState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (msix_enabled(pdev)) {
        return IRQ_MODE_MSIX;
    }
    if (msi_enabled(pdev)) {
        return IRQ_MODE_MSI;
    }
    return IRQ_MODE_INTX;
}

static void edu_sg_update_intx(EduSgState *s)
{
    bool level = edu_sg_irq_mode(s) == IRQ_MODE_INTX &&
                 (s->int_status & ~s->int_mask);

    pci_set_irq(PCI_DEVICE(s), level);
}

/* Signal queue @qi's interrupt (completions posted or queue halted). */
static void edu_sg_notify(EduSgState *s, unsigned qi)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint32_t bit = 1u << qi;

    switch (edu_sg_irq_mode(s)) {
    case IRQ_MODE_MSIX:
        if (!(s->int_mask & bit)) {
            msix_notify(pdev, qi);
        }
        break;
    case IRQ_MODE_MSI:
        s->int_status |= bit;
        if (!(s->int_mask & bit)) {
            msi_notify(pdev, 0);
        }
        break;
    default:
        s->int_status |= bit;
        edu_sg_update_intx(s);
        break;
    }
}

/* True if [addr, addr + len) is non-empty and within the DMA address width. */
static bool edu_sg_dma_ok(EduSgState *s, uint64_t addr, uint64_t len)
{
    uint64_t last;

    if (len == 0) {
        return false;
    }
    last = addr + (len - 1);
    if (last < addr) {
        return false;           /* wraps around 2^64 */
    }
    return last <= s->dma_limit;
}

static void edu_sg_queue_reset(EduSgState *s, unsigned qi, bool clear_config)
{
    EduSgQueue *q = &s->q[qi];

    q->enabled = false;
    q->halted = false;
    q->error = QERR_NONE;
    q->phase = true;
    q->sq_tail = q->sq_head = 0;
    q->cq_head = q->cq_tail = 0;
    q->pend_head = q->pend_count = 0;
    if (clear_config) {
        q->sq_base = q->cq_base = 0;
        q->size = 0;
    }
    s->int_status &= ~(1u << qi);
    edu_sg_update_intx(s);
}

static void edu_sg_reset_state(EduSgState *s)
{
    unsigned i;

    timer_del(s->timer);
    for (i = 0; i < EDU_SG_MAX_QUEUES; i++) {
        edu_sg_queue_reset(s, i, true);
    }
    s->scratch = 0;
    s->int_status = 0;
    s->int_mask = 0;
    s->cmd_count = 0;
    s->post_count = 0;
    s->stat_errors = 0;
    s->stat_dropped = 0;
    s->stat_injected = 0;
    edu_sg_update_intx(s);
}

static void edu_sg_queue_halt(EduSgState *s, unsigned qi, uint32_t err)
{
    EduSgQueue *q = &s->q[qi];

    qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: queue %u halted: %s DMA failed\n",
                  qi, err == QERR_SQ_FETCH ? "SQ fetch" : "CQ write");
    q->halted = true;
    q->error = err;
    q->pend_head = q->pend_count = 0;
    edu_sg_notify(s, qi);
}

static int edu_sg_sync(EduSgState *s, uint64_t off, uint64_t len)
{
    uintptr_t page = qemu_real_host_page_size();
    uint64_t start, end;

    if (s->fd < 0) {
        return 0;
    }
    start = QEMU_ALIGN_DOWN(off, page);
    end = off + len;
    if (end > s->medium_size) {
        end = s->medium_size;
    }
    if (end <= start) {
        return 0;
    }
    if (msync(s->medium + start, end - start, MS_SYNC) < 0) {
        qemu_log_mask(LOG_UNIMP, "edu-sg: msync failed: %s\n",
                      strerror(errno));
        return -1;
    }
    return 0;
}

static uint16_t edu_sg_flush(EduSgState *s, const EduSgCmd *cmd)
{
    if (cmd->flags || cmd->nelems || cmd->sector || cmd->length ||
        cmd->rsvd || cmd->sgl_addr) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: FLUSH with non-zero fields\n");
        return ST_INVALID_FIELD;
    }
    return edu_sg_sync(s, 0, s->medium_size) ? ST_MEDIUM_ERROR : ST_OK;
}

static uint16_t edu_sg_rw(EduSgState *s, unsigned qi, const EduSgCmd *cmd,
                          uint32_t *info)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool is_write = cmd->opcode == OP_WRITE;
    uint64_t sector = le64_to_cpu(cmd->sector);
    uint32_t length = le32_to_cpu(cmd->length);
    uint16_t nelems = le16_to_cpu(cmd->nelems);
    uint64_t sgl = le64_to_cpu(cmd->sgl_addr);
    uint64_t nsectors = s->medium_size / EDU_SG_SECTOR;
    uint64_t sum = 0, off;
    unsigned i;

    if ((cmd->flags & ~CMD_FLAG_FUA) ||
        (!is_write && (cmd->flags & CMD_FLAG_FUA)) || cmd->rsvd) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: bad flags 0x%x or reserved field\n",
                      qi, cmd->flags);
        return ST_INVALID_FIELD;
    }
    if (length == 0 || length > s->max_xfer) {
        qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: q%u: bad length %u\n",
                      qi, length);
        return ST_BAD_LENGTH;
    }
    if (length % EDU_SG_SECTOR) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: length %u not a multiple of 512\n",
                      qi, length);
        return ST_LENGTH_ALIGN;
    }
    if (sector >= nsectors || length / EDU_SG_SECTOR > nsectors - sector) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: sector %" PRIu64 " + %u bytes beyond "
                      "medium\n", qi, sector, length);
        return ST_OUT_OF_RANGE;
    }
    if (nelems == 0 || nelems > s->max_elems) {
        qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: q%u: bad element count %u\n",
                      qi, nelems);
        return ST_BAD_ELEM_COUNT;
    }
    if (sgl % EDU_SG_SGL_ALIGN) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: element table 0x%" PRIx64 " misaligned\n",
                      qi, sgl);
        return ST_BAD_SGL_ADDR;
    }
    *info = INFO_TABLE;
    if (!edu_sg_dma_ok(s, sgl, (uint64_t)nelems * EDU_SG_ELEM_SIZE)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: element table 0x%" PRIx64 " beyond "
                      "%u-bit DMA range\n", qi, sgl, s->dma_bits);
        return ST_DMA_RANGE;
    }
    if (pci_dma_read(pdev, sgl, s->elems,
                     (dma_addr_t)nelems * EDU_SG_ELEM_SIZE) != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: DMA fault reading element table 0x%"
                      PRIx64 "\n", qi, sgl);
        return ST_DMA_FAULT;
    }

    for (i = 0; i < nelems; i++) {
        uint64_t addr = le64_to_cpu(s->elems[i].addr);
        uint32_t len = le32_to_cpu(s->elems[i].len);

        *info = i;
        if (s->elems[i].rsvd) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: q%u: element %u reserved field set\n",
                          qi, i);
            return ST_INVALID_FIELD;
        }
        if (len == 0 || len > s->max_elem_len) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: q%u: element %u bad length %u\n",
                          qi, i, len);
            return ST_BAD_ELEM_LEN;
        }
        if (!edu_sg_dma_ok(s, addr, len)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: q%u: element %u 0x%" PRIx64 "+%u beyond "
                          "%u-bit DMA range\n", qi, i, addr, len, s->dma_bits);
            return ST_DMA_RANGE;
        }
        sum += len;
    }
    *info = INFO_NONE;
    if (sum != length) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: length %u != element sum %" PRIu64 "\n",
                      qi, length, sum);
        return ST_LENGTH_MISMATCH;
    }

    off = sector * EDU_SG_SECTOR;
    for (i = 0; i < nelems; i++) {
        uint64_t addr = le64_to_cpu(s->elems[i].addr);
        uint32_t len = le32_to_cpu(s->elems[i].len);
        MemTxResult r;

        if (is_write) {
            r = pci_dma_read(pdev, addr, s->medium + off, len);
        } else {
            r = pci_dma_write(pdev, addr, s->medium + off, len);
        }
        if (r != MEMTX_OK) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: q%u: DMA fault on element %u 0x%" PRIx64
                          "+%u\n", qi, i, addr, len);
            *info = i;
            return ST_DMA_FAULT;
        }
        off += len;
    }

    if (is_write && (cmd->flags & CMD_FLAG_FUA) &&
        edu_sg_sync(s, sector * EDU_SG_SECTOR, length)) {
        return ST_MEDIUM_ERROR;
    }
    return ST_OK;
}

static uint16_t edu_sg_execute(EduSgState *s, unsigned qi, const EduSgCmd *cmd,
                               uint32_t *info)
{
    *info = INFO_NONE;

    if (s->fail_every && s->cmd_count % s->fail_every == 0) {
        s->stat_injected++;
        return ST_DEVICE_ERROR;
    }

    switch (cmd->opcode) {
    case OP_READ:
    case OP_WRITE:
        return edu_sg_rw(s, qi, cmd, info);
    case OP_FLUSH:
        return edu_sg_flush(s, cmd);
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: q%u: bad opcode 0x%x\n",
                      qi, cmd->opcode);
        return ST_BAD_OPCODE;
    }
}

/*
 * Write due completions to the CQ while it has room.  Returns true if at
 * least one entry was written.  May halt the queue.
 */
static bool edu_sg_post(EduSgState *s, unsigned qi, int64_t now)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    EduSgQueue *q = &s->q[qi];
    uint32_t mask = q->size - 1;
    bool posted = false;

    while (q->pend_count && !q->halted) {
        EduSgPending *p = &q->pend[q->pend_head];
        EduSgCqe cqe;
        dma_addr_t addr;

        if (p->due_ns > now) {
            break;
        }
        if (((q->cq_tail + 1) & mask) == q->cq_head) {
            break;              /* CQ full: wait for a CQ_HEAD doorbell */
        }

        s->post_count++;
        if (s->drop_every && s->post_count % s->drop_every == 0) {
            s->stat_dropped++;
        } else {
            /*
             * Injected (HALT_AFTER=N): once N - 1 completions have been
             * posted, the first CQ write that follows another in the same
             * pass faults, so the halt comes with posted completions.
             */
            if (s->halt_after > 1) {
                s->halt_after--;
            } else if (s->halt_after && q->pass_posted) {
                s->halt_after = 0;
                edu_sg_queue_halt(s, qi, QERR_CQ_WRITE);
                return posted;
            }
            cqe.tag = cpu_to_le32(p->tag);
            cqe.info = cpu_to_le32(p->info);
            cqe.sq_head = cpu_to_le16(p->sq_head);
            cqe.qid = cpu_to_le16(qi);
            cqe.status = cpu_to_le16(p->status);
            cqe.flags = cpu_to_le16(q->phase ? CQE_FLAG_PHASE : 0);
            addr = q->cq_base + (dma_addr_t)q->cq_tail * EDU_SG_CQE_SIZE;

            /*
             * Body first, then the dword holding status and phase, so a
             * driver that sees the new phase also sees the rest.
             */
            if (pci_dma_write(pdev, addr, &cqe, 12) != MEMTX_OK ||
                pci_dma_write(pdev, addr + 12, &cqe.status, 4) != MEMTX_OK) {
                edu_sg_queue_halt(s, qi, QERR_CQ_WRITE);
                return posted;
            }
            q->cq_tail = (q->cq_tail + 1) & mask;
            if (q->cq_tail == 0) {
                q->phase = !q->phase;
            }
            posted = true;
            q->pass_posted = true;
        }
        q->pend_head = (q->pend_head + 1) % EDU_SG_MAX_QUEUE_ENTRIES;
        q->pend_count--;
    }
    return posted;
}

/* Fetch and execute the command at SQ_HEAD. */
static void edu_sg_fetch_exec(EduSgState *s, unsigned qi, int64_t now)
{
    EduSgQueue *q = &s->q[qi];
    EduSgCmd cmd;
    EduSgPending *p;
    dma_addr_t addr = q->sq_base + (dma_addr_t)q->sq_head * EDU_SG_CMD_SIZE;
    uint32_t info;
    uint16_t status;

    if (pci_dma_read(PCI_DEVICE(s), addr, &cmd, sizeof(cmd)) != MEMTX_OK) {
        edu_sg_queue_halt(s, qi, QERR_SQ_FETCH);
        return;
    }
    q->sq_head = (q->sq_head + 1) & (q->size - 1);
    s->cmd_count++;

    status = edu_sg_execute(s, qi, &cmd, &info);
    if (status != ST_OK) {
        s->stat_errors++;
    }

    p = &q->pend[(q->pend_head + q->pend_count) % EDU_SG_MAX_QUEUE_ENTRIES];
    p->due_ns = now + s->latency_ns;
    p->tag = le32_to_cpu(cmd.tag);
    p->info = info;
    p->status = status;
    p->sq_head = q->sq_head;
    q->pend_count++;
}

static void edu_sg_process(void *opaque)
{
    EduSgState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t next_due = INT64_MAX;
    bool again = false;
    unsigned qi;

    for (qi = 0; qi < s->num_queues; qi++) {
        EduSgQueue *q = &s->q[qi];
        bool posted;
        unsigned n = 0;

        if (!q->enabled || q->halted) {
            continue;
        }
        q->pass_posted = false;
        posted = edu_sg_post(s, qi, now);
        while (!q->halted && q->sq_head != q->sq_tail &&
               q->pend_count < q->size) {
            if (n++ == EDU_SG_BH_BUDGET) {
                again = true;
                break;
            }
            edu_sg_fetch_exec(s, qi, now);
            posted |= edu_sg_post(s, qi, now);
        }
        if (posted && !q->halted) {
            edu_sg_notify(s, qi);
        }
        if (!q->halted && q->pend_count &&
            q->pend[q->pend_head].due_ns > now) {
            next_due = MIN(next_due, q->pend[q->pend_head].due_ns);
        }
    }
    if (again) {
        qemu_bh_schedule(s->bh);
    }
    if (next_due != INT64_MAX) {
        timer_mod_anticipate_ns(s->timer, next_due);
    }
}

static void edu_sg_timer_cb(void *opaque)
{
    EduSgState *s = opaque;

    qemu_bh_schedule(s->bh);
}

static void edu_sg_queue_ctrl(EduSgState *s, unsigned qi, uint32_t val)
{
    EduSgQueue *q = &s->q[qi];
    uint32_t err = QERR_NONE;

    if ((val & QCTRL_ABORT) || !(val & QCTRL_ENABLE)) {
        edu_sg_queue_reset(s, qi, false);
        return;
    }
    if (q->enabled) {
        return;
    }
    if (q->size < 2 || q->size > EDU_SG_MAX_QUEUE_ENTRIES ||
        !is_power_of_2(q->size)) {
        err = QERR_BAD_SIZE;
    } else if (q->sq_base % EDU_SG_RING_ALIGN) {
        err = QERR_SQ_ALIGN;
    } else if (q->cq_base % EDU_SG_RING_ALIGN) {
        err = QERR_CQ_ALIGN;
    } else if (!edu_sg_dma_ok(s, q->sq_base,
                              (uint64_t)q->size * EDU_SG_CMD_SIZE)) {
        err = QERR_SQ_RANGE;
    } else if (!edu_sg_dma_ok(s, q->cq_base,
                              (uint64_t)q->size * EDU_SG_CQE_SIZE)) {
        err = QERR_CQ_RANGE;
    }
    edu_sg_queue_reset(s, qi, false);
    if (err != QERR_NONE) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: enable rejected (error %u): size %u "
                      "sq 0x%" PRIx64 " cq 0x%" PRIx64 "\n",
                      qi, err, q->size, q->sq_base, q->cq_base);
        q->error = err;
        return;
    }
    q->enabled = true;
}

static void edu_sg_queue_error(EduSgState *s, unsigned qi, uint32_t err,
                               const char *what, uint32_t val)
{
    qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: q%u: %s (value 0x%x)\n",
                  qi, what, val);
    s->q[qi].error = err;
}

static uint64_t edu_sg_queue_read(EduSgState *s, unsigned qi, hwaddr reg)
{
    EduSgQueue *q = &s->q[qi];
    uint32_t mask = q->size - 1;
    uint32_t v;

    switch (reg) {
    case QREG_SQ_BASE_LO:
        return (uint32_t)q->sq_base;
    case QREG_SQ_BASE_HI:
        return q->sq_base >> 32;
    case QREG_CQ_BASE_LO:
        return (uint32_t)q->cq_base;
    case QREG_CQ_BASE_HI:
        return q->cq_base >> 32;
    case QREG_SIZE:
        return q->size;
    case QREG_CTRL:
        return q->enabled ? QCTRL_ENABLE : 0;
    case QREG_STATUS:
        v = 0;
        if (q->enabled) {
            v |= QSTATUS_ENABLED;
            if (((q->cq_tail + 1) & mask) == q->cq_head) {
                v |= QSTATUS_CQ_FULL;
            }
        }
        if (q->halted) {
            v |= QSTATUS_HALTED;
        }
        return v;
    case QREG_ERROR:
        return q->error;
    case QREG_SQ_TAIL:
        return q->sq_tail;
    case QREG_SQ_HEAD:
        return q->sq_head;
    case QREG_CQ_HEAD:
        return q->cq_head;
    case QREG_CQ_TAIL:
        return q->cq_tail;
    case QREG_PENDING:
        return q->pend_count;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: read of undefined queue register 0x%" HWADDR_PRIx
                      "\n", REG_QUEUE_BASE + qi * REG_QUEUE_STRIDE + reg);
        return 0;
    }
}

static void edu_sg_queue_write(EduSgState *s, unsigned qi, hwaddr reg,
                               uint32_t val)
{
    EduSgQueue *q = &s->q[qi];
    uint32_t mask = q->size - 1;

    switch (reg) {
    case QREG_SQ_BASE_LO:
    case QREG_SQ_BASE_HI:
    case QREG_CQ_BASE_LO:
    case QREG_CQ_BASE_HI:
    case QREG_SIZE:
        if (q->enabled) {
            edu_sg_queue_error(s, qi, QERR_CFG_ENABLED,
                               "config write while enabled", val);
            return;
        }
        if (reg == QREG_SQ_BASE_LO) {
            q->sq_base = deposit64(q->sq_base, 0, 32, val);
        } else if (reg == QREG_SQ_BASE_HI) {
            q->sq_base = deposit64(q->sq_base, 32, 32, val);
        } else if (reg == QREG_CQ_BASE_LO) {
            q->cq_base = deposit64(q->cq_base, 0, 32, val);
        } else if (reg == QREG_CQ_BASE_HI) {
            q->cq_base = deposit64(q->cq_base, 32, 32, val);
        } else {
            q->size = val;
        }
        return;
    case QREG_CTRL:
        edu_sg_queue_ctrl(s, qi, val);
        return;
    case QREG_SQ_TAIL:
        if (!q->enabled) {
            edu_sg_queue_error(s, qi, QERR_DB_DISABLED,
                               "SQ doorbell while disabled", val);
            return;
        }
        if (val >= q->size) {
            edu_sg_queue_error(s, qi, QERR_BAD_SQ_TAIL,
                               "SQ tail beyond queue size", val);
            return;
        }
        q->sq_tail = val;
        qemu_bh_schedule(s->bh);
        return;
    case QREG_CQ_HEAD:
        if (!q->enabled) {
            edu_sg_queue_error(s, qi, QERR_DB_DISABLED,
                               "CQ doorbell while disabled", val);
            return;
        }
        if (val >= q->size ||
            ((val - q->cq_head) & mask) > ((q->cq_tail - q->cq_head) & mask)) {
            edu_sg_queue_error(s, qi, QERR_BAD_CQ_HEAD,
                               "CQ head outside posted entries", val);
            return;
        }
        q->cq_head = val;
        if (q->pend_count) {
            qemu_bh_schedule(s->bh);
        }
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: write to read-only or undefined queue register "
                      "0x%" HWADDR_PRIx "\n",
                      REG_QUEUE_BASE + qi * REG_QUEUE_STRIDE + reg);
        return;
    }
}

static void edu_sg_write_int_mask(EduSgState *s, uint32_t val)
{
    uint32_t unmasked = s->int_mask & ~val;
    unsigned qi;

    s->int_mask = val & edu_sg_queue_bits(s);
    edu_sg_update_intx(s);
    for (qi = 0; qi < s->num_queues; qi++) {
        EduSgQueue *q = &s->q[qi];

        if ((unmasked & (1u << qi)) && q->enabled &&
            q->cq_tail != q->cq_head) {
            edu_sg_notify(s, qi);
        }
    }
}

static uint64_t edu_sg_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    EduSgState *s = opaque;
    PCIDevice *pdev = PCI_DEVICE(s);
    uint32_t v;

    if (addr >= REG_QUEUE_BASE &&
        addr < REG_QUEUE_BASE + EDU_SG_MAX_QUEUES * REG_QUEUE_STRIDE) {
        unsigned qi = (addr - REG_QUEUE_BASE) / REG_QUEUE_STRIDE;

        if (qi >= s->num_queues) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: read of queue %u, device has %u\n",
                          qi, s->num_queues);
            return 0;
        }
        return edu_sg_queue_read(s, qi,
                                 (addr - REG_QUEUE_BASE) % REG_QUEUE_STRIDE);
    }

    switch (addr) {
    case REG_ID:
        return EDU_SG_MAGIC;
    case REG_VERSION:
        return EDU_SG_VERSION;
    case REG_CAPS:
        v = 0;
        if (msix_present(pdev)) {
            v |= CAPS_MSIX;
        }
        if (msi_present(pdev)) {
            v |= CAPS_MSI;
        }
        if (s->fd >= 0) {
            v |= CAPS_FILE;
        }
        return v;
    case REG_NUM_QUEUES:
        return s->num_queues;
    case REG_MEDIUM_SIZE_LO:
        return (uint32_t)s->medium_size;
    case REG_MEDIUM_SIZE_HI:
        return s->medium_size >> 32;
    case REG_MAX_ELEMS:
        return s->max_elems;
    case REG_MAX_ELEM_LEN:
        return s->max_elem_len;
    case REG_MAX_XFER:
        return s->max_xfer;
    case REG_DMA_BITS:
        return s->dma_bits;
    case REG_MAX_QUEUE_ENTRIES:
        return EDU_SG_MAX_QUEUE_ENTRIES;
    case REG_FAIL_EVERY:
        return s->fail_every;
    case REG_DROP_EVERY:
        return s->drop_every;
    case REG_LATENCY_NS_LO:
        return (uint32_t)s->latency_ns;
    case REG_LATENCY_NS_HI:
        return s->latency_ns >> 32;
    case REG_DEV_CTRL:
    case REG_INT_ACK:
        return 0;
    case REG_SCRATCH:
        return s->scratch;
    case REG_INT_STATUS:
        return s->int_status;
    case REG_INT_MASK:
        return s->int_mask;
    case REG_IRQ_MODE:
        return edu_sg_irq_mode(s);
    case REG_HALT_AFTER:
        return s->halt_after;
    case REG_STAT_CMDS:
        return (uint32_t)s->cmd_count;
    case REG_STAT_ERRORS:
        return s->stat_errors;
    case REG_STAT_DROPPED:
        return s->stat_dropped;
    case REG_STAT_INJECTED:
        return s->stat_injected;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: read of undefined register 0x%" HWADDR_PRIx
                      "\n", addr);
        return 0;
    }
}

/*
 * x-fault-regs: a write to a fault knob. A write to LATENCY_NS_LO or _HI
 * replaces that half of the latency, for commands fetched from then on; a
 * value above EDU_SG_MAX_LATENCY_NS is refused (the latency stays).
 */
static void edu_sg_write_knob(EduSgState *s, hwaddr addr, uint32_t val)
{
    uint64_t ns;

    switch (addr) {
    case REG_FAIL_EVERY:
        s->fail_every = val;
        return;
    case REG_DROP_EVERY:
        s->drop_every = val;
        return;
    case REG_HALT_AFTER:
        s->halt_after = val;
        return;
    }
    ns = deposit64(s->latency_ns, addr == REG_LATENCY_NS_HI ? 32 : 0, 32,
                   val);
    if (ns > EDU_SG_MAX_LATENCY_NS) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: latency of %" PRIu64 " ns refused: at most 60 s\n",
                      ns);
        return;
    }
    s->latency_ns = ns;
}

static void edu_sg_mmio_write(void *opaque, hwaddr addr, uint64_t val64,
                              unsigned size)
{
    EduSgState *s = opaque;
    uint32_t val = val64;

    if (addr >= REG_QUEUE_BASE &&
        addr < REG_QUEUE_BASE + EDU_SG_MAX_QUEUES * REG_QUEUE_STRIDE) {
        unsigned qi = (addr - REG_QUEUE_BASE) / REG_QUEUE_STRIDE;

        if (qi >= s->num_queues) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: write to queue %u, device has %u\n",
                          qi, s->num_queues);
            return;
        }
        edu_sg_queue_write(s, qi, (addr - REG_QUEUE_BASE) % REG_QUEUE_STRIDE,
                           val);
        return;
    }

    switch (addr) {
    case REG_DEV_CTRL:
        if (val & DEV_CTRL_RESET) {
            edu_sg_reset_state(s);
        }
        return;
    case REG_SCRATCH:
        s->scratch = val;
        return;
    case REG_FAIL_EVERY:
    case REG_DROP_EVERY:
    case REG_HALT_AFTER:
    case REG_LATENCY_NS_LO:
    case REG_LATENCY_NS_HI:
        if (s->fault_regs) {
            edu_sg_write_knob(s, addr, val);
        } else {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: write to fault register 0x%" HWADDR_PRIx
                          " without x-fault-regs=on (value 0x%x)\n",
                          addr, val);
        }
        return;
    case REG_INT_ACK:
        s->int_status &= ~val;
        edu_sg_update_intx(s);
        return;
    case REG_INT_MASK:
        edu_sg_write_int_mask(s, val);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: write to read-only or undefined register 0x%"
                      HWADDR_PRIx " (value 0x%x)\n", addr, val);
        return;
    }
}

static const MemoryRegionOps edu_sg_mmio_ops = {
    .read = edu_sg_mmio_read,
    .write = edu_sg_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static void edu_sg_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                                int len)
{
    pci_default_write_config(pdev, addr, val, len);
    /* INTx is asserted only while neither MSI nor MSI-X is enabled. */
    edu_sg_update_intx(EDU_SG(pdev));
}

static void edu_sg_free_medium(EduSgState *s)
{
    if (s->medium) {
        munmap(s->medium, s->medium_size);
        s->medium = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

static bool edu_sg_open_medium(EduSgState *s, Error **errp)
{
    struct stat st;
    int ret;

    s->fd = -1;
    if (!s->file || !*s->file) {
        s->medium = mmap(NULL, s->medium_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (s->medium == MAP_FAILED) {
            s->medium = NULL;
            error_setg_errno(errp, errno, "edu-sg: cannot allocate medium");
            return false;
        }
        return true;
    }

    s->fd = qemu_create(s->file, O_RDWR, 0644, errp);
    if (s->fd < 0) {
        return false;
    }
    ret = qemu_lock_fd(s->fd, 0, 0, true);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "edu-sg: cannot lock '%s' (in use?)",
                         s->file);
        goto fail;
    }
    if (fstat(s->fd, &st) < 0) {
        error_setg_errno(errp, errno, "edu-sg: cannot stat '%s'", s->file);
        goto fail;
    }
    if ((uint64_t)st.st_size != s->medium_size &&
        ftruncate(s->fd, s->medium_size) < 0) {
        error_setg_errno(errp, errno, "edu-sg: cannot size '%s'", s->file);
        goto fail;
    }
    s->medium = mmap(NULL, s->medium_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                     s->fd, 0);
    if (s->medium == MAP_FAILED) {
        s->medium = NULL;
        error_setg_errno(errp, errno, "edu-sg: cannot map '%s'", s->file);
        goto fail;
    }
    return true;

fail:
    edu_sg_free_medium(s);
    return false;
}

static bool edu_sg_check_props(EduSgState *s, Error **errp)
{
    uint64_t xfer;

    if (s->num_queues < 1 || s->num_queues > EDU_SG_MAX_QUEUES) {
        error_setg(errp, "edu-sg: queues must be 1..%d", EDU_SG_MAX_QUEUES);
        return false;
    }
    if (s->medium_size == 0 || s->medium_size % EDU_SG_SECTOR ||
        s->medium_size > SIZE_MAX / 2) {
        error_setg(errp, "edu-sg: size must be a non-zero multiple of 512");
        return false;
    }
    if (s->dma_bits < 16 || s->dma_bits > 64) {
        error_setg(errp, "edu-sg: dma_bits must be 16..64");
        return false;
    }
    if (s->max_elems < 1 || s->max_elems > UINT16_MAX) {
        error_setg(errp, "edu-sg: max_elems must be 1..65535");
        return false;
    }
    if (s->max_elem_len < 1 || s->max_elem_len > 1 * GiB) {
        error_setg(errp, "edu-sg: max_elem_len must be 1..1073741824");
        return false;
    }
    if (s->prop_latency_ns > EDU_SG_MAX_LATENCY_NS) {
        error_setg(errp, "edu-sg: latency_ns must be at most 60 s");
        return false;
    }
    xfer = (uint64_t)s->max_elems * s->max_elem_len;
    xfer = MIN(xfer, EDU_SG_MAX_XFER_CAP);
    xfer = QEMU_ALIGN_DOWN(xfer, EDU_SG_SECTOR);
    if (xfer == 0) {
        error_setg(errp, "edu-sg: max_elems * max_elem_len must be >= 512");
        return false;
    }
    s->max_xfer = xfer;
    s->dma_limit = s->dma_bits == 64 ? UINT64_MAX :
                   (1ULL << s->dma_bits) - 1;
    return true;
}

/* The fault knobs from the properties: realize and a system reset. */
static void edu_sg_load_knobs(EduSgState *s)
{
    s->latency_ns = s->prop_latency_ns;
    s->fail_every = s->prop_fail_every;
    s->drop_every = s->prop_drop_every;
    s->halt_after = 0;
}

static void edu_sg_realize(PCIDevice *pdev, Error **errp)
{
    EduSgState *s = EDU_SG(pdev);
    Error *err = NULL;
    unsigned i;
    int ret;

    s->fd = -1;
    if (!edu_sg_check_props(s, errp) || !edu_sg_open_medium(s, errp)) {
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);

    if (s->use_msi) {
        ret = msi_init(pdev, 0, 1, true, false, &err);
        if (ret < 0 && ret != -ENOTSUP) {
            error_propagate(errp, err);
            goto fail;
        }
        error_free(err);
        err = NULL;
    }
    if (s->use_msix) {
        ret = msix_init_exclusive_bar(pdev, s->num_queues, 1, &err);
        if (ret < 0 && ret != -ENOTSUP) {
            error_propagate(errp, err);
            goto fail_msi;
        }
        error_free(err);
        err = NULL;
        for (i = 0; msix_present(pdev) && i < s->num_queues; i++) {
            msix_vector_use(pdev, i);
        }
    }

    memory_region_init_io(&s->mmio, OBJECT(s), &edu_sg_mmio_ops, s,
                          "edu-sg-mmio", EDU_SG_MMIO_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);

    s->elems = g_new(EduSgElem, s->max_elems);
    for (i = 0; i < EDU_SG_MAX_QUEUES; i++) {
        s->q[i].pend = g_new0(EduSgPending, EDU_SG_MAX_QUEUE_ENTRIES);
    }
    s->bh = qemu_bh_new_guarded(edu_sg_process, s,
                                &DEVICE(s)->mem_reentrancy_guard);
    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, edu_sg_timer_cb, s);
    edu_sg_load_knobs(s);
    edu_sg_reset_state(s);
    return;

fail_msi:
    msi_uninit(pdev);
fail:
    edu_sg_free_medium(s);
}

static void edu_sg_exit(PCIDevice *pdev)
{
    EduSgState *s = EDU_SG(pdev);
    unsigned i;

    qemu_bh_delete(s->bh);
    timer_free(s->timer);
    if (msix_present(pdev)) {
        msix_unuse_all_vectors(pdev);
        msix_uninit_exclusive_bar(pdev);
    }
    msi_uninit(pdev);
    for (i = 0; i < EDU_SG_MAX_QUEUES; i++) {
        g_free(s->q[i].pend);
    }
    g_free(s->elems);
    edu_sg_free_medium(s);
}

static void edu_sg_qdev_reset(DeviceState *dev)
{
    EduSgState *s = EDU_SG(dev);

    edu_sg_load_knobs(s);
    edu_sg_reset_state(s);
}

static const VMStateDescription vmstate_edu_sg = {
    .name = TYPE_EDU_SG,
    .unmigratable = 1,
};

static EduSgProperty edu_sg_properties[] = {
    DEFINE_PROP_UINT32("queues", EduSgState, num_queues, 2),
    DEFINE_PROP_SIZE("size", EduSgState, medium_size, 16 * MiB),
    DEFINE_PROP_STRING("file", EduSgState, file),
    DEFINE_PROP_UINT8("dma_bits", EduSgState, dma_bits, 64),
    DEFINE_PROP_UINT32("max_elems", EduSgState, max_elems, 256),
    DEFINE_PROP_UINT32("max_elem_len", EduSgState, max_elem_len, 1 * MiB),
    DEFINE_PROP_UINT64("latency_ns", EduSgState, prop_latency_ns, 0),
    DEFINE_PROP_UINT32("fail_every", EduSgState, prop_fail_every, 0),
    DEFINE_PROP_UINT32("drop_every", EduSgState, prop_drop_every, 0),
    DEFINE_PROP_BOOL("x-fault-regs", EduSgState, fault_regs, false),
    DEFINE_PROP_BOOL("msix", EduSgState, use_msix, true),
    DEFINE_PROP_BOOL("msi", EduSgState, use_msi, true),
    EDU_SG_PROP_END_OF_LIST
};

static void edu_sg_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = edu_sg_realize;
    k->exit = edu_sg_exit;
    k->config_write = edu_sg_config_write;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = EDU_SG_DEVICE_ID;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_STORAGE_OTHER;
    dc->desc = "edu-style scatter/gather block test device";
    edu_sg_set_reset(dc, edu_sg_qdev_reset);
    dc->vmsd = &vmstate_edu_sg;
    device_class_set_props(dc, edu_sg_properties);
    object_class_property_set_description(klass, "queues",
        "submission/completion queue pairs and MSI-X vectors, 1-8");
    object_class_property_set_description(klass, "size",
        "medium size in bytes, a multiple of 512");
    object_class_property_set_description(klass, "file",
        "host file backing the medium (created and sized as needed)");
    object_class_property_set_description(klass, "dma_bits",
        "DMA address width, 16-64");
    object_class_property_set_description(klass, "max_elems",
        "maximum scatter/gather elements per command, 1-65535");
    object_class_property_set_description(klass, "max_elem_len",
        "maximum bytes per element");
    object_class_property_set_description(klass, "latency_ns",
        "minimum virtual-clock delay before a completion is posted");
    object_class_property_set_description(klass, "fail_every",
        "fail every Nth command with DEVICE_ERROR (0 = off)");
    object_class_property_set_description(klass, "drop_every",
        "silently drop every Nth completion (0 = off)");
    object_class_property_set_description(klass, "x-fault-regs",
        "let the guest write FAIL_EVERY, DROP_EVERY, LATENCY_NS and HALT_AFTER (tests)");
    object_class_property_set_description(klass, "msix",
        "offer MSI-X (one vector per queue)");
    object_class_property_set_description(klass, "msi",
        "offer MSI (one vector)");
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
}

static const TypeInfo edu_sg_info = {
    .name = TYPE_EDU_SG,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(EduSgState),
    .class_init = edu_sg_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void edu_sg_register_types(void)
{
    type_register_static(&edu_sg_info);
}

type_init(edu_sg_register_types)
