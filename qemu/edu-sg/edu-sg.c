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
 * Processing: commands are fetched and run in processing passes, each with
 * a per-queue budget.  With no latency to model (latency_ns 0), an SQ
 * doorbell write runs one pass over its own queue right away, inside the
 * MMIO write (vCPU thread, BQL held), as a controller starts fetching when
 * its doorbell rings: the "inline" pass, bounded by inline_budget bytes
 * (default 256 KiB; 0 turns it off) and the command and element budgets
 * scaled to it.  What it leaves, and everything else (a latency to wait
 * for, HALT_AFTER armed, CQ room given back, syncs done, a doorbell that
 * re-enters a pass) goes to the bottom half s->bh.  The inline pass is a
 * pass like any other: fault injection, back-pressure, halts and yields
 * behave the same.  Why 256 KiB and why on: REGISTERS.md, "Inline
 * processing".
 *
 * Interrupts: a pass that posted completions for a queue signals it
 * (edu_sg_posted()), unless INT_COALESCE (1.3) is on: then the queue is
 * signalled once THRESHOLD completions wait, or by its coal_timer TIME us
 * after the first of them, as NVMe's Interrupt Coalescing feature does.
 *
 * The register map and the command, element and completion formats are
 * documented in REGISTERS.md next to this file in the wdmdma project.
 *
 * Copyright (c) 2026 The wdmdma authors
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#ifdef CONFIG_LINUX
#include <linux/falloc.h>
#endif
#include "qemu/units.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/queue.h"
#include "qemu/module.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "qemu/range.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"
#include "block/thread-pool.h"
#include "edu-sg-compat.h"     /* what differs between QEMU 7.2 and 10.0 */
#include "trace.h"

#define TYPE_EDU_SG "edu-sg"
OBJECT_DECLARE_SIMPLE_TYPE(EduSgState, EDU_SG)

#define EDU_SG_DEVICE_ID        0x11e9
#define EDU_SG_MAGIC            0x45445347  /* "EDSG" */
#define EDU_SG_VERSION          0x00010003  /* 1.3 */

#define EDU_SG_MAX_QUEUES       8
#define EDU_SG_MAX_QUEUE_ENTRIES 4096
#define EDU_SG_SECTOR           512
#define EDU_SG_CMD_SIZE         32
#define EDU_SG_CQE_SIZE         16
#define EDU_SG_ELEM_SIZE        16
#define EDU_SG_RING_ALIGN       64
#define EDU_SG_SGL_ALIGN        16
#define EDU_SG_MAX_XFER_CAP     0xfffffe00u
#define EDU_SG_BH_BUDGET        256         /* commands per queue per pass */
#define EDU_SG_BH_BYTES         (2 * MiB)   /* data bytes per queue per pass */
#define EDU_SG_BH_ELEMS         1024        /* elements per queue per pass */
#define EDU_SG_INLINE_DEFAULT   (256 * KiB) /* inline_budget's default */
#define EDU_SG_BOUNCE_SIZE      (256 * KiB) /* file medium: bytes per pread */
#define EDU_SG_DEFAULT_SIZE     (16 * MiB)
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
#define REG_BAD_CQE             0x05c
#define REG_STAT_YIELDS         0x070
#define REG_STAT_BAD_CQES       0x074
#define REG_STAT_MEDIUM_ERRORS  0x078
#define REG_BAD_LBA_LO          0x080
#define REG_BAD_LBA_HI          0x084
#define REG_BAD_LBA_COUNT       0x088
#define REG_BAD_LBA_CTRL        0x08c
#define REG_VANISH_MS           0x090
#define REG_INT_COALESCE        0x094   /* 1.3 */

/* VANISH_MS: longest absence a guest may ask for */
#define EDU_SG_MAX_VANISH_MS    600000

/* BAD_CQE: bad completions to inject (x-fault-regs) */
#define BAD_CQE_KIND_MASK       0xfu
#define BAD_CQE_EVERY_SHIFT     16
#define BAD_CQE_WRONG_TAG       1
#define BAD_CQE_WRONG_QID       2
#define BAD_CQE_DUPLICATE       3
#define BAD_CQE_STALE_PHASE     4
#define BAD_CQE_ROTATE          5
#define BAD_CQE_TAG_FLIP        0x80000000u
#define EDU_SG_STALE_DELAY_NS   (1 * SCALE_MS)

/*
 * INT_COALESCE (1.3): signal a queue once THRESHOLD completions wait, or
 * TIME us after the first of them; THRESHOLD <= 1 or TIME 0: off.
 */
#define INT_COAL_THRESHOLD_MASK 0xffu
#define INT_COAL_RSVD_MASK      0xff00u
#define INT_COAL_TIME_SHIFT     16

/* BAD_LBA_CTRL */
#define BAD_LBA_READ            (1u << 0)
#define BAD_LBA_WRITE           (1u << 1)

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
#define OP_DISCARD              0x04    /* 1.2 */
#define OP_WRITE_ZEROES         0x05    /* 1.2 */
#define CMD_FLAG_FUA            (1u << 0)
#define CMD_FLAG_DEALLOC        (1u << 1)   /* WRITE_ZEROES may unmap */

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
    bool stale_done;            /* BAD_CQE: its stale-phase entry written */
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

    /*
     * The command being executed: fetched, its completion not produced
     * yet.  Its data moves over as many processing passes as the budget
     * needs; a FLUSH, or a WRITE with FUA, on a file medium then waits for
     * an fdatasync() in the thread pool.
     */
    bool busy;
    bool syncing;
    bool sync_waiting;          /* its sync waits for an orphaned one */
    unsigned syncs;             /* fdatasync()s in flight, orphans too */
    EduSgCmd cur;
    EduSgElem *elems;           /* its element table (max_elems entries) */
    uint16_t cur_sq_head;
    int64_t cur_due_ns;
    uint32_t cur_elem;          /* element being transferred */
    uint32_t cur_elem_done;     /* bytes of it already moved */
    uint64_t cur_off;           /* medium offset of the next byte */
    uint32_t gen;               /* bumped by a queue reset */

    /*
     * INT_COALESCE: completions posted and not signalled yet, and the
     * timer that signals them TIME after the first.
     */
    uint32_t coal_count;
    QEMUTimer *coal_timer;
    EduSgState *dev;            /* for coal_timer's callback */
    unsigned qi;
} EduSgQueue;

/* What one queue may still do in this processing pass */
typedef struct EduSgBudget {
    unsigned cmds;
    unsigned elems;
    uint64_t bytes;
} EduSgBudget;

/* An fdatasync() of the medium file in QEMU's thread pool */
typedef struct EduSgSync {
    EduSgState *s;              /* NULL once the device is gone */
    QLIST_ENTRY(EduSgSync) next;
    int fd;                     /* a dup() of the medium's, closed after */
    unsigned qi;
    uint32_t gen;               /* the queue's gen when submitted */
} EduSgSync;

struct EduSgState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    QEMUBH *bh;
    QEMUTimer *timer;
    QEMUTimer *vanish_timer;    /* ends an absence (VANISH_MS) */
    bool vanished;              /* answering like a removed device */
    uint8_t af_cap;             /* Advanced Features capability offset */

    /* medium: anonymous memory, or a file read and written with pread/pwrite */
    uint8_t *medium;
    int fd;
    uint8_t *bounce;            /* EDU_SG_BOUNCE_SIZE, file medium only */
    QLIST_HEAD(, EduSgSync) syncs;

    /* properties */
    uint32_t num_queues;
    uint64_t medium_size;
    char *file;
    bool create;                /* file: create it if missing */
    bool resize;                /* file: set its length to size */
    bool prealloc;              /* file: allocate its blocks at realize */
    uint8_t dma_bits;
    uint32_t max_elems;
    uint32_t max_elem_len;
    uint64_t prop_latency_ns;
    uint32_t prop_fail_every;
    uint32_t prop_drop_every;
    bool fault_regs;            /* x-fault-regs: knob registers writable */
    uint64_t inline_budget;     /* bytes an SQ doorbell may run inline */
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
    uint32_t bad_cqe;           /* BAD_CQE: kind and every */
    uint64_t bad_lba;           /* BAD_LBA_LO/HI */
    uint32_t bad_lba_count;     /* BAD_LBA_COUNT: sectors, 0 = off */
    uint32_t bad_lba_ctrl;      /* BAD_LBA_CTRL */

    /* derived */
    uint64_t dma_limit;         /* highest usable bus address */
    uint32_t max_xfer;

    /* state */
    uint32_t scratch;
    uint32_t int_status;
    uint32_t int_mask;
    uint32_t int_coalesce;      /* INT_COALESCE */
    uint64_t cmd_count;
    uint64_t post_count;
    uint32_t stat_errors;
    uint32_t stat_dropped;
    uint32_t stat_injected;
    uint32_t stat_yields;
    uint32_t stat_medium_errors;
    uint32_t stat_bad_cqes;
    uint32_t bad_cqe_count;     /* completions counted for BAD_CQE */
    uint32_t bad_cqe_rotate;    /* BAD_CQE_ROTATE: injections so far */
    bool bad_cqe_armed;         /* an injection waits for its completion */
    bool in_pass;               /* a processing pass (BH or inline) runs */
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

/*
 * Signal queue @qi for everything it has posted: its INT_COALESCE count
 * restarts and its coalescing timer stops.
 */
static void edu_sg_signal(EduSgState *s, unsigned qi)
{
    EduSgQueue *q = &s->q[qi];

    q->coal_count = 0;
    timer_del(q->coal_timer);
    edu_sg_notify(s, qi);
}

/* INT_COALESCE's THRESHOLD, or 0 when coalescing is off. */
static unsigned edu_sg_coal_threshold(EduSgState *s)
{
    unsigned n = s->int_coalesce & INT_COAL_THRESHOLD_MASK;

    if (n <= 1 || !(s->int_coalesce >> INT_COAL_TIME_SHIFT)) {
        return 0;
    }
    return n;
}

/*
 * A processing pass posted completions for queue @qi (counted in
 * coal_count).  Coalescing off: signal now, one interrupt per pass.  On:
 * signal once THRESHOLD completions are waiting; until then the first of
 * them arms the queue's timer, which signals TIME us later.
 */
static void edu_sg_posted(EduSgState *s, unsigned qi)
{
    EduSgQueue *q = &s->q[qi];
    unsigned n = edu_sg_coal_threshold(s);
    int64_t us;

    if (!n) {
        edu_sg_signal(s, qi);
        return;
    }
    if (q->coal_count >= n) {
        trace_edu_sg_coalesce_signal(qi, q->coal_count, "threshold");
        edu_sg_signal(s, qi);
        return;
    }
    if (!timer_pending(q->coal_timer)) {
        us = s->int_coalesce >> INT_COAL_TIME_SHIFT;
        trace_edu_sg_coalesce_arm(qi, q->coal_count, us);
        timer_mod(q->coal_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  us * SCALE_US);
    }
}

/* INT_COALESCE's TIME is up for queue @opaque: signal what waits. */
static void edu_sg_coal_timer_cb(void *opaque)
{
    EduSgQueue *q = opaque;

    if (q->coal_count) {
        trace_edu_sg_coalesce_signal(q->qi, q->coal_count, "timer");
        edu_sg_signal(q->dev, q->qi);
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
    q->busy = q->syncing = q->sync_waiting = false;
    q->gen++;                   /* a sync in flight is forgotten */
    if (clear_config) {
        q->sq_base = q->cq_base = 0;
        q->size = 0;
    }
    q->coal_count = 0;          /* nothing left to signal */
    timer_del(q->coal_timer);
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
    s->int_coalesce = 0;
    s->cmd_count = 0;
    s->post_count = 0;
    s->stat_errors = 0;
    s->stat_dropped = 0;
    s->stat_injected = 0;
    s->stat_yields = 0;
    s->stat_medium_errors = 0;
    s->stat_bad_cqes = 0;
    s->bad_cqe_count = 0;
    s->bad_cqe_rotate = 0;
    s->bad_cqe_armed = false;
    edu_sg_update_intx(s);
}

static void edu_sg_queue_halt(EduSgState *s, unsigned qi, uint32_t err)
{
    EduSgQueue *q = &s->q[qi];

    qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: queue %u halted: %s DMA failed\n",
                  qi, err == QERR_SQ_FETCH ? "SQ fetch" : "CQ write");
    trace_edu_sg_queue_halt(qi, err);
    q->halted = true;
    q->error = err;
    q->pend_head = q->pend_count = 0;
    q->busy = q->syncing = q->sync_waiting = false;
    q->gen++;
    edu_sg_signal(s, qi);       /* at once, whatever INT_COALESCE says */
}

/*
 * Produce the completion of queue @qi's current command: it becomes due
 * latency_ns after the command was fetched.
 */
static void edu_sg_complete(EduSgState *s, unsigned qi, uint16_t status,
                            uint32_t info)
{
    EduSgQueue *q = &s->q[qi];
    EduSgPending *p;

    p = &q->pend[(q->pend_head + q->pend_count) % EDU_SG_MAX_QUEUE_ENTRIES];
    p->due_ns = q->cur_due_ns;
    p->stale_done = false;
    p->tag = le32_to_cpu(q->cur.tag);
    p->info = info;
    p->status = status;
    p->sq_head = q->cur_sq_head;
    q->pend_count++;
    q->busy = q->syncing = false;
    trace_edu_sg_complete(qi, p->tag, status, info);
    if (status != ST_OK) {
        s->stat_errors++;
    }
    if (status == ST_MEDIUM_ERROR) {
        s->stat_medium_errors++;
    }
}

static int edu_sg_sync_worker(void *opaque)
{
    EduSgSync *r = opaque;

    return qemu_fdatasync(r->fd) < 0 ? -errno : 0;
}

static void edu_sg_start_sync(EduSgState *s, unsigned qi);

/* Main loop: the fdatasync() of a FLUSH or FUA WRITE is done. */
static void edu_sg_sync_done(void *opaque, int ret)
{
    EduSgSync *r = opaque;
    EduSgState *s = r->s;

    close(r->fd);
    if (s) {
        EduSgQueue *q = &s->q[r->qi];

        QLIST_REMOVE(r, next);
        q->syncs--;
        trace_edu_sg_sync_done(r->qi, ret);
        if (ret < 0) {
            error_report_once("edu-sg: fdatasync of '%s' failed: %s",
                              s->file, strerror(-ret));
        }
        /* Not if the queue was aborted or reset meanwhile. */
        if (q->gen == r->gen && q->busy && q->syncing) {
            edu_sg_complete(s, r->qi, ret < 0 ? ST_MEDIUM_ERROR : ST_OK, 0);
            qemu_bh_schedule(s->bh);
        } else if (q->sync_waiting && q->busy && q->syncing) {
            /* An orphan (the queue was reset): the new sync may start. */
            q->sync_waiting = false;
            edu_sg_start_sync(s, r->qi);
        }
    }
    g_free(r);
}

/*
 * Queue @qi's current command needs the medium file on stable storage:
 * hand an fdatasync() to the thread pool; the command completes when it
 * is done, and the queue fetches nothing meanwhile.  Without a file there
 * is nothing to sync and the command completes now.  A queue has at most
 * one sync in flight: one a reset orphaned (it cannot be cancelled) is
 * waited for first, so a guest cannot pile syncs and file descriptors up
 * by aborting and flushing in a loop.
 */
static void edu_sg_start_sync(EduSgState *s, unsigned qi)
{
    EduSgQueue *q = &s->q[qi];
    EduSgSync *r;
    int fd;

    if (s->fd < 0) {
        edu_sg_complete(s, qi, ST_OK, 0);
        return;
    }
    q->syncing = true;
    if (q->syncs) {
        q->sync_waiting = true;     /* edu_sg_sync_done() starts it */
        return;
    }
    fd = dup(s->fd);
    if (fd < 0) {
        error_report_once("edu-sg: cannot sync '%s': %s", s->file,
                          strerror(errno));
        edu_sg_complete(s, qi, ST_MEDIUM_ERROR, 0);
        return;
    }
    r = g_new0(EduSgSync, 1);
    r->s = s;
    r->fd = fd;
    r->qi = qi;
    r->gen = q->gen;
    QLIST_INSERT_HEAD(&s->syncs, r, next);
    q->syncs++;
    trace_edu_sg_sync_start(qi);
    edu_sg_thread_pool_submit(edu_sg_sync_worker, r, edu_sg_sync_done, r);
}

/*
 * File medium: pread() or pwrite() all of @len bytes at *@off, advancing
 * *@off.  Returns 0, or -errno with *@off where it failed (-EIO for a
 * read that ends early: the file was truncated).
 */
static int edu_sg_file_io(EduSgState *s, bool is_write, uint8_t *buf,
                          uint64_t *off, size_t len)
{
    while (len) {
        ssize_t n;

        if (is_write) {
            n = pwrite(s->fd, buf, len, *off);
        } else {
            n = pread(s->fd, buf, len, *off);
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            return -EIO;
        }
        buf += n;
        *off += n;
        len -= n;
    }
    return 0;
}

/*
 * Move @len bytes between guest memory at @addr and the medium at @off.
 * Returns ST_OK, ST_DMA_FAULT, or ST_MEDIUM_ERROR with *@bad_off set to
 * the medium offset of the first byte that failed.
 */
static uint16_t edu_sg_xfer(EduSgState *s, bool is_write, uint64_t addr,
                            uint64_t off, uint32_t len, uint64_t *bad_off)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    MemTxResult r;
    int ret;

    if (s->fd < 0) {
        if (is_write) {
            r = pci_dma_read(pdev, addr, s->medium + off, len);
        } else {
            r = pci_dma_write(pdev, addr, s->medium + off, len);
        }
        return r == MEMTX_OK ? ST_OK : ST_DMA_FAULT;
    }

    while (len) {
        uint32_t n = MIN(len, EDU_SG_BOUNCE_SIZE);

        if (is_write) {
            if (pci_dma_read(pdev, addr, s->bounce, n) != MEMTX_OK) {
                return ST_DMA_FAULT;
            }
            ret = edu_sg_file_io(s, true, s->bounce, &off, n);
        } else {
            ret = edu_sg_file_io(s, false, s->bounce, &off, n);
            if (!ret &&
                pci_dma_write(pdev, addr, s->bounce, n) != MEMTX_OK) {
                return ST_DMA_FAULT;
            }
        }
        if (ret < 0) {
            trace_edu_sg_medium_error(is_write, off, -ret);
            error_report_once("edu-sg: %s of '%s' at %" PRIu64 " failed: %s",
                              is_write ? "write" : "read", s->file, off,
                              strerror(-ret));
            *bad_off = off;
            return ST_MEDIUM_ERROR;
        }
        addr += n;
        len -= n;
    }
    return ST_OK;
}

/*
 * Check a READ or WRITE and load its element table into the queue.
 * Returns ST_OK if the data transfer may start.
 */
static uint16_t edu_sg_rw_check(EduSgState *s, unsigned qi,
                                const EduSgCmd *cmd, uint32_t *info)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    EduSgElem *elems = s->q[qi].elems;
    bool is_write = cmd->opcode == OP_WRITE;
    uint64_t sector = le64_to_cpu(cmd->sector);
    uint32_t length = le32_to_cpu(cmd->length);
    uint16_t nelems = le16_to_cpu(cmd->nelems);
    uint64_t sgl = le64_to_cpu(cmd->sgl_addr);
    uint64_t nsectors = s->medium_size / EDU_SG_SECTOR;
    uint64_t sum = 0;
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
    if (pci_dma_read(pdev, sgl, elems,
                     (dma_addr_t)nelems * EDU_SG_ELEM_SIZE) != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: q%u: DMA fault reading element table 0x%"
                      PRIx64 "\n", qi, sgl);
        return ST_DMA_FAULT;
    }

    for (i = 0; i < nelems; i++) {
        uint64_t addr = le64_to_cpu(elems[i].addr);
        uint32_t len = le32_to_cpu(elems[i].len);

        *info = i;
        if (elems[i].rsvd) {
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
    if (s->bad_lba_count &&
        (s->bad_lba_ctrl & (is_write ? BAD_LBA_WRITE : BAD_LBA_READ))) {
        /* [first, last] of the command and of the bad range, no wrap */
        uint64_t last = sector + length / EDU_SG_SECTOR - 1;
        uint64_t bad_last = s->bad_lba + (s->bad_lba_count - 1);

        if (bad_last < s->bad_lba) {
            bad_last = UINT64_MAX;
        }
        if (sector <= bad_last && s->bad_lba <= last) {
            *info = MAX(sector, s->bad_lba) - sector;
            trace_edu_sg_bad_lba(qi, sector, *info);
            return ST_MEDIUM_ERROR;
        }
    }

    return ST_OK;
}

/*
 * Move queue @qi's current READ or WRITE data on, within budget @b.  When
 * the transfer ends (done or failed) the completion is produced, or, for
 * a WRITE with FUA on a file medium, the sync started.  Otherwise the
 * command stays current and the next pass continues it.
 */
static void edu_sg_rw_run(EduSgState *s, unsigned qi, EduSgBudget *b)
{
    EduSgQueue *q = &s->q[qi];
    bool is_write = q->cur.opcode == OP_WRITE;
    uint16_t nelems = le16_to_cpu(q->cur.nelems);
    uint64_t start = le64_to_cpu(q->cur.sector) * EDU_SG_SECTOR;
    uint64_t bad_off = 0;
    uint32_t gen = q->gen;
    uint16_t status;

    while (q->cur_elem < nelems) {
        EduSgElem *e = &q->elems[q->cur_elem];
        uint32_t elen = le32_to_cpu(e->len);
        uint32_t n;

        if (b->bytes == 0 || b->elems == 0) {
            return;             /* budget spent: continue next pass */
        }
        n = MIN(elen - q->cur_elem_done, b->bytes);
        status = edu_sg_xfer(s, is_write,
                             le64_to_cpu(e->addr) + q->cur_elem_done,
                             q->cur_off, n, &bad_off);
        if (q->gen != gen) {
            /*
             * The DMA reset the queue: a READ into MMIO that is not ours
             * (the memory core's re-entrancy guard stops our own BARs),
             * e.g. our own config space through MMCONFIG with AF_CTRL.FLR
             * set.  The command is gone with the queue: touch nothing.
             */
            return;
        }
        if (status == ST_DMA_FAULT) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: q%u: DMA fault on element %u 0x%" PRIx64
                          "+%u\n", qi, q->cur_elem, le64_to_cpu(e->addr),
                          elen);
            edu_sg_complete(s, qi, status, q->cur_elem);
            return;
        }
        if (status == ST_MEDIUM_ERROR) {
            edu_sg_complete(s, qi, status,
                            (bad_off - start) / EDU_SG_SECTOR);
            return;
        }
        b->bytes -= n;
        q->cur_off += n;
        q->cur_elem_done += n;
        if (q->cur_elem_done == elen) {
            q->cur_elem++;
            q->cur_elem_done = 0;
            b->elems--;
        }
    }
    if (is_write && (q->cur.flags & CMD_FLAG_FUA)) {
        edu_sg_start_sync(s, qi);
    } else {
        edu_sg_complete(s, qi, ST_OK, INFO_NONE);
    }
}

/*
 * Zero @len bytes of the medium at @off. Memory: with @dealloc the whole
 * pages in the range are given back (MADV_DONTNEED on the private
 * anonymous mapping reads back as zeroes), the rest, or without @dealloc
 * all of it, is cleared in place. A file: a hole is punched
 * (@dealloc), else the range is zeroed in place (FALLOC_FL_ZERO_RANGE),
 * with zeroes written where the file system can do neither. Returns 0 or
 * -errno.
 */
static int edu_sg_zero_range(EduSgState *s, uint64_t off, uint64_t len,
                             bool dealloc)
{
    if (s->fd < 0) {
        uint64_t start = ROUND_UP(off, qemu_real_host_page_size());
        uint64_t end = QEMU_ALIGN_DOWN(off + len, qemu_real_host_page_size());

        if (dealloc && start < end &&
            madvise(s->medium + start, end - start, MADV_DONTNEED) == 0) {
            memset(s->medium + off, 0, start - off);
            memset(s->medium + end, 0, off + len - end);
        } else {
            memset(s->medium + off, 0, len);
        }
        return 0;
    }
#ifdef CONFIG_LINUX
    {
        int mode = dealloc ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
                   FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;

        if (fallocate(s->fd, mode, off, len) == 0) {
            return 0;
        }
        if (errno != EOPNOTSUPP && errno != ENOSYS) {
            return -errno;
        }
    }
#endif
    memset(s->bounce, 0, EDU_SG_BOUNCE_SIZE);
    while (len) {
        size_t n = MIN(len, EDU_SG_BOUNCE_SIZE);
        int ret = edu_sg_file_io(s, true, s->bounce, &off, n);

        if (ret < 0) {
            return ret;
        }
        len -= n;
    }
    return 0;
}

/*
 * DISCARD and WRITE_ZEROES (1.2), once started: zero the rest of the
 * command's range (from q->cur_off) within budget @b, then complete it.
 * WRITE_ZEROES may unmap only with CMD_FLAG_DEALLOC; DISCARD always may.
 */
static void edu_sg_zero_run(EduSgState *s, unsigned qi, EduSgBudget *b)
{
    EduSgQueue *q = &s->q[qi];
    const EduSgCmd *cmd = &q->cur;
    uint64_t end = le64_to_cpu(cmd->sector) * EDU_SG_SECTOR +
                   le32_to_cpu(cmd->length);
    bool dealloc = cmd->opcode == OP_DISCARD ||
                   (cmd->flags & CMD_FLAG_DEALLOC);

    while (q->cur_off < end) {
        uint64_t n;
        int ret;

        if (b->bytes == 0) {
            return;             /* budget spent: continue next pass */
        }
        n = MIN(end - q->cur_off, b->bytes);
        ret = edu_sg_zero_range(s, q->cur_off, n, dealloc);
        if (ret < 0) {
            error_report("edu-sg: zeroing %" PRIu64 " bytes at %" PRIu64
                         " failed: %s", n, q->cur_off, strerror(-ret));
            trace_edu_sg_medium_error(1, q->cur_off, -ret);
            edu_sg_complete(s, qi, ST_MEDIUM_ERROR, 0);
            return;
        }
        q->cur_off += n;
        b->bytes -= n;
    }
    edu_sg_complete(s, qi, ST_OK, INFO_NONE);
}

/*
 * Start DISCARD or WRITE_ZEROES (1.2): no data and no element table; the
 * range reads back as zeroes afterwards. The zeroing is charged to the
 * pass's byte budget like a transfer and resumes in later passes.
 */
static void edu_sg_zero_cmd(EduSgState *s, unsigned qi, EduSgBudget *b)
{
    EduSgQueue *q = &s->q[qi];
    const EduSgCmd *cmd = &q->cur;
    bool discard = cmd->opcode == OP_DISCARD;
    uint64_t sector = le64_to_cpu(cmd->sector);
    uint32_t length = le32_to_cpu(cmd->length);
    uint64_t nsectors = s->medium_size / EDU_SG_SECTOR;
    uint8_t flags_ok = discard ? 0 : CMD_FLAG_DEALLOC;

    if ((cmd->flags & ~flags_ok) || cmd->nelems || cmd->rsvd ||
        cmd->sgl_addr) {
        qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: q%u: %s with bad flags "
                      "0x%x or non-zero fields\n", qi,
                      discard ? "DISCARD" : "WRITE_ZEROES", cmd->flags);
        edu_sg_complete(s, qi, ST_INVALID_FIELD, INFO_NONE);
        return;
    }
    if (length == 0 || length > s->max_xfer) {
        edu_sg_complete(s, qi, ST_BAD_LENGTH, INFO_NONE);
        return;
    }
    if (length % EDU_SG_SECTOR) {
        edu_sg_complete(s, qi, ST_LENGTH_ALIGN, INFO_NONE);
        return;
    }
    if (sector >= nsectors || length / EDU_SG_SECTOR > nsectors - sector) {
        edu_sg_complete(s, qi, ST_OUT_OF_RANGE, INFO_NONE);
        return;
    }
    trace_edu_sg_zero(qi, cmd->opcode, sector, length,
                      discard || (cmd->flags & CMD_FLAG_DEALLOC));
    q->cur_off = sector * EDU_SG_SECTOR;
    edu_sg_zero_run(s, qi, b);
}

/*
 * Start the command just fetched into queue @qi's current slot: a failed
 * check completes it at once; a FLUSH starts its sync; a READ or WRITE
 * starts its transfer within budget @b, as do DISCARD and WRITE_ZEROES
 * their zeroing.
 */
static void edu_sg_start(EduSgState *s, unsigned qi, EduSgBudget *b)
{
    EduSgQueue *q = &s->q[qi];
    const EduSgCmd *cmd = &q->cur;
    uint32_t info = INFO_NONE;
    uint16_t status;

    if (s->fail_every && s->cmd_count % s->fail_every == 0) {
        s->stat_injected++;
        edu_sg_complete(s, qi, ST_DEVICE_ERROR, INFO_NONE);
        return;
    }

    switch (cmd->opcode) {
    case OP_READ:
    case OP_WRITE:
        status = edu_sg_rw_check(s, qi, cmd, &info);
        /*
         * Fetching and checking the element table is work like moving
         * an element: charge it, so that commands whose tables fail the
         * check cannot take a pass for themselves either.
         */
        b->elems -= MIN(b->elems, MIN(le16_to_cpu(cmd->nelems),
                                      s->max_elems));
        if (status != ST_OK) {
            edu_sg_complete(s, qi, status, info);
            return;
        }
        q->cur_elem = 0;
        q->cur_elem_done = 0;
        q->cur_off = le64_to_cpu(cmd->sector) * EDU_SG_SECTOR;
        edu_sg_rw_run(s, qi, b);
        return;
    case OP_FLUSH:
        if (cmd->flags || cmd->nelems || cmd->sector || cmd->length ||
            cmd->rsvd || cmd->sgl_addr) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: FLUSH with non-zero fields\n");
            edu_sg_complete(s, qi, ST_INVALID_FIELD, INFO_NONE);
            return;
        }
        edu_sg_start_sync(s, qi);
        return;
    case OP_DISCARD:
    case OP_WRITE_ZEROES:
        edu_sg_zero_cmd(s, qi, b);
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: q%u: bad opcode 0x%x\n",
                      qi, cmd->opcode);
        edu_sg_complete(s, qi, ST_BAD_OPCODE, INFO_NONE);
        return;
    }
}

/*
 * Write @cqe to queue @qi's CQ slot at CQ_TAIL with phase @phase; with
 * @advance, move CQ_TAIL on (flipping the phase on a wrap).  Body first,
 * then the dword holding status and phase, so a driver that sees the new
 * phase also sees the rest.  Returns false (the queue halted) on a fault,
 * or if the write reset the queue.
 */
static bool edu_sg_write_cqe(EduSgState *s, unsigned qi, EduSgCqe *cqe,
                             bool phase, bool advance)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    EduSgQueue *q = &s->q[qi];
    dma_addr_t addr = q->cq_base + (dma_addr_t)q->cq_tail * EDU_SG_CQE_SIZE;
    uint32_t gen = q->gen;

    cqe->flags = cpu_to_le16(phase ? CQE_FLAG_PHASE : 0);
    if (pci_dma_write(pdev, addr, cqe, 12) != MEMTX_OK || q->gen != gen ||
        pci_dma_write(pdev, addr + 12, &cqe->status, 4) != MEMTX_OK) {
        if (q->gen == gen) {
            edu_sg_queue_halt(s, qi, QERR_CQ_WRITE);
        }
        return false;
    }
    if (q->gen != gen) {
        return false;           /* the write reset the queue (see rw_run) */
    }
    if (advance) {
        q->cq_tail = (q->cq_tail + 1) & (q->size - 1);
        if (q->cq_tail == 0) {
            q->phase = !q->phase;
        }
    }
    return true;
}

/*
 * BAD_CQE: the kind of bad completion that goes with queue @qi's next
 * completion @p, or 0.  An injection is armed by every Nth completion
 * posted and waits for one with room for the extra entry.
 */
static unsigned edu_sg_bad_cqe_kind(EduSgState *s, unsigned qi,
                                    EduSgPending *p)
{
    EduSgQueue *q = &s->q[qi];
    uint32_t mask = q->size - 1;
    unsigned kind = s->bad_cqe & BAD_CQE_KIND_MASK;
    uint32_t every = MAX(s->bad_cqe >> BAD_CQE_EVERY_SHIFT, 1);

    if (!kind || p->stale_done) {
        return 0;
    }
    if (++s->bad_cqe_count % every == 0) {
        s->bad_cqe_armed = true;
    }
    if (!s->bad_cqe_armed) {
        return 0;
    }
    if (kind == BAD_CQE_ROTATE) {
        kind = BAD_CQE_WRONG_TAG + s->bad_cqe_rotate % 4;
    }
    if (kind != BAD_CQE_STALE_PHASE &&
        ((q->cq_tail + 2) & mask) == q->cq_head) {
        return 0;               /* no room for two entries: a later one */
    }
    s->bad_cqe_armed = false;
    s->bad_cqe_rotate++;
    s->stat_bad_cqes++;
    return kind;
}

/*
 * Write due completions to the CQ while it has room.  Returns true if at
 * least one entry was written.  May halt the queue.
 */
static bool edu_sg_post(EduSgState *s, unsigned qi, int64_t now)
{
    EduSgQueue *q = &s->q[qi];
    uint32_t mask = q->size - 1;
    bool posted = false;

    while (q->pend_count && !q->halted) {
        EduSgPending *p = &q->pend[q->pend_head];
        EduSgCqe cqe, bad;
        unsigned kind;

        if (p->due_ns > now) {
            break;
        }
        if (((q->cq_tail + 1) & mask) == q->cq_head) {
            break;              /* CQ full: wait for a CQ_HEAD doorbell */
        }

        if (!p->stale_done) {
            s->post_count++;
        }
        if (!p->stale_done && s->drop_every &&
            s->post_count % s->drop_every == 0) {
            s->stat_dropped++;
        } else {
            /*
             * Injected (HALT_AFTER=N): once N - 1 completions have been
             * posted, the first CQ write that follows another in the same
             * pass faults, so the halt comes with posted completions.  A
             * completion counts once: not again when it follows its own
             * stale-phase entry (BAD_CQE).
             */
            if (s->halt_after > 1) {
                if (!p->stale_done) {
                    s->halt_after--;
                }
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
            bad = cqe;

            kind = edu_sg_bad_cqe_kind(s, qi, p);
            if (kind) {
                trace_edu_sg_bad_cqe(qi, kind, p->tag);
            }
            switch (kind) {
            case BAD_CQE_WRONG_TAG:
                bad.tag = cpu_to_le32(p->tag ^ BAD_CQE_TAG_FLIP);
                if (!edu_sg_write_cqe(s, qi, &bad, q->phase, true)) {
                    return posted;
                }
                break;
            case BAD_CQE_WRONG_QID:
                bad.qid = cpu_to_le16(qi ^ 1);
                if (!edu_sg_write_cqe(s, qi, &bad, q->phase, true)) {
                    return posted;
                }
                break;
            case BAD_CQE_STALE_PHASE:
                /*
                 * The real entry with the phase of the CQ's previous lap,
                 * signalled; the real completion follows
                 * EDU_SG_STALE_DELAY_NS later in the same slot.
                 */
                if (!edu_sg_write_cqe(s, qi, &bad, !q->phase, false)) {
                    return posted;
                }
                p->stale_done = true;
                p->due_ns = now + EDU_SG_STALE_DELAY_NS;
                q->coal_count++;    /* signalled as a completion */
                return true;
            }
            if (!edu_sg_write_cqe(s, qi, &cqe, q->phase, true)) {
                return posted;
            }
            if (kind == BAD_CQE_DUPLICATE &&
                !edu_sg_write_cqe(s, qi, &cqe, q->phase, true)) {
                return true;
            }
            posted = true;
            q->pass_posted = true;
            q->coal_count++;
        }
        q->pend_head = (q->pend_head + 1) % EDU_SG_MAX_QUEUE_ENTRIES;
        q->pend_count--;
    }
    return posted;
}

/* Fetch the command at SQ_HEAD and start it. */
static void edu_sg_fetch(EduSgState *s, unsigned qi, int64_t now,
                         EduSgBudget *b)
{
    EduSgQueue *q = &s->q[qi];
    dma_addr_t addr = q->sq_base + (dma_addr_t)q->sq_head * EDU_SG_CMD_SIZE;

    if (pci_dma_read(PCI_DEVICE(s), addr, &q->cur, sizeof(q->cur)) !=
        MEMTX_OK) {
        edu_sg_queue_halt(s, qi, QERR_SQ_FETCH);
        return;
    }
    q->sq_head = (q->sq_head + 1) & (q->size - 1);
    s->cmd_count++;
    q->busy = true;
    q->syncing = false;
    q->cur_sq_head = q->sq_head;
    q->cur_due_ns = now + s->latency_ns;
    trace_edu_sg_fetch(qi, q->cur.opcode, le32_to_cpu(q->cur.tag),
                       le64_to_cpu(q->cur.sector), le32_to_cpu(q->cur.length));
    edu_sg_start(s, qi, b);
}

/*
 * One processing pass over queue @qi: post what is due, continue the
 * current command, fetch and run more, each queue within its budget.
 * Returns true if the budget ran out with work left.
 */
static bool edu_sg_process_queue(EduSgState *s, unsigned qi, int64_t now,
                                 EduSgBudget *bp, bool *posted)
{
    EduSgQueue *q = &s->q[qi];
    EduSgBudget b = *bp;
    uint32_t gen = q->gen;

    *posted = edu_sg_post(s, qi, now);
    while (!q->halted && q->gen == gen) {
        if (q->busy) {
            if (q->syncing) {
                return false;   /* edu_sg_sync_done() reschedules */
            }
            if (q->cur.opcode == OP_DISCARD ||
                q->cur.opcode == OP_WRITE_ZEROES) {
                edu_sg_zero_run(s, qi, &b);
            } else {
                edu_sg_rw_run(s, qi, &b);
            }
        } else {
            if (q->sq_head == q->sq_tail || q->pend_count >= q->size) {
                return false;
            }
            if (b.cmds == 0 || b.elems == 0) {
                return true;
            }
            b.cmds--;
            edu_sg_fetch(s, qi, now, &b);
        }
        *posted |= edu_sg_post(s, qi, now);
        if (q->busy && !q->syncing && !q->halted) {
            return true;        /* transfer budget spent */
        }
    }
    return false;
}

/*
 * One processing pass over queue @qi within budget @b, its interrupt
 * signalled if it posted.  Lowers *@next_due to the due time of a
 * completion that waits for its latency.  Returns true if the budget ran
 * out with work left: a yield, the bottom half must run again.
 */
static bool edu_sg_pass(EduSgState *s, unsigned qi, int64_t now,
                        EduSgBudget *b, int64_t *next_due)
{
    EduSgQueue *q = &s->q[qi];
    uint32_t gen = q->gen;
    bool posted, yield;

    q->pass_posted = false;
    yield = edu_sg_process_queue(s, qi, now, b, &posted);
    if (q->gen != gen) {
        return false;           /* reset by its own DMA: nothing left */
    }
    if (yield) {
        trace_edu_sg_yield(qi, q->pend_count);
        s->stat_yields++;
    }
    if (posted && !q->halted) {
        edu_sg_posted(s, qi);
    }
    if (!q->halted && q->pend_count &&
        q->pend[q->pend_head].due_ns > now) {
        *next_due = MIN(*next_due, q->pend[q->pend_head].due_ns);
    }
    return yield;
}

static void edu_sg_process(void *opaque)
{
    EduSgState *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t next_due = INT64_MAX;
    bool again = false;
    unsigned qi;

    if (s->vanished) {
        return;
    }
    if (s->in_pass) {
        /* Run from inside a pass (a nested event loop): not now. */
        qemu_bh_schedule(s->bh);
        return;
    }
    s->in_pass = true;
    for (qi = 0; qi < s->num_queues; qi++) {
        EduSgQueue *q = &s->q[qi];
        EduSgBudget b = {
            .cmds = EDU_SG_BH_BUDGET,
            .elems = EDU_SG_BH_ELEMS,
            .bytes = EDU_SG_BH_BYTES,
        };

        if (!q->enabled || q->halted) {
            continue;
        }
        again |= edu_sg_pass(s, qi, now, &b, &next_due);
    }
    s->in_pass = false;
    if (again) {
        qemu_bh_schedule(s->bh);
    }
    if (next_due != INT64_MAX) {
        timer_mod_anticipate_ns(s->timer, next_due);
    }
}

/*
 * An SQ doorbell of queue @qi with inline_budget on: run one pass over
 * that queue now, in the MMIO write (vCPU thread, BQL held), as a
 * controller starts fetching when its doorbell rings.  The pass gets
 * inline_budget bytes and the command and element budgets of a bottom-half
 * pass scaled by inline_budget / EDU_SG_BH_BYTES (at least one of each);
 * what it leaves goes to the bottom half, counted as a yield.  Returns
 * false if the doorbell is left to the bottom half: inline processing off,
 * a latency to model (the timer and the bottom half post completions when
 * due), HALT_AFTER armed (it faults a CQ write that follows another in
 * the same pass: a bottom-half pass gathers the commands of several
 * doorbells, the pass of one doorbell seldom has two), the queue halted,
 * or a pass already running (a doorbell reached from inside a pass:
 * QEMU's memory re-entrancy guard refuses our own BARs to our DMA, this
 * refuses whatever else gets here).
 */
static bool edu_sg_doorbell_inline(EduSgState *s, unsigned qi)
{
    int64_t next_due = INT64_MAX;
    EduSgBudget b;
    bool yield;

    if (!s->inline_budget || s->latency_ns || s->halt_after || s->in_pass ||
        s->q[qi].halted) {
        return false;
    }
    b.bytes = s->inline_budget;
    b.cmds = MAX(1, EDU_SG_BH_BUDGET * s->inline_budget / EDU_SG_BH_BYTES);
    b.elems = MAX(1, EDU_SG_BH_ELEMS * s->inline_budget / EDU_SG_BH_BYTES);
    s->in_pass = true;
    yield = edu_sg_pass(s, qi, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), &b,
                        &next_due);
    s->in_pass = false;
    trace_edu_sg_inline(qi, yield);
    if (yield) {
        qemu_bh_schedule(s->bh);
    }
    if (next_due != INT64_MAX) {
        timer_mod_anticipate_ns(s->timer, next_due);
    }
    return true;
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
        if (!edu_sg_doorbell_inline(s, qi)) {
            qemu_bh_schedule(s->bh);
        }
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
            edu_sg_signal(s, qi);
        }
    }
}

/*
 * INT_COALESCE (1.3): bits 15:8 must be 0, else the write is refused.  A
 * write signals every queue that has completions waiting for a coalesced
 * interrupt, whatever the new value, so turning coalescing off or
 * changing it strands none; their timers stop.
 */
static void edu_sg_write_int_coalesce(EduSgState *s, uint32_t val)
{
    unsigned qi;

    if (val & INT_COAL_RSVD_MASK) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: INT_COALESCE 0x%x refused: bits 15:8 are "
                      "reserved\n", val);
        return;
    }
    for (qi = 0; qi < s->num_queues; qi++) {
        EduSgQueue *q = &s->q[qi];

        if (q->coal_count) {
            trace_edu_sg_coalesce_signal(qi, q->coal_count,
                                         "INT_COALESCE write");
            edu_sg_signal(s, qi);
        }
        timer_del(q->coal_timer);
    }
    s->int_coalesce = val;
}

static uint64_t edu_sg_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    EduSgState *s = opaque;
    PCIDevice *pdev = PCI_DEVICE(s);
    uint32_t v;

    if (s->vanished) {
        return UINT32_MAX;      /* a read nobody answers */
    }

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
    case REG_INT_COALESCE:
        return s->int_coalesce;
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
    case REG_BAD_CQE:
        return s->bad_cqe;
    case REG_BAD_LBA_LO:
        return (uint32_t)s->bad_lba;
    case REG_BAD_LBA_HI:
        return s->bad_lba >> 32;
    case REG_BAD_LBA_COUNT:
        return s->bad_lba_count;
    case REG_BAD_LBA_CTRL:
        return s->bad_lba_ctrl;
    case REG_VANISH_MS:
        return 0;               /* while it can be read, it is here */
    case REG_STAT_BAD_CQES:
        return s->stat_bad_cqes;
    case REG_STAT_YIELDS:
        return s->stat_yields;
    case REG_STAT_MEDIUM_ERRORS:
        return s->stat_medium_errors;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: read of undefined register 0x%" HWADDR_PRIx
                      "\n", addr);
        return 0;
    }
}

/*
 * x-fault-regs: VANISH_MS. The device acts as if pulled out of its slot
 * for @ms milliseconds of virtual time: it drops everything it was doing
 * (as DEV_CTRL.RESET, so no DMA and no interrupt follow), its BAR and
 * config space reads return all ones, and writes to them are ignored.
 * Then it comes back as if a new card were plugged in: a PCI reset (config
 * space, BARs and bus mastering cleared), with every register at its
 * power-on value. 0 or more than EDU_SG_MAX_VANISH_MS is refused.
 */
static void edu_sg_vanish(EduSgState *s, uint32_t ms)
{
    if (!ms || ms > EDU_SG_MAX_VANISH_MS) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "edu-sg: VANISH_MS %u refused: 1..%u\n", ms,
                      EDU_SG_MAX_VANISH_MS);
        return;
    }
    trace_edu_sg_vanish(ms);
    edu_sg_reset_state(s);
    s->vanished = true;
    timer_mod(s->vanish_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              (int64_t)ms * SCALE_MS);
}

static void edu_sg_vanish_end(void *opaque)
{
    EduSgState *s = opaque;

    trace_edu_sg_vanish_end();
    s->vanished = false;
    pci_device_reset(PCI_DEVICE(s));
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
    case REG_BAD_CQE:
        if ((val & BAD_CQE_KIND_MASK) > BAD_CQE_ROTATE ||
            (val & 0xfff0)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "edu-sg: BAD_CQE 0x%x refused\n", val);
            return;
        }
        s->bad_cqe = val;
        s->bad_cqe_count = 0;
        s->bad_cqe_armed = false;
        s->bad_cqe_rotate = 0;
        return;
    case REG_BAD_LBA_LO:
        s->bad_lba = deposit64(s->bad_lba, 0, 32, val);
        return;
    case REG_BAD_LBA_HI:
        s->bad_lba = deposit64(s->bad_lba, 32, 32, val);
        return;
    case REG_BAD_LBA_COUNT:
        s->bad_lba_count = val;
        return;
    case REG_BAD_LBA_CTRL:
        s->bad_lba_ctrl = val & (BAD_LBA_READ | BAD_LBA_WRITE);
        return;
    case REG_VANISH_MS:
        edu_sg_vanish(s, val);
        return;
    }
    ns = deposit64(s->latency_ns, addr == REG_LATENCY_NS_HI ? 32 : 0, 32,
                   val);
    if (ns > EDU_SG_MAX_LATENCY_NS) {
        qemu_log_mask(LOG_GUEST_ERROR, "edu-sg: latency of %" PRIu64
                      " ns refused: at most 60 s\n", ns);
        return;
    }
    s->latency_ns = ns;
}

static void edu_sg_mmio_write(void *opaque, hwaddr addr, uint64_t val64,
                              unsigned size)
{
    EduSgState *s = opaque;
    uint32_t val = val64;

    if (s->vanished) {
        return;
    }

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
    case REG_BAD_CQE:
    case REG_BAD_LBA_LO:
    case REG_BAD_LBA_HI:
    case REG_BAD_LBA_COUNT:
    case REG_BAD_LBA_CTRL:
    case REG_VANISH_MS:
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
    case REG_INT_COALESCE:
        edu_sg_write_int_coalesce(s, val);
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

/* While the device is gone, its config space reads all ones, as no device. */
static uint32_t edu_sg_config_read(PCIDevice *pdev, uint32_t addr, int len)
{
    if (EDU_SG(pdev)->vanished) {
        return len >= 4 ? UINT32_MAX : (1u << (len * 8)) - 1;
    }
    return pci_default_read_config(pdev, addr, len);
}

static void edu_sg_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                                int len)
{
    EduSgState *s = EDU_SG(pdev);

    if (s->vanished) {
        return;
    }
    pci_default_write_config(pdev, addr, val, len);
    /*
     * AF_CTRL.FLR: a Function Level Reset, done when the write ends; the
     * bit reads 0. pci_device_reset() resets the config space (BARs,
     * COMMAND, MSI/MSI-X) and the device as a system reset does.
     */
    if (ranges_overlap(addr, len, s->af_cap + PCI_AF_CTRL, 1) &&
        (pdev->config[s->af_cap + PCI_AF_CTRL] & PCI_AF_CTRL_FLR)) {
        pdev->config[s->af_cap + PCI_AF_CTRL] &= ~PCI_AF_CTRL_FLR;
        trace_edu_sg_flr();
        pci_device_reset(pdev);
        return;
    }
    /* INTx is asserted only while neither MSI nor MSI-X is enabled. */
    edu_sg_update_intx(s);
}

static void edu_sg_free_medium(EduSgState *s)
{
    if (s->medium) {
        munmap(s->medium, s->medium_size);
        s->medium = NULL;
    }
    g_free(s->bounce);
    s->bounce = NULL;
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

/*
 * A file medium is read and written with pread()/pwrite(): a host I/O
 * error, a full disk or a truncated file fails the command with
 * MEDIUM_ERROR instead of raising SIGBUS as a shared mapping would.  An
 * existing file keeps its length (and so its data) unless resize=on; a
 * missing file is an error unless create=on.
 */
static bool edu_sg_open_file(EduSgState *s, Error **errp)
{
    bool created = false;
    off_t len;
    int ret;

    s->fd = qemu_open(s->file, O_RDWR, NULL);
    if (s->fd < 0 && errno == ENOENT && s->create) {
        s->fd = qemu_create(s->file, O_RDWR | O_EXCL, 0644, errp);
        if (s->fd < 0) {
            return false;
        }
        created = true;
    } else if (s->fd < 0) {
        error_setg_errno(errp, errno, "edu-sg: cannot open '%s'%s", s->file,
                         errno == ENOENT ? " (create=on creates it)" : "");
        return false;
    }
    ret = qemu_lock_fd(s->fd, 0, 0, true);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "edu-sg: cannot lock '%s' (in use?)",
                         s->file);
        return false;
    }
    len = lseek(s->fd, 0, SEEK_END);
    if (len < 0) {
        error_setg_errno(errp, errno, "edu-sg: cannot size '%s'", s->file);
        return false;
    }
    if (!s->medium_size) {
        if (created || len == 0) {
            s->medium_size = EDU_SG_DEFAULT_SIZE;
        } else {
            s->medium_size = len;
        }
    }
    if (s->medium_size % EDU_SG_SECTOR) {
        error_setg(errp, "edu-sg: '%s' is %" PRIu64 " bytes, not a multiple "
                   "of 512", s->file, s->medium_size);
        return false;
    }
    if ((uint64_t)len != s->medium_size) {
        if (!created && !s->resize) {
            error_setg(errp, "edu-sg: '%s' is %" PRIu64 " bytes, not size=%"
                       PRIu64 " (resize=on changes its length)", s->file,
                       (uint64_t)len, s->medium_size);
            return false;
        }
        if (ftruncate(s->fd, s->medium_size) < 0) {
            error_setg_errno(errp, errno, "edu-sg: cannot resize '%s'",
                             s->file);
            return false;
        }
    }
    if (s->prealloc) {
        ret = posix_fallocate(s->fd, 0, s->medium_size);
        if (ret) {
            error_setg_errno(errp, ret, "edu-sg: cannot preallocate '%s'",
                             s->file);
            return false;
        }
    }
    s->bounce = g_malloc(EDU_SG_BOUNCE_SIZE);
    return true;
}

static bool edu_sg_open_medium(EduSgState *s, Error **errp)
{
    s->fd = -1;
    if (s->file && *s->file) {
        if (!edu_sg_open_file(s, errp)) {
            edu_sg_free_medium(s);
            return false;
        }
        return true;
    }
    if (s->create || s->resize || s->prealloc) {
        error_setg(errp, "edu-sg: create, resize and prealloc need file");
        return false;
    }
    if (!s->medium_size) {
        s->medium_size = EDU_SG_DEFAULT_SIZE;
    }
    s->medium = mmap(NULL, s->medium_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s->medium == MAP_FAILED) {
        s->medium = NULL;
        error_setg_errno(errp, errno, "edu-sg: cannot allocate medium");
        return false;
    }
    return true;
}

static bool edu_sg_check_props(EduSgState *s, Error **errp)
{
    uint64_t xfer;

    if (s->num_queues < 1 || s->num_queues > EDU_SG_MAX_QUEUES) {
        error_setg(errp, "edu-sg: queues must be 1..%d", EDU_SG_MAX_QUEUES);
        return false;
    }
    if (s->medium_size % EDU_SG_SECTOR || s->medium_size > INT64_MAX / 2) {
        error_setg(errp, "edu-sg: size must be a multiple of 512");
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
    if (s->inline_budget > EDU_SG_BH_BYTES) {
        error_setg(errp, "edu-sg: inline_budget must be 0..%u",
                   (unsigned)EDU_SG_BH_BYTES);
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
    s->bad_cqe = 0;
    s->bad_lba = 0;
    s->bad_lba_count = 0;
    s->bad_lba_ctrl = 0;
}

static void edu_sg_realize(PCIDevice *pdev, Error **errp)
{
    EduSgState *s = EDU_SG(pdev);
    Error *err = NULL;
    unsigned i;
    int ret;

    s->fd = -1;
    QLIST_INIT(&s->syncs);
    if (!edu_sg_check_props(s, errp) || !edu_sg_open_medium(s, errp)) {
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);

    /*
     * Conventional PCI's Advanced Features capability with Function
     * Level Reset: the reset a non-Express function offers, and what the
     * kernel's pci_reset_function() (sysfs "reset") uses here. An MMIO
     * write has taken effect when it returns, so no transaction is ever
     * pending (TP reads 0).
     */
    ret = pci_add_capability(pdev, PCI_CAP_ID_AF, 0, PCI_CAP_AF_SIZEOF, &err);
    if (ret < 0) {
        error_propagate(errp, err);
        goto fail;
    }
    s->af_cap = ret;
    pdev->config[ret + PCI_AF_LENGTH] = PCI_CAP_AF_SIZEOF;
    pdev->config[ret + PCI_AF_CAP] = PCI_AF_CAP_TP | PCI_AF_CAP_FLR;
    pdev->wmask[ret + PCI_AF_CTRL] = PCI_AF_CTRL_FLR;

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

    for (i = 0; i < EDU_SG_MAX_QUEUES; i++) {
        s->q[i].pend = g_new0(EduSgPending, EDU_SG_MAX_QUEUE_ENTRIES);
        s->q[i].elems = g_new(EduSgElem, s->max_elems);
        s->q[i].dev = s;
        s->q[i].qi = i;
        s->q[i].coal_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL,
                                          edu_sg_coal_timer_cb, &s->q[i]);
    }
    s->bh = qemu_bh_new_guarded(edu_sg_process, s,
                                &DEVICE(s)->mem_reentrancy_guard);
    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, edu_sg_timer_cb, s);
    s->vanish_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, edu_sg_vanish_end, s);
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
    EduSgSync *r, *next;
    unsigned i;

    /* Syncs still in the thread pool find the device gone. */
    QLIST_FOREACH_SAFE(r, &s->syncs, next, next) {
        QLIST_REMOVE(r, next);
        r->s = NULL;
    }
    qemu_bh_delete(s->bh);
    timer_free(s->timer);
    timer_free(s->vanish_timer);
    if (msix_present(pdev)) {
        msix_unuse_all_vectors(pdev);
        msix_uninit_exclusive_bar(pdev);
    }
    msi_uninit(pdev);
    for (i = 0; i < EDU_SG_MAX_QUEUES; i++) {
        timer_free(s->q[i].coal_timer);
        g_free(s->q[i].pend);
        g_free(s->q[i].elems);
    }
    edu_sg_free_medium(s);
}

static void edu_sg_qdev_reset(DeviceState *dev)
{
    EduSgState *s = EDU_SG(dev);

    /* A system reset ends an absence; edu_sg_vanish_end() resets too. */
    timer_del(s->vanish_timer);
    s->vanished = false;
    edu_sg_load_knobs(s);
    edu_sg_reset_state(s);
}

static const VMStateDescription vmstate_edu_sg = {
    .name = TYPE_EDU_SG,
    .unmigratable = 1,
};

static EduSgProperty edu_sg_properties[] = {
    DEFINE_PROP_UINT32("queues", EduSgState, num_queues, 2),
    DEFINE_PROP_SIZE("size", EduSgState, medium_size, 0),
    DEFINE_PROP_STRING("file", EduSgState, file),
    DEFINE_PROP_BOOL("create", EduSgState, create, false),
    DEFINE_PROP_BOOL("resize", EduSgState, resize, false),
    DEFINE_PROP_BOOL("prealloc", EduSgState, prealloc, false),
    DEFINE_PROP_UINT8("dma_bits", EduSgState, dma_bits, 64),
    DEFINE_PROP_UINT32("max_elems", EduSgState, max_elems, 256),
    DEFINE_PROP_UINT32("max_elem_len", EduSgState, max_elem_len, 1 * MiB),
    DEFINE_PROP_UINT64("latency_ns", EduSgState, prop_latency_ns, 0),
    DEFINE_PROP_UINT32("fail_every", EduSgState, prop_fail_every, 0),
    DEFINE_PROP_UINT32("drop_every", EduSgState, prop_drop_every, 0),
    DEFINE_PROP_BOOL("x-fault-regs", EduSgState, fault_regs, false),
    DEFINE_PROP_SIZE("inline_budget", EduSgState, inline_budget,
                     EDU_SG_INLINE_DEFAULT),
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
    k->config_read = edu_sg_config_read;
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
        "medium size in bytes, a multiple of 512 (default: the file's, "
        "or 16M)");
    object_class_property_set_description(klass, "file",
        "host file backing the medium (read and written with pread/pwrite)");
    object_class_property_set_description(klass, "create",
        "create the file if it is missing");
    object_class_property_set_description(klass, "resize",
        "set the file's length to size (shrinking loses data)");
    object_class_property_set_description(klass, "prealloc",
        "allocate the file's blocks at start (posix_fallocate)");
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
        "let the guest write the fault registers: FAIL_EVERY, DROP_EVERY, "
        "LATENCY_NS, HALT_AFTER, BAD_CQE, BAD_LBA (tests)");
    object_class_property_set_description(klass, "inline_budget",
        "bytes an SQ doorbell may process at once, in the MMIO write, when "
        "latency_ns is 0 (0 = always in a bottom half; at most 2M)");
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
