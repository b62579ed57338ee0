#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make docs`: render Documentation/ as HTML into Documentation/output/html
# with Debian's Sphinx; any warning (kernel-doc's included) fails it.
#
# The `.. kernel-doc::` directive is the kernel's Sphinx extension running
# the kernel's scripts/kernel-doc. Both come from Debian's linux-source-6.1
# (its extension works with bookworm's Sphinx 5.3; 7.3's does not),
# unpacked once into $WDMDMA_CACHE/kernel-doc-6.1-<version>;
# WDMDMA_KERNEL_TREE=<a Linux source tree> uses another.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

apt_ensure python3-sphinx python3-sphinx-rtd-theme perl xz-utils

tree=${WDMDMA_KERNEL_TREE:-}
if [ -z "$tree" ]; then
	tarball=$(kernel_source_tarball 6.1) || exit 1
	tree=$WDMDMA_CACHE/kernel-doc-6.1-$(kernel_source_version 6.1)
	if [ ! -f "$tree/.unpacked" ]; then
		log "unpacking kernel-doc and its Sphinx extension from $tarball"
		rm -rf "$tree"
		mkdir -p "$tree" || die "cannot make $tree"
		tar -C "$tree" --strip-components=1 -xJf "$tarball" \
			linux-source-6.1/Documentation/sphinx \
			linux-source-6.1/scripts/kernel-doc ||
			die "unpacking $tarball failed"
		touch "$tree/.unpacked"
	fi
fi
for f in Documentation/sphinx/kerneldoc.py scripts/kernel-doc; do
	[ -f "$tree/$f" ] || die "$tree has no $f"
done

out=$WDMDMA_TOP/Documentation/output
WDMDMA_KERNEL_TREE=$tree sphinx-build -W --keep-going -q -b html \
	-d "$out/doctrees" "$WDMDMA_TOP/Documentation" "$out/html" ||
	die "sphinx-build failed"
echo "$out/html/index.html"
