#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# edublk checks without fio: insmod/rmmod twice, rmmod refused while the
# disk is open, bad module parameters refused cleanly, a lost completion
# interrupt ending the request with an error, a request wdmdma cannot map
# after it waited ending with an error, and the INTx fallback.
# Guest options: the stock edu device (default); no host root needed.
cd /tests && . ./edublk-lib.sh

# A 4 KiB pattern written and read back with dd (direct I/O) at block $1.
roundtrip() {
	dd if=/dev/urandom of=/tmp/pat bs=4096 count=1 2>/dev/null &&
	dd if=/tmp/pat of=$EDUBLK_DEV bs=4096 count=1 seek="$1" oflag=direct 2>/dev/null &&
	dd if=$EDUBLK_DEV of=/tmp/back bs=4096 count=1 skip="$1" iflag=direct 2>/dev/null &&
	cmp -s /tmp/pat /tmp/back
}

load_wdmdma || { not_ok "load: insmod wdmdma"; edublk_finish; }

# insmod/rmmod twice, with I/O in between.
for round in 1 2; do
	if load_edublk && roundtrip $round && rmmod edublk &&
	   ! grep -q '^edublk ' /proc/modules && [ ! -e $EDUBLK_DEV ] &&
	   [ ! -e /sys/kernel/debug/edublk ]; then
		ok "load: insmod, I/O, rmmod round $round"
	else
		not_ok "load: insmod, I/O, rmmod round $round"
		rmmod edublk 2>/dev/null
	fi
done

# rmmod must be refused while the disk is open (fops owner holds the module).
if load_edublk; then
	exec 3< $EDUBLK_DEV
	if rmmod edublk 2>/dev/null; then
		not_ok "load: rmmod refused while the disk is open" "rmmod succeeded"
	else
		ok "load: rmmod refused while the disk is open"
	fi
	exec 3<&-
	check "load: rmmod works once the disk is closed" rmmod edublk
else
	not_ok "load: rmmod refused while the disk is open" "insmod failed"
fi

# Bad parameters: insmod fails with a message and leaves nothing behind.
for bad in mode=bogus mode= dma_bits=27 dma_bits=65 dma_bits=abc \
	   capacity_mb=0 capacity_mb=65 emergency=0 emergency=-1; do
	dmesg -c > /dev/null
	if insmod /modules/edublk.ko $bad 2>/dev/null; then
		not_ok "params: $bad refused" "insmod succeeded"
		rmmod edublk
		continue
	fi
	if grep -q '^edublk ' /proc/modules || [ -e $EDUBLK_DEV ] ||
	   [ -e /sys/kernel/debug/edublk ]; then
		not_ok "params: $bad refused" "something stayed registered"
	elif ! dmesg | grep -q 'edublk: .* must be'; then
		dmesg | tail -n 3
		not_ok "params: $bad refused" "no message saying why"
	else
		ok "params: $bad refused"
	fi
done
# mode=native needs a scatter/gather device: the edu's probe refuses it.
dmesg -c > /dev/null
if insmod /modules/edublk.ko mode=native 2>/dev/null; then
	sleep 0.5
	if [ -e $EDUBLK_DEV ]; then
		not_ok "params: mode=native refused on the edu" "the disk appeared"
	elif ! dmesg | grep -q 'mode=native needs a scatter/gather device'; then
		dmesg | tail -n 3
		not_ok "params: mode=native refused on the edu" "no message saying why"
	else
		ok "params: mode=native refused on the edu"
	fi
	rmmod edublk
else
	not_ok "params: mode=native refused on the edu" "insmod failed"
fi
if load_edublk mode=get dma_bits=28 capacity_mb=2 emergency=2 &&
   [ "$(edublk_stat mode)" = get ] &&
   [ "$(edublk_stat capacity_bytes)" = 2097152 ] && roundtrip 3; then
	ok "params: a good insmod works after the bad ones"
else
	not_ok "params: a good insmod works after the bad ones"
fi
rmmod edublk 2>/dev/null

# A lost completion interrupt: the request ends with an error (no hang),
# the next one works. drop_irqs makes the driver ignore one completion.
if load_edublk; then
	echo 1 > $EDUBLK_DBG/drop_irqs
	if dd if=$EDUBLK_DEV of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null; then
		not_ok "timeout: lost interrupt fails the request" "the read succeeded"
	else
		ok "timeout: lost interrupt fails the request"
	fi
	expect_eq "timeout: counted once" "$(edublk_stat timeouts)" 1
	check "timeout: the device works afterwards" roundtrip 5
	expect_eq "timeout: device not fenced" "$(edublk_stat dead)" 0
	rmmod edublk
else
	not_ok "timeout: lost interrupt fails the request" "insmod failed"
fi

# A request that waits inside wdmdma and then cannot be mapped: its
# callback gets no list, and edublk ends it with EIO at once. mode=get with
# every allocation of the adapter failing (edublk's fail_alloc knob, which
# needs no fault-injection support in the kernel) leaves wdmdma's two
# reserve lists: two 64 KiB reads (34 edu DMAs, 3.4 s each, one after the
# other) hold them, so a third read waits for one; the next mapping, its
# own, is made to fail. If the shell was too slow and the first holder had
# finished already, the third read takes its list at once and fails in
# Get (the same answer, without waiting): the round is run again, up to 3
# times, until one read has waited.
maperr_round() {
	local pids="" p i=0 bad=0 lists
	lists=$(edublk_stat lists)
	dd if=$EDUBLK_DEV of=/dev/null bs=65536 count=1 iflag=direct 2>/dev/null &
	pids="$pids $!"
	dd if=$EDUBLK_DEV of=/dev/null bs=65536 count=1 skip=1 iflag=direct 2>/dev/null &
	pids="$pids $!"
	# Both mapped (their callbacks ran): the third read maps next.
	while [ "$(edublk_stat lists)" != $((lists + 2)) ] && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	echo 1 > $EDUBLK_DBG/map_errors
	dd if=$EDUBLK_DEV of=/dev/null bs=4096 count=1 skip=40 iflag=direct 2>/dev/null &&
		maperr_ok=0
	echo 0 > $EDUBLK_DBG/map_errors
	for p in $pids; do
		wait "$p" || bad=1
	done
	[ $bad -eq 0 ] || maperr_holders=0
}
map_error_check() {
	local round=0
	maperr_ok=1 maperr_holders=1
	while [ $round -lt 3 ]; do
		round=$((round + 1))
		maperr_round
		[ "$(wdmdma_stat deferred)" -gt 0 ] && break
	done
	check "maperr: the read whose mapping fails ends with EIO" [ $maperr_ok -eq 1 ]
	check "maperr: the reads holding the lists succeed" [ $maperr_holders -eq 1 ]
	echo "edublk-load: maperr: $round round(s)"
	expect_eq "maperr: one read waited in wdmdma's queue" \
		"$(wdmdma_stat deferred)" 1
	expect_eq "maperr: it ended without a list" "$(edublk_stat unmapped)" 1
	expect_eq "maperr: wdmdma counted every failure" "$(wdmdma_stat failed)" $round
	expect_eq "maperr: every failed read counted once" "$(edublk_stat errors)" $round
	check "maperr: allocation-failure injection back off" \
		sh -c "echo -1 > $EDUBLK_DBG/fail_alloc"
	check "maperr: the device works afterwards" roundtrip 9
	expect_eq "maperr: nothing left outstanding" \
		"$(wdmdma_stat outstanding)/$(wdmdma_stat queue_depth)" 0/0
}
if load_edublk mode=get && echo 100 > $EDUBLK_DBG/fail_alloc; then
	map_error_check
	rmmod edublk
else
	not_ok "maperr: the read whose mapping fails ends with EIO" "insmod or fault injection failed"
	rmmod edublk 2>/dev/null
fi

# Legacy INTx instead of MSI.
if load_edublk msi=0 && [ "$(edublk_stat irq)" = intx ] && roundtrip 7; then
	ok "irq: INTx fallback moves data"
else
	not_ok "irq: INTx fallback moves data"
fi
rmmod edublk 2>/dev/null

check "load: unload everything" unload_all
edublk_finish
