#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a test kernel from Debian's linux-source-<series> package:
# allnoconfig + qemu/kconfig/*.config, check that every option stuck, build
# bzImage and modules. The result is cached outside the clone, keyed by the
# source package version and a hash of the fragments and this script.
#
# Usage: scripts/build-kernel.sh SERIES     (SERIES is 6.1 or 6.12)
# Prints the kernel build directory on stdout.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:?usage: build-kernel.sh 6.1|6.12}
case "$series" in
6.1|6.12) ;;
*) die "unknown kernel series '$series' (want 6.1 or 6.12)" ;;
esac

apt_ensure build-essential bc bison flex libelf-dev libssl-dev cpio kmod \
	xz-utils python3 "linux-source-$series"

dir=$(kernel_dir "$series")
if [ -f "$dir/.wdmdma-built" ]; then
	echo "$dir"
	exit 0
fi

tarball=/usr/src/linux-source-$series.tar.xz
[ -f "$tarball" ] || die "$tarball missing after installing linux-source-$series"

log "building test kernel $series in $dir (cold: a few minutes)"
start=$(date +%s)
rm -rf "$dir" "$dir.tmp"
mkdir -p "$dir.tmp"
tar -C "$dir.tmp" --strip-components=1 -xf "$tarball"
cd "$dir.tmp"

make -s allnoconfig
scripts/kconfig/merge_config.sh -m .config "$WDMDMA_TOP"/qemu/kconfig/*.config >/dev/null
make -s olddefconfig

# olddefconfig silently drops options whose dependencies are unmet.
bad=0
while read -r line; do
	if ! grep -qx "$line" .config; then
		echo "error: $line did not stick in the $series config" >&2
		bad=1
	fi
done < <(grep -hE '^CONFIG_[A-Z0-9_]+=[ym0-9"]' "$WDMDMA_TOP"/qemu/kconfig/*.config)
[ $bad -eq 0 ] || die "kernel config check failed"

make -s -j"$(nproc)" bzImage modules >build.log 2>&1 ||
	{ tail -n 40 build.log >&2; die "kernel $series build failed"; }

cd /
mv "$dir.tmp" "$dir"
touch "$dir/.wdmdma-built"
log "kernel $series built in $(( $(date +%s) - start )) s"
echo "$dir"
