#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a test kernel from Debian's linux-source-<series> package:
# allnoconfig + qemu/kconfig/*.config, check that every option stuck, build
# bzImage and modules. The result is cached outside the clone, keyed by the
# source package version and a hash of the fragments and this script.
#
# Usage: scripts/build-kernel.sh SERIES [bench]   (SERIES is 6.1, 6.12 or 7.3)
# "bench" adds qemu/kconfig/bench/*.config: the same kernel without the
# debugging options, for `make bench`.
# Prints the kernel build directory on stdout.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:?usage: build-kernel.sh 6.1|6.12|7.3 [bench]}
flavor=${2:-}
case "$series" in
6.1|6.12|7.3) ;;
*) die "unknown kernel series '$series' (want 6.1, 6.12 or 7.3)" ;;
esac
case "$flavor" in
''|bench) ;;
*) die "unknown kernel flavor '$flavor' (want none or bench)" ;;
esac
mapfile -t extra < <(kernel_fragments_flavor "$flavor")

apt_ensure build-essential bc bison flex libelf-dev libssl-dev cpio kmod \
	xz-utils python3

# The source first: its version is part of the cache key.
tarball=$(kernel_source_tarball "$series")
[ -f "$tarball" ] || die "$tarball missing after installing linux-source-$series"
dir=$(kernel_dir "$series" "$flavor")
if [ -f "$dir/.wdmdma-built" ]; then
	echo "$dir"
	exit 0
fi

log "building ${flavor:-test} kernel $series in $dir (cold: a few minutes)"
start=$(date +%s)
rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp"
tar -C "$dir.tmp" --strip-components=1 -xf "$tarball"
cd "$dir.tmp"

make -s allnoconfig
scripts/kconfig/merge_config.sh -m .config "$WDMDMA_TOP"/qemu/kconfig/*.config \
	"${extra[@]}" >/dev/null
make -s olddefconfig

# Options of the fragments that a series no longer has; the check below
# makes sure they really are gone from its Kconfig files.
case "$series" in
# 2026-12-02: 7.3 has no DMA_API_DEBUG_SG (its scatterlist checks are no
# longer a separate option).
7.3) gone_re=CONFIG_DMA_API_DEBUG_SG ;;
*) gone_re= ;;
esac

# olddefconfig silently drops options whose dependencies are unmet. A
# flavor's "is not set" lines override the base fragments.
bad=0
unset_re=$(sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' /dev/null "${extra[@]}" |
	paste -sd'|')
while read -r line; do
	if [ -n "$unset_re" ] && echo "$line" | grep -qE "^($unset_re)="; then
		continue
	fi
	if [ -n "$gone_re" ] && echo "$line" | grep -qE "^($gone_re)="; then
		sym=${line%%=*}
		if grep -rqx "config ${sym#CONFIG_}" --include='Kconfig*' .; then
			echo "error: ${sym} is listed as gone from $series but exists" >&2
			bad=1
		fi
		continue
	fi
	if ! grep -qx "$line" .config; then
		echo "error: $line did not stick in the $series config" >&2
		bad=1
	fi
done < <(grep -hE '^CONFIG_[A-Z0-9_]+=[ym0-9"]' "$WDMDMA_TOP"/qemu/kconfig/*.config "${extra[@]}")
for opt in ${unset_re//|/ }; do
	if grep -qE "^$opt=" .config; then
		echo "error: $opt is still set in the $series $flavor config" >&2
		bad=1
	fi
done
[ $bad -eq 0 ] || die "kernel config check failed"

run_with_progress "building kernel $series (${flavor:-test} config)" build.log kbuild_progress \
	make -j"$(nproc)" bzImage modules ||
	{ grep -E 'error|warning:' build.log | head -n 20 >&2; tail -n 40 build.log >&2
	  die "kernel $series build failed"; }

cd /
mv "$dir.tmp" "$dir"
touch "$dir/.wdmdma-built"
log "kernel $series built in $(( $(date +%s) - start )) s"
echo "$dir"
