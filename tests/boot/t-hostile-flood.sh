# Hostile guest, console flood (firmware/hostile/hostile.S attack flood,
# docs/security.md): a guest writes 2 KiB blocks of text to port 0xE9 and
# a line to COM1, forever. Keel must not wait for the UART on its behalf
# (the heartbeat guest beside it would stop) nor pass all of it to the
# console: over its share (include/keel/output_budget.h) its lines are
# dropped, and Keel says so in a few counted lines.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-flood.serial
hostile_run "$log" --guest build/hostile-flood.img,name=flood --guest build/heartbeat.img,name=hb --timeout 180 \
	--expect "[hb] heartbeat 40" \
	--expect-re "keel: warning: guest flood: console output dropped: it prints more than its share" \
	--expect-re "keel: warning: guest flood: [0-9]+ lines \([0-9]+ bytes\) of its console output dropped in the last" || exit 1
beats_after "$log" "guest flood: console output dropped" 10 || exit 1
sent=$(grep -o "flood: blocks of 2 KiB sent to port 0xE9: [0-9]*" "$log" | tail -1 | grep -o "[0-9]*$")
shown=$(grep -c "^\[flood\] " "$log")
reports=$(grep -c "keel: warning: guest flood: " "$log")
echo "the guest sent $sent blocks of 2 KiB (plus a line each); $shown of its lines reached the console; Keel's report lines: $reports"
[ -n "$sent" ] && [ "$sent" -ge 1000 ] || fail "the flood did not get going ($sent blocks)"
# 40 beats are ~20 s of guest time: 16 KiB + 20 s x 2 KiB/s is ~850 lines
# of 64-72 bytes. Without the share it was every line the UART could send.
[ "$shown" -le 1500 ] || fail "the flooding guest got $shown lines onto the console"
[ "$reports" -le 8 ] || fail "Keel's own reports about the flood flood the console ($reports lines)"
