# Hostile guest, reset loop (firmware/hostile/hostile.S attack reboot,
# docs/security.md): the guest prints 16 KiB to port 0xE9 and resets itself
# through port 0xCF9; Keel restarts it (on_reset:restart), and it does it
# again, hundreds of times. A restart must not give it a fresh share of the
# console, nor cost six Keel lines each time: the heartbeat guest beside it
# must keep beating, and its lines must still reach the console.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-reboot.serial
$KEEL_RUN --guest build/hostile-reboot.img,name=reboot --guest build/heartbeat.img,name=hb --timeout 180 \
	--fail-on PANIC --fail-on "FATAL" --fail-on "hostile: unexpected" --fail-on "the reset did not happen" \
	--serial-log "$log" --expect "[hb] heartbeat 60" \
	--expect-re "keel: guest reboot: reset requested \(port 0xCF9 reset\): restarting \(restart 100; the restarts in between were not logged\)" \
	--expect-re "keel: warning: guest reboot: [0-9]+ lines \([0-9]+ bytes\) of its console output dropped" || { hostile_seeds "$log"; exit 1; }
hostile_seeds "$log"
fail() { echo "FAIL: $*"; exit 1; }
beats_after "$log" "restarting (restart 10;" 10 || exit 1
# Every beat from 1 to 60 reached the console: hb's lines were not lost to
# the reboot guest's.
for i in $(seq 1 60); do grep -q "^\[hb\] heartbeat $i$" "$log" || fail "heartbeat $i never reached the console"; done
keel=$(grep -c "^keel: .*guest reboot" "$log")
shown=$(grep -c "^\[reboot\] " "$log")
echo "over 100 restarts: $keel Keel lines about guest reboot, $shown lines of its output on the console"
# Before: 6 Keel lines and ~16 KiB of its output per restart.
[ "$keel" -le 80 ] || fail "Keel printed $keel lines about a guest resetting in a loop"
[ "$shown" -le 3000 ] || fail "the resetting guest got $shown lines onto the console"
