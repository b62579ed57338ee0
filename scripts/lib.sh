# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the scripts in this directory. Source it; do not run it.

WDMDMA_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WDMDMA_CACHE=${WDMDMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wdmdma}
# Kernel series the scripts can build (scripts/build-kernel.sh), oldest
# first, and those `make check` tests by default.
WDMDMA_KNOWN_SERIES="6.1 6.12 7.3"
WDMDMA_SERIES=${WDMDMA_SERIES:-"6.1 7.3"}
# Debian kernels whose packaged headers the modules build against, and
# whose stock kernels load them (scripts/check.sh).
WDMDMA_DISTRO_SERIES=${WDMDMA_DISTRO_SERIES:-"6.1 6.12"}
# QEMU versions the edu-sg device model is built for and qtested on
# (scripts/build-qemu.sh); the guests run on the first.
WDMDMA_QEMU_VERSIONS=${WDMDMA_QEMU_VERSIONS:-"7.2"}
# The newest series runs the slowest device groups; the others skip them
# (scripts/guest-groups.sh).
WDMDMA_NEWEST_SERIES=${WDMDMA_SERIES##* }

die() {
	echo "error: $*" >&2
	exit 1
}

log() {
	echo ">>> $*" >&2
}

# run_with_progress LABEL LOG COUNTER CMD...: run CMD with its output in
# LOG and, while it runs, print a progress line every minute: LABEL, the
# minutes so far and what COUNTER (a function given LOG) says about LOG.
# Returns CMD's status.
run_with_progress() {
	local label=$1 logf=$2 counter=$3 pid t0 n=0
	shift 3
	"$@" > "$logf" 2>&1 &
	pid=$!
	t0=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$((n + 1))
		if [ $((n % 60)) -eq 0 ] && kill -0 "$pid" 2>/dev/null; then
			log "$label: $(( ($(date +%s) - t0) / 60 )) min, $("$counter" "$logf")"
		fi
	done
	wait "$pid"
}

# Progress counters for run_with_progress.
kbuild_progress() {
	echo "$(grep -cE '^  (CC|AS) ' "$1") files compiled (a test kernel is about 1,600)"
}
ninja_progress() {
	local last
	last=$(grep -oE '^\[[0-9]+/[0-9]+\]' "$1" | tail -n 1)
	echo "step ${last:-[0/?]}"
}

# apt_ensure PKG...: install the Debian packages that are missing.
apt_ensure() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
	log "installing ${missing[*]}"
	if [ ! -f "$WDMDMA_CACHE/.apt-updated" ] ||
	   [ -n "$(find "$WDMDMA_CACHE/.apt-updated" -mmin +720 2>/dev/null)" ]; then
		apt-get update -qq >&2 || die "apt-get update failed"
		mkdir -p "$WDMDMA_CACHE" && touch "$WDMDMA_CACHE/.apt-updated"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# Debian suites beyond the machine's own are read through a sources list
# and package lists the scripts own, under $WDMDMA_CACHE/apt/SUITE; the
# machine's apt configuration is left alone.

# series_suite SERIES: the Debian suite a kernel series' source package
# comes from, empty for the machine's own (bookworm).
series_suite() {
	case "$1" in
	7.3) echo trixie-backports ;;	# 7.3.4 there on 2026-11-28
	*) ;;
	esac
}

# apt_suite SUITE ARGS...: run apt-get (or apt-cache, if ARGS starts with
# "cache") against SUITE's binary packages alone; apt_suite_src the same
# against its source packages. The lists are fetched on first use and
# refreshed after 12 hours (the old ones serve if that fails).
apt_suite() {
	apt_suite_type deb "$@"
}
apt_suite_src() {
	apt_suite_type deb-src "$@"
}
apt_suite_type() {
	local type=$1 suite=$2 d tool=apt-get opts
	d=$WDMDMA_CACHE/apt/$suite${type#deb}
	shift 2
	if [ "${1:-}" = cache ]; then
		tool=apt-cache
		shift
	fi
	opts=(-o "Dir::Etc::sourcelist=$d/sources.list" -o Dir::Etc::sourceparts=-
	      -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache"
	      -o APT::Sandbox::User=root)
	if [ ! -f "$d/.updated" ] || [ -n "$(find "$d/.updated" -mmin +720)" ]; then
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
		echo "$type http://deb.debian.org/debian $suite main" > "$d/sources.list"
		if apt-get "${opts[@]}" -qq update >&2; then
			touch "$d/.updated"
		elif [ -f "$d/.updated" ]; then
			log "apt-get update of $suite ($type) failed: using its lists of $(date -r "$d/.updated" +%F)"
		else
			die "apt-get update of $suite ($type) failed"
		fi
	fi
	"$tool" "${opts[@]}" "$@"
}

# suite_source_unpack SUITE PKG VER DIR: download the source package PKG
# at version VER from SUITE and unpack it in DIR/src (DIR is made afresh).
suite_source_unpack() {
	local suite=$1 pkg=$2 ver=$3 dir=$4
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && apt_suite_src "$suite" source --download-only -qq "$pkg=$ver" >&2) ||
		die "downloading $pkg $ver from $suite failed"
	# apt checked the files against the signed index it fetched.
	dpkg-source --no-check -x "$dir/${pkg}_"*.dsc "$dir/src" >&2 ||
		die "unpacking $pkg $ver failed"
}

# suite_version SUITE PKG: the version of PKG that SUITE offers.
suite_version() {
	apt_suite "$1" cache policy "$2" | sed -n 's/^  Candidate: //p' | grep -v '(none)'
}


# kernel_source_version SERIES: the version of Debian's linux-source-SERIES
# that the scripts build ("unknown" before it is installed or reachable).
kernel_source_version() {
	local suite
	suite=$(series_suite "$1")
	if [ -z "$suite" ]; then
		dpkg-query -W -f='${Version}' "linux-source-$1" 2>/dev/null || echo unknown
	else
		suite_version "$suite" "linux-source-$1" || echo unknown
	fi
}

# kernel_source_tarball SERIES: fetch Debian's linux-source-SERIES and print
# the path of its tarball. A package from another suite is not installed:
# it is downloaded and unpacked under $WDMDMA_CACHE/apt (it is
# Architecture: all, so nothing else of that suite is needed).
kernel_source_tarball() {
	local series=$1 suite ver d
	suite=$(series_suite "$series")
	if [ -z "$suite" ]; then
		apt_ensure "linux-source-$series"
		echo "/usr/src/linux-source-$series.tar.xz"
		return
	fi
	ver=$(suite_version "$suite" "linux-source-$series") ||
		die "$suite offers no linux-source-$series"
	d=$WDMDMA_CACHE/apt/$suite/linux-source-$series-$ver
	if [ ! -f "$d/.unpacked" ]; then
		log "fetching linux-source-$series $ver from $suite"
		rm -rf "$d" && mkdir -p "$d"
		(cd "$d" && apt_suite "$suite" download "linux-source-$series=$ver" >&2) ||
			die "downloading linux-source-$series from $suite failed"
		dpkg-deb -x "$d"/linux-source-*.deb "$d/root" &&
			rm -f "$d"/linux-source-*.deb && touch "$d/.unpacked" ||
			die "unpacking linux-source-$series failed"
	fi
	echo "$d/root/usr/src/linux-source-$series.tar.xz"
}

# Newest Debian header package name for a series ("6.1" or "6.12").
distro_headers_pkg() {
	case "$1" in
	6.1)
		echo linux-headers-amd64 ;;
	*)
		local re="^linux-headers-$1\.[0-9]+\+deb[0-9]+-amd64\$" pkg
		pkg=$(apt-cache search --names-only "$re" | awk '{print $1}' | sort -V | tail -n 1)
		if [ -z "$pkg" ]; then	# package lists never fetched on this machine
			apt-get update -qq >&2
			pkg=$(apt-cache search --names-only "$re" | awk '{print $1}' | sort -V | tail -n 1)
		fi
		echo "$pkg" ;;
	esac
}

# distro_image_pkg HEADERS-PKG: the Debian kernel image package that goes
# with a linux-headers package (the signed one where the suite has it).
distro_image_pkg() {
	local img
	if [ "$1" = linux-headers-amd64 ]; then
		echo linux-image-amd64
		return
	fi
	img=linux-image-${1#linux-headers-}
	if apt-cache policy "$img" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		echo "$img"
	else
		echo "$img-unsigned"
	fi
}

# Build directory of the distro headers for a series, once installed.
distro_headers_dir() {
	local pkg=$1 dir
	if [ "$pkg" = linux-headers-amd64 ]; then
		pkg=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
		      sed -E 's/^(linux-headers-[^ ,]+).*/\1/')
	fi
	dir=/usr/src/${pkg}
	[ -f "$dir/Makefile" ] || die "no headers at $dir"
	echo "$dir"
}

# Cache directory of the test kernel for a series (may not exist yet).
kernel_dir() {
	local series=$1 flavor=${2:-} ver key
	ver=$(kernel_source_version "$series")
	# Bump the recipe number when build-kernel.sh changes what it builds.
	key=$( (echo recipe-1; cat "$WDMDMA_TOP"/qemu/kconfig/*.config $(kernel_fragments_flavor "$flavor")) |
	      sha256sum | cut -c1-12)
	echo "$WDMDMA_CACHE/linux${flavor:+-$flavor}-$series-$ver-$key"
}

# kernel_fragments_flavor FLAVOR: the extra fragments of a kernel flavor
# ("" for the test kernel, "bench" for qemu/kconfig/bench/).
kernel_fragments_flavor() {
	[ -n "${1:-}" ] && ls "$WDMDMA_TOP/qemu/kconfig/$1"/*.config
	return 0
}

# kbuild_pahole KDIR: the make argument that keeps kbuild from warning
# that pahole differs from the one KDIR was built with, when KDIR was
# configured with no pahole on the machine (CONFIG_PAHOLE_VERSION=0) and
# one has been installed since (Debian's 6.12 headers bring it): the
# test kernels use no BTF, so pahole is named as a program that is not
# there. Prints nothing otherwise.
kbuild_pahole() {
	grep -qx 'CONFIG_PAHOLE_VERSION=0' "$1/.config" 2>/dev/null &&
		echo PAHOLE=wdmdma-no-pahole
	return 0
}

# build_modules_incremental KDIR OUT: build the modules (W=1) against KDIR
# in OUT, a copy of the tree that keeps file times, so make rebuilds only
# what changed since the last call. Dies with the log's tail on failure.
build_modules_incremental() {
	local kdir=$1 out=$2
	mkdir -p "$out"
	(cd "$WDMDMA_TOP" && tar cf - Kbuild src include kunit samples) | tar -C "$out" -xf -
	log "modules (W=1, incremental) in $out"
	# shellcheck disable=SC2046
	if ! make -C "$kdir" M="$out" -j"$(nproc)" W=1 $(kbuild_pahole "$kdir") \
		modules > "$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log" >&2
		die "module build failed (log: $out/build.log)"
	fi
}

# bench_build SERIES: the bench kernel of SERIES, QEMU with edu-sg and the
# modules built against that kernel (all cached); sets kdir, qemu and out.
bench_build() {
	log "bench kernel $1 (cached after the first build)"
	kdir=$("$WDMDMA_TOP/scripts/build-kernel.sh" "$1" bench) ||
		die "the $1 bench kernel did not build"
	log "QEMU with edu-sg (cached after the first build)"
	qemu=$("$WDMDMA_TOP/scripts/build-qemu.sh") || die "QEMU with edu-sg did not build"
	out=$WDMDMA_CACHE/bench-build-$1
	build_modules_incremental "$kdir" "$out"
}
