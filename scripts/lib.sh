# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the scripts in this directory. Source it; do not run it.

WDMDMA_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WDMDMA_CACHE=${WDMDMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wdmdma}
WDMDMA_SERIES=${WDMDMA_SERIES:-"6.1 6.12"}
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
	ver=$(dpkg-query -W -f='${Version}' "linux-source-$series" 2>/dev/null) ||
		ver=unknown
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

# build_modules_incremental KDIR OUT: build the modules (W=1) against KDIR
# in OUT, a copy of the tree that keeps file times, so make rebuilds only
# what changed since the last call. Dies with the log's tail on failure.
build_modules_incremental() {
	local kdir=$1 out=$2
	mkdir -p "$out"
	(cd "$WDMDMA_TOP" && tar cf - Kbuild src include kunit) | tar -C "$out" -xf -
	log "modules (W=1, incremental) in $out"
	if ! make -C "$kdir" M="$out" W=1 modules > "$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log" >&2
		die "module build failed (log: $out/build.log)"
	fi
}
