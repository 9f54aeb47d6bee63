# Issue #14: a 64-bit guest (firmware/regtest mode=cache) runs WBINVD and
# INVD 200 times each (Keel must trap both: its 'stats' table, typed on the
# console once the guest is done, must count them), then RDPMC, which must
# raise #GP (no counters are offered), a write of CR4.PKE, which must raise
# #GP (PKU is not offered), and a write of CR4.PCE, which a CPU accepts
# (docs/vcpu-state.md): RDPMC with PCE set must still raise #GP, since it
# exits to Keel whatever CR4 says. The heartbeat guest beside it keeps
# beating.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-cache.serial
$KEEL_RUN --fail-on PANIC --fail-on FATAL --serial-log "$log" --guest "kernel=build/regtest.bin,name=wb,mem=16,cmdline=mode=cache loops=200" \
	--guest build/heartbeat.img,name=hb --timeout 90 --fail-on "regtest: FAIL" \
	--send-after "[wb] cache: done" "stats wb" \
	--expect "exit statistics of guest wb" --expect "[hb] heartbeat 20" || exit 1
grep -q "^\[wb\] cache: WBINVD and INVD executed 200 times each" "$log" || fail "the WBINVD/INVD loop did not complete"
grep -q "^\[wb\] cache: CR4.PCE set: no fault" "$log" || fail "CR4.PCE was refused: $(grep -a 'CR4.PCE set:' "$log")"
for what in "RDPMC counter 0" "RDPMC with CR4.PCE set" "CR4.PKE set"; do
	line=$(grep -a "^\[wb\] cache: $what: " "$log")
	echo "$line"
	case "$line" in
	*": exception vector 13 (#GP) caught") ;;
	*) fail "$what did not raise #GP in the guest" ;;
	esac
done
# The first 'stats wb' table (the guest keeps running: there is only one).
count() { sed -n "/exit statistics of guest wb/,\$s/^keel:   $1  *\([0-9][0-9]*\) .*/\1/p" "$log" | head -1; }
for exit in WBINVD INVD RDPMC; do
	n=$(count "$exit")
	echo "Keel's exit count for $exit: ${n:-none}"
	case $exit in RDPMC) min=1 ;; *) min=200 ;; esac
	[ "${n:-0}" -ge "$min" ] || fail "Keel counted ${n:-no} $exit exits of guest wb, expected at least $min"
done
beats_after "$log" "\[wb\] cache: done" 5 || exit 1
