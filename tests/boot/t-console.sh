# Keel's serial console: commands typed on COM1 (keel-run --send-after)
# while two guests run. list shows both running; stats prints one guest's
# exit table; stop frees a guest and the other keeps running; restart boots
# it again from scratch (a second 'MBR loaded'); bad commands are named.
. tests/boot/lib.sh
log=$LOG_DIR/t-console.serial
$KEEL_RUN --guest build/mbr.img,name=a --guest build/heartbeat.img,name=hb --timeout 300 --fail-on PANIC \
	--serial-log "$log" \
	--send-after "[hb] heartbeat 3" "list" \
	--send-after "keel: cpu0 (APIC id" "stats a" \
	--send-after "exit statistics of guest a" "stop a" \
	--send-after "guest a stopped: stopped from the console" "list" \
	--send-after "keel: cpu0 (APIC id" "frobnicate" \
	--send-after "unknown command 'frobnicate'" "stop nosuch" \
	--send-after "stop: no guest named 'nosuch'" "restart a" \
	--expect "guest a: restarting" \
	--expect "[hb] heartbeat 40" || exit 1
n=$(grep -c '^\[a\] .*MBR loaded' "$log")
echo "'MBR loaded' lines from guest a: $n"
[ "$n" -ge 2 ] || { echo "guest a did not boot again after 'restart a'"; exit 1; }
grep -Eq '^keel: a +running' "$log" || { echo "'list' did not show guest a running"; exit 1; }
grep -Eq '^keel: a +stopped' "$log" || { echo "'list' did not show guest a stopped after 'stop a'"; exit 1; }
grep -Eq '^keel: hb +running' "$log" || { echo "'list' did not show guest hb"; exit 1; }
grep -q 'exit statistics of guest a:' "$log" || { echo "'stats a' printed no table"; exit 1; }
beats_after "$log" "guest a stopped: stopped from the console" 5 || exit 1
