#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build qemu-system-x86_64 from Debian's qemu source with the edu-sg device
# (qemu/edu-sg/) added, TCG only, plus virtio-9p for sharing the host root
# with the guest. Two QEMU versions, one edu-sg source (the differences are
# listed in qemu/edu-sg/edu-sg-compat.h):
#   7.2   (default) Debian 12's own qemu source package, through a deb-src
#         entry for bookworm in the machine's apt sources (as before).
#   10.0  bookworm-backports' qemu, read through a deb-src list the scripts
#         own (apt_suite_src in lib.sh; the machine's apt sources are left
#         alone). Its meson (>= 1.5) and pycotap come from
#         bookworm-backports too, unpacked under $WDMDMA_CACHE/apt rather
#         than installed, so the machine keeps bookworm's meson for 7.2.
#
# Two cache levels under $WDMDMA_CACHE:
#   qemu-tree-<ver>-<treekey>/  patched, configured source and build tree,
#                               keyed by the source version and the
#                               configure/patch recipe below; reused for
#                               incremental rebuilds when edu-sg changes.
#                               One per QEMU version is kept.
#   qemu-<ver>-<key>/           the result: bin/qemu-system-x86_64 and
#                               share/qemu/ (firmware symlinks), keyed by the
#                               source version and a hash of the edu-sg build
#                               files (qemu/edu-sg/* except *.md and *.py)
#                               and this script. .wdmdma-built marks it
#                               complete.
#
# The binary finds its firmware in ../share/qemu relative to itself (QEMU's
# relocatable data directory), so no -L option is needed.
#
# Usage: scripts/build-qemu.sh [7.2|10.0]      (default 7.2)
# Prints the path of qemu-system-x86_64 on stdout; logs go to stderr.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

SERIES=${1:-7.2}
case "$SERIES" in
7.2|10.0) ;;
*) die "unknown QEMU version '$SERIES' (want 7.2 or 10.0)" ;;
esac

SRC_LIST=/etc/apt/sources.list.d/wdmdma-src.sources
# The suite of QEMU 10.0's source package (10.0.2 there on 2026-12-02).
SUITE_10=bookworm-backports
EDU_SG_DIR=$WDMDMA_TOP/qemu/edu-sg
SELF=$WDMDMA_TOP/scripts/build-qemu.sh

# Everything that shapes the build tree; changing it makes a new tree.
CONFIGURE_ARGS=(
	--target-list=x86_64-softmmu
	--without-default-features
	--enable-tcg
	--disable-docs
	--disable-install-blobs
	--enable-fdt=system
	--enable-virtfs
	--enable-attr
	--enable-cap-ng
)
TREE_RECIPE="tree-1 ${CONFIGURE_ARGS[*]}"
# 10.0: Debian's python3 and no downloads (meson and pycotap must come
# from the unpacked backports packages, not from PyPI).
CONFIGURE_ARGS_10=(--python=/usr/bin/python3 --disable-download)

BUILD_DEPS=(build-essential ninja-build meson python3 pkg-config dpkg-dev
	libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev libcap-ng-dev)
# Firmware the binary loads at run time (seabios BIOS, option ROMs such as
# kvmvapic.bin and linuxboot_dma.bin, iPXE ROMs for NICs).
RUNTIME_DEPS=(seabios ipxe-qemu qemu-system-data)
# 10.0's configure builds a Python venv (python3-venv) and writes its
# console scripts with distlib.
BUILD_DEPS_10=(python3-venv python3-distlib)
# Python packages 10.0's configure needs that bookworm has too old (meson
# 1.0) or not at all (pycotap); taken from $SUITE_10.
PYDEPS_10=(meson python3-pycotap)

# (grep -c, not grep -q: an early exit would kill the writer with SIGPIPE,
# which pipefail turns into a failure.)
qemu_src_available() {
	apt-cache showsrc --only-source qemu 2>/dev/null |
		grep -c '^Version:' >/dev/null
}

ensure_deb_src() {
	qemu_src_available && return 0
	[ "$(id -u)" -eq 0 ] || die "need root to add a deb-src entry"
	if [ ! -f "$SRC_LIST" ]; then
		log "adding $SRC_LIST"
		cat >"$SRC_LIST" <<-'EOF'
		# Added by wdmdma scripts/build-qemu.sh: source packages for
		# building QEMU with the edu-sg test device.
		Types: deb-src
		URIs: http://deb.debian.org/debian
		Suites: bookworm bookworm-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	fi
	apt-get update -qq >&2 || die "apt-get update failed"
	mkdir -p "$WDMDMA_CACHE" && touch "$WDMDMA_CACHE/.apt-updated"
	qemu_src_available || die "no qemu source package after adding $SRC_LIST"
}

# File name of the .dsc that "apt-get source qemu" would fetch.
qemu_dsc_name() {
	apt-get source --print-uris -qq qemu 2>/dev/null |
		awk '$2 ~ /^qemu_.*\.dsc$/ && !found { print $2; found = 1 }'
}

# 10.0 is built from the upstream tarball of $SUITE_10's qemu source
# package alone (QEMU 10.0.x as Debian repacked it, "+ds"), without
# Debian's patches: on 2026-12-02 the mirror served that package's
# .orig.tar.xz but answered 404 for its .dsc and .debian.tar.xz, so
# "apt-get source" could not fetch it. apt still names the tarball and its
# SHA256 from the signed Sources index, and apt-helper checks it.

# "URI NAME SHA256:..." of the .orig.tar.xz of $SUITE_10's qemu.
qemu_orig_10() {
	apt_suite_src "$SUITE_10" source --print-uris -qq qemu 2>/dev/null |
		awk '$2 ~ /^qemu_.*\.orig\.tar\.xz$/ && !found {
			gsub("\047", "", $1); print $1, $2, $4; found = 1 }'
}

# pydeps_10: unpack $PYDEPS_10 from $SUITE_10 (all Architecture: all) and
# print the directory to put on PYTHONPATH.
pydeps_10() {
	local p v id="" d
	for p in "${PYDEPS_10[@]}"; do
		v=$(suite_version "$SUITE_10" "$p") || die "$SUITE_10 offers no $p"
		id+="${id:+_}$p-$v"
	done
	d=$WDMDMA_CACHE/apt/$SUITE_10/pydeps-$(echo "$id" | sha256sum | cut -c1-12)
	if [ ! -f "$d/.unpacked" ]; then
		log "fetching ${PYDEPS_10[*]} from $SUITE_10 ($id)"
		rm -rf "$d" && mkdir -p "$d"
		(cd "$d" && apt_suite "$SUITE_10" download "${PYDEPS_10[@]}" >&2) ||
			die "downloading ${PYDEPS_10[*]} from $SUITE_10 failed"
		for p in "$d"/*.deb; do
			dpkg-deb -x "$p" "$d/root" || die "unpacking $p failed"
		done
		echo "$id" >"$d/versions"
		rm -f "$d"/*.deb && touch "$d/.unpacked"
	fi
	echo "$d/root/usr/lib/python3/dist-packages"
}

# Hash of the files that go into the binary.
result_key() {
	local f
	{
		echo recipe-1
		for f in "$EDU_SG_DIR"/*; do
			case "$f" in *.md|*.py) continue ;; esac
			echo "== ${f##*/}"
			cat "$f"
		done
		echo "== build-qemu.sh"
		cat "$SELF"
	} | sha256sum | cut -c1-12
}

# unpack_7 TREE DSC: fetch Debian's qemu source package (the machine's
# bookworm) and unpack it, patches applied, in TREE/src.
unpack_7() {
	local tree=$1 dsc=$2 dl=$WDMDMA_CACHE/qemu-src

	# Kept between builds; apt-get skips files it already has (hash-checked).
	mkdir -p "$dl"
	log "fetching qemu source ($dsc)"
	(cd "$dl" && apt-get source -qq --download-only qemu) \
		>"$dl/download.log" 2>&1 ||
		{ cat "$dl/download.log" >&2; die "apt-get source qemu failed"; }
	[ -f "$dl/$dsc" ] || die "$dsc missing after download"

	rm -rf "$tree"
	mkdir -p "$tree"
	# apt verified the files against the signed Release file already.
	dpkg-source --no-check -x "$dl/$dsc" "$tree/src" >"$tree/unpack.log" 2>&1 ||
		{ tail -n 20 "$tree/unpack.log" >&2; die "dpkg-source -x failed"; }
}

# unpack_10 TREE "URI NAME HASH": fetch the .orig.tar.xz of $SUITE_10's
# qemu (see qemu_orig_10) and unpack it in TREE/src.
unpack_10() {
	local tree=$1 uri name hash dl=$WDMDMA_CACHE/qemu-src
	read -r uri name hash <<<"$2"

	mkdir -p "$dl"
	if [ ! -f "$dl/$name" ]; then
		log "fetching qemu source ($name from $SUITE_10)"
		/usr/lib/apt/apt-helper -o APT::Sandbox::User=root \
			download-file "$uri" "$dl/$name.part" "$hash" \
			>"$dl/download.log" 2>&1 ||
			{ cat "$dl/download.log" >&2; rm -f "$dl/$name.part"
			  die "downloading $name failed"; }
		mv "$dl/$name.part" "$dl/$name"
	fi

	rm -rf "$tree"
	mkdir -p "$tree/src"
	tar -xJf "$dl/$name" -C "$tree/src" --strip-components=1 ||
		die "unpacking $name failed"
}

# Unpack (unpack_7 or unpack_10 with SRC), patch and configure the source
# tree in TREE.
prepare_tree() {
	local tree=$1 src=$2 f

	if [ "$SERIES" = 7.2 ]; then
		unpack_7 "$tree" "$src"
	else
		unpack_10 "$tree" "$src"
	fi

	cd "$tree/src"
	# The dfsg tarball lacks the edk2 firmware images that pc-bios/meson.build
	# unpacks with bzip2; we do not need them (SeaBIOS boots the guests).
	sed -i 's/^if unpack_edk2_blobs$/if false # wdmdma: no edk2 blobs/' \
		pc-bios/meson.build
	grep -q '^if false # wdmdma' pc-bios/meson.build ||
		die "could not patch out the edk2 blobs in pc-bios/meson.build"
	# Hook in the edu-sg directory (copied in before every build).
	mkdir -p hw/misc/edu-sg
	printf "\n# wdmdma\nsubdir('edu-sg')\n" >>hw/misc/meson.build
	printf "\n# wdmdma\nsource edu-sg/Kconfig\n" >>hw/misc/Kconfig
	for f in $(edu_sg_files); do
		cp "$EDU_SG_DIR/$f" hw/misc/edu-sg/
	done

	mkdir -p build
	cd build
	log "configuring qemu"
	../configure "${CONFIGURE_ARGS[@]}" >configure.log 2>&1 ||
		{ tail -n 30 configure.log >&2; die "qemu configure failed"; }
	# 7.2 says "VirtFS support", 10.0 "VirtFS (9P) support".
	grep -Eq '^ *VirtFS (\(9P\) )?support *: *YES' configure.log ||
		die "qemu configured without VirtFS"
	touch "$tree/.wdmdma-configured"
}

# The edu-sg files that go into QEMU's tree (as in result_key).
edu_sg_files() {
	local f
	for f in "$EDU_SG_DIR"/*; do
		case "$f" in *.md|*.py) continue ;; esac
		echo "${f##*/}"
	done
}

# Copy the edu-sg files into the tree, updating only what changed so that
# ninja rebuilds no more than needed.
sync_edu_sg() {
	local tree=$1 f
	for f in $(edu_sg_files); do
		cmp -s "$EDU_SG_DIR/$f" "$tree/src/hw/misc/edu-sg/$f" ||
			cp "$EDU_SG_DIR/$f" "$tree/src/hw/misc/edu-sg/$f"
	done
}

# Directory of firmware symlinks that QEMU finds as its data directory.
make_datadir() {
	local dir=$1 d f
	mkdir -p "$dir"
	# Later directories win: seabios's BIOS, iPXE's ROMs over anything older.
	for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
		[ -d "$d" ] || die "$d missing (firmware package not installed?)"
		for f in "$d"/*; do
			ln -sfn "$f" "$dir/${f##*/}"
		done
	done
	for f in bios-256k.bin kvmvapic.bin linuxboot_dma.bin efi-virtio.rom; do
		[ -e "$dir/$f" ] || die "firmware $f not found"
	done
}

# Remove other build trees of this QEMU version (only builds use them, and
# we hold the lock), leftovers of failed builds, and results not used for a
# day.
prune() {
	local keep_out=$1 keep_tree=$2 d
	for d in "$WDMDMA_CACHE/qemu-tree-$SERIES"[.+]*; do
		[ -d "$d" ] && [ "$d" != "$keep_tree" ] && rm -rf "$d"
	done
	for d in "$WDMDMA_CACHE"/qemu-[0-9]*; do
		[ -d "$d" ] && [ "$d" != "$keep_out" ] || continue
		case "$d" in
		*.tmp) rm -rf "$d" ;;
		*) [ -z "$(find "$d/.wdmdma-built" -mmin -1440 2>/dev/null)" ] &&
			rm -rf "$d" ;;
		esac
	done
	return 0
}

main() {
	local src ver key out tree treekey start bin pypath

	[ -f "$EDU_SG_DIR/edu-sg.c" ] || die "$EDU_SG_DIR/edu-sg.c missing"
	if [ "$SERIES" = 7.2 ]; then
		apt_ensure "${BUILD_DEPS[@]}" "${RUNTIME_DEPS[@]}"
		ensure_deb_src
		src=$(qemu_dsc_name)
		[ -n "$src" ] || die "cannot tell which qemu source apt would fetch"
		ver=${src#qemu_}
		ver=${ver%.dsc}
	else
		apt_ensure "${BUILD_DEPS[@]}" "${BUILD_DEPS_10[@]}" "${RUNTIME_DEPS[@]}"
		src=$(qemu_orig_10)
		[ -n "$src" ] || die "$SUITE_10 offers no qemu source"
		ver=${src#* qemu_}
		ver=${ver%%.orig.tar.xz*}
		case "$ver" in
		10.0.*) ;;
		*) die "$SUITE_10 offers qemu $ver, not 10.0.x" ;;
		esac
	fi
	key=$(result_key)
	out=$WDMDMA_CACHE/qemu-$ver-$key
	bin=$out/bin/qemu-system-x86_64
	if [ -f "$out/.wdmdma-built" ]; then
		touch "$out/.wdmdma-built" 2>/dev/null || true  # last use, for prune
		echo "$bin"
		return 0
	fi

	mkdir -p "$WDMDMA_CACHE"
	exec 9>"$WDMDMA_CACHE/.qemu-build.lock"
	flock 9
	if [ -f "$out/.wdmdma-built" ]; then    # built while we waited
		echo "$bin"
		return 0
	fi

	start=$(date +%s)
	if [ "$SERIES" = 10.0 ]; then
		pypath=$(pydeps_10)
		# configure checks these versions; ninja reruns meson from them.
		export PYTHONPATH=$pypath${PYTHONPATH:+:$PYTHONPATH}
		CONFIGURE_ARGS+=("${CONFIGURE_ARGS_10[@]}")
		TREE_RECIPE="tree-1 ${CONFIGURE_ARGS[*]} $(cat "${pypath%/root/*}/versions")"
	fi
	treekey=$(echo "$TREE_RECIPE" | sha256sum | cut -c1-12)
	tree=$WDMDMA_CACHE/qemu-tree-$ver-$treekey
	if [ ! -f "$tree/.wdmdma-configured" ]; then
		log "preparing qemu $ver source tree in $tree (cold build: a few minutes)"
		prepare_tree "$tree" "$src"
	fi
	sync_edu_sg "$tree"

	log "building qemu-system-x86_64 (log: $tree/src/build/build.log)"
	cd "$tree/src/build"
	run_with_progress "building QEMU" build.log ninja_progress \
		ninja -j"$(nproc)" qemu-system-x86_64 ||
		{ grep -E 'error|warning' build.log | head -n 40 >&2 || true
		  tail -n 20 build.log >&2; die "qemu build failed"; }
	if grep -E 'edu-sg[-a-z]*\.[ch]:[0-9]+:[0-9]+: warning' build.log >&2; then
		# Make the next run compile it again rather than pass silently.
		find . -name '*edu-sg.c.o' -delete
		die "edu-sg.c compiled with warnings"
	fi

	./qemu-system-x86_64 -device help >devices.txt 2>&1 ||
		die "built qemu does not run"
	grep -q '"edu-sg"' devices.txt || die "edu-sg missing from -device help"
	grep -q '"virtio-9p-pci"' devices.txt ||
		die "virtio-9p-pci missing from -device help"

	rm -rf "$out.tmp"
	mkdir -p "$out.tmp/bin"
	cp build.log "$out.tmp/"
	cp qemu-system-x86_64 "$out.tmp/bin/"
	make_datadir "$out.tmp/share/qemu"
	# QEMU prints its data directories as <bindir>/../share/qemu.
	"$out.tmp/bin/qemu-system-x86_64" -M none -L help 2>/dev/null |
		xargs -r -d '\n' readlink -m | grep -cx "$out.tmp/share/qemu" >/dev/null ||
		die "installed qemu does not look in $out.tmp/share/qemu"
	rm -rf "$out"
	mv "$out.tmp" "$out"
	touch "$out/.wdmdma-built"
	prune "$out" "$tree"
	log "qemu built in $(( $(date +%s) - start )) s"
	echo "$bin"
}

main "$@"
