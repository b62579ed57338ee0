#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a guest console log: KUnit KTAP, shell checks and kernel reports.

Usage: verdict.py [--expect SUITE]... [--results FILE] [--label L] LOG

Counts every KUnit case (KTAP "ok"/"not ok" lines one level below a suite)
and every shell check ("wdmdma-check: ok|not ok|skip NAME"). Fails when
  - any case or check failed,
  - an expected suite never reported, or a suite was cut off mid-way,
  - the guest did not report "WDMDMA-EXIT: 0" and "WDMDMA-DONE" (crash,
    hang or timeout),
  - the console shows a KASAN, lockdep, kmemleak, DMA-API debug, BUG, Oops
    or WARNING report (WARNINGs between "wdmdma-test: expect-warning-begin"
    and "...-end" lines are expected and do not count),
  - nothing at all was tested.
Appends "PASS|FAIL|SKIP <label>: <name>" lines to --results and prints
"N passed, N failed[, N skipped]" last. Exit status 1 on failure.
"""

import argparse
import re
import sys

TS = re.compile(r'^\[\s*\d+\.\d+\]\s?')
RESULT = re.compile(r'^(?P<indent>\s*)(?P<not>not )?ok (?P<num>\d+)(?: -)? '
                    r'(?P<name>[^#]*?)\s*(?:#\s*(?P<dir>\S+)(?P<why>.*))?$')
SUBTEST = re.compile(r'^(?P<indent>\s*)# Subtest: (?P<name>\S+)')
CHECK = re.compile(r'wdmdma-check: (?P<res>ok|not ok|skip) (?P<name>.*)$')

# Kernel reports that fail a run, whatever the tests said.
BAD = [
    (re.compile(r'BUG: KASAN'), 'KASAN report'),
    (re.compile(r'BUG: '), 'kernel BUG'),
    (re.compile(r'Oops|general protection fault|Kernel panic'), 'kernel crash'),
    (re.compile(r'possible circular locking|possible recursive locking|'
                r'inconsistent lock state|lock held when returning|'
                r'suspicious RCU usage|INFO: lockdep'), 'lockdep report'),
    (re.compile(r'unreferenced object 0x'), 'kmemleak report'),
    (re.compile(r'DMA-API: (debugging out of memory|.*device driver)|'
                r'dma-debug disabled|DMA-API: .*disabl'),
     'DMA-API debug report'),
    (re.compile(r'rcu: INFO: .*stall|detected stalls'), 'RCU stall'),
    (re.compile(r'blocked for more than \d+ seconds'), 'hung task'),
]
WARN = re.compile(r'WARNING: ')
# A WARN() header: "WARNING: CPU: 0 PID: 1 at FILE:LINE FUNC" up to 6.x,
# "WARNING: [FILE:LINE ]at FUNC, CPU#0: COMM/PID" in 7.x.
WARN_HEADER = re.compile(r'WARNING: (CPU: \d+ PID: \d+ at |(\S+:\d+ )?at .+, CPU#\d+: )')
EXPECT_BEGIN = 'wdmdma-test: expect-warning-begin'
EXPECT_END = 'wdmdma-test: expect-warning-end'


def judge(lines, expect):
    """Return (cases, problems): cases is a list of (result, name)."""
    cases = []
    problems = []
    suites = {}          # name -> 'open' | 'ok' | 'not ok'
    stack = []           # (indent, suite name) of open suites
    exit_status = None
    done = False
    in_expect = 0
    seen_expected_warn = 0

    for raw in lines:
        line = TS.sub('', raw.rstrip('\r\n'))
        body = line.strip()

        if EXPECT_BEGIN in line:
            in_expect += 1
            continue
        if EXPECT_END in line:
            in_expect = max(0, in_expect - 1)
            continue

        m = re.search(r'WDMDMA-EXIT: (\d+)', line)
        if m:
            exit_status = int(m.group(1))
            continue
        if 'WDMDMA-DONE' in line:
            done = True
            continue
        if 'WDMDMA-TIMEOUT' in line:
            problems.append('guest timed out')
            continue
        m = re.search(r'WDMDMA-DMA-API-ERRORS: (\d+)', line)
        if m and int(m.group(1)) != 0:
            problems.append(f'DMA-API debug counted {m.group(1)} errors')
            continue

        m = CHECK.search(line)
        if m:
            res = {'ok': 'PASS', 'not ok': 'FAIL', 'skip': 'SKIP'}[m.group('res')]
            cases.append((res, 'check ' + m.group('name').strip()))
            continue

        m = SUBTEST.match(line)
        if m:
            indent = len(m.group('indent'))
            stack = [s for s in stack if s[0] < indent]
            stack.append((indent, m.group('name')))
            if indent <= 4:
                suites[m.group('name')] = 'open'
            continue

        m = RESULT.match(line)
        if m and stack:
            indent = len(m.group('indent'))
            name = m.group('name').strip()
            failed = m.group('not') is not None
            skipped = (m.group('dir') or '').upper() == 'SKIP'
            # A suite's own result line sits one level above its header.
            suite_indent, suite = stack[-1]
            if indent < suite_indent and name == suite:
                stack.pop()
                if suite in suites:
                    suites[suite] = 'not ok' if failed else 'ok'
                continue
            if indent == suite_indent and suite in suites:
                res = 'FAIL' if failed else ('SKIP' if skipped else 'PASS')
                cases.append((res, f'{suite}.{name}'))
            continue

        if WARN.search(line):
            # Only a WARN() header may be expected; lockdep's "WARNING:
            # possible ..." and the like never are.
            if in_expect and WARN_HEADER.search(line):
                seen_expected_warn += 1
            else:
                problems.append('WARNING: ' + body[:160])
            continue
        for pat, what in BAD:
            if pat.search(line):
                problems.append(f'{what}: {body[:160]}')
                break

    for name, state in suites.items():
        if state == 'open':
            problems.append(f'suite {name} was cut off before its result')
        elif state == 'not ok' and not any(
                r == 'FAIL' and n.startswith(name + '.') for r, n in cases):
            problems.append(f'suite {name} reported failure')
    for name in expect:
        if name not in suites:
            problems.append(f'expected suite {name} never reported')
    if exit_status is None:
        problems.append('guest never reported an exit status (crash or hang)')
    elif exit_status != 0:
        problems.append(f'guest command exited with status {exit_status}')
    elif not done:
        problems.append('guest did not finish its end-of-run checks')
    if not cases:
        problems.append('no test ran')
    return cases, problems


def main():
    # Whole lines: make check runs two guest streams into one stdout.
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser()
    ap.add_argument('--expect', action='append', default=[])
    ap.add_argument('--results')
    ap.add_argument('--label', default='guest')
    ap.add_argument('log')
    args = ap.parse_args()

    try:
        with open(args.log, errors='replace') as f:
            lines = f.readlines()
    except OSError as e:
        lines = []
        print(f'cannot read {args.log}: {e}', file=sys.stderr)

    cases, problems = judge(lines, args.expect)
    out = []
    for res, name in cases:
        if res != 'PASS':
            print(f'{res}: {args.label}: {name}')
        out.append(f'{res} {args.label}: {name}')
    for p in problems:
        print(f'FAIL: {args.label}: {p}')
        out.append(f'FAIL {args.label}: {p}')
    if args.results:
        with open(args.results, 'a') as f:
            f.write(''.join(line + '\n' for line in out))

    passed = sum(1 for r, _ in cases if r == 'PASS')
    failed = sum(1 for r, _ in cases if r == 'FAIL') + len(problems)
    skipped = sum(1 for r, _ in cases if r == 'SKIP')
    tail = f', {skipped} skipped' if skipped else ''
    print(f'{args.label}: {passed} passed, {failed} failed{tail}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
