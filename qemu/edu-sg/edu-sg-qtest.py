#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side test of the edu-sg QEMU device through QEMU's qtest protocol.

No guest kernel: the test plays the driver, writing PCI config space through
ports 0xcf8/0xcfc, the BAR0 registers through MMIO, and queues, element
tables and buffers into guest RAM, and checks the device against
REGISTERS.md: identification and limits, queue configuration checks, data
round trips, every status code, phase and CQ-full handling, abort and reset,
MSI-X/MSI/INTx delivery, fault injection, latency, file backing, the
inline pass of an SQ doorbell (inline_budget) and its fallbacks to the
bottom half, DMA that comes back to the device, interrupt coalescing
(INT_COALESCE), random fuzz runs (QEMU must survive), and a device-side
throughput figure.

Usage: edu-sg-qtest.py [QEMU_BINARY]   (default: scripts/build-qemu.sh)
Ends with "N passed, N failed"; exit status 1 if anything failed.
"""

import base64
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

SLOT = 4
BAR0 = 0xfe000000
BAR1 = 0xfe010000

# RAM layout (guest physical = bus address, no IOMMU)
SQ = 0x100000
CQ = 0x110000
TABLE = 0x1c0000
BUF = 0x200000
MSIX_TARGET = 0x9000

QBASE = 0x100
LOG = os.path.join(tempfile.gettempdir(), "edu-sg-qtest-%d.log" % os.getpid())
SECTOR = 512

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


class QTest:
    live = []

    def __init__(self, qemu, devopts, mem="256M", wrap=(), extra=()):
        args = list(wrap) + [qemu, "-M", "q35", "-accel", "qtest", "-qtest", "stdio",
                "-qtest-log", "/dev/null", "-display", "none", "-nodefaults", "-m", mem,
                "-d", "guest_errors", "-D", LOG,
                "-device", "edu-sg,addr=%d.0%s" % (SLOT, devopts)] + list(extra)
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)
        QTest.live.append(self)
        self.irqs = []

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        while True:
            r = self.p.stdout.readline()
            if not r:
                raise RuntimeError("qemu died (command %r)" % line)
            if r.startswith("IRQ"):
                self.irqs.append(r.split()[1:])
                continue
            r = r.strip()
            if not r.startswith("OK"):
                raise RuntimeError("qtest %r -> %r" % (line, r))
            return r[3:]

    def close(self):
        """Stop QEMU with SIGTERM; 0 means it was alive and exited cleanly."""
        if self.p.poll() is not None:
            return "died with %s" % self.p.returncode
        self.p.terminate()
        try:
            return self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return "hung"

    def alive(self):
        return self.p.poll() is None

    def outl(self, port, v):
        self.cmd("outl 0x%x 0x%x" % (port, v))

    def inl(self, port):
        return int(self.cmd("inl 0x%x" % port), 16)

    def writel(self, a, v):
        self.cmd("writel 0x%x 0x%x" % (a, v & 0xffffffff))

    def writeq(self, a, v):
        self.cmd("writeq 0x%x 0x%x" % (a, v & 0xffffffffffffffff))

    def readl(self, a):
        return int(self.cmd("readl 0x%x" % a), 16)

    def readq(self, a):
        return int(self.cmd("readq 0x%x" % a), 16)

    def mwrite(self, a, data):
        self.cmd("b64write 0x%x %d %s" % (a, len(data),
                                           base64.b64encode(data).decode()))

    def mread(self, a, n):
        return base64.b64decode(self.cmd("b64read 0x%x %d" % (a, n)))

    def memset(self, a, n, v=0):
        self.cmd("memset 0x%x %d 0x%x" % (a, n, v))

    def clock_step(self, ns):
        return int(self.cmd("clock_step %d" % ns))

    # PCI config space of our slot
    def cfg_addr(self, off):
        return 0x80000000 | (SLOT << 11) | (off & 0xfc)

    def cfg_readl(self, off):
        self.outl(0xcf8, self.cfg_addr(off))
        return self.inl(0xcfc)

    def cfg_writel(self, off, v):
        self.outl(0xcf8, self.cfg_addr(off))
        self.outl(0xcfc, v)

    def find_cap(self, capid):
        ptr = self.cfg_readl(0x34) & 0xff
        while ptr:
            v = self.cfg_readl(ptr)
            if v & 0xff == capid:
                return ptr
            ptr = (v >> 8) & 0xff
        return None


class Dev:
    def __init__(self, qt):
        self.qt = qt
        self.phase = {}
        self.cq_head = {}
        self.sq_tail = {}
        self.size = {}

    def r(self, off):
        return self.qt.readl(BAR0 + off)

    def w(self, off, v):
        self.qt.writel(BAR0 + off, v)

    def qr(self, q, off):
        return self.r(QBASE + q * 0x40 + off)

    def qw(self, q, off, v):
        self.w(QBASE + q * 0x40 + off, v)

    def sq(self, q):
        return SQ + q * 0x20000

    def cq(self, q):
        return CQ + q * 0x20000 + 0x10000

    def setup_queue(self, q, size, sq=None, cq=None):
        sq = self.sq(q) if sq is None else sq
        cq = self.cq(q) if cq is None else cq
        self.qw(q, 0x14, 0)
        self.qt.writeq(BAR0 + QBASE + q * 0x40 + 0x00, sq)
        self.qt.writeq(BAR0 + QBASE + q * 0x40 + 0x08, cq)
        self.qw(q, 0x10, size)
        if cq < (1 << 40):
            self.qt.memset(cq, size * 16)
        self.qw(q, 0x14, 1)
        self.phase[q] = 1
        self.cq_head[q] = 0
        self.sq_tail[q] = 0
        self.size[q] = size
        self.sqbase = getattr(self, "sqbase", {})
        self.sqbase[q] = sq
        self.cqbase = getattr(self, "cqbase", {})
        self.cqbase[q] = cq
        return self.qr(q, 0x18) & 1

    def put_cmd(self, q, cmd):
        a = self.sqbase[q] + self.sq_tail[q] * 32
        self.qt.mwrite(a, cmd)
        self.sq_tail[q] = (self.sq_tail[q] + 1) % self.size[q]

    def ring(self, q):
        self.qw(q, 0x20, self.sq_tail[q])

    def poll_cqe(self, q, tries=None):
        """Return the next completion (tag, info, sq_head, qid, status):
        look TRIES times, or by default for up to 10 s (a FLUSH or FUA
        write waits for an fdatasync in QEMU's thread pool)."""
        a = self.cqbase[q] + self.cq_head[q] * 16
        end = time.time() + 10
        n = 0
        while (n < tries) if tries is not None else (n < 200 or
                                                     time.time() < end):
            n += 1
            e = self.qt.mread(a, 16)
            tag, info, sqh, qid, status, flags = struct.unpack("<IIHHHH", e)
            if (flags & 1) == self.phase[q]:
                self.cq_head[q] = (self.cq_head[q] + 1) % self.size[q]
                if self.cq_head[q] == 0:
                    self.phase[q] ^= 1
                return (tag, info, sqh, qid, status)
        return None

    def release(self, q):
        self.qw(q, 0x28, self.cq_head[q])


def mkcmd(op, tag, sector, length, nelems, sgl, flags=0, rsvd=0):
    return struct.pack("<BBHIQIIQ", op, flags, nelems, tag, sector, length,
                       rsvd, sgl)


def mkelems(elems):
    return b"".join(struct.pack("<QII", a, l, r) for (a, l, *rest) in elems
                    for r in [rest[0] if rest else 0])


def submit(d, q, op, tag, sector, length, elems, table=TABLE, flags=0,
           nelems=None, rsvd=0):
    if elems:
        d.qt.mwrite(table, mkelems(elems))
    n = len(elems) if nelems is None else nelems
    d.put_cmd(q, mkcmd(op, tag, sector, length, n, table, flags, rsvd))
    d.ring(q)
    c = d.poll_cqe(q)
    d.release(q)
    return c


def start(qemu, opts="", mem="256M", wrap=(), extra=()):
    qt = QTest(qemu, opts, mem, wrap, extra)
    vid = qt.cfg_readl(0)
    check(vid == 0x11e91234, "vendor/device id 0x%08x" % vid)
    qt.cfg_writel(0x10, BAR0)
    if qt.find_cap(0x11) is not None:
        qt.cfg_writel(0x14, BAR1)
    qt.cfg_writel(0x04, 0x0006)         # memory space + bus master
    return qt, Dev(qt)


def test_registers(qemu):
    qt, d = start(qemu)
    check(qt.cfg_readl(0x08) >> 8 == 0x018000, "class code")
    check(d.r(0x000) == 0x45445347, "ID")
    check(d.r(0x004) == 0x00010003, "VERSION")
    check(d.r(0x008) == 0x3, "CAPS 0x%x" % d.r(0x008))
    check(d.r(0x00c) == 2, "NUM_QUEUES")
    check(d.r(0x010) == 16 << 20 and d.r(0x014) == 0, "MEDIUM_SIZE")
    check(d.r(0x018) == 256, "MAX_ELEMS")
    check(d.r(0x01c) == 1 << 20, "MAX_ELEM_LEN")
    check(d.r(0x020) == 256 << 20, "MAX_XFER")
    check(d.r(0x024) == 64, "DMA_BITS")
    check(d.r(0x028) == 4096, "MAX_QUEUE_ENTRIES")
    check(qt.readq(BAR0 + 0x010) == 16 << 20, "64-bit read of MEDIUM_SIZE")
    d.w(0x044, 0xdeadbeef)
    check(d.r(0x044) == 0xdeadbeef, "SCRATCH")
    d.w(0x000, 0x1)
    check(d.r(0x000) == 0x45445347, "ID is read-only")
    check(d.r(0x0f0) == 0, "undefined reads 0")
    check(d.r(0x100 + 2 * 0x40) == 0, "queue 2 absent reads 0")
    d.w(0x100 + 2 * 0x40 + 0x14, 1)     # ignored
    check(d.r(0x054) == 0, "IRQ_MODE INTx")
    d.w(0x050, 0xffffffff)
    check(d.r(0x050) == 0x3, "INT_MASK limited to queues")
    d.w(0x050, 0)

    # queue config validation
    d.qw(0, 0x10, 3)
    d.qw(0, 0x14, 1)
    check(d.qr(0, 0x18) == 0 and d.qr(0, 0x1c) == 1, "BAD_SIZE")
    d.qw(0, 0x10, 8192)
    d.qw(0, 0x14, 1)
    check(d.qr(0, 0x1c) == 1, "size > 4096")
    d.qw(0, 0x10, 1)
    d.qw(0, 0x14, 1)
    check(d.qr(0, 0x1c) == 1, "size 1")
    d.qw(0, 0x10, 16)
    d.qw(0, 0x00, SQ + 32)
    d.qw(0, 0x08, CQ)
    d.qw(0, 0x14, 1)
    check(d.qr(0, 0x1c) == 2, "SQ_ALIGN")
    d.qw(0, 0x00, SQ)
    d.qw(0, 0x08, CQ + 16)
    d.qw(0, 0x14, 1)
    check(d.qr(0, 0x1c) == 3, "CQ_ALIGN")
    qt.writeq(BAR0 + 0x100, 0xffffffffffffffc0)
    d.qw(0, 0x08, CQ)
    d.qw(0, 0x14, 1)
    check(d.qr(0, 0x1c) == 4, "SQ wraps 2^64")
    qt.writeq(BAR0 + 0x100, SQ)
    qt.writeq(BAR0 + 0x108, 0xffffffffffffff80)
    d.qw(0, 0x14, 1)
    check(d.qr(0, 0x1c) == 5, "CQ wraps 2^64")
    check(d.setup_queue(0, 16) == 1, "enable ok")
    check(d.qr(0, 0x1c) == 0, "ERROR cleared on enable")
    check(qt.readq(BAR0 + 0x100) == SQ, "SQ_BASE readback")
    d.qw(0, 0x10, 32)
    check(d.qr(0, 0x10) == 16 and d.qr(0, 0x1c) == 11, "CFG_ENABLED")
    d.qw(0, 0x20, 16)
    check(d.qr(0, 0x1c) == 8 and d.qr(0, 0x20) == 0, "BAD_SQ_TAIL")
    d.qw(0, 0x28, 1)
    check(d.qr(0, 0x1c) == 9, "BAD_CQ_HEAD past tail")
    d.qw(1, 0x20, 1)
    check(d.qr(1, 0x1c) == 10, "DB_DISABLED")
    d.w(0x040, 1)
    check(d.qr(0, 0x18) == 0 and d.qr(0, 0x10) == 0 and
          d.qr(0, 0x00) == 0 and d.r(0x044) == 0, "device reset")
    check(qt.close() == 0, "qemu exit status")


def test_io(qemu):
    qt, d = start(qemu, ",dma_bits=40,max_elems=8,max_elem_len=65536")
    d.setup_queue(0, 8)
    d.setup_queue(1, 8)
    pat = os.urandom(8192)
    qt.mwrite(BUF, pat[:3000])
    qt.mwrite(BUF + 0x10000, pat[3000:])
    c = submit(d, 0, 2, 0x1111, 10, 8192,
               [(BUF, 3000), (BUF + 0x10000, 8192 - 3000)])
    check(c == (0x1111, 0, 1, 0, 0), "write completion %r" % (c,))
    qt.memset(BUF + 0x40000, 8192, 0)
    c = submit(d, 1, 1, 0x2222, 10, 8192,
               [(BUF + 0x40000, 512), (BUF + 0x40200, 7680)])
    check(c == (0x2222, 0, 1, 1, 0), "read completion %r" % (c,))
    check(qt.mread(BUF + 0x40000, 8192) == pat, "read back data")
    # unaligned element addresses
    c = submit(d, 1, 1, 3, 10, 1024, [(BUF + 0x50001, 1000),
                                      (BUF + 0x60003, 24)])
    check(c[4] == 0 and qt.mread(BUF + 0x50001, 1000) == pat[:1000] and
          qt.mread(BUF + 0x60003, 24) == pat[1000:1024], "odd addresses")
    c = submit(d, 0, 3, 4, 0, 0, [], nelems=0, table=0)
    check(c[4] == 0, "flush ok")
    check(d.r(0x060) == 4, "STAT_CMDS")

    bad = [
        ("bad opcode", (9, 1, 0, 512, [(BUF, 512)]), {}, 0x01),
        ("opcode 0", (0, 1, 0, 512, [(BUF, 512)]), {}, 0x01),
        ("unknown flag", (1, 1, 0, 512, [(BUF, 512)]), {"flags": 2}, 0x02),
        ("FUA on read", (1, 1, 0, 512, [(BUF, 512)]), {"flags": 1}, 0x02),
        ("reserved", (1, 1, 0, 512, [(BUF, 512)]), {"rsvd": 1}, 0x02),
        ("flush with length", (3, 1, 0, 512, []), {"nelems": 0}, 0x02),
        ("length 0", (1, 1, 0, 0, [(BUF, 512)]), {}, 0x03),
        ("length > MAX_XFER", (1, 1, 0, 8 * 65536 + 512, [(BUF, 512)]), {},
         0x03),
        ("length 100", (1, 1, 0, 100, [(BUF, 100)]), {}, 0x04),
        ("beyond medium", (1, 1, 32767, 1024, [(BUF, 1024)]), {}, 0x05),
        ("sector huge", (1, 1, 0xffffffffffffffff, 512, [(BUF, 512)]), {},
         0x05),
        ("last sector ok", (1, 1, 32767, 512, [(BUF, 512)]), {}, 0x00),
        ("nelems 0", (1, 1, 0, 512, [(BUF, 512)]), {"nelems": 0}, 0x06),
        ("nelems > max", (1, 1, 0, 512, [(BUF, 512)]), {"nelems": 9}, 0x06),
        ("table misaligned", (1, 1, 0, 512, [(BUF, 512)]),
         {"table": TABLE + 8}, 0x07),
        ("table beyond dma_bits", (1, 1, 0, 512, [(BUF, 512)]),
         {"table": (1 << 40) - 16, "nelems": 2}, 0x10),
        ("elem len 0", (1, 1, 0, 512, [(BUF, 0), (BUF, 512)]), {}, 0x08),
        ("elem len > max", (1, 1, 0, 65536 + 512, [(BUF, 65537),
                                                  (BUF, 511)]), {}, 0x08),
        ("elem reserved", (1, 1, 0, 512, [(BUF, 512, 5)]), {}, 0x02),
        ("sum mismatch", (1, 1, 0, 1024, [(BUF, 512), (BUF, 256)]), {},
         0x09),
        ("sum mismatch high", (1, 1, 0, 1024, [(BUF, 1024), (BUF, 512)]),
         {}, 0x09),
        ("elem beyond dma_bits", (1, 1, 0, 512,
                                  [(BUF, 256), ((1 << 40) - 255, 256)]),
         {}, 0x10),
        ("elem wraps u64", (1, 1, 0, 512,
                            [(0xffffffffffffff00, 512)]), {}, 0x10),
        ("elem ends at limit", (1, 1, 0, 512,
                                [((1 << 40) - 512, 512)]), {}, 0x11),
        ("elem unassigned", (2, 1, 0, 512, [(BUF, 256),
                                            (0x3000000000, 256)]), {}, 0x11),
    ]
    for name, args, kw, want in bad:
        c = submit(d, 0, *args, **kw)
        check(c is not None and c[4] == want,
              "%s: want 0x%x got %r" % (name, want, c))
    # info field
    c = submit(d, 0, 1, 1, 0, 1024, [(BUF, 512), (BUF, 0x7fffffff)])
    check(c[4] == 0x08 and c[1] == 1, "info = element index %r" % (c,))
    c = submit(d, 0, 1, 1, 0, 512, [(BUF, 512)], table=(1 << 40) - 16,
               nelems=2)
    check(c[1] == 0xffffffff, "info = table %r" % (c,))
    check(d.r(0x064) == len(bad) + 1, "STAT_ERRORS %d" % d.r(0x064))

    # a table in unassigned space gives DMA_FAULT
    c = submit(d, 0, 1, 1, 0, 512, [], table=0x3000000000, nelems=1)
    check(c[4] == 0x11 and c[1] == 0xffffffff, "table fault %r" % (c,))

    # phase wrap, CQ full and sq_head on a size-4 queue
    d.setup_queue(1, 4)
    qt.mwrite(TABLE, mkelems([(BUF, 512)]))
    for i in range(3):
        d.put_cmd(1, mkcmd(1, 100 + i, i, 512, 1, TABLE))
    d.ring(1)
    got = [d.poll_cqe(1) for _ in range(3)]
    check([g[0] for g in got] == [100, 101, 102], "3 completions")
    check(d.qr(1, 0x18) & 4, "CQ_FULL set")
    check(d.qr(1, 0x2c) == 3, "CQ_TAIL 3")
    for i in range(3):
        d.put_cmd(1, mkcmd(1, 200 + i, i, 512, 1, TABLE))
    d.ring(1)
    check(d.poll_cqe(1, tries=3) is None, "no completion while CQ full")
    check(d.qr(1, 0x30) == 3, "PENDING 3 while CQ full")
    d.release(1)
    got = [d.poll_cqe(1) for _ in range(3)]
    check(all(g is not None for g in got) and
          [g[0] for g in got] == [200, 201, 202], "completions after release")
    check(d.phase[1] == 0, "phase flipped after wrap")
    check(got[-1][2] == 2, "sq_head in last cqe %r" % (got,))
    d.release(1)
    # 20 more round trips through the small queue
    ok = True
    for i in range(20):
        c = submit(d, 1, 2, 300 + i, i, 512, [(BUF, 512)])
        ok &= c is not None and c[0] == 300 + i and c[4] == 0
    check(ok, "20 round trips on size-4 queue")

    # abort
    d.put_cmd(1, mkcmd(1, 999, 0, 512, 1, TABLE))
    d.qw(1, 0x14, 2)
    check(d.qr(1, 0x18) == 0 and d.qr(1, 0x24) == 0 and
          d.qr(1, 0x10) == 4, "abort resets indices, keeps size")
    check(d.setup_queue(1, 4) == 1, "re-enable after abort")
    check(qt.close() == 0, "qemu exit status")


def test_dma_bits32(qemu):
    qt, d = start(qemu, ",dma_bits=32,size=1M,queues=4", mem="5G")
    check(d.r(0x00c) == 4 and d.r(0x010) == 1 << 20, "queues/size props")
    # queue whose SQ is above 4 GiB
    d.qw(3, 0x10, 8)
    qt.writeq(BAR0 + 0x100 + 3 * 0x40, 0x100000000)
    qt.writeq(BAR0 + 0x108 + 3 * 0x40, CQ)
    d.qw(3, 0x14, 1)
    check(d.qr(3, 0x1c) == 4, "SQ beyond 32-bit DMA")
    d.setup_queue(3, 8)
    # RAM above 4G exists (5G guest) but the device must not reach it
    hi = 0x100000000 + 0x1000
    qt.memset(hi, 512, 0x5a)
    c = submit(d, 3, 2, 1, 0, 512, [(hi, 512)])
    check(c[4] == 0x10, "element above 4G -> DMA_RANGE %r" % (c,))
    c = submit(d, 3, 2, 1, 0, 512, [(0xfffffe00, 512)])
    check(c[4] != 0x10, "element ending at 4G is in range %r" % (c,))
    c = submit(d, 3, 1, 1, 2047, 512, [(BUF, 512)])
    check(c[4] == 0, "last sector of 1M medium")
    c = submit(d, 3, 1, 1, 2048, 512, [(BUF, 512)])
    check(c[4] == 5, "sector 2048 out of range")
    check(qt.close() == 0, "qemu exit status")


def test_msix(qemu):
    qt, d = start(qemu)
    cap = qt.find_cap(0x11)
    check(cap is not None, "MSI-X cap")
    table = qt.cfg_readl(cap + 4)
    check(table == 1, "MSI-X table in BAR1 offset 0 (0x%x)" % table)
    for v in range(2):
        e = BAR1 + v * 16
        qt.writel(e, MSIX_TARGET + v * 4)
        qt.writel(e + 4, 0)
        qt.writel(e + 8, 0x4400 + v)
        qt.writel(e + 12, 0)            # unmasked
    ctl = qt.cfg_readl(cap)
    qt.cfg_writel(cap, ctl | (1 << 31))  # MSI-X enable
    check(d.r(0x054) == 2, "IRQ_MODE MSI-X")
    qt.memset(MSIX_TARGET, 16)
    d.setup_queue(0, 8)
    d.setup_queue(1, 8)
    c = submit(d, 1, 3, 5, 0, 0, [], nelems=0, table=0)
    check(c[4] == 0, "flush on q1")
    m = struct.unpack("<II", qt.mread(MSIX_TARGET, 8))
    check(m == (0, 0x4401), "MSI-X vector 1 fired %r" % (m,))
    check(d.r(0x048) == 0, "INT_STATUS unused in MSI-X mode")
    # masking via INT_MASK, then unmask fires because the CQ is unreleased
    d.w(0x050, 1)
    qt.memset(MSIX_TARGET, 16)
    d.put_cmd(0, mkcmd(3, 6, 0, 0, 0, 0))
    d.ring(0)
    c = d.poll_cqe(0)
    check(c is not None and struct.unpack("<I", qt.mread(MSIX_TARGET, 4))[0]
          == 0, "masked queue does not fire")
    d.w(0x050, 0)
    check(struct.unpack("<I", qt.mread(MSIX_TARGET, 4))[0] == 0x4400,
          "unmask with unreleased CQ fires")
    check(qt.close() == 0, "qemu exit status")


def test_msi_intx(qemu):
    qt, d = start(qemu, ",msix=off")
    check(qt.find_cap(0x11) is None, "no MSI-X cap with msix=off")
    check(d.r(0x008) == 2, "CAPS msi only")
    qt.cmd("irq_intercept_in ioapic")
    d.setup_queue(1, 8)
    c = submit(d, 1, 3, 5, 0, 0, [], nelems=0, table=0)
    check(c[4] == 0 and d.r(0x048) == 2, "INTx: INT_STATUS bit 1")
    raised = [i[1] for i in qt.irqs if i[0] == "raise"]
    check(len(raised) == 1, "INTx raised once: %r" % (qt.irqs,))
    d.w(0x050, 2)
    check(qt.irqs[-1] == ["lower", raised[0]], "INT_MASK lowers INTx")
    d.w(0x050, 0)
    check(qt.irqs[-1] == ["raise", raised[0]], "unmask raises INTx")
    d.w(0x04c, 2)
    check(d.r(0x048) == 0, "INT_ACK")
    check(qt.irqs[-1] == ["lower", raised[0]], "INT_ACK lowers INTx")
    cap = qt.find_cap(0x05)
    check(cap is not None, "MSI cap")
    qt.cfg_writel(cap + 4, MSIX_TARGET)
    qt.cfg_writel(cap + 8, 0)
    qt.cfg_writel(cap + 12, 0x4567)
    ctl = qt.cfg_readl(cap)
    qt.cfg_writel(cap, ctl | (1 << 16))
    check(d.r(0x054) == 1, "IRQ_MODE MSI")
    qt.memset(MSIX_TARGET, 16)
    c = submit(d, 1, 3, 5, 0, 0, [], nelems=0, table=0)
    check(struct.unpack("<I", qt.mread(MSIX_TARGET, 4))[0] == 0x4567,
          "MSI fired")
    check(d.r(0x048) == 2, "MSI: INT_STATUS bit 1")
    check(qt.close() == 0, "qemu exit status")
    qt, d = start(qemu, ",msix=off,msi=off")
    check(qt.find_cap(0x05) is None and d.r(0x008) == 0, "no MSI cap")
    check(qt.close() == 0, "qemu exit status")


def test_faults(qemu):
    qt, d = start(qemu, ",fail_every=3,drop_every=4")
    d.setup_queue(0, 16)
    statuses = []
    for i in range(1, 7):
        c = submit(d, 0, 1, i, 0, 512, [(BUF, 512)])
        statuses.append(None if c is None else (c[0], c[4]))
    # commands 3 and 6 fail; completion #4 (tag 4) is dropped
    check(statuses[:3] == [(1, 0), (2, 0), (3, 0x20)],
          "fail_every %r" % (statuses,))
    check(statuses[3] is None or statuses[3][0] == 5,
          "drop_every %r" % (statuses,))
    check(d.r(0x068) == 1 and d.r(0x06c) >= 1, "STAT_DROPPED/INJECTED")
    check(qt.close() == 0, "qemu exit status")

    qt, d = start(qemu, ",latency_ns=5000000")
    d.setup_queue(0, 16)
    d.put_cmd(0, mkcmd(3, 1, 0, 0, 0, 0))
    d.ring(0)
    check(d.poll_cqe(0, tries=5) is None and d.qr(0, 0x30) == 1,
          "latency: not yet")
    qt.clock_step(6000000)
    check(d.poll_cqe(0) is not None, "latency: posted after clock step")
    check(qt.close() == 0, "qemu exit status")

    # Without x-fault-regs the knob registers stay read-only.
    qt, d = start(qemu)
    for off in (0x030, 0x034, 0x038, 0x03c, 0x058):
        d.w(off, 7)
    check([d.r(o) for o in (0x030, 0x034, 0x038, 0x03c, 0x058)] == [0] * 5,
          "knob registers read-only without x-fault-regs")
    check(qt.close() == 0, "qemu exit status")

    # With it, the same knobs as registers, changed while the device runs.
    qt, d = start(qemu, ",x-fault-regs=on")
    d.setup_queue(0, 16)
    c = submit(d, 0, 1, 1, 0, 512, [(BUF, 512)])
    check(c is not None and c[4] == 0, "healthy before the knobs %r" % (c,))
    d.w(0x030, 1)
    check(d.r(0x030) == 1, "FAIL_EVERY reads back")
    c = submit(d, 0, 1, 2, 0, 512, [(BUF, 512)])
    check(c is not None and c[4] == 0x20, "FAIL_EVERY=1 fails %r" % (c,))
    d.w(0x030, 0)
    d.w(0x034, 1)
    check(d.r(0x034) == 1, "DROP_EVERY reads back")
    c = submit(d, 0, 1, 3, 0, 512, [(BUF, 512)])
    check(c is None and d.r(0x068) == 1, "DROP_EVERY=1 drops %r" % (c,))
    d.w(0x040, 1)
    check(d.r(0x034) == 1 and d.r(0x068) == 0,
          "DEV_CTRL.RESET keeps DROP_EVERY, clears STAT_DROPPED")
    d.w(0x034, 0)
    d.setup_queue(0, 16)
    c = submit(d, 0, 1, 4, 0, 512, [(BUF, 512)])
    check(c is not None and c[4] == 0, "DROP_EVERY=0 posts again %r" % (c,))
    d.w(0x03c, 14)                      # 14 << 32 ns: over 60 s, refused
    check(d.r(0x038) == 0 and d.r(0x03c) == 0, "latency over 60 s refused")
    d.w(0x038, 5000000)
    check(d.r(0x038) == 5000000, "LATENCY_NS_LO reads back")
    d.put_cmd(0, mkcmd(3, 5, 0, 0, 0, 0))
    d.ring(0)
    check(d.poll_cqe(0, tries=5) is None, "written latency: not yet")
    qt.clock_step(6000000)
    check(d.poll_cqe(0) is not None, "written latency: posted after clock step")
    d.w(0x038, 0)

    # HALT_AFTER: three commands in one pass, the third CQ write faults.
    d.w(0x058, 3)
    check(d.r(0x058) == 3, "HALT_AFTER reads back")
    for tag in (10, 11, 12):
        d.put_cmd(0, mkcmd(1, tag, 0, 512, 1, TABLE))
    d.qt.mwrite(TABLE, mkelems([(BUF, 512)]))
    d.ring(0)
    got = [d.poll_cqe(0, tries=20) for _ in range(3)]
    check([c and c[0] for c in got] == [10, 11, None],
          "HALT_AFTER=3: two completions posted %r" % (got,))
    check(d.qr(0, 0x18) & 2 and d.qr(0, 0x1c) == 7,
          "HALT_AFTER=3: queue halted, ERROR CQ_WRITE")
    check(d.r(0x058) == 0, "HALT_AFTER counted down to 0")
    # HALT_AFTER=1 waits for a pass of two: a lone completion posts.
    d.setup_queue(0, 16)
    d.w(0x058, 1)
    c = submit(d, 0, 1, 20, 0, 512, [(BUF, 512)])
    check(c is not None and c[0] == 20 and d.r(0x058) == 1,
          "HALT_AFTER=1: a lone completion posts %r" % (c,))
    for tag in (21, 22):
        d.put_cmd(0, mkcmd(1, tag, 0, 512, 1, TABLE))
    d.ring(0)
    got = [d.poll_cqe(0, tries=20) for _ in range(2)]
    check([c and c[0] for c in got] == [21, None] and d.qr(0, 0x1c) == 7,
          "HALT_AFTER=1: the second write of a pass faults %r" % (got,))
    check(qt.close() == 0, "qemu exit status")


def qemu_fails(qemu, devopts, want, wrap=()):
    """Start QEMU with -device edu-sg,DEVOPTS; it must refuse with WANT."""
    try:
        r = subprocess.run(list(wrap) + [
            qemu, "-M", "q35", "-accel", "qtest", "-S", "-display", "none",
            "-nodefaults", "-device", "edu-sg" + devopts],
            capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        r = subprocess.CompletedProcess([], 0, "", "hung")
    check(r.returncode != 0 and want in r.stderr,
          "%s refused with %r: %r" % (devopts, want, r.stderr.strip()))


def test_file(qemu):
    path = tempfile.mktemp(prefix="edu-sg-", suffix=".img")
    try:
        # A missing file is an error unless create=on.
        qemu_fails(qemu, ",file=%s,size=1M" % path, "create=on")
        check(not os.path.exists(path), "missing file not created")
        qt, d = start(qemu, ",file=%s,size=1M,create=on" % path)
        check(os.path.getsize(path) == 1 << 20, "file created with size")
        check(d.r(0x008) & 4, "CAPS file")
        d.setup_queue(0, 8)
        pat = os.urandom(4096)
        qt.mwrite(BUF, pat)
        c = submit(d, 0, 2, 1, 8, 4096, [(BUF, 4096)], flags=1)
        check(c[4] == 0, "FUA write")
        with open(path, "rb") as f:
            f.seek(8 * 512)
            check(f.read(4096) == pat, "data on file after FUA")
        c = submit(d, 0, 3, 2, 0, 0, [], nelems=0, table=0)
        check(c is not None and c[4] == 0, "FLUSH on a file %r" % (c,))
        check(qt.close() == 0, "qemu exit status")
        # Without size the medium has the file's size.
        qt, d = start(qemu, ",file=%s" % path)
        check(d.r(0x010) == 1 << 20 and d.r(0x014) == 0,
              "size from the file: 0x%x" % d.r(0x010))
        d.setup_queue(0, 8)
        qt.memset(BUF, 4096)
        c = submit(d, 0, 1, 1, 8, 4096, [(BUF, 4096)])
        check(c[4] == 0 and qt.mread(BUF, 4096) == pat, "persists")
        # second QEMU on the same file must refuse to start
        qemu_fails(qemu, ",file=%s" % path, "lock")
        check(qt.close() == 0, "qemu exit status")
        # Another size: refused, the file keeps its length and data.
        qemu_fails(qemu, ",file=%s,size=512K" % path, "resize=on")
        qemu_fails(qemu, ",file=%s,size=2M,create=on" % path, "resize=on")
        check(os.path.getsize(path) == 1 << 20, "file not truncated")
        qt, d = start(qemu, ",file=%s,size=2M,resize=on" % path)
        check(os.path.getsize(path) == 2 << 20 and d.r(0x010) == 2 << 20,
              "resize=on grows the file")
        d.setup_queue(0, 8)
        qt.memset(BUF, 4096)
        c = submit(d, 0, 1, 1, 8, 4096, [(BUF, 4096)])
        check(c[4] == 0 and qt.mread(BUF, 4096) == pat, "data kept by resize")
        check(qt.close() == 0, "qemu exit status")
        qemu_fails(qemu, ",prealloc=on", "need file")
        with open(path, "r+b") as f:
            f.truncate(1000)
        qemu_fails(qemu, ",file=%s" % path, "multiple of 512")
    finally:
        os.unlink(path)


def test_file_errors(qemu):
    """A file truncated under the device: MEDIUM_ERROR, not SIGBUS."""
    path = tempfile.mktemp(prefix="edu-sg-", suffix=".img")
    try:
        qt, d = start(qemu, ",file=%s,size=1M,create=on" % path)
        d.setup_queue(0, 8)
        pat = os.urandom(8192)
        qt.mwrite(BUF, pat)
        c = submit(d, 0, 2, 1, 0, 8192, [(BUF, 8192)])
        check(c is not None and c[4] == 0, "write before truncation")
        with open(path, "r+b") as f:
            f.truncate(4096)
        c = submit(d, 0, 1, 2, 0, 8192, [(BUF + 0x10000, 8192)])
        check(qt.alive() and c is not None and c[4] == 0x21 and c[1] == 8,
              "read past the truncated end: MEDIUM_ERROR at sector 8 %r"
              % (c,))
        check(qt.alive() and d.r(0x078) == 1, "STAT_MEDIUM_ERRORS 1")
        c = submit(d, 0, 1, 3, 0, 4096, [(BUF + 0x20000, 4096)])
        check(c is not None and c[4] == 0 and
              qt.mread(BUF + 0x20000, 4096) == pat[:4096],
              "the queue keeps working after a medium error")
        c = submit(d, 0, 2, 4, 1024, 4096, [(BUF, 4096)])
        check(c is not None and c[4] == 0, "write past the end: file grows")
        check(qt.close() == 0, "qemu exit status")
    finally:
        os.unlink(path)


def test_full_disk(qemu):
    """A full host disk: MEDIUM_ERROR, not SIGBUS (root: a tmpfs of 512 KiB
    in a mount namespace of QEMU's own)."""
    if os.geteuid() != 0:
        print("SKIP test_full_disk: needs root for a tmpfs mount")
        return
    d0 = tempfile.mkdtemp(prefix="edu-sg-")
    wrap = ["unshare", "-m", "sh", "-c",
            'mount -t tmpfs -o size=512k none "$0" && exec "$@"', d0]
    path = os.path.join(d0, "m.img")
    try:
        qemu_fails(qemu, ",file=%s,size=2M,create=on,prealloc=on" % path,
                   "preallocate", wrap=wrap)
        qt, d = start(qemu, ",file=%s,size=2M,create=on" % path, wrap=wrap)
        d.setup_queue(0, 8)
        qt.mwrite(BUF, os.urandom(1 << 20))
        c = submit(d, 0, 2, 1, 0, 1 << 20, [(BUF, 1 << 20)])
        check(qt.alive() and c is not None and c[4] == 0x21 and
              0 < c[1] <= 1024 and c[1] % 512 == 0,
              "1 MiB write to a 512 KiB disk: MEDIUM_ERROR %r" % (c,))
        c = submit(d, 0, 3, 2, 0, 0, [], nelems=0, table=0)
        check(c is not None and c[4] == 0, "FLUSH after a full disk %r" % (c,))
        c = submit(d, 0, 1, 3, 0, 4096, [(BUF, 4096)])
        check(c is not None and c[4] == 0, "the queue keeps working %r"
              % (c,))
        check(qt.close() == 0, "qemu exit status")
    finally:
        os.rmdir(d0)


def test_budget(qemu):
    """A pass moves at most 2 MiB and 1024 elements per queue."""
    qt, d = start(qemu, ",size=256M,max_elems=16384", mem="512M")
    d.setup_queue(0, 8)
    d.setup_queue(1, 8)
    c = submit(d, 0, 1, 1, 0, 64 << 20,
               [(BUF, 1 << 20)] * 64)
    check(c is not None and c[4] == 0, "64 MiB read %r" % (c,))
    y = d.r(0x070)
    check(y >= 31, "64 MiB in passes of 2 MiB: %d yields" % y)
    pat = os.urandom(16384)
    qt.mwrite(BUF, pat)
    c = submit(d, 0, 2, 2, 0, 16384, [(BUF + i, 1) for i in range(16384)],
               table=0x4000000)
    check(c is not None and c[4] == 0, "16384 one-byte elements %r" % (c,))
    check(d.r(0x070) - y >= 15, "16384 elements in passes of 1024: %d yields"
          % (d.r(0x070) - y))
    qt.memset(BUF + 0x100000, 16384)
    c = submit(d, 0, 1, 3, 0, 16384, [(BUF + 0x100000, 16384)])
    check(c is not None and qt.mread(BUF + 0x100000, 16384) == pat,
          "data of the one-byte elements")
    # Queue 1 is served while queue 0 moves 256 MiB.
    qt.mwrite(TABLE + 0x100, mkelems([(BUF, 1 << 20)] * 256))
    tail0 = d.qr(0, 0x2c)
    d.put_cmd(0, mkcmd(1, 4, 0, 256 << 20, 256, TABLE + 0x100))
    d.ring(0)
    c = submit(d, 1, 1, 5, 0, 512, [(BUF + 0x200000, 512)])
    tail0 = d.qr(0, 0x2c) - tail0
    check(c is not None and c[4] == 0 and tail0 == 0,
          "queue 1 completes during queue 0's 256 MiB (q0 CQ_TAIL %d)" % tail0)
    c = d.poll_cqe(0)
    check(c is not None and c[4] == 0, "256 MiB read completes %r" % (c,))
    check(qt.close() == 0, "qemu exit status")


def test_budget_table(qemu):
    """Fetching and checking an element table counts against the pass's
    element budget: commands whose 1024-element tables fail the check
    (the last element's length is 0) are refused a few per pass, not all
    in one."""
    qt, d = start(qemu, ",max_elems=1024")
    d.setup_queue(0, 64)
    elems = [(BUF, 512)] * 1023 + [(BUF, 0)]
    qt.mwrite(TABLE, mkelems(elems))
    y0 = d.r(0x070)
    for tag in range(32):
        d.put_cmd(0, mkcmd(1, tag, 0, 1023 * 512, 1024, TABLE))
    d.ring(0)
    bad = 0
    for tag in range(32):
        c = d.poll_cqe(0)
        if c is None or c[0] != tag or c[4] != 0x08:
            bad += 1
    check(bad == 0, "32 commands refused with BAD_ELEM_LEN (%d not)" % bad)
    y = d.r(0x070) - y0
    check(y >= 16, "32 tables of 1024 elements over several passes: "
          "%d yields" % y)
    c = submit(d, 0, 1, 99, 0, 4096, [(BUF, 4096)])
    check(c is not None and c[4] == 0, "the queue keeps working %r" % (c,))
    check(qt.close() == 0, "qemu exit status")


def raw_cqe(d, q, slot):
    return struct.unpack("<IIHHHH", d.qt.mread(d.cqbase[q] + slot * 16, 16))


def test_bad_cqe(qemu):
    qt, d = start(qemu)
    d.w(0x05c, 1 | 1 << 16)
    check(d.r(0x05c) == 0, "BAD_CQE read-only without x-fault-regs")
    check(qt.close() == 0, "qemu exit status")

    qt, d = start(qemu, ",x-fault-regs=on")
    d.setup_queue(0, 16)
    qt.mwrite(TABLE, mkelems([(BUF, 512)]))

    def one(tag, n):
        d.put_cmd(0, mkcmd(1, tag, 0, 512, 1, TABLE))
        d.ring(0)
        got = [d.poll_cqe(0, tries=50) for _ in range(n)]
        d.release(0)
        return got

    d.w(0x05c, 1 | 1 << 16)
    check(d.r(0x05c) == 0x10001, "BAD_CQE reads back")
    got = one(0x11, 2)
    check(got == [(0x80000011, 0, 1, 0, 0), (0x11, 0, 1, 0, 0)],
          "WRONG_TAG: bit 31 flipped, then the real one %r" % (got,))
    d.w(0x05c, 2 | 1 << 16)
    got = one(0x12, 2)
    check(got == [(0x12, 0, 2, 1, 0), (0x12, 0, 2, 0, 0)],
          "WRONG_QID: qid ^ 1, then the real one %r" % (got,))
    d.w(0x05c, 3 | 1 << 16)
    got = one(0x13, 2)
    check(got == [(0x13, 0, 3, 0, 0)] * 2,
          "DUPLICATE: the real one twice %r" % (got,))
    check(d.r(0x074) == 3 and d.qr(0, 0x2c) == 6,
          "STAT_BAD_CQES 3, CQ_TAIL 6")
    # STALE_PHASE: the real entry with last lap's phase, signalled; the
    # real completion 1 ms later in the same slot.
    d.w(0x05c, 4 | 1 << 16)
    d.w(0x04c, 0xffffffff)
    d.put_cmd(0, mkcmd(1, 0x14, 0, 512, 1, TABLE))
    d.ring(0)
    check(d.poll_cqe(0, tries=5) is None, "STALE_PHASE: nothing new")
    e = raw_cqe(d, 0, 6)
    check(e[:5] == (0x14, 0, 4, 0, 0) and e[5] == 0,
          "STALE_PHASE: slot holds the stale-phase entry %r" % (e,))
    check(d.qr(0, 0x2c) == 6 and d.qr(0, 0x30) == 1 and d.r(0x048) & 1,
          "STALE_PHASE: CQ_TAIL kept, 1 pending, interrupt signalled")
    d.w(0x05c, 0)
    qt.clock_step(2000000)
    c = d.poll_cqe(0)
    check(c == (0x14, 0, 4, 0, 0) and d.qr(0, 0x2c) == 7,
          "STALE_PHASE: the real completion follows %r" % (c,))
    d.release(0)
    check(d.r(0x074) == 4, "STAT_BAD_CQES 4")
    # every 3rd completion
    d.w(0x05c, 3 | 3 << 16)
    got = [len([g for g in one(0x20 + i, 2) if g is not None])
           for i in range(6)]
    check(got == [1, 1, 2, 1, 1, 2], "BAD_CQE every 3rd: %r" % (got,))
    # ROTATE over the four kinds, data intact
    pat = os.urandom(4096)
    qt.mwrite(BUF + 0x10000, pat)
    d.w(0x05c, 5 | 1 << 16)
    kinds = []
    for i in range(4):
        qt.mwrite(TABLE, mkelems([(BUF + 0x10000 + i * 1024, 1024)]))
        d.put_cmd(0, mkcmd(2, 0x30 + i, 100 + 2 * i, 1024, 1, TABLE))
        d.ring(0)
        got = [d.poll_cqe(0, tries=20) for _ in range(2)]
        if got[0] is None:
            qt.clock_step(2000000)
            got = [d.poll_cqe(0)]
        kinds.append(got)
        d.release(0)
    check(kinds[0][0][0] == 0x80000030 and kinds[1][0][3] == 1 and
          kinds[2][0] == kinds[2][1] and len(kinds[3]) == 1 and
          kinds[3][0][0] == 0x33,
          "ROTATE: wrong tag, wrong qid, duplicate, stale %r" % (kinds,))
    d.w(0x05c, 0)
    qt.memset(BUF + 0x20000, 4096)
    qt.mwrite(TABLE, mkelems([(BUF + 0x20000, 4096)]))
    d.put_cmd(0, mkcmd(1, 0x40, 100, 4096, 1, TABLE))
    d.ring(0)
    c = d.poll_cqe(0)
    d.release(0)
    check(c is not None and c[4] == 0 and
          qt.mread(BUF + 0x20000, 4096) == pat, "data intact after ROTATE")
    d.w(0x05c, 6)
    d.w(0x05c, 1 | 0x10)
    check(d.r(0x05c) == 0, "BAD_CQE: unknown kind and bits 15:4 refused")
    # A queue of 2 has never room for two entries: nothing injected.
    d.setup_queue(1, 2)
    d.w(0x05c, 1 | 1 << 16)
    n0 = d.r(0x074)
    c = submit(d, 1, 1, 0x50, 0, 512, [(BUF, 512)])
    check(c is not None and c[0] == 0x50 and d.r(0x074) == n0,
          "no room for an extra entry: none injected %r" % (c,))
    d.w(0x040, 1)
    check(d.r(0x05c) == 0x10001 and d.r(0x074) == 0,
          "DEV_CTRL.RESET keeps BAD_CQE, clears STAT_BAD_CQES")
    check(qt.close() == 0, "qemu exit status")


def test_halt_stale(qemu):
    """HALT_AFTER counts a completion once, though STALE_PHASE writes its
    entry twice (first with last lap's phase, then the real one)."""
    qt, d = start(qemu, ",x-fault-regs=on")
    d.setup_queue(0, 16)
    qt.mwrite(TABLE, mkelems([(BUF, 512)]))
    d.w(0x058, 3)
    d.w(0x05c, 4 | 1 << 16)
    d.put_cmd(0, mkcmd(1, 0x60, 0, 512, 1, TABLE))
    d.ring(0)
    check(d.poll_cqe(0, tries=5) is None and d.r(0x074) == 1,
          "HALT_AFTER + STALE_PHASE: the stale entry first")
    d.w(0x05c, 0)
    qt.clock_step(2000000)
    c = d.poll_cqe(0)
    check(c is not None and c[0] == 0x60 and c[4] == 0,
          "HALT_AFTER + STALE_PHASE: the real completion %r" % (c,))
    d.release(0)
    check(d.r(0x058) == 2,
          "HALT_AFTER=3 counted one completion, not two: %d" % d.r(0x058))
    check(qt.close() == 0, "qemu exit status")


def test_bad_lba(qemu):
    qt, d = start(qemu)
    for off in (0x080, 0x084, 0x088, 0x08c):
        d.w(off, 7)
    check([d.r(o) for o in (0x080, 0x084, 0x088, 0x08c)] == [0] * 4,
          "BAD_LBA read-only without x-fault-regs")
    check(qt.close() == 0, "qemu exit status")

    qt, d = start(qemu, ",x-fault-regs=on")
    d.setup_queue(0, 16)
    pat = os.urandom(8192)
    qt.mwrite(BUF, pat)
    qt.writeq(BAR0 + 0x080, 100)
    d.w(0x088, 8)
    d.w(0x08c, 1)                       # reads fail
    check(qt.readq(BAR0 + 0x080) == 100 and d.r(0x088) == 8 and
          d.r(0x08c) == 1, "BAD_LBA registers read back")
    c = submit(d, 0, 2, 1, 96, 8192, [(BUF, 8192)])
    check(c is not None and c[4] == 0, "write over a read-bad range ok")
    c = submit(d, 0, 1, 2, 96, 8192, [(BUF + 0x10000, 8192)])
    check(c is not None and c[4] == 0x21 and c[1] == 4,
          "read over sectors 100..107: MEDIUM_ERROR at +4 %r" % (c,))
    c = submit(d, 0, 1, 3, 107, 512, [(BUF + 0x10000, 512)])
    check(c is not None and c[4] == 0x21 and c[1] == 0,
          "read of sector 107: MEDIUM_ERROR at +0 %r" % (c,))
    c = submit(d, 0, 1, 4, 108, 2048, [(BUF + 0x10000, 2048)])
    check(c is not None and c[4] == 0 and
          qt.mread(BUF + 0x10000, 2048) == pat[6144:],
          "read after the range ok %r" % (c,))
    d.w(0x08c, 2)                       # writes fail
    qt.mwrite(BUF + 0x20000, os.urandom(1024))
    c = submit(d, 0, 2, 5, 99, 1024, [(BUF + 0x20000, 1024)])
    check(c is not None and c[4] == 0x21 and c[1] == 1,
          "write over sector 100: MEDIUM_ERROR at +1 %r" % (c,))
    d.w(0x088, 0)                       # off
    qt.memset(BUF + 0x10000, 8192)
    c = submit(d, 0, 1, 6, 96, 8192, [(BUF + 0x10000, 8192)])
    check(c is not None and c[4] == 0 and
          qt.mread(BUF + 0x10000, 8192) == pat,
          "BAD_LBA_COUNT 0: off, and the failed write moved nothing")
    check(d.r(0x078) == 3, "STAT_MEDIUM_ERRORS %d" % d.r(0x078))
    # A range that would wrap 2^64 ends at 2^64 - 1.
    qt.writeq(BAR0 + 0x080, 0xffffffffffffff00)
    d.w(0x088, 0xffffffff)
    d.w(0x08c, 3)
    c = submit(d, 0, 1, 7, 32767, 512, [(BUF, 512)])
    check(c is not None and c[4] == 0, "wrapping range: last sector ok")
    check(qt.close() == 0, "qemu exit status")


def test_trace(qemu):
    """The trace events are named in trace-events and reach the log."""
    qt, d = start(qemu, "", extra=("-trace", "edu_sg_*"))
    d.setup_queue(0, 8)
    c = submit(d, 0, 1, 0x77, 0, 512, [(BUF, 512)])
    check(c is not None and c[4] == 0, "read with tracing on")
    check(qt.close() == 0, "qemu exit status")
    with open(LOG) as f:
        log = f.read()
    check("edu_sg_fetch q0 opcode 0x1 tag 0x77 sector 0 length 512" in log and
          "edu_sg_complete q0 tag 0x77 status 0x0" in log,
          "trace events in the log: %r" % log[-300:])


def test_fuzz(qemu, rounds=3000, seed=1, opts="", regs=()):
    rnd = random.Random(seed)
    qt, d = start(qemu, ",queues=3,max_elems=16,dma_bits=36,size=1M" + opts)
    regs = list(regs) + [0x40, 0x44, 0x48, 0x4c, 0x50, 0x94] + \
        [QBASE + q * 0x40 + o for q in range(4) for o in range(0, 0x40, 4)]
    for q in range(3):
        d.setup_queue(q, 8)
    for i in range(rounds):
        k = rnd.random()
        if k < 0.1:
            off = rnd.choice(regs)
            if off == 0x40 and rnd.random() < 0.8:
                continue
            d.w(off, rnd.choice([0, 1, 2, 3, 7, 8, 0xffffffff,
                                 rnd.getrandbits(32)]))
        elif k < 0.15:
            qt.readl(BAR0 + rnd.randrange(0, 0x1000, 4))
        elif k < 0.2:
            q = rnd.randrange(3)
            d.setup_queue(q, rnd.choice([2, 4, 8]))
        else:
            q = rnd.randrange(3)
            if not (d.qr(q, 0x18) & 1):
                d.setup_queue(q, 8)
            n = rnd.randrange(0, 20)
            el = [(rnd.choice([BUF + rnd.randrange(0, 1 << 20),
                               rnd.getrandbits(64), rnd.getrandbits(36),
                               0x3000000000]),
                   rnd.choice([512, 4096, 0, rnd.getrandbits(32),
                               rnd.randrange(1, 9000)]),
                   rnd.choice([0, 0, 0, 1])) for _ in range(n)]
            tot = sum(e[1] for e in el) & 0xffffffff
            qt.mwrite(TABLE, mkelems(el) if el else b"\0" * 16)
            cmd = mkcmd(rnd.choice([1, 2, 3, 1, 2, rnd.getrandbits(8)]),
                        i, rnd.choice([0, rnd.randrange(2048),
                                       rnd.getrandbits(64)]),
                        rnd.choice([tot, tot, rnd.getrandbits(32)]),
                        rnd.choice([n, n, rnd.getrandbits(16)]),
                        rnd.choice([TABLE, TABLE, rnd.getrandbits(36)]),
                        rnd.choice([0, 0, 1, rnd.getrandbits(8)]))
            if rnd.random() < 0.05:
                cmd = os.urandom(32)
            d.put_cmd(q, cmd)
            d.ring(q)
            if d.poll_cqe(q, tries=3) is not None:
                d.release(q)
        if not qt.alive():
            break
    check(qt.alive(), "alive after fuzz")
    check(d.r(0) == 0x45445347, "responsive after fuzz")
    check(qt.close() == 0, "qemu exit status after fuzz")


def test_fuzz_faults(qemu):
    """The fuzz run again with the fault registers writable."""
    test_fuzz(qemu, rounds=2000, seed=2, opts=",x-fault-regs=on",
              regs=[0x5c] * 4 + [0x80, 0x84, 0x88, 0x8c] * 2)


def test_speed(qemu):
    qt, d = start(qemu)
    n = 4095
    d.setup_queue(0, 4096, sq=0x400000, cq=0x500000)
    # one table per command, all pointing at a 4 KiB buffer
    tables = b"".join(mkelems([(BUF + (i % 64) * 4096, 4096)])
                      for i in range(n))
    qt.mwrite(0x600000, tables)
    cmds = b"".join(mkcmd(1 + (i & 1), i, (i * 8) % 32768, 4096, 1,
                          0x600000 + i * 16) for i in range(n))
    qt.mwrite(d.sqbase[0], cmds)
    t0 = time.time()
    d.qw(0, 0x20, n)
    while d.qr(0, 0x2c) != n:
        pass
    dt = time.time() - t0
    print("speed: %d 4 KiB commands in %.3f s: %.0f commands/s" %
          (n, dt, n / dt))
    check(d.r(0x064) == 0 and d.r(0x060) == n,
          "no errors in speed run: %d errors" % d.r(0x064))
    st = qt.mread(0x500000, n * 16)
    check(all(struct.unpack_from("<IIHHHH", st, i * 16)[0::4] == (i, 0)
              for i in range(n)), "speed run completions in order")
    check(qt.close() == 0, "qemu exit status")


def test_vanish(qemu):
    """VANISH_MS: for that long the device reads all ones (BAR and config
    space), ignores writes, does no DMA and drops what it was doing; then
    it comes back PCI-reset, as a new card would."""
    qt, d = start(qemu)
    d.w(0x090, 1000)
    check(d.r(0x000) == 0x45445347, "VANISH_MS needs x-fault-regs")
    check(qt.close() == 0, "qemu exit status")

    qt, d = start(qemu, ",x-fault-regs=on")
    d.setup_queue(0, 8)
    pat = os.urandom(4096)
    qt.mwrite(BUF, pat)
    c = submit(d, 0, 2, 1, 0, 4096, [(BUF, 4096)])
    check(c is not None and c[4] == 0, "write before the absence")
    for bad in (0, 600001):
        d.w(0x090, bad)
        check(d.r(0x000) == 0x45445347, "VANISH_MS %d refused" % bad)
    check(d.r(0x090) == 0, "VANISH_MS reads 0 while present")
    d.w(0x090, 50)                      # 50 ms
    check(d.r(0x000) == 0xffffffff and d.r(0x048) == 0xffffffff and
          d.qr(0, 0x18) == 0xffffffff, "registers read all ones")
    check(qt.cfg_readl(0) == 0xffffffff and qt.cfg_readl(0x10) == 0xffffffff,
          "config space reads all ones")
    d.w(0x044, 0x1234)                  # SCRATCH: ignored
    qt.cfg_writel(0x04, 0)              # ignored too
    # A command posted meanwhile is never fetched: nothing is completed.
    qt.memset(BUF + 0x10000, 4096, 0x5a)
    d.put_cmd(0, mkcmd(1, 2, 0, 4096, 1, TABLE))
    qt.mwrite(TABLE, mkelems([(BUF + 0x10000, 4096)]))
    d.ring(0)
    check(d.poll_cqe(0, tries=20) is None, "no completion while gone")
    check(qt.mread(BUF + 0x10000, 4096) == b"\x5a" * 4096,
          "no DMA while gone")
    qt.clock_step(60 * 1000 * 1000)
    check(qt.cfg_readl(0) == 0x11e91234, "back after 50 ms")
    check(qt.cfg_readl(0x10) & ~0xf == 0 and
          qt.cfg_readl(0x04) & 0x6 == 0,
          "back PCI-reset: BAR0 and bus mastering cleared")
    qt.cfg_writel(0x10, BAR0)
    qt.cfg_writel(0x04, 0x0006)
    check(d.r(0x000) == 0x45445347 and d.r(0x044) == 0 and
          d.qr(0, 0x18) == 0, "registers at power-on values, queue off")
    check(d.r(0x090) == 0, "VANISH_MS reads 0 again")
    d.setup_queue(0, 8)
    c = submit(d, 0, 1, 3, 0, 4096, [(BUF + 0x10000, 4096)])
    check(c is not None and c[4] == 0 and
          qt.mread(BUF + 0x10000, 4096) == pat,
          "the medium kept its data %r" % (c,))
    # A system reset during an absence ends it.
    d.w(0x090, 600000)
    check(qt.cfg_readl(0) == 0xffffffff, "gone again")
    qt.cmd("outb 0xcf9 0x6")            # q35 reset control: system reset
    check(qt.cfg_readl(0) == 0x11e91234, "system reset brings it back")
    check(qt.close() == 0, "qemu exit status")

def test_flr(qemu):
    """Function Level Reset through the Advanced Features capability (what
    sysfs "reset" uses on conventional PCI): the config space and every
    register are reset, queues are off, the medium keeps its data."""
    qt, d = start(qemu)
    cap = qt.find_cap(0x13)
    check(cap is not None, "an Advanced Features capability")
    if cap is None:
        qt.close()
        return
    v = qt.cfg_readl(cap)
    check((v >> 16) & 0xff == 6 and (v >> 24) & 0x3 == 0x3,
          "AF length 6, TP and FLR capable (%#x)" % v)
    check(qt.cfg_readl(cap + 4) & 0xffff == 0, "AF_CTRL and AF_STATUS read 0")
    d.setup_queue(0, 8)
    pat = os.urandom(4096)
    qt.mwrite(BUF, pat)
    c = submit(d, 0, 2, 1, 0, 4096, [(BUF, 4096)])
    check(c is not None and c[4] == 0, "write before the reset")
    d.w(0x044, 0x1234)                  # SCRATCH
    check(d.qr(0, 0x18) != 0, "queue 0 on before the reset")
    qt.cfg_writel(cap + 4, 1)           # AF_CTRL.FLR
    check(qt.cfg_readl(cap + 4) & 0xffff == 0, "FLR reads 0 after the reset")
    check(qt.cfg_readl(0) == 0x11e91234, "the device answers after the reset")
    check(qt.cfg_readl(0x10) & ~0xf == 0 and qt.cfg_readl(0x04) & 0x6 == 0,
          "BAR0 and bus mastering cleared")
    qt.cfg_writel(0x10, BAR0)
    qt.cfg_writel(0x04, 0x0006)
    check(d.r(0x000) == 0x45445347 and d.r(0x044) == 0 and
          d.qr(0, 0x18) == 0, "registers at power-on values, queue off")
    d.setup_queue(0, 8)
    c = submit(d, 0, 1, 3, 0, 4096, [(BUF + 0x10000, 4096)])
    check(c is not None and c[4] == 0 and
          qt.mread(BUF + 0x10000, 4096) == pat,
          "the medium kept its data %r" % (c,))
    check(qt.close() == 0, "qemu exit status")

def test_discard(qemu):
    """DISCARD (0x04) and WRITE_ZEROES (0x05), version 1.2: no data, no
    element table; the range reads back as zeroes, nothing around it
    changes; bad fields are refused. On a file medium DISCARD (and
    WRITE_ZEROES with DEALLOC) punch a hole: the file keeps its size and
    gives blocks back."""
    qt, d = start(qemu)
    d.setup_queue(0, 8)
    pat = os.urandom(16384)
    qt.mwrite(BUF, pat)
    c = submit(d, 0, 2, 1, 0, 16384, [(BUF, 16384)])
    check(c is not None and c[4] == 0, "write 16 KiB")

    def readback(n=16384):
        qt.memset(BUF + 0x10000, n, 0x5a)
        c = submit(d, 0, 1, 9, 0, n, [(BUF + 0x10000, n)])
        return c[4] if c else None, qt.mread(BUF + 0x10000, n)

    c = submit(d, 0, 4, 2, 8, 4096, [], nelems=0, table=0)
    check(c is not None and c[4] == 0 and c[0] == 2, "DISCARD %r" % (c,))
    st, got = readback()
    check(st == 0 and got == pat[:4096] + bytes(4096) + pat[8192:],
          "DISCARD: the range reads zeroes, the rest unchanged")
    c = submit(d, 0, 5, 3, 17, 1024, [], nelems=0, table=0)
    check(c is not None and c[4] == 0, "WRITE_ZEROES %r" % (c,))
    c = submit(d, 0, 5, 4, 28, 2048, [], nelems=0, table=0, flags=2)
    check(c is not None and c[4] == 0, "WRITE_ZEROES with DEALLOC %r" % (c,))
    st, got = readback()
    want = (pat[:4096] + bytes(4096) + pat[8192:8704] + bytes(1024) +
            pat[9728:14336] + bytes(2048))
    check(st == 0 and got == want, "WRITE_ZEROES: both ranges read zeroes")
    for (op, flags, nel, tbl, rsvd, what) in ((4, 2, 0, 0, 0, "DISCARD+DEALLOC"),
                                              (5, 1, 0, 0, 0, "WRITE_ZEROES+FUA"),
                                              (4, 0, 1, 0, 0, "nelems"),
                                              (5, 0, 0, TABLE, 0, "sgl_addr"),
                                              (4, 0, 0, 0, 1, "reserved")):
        c = submit(d, 0, op, 5, 0, 512, [], nelems=nel, table=tbl,
                   flags=flags, rsvd=rsvd)
        check(c is not None and c[4] == 0x02, "%s refused %r" % (what, c))
    for (sec, ln, stw, what) in ((0, 0, 0x03, "length 0"),
                                 (0, 100, 0x04, "length not sectors"),
                                 ((16 << 20) // 512, 512, 0x05, "beyond medium")):
        c = submit(d, 0, 4, 6, sec, ln, [], nelems=0, table=0)
        check(c is not None and c[4] == stw, "DISCARD %s %r" % (what, c))
    st, got = readback()
    check(st == 0 and got == want, "refused commands changed nothing")
    # The whole 16 MiB medium in one WRITE_ZEROES: charged to the 2 MiB
    # per-pass budget, so the device yields at least 7 times.
    qt.mwrite(BUF, pat)
    c = submit(d, 0, 2, 7, (16 << 20) // 512 - 32, 16384, [(BUF, 16384)])
    check(c is not None and c[4] == 0, "write the last 16 KiB")
    y0 = d.r(0x070)
    c = submit(d, 0, 5, 8, 0, 16 << 20, [], nelems=0, table=0)
    check(c is not None and c[4] == 0, "WRITE_ZEROES of 16 MiB %r" % (c,))
    check(d.r(0x070) - y0 >= 7,
          "16 MiB zeroed over several passes (%d yields)" % (d.r(0x070) - y0))
    qt.memset(BUF + 0x10000, 16384, 0x5a)
    c = submit(d, 0, 1, 9, (16 << 20) // 512 - 32, 16384,
               [(BUF + 0x10000, 16384)])
    check(c is not None and c[4] == 0 and
          qt.mread(BUF + 0x10000, 16384) == bytes(16384),
          "its end reads zeroes")
    check(qt.close() == 0, "qemu exit status")

    path = tempfile.mktemp(prefix="edu-sg-", suffix=".img")
    try:
        qt, d = start(qemu, ",file=%s,size=4M,create=on,prealloc=on" % path)
        d.setup_queue(0, 8)
        pat = os.urandom(65536)
        qt.mwrite(BUF, pat)
        for i in range(16):
            c = submit(d, 0, 2, 1, i * 128, 65536, [(BUF, 65536)])
            check(c is not None and c[4] == 0, "file: write 64 KiB %d" % i)
        blocks = os.stat(path).st_blocks
        c = submit(d, 0, 4, 2, 0, 512 << 10, [], nelems=0, table=0)
        check(c is not None and c[4] == 0, "file: DISCARD 512 KiB %r" % (c,))
        st2 = os.stat(path)
        check(st2.st_size == 4 << 20, "file: the size stays")
        check(st2.st_blocks < blocks,
              "file: blocks given back (%d -> %d)" % (blocks, st2.st_blocks))
        c = submit(d, 0, 5, 3, 1024, 65536, [], nelems=0, table=0)
        check(c is not None and c[4] == 0, "file: WRITE_ZEROES 64 KiB")
        with open(path, "rb") as f:
            data = f.read(1 << 20)
        check(data[:512 << 10] == bytes(512 << 10),
              "file: the discarded range reads zeroes")
        check(data[512 << 10:576 << 10] == bytes(65536) and
              data[576 << 10:] == pat * 7,
              "file: WRITE_ZEROES zeroed its range only, the rest kept")
        check(qt.close() == 0, "qemu exit status")
    finally:
        if os.path.exists(path):
            os.unlink(path)


def trace_lines(what):
    """Lines of the -D log (read after QEMU exited) that contain WHAT."""
    with open(LOG) as f:
        return [l for l in f.read().splitlines() if what in l]


def read_cmds(d, q, tags, sector=0, length=4096, buf=BUF):
    """Put one READ per tag (each its own table and buffer), no doorbell."""
    for i, tag in enumerate(tags):
        t = TABLE + 0x1000 + i * 16
        d.qt.mwrite(t, mkelems([(buf + i * length, length)]))
        d.put_cmd(q, mkcmd(1, tag, sector + i * (length // SECTOR), length,
                           1, t))


def test_inline(qemu):
    """inline_budget (default 256 KiB): with latency 0 an SQ doorbell runs
    a pass over its queue inside the MMIO write, so the completions are in
    the CQ when the write returns (one look, no polling); a budget of 32
    commands and 256 KiB, the rest in the bottom half as a yield."""
    qt, d = start(qemu, ",size=4M", extra=("-trace", "edu_sg_inline"))
    d.setup_queue(0, 64)
    pat = os.urandom(1 << 20)
    qt.mwrite(BUF + 0x200000, pat)
    c = submit(d, 0, 2, 1, 0, 1 << 20, [(BUF + 0x200000, 1 << 20)])
    check(c is not None and c[4] == 0, "inline: 1 MiB write %r" % (c,))
    y0 = d.r(0x070)
    check(y0 == 1, "inline: 1 MiB write: one yield (256 KiB inline, the "
          "rest in one bottom-half pass): %d" % y0)
    # One 4 KiB read: done by the time the doorbell write returns.
    read_cmds(d, 0, [2])
    d.ring(0)
    c = d.poll_cqe(0, tries=1)
    check(c is not None and c[0] == 2 and c[4] == 0 and
          qt.mread(BUF, 4096) == pat[:4096],
          "inline: 4 KiB read in the CQ at once %r" % (c,))
    d.release(0)
    # 32 reads, one doorbell: all within one inline pass, no yield.
    read_cmds(d, 0, range(100, 132))
    d.ring(0)
    got = [d.poll_cqe(0, tries=1) for _ in range(32)]
    check(all(g is not None for g in got) and
          [g[0] for g in got] == list(range(100, 132)) and
          qt.mread(BUF, 32 * 4096) == pat[:32 * 4096],
          "inline: 32 reads in the CQ at once, in order")
    check(d.r(0x070) == y0, "inline: 32 commands, no yield (%d)" %
          d.r(0x070))
    d.release(0)
    # 33: the 33rd command is the bottom half's, after one yield.
    read_cmds(d, 0, range(200, 233))
    d.ring(0)
    got = [d.poll_cqe(0, tries=1) for _ in range(32)]
    check(all(g is not None for g in got) and
          [g[0] for g in got] == list(range(200, 232)),
          "inline: the first 32 of 33 in the CQ at once")
    c = d.poll_cqe(0)
    check(c is not None and c[0] == 232 and c[4] == 0,
          "inline: the 33rd by the bottom half %r" % (c,))
    check(d.r(0x070) == y0 + 1, "inline: 33 commands, one yield (%d)" %
          (d.r(0x070) - y0))
    d.release(0)
    # 1 MiB read: 256 KiB inline, the rest by the bottom half.
    qt.memset(BUF, 1 << 20)
    read_cmds(d, 0, [300], length=1 << 20)
    d.ring(0)
    c = d.poll_cqe(0)
    check(c is not None and c[4] == 0 and qt.mread(BUF, 1 << 20) == pat,
          "inline: 1 MiB read completes, data intact %r" % (c,))
    check(d.r(0x070) == y0 + 2, "inline: 1 MiB read, one yield (%d)" %
          (d.r(0x070) - y0 - 1))
    d.release(0)
    check(qt.close() == 0, "qemu exit status")
    lines = trace_lines("edu_sg_inline")
    check(len(lines) == 5 and
          [l.endswith("budget spent 1") for l in lines] ==
          [True, False, False, True, True],
          "inline: one edu_sg_inline per doorbell, budget spent where "
          "it should: %r" % lines)

    # Budget property: refused above 2 MiB; 4K: one 4 KiB command a pass.
    qemu_fails(qemu, ",inline_budget=4M", "inline_budget must be")
    qt, d = start(qemu, ",inline_budget=4K")
    d.setup_queue(0, 64)
    read_cmds(d, 0, range(4))
    d.ring(0)
    c = d.poll_cqe(0, tries=1)
    got = [d.poll_cqe(0) for _ in range(3)]
    check(c is not None and c[0] == 0 and
          [g and g[0] for g in got] == [1, 2, 3],
          "inline_budget=4K: one command inline, the rest later")
    check(d.r(0x070) == 1, "inline_budget=4K: one yield (%d)" % d.r(0x070))
    check(qt.close() == 0, "qemu exit status")


def test_inline_off(qemu):
    """inline_budget=0: every doorbell is left to the bottom half, as
    before the property; a 1 MiB read fits one bottom-half pass."""
    qt, d = start(qemu, ",inline_budget=0", extra=("-trace", "edu_sg_*"))
    d.setup_queue(0, 64)
    read_cmds(d, 0, range(33))
    d.ring(0)
    got = [d.poll_cqe(0) for _ in range(33)]
    check([g and g[0] for g in got] == list(range(33)),
          "inline off: 33 reads complete")
    read_cmds(d, 0, [40], length=1 << 20)
    d.ring(0)
    c = d.poll_cqe(0)
    check(c is not None and c[4] == 0, "inline off: 1 MiB read %r" % (c,))
    check(d.r(0x070) == 0, "inline off: no yield (%d)" % d.r(0x070))
    check(qt.close() == 0, "qemu exit status")
    check(trace_lines("edu_sg_fetch") and not trace_lines("edu_sg_inline"),
          "inline off: commands fetched, none inline")


def test_inline_fallbacks(qemu):
    """What the inline pass leaves alone: a latency (the timer and bottom
    half post when due), disabled, aborted and halted queues."""
    qt, d = start(qemu, ",x-fault-regs=on", extra=("-trace", "edu_sg_inline"))
    d.setup_queue(0, 16)
    # Latency written while running: no inline pass, posted when due.
    d.w(0x038, 5000000)
    read_cmds(d, 0, [1])
    d.ring(0)
    check(d.poll_cqe(0, tries=5) is None, "latency: not yet")
    qt.clock_step(4000000)
    check(d.poll_cqe(0, tries=5) is None, "latency: not after 4 ms")
    qt.clock_step(2000000)
    c = d.poll_cqe(0)
    check(c is not None and c[0] == 1, "latency: posted after 6 ms %r" % (c,))
    d.release(0)
    d.w(0x038, 0)
    read_cmds(d, 0, [2])
    d.ring(0)                           # inline doorbell #1
    c = d.poll_cqe(0, tries=1)
    check(c is not None and c[0] == 2, "latency 0 again: inline %r" % (c,))
    d.release(0)
    # A doorbell on a disabled queue: refused, nothing fetched.
    n = d.r(0x060)
    d.qw(1, 0x20, 1)
    check(d.qr(1, 0x1c) == 10 and d.qr(1, 0x20) == 0 and d.r(0x060) == n,
          "disabled queue: DB_DISABLED, nothing fetched")
    # Aborted: commands in the ring, abort, then the doorbell: refused.
    read_cmds(d, 0, [3])
    d.qw(0, 0x14, 2)
    d.qw(0, 0x20, d.sq_tail[0])
    check(d.qr(0, 0x1c) == 10 and d.qr(0, 0x24) == 0 and d.r(0x060) == n,
          "aborted queue: DB_DISABLED, nothing fetched")
    # Halted by an SQ fetch fault in the inline pass: at once.
    d.setup_queue(0, 16, sq=0x3000000000)
    d.qw(0, 0x20, 1)                    # inline doorbell #2
    check(d.qr(0, 0x18) & 2 and d.qr(0, 0x1c) == 6,
          "SQ fetch fault in the inline pass: halted at once")
    d.qw(0, 0x20, 2)                    # halted: no pass at all
    check(d.qr(0, 0x24) == 0 and d.qr(0, 0x18) & 2,
          "doorbell on a halted queue: nothing fetched")
    d.setup_queue(0, 16)
    c = submit(d, 0, 1, 4, 0, 512, [(BUF, 512)])   # inline doorbell #3
    check(c is not None and c[0] == 4 and c[4] == 0,
          "re-enabled after the halt %r" % (c,))
    check(qt.close() == 0, "qemu exit status")
    lines = trace_lines("edu_sg_inline")
    check(len(lines) == 3, "inline passes: 3, not for a latency, a "
          "disabled or a halted queue: %r" % lines)

    # latency_ns property: the same.
    qt, d = start(qemu, ",latency_ns=5000000", extra=("-trace",
                                                      "edu_sg_inline"))
    d.setup_queue(0, 16)
    read_cmds(d, 0, [5])
    d.ring(0)
    check(d.poll_cqe(0, tries=5) is None, "latency_ns: not yet")
    qt.clock_step(6000000)
    c = d.poll_cqe(0)
    check(c is not None and c[0] == 5, "latency_ns: posted %r" % (c,))
    check(qt.close() == 0, "qemu exit status")
    check(not trace_lines("edu_sg_inline"), "latency_ns: no inline pass")


def test_inline_faults(qemu):
    """Fault injection, back-pressure and bad completions, inline: each
    shows by the time the doorbell write returns. An armed HALT_AFTER
    leaves doorbells to the bottom half."""
    qt, d = start(qemu, ",fail_every=3,drop_every=4",
                  extra=("-trace", "edu_sg_inline"))
    d.setup_queue(0, 16)
    got = []
    for i in range(1, 7):
        read_cmds(d, 0, [i])
        d.ring(0)
        c = d.poll_cqe(0, tries=1)
        got.append(c and (c[0], c[4]))
        d.release(0)
    check(got == [(1, 0), (2, 0), (3, 0x20), None, (5, 0), (6, 0x20)],
          "fail_every=3, drop_every=4 at once: %r" % (got,))
    check(d.r(0x068) == 1 and d.r(0x06c) == 2, "STAT_DROPPED 1, INJECTED 2")
    check(qt.close() == 0, "qemu exit status")
    n = len(trace_lines("edu_sg_inline"))
    check(n == 6, "fail_every, drop_every: 6 doorbells inline (%d)" % n)

    qt, d = start(qemu, ",x-fault-regs=on", extra=("-trace", "edu_sg_inline"))
    d.setup_queue(0, 16)
    # HALT_AFTER=3: three commands, one doorbell: two posted and the halt
    # (armed, it leaves doorbells to the bottom half, whose passes gather).
    d.w(0x058, 3)
    read_cmds(d, 0, [10, 11, 12])
    d.ring(0)
    got = [d.poll_cqe(0, tries=1) for _ in range(3)]
    check([c and c[0] for c in got] == [10, 11, None] and
          d.qr(0, 0x18) & 2 and d.qr(0, 0x1c) == 7,
          "HALT_AFTER=3 at once: two completions, then halted %r" % (got,))
    # STALE_PHASE: the stale entry at once, the real one 1 ms later (the
    # inline pass arms the timer).
    d.setup_queue(0, 16)
    d.w(0x05c, 4 | 1 << 16)
    read_cmds(d, 0, [20])
    d.ring(0)
    raw = raw_cqe(d, 0, 0)
    check(raw[0] == 20 and raw[5] & 1 == 0 and d.qr(0, 0x2c) == 0,
          "STALE_PHASE at once: stale entry, CQ_TAIL not moved %r" % (raw,))
    d.w(0x05c, 0)
    qt.clock_step(2000000)
    c = d.poll_cqe(0)
    check(c is not None and c[0] == 20 and c[4] == 0,
          "STALE_PHASE: the real completion after 1 ms %r" % (c,))
    d.release(0)
    # CQ full: a queue of 4, three completions, then three more pending.
    d.setup_queue(1, 4)
    read_cmds(d, 1, [30, 31, 32])
    d.ring(1)
    read_cmds(d, 1, [33, 34, 35], sector=64)
    d.ring(1)
    check(d.qr(1, 0x18) & 4 and d.qr(1, 0x30) == 3 and d.qr(1, 0x24) == 2,
          "CQ full at once: 3 pending, all fetched")
    got = [d.poll_cqe(1, tries=1) for _ in range(3)]
    d.release(1)
    got += [d.poll_cqe(1) for _ in range(3)]
    check([g and g[0] for g in got] == list(range(30, 36)),
          "CQ full: the rest after CQ_HEAD %r" % (got,))
    check(qt.close() == 0, "qemu exit status")
    n = len(trace_lines("edu_sg_inline"))
    check(n == 3, "STALE_PHASE, CQ full: 3 doorbells inline, HALT_AFTER's "
          "not (%d)" % n)


def test_inline_reentrancy(qemu):
    """DMA that comes back to the device, inline and in the bottom half:
    a READ into its own doorbell (the memory core's re-entrancy guard
    refuses it: DMA_FAULT), and a READ into its own config space through
    MMCONFIG that sets AF_CTRL.FLR (the device resets in the middle of
    the command and forgets it: no completion, no halt, no interrupt)."""
    for opts in ("", ",inline_budget=0"):
        what = "inline" if not opts else "bottom half"
        qt, d = start(qemu, ",msix=off,msi=off" + opts,
                      extra=("-trace", "edu_sg_inline"))
        d.setup_queue(0, 16)
        n = d.r(0x060)
        c = submit(d, 0, 1, 1, 0, 512,
                   [(BUF, 508), (BAR0 + QBASE + 0x20, 4)])
        check(c is not None and c[4] == 0x11 and c[1] == 1 and
              d.r(0x060) == n + 1 and d.qr(0, 0x20) == 1,
              "%s: READ into its own SQ_TAIL: DMA_FAULT %r" % (what, c))
        # MMCONFIG at 0xb0000000 (PCIEXBAR of the q35 host bridge)
        qt.outl(0xcf8, 0x80000064)
        qt.outl(0xcfc, 0)
        qt.outl(0xcf8, 0x80000060)
        qt.outl(0xcfc, 0xb0000001)
        mmcfg = 0xb0000000 + (SLOT << 15)
        check(qt.readl(mmcfg) == 0x11e91234, "%s: MMCONFIG" % what)
        cap = qt.find_cap(0x13)
        qt.mwrite(BUF, b"\xaa" * 511 + b"\x01")
        c = submit(d, 0, 2, 2, 0, 512, [(BUF, 512)])
        check(c is not None and c[4] == 0, "%s: write sector 0" % what)
        qt.memset(d.cqbase[0], 16 * 16)
        d.put_cmd(0, mkcmd(1, 3, 0, 512, 2, TABLE))
        qt.mwrite(TABLE, mkelems([(BUF + 0x10000, 511),
                                  (mmcfg + cap + 4, 1)]))
        d.ring(0)
        for _ in range(200):
            if qt.cfg_readl(0x04) & 0x6 == 0:
                break
        check(qt.cfg_readl(0x04) & 0x6 == 0, "%s: FLR by DMA" % what)
        qt.cfg_writel(0x10, BAR0)
        qt.cfg_writel(0x04, 0x0006)
        st = [d.qr(0, o) for o in (0x18, 0x1c, 0x2c, 0x30)]
        check(st == [0, 0, 0, 0] and d.r(0x048) == 0 and
              qt.mread(d.cqbase[0], 16 * 16) == bytes(256),
              "%s: reset mid-command: queue off, no halt, no entry, no "
              "interrupt %r INT_STATUS %d" % (what, st, d.r(0x048)))
        d.setup_queue(0, 16)
        c = submit(d, 0, 1, 4, 0, 512, [(BUF + 0x20000, 512)])
        check(c is not None and c[4] == 0 and
              qt.mread(BUF + 0x20000, 512) == b"\xaa" * 511 + b"\x01",
              "%s: works after the reset %r" % (what, c))
        check(qt.close() == 0, "qemu exit status")
        n = len(trace_lines("edu_sg_inline"))
        check(n == (0 if opts else 4), "%s: %d doorbells inline" % (what, n))


ICOAL = 0x094                           # INT_COALESCE (1.3)


def coal(n, us):
    """INT_COALESCE value: THRESHOLD N completions, TIME US microseconds."""
    return n | us << 16


def msix_enable(qt, nvec):
    """MSI-X on: vector v writes 0x4400 + v to MSIX_TARGET + 4 * v."""
    cap = qt.find_cap(0x11)
    for v in range(nvec):
        e = BAR1 + v * 16
        qt.writel(e, MSIX_TARGET + v * 4)
        qt.writel(e + 4, 0)
        qt.writel(e + 8, 0x4400 + v)
        qt.writel(e + 12, 0)
    qt.cfg_writel(cap, qt.cfg_readl(cap) | (1 << 31))
    qt.memset(MSIX_TARGET, 16)


def msix_fired(qt, v):
    """True if vector V was sent since the last look; clears it."""
    a = MSIX_TARGET + v * 4
    got = struct.unpack("<I", qt.mread(a, 4))[0]
    qt.memset(a, 4)
    return got == 0x4400 + v


def one_read(d, q, tag, release=True):
    """One 4 KiB READ on queue Q: doorbell, then its completion."""
    read_cmds(d, q, [tag])
    d.ring(q)
    c = d.poll_cqe(q)
    if release:
        d.release(q)
    return c is not None and c[0] == tag and c[4] == 0


def test_int_coalesce(qemu):
    """INT_COALESCE (1.3), MSI-X, inline and in the bottom half: a queue
    is signalled once THRESHOLD completions wait or TIME us after the
    first; a halt at once; reset and abort drop the count; a write
    signals what waits; THRESHOLD <= 1 or TIME 0 is off (one interrupt
    per pass, as in 1.2)."""
    for opts in ("", ",inline_budget=0"):
        what = "inline" if not opts else "bottom half"
        qt, d = start(qemu, opts, extra=("-trace", "edu_sg_coalesce_*"))
        if not opts:
            check(d.r(0x004) == 0x00010003, "VERSION 1.3")
            check(d.r(ICOAL) == 0, "INT_COALESCE 0 after power-on")
            d.w(ICOAL, coal(4, 1000) | 0x100)
            check(d.r(ICOAL) == 0, "INT_COALESCE: bit 8 set: refused")
            d.w(ICOAL, coal(4, 1000))
            check(d.r(ICOAL) == coal(4, 1000), "INT_COALESCE reads back")
            d.w(ICOAL, coal(8, 50) | 0x8000)
            check(d.r(ICOAL) == coal(4, 1000),
                  "INT_COALESCE: bit 15 set: refused, value unchanged")
            d.w(0x040, 1)
            check(d.r(ICOAL) == 0, "INT_COALESCE 0 after DEV_CTRL.RESET")
        msix_enable(qt, 2)
        d.setup_queue(0, 16)
        d.setup_queue(1, 16)

        # THRESHOLD 4, TIME 1 ms: three completions, no interrupt; the
        # fourth: one, and the timer is off.
        d.w(ICOAL, coal(4, 1000))
        got = [(one_read(d, 0, t), msix_fired(qt, 0)) for t in (1, 2, 3)]
        check(got == [(True, False)] * 3,
              "%s: N=4: three completions, no interrupt %r" % (what, got))
        check(one_read(d, 0, 4) and msix_fired(qt, 0),
              "%s: N=4: the fourth completion interrupts" % what)
        qt.clock_step(2000000)
        check(not msix_fired(qt, 0) and not msix_fired(qt, 1),
              "%s: N=4: no second interrupt after TIME" % what)
        # Five in one pass: at once.
        read_cmds(d, 0, range(5, 10))
        d.ring(0)
        got = [d.poll_cqe(0) for _ in range(5)]
        d.release(0)
        check([g and g[0] for g in got] == list(range(5, 10)) and
              msix_fired(qt, 0), "%s: N=4: a pass of five interrupts" % what)

        # THRESHOLD 8, TIME 50 us: one completion, signalled by the timer.
        d.w(ICOAL, coal(8, 50))
        check(not msix_fired(qt, 0), "%s: a write with nothing waiting "
              "does not interrupt" % what)
        check(one_read(d, 0, 10) and not msix_fired(qt, 0),
              "%s: N=8: one completion, no interrupt yet" % what)
        qt.clock_step(40000)
        check(not msix_fired(qt, 0), "%s: T=50: none after 40 us" % what)
        qt.clock_step(20000)
        check(msix_fired(qt, 0), "%s: T=50: one after 60 us" % what)
        qt.clock_step(1000000)
        check(not msix_fired(qt, 0), "%s: T=50: only one" % what)
        # TIME runs from the first unsignalled completion.
        one_read(d, 0, 11)
        qt.clock_step(30000)
        one_read(d, 0, 12)
        qt.clock_step(30000)
        check(msix_fired(qt, 0), "%s: T=50: counted from the first of two "
              "completions" % what)

        # Per queue: THRESHOLD 2 reached on q0 only; q1 by its timer.
        d.w(ICOAL, coal(2, 1000))
        one_read(d, 0, 20)
        one_read(d, 1, 21)
        check(not msix_fired(qt, 0) and not msix_fired(qt, 1),
              "%s: N=2: one each on q0, q1: no interrupt" % what)
        one_read(d, 0, 22)
        check(msix_fired(qt, 0) and not msix_fired(qt, 1),
              "%s: N=2: q0's second: vector 0 only" % what)
        qt.clock_step(1100000)
        check(msix_fired(qt, 1) and not msix_fired(qt, 0),
              "%s: N=2: q1 by its timer" % what)

        # Unmasking with unreleased entries signals at once, count and all.
        d.w(ICOAL, coal(8, 1000))
        d.w(0x050, 1)
        one_read(d, 0, 30, release=False)
        before = msix_fired(qt, 0)
        d.w(0x050, 0)
        check(not before and msix_fired(qt, 0),
              "%s: masked, then unmasked: signalled at once" % what)
        qt.clock_step(2000000)
        check(not msix_fired(qt, 0), "%s: unmask restarted the count" % what)
        d.release(0)

        # A write signals what waits, whatever it writes; off included.
        one_read(d, 0, 31)
        d.w(ICOAL, coal(4, 500))
        check(msix_fired(qt, 0), "%s: INT_COALESCE changed with a "
              "completion waiting: signalled at once" % what)
        one_read(d, 0, 32)
        check(not msix_fired(qt, 0), "%s: N=4 again: waits" % what)
        d.w(ICOAL, 0)
        check(msix_fired(qt, 0), "%s: INT_COALESCE=0 with a completion "
              "waiting: signalled at once" % what)
        qt.clock_step(2000000)
        check(not msix_fired(qt, 0), "%s: after the write, no timer" % what)

        # Off: THRESHOLD 0 or 1, or TIME 0: one interrupt per pass.
        for v in (coal(8, 0), coal(255, 0), 0, coal(0, 1000),
                  coal(1, 1000)):
            d.w(ICOAL, v)
            check(one_read(d, 0, 40) and msix_fired(qt, 0),
                  "%s: INT_COALESCE 0x%x is off: at once" % (what, v))
        qt.clock_step(2000000)
        check(not msix_fired(qt, 0), "%s: off: no timer" % what)

        # A halt signals at once and drops the count: an SQ of 4 at the
        # end of RAM (256M), slot 2 beyond it.
        d.w(ICOAL, coal(8, 1000))
        d.setup_queue(0, 4, sq=0x10000000 - 64)
        got = [(one_read(d, 0, t), msix_fired(qt, 0)) for t in (50, 51)]
        check(got == [(True, False)] * 2,
              "%s: two completions waiting %r" % (what, got))
        d.qw(0, 0x20, 3)
        for _ in range(200):
            if d.qr(0, 0x18) & 2:
                break
        check(d.qr(0, 0x18) & 2 and d.qr(0, 0x1c) == 6 and
              msix_fired(qt, 0), "%s: halt (SQ_FETCH) signals at once" %
              what)
        qt.clock_step(2000000)
        check(not msix_fired(qt, 0), "%s: halt dropped the count" % what)

        # Abort and device reset drop the count: no interrupt after TIME.
        d.w(ICOAL, coal(8, 50))
        d.setup_queue(0, 16)
        one_read(d, 0, 60)
        d.qw(0, 0x14, 2)
        qt.clock_step(100000)
        check(not msix_fired(qt, 0), "%s: abort dropped the count" % what)
        d.setup_queue(0, 16)
        one_read(d, 0, 61)
        check(not msix_fired(qt, 0), "%s: before the reset: waits" % what)
        d.w(0x040, 1)
        qt.clock_step(100000)
        check(not msix_fired(qt, 0) and d.r(ICOAL) == 0,
              "%s: DEV_CTRL.RESET dropped the count, INT_COALESCE 0" % what)
        d.setup_queue(0, 16)
        check(one_read(d, 0, 62) and msix_fired(qt, 0),
              "%s: after the reset: off, one interrupt per pass" % what)
        check(qt.close() == 0, "qemu exit status")
        lines = trace_lines("edu_sg_coalesce_")
        check(len([l for l in lines if "q0 signalled for 4 completions "
                   "(threshold)" in l]) == 1 and
              [l for l in lines if l.endswith("(timer)")] and
              [l for l in lines if l.endswith("(INT_COALESCE write)")] and
              [l for l in lines if "edu_sg_coalesce_arm" in l],
              "%s: edu_sg_coalesce_* trace events %r" % (what, lines[:8]))


def test_int_coalesce_intx_msi(qemu):
    """INT_COALESCE in INTx and MSI modes: INT_STATUS and the line or
    message follow the coalesced signal."""
    qt, d = start(qemu, ",msix=off")
    qt.cmd("irq_intercept_in ioapic")
    d.setup_queue(0, 16)
    d.w(ICOAL, coal(4, 1000))
    got = [(one_read(d, 0, t), d.r(0x048)) for t in (1, 2, 3)]
    check(got == [(True, 0)] * 3 and not qt.irqs,
          "INTx: N=4: three completions, no interrupt %r %r" %
          (got, qt.irqs))
    check(one_read(d, 0, 4) and d.r(0x048) == 1 and
          [i[0] for i in qt.irqs] == ["raise"],
          "INTx: N=4: the fourth raises INTx once %r" % (qt.irqs,))
    d.w(0x04c, 1)
    qt.clock_step(2000000)
    check(d.r(0x048) == 0 and [i[0] for i in qt.irqs] == ["raise", "lower"],
          "INTx: acked, nothing after TIME %r" % (qt.irqs,))
    d.w(ICOAL, coal(8, 50))
    check(one_read(d, 0, 5) and d.r(0x048) == 0, "INTx: N=8: waits")
    qt.clock_step(60000)
    check(d.r(0x048) == 1 and qt.irqs[-1][0] == "raise",
          "INTx: T=50: raised by the timer %r" % (qt.irqs,))
    d.w(0x04c, 1)
    cap = qt.find_cap(0x05)
    qt.cfg_writel(cap + 4, MSIX_TARGET)
    qt.cfg_writel(cap + 8, 0)
    qt.cfg_writel(cap + 12, 0x4567)
    qt.cfg_writel(cap, qt.cfg_readl(cap) | (1 << 16))
    qt.memset(MSIX_TARGET, 16)

    def msi():
        v = struct.unpack("<I", qt.mread(MSIX_TARGET, 4))[0]
        qt.memset(MSIX_TARGET, 4)
        return v == 0x4567
    d.w(ICOAL, coal(4, 1000))
    got = [(one_read(d, 0, t), d.r(0x048), msi()) for t in (10, 11, 12)]
    check(got == [(True, 0, False)] * 3,
          "MSI: N=4: three completions, no interrupt %r" % (got,))
    check(one_read(d, 0, 13) and d.r(0x048) == 1 and msi(),
          "MSI: N=4: the fourth sends MSI, INT_STATUS bit 0")
    d.w(0x04c, 1)
    qt.clock_step(2000000)
    check(not msi() and d.r(0x048) == 0, "MSI: nothing after TIME")
    d.w(ICOAL, coal(8, 50))
    check(one_read(d, 0, 14) and not msi(), "MSI: N=8: waits")
    qt.clock_step(60000)
    check(msi() and d.r(0x048) == 1, "MSI: T=50: sent by the timer")
    check(qt.close() == 0, "qemu exit status")


def test_fuzz_bh(qemu):
    """The fuzz run with every pass in the bottom half."""
    test_fuzz(qemu, rounds=1500, seed=3, opts=",inline_budget=0")


def main():
    if len(sys.argv) > 1:
        qemu = sys.argv[1]
    else:
        top = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        qemu = subprocess.run([os.path.join(top, "scripts/build-qemu.sh")],
                              stdout=subprocess.PIPE, text=True,
                              check=True).stdout.strip()
    tests = (test_registers, test_io, test_dma_bits32, test_msix,
             test_msi_intx, test_faults, test_file, test_file_errors,
             test_full_disk, test_budget, test_budget_table, test_bad_cqe,
             test_halt_stale, test_bad_lba, test_trace, test_vanish,
             test_flr, test_discard, test_inline, test_inline_off,
             test_inline_fallbacks, test_inline_faults,
             test_inline_reentrancy, test_int_coalesce,
             test_int_coalesce_intx_msi, test_fuzz, test_fuzz_faults,
             test_fuzz_bh, test_speed)
    # EDU_SG_TESTS="name ...": only those (while working on one).
    only = os.environ.get("EDU_SG_TESTS", "").split()
    if only:
        unknown = set(only) - {t.__name__ for t in tests}
        if unknown:
            print("EDU_SG_TESTS: no such test: %s" % " ".join(sorted(unknown)))
            sys.exit(2)
        tests = [t for t in tests if t.__name__ in only]
    for t in tests:
        try:
            t(qemu)
        except Exception as e:          # a crash or protocol error
            check(False, "%s: %s" % (t.__name__, e))
        for qt in QTest.live:
            if qt.p.poll() is None:
                qt.p.kill()
                qt.p.wait()
        QTest.live.clear()
    if os.path.exists(LOG):
        os.unlink(LOG)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
