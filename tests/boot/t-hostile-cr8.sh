# Issue #14: a 64-bit guest (firmware/regtest mode=cr8) sets CR8, the task
# priority, to 15 (masking every interrupt class) and halts with interrupts
# off, or spins. CR8 must be that guest's own (a TPR shadow): the host's
# local APIC must not see it, so Keel's timer and console keep working and
# the heartbeat guest beside it keeps beating. First on one host CPU, then
# on two with a halting and a spinning CR8 guest.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-cr8.serial
$KEEL_RUN --fail-on PANIC --fail-on FATAL --serial-log "$log" --guest "kernel=build/regtest.bin,name=cr8,mem=16,cmdline=mode=cr8" \
	--guest build/heartbeat.img,name=hb --timeout 90 \
	--expect "[cr8] cr8: wrote 15, reads back 15; now halting (cli; hlt)" --expect "[hb] heartbeat 20" || exit 1
beats_after "$log" "cr8: wrote 15" 10 || exit 1

log2=$LOG_DIR/t-hostile-cr8-2cpus.serial
$KEEL_RUN --fail-on PANIC --fail-on FATAL --serial-log "$log2" --cpus 2 --guest "kernel=build/regtest.bin,name=cr8,mem=16,cmdline=mode=cr8" \
	--guest "kernel=build/regtest.bin,name=cr8spin,mem=16,cmdline=mode=cr8 then=spin" \
	--guest build/heartbeat.img,name=hb --timeout 120 \
	--expect "[cr8] cr8: wrote 15, reads back 15; now halting (cli; hlt)" \
	--expect "[cr8spin] cr8: wrote 15, reads back 15; now spinning" --expect "[hb] heartbeat 20" || exit 1
grep -q "^keel: smp: 2 CPUs online" "$log2" || fail "Keel did not run on 2 CPUs"
beats_after "$log2" "cr8: wrote 15, reads back 15; now spinning" 10 || exit 1
beats_after "$log2" "cr8: wrote 15, reads back 15; now halting" 10 || exit 1
