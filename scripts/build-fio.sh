#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a static fio from Debian 12's source package for the test guests,
# with only the I/O engines they use (libaio among them) and none of the
# optional libraries: Debian's fio links 64 shared libraries (84 MB, Ceph's
# and RDMA's among them), and in a TCG guest with a KASAN kernel each start
# of it took about 8 s (26 s the first time, over 9p); this one starts in
# about 1 s. About 50 s to build; cached in $WDMDMA_CACHE/fio-<version>-<key>/
# (<key>: a hash of this script, which holds the configure options).
#
# Usage: scripts/build-fio.sh
# Prints the path of the fio binary on stdout; logs go to stderr.
# The guests use it in place of the host's /usr/bin/fio (qemu/guest/hostrun).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_ensure build-essential dpkg-dev libaio-dev

# Bookworm's source package, through the scripts' own sources list
# (apt_suite_src in lib.sh; the machine's apt sources are left alone).
SUITE=bookworm
ver=$(apt_suite_src "$SUITE" cache showsrc fio | sed -n 's/^Version: //p' |
      sort -V | tail -n 1)
[ -n "$ver" ] || die "$SUITE offers no fio source package"
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
dir=$WDMDMA_CACHE/fio-$ver-$key
if [ -x "$dir/fio" ] && [ -f "$dir/.wdmdma-built" ]; then
	echo "$dir/fio"
	exit 0
fi

log "building a static fio $ver from Debian's source package in $dir"
rm -rf "$dir"
suite_source_unpack "$SUITE" fio "$ver" "$dir.tmp"
(cd "$dir.tmp/src" &&
	./configure --build-static --disable-native --disable-numa \
		--disable-rdma --disable-rados --disable-rbd --disable-http \
		--disable-gfapi --disable-libnfs --disable-pmem --disable-xnvme \
		--disable-libzbc --disable-tcmalloc --disable-dfs) \
	> "$dir.tmp/configure.log" 2>&1 ||
	{ tail -n 20 "$dir.tmp/configure.log" >&2; die "configuring fio $ver failed"; }
grep -q '^CONFIG_LIBAIO=y' "$dir.tmp/src/config-host.mak" ||
	die "fio $ver configured without libaio (is libaio-dev installed?)"
# The static glibc's warnings about dlopen() and getaddrinfo() are expected:
# the guests load no external engine and use no network engine.
make -C "$dir.tmp/src" -j"$(nproc)" fio > "$dir.tmp/build.log" 2>&1 ||
	{ tail -n 20 "$dir.tmp/build.log" >&2; die "building fio $ver failed"; }
mkdir -p "$dir"
strip -o "$dir/fio" "$dir.tmp/src/fio"
"$dir/fio" --enghelp | grep -qw libaio || die "the fio built has no libaio engine"
rm -rf "$dir.tmp"
touch "$dir/.wdmdma-built"
echo "$dir/fio"
