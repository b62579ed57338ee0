#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel under QEMU (TCG) with a busybox initramfs, run one command in
# the guest, and exit with that command's status.
#
# Usage: scripts/run-guest.sh [options] -- COMMAND...
#   --kernel FILE      bzImage to boot (default: the cached test kernel of
#                      the newest series)
#   --series S         use the cached test kernel of series S (6.1, 6.12, 7.3)
#   --module FILE      put FILE (a .ko) in the guest's /modules (repeatable)
#   --file FILE        put FILE in the guest's /tests (repeatable)
#   --mem SIZE         guest RAM (default 512M)
#   --smp N            vCPUs (default 2)
#   --iommu            q35 with -device intel-iommu, intel_iommu=on
#   --no-edu           do not add the stock edu device
#   --device ARGS      extra -device ARGS (repeatable)
#   --qemu-arg ARG     extra raw QEMU argument (repeatable)
#   --qemu FILE        QEMU binary (default qemu-system-x86_64 from PATH)
#   --host-root        share the host root read-only over 9p at /host
#   --append ARGS      extra kernel command line
#   --monitor          give QEMU a human monitor on a socket and run in it
#                      what the guest asks for with a console line
#                      "WDMDMA-MONITOR: CMD" (CMD: device_del sg0, or
#                      device_add of the edu-sg edusg-blk.sh makes with
#                      id=sg0; nothing else); requests and answers are
#                      added to the log as "host-monitor: ..." at the end
#   --timeout SECS     hard limit; QEMU is killed after it (default 600)
#   --log FILE         console log (default: a file under $WDMDMA_CACHE/logs)
#   --quiet            do not echo the console while it runs
#
# The guest's status comes back through the console line "WDMDMA-EXIT: N".
# Exit status: the guest command's, or 124 on timeout, 125 if the guest
# crashed or stopped without reporting one.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel= series=$WDMDMA_NEWEST_SERIES mem=512M smp=2 iommu=0 edu=1 hostroot=0 quiet=0
timeout_s=600 log= qemu=qemu-system-x86_64 append= monitor=0
modules=() files=() devices=() qargs=()

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--series) series=$2; shift 2 ;;
	--module) modules+=("$2"); shift 2 ;;
	--file) files+=("$2"); shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--iommu) iommu=1; shift ;;
	--no-edu) edu=0; shift ;;
	--device) devices+=("$2"); shift 2 ;;
	--qemu-arg) qargs+=("$2"); shift 2 ;;
	--qemu) qemu=$2; shift 2 ;;
	--host-root) hostroot=1; shift ;;
	--append) append=$2; shift 2 ;;
	--monitor) monitor=1; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--) shift; break ;;
	*) die "run-guest.sh: unknown option '$1' (see the comment at the top)" ;;
	esac
done
[ $# -gt 0 ] || die "run-guest.sh: no guest command given (after --)"

if [ -z "$kernel" ]; then
	kernel=$(kernel_dir "$series")/arch/x86/boot/bzImage
	[ -f "$kernel" ] || die "no test kernel for $series: run scripts/build-kernel.sh $series"
fi
[ -f "$kernel" ] || die "kernel image $kernel not found"
command -v "$qemu" >/dev/null || apt_ensure qemu-system-x86
[ -x /bin/busybox ] || apt_ensure busybox-static
busybox=$(command -v busybox)
file "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	busybox=/bin/busybox

mkdir -p "$WDMDMA_CACHE/logs"
[ -n "$log" ] || log=$WDMDMA_CACHE/logs/guest-$(date +%Y%m%d-%H%M%S)-$$.log
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The initramfs: busybox, /init, the command, modules and test files.
root=$work/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,run,modules,tests,host,mnt,etc}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$WDMDMA_TOP/qemu/guest/init" "$root/init"
cp "$WDMDMA_TOP/qemu/guest/hostrun" "$root/bin/hostrun"
for m in "${modules[@]}"; do cp "$m" "$root/modules/"; done
for f in "${files[@]}"; do cp "$f" "$root/tests/"; done
{
	echo 'cd /tests'
	printf '%q ' "$@"
	echo
} > "$root/cmd.sh"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

machine=(-M pc)
# acpi=noirq: INTx routing through ACPI's _PRT AML takes tens of seconds
# under TCG (and can hit AE_AML_LOOP_TIMEOUT); the PIRQ table is instant.
# rcu_cpu_stall_timeout: a TCG vCPU on a busy 2-core host can go unscheduled
# for half a minute; only a stall longer than two minutes is a real one.
cmdline="console=ttyS0 panic=-1 oops=panic loglevel=7 acpi=noirq"
cmdline+=" rcupdate.rcu_cpu_stall_timeout=120"
if [ $iommu -eq 1 ]; then
	machine=(-M q35,kernel-irqchip=split -device intel-iommu,intremap=on)
	cmdline+=" intel_iommu=on"
elif [ $monitor -eq 0 ]; then
	# Without the monitor nothing is hotplugged: leave the root bus's
	# ACPI hotplug AML out. Walking it for each slot took 9 s of a
	# 22 s boot under TCG (7.3, measured 2026-12-04).
	machine+=(-global PIIX4_PM.acpi-root-pci-hotplug=off)
fi
[ -n "$append" ] && cmdline+=" $append"

mon=(-monitor none)
[ $monitor -eq 1 ] && mon=(-monitor "unix:$work/monitor.sock,server=on,wait=off")
args=(-accel tcg -smp "$smp" -m "$mem" "${machine[@]}"
      -display none "${mon[@]}" -serial stdio -no-reboot -nic none
      -kernel "$kernel" -initrd "$work/initrd.gz" -append "$cmdline")
[ $edu -eq 1 ] && args+=(-device edu)
for d in "${devices[@]}"; do args+=(-device "$d"); done
if [ $hostroot -eq 1 ]; then
	args+=(-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
	       -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot)
fi
args+=("${qargs[@]}")

# monitor_serve: follow the console log (until this script ends) and run
# the guest's monitor requests. A guest may ask only for the hotplug of
# the edu-sg made with id=sg0 (edusg-blk.sh's removal checks), never for
# anything that reaches the host. The requests and answers go to their
# own file, added to the console log once QEMU is gone (written beside
# the console, they could cut its lines).
monitor_serve() {
	local line cmd
	set +e
	tail -n +1 -F --pid=$$ "$log" 2>/dev/null | while IFS= read -r line; do
		case $line in
		*"WDMDMA-MONITOR: "*) ;;
		*) continue ;;
		esac
		cmd=${line##*WDMDMA-MONITOR: }
		cmd=${cmd%$'\r'}
		if [[ ! $cmd =~ ^(device_del\ sg0|device_add\ edu-sg,id=sg0,queues=2,x-fault-regs=on,addr=0x[0-9a-f]{1,2})$ ]]; then
			echo "refused '$cmd'" >> "$work/monitor.log"
			continue
		fi
		echo "$cmd" >> "$work/monitor.log"
		/usr/bin/python3 "$WDMDMA_TOP/scripts/tools/hmp.py" \
			"$work/monitor.sock" "$cmd" >> "$work/monitor.log" 2>&1 ||
			echo "hmp.py failed" >> "$work/monitor.log"
	done
}

echo "+ $qemu ${args[*]}" > "$log"
serve_pid=
if [ $monitor -eq 1 ]; then
	monitor_serve &
	serve_pid=$!
fi
set +e
if [ $quiet -eq 1 ]; then
	timeout --signal=KILL "$timeout_s" "$qemu" "${args[@]}" </dev/null >>"$log" 2>&1
else
	timeout --signal=KILL "$timeout_s" "$qemu" "${args[@]}" </dev/null 2>&1 | tee -a "$log"
	(exit "${PIPESTATUS[0]}")
fi
qrc=$?
set -e
if [ -n "$serve_pid" ]; then
	pkill -P "$serve_pid" 2>/dev/null || true
	kill "$serve_pid" 2>/dev/null || true
	wait "$serve_pid" 2>/dev/null || true
	[ -f "$work/monitor.log" ] && sed '/^$/d; s/^/host-monitor: /' "$work/monitor.log" >> "$log"
fi

echo "console log: $log" >&2
if [ $qrc -eq 137 ]; then
	echo "error: guest timed out after ${timeout_s}s (killed)" >&2
	echo "WDMDMA-TIMEOUT" >> "$log"
	exit 124
fi
status=$(sed -n 's/.*WDMDMA-EXIT: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -z "$status" ]; then
	echo "error: guest stopped without reporting a status (crash?), QEMU exit $qrc" >&2
	exit 125
fi
if ! grep -q WDMDMA-DONE "$log"; then
	echo "error: guest reported status $status but did not finish its checks" >&2
	exit 125
fi
exit "$status"
