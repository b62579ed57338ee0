# SPDX-License-Identifier: GPL-2.0
# Guest test groups, sourced by scripts/check.sh once per kernel series.
# guest_group SERIES NAME "run-guest.sh options" GUEST-SCRIPT "expected suites"

guest_group "$series" kunit "--mem 1G --smp 2 --timeout 900" kunit.sh \
	"edu"
