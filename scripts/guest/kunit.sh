#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the KUnit groups: load the library, then the KUnit modules
# (their suites run at load and print KTAP), then unload them all.
# Usage: kunit.sh [TEST-MODULE-NAME...]
set -u
rc=0

# Fault injection for the "allocates nothing" tests: every slab and page
# allocation of a task with make_it_fail set fails. Tests set it around the
# code under test and first prove that an allocation really fails.
for f in failslab fail_page_alloc; do
	d=/sys/kernel/debug/$f
	[ -d $d ] || continue
	echo 100 > $d/probability
	echo 1 > $d/interval
	echo -1 > $d/times
	echo Y > $d/task-filter
	echo 0 > $d/verbose
	[ -e $d/ignore-gfp-wait ] && echo N > $d/ignore-gfp-wait
	[ -e $d/ignore-gfp-highmem ] && echo N > $d/ignore-gfp-highmem
done

if [ -e /modules/wdmdma.ko ]; then
	insmod /modules/wdmdma.ko verifier=1 || rc=1
fi
# Which test modules: the ones named on the command line, else every
# *_test.ko except those that need a device of their own (edusg_test).
if [ $# -gt 0 ]; then
	tests=""
	for t in "$@"; do tests="$tests /modules/$t.ko"; done
else
	tests=$(ls /modules/*_test.ko 2>/dev/null | grep -v '/edusg_test.ko$')
fi
for m in $tests; do
	[ -e "$m" ] || { echo "wdmdma-guest: $m missing"; rc=1; continue; }
	echo "wdmdma-guest: loading $(basename $m)"
	insmod "$m" || { echo "wdmdma-guest: insmod $m failed"; rc=1; }
done
for m in $tests; do
	[ -e "$m" ] || continue
	rmmod "$(basename $m .ko)" || rc=1
done
if [ -e /modules/wdmdma.ko ]; then
	rmmod wdmdma || rc=1
fi
exit $rc
