#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Turn one wdmdma benchmark results document into a report with plots.

Usage: /usr/bin/python3 scripts/bench-report.py [--previous OLD.json]
           RESULTS.json OUTDIR
       /usr/bin/python3 scripts/bench-report.py --micro-text
           [--previous OLD.json] RESULTS.json

RESULTS.json is the document `make bench` writes: an object with
  "meta"      the machine, software and command lines of the run,
  "fio"       one record per fio run (target, job, engine, round, IOPS,
              bandwidth, latency percentiles, errors),
  "pressure"  fio runs under injected allocation failure ("alloc-fail",
              level = percent of allocations failed) or with a 32-bit device
              that bounces every page ("map-regs"),
  "micro"     mapping microbenchmark records (method build, get,
              native-sgt or native-page; segments, bounce; ns/op and
              allocations/op, or "skipped"). Older documents name the
              sg_table baseline "native": it is read as native-sgt.

Writes OUTDIR/benchmarks.md and the plots OUTDIR/bench-4k-qd32.png,
bench-seq.png, bench-pressure.png, bench-pressure-latency.png and
bench-micro.png (overwriting them; a plot without data is removed and the
markdown says it was skipped), and prints one headline line per
performance target to stdout. Every plot names what was measured, in
which units, and carries a footer with the machine: host CPU and cores,
guest kernel, QEMU version, date of the run and wdmdma commit.

OUTDIR/fastpath-steps.json, when it exists (there is no option for it:
`make bench` writes into docs/, where it is kept), holds the mapping
microbenchmark of the fast path measured change by change, as medians:
  "meta"      its own machine and method, not the run's: date, host_cpu,
              host_cores, kernel, qemu, guest, rounds, method; optionally
              kernel_release, wdmdma_commit, source, notes,
  "segs"      the segment counts, e.g. [1, 4, 32, 256],
  "steps"     one row per change, in order: {"label", optional "commit",
              "ns_per_op": one number (or null) per entry of "segs"},
  "baselines" the plain-Linux methods of the same boot, rows as in
              "steps" with an optional "description" for "commit",
and optionally "title". It adds bench-fastpath.png and a section with
its table; without the file both are left out (and a stale plot
removed). It is checked like RESULTS.json.

--micro-text writes nothing: it prints the machine and software, the
microbenchmark table and the microbenchmark targets as plain text (the
document may have no fio or pressure records: `make bench-micro`).
--previous OLD.json adds the medians of an earlier run beside the new ones
in the microbenchmark table.

Build and Get are judged against the fastest native baseline (native-sgt
or native-page, whichever has the lower median) for the same segment count
and bounce setting.

Every number is the median over rounds, with min-max beside it. Exit status
0 on success, 2 on unusable input (not JSON, a missing or mistyped key, no
records at all; in RESULTS.json, OLD.json or fastpath-steps.json). Needs
Debian's python3-matplotlib (Agg backend, no display).
"""

import argparse
import copy
import json
import math
import os
import statistics
import sys
import textwrap
from collections import namedtuple

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
except ImportError:  # reported by main() once the input has been checked
    plt = None

# The sets the benchmark is designed around. Anything else found in the
# input is reported too, after these, in sorted order.
# The modes every run has; native-sgt runs where native takes the
# blk_rq_dma_map_iter path (6.17 and later), so both native paths show.
BASE_MODES = ["edublk-reserve", "edublk-pdu", "edublk-get", "edublk-native"]
EDUBLK_PRESSURE = BASE_MODES + ["edublk-native-sgt"]    # pressure runs
COALESCED = "edublk-pdu-coalesced"      # pdu with interrupt coalescing on
EDUBLK_MODES = EDUBLK_PRESSURE + [COALESCED]
KNOWN_TARGETS = EDUBLK_MODES + ["brd", "null_blk"]
KNOWN_JOBS = ["4k-randread-qd1", "4k-randread-qd32", "4k-randwrite-qd1",
              "4k-randwrite-qd32", "128k-read", "128k-write", "1m-read",
              "1m-write", "4k-randread-qd32-batch8", "4k-randread-qd32-hipri"]
KNOWN_ENGINES = ["io_uring", "libaio"]
KNOWN_CONDITIONS = ["alloc-fail", "map-regs"]
# plain-Linux baselines (native-iova: only behind an IOMMU)
NATIVE_METHODS = ["native-sgt", "native-page", "native-iova"]
KNOWN_METHODS = ["build", "build-iova", "get", "get-iova"] + NATIVE_METHODS
LEGACY_METHODS = {"native": "native-sgt"}       # names of older documents
KNOWN_SEGS = [1, 4, 32, 256]

NATIVE = "edublk-native"        # the plain-Linux baseline target
# The plain-Linux modes the fio targets take the faster of.
NATIVE_TARGETS = [NATIVE, "edublk-native-sgt"]
REF_JOB = "4k-randread-qd32"    # the job the IOPS targets are judged on
QD1_JOB = "4k-randread-qd1"
# The same reads another way, judged against brd too: (job, how, brd's
# job, the targets it is judged for: None for every mapping mode).
REF_VARIANTS = [("4k-randread-qd32-batch8", "8 submitted at a time",
                 "4k-randread-qd32-batch8", None),
                ("4k-randread-qd32-hipri", "polled (--hipri)", REF_JOB, None),
                (REF_JOB, "interrupts coalesced", REF_JOB, [COALESCED])]
REF_ENGINE = "io_uring"
SEQ_JOBS = ["128k-read", "128k-write", "1m-read", "1m-write"]

MET, NOT_MET, NOT_MEASURED = "met", "not met", "not measured"

PLOTS = {
    "4k": "bench-4k-qd32.png",
    "seq": "bench-seq.png",
    "pressure": "bench-pressure.png",
    "pressure-lat": "bench-pressure-latency.png",
    "micro": "bench-micro.png",
    "fastpath": "bench-fastpath.png",
}
# The fast path measured change by change: read from OUTDIR when present.
STEPS_FILE = "fastpath-steps.json"
STEPS_TITLE = "The mapping fast path, change by change"


class BadInput(Exception):
    """The results document cannot be used; the message says why."""


# --------------------------------------------------------------------------
# Input checking
# --------------------------------------------------------------------------

def _is_num(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v))


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str(v):
    return isinstance(v, str) and v != ""


def _is_str_list(v):
    return isinstance(v, list) and all(isinstance(s, str) for s in v)


# (checker, description) pairs used in error messages.
STR = (_is_str, "a non-empty string")
TEXT = (lambda v: isinstance(v, str), "a string")
NUM = (_is_num, "a number")
INT = (_is_int, "an integer")
BOOL = (lambda v: isinstance(v, bool), "true or false")
STRS = (_is_str_list, "a list of strings")
NUM_OR_NULL = (lambda v: v is None or _is_num(v), "a number or null")

# Meta fields in the order the report lists them, with their labels.
META_FIELDS = [
    ("date", "Date", TEXT),
    ("host_cpu", "Host CPU", TEXT),
    ("host_cores", "Host cores", INT),
    ("host_mem_gib", "Host memory", NUM),
    ("host_memcpy_gbps", "Host memcpy bandwidth", NUM_OR_NULL),
    ("kernel", "Guest kernel", TEXT),
    ("kernel_config", "Kernel configuration", STRS),
    ("qemu", "QEMU", TEXT),
    ("qemu_cmdline", "QEMU command line", TEXT),
    ("guest", "Guest", TEXT),
    ("rounds", "Rounds", INT),
    ("commands", "Commands", STRS),
]

FIO_KEYS = {
    "target": STR, "job": STR, "engine": STR, "round": INT, "iops": NUM,
    "bw_bytes": NUM, "lat_p50_ns": NUM, "lat_p99_ns": NUM,
    "lat_p999_ns": NUM, "errors": INT,
}
PRESSURE_KEYS = {
    "target": STR, "condition": STR, "level": NUM, "job": STR, "engine": STR,
    "round": INT, "iops": NUM, "lat_p50_ns": NUM, "lat_p99_ns": NUM,
    "lat_p999_ns": NUM, "errors": INT,
}
# Meta fields older documents lack: listed when present.
OPTIONAL_META = [
    ("wdmdma_commit", "wdmdma commit"),
    ("kernel_release", "Guest kernel release"),
    ("clock", "Guest clock"),
]

MICRO_KEYS = {"round": INT, "method": STR, "segs": INT, "bounce": BOOL}
MICRO_OPTIONAL_KEYS = {"iommu": BOOL}   # older documents lack it
MICRO_MEASURED_KEYS = {"ns_per_op": NUM, "allocs_per_op": NUM}


def _check_keys(obj, keys, where):
    """Raise BadInput unless obj has every key in keys with the right type."""
    for key, (ok, what) in keys.items():
        if key not in obj:
            raise BadInput(f"{where}: missing key '{key}'")
        if not ok(obj[key]):
            raise BadInput(f"{where}: '{key}' must be {what}, "
                           f"got {json.dumps(obj[key])}")


def _check_records(doc, section, keys):
    recs = doc[section]
    if not isinstance(recs, list):
        raise BadInput(f"'{section}' must be a list of records")
    for i, rec in enumerate(recs):
        where = f"{section}[{i}]"
        if not isinstance(rec, dict):
            raise BadInput(f"{where}: a record must be an object")
        _check_keys(rec, keys, where)
        if section == "micro":
            _check_keys(rec, {k: t for k, t in MICRO_OPTIONAL_KEYS.items()
                              if k in rec}, where)
            skipped = rec.get("skipped")
            if skipped is not None:
                if not _is_str(skipped):
                    raise BadInput(f"{where}: 'skipped' must be a non-empty "
                                   "string (the reason)")
            else:
                _check_keys(rec, MICRO_MEASURED_KEYS, where)
    return recs


def _check_top(doc, keys):
    """The document's "meta" once doc is an object with every key."""
    if not isinstance(doc, dict):
        raise BadInput("the document must be a JSON object")
    for key in keys:
        if key not in doc:
            raise BadInput(f"missing top-level key '{key}'")
    if not isinstance(doc["meta"], dict):
        raise BadInput("'meta' must be an object")
    return doc["meta"]


def validate(doc):
    """Check the document's shape; raise BadInput with the first problem."""
    meta = _check_top(doc, ("meta", "fio", "pressure", "micro"))
    _check_keys(meta, {k: t for k, _, t in META_FIELDS}, "meta")
    if meta["rounds"] < 1:
        raise BadInput("meta: 'rounds' must be at least 1")
    n = (len(_check_records(doc, "fio", FIO_KEYS))
         + len(_check_records(doc, "pressure", PRESSURE_KEYS))
         + len(_check_records(doc, "micro", MICRO_KEYS)))
    if n == 0:
        raise BadInput("no records: 'fio', 'pressure' and 'micro' are all "
                       "empty")


STEPS_META_KEYS = {
    "date": TEXT, "host_cpu": TEXT, "host_cores": INT, "kernel": TEXT,
    "qemu": TEXT, "guest": TEXT, "rounds": INT, "method": STR,
}
STEPS_META_OPTIONAL = {"kernel_release": TEXT, "wdmdma_commit": TEXT,
                       "source": TEXT, "notes": TEXT}
STEP_OPTIONAL = {"commit": STR, "description": STR}


def _is_pos(v):
    return _is_num(v) and v > 0


def validate_steps(doc):
    """Check a fastpath-steps document; raise BadInput with the first
    problem."""
    meta = _check_top(doc, ("meta", "segs", "steps", "baselines"))
    if "title" in doc and not _is_str(doc["title"]):
        raise BadInput("'title' must be a non-empty string")
    _check_keys(meta, STEPS_META_KEYS, "meta")
    _check_keys(meta, {k: t for k, t in STEPS_META_OPTIONAL.items()
                       if k in meta}, "meta")
    segs = doc["segs"]
    if (not isinstance(segs, list) or not segs
            or not all(_is_int(n) and n > 0 for n in segs)
            or len(set(segs)) != len(segs)):
        raise BadInput("'segs' must be a non-empty list of distinct "
                       "positive integers")
    values = (lambda v: isinstance(v, list) and len(v) == len(segs)
              and all(x is None or _is_pos(x) for x in v),
              f"a list of {len(segs)} positive numbers or nulls, one per "
              "entry of 'segs'")
    n = 0
    for section in ("steps", "baselines"):
        rows = _check_records(doc, section,
                              {"label": STR, "ns_per_op": values})
        if section == "steps" and not rows:
            raise BadInput("'steps' is empty")
        for i, row in enumerate(rows):
            _check_keys(row, {k: t for k, t in STEP_OPTIONAL.items()
                              if k in row}, f"{section}[{i}]")
            n += sum(v is not None for v in row["ns_per_op"])
    labels = [r["label"] for r in doc["steps"] + doc["baselines"]]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise BadInput(f"label {json.dumps(dup[0])} is used twice")
    if n == 0:
        raise BadInput("no numbers: every 'ns_per_op' is null")


# --------------------------------------------------------------------------
# Statistics and look-ups
# --------------------------------------------------------------------------

Stat = namedtuple("Stat", "lo med hi n")


def stat(values):
    """min/median/max over rounds, or None when nothing was measured."""
    values = list(values)
    if not values:
        return None
    return Stat(min(values), statistics.median(values), max(values),
                len(values))


def ratio(a, b):
    """a/b, or None when either side is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def ordered(present, known):
    """The known values that are present, in order, then any extras."""
    present = set(present)
    extras = sorted(present - set(known), key=str)
    return [k for k in known if k in present] + extras


def select(records, **match):
    """The records whose fields equal match (same type: True is not 1)."""
    return [r for r in records
            if all(k in r and r[k] == v and type(r[k]) is type(v)
                   for k, v in match.items())]


class Results:
    """The validated document with median-over-rounds look-ups."""

    def __init__(self, doc):
        self.meta = doc["meta"]
        self.fio = doc["fio"]
        self.pressure = doc["pressure"]
        # Older documents' method names, read as today's.
        micro = [dict(r, method=LEGACY_METHODS.get(r["method"], r["method"]))
                 for r in doc["micro"]]
        # The rows of the device behind an IOMMU (a second guest) are kept
        # apart: iommu_view() shows them through the same look-ups.
        self.micro_iommu = [r for r in micro if r.get("iommu") is True]
        self._set_micro([r for r in micro if r.get("iommu") is not True])
        self.rounds = self.meta["rounds"]

    def _set_micro(self, records):
        self.micro_all = records
        self.micro = [r for r in records if r.get("skipped") is None]

    def iommu_view(self):
        """The same results with the IOMMU rows as the microbenchmark's."""
        view = copy.copy(self)
        view._set_micro(self.micro_iommu)
        return view

    def fio_stat(self, target, job, engine, field):
        return stat(r[field] for r in
                    select(self.fio, target=target, job=job, engine=engine))

    def fio_errors(self, target, job, engine):
        return sum(r["errors"] for r in
                   select(self.fio, target=target, job=job, engine=engine))

    def pressure_recs(self, target, condition, level, job, engine):
        return [r for r in select(self.pressure, target=target,
                                  condition=condition, job=job, engine=engine)
                if r["level"] == level]

    def pressure_stat(self, target, condition, level, job, engine, field):
        return stat(r[field] for r in self.pressure_recs(
            target, condition, level, job, engine))

    def micro_stat(self, method, segs, bounce, field="ns_per_op"):
        return stat(r[field] for r in
                    select(self.micro, method=method, segs=segs,
                           bounce=bounce))

    def fastest_native(self, segs, bounce):
        """(method, Stat) of the native baseline with the lowest median."""
        best = None
        for method in self.native_methods():
            st = self.micro_stat(method, segs, bounce)
            if st is not None and (best is None or st.med < best[1].med):
                best = (method, st)
        return best

    def native_methods(self):
        """The native baselines present, known ones first."""
        return ordered({r["method"] for r in self.micro_all
                        if r["method"].startswith("native")}, NATIVE_METHODS)

    def micro_skipped(self, method, segs, bounce):
        """The skip reasons when a cell was skipped in every round."""
        recs = select(self.micro_all, method=method, segs=segs, bounce=bounce)
        reasons = [r["skipped"] for r in recs if r.get("skipped") is not None]
        if recs and len(reasons) == len(recs):
            return sorted(set(reasons))
        return None

    # The sets present, in report order.
    def targets(self, records):
        return ordered((r["target"] for r in records), KNOWN_TARGETS)

    def jobs(self, records):
        return ordered((r["job"] for r in records), KNOWN_JOBS)

    def engines(self, records):
        return ordered((r["engine"] for r in records), KNOWN_ENGINES)

    def edublk_modes(self):
        """The four base edublk modes plus any other edublk-* target
        present."""
        seen = {r["target"] for r in self.fio + self.pressure}
        return ordered({t for t in seen if t.startswith("edublk-")}
                       | set(BASE_MODES), EDUBLK_MODES)


# --------------------------------------------------------------------------
# Number formatting
# --------------------------------------------------------------------------

def f_iops(v):
    return f"{v:,.0f}"


def f_us(ns):
    return f"{ns / 1000:,.1f}"


def f_mib(b):
    return f"{b / 2**20:,.1f}"


def f_ns(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def f_allocs(v):
    return f"{v:.2f}"


def f_ratio(r, sign="×"):
    return "—" if r is None else f"{r:.2f}{sign}"


def f_pct(r):
    return f"{100 * r:.0f}%"


def short(target):
    return target[len("edublk-"):] if target.startswith("edublk-") else target


# --------------------------------------------------------------------------
# Target evaluation
# --------------------------------------------------------------------------

# One judged row: what it is about, what was measured (markdown), the
# verdict, and a short ASCII form for the stdout summary.
Check = namedtuple("Check", "subject measured status brief value")


class Target:
    """A performance target and its judged rows."""

    def __init__(self, title, label, threshold, threshold_ascii):
        self.title = title                  # markdown table
        self.label = label                  # stdout line
        self.threshold = threshold
        self.threshold_ascii = threshold_ascii
        self.checks = []
        self.summary = None                 # stdout measured part

    def add(self, subject, measured, status, brief=None, value=None):
        self.checks.append(Check(subject, measured, status, brief, value))

    def status(self):
        """One verdict for the whole target."""
        states = [c.status for c in self.checks]
        if NOT_MET in states:
            return NOT_MET
        missing = states.count(NOT_MEASURED)
        if missing == len(states):
            return NOT_MEASURED
        if missing:
            return (f"met where measured, {missing} of {len(states)} "
                    "not measured")
        return MET

    def headline(self):
        measured = self.summary
        if measured is None:
            measured = ", ".join(c.brief for c in self.checks if c.brief) \
                or "not measured"
        return (f"{self.label}: {measured} "
                f"(target {self.threshold_ascii}: {self.status()})")


def _range_summary(values, sign="x"):
    values = [v for v in values if v is not None]
    if not values:
        return "not measured"
    lo, hi = min(values), max(values)
    if f"{lo:.2f}" == f"{hi:.2f}":
        return f"{lo:.2f}{sign}"
    return f"{lo:.2f}{sign}-{hi:.2f}{sign}"


def seg_label(segs):
    return f"{segs} segment{'s' if segs != 1 else ''}"


def bounce_label(bounce):
    return "bounce" if bounce else "no bounce"


def micro_target(res, method, name, limit):
    """method vs the fastest native baseline, every segs, both bounce."""
    t = Target(f"{name}/Put per-I/O cost ≤ {limit:.2f}× the fastest native "
               "baseline (microbenchmark)",
               f"{name}/Put vs fastest native (micro)",
               f"≤ {limit:.2f}× the fastest of "
               f"{', '.join(res.native_methods())} for every segment "
               "count, with and without bouncing",
               f"<= {limit:.2f}x")
    segs_all = ordered({r["segs"] for r in res.micro_all}
                       | set(KNOWN_SEGS), KNOWN_SEGS)
    for bounce in (False, True):
        for segs in segs_all:
            subject = f"{seg_label(segs)}, {bounce_label(bounce)}"
            m = res.micro_stat(method, segs, bounce)
            best = res.fastest_native(segs, bounce)
            r = ratio(m and m.med, best and best[1].med)
            if r is None:
                skipped = res.micro_skipped(method, segs, bounce)
                why = ("skipped: " + "; ".join(skipped) if skipped else
                       f"{method} not measured" if m is None else
                       "no native baseline measured")
                t.add(subject, f"not measured ({why})", NOT_MEASURED)
                continue
            t.add(subject, f"{f_ratio(r)} ({f_ns(m.med)} vs {best[0]} "
                  f"{f_ns(best[1].med)} ns/op)",
                  MET if r <= limit else NOT_MET, value=r)
    t.summary = _range_summary(c.value for c in t.checks)
    return t


def best_native(res, job, engine):
    """(target, Stat) of the native mode with the most IOPS, or None."""
    best = None
    for target in NATIVE_TARGETS:
        st = res.fio_stat(target, job, engine, "iops")
        if st is not None and (best is None or st.med > best[1].med):
            best = (target, st)
    return best


def fio_iops_target(res, name, modes, limit):
    """edu-sg 4k random read QD32: mode IOPS / the faster native mode's."""
    t = Target(f"{name}: edu-sg {REF_JOB} IOPS ≥ {limit:.2f}× native "
               f"(fio {REF_ENGINE})",
               f"{name} vs native (fio {REF_JOB} {REF_ENGINE})",
               f"mode IOPS ÷ the faster native mode's IOPS ≥ {limit:.2f}×",
               f">= {limit:.2f}x")
    native = best_native(res, REF_JOB, REF_ENGINE)
    for mode in modes:
        m = res.fio_stat(mode, REF_JOB, REF_ENGINE, "iops")
        r = ratio(m and m.med, native and native[1].med)
        if r is None:
            t.add(mode, "not measured", NOT_MEASURED,
                  f"{short(mode)} not measured")
            continue
        t.add(mode, f"{f_ratio(r)} ({short(mode)} {f_iops(m.med)} vs "
              f"{short(native[0])} {f_iops(native[1].med)} IOPS)",
              MET if r >= limit else NOT_MET, f"{short(mode)} {r:.2f}x", r)
    return t


def brd_target(res, job=REF_JOB, limit=1.0):
    """Every edublk mapping mode's 4k random read IOPS vs brd's: at QD32
    also submitting 8 at a time (against brd doing the same), polled, and
    pdu with coalesced interrupts (which a QD1 reader only waits for)."""
    qd = job.rsplit("-", 1)[1].upper()
    t = Target(f"edu-sg 4k random read {qd} ≥ {limit:.2f}× brd "
               f"(fio {job} {REF_ENGINE})",
               f"edu-sg 4k randread {qd} vs brd ({REF_ENGINE})",
               f"mode IOPS ÷ brd IOPS ≥ {limit:.2f}×", f">= {limit:.2f}x")
    variants = [(job, None, job, None)] + \
        (REF_VARIANTS if job == REF_JOB else [])
    mapping = [m for m in res.edublk_modes() if m != COALESCED]
    for vjob, how, brd_job, modes in variants:
        brd = res.fio_stat("brd", brd_job, REF_ENGINE, "iops")
        for mode in modes or mapping:
            m = res.fio_stat(mode, vjob, REF_ENGINE, "iops")
            if how and m is None:
                continue        # a variant this run or mode has not
            name = f"{mode}, {how}" if how and not modes else mode
            brief = short(mode) + (f" {how}" if how and not modes else "")
            r = ratio(m and m.med, brd and brd.med)
            if r is None:
                why = "brd not measured" if brd is None else "not measured"
                t.add(name, why, NOT_MEASURED, f"{brief} not measured")
                continue
            t.add(name, f"{f_ratio(r)} ({f_iops(m.med)} vs brd "
                  f"{f_iops(brd.med)} IOPS)", MET if r >= limit else NOT_MET,
                  f"{brief} {r:.2f}x", r)
    return t


def memcpy_target(res):
    """Best edublk mode's 1 MiB sequential read vs host memcpy bandwidth."""
    t = Target(f"1 MiB sequential read ≥ 50% of host memcpy bandwidth "
               f"(fio 1m-read {REF_ENGINE}, best edublk mode)",
               "1 MiB sequential read vs host memcpy",
               "≥ 50%", ">= 50%")
    gbps = res.meta["host_memcpy_gbps"]
    best = None
    for mode in res.edublk_modes():
        bw = res.fio_stat(mode, "1m-read", REF_ENGINE, "bw_bytes")
        if bw and (best is None or bw.med > best[1].med):
            best = (mode, bw)
    if best is None or not gbps:
        why = [f"no edublk 1m-read {REF_ENGINE} runs"] if best is None else []
        why += ["host memcpy bandwidth not measured"] if not gbps else []
        t.add("best edublk mode", "not measured (" + "; ".join(why) + ")",
              NOT_MEASURED)
        t.summary = "not measured"
        return t
    mode, bw = best
    r = bw.med / (gbps * 1e9)
    t.add(mode, f"{f_pct(r)} ({bw.med / 1e9:.2f} GB/s of {gbps:.2f} GB/s)",
          MET if r >= 0.5 else NOT_MET, value=r)
    t.summary = (f"{f_pct(r)} ({short(mode)} {bw.med / 1e9:.2f} GB/s "
                 f"of {gbps:.2f} GB/s)")
    return t


def pressure_target(res):
    """100% allocation failure vs none: errors, IOPS and p99 per mode."""
    t = Target("At 100% allocation failure: 0 I/O errors, IOPS ≥ 50% and "
               "p99 ≤ 3× of unpressured (alloc-fail 100 vs 0)",
               "100% allocation failure vs none",
               "0 errors, IOPS ≥ 50%, p99 ≤ 3.00×",
               "0 errors, IOPS >= 50%, p99 <= 3x")
    worst_iops = worst_p99 = None
    errors_total = 0
    # The mapping modes: a configuration of one (coalesced) has no runs.
    for mode in (m for m in res.edublk_modes() if m in EDUBLK_PRESSURE):
        recs = select(res.pressure, target=mode, condition="alloc-fail")
        combos = sorted({(r["job"], r["engine"]) for r in recs},
                        key=lambda c: (c != (REF_JOB, REF_ENGINE), c))
        if not combos:
            t.add(mode, "not measured", NOT_MEASURED)
            continue
        for job, engine in combos:
            subject = f"{mode} ({job}, {engine})"

            def get(level, field):
                return res.pressure_stat(mode, "alloc-fail", level, job,
                                         engine, field)
            base, full = get(0, "iops"), get(100, "iops")
            base99, full99 = get(0, "lat_p99_ns"), get(100, "lat_p99_ns")
            r_iops = ratio(full and full.med, base and base.med)
            r_p99 = ratio(full99 and full99.med, base99 and base99.med)
            if r_iops is None or r_p99 is None:
                if base is None or full is None:
                    why = f"level {0 if base is None else 100} missing"
                else:
                    why = "zero IOPS or p99 at level 0"
                t.add(subject, f"not measured ({why})", NOT_MEASURED)
                continue
            errors = sum(r["errors"] for r in res.pressure_recs(
                mode, "alloc-fail", 100, job, engine))
            ok = errors == 0 and r_iops >= 0.5 and r_p99 <= 3.0
            t.add(subject, f"{errors} errors, IOPS {f_pct(r_iops)} "
                  f"({f_iops(full.med)} vs {f_iops(base.med)}), p99 "
                  f"{f_ratio(r_p99)} ({f_us(full99.med)} vs "
                  f"{f_us(base99.med)} µs)", MET if ok else NOT_MET)
            errors_total += errors
            if worst_iops is None or r_iops < worst_iops[0]:
                worst_iops = (r_iops, short(mode))
            if worst_p99 is None or r_p99 > worst_p99[0]:
                worst_p99 = (r_p99, short(mode))
    if worst_iops is None:
        t.summary = "not measured"
    else:
        t.summary = (f"errors {errors_total}, IOPS min {f_pct(worst_iops[0])}"
                     f" ({worst_iops[1]}), p99 max {worst_p99[0]:.2f}x "
                     f"({worst_p99[1]})")
    return t


# Issue 10, "wdmdma at native cost": the microbenchmark against the
# fastest plain-Linux baseline, the whole I/O path against edublk's native
# mode.
BUILD_MICRO_LIMIT = 1.00
GET_MICRO_LIMIT = 1.10
BUILD_FIO_LIMIT = 0.98
GET_FIO_LIMIT = 0.95


def micro_targets(res):
    return [micro_target(res, "build", "Calculate+Build", BUILD_MICRO_LIMIT),
            micro_target(res, "get", "Get", GET_MICRO_LIMIT)]


def evaluate(res):
    build, get = micro_targets(res)
    return [
        build,
        get,
        fio_iops_target(res, "pdu and reserve (Build/Put)",
                        ["edublk-pdu", "edublk-reserve"], BUILD_FIO_LIMIT),
        fio_iops_target(res, "get (Get/Put)", ["edublk-get"], GET_FIO_LIMIT),
        brd_target(res),
        brd_target(res, QD1_JOB, 0.5),
        memcpy_target(res),
        pressure_target(res),
    ]


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------

def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(headers, rows, right=()):
    """A markdown table; columns whose index is in right are right-aligned."""
    out = ["| " + " | ".join(cell(h) for h in headers) + " |",
           "|" + "|".join("---:" if i in right else "---"
                          for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def fence(lines):
    """A code block whose fence is longer than any backtick run inside."""
    longest = max((len(run) for line in lines
                   for run in line.replace("`", " ` ").split()
                   if set(run) == {"`"}), default=0)
    mark = "`" * max(3, longest + 1)
    return [mark] + list(lines) + [mark]


def with_range(st, fmt, rounds):
    """'median (min–max)', with the sample count when rounds are missing."""
    if st is None:
        return "—"
    n = f", n={st.n}" if st.n != rounds else ""
    return f"{fmt(st.med)} ({fmt(st.lo)}–{fmt(st.hi)}{n})"


def md_header(res, source):
    m = res.meta
    out = ["# wdmdma benchmarks", "",
           f"Generated by `make bench` from `{os.path.basename(source)}` by "
           "`scripts/bench-report.py`. Do not edit by hand: rerun "
           "`make bench` to refresh it.", "",
           f"Run date: {m['date']}", ""]
    if emulated(m):
        out += ["**This is a TCG (emulated) guest.** QEMU interprets every "
                "guest instruction and models the edu-sg device in software, "
                "so absolute numbers are emulator numbers and say little "
                "about real hardware. The ratios between targets measured in "
                "the same guest in the same run are the point.", ""]
    else:
        out += ["The guest was hardware-accelerated (KVM) according to "
                "`meta`; device emulation still dominates, so the ratios "
                "between targets are the point, not absolute numbers.", ""]
    out += ["## Machine and software", ""]
    gbps = m["host_memcpy_gbps"]
    values = {
        "host_mem_gib": f"{m['host_mem_gib']:g} GiB",
        "host_memcpy_gbps": ("not measured" if gbps is None else
                             f"{gbps:.2f} GB/s (10^9 bytes/s, measured in "
                             "the same run)"),
        "rounds": f"{m['rounds']} (every number is the median over rounds, "
                  "min–max in parentheses; n= marks fewer samples)",
    }
    for key, label, _ in META_FIELDS:
        if key in ("commands", "qemu_cmdline"):
            continue
        if key == "kernel_config":
            # Options as code, any remark (not an option) as plain text.
            opts = ", ".join(f"`{o}`" if "CONFIG_" in o else o
                             for o in m[key]) or "(none listed)"
            out.append(f"- {label}: {opts}")
        else:
            value = values.get(key, m[key])
            if value == "":
                value = "(not recorded)"
            out.append(f"- {label}: {value}")
    for key, label in OPTIONAL_META:
        if key in m:
            out.append(f"- {label}: {m[key]}")
    # Fields this script does not know: listed as they are.
    known = {k for k, _, _ in META_FIELDS} | {k for k, _ in OPTIONAL_META}
    for key in sorted(set(m) - known):
        if key == "runtime_s" and _is_num(m[key]):
            out.append(f"- fio runtime per run: {m[key]:g} s")
        else:
            out.append(f"- {key}: {json.dumps(m[key])}")
    if m["qemu_cmdline"]:
        out += ["- QEMU command line:", ""]
        out += ["  " + line for line in fence([m["qemu_cmdline"]])]
    else:
        out.append("- QEMU command line: (not recorded)")
    out += ["", "## Commands", "",
            "Every command line the run used, in order:", ""]
    out += fence([c for c in m["commands"] if c.strip()]
                 or ["(none recorded)"])
    return out + [""]


def md_targets(targets):
    out = ["## Targets", "",
           "Each row is judged alone; a target is met when all its rows are. "
           "Calculate+Build/Put and Get/Put are judged on the "
           "microbenchmark (medians of ns/op) against the fastest native "
           "baseline (`native-sgt` or `native-page`, named in each row) for "
           "the same segment count and bounce setting, and on fio over the "
           "whole I/O path against the faster of edublk's `native` and "
           "`native-sgt` modes (`native-sgt` runs where `native` takes "
           "`blk_rq_dma_map_iter`), where emulation dilutes the mapping "
           "cost.", ""]
    rows = []
    for t in targets:
        for i, c in enumerate(t.checks):
            rows.append([t.title if i == 0 else "", c.subject, c.measured,
                         t.threshold if i == 0 else "", c.status])
    out += md_table(["Target", "Subject", "Measured", "Threshold", "Result"],
                    rows)
    out += ["", "Summary:", ""]
    out += [f"- {t.headline()}" for t in targets]
    return out + [""]


def plot_ref(ok, name, alt):
    if ok:
        return [f"![{alt}]({name})", ""]
    return [f"_Plot `{name}` skipped: no data._", ""]


def md_fio(res, plotted):
    out = ["## Block I/O", "",
           "fio per job: IOPS median (min–max over rounds), bandwidth MiB/s "
           "median, p99 completion latency µs median. \"IOPS ÷ native\" "
           "compares an edublk mode with the faster of `edublk-native` and "
           "`edublk-native-sgt` (same driver, plain Linux DMA API) on the "
           "same job and engine; above 1.00 is faster.", ""]
    out += plot_ref(plotted["4k"], PLOTS["4k"],
                    "4k random read QD32: IOPS by target")
    out += plot_ref(plotted["seq"], PLOTS["seq"],
                    "Sequential bandwidth by target")
    if not res.fio:
        return out + ["No fio records.", ""]
    for job in res.jobs(res.fio):
        recs = select(res.fio, job=job)
        engines = res.engines(recs)
        headers = ["Target"]
        for e in engines:
            headers += [f"{e} IOPS", f"{e} MiB/s", f"{e} p99 µs",
                        f"{e} IOPS ÷ native"]
        rows, errors = [], []
        for target in res.targets(recs):
            row = [target]
            for e in engines:
                iops = res.fio_stat(target, job, e, "iops")
                if iops is None:
                    row += ["—"] * 4
                    continue
                bw = res.fio_stat(target, job, e, "bw_bytes")
                p99 = res.fio_stat(target, job, e, "lat_p99_ns")
                vs = "—"
                if target.startswith("edublk-"):
                    nat = best_native(res, job, e)
                    vs = f_ratio(ratio(iops.med, nat and nat[1].med))
                row += [with_range(iops, f_iops, res.rounds), f_mib(bw.med),
                        f_us(p99.med), vs]
                n_err = res.fio_errors(target, job, e)
                if n_err:
                    errors.append(f"{target} {e}: {n_err}")
            rows.append(row)
        out += [f"### {job}", ""]
        out += md_table(headers, rows, right=set(range(1, len(headers))))
        if errors:
            out += ["", "I/O errors (sum over rounds): " + "; ".join(errors)]
        out.append("")
    return out


def md_pressure(res, plotted):
    out = ["## Pressure", "",
           "fio under pressure: `alloc-fail` fails the given percent of "
           "wdmdma allocations on purpose (for native, of its scatterlist "
           "allocations); `map-regs` is a 32-bit device where every page "
           "bounces, so map registers (wdmdma) or swiotlb (native) are the "
           "bottleneck. Latencies are medians over rounds in µs; errors are "
           "summed over rounds. \"IOPS vs unpressured\" divides by the same "
           "target, job and engine at alloc-fail level 0.", ""]
    out += plot_ref(plotted["pressure"], PLOTS["pressure"],
                    "IOPS vs allocation-failure level")
    out += plot_ref(plotted["pressure-lat"], PLOTS["pressure-lat"],
                    "p50, p99 and p99.9 completion latency per edublk mode "
                    "under each pressure condition")
    if not res.pressure:
        return out + ["No pressure records.", ""]
    keys = {(r["target"], r["condition"], r["level"], r["job"], r["engine"])
            for r in res.pressure}
    t_order = res.targets(res.pressure)
    c_order = ordered((k[1] for k in keys), KNOWN_CONDITIONS)
    j_order = res.jobs(res.pressure)
    e_order = res.engines(res.pressure)
    keys = sorted(keys, key=lambda k: (
        t_order.index(k[0]), c_order.index(k[1]), j_order.index(k[3]),
        e_order.index(k[4]), k[2]))
    rows = []
    for target, cond, level, job, engine in keys:
        def get(field, c=cond, lv=level):
            return res.pressure_stat(target, c, lv, job, engine, field)
        iops = get("iops")
        base = get("iops", "alloc-fail", 0)
        errors = sum(r["errors"] for r in res.pressure_recs(
            target, cond, level, job, engine))
        rows.append([target, cond, f"{level:g}", job, engine,
                     with_range(iops, f_iops, res.rounds),
                     f_us(get("lat_p50_ns").med), f_us(get("lat_p99_ns").med),
                     f_us(get("lat_p999_ns").med), str(errors),
                     f_ratio(ratio(iops.med, base and base.med))])
    out += md_table(["Target", "Condition", "Level %", "Job", "Engine",
                     "IOPS", "p50 µs", "p99 µs", "p99.9 µs", "Errors",
                     "IOPS vs unpressured"], rows,
                    right={2, 5, 6, 7, 8, 9, 10})
    return out + [""]


MICRO_METHOD_TEXT = (
    "`build` = Calculate + Build into a preallocated buffer, then Put; "
    "`get` = Get/Put (the library allocates the list); `native-sgt` = a "
    "chained `sg_table` with an inline first chunk + "
    "`dma_map_sgtable()`/`dma_unmap_sgtable()`; `native-page` = "
    "`dma_map_page_attrs()`/`dma_unmap_page_attrs()` of each page into a "
    "preallocated address array, no scatterlist and no allocation (NVMe's "
    "single-segment path for 1 segment; for more, what a driver without an "
    "IOMMU merging its pages can do). Bounce \"yes\" is a 32-bit device "
    "with pages above 4 GiB (wdmdma map registers, both native methods "
    "swiotlb).")


def micro_rows(res, prev=None, unit="ns"):
    """Headers and rows of the microbenchmark table.

    One row per bounce setting, segment count and method; "÷ fastest
    native" divides the row's median by the lowest native median of the
    same segment count and bounce setting, and names that baseline. prev
    (Results or None) adds the earlier run's median and ratio.
    """
    headers = ["Bounce", "Segs", "Method", f"{unit}/op median (min–max)",
               "allocs/op", "÷ fastest native"]
    if prev is not None:
        headers += [f"previous {unit}/op", "previous ÷ fastest native"]
    methods = ordered((r["method"] for r in res.micro_all), KNOWN_METHODS)
    segs_all = ordered((r["segs"] for r in res.micro_all), KNOWN_SEGS)
    bounces = sorted({r["bounce"] for r in res.micro_all})

    def rel(st, best):
        r = ratio(st and st.med, best and best[1].med)
        return "—" if r is None else f"{f_ratio(r)} ({best[0]})"

    rows = []
    for bounce in bounces:
        for segs in segs_all:
            best = res.fastest_native(segs, bounce)
            pbest = prev.fastest_native(segs, bounce) if prev else None
            for method in methods:
                ns = res.micro_stat(method, segs, bounce)
                row = ["yes" if bounce else "no", str(segs), method]
                if ns is not None:
                    allocs = res.micro_stat(method, segs, bounce,
                                            "allocs_per_op")
                    row += [with_range(ns, f_ns, res.rounds),
                            f_allocs(allocs.med), rel(ns, best)]
                else:
                    skipped = res.micro_skipped(method, segs, bounce)
                    row += ["skipped: " + "; ".join(skipped) if skipped
                            else "—", "—", "—"]
                if prev is not None:
                    pns = prev.micro_stat(method, segs, bounce)
                    row += [f_ns(pns.med) if pns else "—", rel(pns, pbest)]
                rows.append(row)
    return headers, rows


def prev_label(prev, source):
    m = prev.meta
    commit = m.get("wdmdma_commit")
    return (f"{os.path.basename(source)}, {m['date']}"
            + (f", wdmdma {commit}" if commit else ""))


def md_micro(res, plotted, prev=None, prev_source=None):
    out = ["## Mapping microbenchmark", "",
           "Cost of one map + unmap of a transfer of single-page segments, "
           "measured in the guest kernel (`src/bench/wdmdma_bench.c`): "
           + MICRO_METHOD_TEXT + " ns/op median (min–max over rounds) and "
           "allocations per operation (median). \"÷ fastest native\" "
           "divides by the faster of the native baselines for the same "
           "segment count and bounce setting, named in parentheses.", ""]
    if prev is not None:
        out += [f"\"previous\" columns: {prev_label(prev, prev_source)} "
                "(a different boot: compare ratios rather than ns/op).", ""]
    out += plot_ref(plotted["micro"], PLOTS["micro"],
                    "ns/op vs segments per list")
    if not res.micro_all:
        return out + ["No microbenchmark records.", ""]
    headers, rows = micro_rows(res, prev)
    out += md_table(headers, rows, right=set(range(3, len(headers))))
    return out + [""]


IOMMU_TEXT = (
    "The same microbenchmark for a PCI device behind a translating IOMMU "
    "(a second guest: q35 with intel-iommu, QEMU's stock edu device in a "
    "DMA domain, bound to no driver; 64-bit mask, 1 MiB maximum segment). "
    "build and get: wdmdma with its `iova` setting off (an `sg_table` and "
    "`dma_map_sgtable()`, which the IOMMU merges into one range); "
    "build-iova and get-iova: an adapter created with `iova` on, the list "
    "linked into one IOVA range with `dma_iova_link()`; native-sgt and "
    "native-page as above, through the IOMMU; native-iova: "
    "`dma_iova_try_alloc()`, one `dma_iova_link()` per page, "
    "`dma_iova_sync()`, `dma_iova_destroy()`, as "
    "`blk_rq_dma_map_iter_start()` maps an NVMe request (kernels with the "
    "two-step IOVA API, 6.16 and later). allocs/op counts list and "
    "scatterlist allocations, not the IOVA allocator's.")


def iova_rows(res):
    """Headers and rows: each one-IOVA-range method against its sg_table
    counterpart, per segment count (medians of the IOMMU rows)."""
    pairs = [("build-iova", "build"), ("get-iova", "get"),
             ("native-iova", "native-sgt")]
    segs_all = ordered((r["segs"] for r in res.micro_all), KNOWN_SEGS)
    headers = ["Segs"] + [f"{a} ÷ {b}" for a, b in pairs]
    rows = []
    for segs in segs_all:
        row = [str(segs)]
        for a, b in pairs:
            r = ratio(*(st and st.med for st in
                        (res.micro_stat(a, segs, False),
                         res.micro_stat(b, segs, False))))
            row.append("—" if r is None else f_ratio(r))
        rows.append(row)
    return headers, rows


def md_micro_iommu(res):
    view = res.iommu_view()
    out = ["## Mapping behind an IOMMU", "", IOMMU_TEXT, ""]
    if not view.micro_all:
        return out + ["No IOMMU records.", ""]
    headers, rows = micro_rows(view)
    out += md_table(headers, rows, right=set(range(3, len(headers))))
    headers, rows = iova_rows(view)
    out += ["", "One IOVA range against the `sg_table` path (ratio of "
            "medians; below 1 the IOVA range is faster):", ""]
    out += md_table(headers, rows, right=set(range(1, len(headers))))
    return out + [""]


def md_fastpath(steps, plotted):
    """The fast path change by change, from fastpath-steps.json; nothing
    without it."""
    if steps is None:
        return []
    m = steps["meta"]
    segs = steps["segs"]
    title = steps.get("title", STEPS_TITLE)
    out = [f"## {title}", "",
           f"From `{STEPS_FILE}` beside this report, not from the run "
           f"above: {m['method']}. Each step adds one change to the code "
           "of the row above it; the baselines are plain Linux.", ""]
    for key, label in [("host_cpu", "Host CPU"), ("host_cores", "Host cores"),
                       ("kernel", "Guest kernel"), ("qemu", "QEMU"),
                       ("guest", "Guest"), ("date", "Date"),
                       ("wdmdma_commit", "wdmdma commit"),
                       ("source", "Source"), ("notes", "Notes")]:
        if m.get(key, "") != "":
            out.append(f"- {label}: {m[key]}")
    out.append("")
    out += plot_ref(plotted["fastpath"], PLOTS["fastpath"],
                    "ns per map + unmap for each fast-path change and each "
                    "native baseline, per segment count")
    rows = []
    for row in steps["steps"] + steps["baselines"]:
        rows.append([row["label"],
                     row.get("commit", row.get("description", ""))]
                    + ["—" if v is None else f_ns(v)
                       for v in row["ns_per_op"]])
    # The last step against the fastest baseline of each segment count.
    last = steps["steps"][-1]
    ratios = []
    for j, v in enumerate(last["ns_per_op"]):
        base = [(b["ns_per_op"][j], b["label"]) for b in steps["baselines"]
                if b["ns_per_op"][j] is not None]
        r = ratio(v, min(base)[0] if base else None)
        ratios.append("—" if r is None else f"{f_ratio(r)} ({min(base)[1]})")
    if steps["baselines"]:
        rows.append(["last step ÷ fastest baseline", ""] + ratios)
    out += md_table(["Step", "Code", *(f"{seg_label(s)}, ns/op"
                                       for s in segs)], rows,
                    right=set(range(2, 2 + len(segs))))
    return out + [""]


# --------------------------------------------------------------------------
# Plain text (--micro-text)
# --------------------------------------------------------------------------

ASCII = str.maketrans({"÷": "/", "–": "-", "—": "-", "×": "x", "µ": "u",
                       "≤": "<=", "≥": ">="})


def text_table(headers, rows, right=()):
    """Aligned plain-text columns, ASCII only."""
    table = [[str(c).translate(ASCII) for c in r] for r in [headers] + rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]

    def line(r):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return ([line(table[0]), "  ".join("-" * w for w in widths)]
            + [line(r) for r in table[1:]])


def micro_text(res, source, prev=None, prev_source=None):
    """The microbenchmark as plain text: machine, table, targets."""
    m = res.meta
    out = [f"wdmdma mapping microbenchmark ({os.path.basename(source)})",
           f"  date:          {m['date']}",
           f"  wdmdma commit: {m.get('wdmdma_commit', '(not recorded)')}",
           f"  guest kernel:  {m.get('kernel_release', m['kernel'])}",
           f"  host CPU:      {m['host_cpu']} ({m['host_cores']} cores)",
           f"  QEMU:          {m['qemu']}",
           f"  guest:         {m['guest']}",
           f"  rounds:        {m['rounds']} (median, min-max over rounds; "
           "n= marks fewer samples)"]
    if prev is not None:
        out.append(f"  previous:      {prev_label(prev, prev_source)}")
    out.append("")
    if not res.micro_all:
        return out + ["No microbenchmark records."]
    icount = m.get("clock") == "icount"
    unit = "instr" if icount else "ns"
    headers, rows = micro_rows(res, prev, unit)
    out += text_table(headers, rows, right=set(range(3, len(headers))))
    out += ["", ("guest instructions (QEMU -icount shift=0: one "
                 "instruction is one ns of guest time, exact and "
                 "repeatable)" if icount else "ns")
            + " per map + unmap; / fastest native: the row's median "
            "divided by the faster of native-sgt and native-page for the "
            "same segs and bounce.", ""]
    for t in micro_targets(res):
        out.append(t.headline().translate(ASCII))
        for c in t.checks:
            out.append(f"  {c.subject}: {c.measured} [{c.status}]"
                       .translate(ASCII))
    view = res.iommu_view()
    if view.micro_all:
        out += ["", "Behind an IOMMU (second guest, intel-iommu, edu "
                "device; build/get: iova off, sg_table; *-iova: one "
                "IOVA range):", ""]
        headers, rows = micro_rows(view, unit=unit)
        out += text_table(headers, rows, right=set(range(3, len(headers))))
        out.append("")
        headers, rows = iova_rows(view)
        out += text_table(headers, rows, right=set(range(1, len(headers))))
    return out


# --------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------

FOOTER_PT = 7.5     # the machine line's font size


def emulated(meta):
    """True unless meta says the guest ran under KVM."""
    return not any("kvm" in meta.get(k, "").lower()
                   for k in ("guest", "qemu_cmdline"))


def machine_line(meta):
    """Every plot's footer, as parts to join with " · ": where, on what
    and when it was measured."""
    def known(value, what):
        return value if value not in (None, "") else f"({what} not recorded)"
    qemu = meta["qemu"]
    if qemu.startswith("QEMU emulator version "):
        qemu = qemu[len("QEMU emulator version "):]
    cores = meta["host_cores"]
    return [
        f"Host: {known(meta['host_cpu'], 'CPU')}, {cores} "
        f"core{'s' if cores != 1 else ''}",
        "guest kernel " + known(meta.get("kernel_release")
                                or meta["kernel"], "version"),
        "QEMU " + known(qemu, "version"),
        "run " + known(meta["date"], "date"),
        "wdmdma " + known(meta.get("wdmdma_commit"), "commit")]


def wrap_parts(parts, width, sep=" · "):
    """Lines of at most width characters, broken between parts where
    possible."""
    lines = []
    for part in parts:
        if lines and len(lines[-1] + sep + part) <= width:
            lines[-1] += sep + part
        else:
            lines += textwrap.wrap(part, width) or [""]
    return lines


def subtitle(res):
    """A plot title's second line: the statistics and the guest."""
    return (f"(median of {res.rounds} rounds, error bars min–max; "
            f"{'TCG' if emulated(res.meta) else 'KVM'} guest)")


def _yerr(stats):
    """Asymmetric error bars from min and max around the median."""
    return [[s.med - s.lo for s in stats], [s.hi - s.med for s in stats]]


def _save(fig, path, meta):
    """Add the machine line under everything, lay out and write."""
    lines = wrap_parts(machine_line(meta), int(fig.get_figwidth() * 16))
    fig.text(0.008, 0.008, "\n".join(lines), fontsize=FOOTER_PT,
             color="0.3", ha="left", va="bottom")
    footer = (len(lines) * FOOTER_PT * 1.3 + 8) / 72 / fig.get_figheight()
    fig.tight_layout(rect=(0, footer, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _thousands(ax):
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _log_y(ax):
    """A log y axis labelled 1, 2, 5, 10, ... in plain numbers."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.10g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _legend_right(ax, **kw):
    """The legend beside the axes, where it covers no data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0,
              fontsize=9, **kw)


def target_tick(target):
    """'edublk-native-sgt' on two lines, so neighbouring labels fit."""
    return target.replace("edublk-", "edublk-\n", 1)


def grouped_bars(path, meta, title, ylabel, groups, series, get,
                 label_bars=False, legend_title=None):
    """Bars per target (x) and series (colour) with min–max error bars.

    get(group, series) returns a Stat or None. Returns False (and writes
    nothing) when there is no data at all.
    """
    data = {(g, s): get(g, s) for g in groups for s in series}
    series = [s for s in series if any(data[g, s] for g in groups)]
    groups = [g for g in groups if any(data[g, s] for s in series)]
    if not series:
        return False
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=100)
    width = 0.8 / len(series)
    for i, s in enumerate(series):
        xs, sts = [], []
        for j, g in enumerate(groups):
            if data[g, s]:
                xs.append(j - 0.4 + width * (i + 0.5))
                sts.append(data[g, s])
        bars = ax.bar(xs, [st.med for st in sts], width, yerr=_yerr(sts),
                      capsize=3, label=s, ecolor="black")
        if label_bars:
            ax.bar_label(bars, labels=[f"{st.med:,.0f}" for st in sts],
                         fontsize=7, padding=2)
    ax.set_xticks(range(len(groups)), [target_tick(g) for g in groups])
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Target (block device)")
    _thousands(ax)
    ax.grid(axis="y", alpha=0.3)
    _legend_right(ax, title=legend_title)
    _save(fig, path, meta)
    return True


def pick_engine(res, records):
    """io_uring when present, else the first engine found."""
    engines = res.engines(records)
    return REF_ENGINE if REF_ENGINE in engines else (engines or [None])[0]


def pick_pair(records):
    """The (job, engine) a pressure plot shows: the reference pair when
    present, else the most common pair among records; None without any."""
    pairs = [(r["job"], r["engine"]) for r in records]
    if not pairs:
        return None
    return ((REF_JOB, REF_ENGINE) if (REF_JOB, REF_ENGINE) in pairs
            else max(sorted(set(pairs)), key=pairs.count))


def plot_4k(res, path):
    recs = select(res.fio, job=REF_JOB)
    return grouped_bars(
        path, res.meta, "fio 4k random read, queue depth 32: IOPS by target "
        f"and I/O engine\n{subtitle(res)}",
        "IOPS (I/O per second)", res.targets(recs), res.engines(recs),
        lambda t, e: res.fio_stat(t, REF_JOB, e, "iops"), label_bars=True,
        legend_title="fio engine")


def plot_seq(res, path):
    recs = [r for r in res.fio if r["job"] in SEQ_JOBS]
    engine = pick_engine(res, recs)
    if engine is None:
        return False

    def get(target, job):
        st = res.fio_stat(target, job, engine, "bw_bytes")
        return st and Stat(*(v / 2**20 for v in st[:3]), st.n)
    return grouped_bars(
        path, res.meta, "fio sequential read and write (128 KiB and 1 MiB "
        f"blocks, {engine}): bandwidth by target\n{subtitle(res)}",
        "Bandwidth (MiB/s)", res.targets(recs),
        ordered((r["job"] for r in recs), SEQ_JOBS), get,
        legend_title="fio job")


def plot_pressure(res, path):
    recs = select(res.pressure, condition="alloc-fail")
    # One job and engine per plot.
    pair = pick_pair(recs)
    if pair is None:
        return False
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=100)
    any_line = False
    modes = [t for t in res.targets(recs) if t.startswith("edublk-")]
    all_levels = set()
    for mode in modes:
        levels = sorted({r["level"] for r in select(recs, target=mode)})
        pts = [(lv, res.pressure_stat(mode, "alloc-fail", lv, *pair, "iops"))
               for lv in levels]
        pts = [(lv, st) for lv, st in pts if st]
        if not pts:
            continue
        any_line = True
        all_levels |= {lv for lv, _ in pts}
        ax.errorbar([lv for lv, _ in pts], [st.med for _, st in pts],
                    yerr=_yerr([st for _, st in pts]), marker="o", capsize=4,
                    label=mode)
    if not any_line:
        plt.close(fig)
        return False
    ax.set_title(f"fio {pair[0]} ({pair[1]}): IOPS under injected "
                 f"allocation failure\n{subtitle(res)}")
    ax.set_xlabel("Allocations failed on purpose (%)")
    ax.set_xticks(sorted(all_levels),
                  [f"{lv:g}%" for lv in sorted(all_levels)])
    ax.set_ylabel("IOPS (I/O per second)")
    ax.set_ylim(bottom=0)
    _thousands(ax)
    ax.grid(alpha=0.3)
    _legend_right(ax, title="Target")
    _save(fig, path, res.meta)
    return True


PERCENTILES = [("lat_p50_ns", "p50"), ("lat_p99_ns", "p99"),
               ("lat_p999_ns", "p99.9")]
PERCENTILE_COLORS = ["#9ecae1", "#4292c6", "#08306b"]


def condition_title(condition, level):
    if condition == "alloc-fail":
        return (f"alloc-fail {level:g}%: "
                + ("no failure injected" if level == 0 else
                   f"{level:g}% of allocations fail"))
    if condition == "map-regs":
        return "map-regs: 32-bit device, every page bounces"
    return f"{condition} {level:g}"


def plot_pressure_latency(res, path):
    """p50/p99/p99.9 per edublk mode, one panel per condition and level."""
    pair = pick_pair(res.pressure)
    if pair is None:
        return False
    recs = select(res.pressure, job=pair[0], engine=pair[1])
    modes = [t for t in res.targets(recs) if t.startswith("edublk-")]
    panels = [(c, lv)
              for c in ordered((r["condition"] for r in recs),
                               KNOWN_CONDITIONS)
              for lv in sorted({r["level"] for r in
                                select(recs, condition=c)})]
    panels = [(c, lv) for c, lv in panels
              if any(res.pressure_recs(m, c, lv, *pair) for m in modes)]
    if not panels:
        return False
    ncols = 2 if len(panels) == 4 else min(len(panels), 3)
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(10, 1.6 + 3.4 * nrows),
                             dpi=100, sharey=True, squeeze=False)
    width = 0.8 / len(PERCENTILES)
    lowest = math.inf
    for k, ax in enumerate(axes.flat):
        if k >= len(panels):
            ax.set_visible(False)
            continue
        cond, level = panels[k]
        for i, (field, name) in enumerate(PERCENTILES):
            xs, sts = [], []
            for j, mode in enumerate(modes):
                st = res.pressure_stat(mode, cond, level, *pair, field)
                if st:
                    xs.append(j - 0.4 + width * (i + 0.5))
                    sts.append(Stat(*(v / 1e6 for v in st[:3]), st.n))
            lowest = min([lowest] + [st.lo for st in sts if st.lo > 0])
            ax.bar(xs, [st.med for st in sts], width, yerr=_yerr(sts),
                   capsize=2, label=name, color=PERCENTILE_COLORS[i],
                   ecolor="0.2", error_kw={"linewidth": 0.8})
        ax.set_title(condition_title(cond, level), fontsize=10)
        ax.set_xticks(range(len(modes)), [short(m) for m in modes])
        if k % ncols == 0:
            ax.set_ylabel("Completion latency (ms, log scale)")
        if k + ncols >= len(panels):
            ax.set_xlabel("edublk mode")
        ax.grid(axis="y", which="major", alpha=0.3)
    # Shared y: bars start at the bottom of the axis, a decade below the
    # lowest value, so even the shortest bar shows.
    _log_y(axes.flat[0])
    if lowest < math.inf:
        axes.flat[0].set_ylim(bottom=10 ** math.floor(math.log10(lowest)))
    # The legend above the top right panel's title, clear of the bars.
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[ncols - 1].legend(handles, labels, loc="lower right",
                                bbox_to_anchor=(1, 1.09), ncol=len(labels),
                                fontsize=9, borderaxespad=0,
                                title="Percentile", title_fontsize=9)
    fig.suptitle(f"fio {pair[0]} ({pair[1]}): completion latency "
                 f"percentiles under pressure\n{subtitle(res)}")
    _save(fig, path, res.meta)
    return True


def plot_micro(res, path):
    if not res.micro:
        return False
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=100)
    methods = ordered((r["method"] for r in res.micro), KNOWN_METHODS)
    segs_all = ordered((r["segs"] for r in res.micro), KNOWN_SEGS)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^v<>"
    for i, method in enumerate(methods):
        for bounce in (False, True):
            pts = [(s, res.micro_stat(method, s, bounce)) for s in segs_all]
            pts = [(s, st) for s, st in pts if st]
            if not pts:
                continue
            ax.errorbar([s for s, _ in pts], [st.med for _, st in pts],
                        yerr=_yerr([st for _, st in pts]),
                        marker=markers[i % len(markers)], capsize=4,
                        color=colors[i % len(colors)], markersize=5,
                        linestyle="--" if bounce else "-",
                        label=f"{method}, "
                              f"{'bounce' if bounce else 'no bounce'}")
    ax.set_xscale("log")
    _log_y(ax)
    ax.set_xticks(segs_all, [str(s) for s in segs_all])
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_title("In-guest mapping microbenchmark (no IOMMU): cost of one "
                 f"map + unmap vs list length\n{subtitle(res)}")
    ax.set_xlabel("Single-page segments per list (log scale)")
    ax.set_ylabel("ns per map + unmap (median, log scale)")
    ax.grid(which="both", alpha=0.3)
    _legend_right(ax, title="Method, bouncing")
    _save(fig, path, res.meta)
    return True


BASELINE_STYLES = [("#d62728", "//"), ("#2ca02c", "xx"), ("#9467bd", "..")]


def plot_fastpath(steps, path):
    """ns/op of each fast-path step and each native baseline, per segment
    count: the steps in blues (darker is later), the baselines hatched."""
    segs = steps["segs"]
    rows = steps["steps"] + steps["baselines"]
    values = [v for r in rows for v in r["ns_per_op"] if v is not None]
    fig, ax = plt.subplots(figsize=(10, 6.2), dpi=100)
    width = 0.84 / len(rows)
    n_steps = len(steps["steps"])
    for i, row in enumerate(rows):
        pts = [(j, v) for j, v in enumerate(row["ns_per_op"])
               if v is not None]
        xs = [j - 0.42 + width * (i + 0.5) for j, _ in pts]
        if i < n_steps:
            color = plt.get_cmap("Blues")(0.25 + 0.75 * i
                                          / max(1, n_steps - 1))
            style = {"color": color, "edgecolor": "0.25", "linewidth": 0.5,
                     "label": row["label"]}
        else:
            color, hatch = BASELINE_STYLES[(i - n_steps)
                                           % len(BASELINE_STYLES)]
            style = {"facecolor": "white", "edgecolor": color,
                     "hatch": hatch, "linewidth": 1.2,
                     "label": f"{row['label']} (plain Linux, same boot)"}
        bars = ax.bar(xs, [v for _, v in pts], width, **style)
        ax.bar_label(bars, labels=[f"{v:,.0f}" for _, v in pts],
                     fontsize=7, padding=2, rotation=90)
    _log_y(ax)
    ax.set_ylim(min(values) / 2, max(values) * 4)   # room for the labels
    ax.set_xticks(range(len(segs)), [seg_label(s) for s in segs])
    m = steps["meta"]
    title = steps.get("title", STEPS_TITLE)
    ax.set_title(f"{title}: Calculate + Build + Put\n"
                 + ("vs plain Linux, " if steps["baselines"] else "")
                 + "no bouncing "
                 f"(median of {m['rounds']} rounds, one "
                 f"{'TCG' if emulated(m) else 'KVM'} guest boot)")
    ax.set_xlabel("Single-page segments per transfer")
    ax.set_ylabel("ns per map + unmap (median, log scale)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2,
              fontsize=8.5, frameon=False)
    _save(fig, path, m)
    return True


def make_plots(res, outdir, steps=None):
    """Write every plot; remove a stale file for a plot without data."""
    makers = {"4k": plot_4k, "seq": plot_seq, "pressure": plot_pressure,
              "pressure-lat": plot_pressure_latency, "micro": plot_micro,
              "fastpath": lambda _, path: (steps is not None
                                           and plot_fastpath(steps, path))}
    done = {}
    for key, maker in makers.items():
        path = os.path.join(outdir, PLOTS[key])
        done[key] = maker(res, path)
        if not done[key] and os.path.exists(path):
            os.remove(path)
    return done


# --------------------------------------------------------------------------

def load(path, check=validate):
    """The document at path, checked by check(); raises BadInput or
    OSError."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except ValueError as e:  # includes json.JSONDecodeError
        raise BadInput(f"not valid JSON: {e}") from e
    check(doc)
    return doc


def main():
    ap = argparse.ArgumentParser(
        description="Write benchmarks.md and bench-*.png from a wdmdma "
                    "benchmark results document, or print its "
                    "microbenchmark as text.")
    ap.add_argument("results", help="results document (JSON)")
    ap.add_argument("outdir", nargs="?",
                    help="directory for benchmarks.md and plots (a "
                         f"{STEPS_FILE} there adds the fast-path plot)")
    ap.add_argument("--previous", metavar="OLD.json",
                    help="an earlier results document: its microbenchmark "
                         "medians go beside the new ones")
    ap.add_argument("--micro-text", action="store_true",
                    help="print the microbenchmark table and targets to "
                         "stdout; write nothing")
    args = ap.parse_args()
    if args.micro_text == (args.outdir is not None):
        ap.error("give OUTDIR, or --micro-text without it")

    docs = {}
    for path in [args.results] + ([args.previous] if args.previous else []):
        try:
            docs[path] = load(path)
        except (OSError, BadInput) as e:
            print(f"bench-report: {path}: {e}", file=sys.stderr)
            return 2
    res = Results(docs[args.results])
    prev = Results(docs[args.previous]) if args.previous else None

    if args.micro_text:
        print("\n".join(micro_text(res, args.results, prev, args.previous)))
        return 0
    if plt is None:
        print("bench-report: matplotlib is missing "
              "(apt-get install python3-matplotlib)", file=sys.stderr)
        return 1

    steps = None
    steps_path = os.path.join(args.outdir, STEPS_FILE)
    if os.path.exists(steps_path):
        try:
            steps = load(steps_path, validate_steps)
        except (OSError, BadInput) as e:
            print(f"bench-report: {steps_path}: {e}", file=sys.stderr)
            return 2

    os.makedirs(args.outdir, exist_ok=True)
    targets = evaluate(res)
    plotted = make_plots(res, args.outdir, steps)
    lines = (md_header(res, args.results) + md_targets(targets)
             + md_fio(res, plotted) + md_pressure(res, plotted)
             + md_micro(res, plotted, prev, args.previous)
             + md_micro_iommu(res) + md_fastpath(steps, plotted))
    with open(os.path.join(args.outdir, "benchmarks.md"), "w",
              encoding="utf-8") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")

    for t in targets:
        print(t.headline())
    return 0


if __name__ == "__main__":
    sys.exit(main())
