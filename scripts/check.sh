#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's test command (`make check`). For each kernel series in
# $WDMDMA_SERIES (default in scripts/lib.sh):
#   - build the test kernel (cached) and the modules against it with W=1
#     and sparse (C=2);
#   - boot guests that load the KUnit modules and run the integration
#     checks, and judge each console log (scripts/verdict.py);
# for each series in $WDMDMA_DISTRO_SERIES, build the modules against
# Debian's linux-headers with W=1 and load them on Debian's stock kernel;
# plus checkpatch --strict on every .c/.h and a self-test of the verdict.
# Prints "N passed, N failed[, N skipped]" last; exits 1 on any failure.
#
# SUITE="name..." runs only the guest test groups of those names (see
# scripts/guest-groups.sh; "stock" is the Debian stock-kernel group).

set -uo pipefail
. "$(dirname "$0")/lib.sh"

start=$(date +%s)
run_dir=$WDMDMA_CACHE/check-$(date +%Y%m%d-%H%M%S)
mkdir -p "$run_dir"
results=$run_dir/results
: > "$results"

pass() { echo "PASS $*" >> "$results"; echo "PASS: $*"; }
fail() { echo "FAIL $*" >> "$results"; echo "FAIL: $*"; }

# step NAME CMD...: run CMD with its output in a log; one result line.
step() {
	local name=$1 logf
	shift
	logf=$run_dir/$(echo "$name" | tr -c 'A-Za-z0-9.-' _).log
	if "$@" >"$logf" 2>&1; then
		pass "$name"
	else
		fail "$name (log: $logf)"
		tail -n 25 "$logf" | sed 's/^/    /'
	fi
}

apt_ensure build-essential bc bison flex libelf-dev libssl-dev cpio kmod \
	xz-utils python3 busybox-static qemu-system-x86 file fio pciutils

# --- Harness self-test ------------------------------------------------------
step "verdict self-test" python3 "$WDMDMA_TOP/scripts/test-verdict.py"

# --- The edu-sg device model, tested host-side through qtest ----------------
# One QEMU build and qtest run per version in $WDMDMA_QEMU_VERSIONS; the
# guests use the first one that built.
qemu_sg=
for qv in $WDMDMA_QEMU_VERSIONS; do
	qlog=$run_dir/build-qemu-$qv.log
	qbin=$("$WDMDMA_TOP/scripts/build-qemu.sh" "$qv" 2> "$qlog")
	if [ -z "$qbin" ] || [ ! -x "$qbin" ]; then
		fail "QEMU $qv with edu-sg builds (log: $qlog)"
		tail -n 20 "$qlog" | sed 's/^/    /'
		continue
	fi
	pass "QEMU $qv with edu-sg builds"
	[ -n "$qemu_sg" ] || qemu_sg=$qbin
	tlog=$run_dir/edu-sg-qtest-$qv.log
	EDU_SG_TESTS= python3 "$WDMDMA_TOP/qemu/edu-sg/edu-sg-qtest.py" "$qbin" > "$tlog" 2>&1
	qrc=$?
	counts=$(tail -n 1 "$tlog")
	np=$(echo "$counts" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	nf=$(echo "$counts" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	if [ -z "$np" ] || [ "$np" -eq 0 ]; then
		fail "edu-sg qtest on QEMU $qv ran no check (log: $tlog)"
		continue
	fi
	for i in $(seq "$np"); do echo "PASS edu-sg qtest ($qv) check $i" >> "$results"; done
	for i in $(seq "$nf"); do echo "FAIL edu-sg qtest ($qv) check $i" >> "$results"; done
	grep '^FAIL' "$tlog" | sed "s/^/    edu-sg qtest ($qv) /"
	[ "$qrc" -eq 0 ] || [ "$nf" -gt 0 ] ||
		fail "edu-sg qtest on QEMU $qv exited $qrc (log: $tlog)"
	echo "edu-sg qtest on QEMU $qv: $counts"
done

# --- A static fio for the guests --------------------------------------------
# Debian's fio takes about 8 s to start in a guest (its 64 shared libraries);
# the guests run this one instead (qemu/guest/hostrun), or Debian's if it
# did not build.
guest_fio=$("$WDMDMA_TOP/scripts/build-fio.sh" 2> "$run_dir/build-fio.log")
if [ -n "$guest_fio" ] && [ -x "$guest_fio" ]; then
	pass "static fio for the guests builds"
else
	guest_fio=
	fail "static fio for the guests builds (log: $run_dir/build-fio.log)"
	tail -n 20 "$run_dir/build-fio.log" | sed 's/^/    /'
fi

# --- Static checks ----------------------------------------------------------
# Kernel code only: qemu/ holds QEMU code, in QEMU's style.
mapfile -t sources < <(cd "$WDMDMA_TOP" &&
		       { git ls-files src include kunit samples 2>/dev/null ||
			 find src include kunit samples; } | grep -E '\.[ch]$')

# build_modules KDIR OUTDIR EXTRA...: copy the tree and build it there.
build_modules() {
	local kdir=$1 out=$2
	shift 2
	rm -rf "$out"
	mkdir -p "$out"
	(cd "$WDMDMA_TOP" && tar cf - Kbuild src include kunit samples) | tar -C "$out" -xf -
	# shellcheck disable=SC2046
	make -C "$kdir" M="$out" -j"$(nproc)" W=1 $(kbuild_pahole "$kdir") "$@" \
		modules 2>&1
}

# no_warnings LOG: fail on any warning or error in a build log, and on a
# C=2 build where sparse checked nothing (the kernel turns C=2 off with a
# notice when it finds sparse missing or too old).
no_warnings() {
	local logf=$1
	if grep -E '(warning|error):|sparse is not available' "$logf"; then
		return 1
	fi
	grep -q 'LD \[M\]' "$logf" || { echo "no module was linked"; return 1; }
	if grep -q 'C=2' <<<"$BUILD_ARGS" && ! grep -q '^  CHECK ' "$logf"; then
		echo "sparse checked no file"
		return 1
	fi
}

build_and_check() {
	local kdir=$1 out=$2 logf=$3
	shift 3
	build_modules "$kdir" "$out" "$@" > "$logf" 2>&1
	local rc=$?
	BUILD_ARGS="$*" no_warnings "$logf" && [ $rc -eq 0 ]
}

# sparse from Debian sid's source: bookworm's 0.6.4 is too old for 7.3,
# whose build then turns C=2 off with a notice and checks nothing.
sparse=$("$WDMDMA_TOP/scripts/build-sparse.sh" 2> "$run_dir/build-sparse.log") ||
	{ sparse=; tail -n 20 "$run_dir/build-sparse.log" | sed 's/^/    /'; }

for series in $WDMDMA_SERIES; do
	kdir=$("$WDMDMA_TOP/scripts/build-kernel.sh" "$series" 2> "$run_dir/kernel-$series.log")
	if [ -z "$kdir" ] || [ ! -f "$kdir/arch/x86/boot/bzImage" ]; then
		fail "test kernel $series builds (log: $run_dir/kernel-$series.log)"
		tail -n 20 "$run_dir/kernel-$series.log" | sed 's/^/    /'
		continue
	fi
	pass "test kernel $series builds"
	echo "$kdir" > "$run_dir/kdir-$series"

	if [ -z "$sparse" ]; then
		fail "modules build W=1 + sparse on test kernel $series: no sparse"
		continue
	fi
	step "modules build W=1 + sparse on test kernel $series" \
		build_and_check "$kdir" "$run_dir/build-$series" \
		"$run_dir/build-$series.log" C=2 CHECK="$sparse"
done

# Debian's packaged kernels of $WDMDMA_DISTRO_SERIES: the modules build
# against their headers (and load on them, in the stock group below).
for series in $WDMDMA_DISTRO_SERIES; do
	hpkg=$(distro_headers_pkg "$series")
	if [ -z "$hpkg" ]; then
		fail "no Debian linux-headers package found for $series"
		continue
	fi
	apt_ensure "$hpkg"
	hdir=$(distro_headers_dir "$hpkg")
	echo "$hpkg" > "$run_dir/hpkg-$series"
	step "modules build W=1 on Debian headers $(basename "$hdir")" \
		build_and_check "$hdir" "$run_dir/distro-$series" \
		"$run_dir/distro-$series.log"
done

# DKMS (dkms.conf): add, build and install wdmdma and edublk against the
# same Debian headers in throwaway trees, every module parameter with a
# description (scripts/dkms.sh check).
apt_ensure dkms
for series in $WDMDMA_DISTRO_SERIES; do
	[ -f "$run_dir/hpkg-$series" ] || continue
	hdir=$(distro_headers_dir "$(cat "$run_dir/hpkg-$series")")
	step "DKMS add/build/install, parameters documented on $(basename "$hdir")" \
		"$WDMDMA_TOP/scripts/dkms.sh" check "$hdir" "$run_dir/dkms-$series"
done

# checkpatch --strict, zero reports. Three documented exceptions by file:
# the Windows-named interface must use Windows names and typedefs, the
# samples (ported Windows code) call and name Windows routines, and the
# compat header is where LINUX_VERSION_CODE belongs.
# One checkpatch per CPU at a time; the reports in file order.
run_checkpatch() {
	local cp=$1 f ignore tmp i=0 bad=0
	shift
	cd "$WDMDMA_TOP" || return 1
	tmp=$(mktemp -d) || return 1
	for f in "$@"; do
		ignore=FILE_PATH_CHANGES
		case "$f" in
		include/wdmdma/ntdma.h|src/wdmdma/nt.c|kunit/wdmdma_nt_test.c|kunit/wdmdma_nt_ex_test.c|\
		kunit/wdmdma_packet_test.c)
			ignore+=,CAMELCASE,NEW_TYPEDEFS ;;
		samples/*)
			ignore+=,CAMELCASE ;;
		src/compat.h)
			ignore+=,LINUX_VERSION_CODE,CONSTANT_COMPARISON ;;
		esac
		perl "$cp" --strict --no-tree --terse --show-types \
			--ignore "$ignore" -f "$f" > "$tmp/$(printf %04d $i)" 2>&1 &
		i=$((i + 1))
		while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do
			wait -n
		done
	done
	wait
	if cat "$tmp"/* | grep -E '(ERROR|WARNING|CHECK):'; then
		bad=1
	fi
	rm -rf "$tmp"
	return $bad
}
# Each series' checkpatch: newer ones know more (7.3 asks for
# kzalloc_obj(), for one).
for series in $WDMDMA_SERIES; do
	[ -f "$run_dir/kdir-$series" ] && [ ${#sources[@]} -gt 0 ] || continue
	step "checkpatch --strict ($series) on ${#sources[@]} files" \
		run_checkpatch "$(cat "$run_dir/kdir-$series")/scripts/checkpatch.pl" \
		"${sources[@]}"
done

# kernel-doc of the API (include/wdmdma, src/wdmdma): no warning from each
# test kernel's scripts/kernel-doc, every export documented.
for series in $WDMDMA_SERIES; do
	[ -f "$run_dir/kdir-$series" ] || continue
	step "kernel-doc ($series) on include/wdmdma and src/wdmdma" \
		"$WDMDMA_TOP/scripts/kernel-doc-check.sh" "$(cat "$run_dir/kdir-$series")"
done

# --- Guests -----------------------------------------------------------------
# Each group: a name, run-guest.sh options, the guest script, expected suites.
# suite_wanted NAME: is guest group NAME to run (SUITE unset, or lists it)?
suite_wanted() {
	[ -z "${SUITE:-}" ] && return 0
	case " $SUITE " in *" $1 "*) return 0 ;; esac
	return 1
}

# guest_group SERIES NAME OPTS SCRIPT EXPECT: boot one guest with the
# run-guest.sh options OPTS, run SCRIPT in it ("name.sh args"; several
# joined by " ; " run one after another in the same boot, each whatever
# the others did, and the guest fails if any failed), and judge its log
# expecting the KUnit suites EXPECT. The wall time goes to $run_dir/times.
guest_group() {
	local series=$1 name=$2 opts=$3 script=$4 expect=$5
	local kdir out logf args=() e cmd=() chain part t0 secs

	suite_wanted "$name" || return 0
	script=$(echo "$script" | tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//')
	if [[ $script == *" ; "* ]]; then
		chain="rc=0"
		while IFS= read -r part; do
			chain+="; sh $part || rc=1"
		done < <(echo "$script" | sed 's/ ; /\n/g')
		# shellcheck disable=SC2016
		cmd=(sh -c "$chain"'; exit $rc')
	else
		# shellcheck disable=SC2206
		cmd=(sh $script)
	fi
	kdir=$(cat "$run_dir/kdir-$series")
	out=$run_dir/build-$series
	logf=$run_dir/guest-$series-$name.log
	for m in "$out"/src/*/*.ko "$out"/kunit/*.ko "$out"/samples/*.ko \
		 "$kdir"/drivers/block/null_blk/null_blk.ko \
		 "$kdir"/drivers/block/brd.ko; do
		[ -f "$m" ] && args+=(--module "$m")
	done
	for f in "$WDMDMA_TOP"/scripts/guest/*; do args+=(--file "$f"); done
	[ -n "$guest_fio" ] && args+=(--file "$guest_fio")
	t0=$(date +%s)
	# shellcheck disable=SC2086
	"$WDMDMA_TOP/scripts/run-guest.sh" --kernel "$kdir/arch/x86/boot/bzImage" \
		--log "$logf" --quiet $opts "${args[@]}" -- "${cmd[@]}" > /dev/null 2>&1
	secs=$(( $(date +%s) - t0 ))
	echo "$series/$name $secs" >> "$run_dir/times"
	echo "guest $series/$name: $secs s"
	local eargs=()
	for e in $expect; do eargs+=(--expect "$e"); done
	python3 "$WDMDMA_TOP/scripts/verdict.py" --label "$series/$name" \
		--results "$results" "${eargs[@]}" "$logf"
}

# One guest at a time. Two at once (a stream per series) was measured on
# 2 cores (2026-12-03): no faster in all, and each guest about twice as
# slow, which only narrows the timing margins of the fault checks.
for series in $WDMDMA_SERIES; do
	[ -f "$run_dir/kdir-$series" ] || continue
	if ! grep -q "^PASS modules build W=1 + sparse on test kernel $series" "$results"; then
		fail "$series guests not run: the modules did not build"
		continue
	fi
	# shellcheck source=guest-groups.sh
	. "$WDMDMA_TOP/scripts/guest-groups.sh"
done

# Debian's stock kernels of $WDMDMA_DISTRO_SERIES (no KUnit, no debugging
# options): wdmdma and edublk built against their headers load and move
# data (the edublk-load checks).
if suite_wanted stock; then
	for series in $WDMDMA_DISTRO_SERIES; do
		mdir=$run_dir/distro-$series
		if [ ! -f "$run_dir/hpkg-$series" ] ||
		   [ ! -f "$mdir/src/edublk/edublk.ko" ]; then
			fail "stock $series kernel checks not run: no modules built against its headers"
			continue
		fi
		hpkg=$(cat "$run_dir/hpkg-$series")
		kver=$(basename "$(distro_headers_dir "$hpkg")" | sed 's/^linux-headers-//')
		apt_ensure "$(distro_image_pkg "$hpkg")"
		[ -f "/boot/vmlinuz-$kver" ] || {
			fail "stock $series kernel checks not run: no /boot/vmlinuz-$kver"
			continue
		}
		logf=$run_dir/guest-stock-$kver.log
		args=()
		for f in "$WDMDMA_TOP"/scripts/guest/*; do args+=(--file "$f"); done
		t0=$(date +%s)
		"$WDMDMA_TOP/scripts/run-guest.sh" --kernel "/boot/vmlinuz-$kver" \
			--smp 2 --timeout 600 --quiet --log "$logf" \
			--module "$mdir/src/wdmdma/wdmdma.ko" \
			--module "$mdir/src/edublk/edublk.ko" "${args[@]}" \
			-- sh edublk-load.sh > /dev/null 2>&1
		echo "stock-$series $(( $(date +%s) - t0 ))" >> "$run_dir/times"
		python3 "$WDMDMA_TOP/scripts/verdict.py" --label "stock-$kver" \
			--results "$results" "$logf"
	done
fi

# --- Summary ----------------------------------------------------------------
passed=$(grep -c '^PASS ' "$results")
failed=$(grep -c '^FAIL ' "$results")
skipped=$(grep -c '^SKIP ' "$results")
echo
if [ -s "$run_dir/times" ]; then
	echo "guest groups (wall seconds):"
	sort -k2,2nr "$run_dir/times" | awk '{ printf "  %-28s %5d\n", $1, $2; s += $2 }
		END { printf "  %-28s %5d\n", "total", s }'
fi
echo "results: $results ($(( $(date +%s) - start )) s)"
grep '^FAIL ' "$results" | sed 's/^/  /'
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
