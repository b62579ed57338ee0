#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build sparse from Debian sid's source package (0.6.5~rc1 on 2026-12-02),
# for the kernels whose scripts/checker-valid.sh refuses bookworm's 0.6.4:
# 7.3 does, and then silently turns C=2 off. Only the sparse binary is
# built (about 15 s), with the machine's gcc, and cached in
# $WDMDMA_CACHE/sparse-<version>/.
#
# Usage: scripts/build-sparse.sh
# Prints the path of the sparse binary on stdout; logs go to stderr.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUITE=sid

apt_ensure build-essential dpkg-dev
ver=$(apt_suite_src "$SUITE" cache showsrc sparse | sed -n 's/^Version: //p' |
      sort -V | tail -n 1)
[ -n "$ver" ] || die "$SUITE offers no sparse source package"
dir=$WDMDMA_CACHE/sparse-$ver
if [ -x "$dir/sparse" ] && [ -f "$dir/.wdmdma-built" ]; then
	echo "$dir/sparse"
	exit 0
fi

log "building sparse $ver from $SUITE's source package in $dir"
rm -rf "$dir"
suite_source_unpack "$SUITE" sparse "$ver" "$dir.tmp"
# CC=gcc: Debian's packaging asks for the gcc it builds with there.
make -C "$dir.tmp/src" -j"$(nproc)" CC=gcc sparse > "$dir.tmp/build.log" 2>&1 ||
	{ tail -n 20 "$dir.tmp/build.log" >&2; die "building sparse $ver failed"; }
mkdir -p "$dir"
cp "$dir.tmp/src/sparse" "$dir/sparse"
rm -rf "$dir.tmp"
touch "$dir/.wdmdma-built"
echo "$dir/sparse"
