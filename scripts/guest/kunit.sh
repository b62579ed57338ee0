#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the KUnit groups: load the library, then the KUnit modules
# (their suites run at load and print KTAP), then unload them all.
#
# Usage: kunit.sh [MODULE.PARAM=VALUE...] [TEST-MODULE...]
#   TEST-MODULE         a test module by name, without .ko (wdmdma_get_test);
#                       loaded in the order given. None named: every
#                       /modules/*_test.ko except edusg_test (it needs the
#                       edu-sg device), in name order.
#   MODULE.PARAM=VALUE  an insmod parameter for the library (MODULE wdmdma)
#                       or a test module, in any position. Values have no
#                       spaces. wdmdma is loaded with verifier=1 unless
#                       wdmdma.verifier=0 turns the verifier off.
# Examples:
#   kunit.sh wdmdma_iommu_test.expect=none
#   kunit.sh wdmdma.verifier=0 wdmdma_get_test wdmdma_ex_test
set -u
rc=0
params=""	# one "MODULE PARAM=VALUE" per line
names=""
for a in "$@"; do
	case "$a" in
	*=*)
		m=${a%%.*}
		case "$m" in
		""|*=*|*/*) echo "kunit.sh: '$a' is not MODULE.PARAM=VALUE"; exit 2 ;;
		esac
		params="$params$m ${a#*.}
"
		;;
	*) names="$names $a" ;;
	esac
done

# mod_params MODULE: its parameters, space-separated.
mod_params() {
	printf '%s' "$params" | sed -n "s/^$1 //p" | tr '\n' ' ' | sed 's/ $//'
}

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

# Which test modules: the ones named, else every *_test.ko except those
# that need a device of their own (edusg_test).
if [ -n "$names" ]; then
	tests=""
	for t in $names; do tests="$tests /modules/$t.ko"; done
else
	tests=$(ls /modules/*_test.ko 2>/dev/null | grep -v '/edusg_test.ko$' |
		tr '\n' ' ')
fi

# A parameter for a module that is not loaded is a typo: refuse it.
for m in $(printf '%s' "$params" | cut -d' ' -f1 | sort -u); do
	case " /modules/wdmdma.ko $tests " in
	*" /modules/$m.ko "*) ;;
	*) echo "kunit.sh: parameter for $m, which is not loaded here"; rc=1 ;;
	esac
done

if [ -e /modules/wdmdma.ko ]; then
	args=$(mod_params wdmdma)
	case " $args" in
	*" verifier="*) ;;
	*) args="verifier=1${args:+ $args}" ;;
	esac
	echo "wdmdma-guest: insmod wdmdma.ko $args"
	# shellcheck disable=SC2086
	insmod /modules/wdmdma.ko $args || rc=1
	echo "wdmdma-guest: wdmdma verifier=$(cat /sys/module/wdmdma/parameters/verifier 2>/dev/null)"
fi
for m in $tests; do
	[ -e "$m" ] || { echo "wdmdma-guest: $m missing"; rc=1; continue; }
	args=$(mod_params "$(basename "$m" .ko)")
	echo "wdmdma-guest: loading $(basename "$m")${args:+ $args}"
	# shellcheck disable=SC2086
	insmod "$m" $args || { echo "wdmdma-guest: insmod $m failed"; rc=1; }
done
for m in $tests; do
	[ -e "$m" ] || continue
	rmmod "$(basename "$m" .ko)" || rc=1
done
if [ -e /modules/wdmdma.ko ]; then
	rmmod wdmdma || rc=1
fi
exit $rc
