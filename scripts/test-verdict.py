#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Self-test of verdict.py: known logs must give known verdicts."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [
    # log, expected exit status, text the output must contain
    ('pass.log', 0, 'guest: 3 passed, 0 failed'),
    ('fail-case.log', 1, 'FAIL: guest: edu.edu_test_liveness'),
    ('warning.log', 1, 'WARNING: CPU: 1 PID: 70'),
    # 7.x prints WARN() headers as "WARNING: FILE:LINE at FUNC, CPU#N: ..."
    ('pass-7x.log', 0, 'guest: 3 passed, 0 failed'),
    ('pass-7x-nofile.log', 0, 'guest: 3 passed, 0 failed'),
    ('warning-7x.log', 1, 'WARNING: kernel/workqueue.c:5938'),
    ('cut-off.log', 1, 'suite edu was cut off'),
    ('crash.log', 1, 'never reported an exit status'),
    ('kasan.log', 1, 'KASAN report'),
    ('dma-api.log', 1, 'DMA-API debug counted 2 errors'),
    ('kmemleak.log', 1, 'kmemleak report'),
    ('no-tests.log', 1, 'no test ran'),
    ('expect-lockdep.log', 1, 'possible circular locking'),
]


def main():
    bad = 0
    for log, want_rc, want_text in CASES:
        args = [sys.executable, os.path.join(HERE, 'verdict.py'),
                os.path.join(HERE, 'testdata', log)]
        if log.startswith('pass'):
            args[2:2] = ['--expect', 'edu']
        p = subprocess.run(args, capture_output=True, text=True)
        ok = p.returncode == want_rc and want_text in p.stdout
        print(f"{'ok' if ok else 'FAILED'}: {log}: exit {p.returncode}")
        if not ok:
            print(p.stdout)
            bad += 1
    # An expected suite that never reported must fail the run.
    p = subprocess.run([sys.executable, os.path.join(HERE, 'verdict.py'),
                        '--expect', 'wdmdma_missing',
                        os.path.join(HERE, 'testdata', 'pass.log')],
                       capture_output=True, text=True)
    if p.returncode != 1 or 'never reported' not in p.stdout:
        print('FAILED: missing expected suite was not reported')
        bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
