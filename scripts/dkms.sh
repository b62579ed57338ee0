#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# wdmdma under DKMS (Debian's dkms package; dkms.conf at the top):
#
#   dkms.sh install [KVER...]   copy the sources to /usr/src/wdmdma-VERSION,
#                               `dkms add` them and `dkms install` them for
#                               each KVER (default: every kernel with
#                               headers in /lib/modules/KVER/build)
#   dkms.sh remove              `dkms remove --all`, delete the sources
#   dkms.sh check HDIR OUT      `dkms add/build/install` against the
#                               headers HDIR in throwaway trees under OUT
#                               (the machine's /var/lib/dkms and
#                               /lib/modules are left alone), then check
#                               the result (see do_check() below)
#
# `make dkms-install`, `make dkms-remove` and scripts/check.sh call it.

set -uo pipefail
. "$(dirname "$0")/lib.sh"

VERSION=$(sed -n 's/^PACKAGE_VERSION="\([^"]*\)"$/\1/p' "$WDMDMA_TOP/dkms.conf")
[ -n "$VERSION" ] || die "no PACKAGE_VERSION in dkms.conf"
MODS="wdmdma edublk"

# copy_sources DEST: what DKMS builds, and nothing else: no build
# products, no KUnit or benchmark sources.
copy_sources() {
	local dest=$1 m
	rm -rf "$dest"
	mkdir -p "$dest"
	(
		cd "$WDMDMA_TOP" || exit 1
		set -- dkms.conf Kbuild COPYING include/wdmdma/*.h src/compat.h
		for m in $MODS; do
			set -- "$@" "src/$m/Kbuild" "src/$m"/*.[ch]
		done
		tar cf - "$@"
	) | tar -C "$dest" -xf -
}

# uts_release HDIR: the release the headers build for (what modules'
# vermagic carries; Debian 6.1's `make kernelrelease` prints another).
uts_release() {
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h"
}

# registered: what DKMS has of this version (empty if nothing).
registered() {
	dkms status "wdmdma/$VERSION" 2>/dev/null
}

do_install() {
	local kvers=("$@") k d
	[ "$(id -u)" -eq 0 ] || die "dkms-install needs root"
	apt_ensure dkms
	if [ ${#kvers[@]} -eq 0 ]; then
		for d in /lib/modules/*/build; do
			[ -f "$d/Makefile" ] && kvers+=("$(basename "$(dirname "$d")")")
		done
	fi
	[ ${#kvers[@]} -gt 0 ] || die "no kernel headers in /lib/modules/*/build"
	if [ -n "$(registered)" ]; then
		dkms remove "wdmdma/$VERSION" --all || die "dkms remove failed"
	fi
	copy_sources "/usr/src/wdmdma-$VERSION"
	dkms add "wdmdma/$VERSION" || die "dkms add failed"
	for k in "${kvers[@]}"; do
		dkms install "wdmdma/$VERSION" -k "$k" ||
			die "dkms install for $k failed"
	done
	dkms status wdmdma
}

do_remove() {
	[ "$(id -u)" -eq 0 ] || die "dkms-remove needs root"
	if command -v dkms > /dev/null && [ -n "$(registered)" ]; then
		dkms remove "wdmdma/$VERSION" --all || die "dkms remove failed"
	fi
	rm -rf "/usr/src/wdmdma-$VERSION"
}

# source_params MODULE: the parameters MODULE's sources declare (module_param*()
# or edublk's EDUBLK_PARAM_UINT_RANGE()), sorted.
source_params() {
	sed -n 's/^[[:space:]]*\(module_param[a-z_]*\|EDUBLK_PARAM_UINT_RANGE\)([[:space:]]*\([A-Za-z0-9_]*\).*/\2/p' \
		"$WDMDMA_TOP/src/$1"/*.c | sort -u
}

# check_params KO MODULE: every parameter the sources declare is in
# modinfo's list and no other, each with a description (modinfo prints
# "name:description (type)", without the type for module_param_cb()).
check_params() {
	local ko=$1 m=$2 bad=0 line name desc want have
	while IFS= read -r line; do
		name=${line%%:*}
		desc=${line#*:}
		desc=$(echo "$desc" | sed -E 's/ ?\([a-z ]+\)$//; s/^[[:space:]]+//')
		if [ -z "$desc" ]; then
			echo "$m: parameter $name has no description: parm: $line"
			bad=1
		fi
	done < <(modinfo -F parm "$ko")
	want=$(source_params "$m")
	have=$(modinfo -F parm "$ko" | sed 's/:.*//' | sort -u)
	if [ -z "$want" ]; then
		echo "$m: no module_param declaration found in src/$m/*.c"
		bad=1
	elif [ "$want" != "$have" ]; then
		echo "$m: parameters declared in src/$m/*.c: ${want//$'\n'/ }"
		echo "$m: parameters modinfo lists: ${have//$'\n'/ }"
		bad=1
	fi
	echo "$m: parameters ${have//$'\n'/ }"
	return $bad
}

# check HDIR OUT: DKMS in throwaway trees under OUT, against the headers in
# HDIR; asserts that dkms add, build and install succeed, the build log
# has no warning, exactly wdmdma.ko and edublk.ko are installed, for
# HDIR's kernel, signed when DKMS signs, with dkms.conf's version as their
# MODULE_VERSION, edublk depends on wdmdma, and every module parameter is
# documented (check_params).
do_check() {
	local hdir=$1 out=$2 kver dk m ko bad=0 deps
	kver=$(uts_release "$hdir")
	[ -n "$kver" ] || die "no UTS_RELEASE in $hdir"
	command -v dkms > /dev/null || die "dkms is not installed"
	rm -rf "$out"
	mkdir -p "$out/dkms" "$out/src" "$out/root/lib/modules/$kver"
	# depmod -b below wants these; the headers have none of them
	(cd "$out/root/lib/modules/$kver" &&
	 touch modules.order modules.builtin modules.builtin.modinfo)
	copy_sources "$out/src/wdmdma-$VERSION"
	# DKMS signs modules for kernels that check signatures; its key would
	# go to /var/lib/dkms, so it makes one in the cache instead.
	mkdir -p "$WDMDMA_CACHE/dkms-key"
	export mok_signing_key=$WDMDMA_CACHE/dkms-key/mok.key
	export mok_certificate=$WDMDMA_CACHE/dkms-key/mok.pub
	dk=(--dkmstree "$out/dkms" --sourcetree "$out/src"
	    --installtree "$out/root/lib/modules")
	dkms add "wdmdma/$VERSION" "${dk[@]}" || return 1
	dkms build "wdmdma/$VERSION" -k "$kver" --kernelsourcedir "$hdir" \
		"${dk[@]}" | tee "$out/build.out" ||
		{ cat "$out/dkms/wdmdma/$VERSION/build/make.log"; return 1; }
	dkms install "wdmdma/$VERSION" -k "$kver" --kernelsourcedir "$hdir" \
		--no-depmod "${dk[@]}" || return 1
	dkms status "${dk[@]}"

	echo "--- make.log"
	cat "$out/dkms/wdmdma/$VERSION/$kver"/*/log/make.log
	if grep -E '(warning|error):' "$out/dkms/wdmdma/$VERSION/$kver"/*/log/make.log; then
		echo "the DKMS build warned"
		bad=1
	fi
	echo "--- installed"
	(cd "$out/root" && find . -name '*.ko*' | sort)
	if [ "$(cd "$out/root/lib/modules/$kver" && find . -name '*.ko*' | sort |
		sed 's|.*/||; s|\.ko.*||' | tr '\n' ' ')" != "edublk wdmdma " ]; then
		echo "DKMS did not install exactly wdmdma and edublk"
		return 1
	fi
	for m in $MODS; do
		ko=$(find "$out/root/lib/modules/$kver" -name "$m.ko*")
		modinfo "$ko"
		if ! modinfo -F vermagic "$ko" | grep -q "^$kver "; then
			echo "$m: vermagic is not for $kver"
			bad=1
		fi
		if grep -q '^Signing module' "$out/build.out" &&
		   [ -z "$(modinfo -F signer "$ko")" ]; then
			echo "$m: DKMS signed it but modinfo shows no signer"
			bad=1
		fi
		if [ "$(modinfo -F version "$ko")" != "$VERSION" ]; then
			echo "$m: modinfo version '$(modinfo -F version "$ko")', dkms.conf says $VERSION"
			bad=1
		fi
		check_params "$ko" "$m" || bad=1
	done
	# The installed tree resolves: edublk needs wdmdma's exports.
	depmod -b "$out/root" "$kver" || return 1
	deps=$(modprobe -d "$out/root" -S "$kver" --show-depends edublk |
	       sed 's|.*/||; s|\.ko.*||' | tr '\n' ' ')
	echo "edublk loads as: $deps"
	[ "$deps" = "wdmdma edublk " ] || { echo "depmod: edublk does not depend on wdmdma"; bad=1; }
	return $bad
}

case "${1:-}" in
install)
	shift
	do_install "$@" ;;
remove)
	do_remove ;;
check)
	[ $# -eq 3 ] || die "usage: $0 check HEADERS-DIR OUT-DIR"
	do_check "$2" "$3" ;;
version)
	echo "$VERSION" ;;
*)
	die "usage: $0 install [KVER...] | remove | check HDIR OUT | version" ;;
esac
