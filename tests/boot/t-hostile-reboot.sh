# Hostile guest, reset loop (firmware/hostile/hostile.S attack reboot,
# docs/security.md): the guest prints 16 KiB to port 0xE9 and resets itself
# through port 0xCF9; Keel restarts it (on_reset:restart), and it does it
# again. A restart must not give it a fresh share of the console, nor cost
# six Keel lines each time: the heartbeat guest beside it must keep beating,
# and its lines must still reach the console. After 6 quick restarts Keel
# backs off (hvm/restart_backoff.c: 1, 2, 4, 8 s... up to 60 s), says so
# once, and restart 8 really waits 2 s (heartbeats every ~0.5 s meanwhile).
# While restart 10 waits its 8 s, 'restart reboot' typed on Keel's console
# restarts it at once, as a new machine.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-reboot.serial
hostile_run "$log" --guest build/hostile-reboot.img,name=reboot --guest build/heartbeat.img,name=hb --timeout 180 \
	--fail-on "the reset did not happen" --expect "[hb] heartbeat 60" \
	--send-after "restarting in 8 s (restart 10;" "restart reboot" \
	--expect "keel: warning: guest reboot: resets itself in a loop (6 restarts, each within 10 s of the last)" \
	--expect-re "keel: guest reboot: reset requested \(port 0xCF9 reset\): restarting in 8 s \(restart 10; the restarts in between were not logged\)" \
	--expect-re "keel: warning: guest reboot: [0-9]+ lines \([0-9]+ bytes\) of its console output dropped" || exit 1
# The console's restart did not wait for the back-off: few beats between
# restart 10's 8 s announcement and the guest's next output.
from=$(grep -n "restarting in 8 s (restart 10;" "$log" | head -1 | cut -d: -f1)
gap=$(tail -n +"$((from + 1))" "$log" | sed '/^\[reboot\] /q' | grep -c '^\[hb\] heartbeat ')
echo "heartbeats before the console's restart took effect: $gap (the back-off's 8 s would be ~16)"
grep -q "^keel: guest reboot: restarting$" <(tail -n +"$from" "$log") || fail "no restart after the console's command"
[ "$gap" -lt 10 ] || fail "the console's restart waited for the back-off ($gap heartbeats)"
beats_after "$log" "(restart 10;" 10 || exit 1
# Every beat from 1 to 60 reached the console: hb's lines were not lost to
# the reboot guest's.
for i in $(seq 1 60); do grep -q "^\[hb\] heartbeat $i$" "$log" || fail "heartbeat $i never reached the console"; done
# Once per loop: the console's restart begins a new one.
n=$(head -n "$from" "$log" | grep -c "resets itself in a loop")
[ "$n" -eq 1 ] || fail "the restart back-off was announced $n times before restart 10 (once expected)"
grep -q "restarting in 1 s (restart 7)" "$log" || fail "restart 7 was not delayed by 1 s: $(grep 'restart 7' "$log")"
# The delay is real: between restart 8's request and the guest's next
# output (hvmloader, at once when it restarts) the heartbeat beats for most
# of 2 s (restart 10's line, later, means the log covers it).
from=$(grep -n "restarting in 2 s (restart 8)" "$log" | head -1 | cut -d: -f1)
[ -n "$from" ] || fail "restart 8 was not delayed by 2 s: $(grep 'restart 8' "$log")"
gap=$(tail -n +"$((from + 1))" "$log" | sed '/^\[reboot\] /q' | grep -c '^\[hb\] heartbeat ')
echo "heartbeats while restart 8 waited: $gap"
[ "$gap" -ge 3 ] || fail "restart 8 did not wait (only $gap heartbeats before the guest ran again)"
keel=$(grep -c "^keel: .*guest reboot" "$log")
shown=$(grep -c "^\[reboot\] " "$log")
echo "over 10 restarts: $keel Keel lines about guest reboot, $shown lines of its output on the console"
# Before: 6 Keel lines and ~16 KiB of its output per restart. Now about 6
# for each of the first 8 and the 10th, none for the 9th and after the 10th.
[ "$keel" -le 70 ] || fail "Keel printed $keel lines about a guest resetting in a loop"
[ "$shown" -le 3000 ] || fail "the resetting guest got $shown lines onto the console"
