# The exit trace read after the fact: Keel keeps each vCPU's last 4096
# exits (trace=4096); once the guest has halted, 'trace g0' dumps them as
# lines, then 'stats g0' prints its statistics. The screen stays on: the
# 4000 lines scroll Keel's text-screen mirror, which Bochs draws on a
# terminal keel-run must keep reading (tools/keel-run, self.screen), or
# Bochs blocks and the dump never ends. tools/exit-timeline reads
# the dump from the serial log: the exits it counts by reason must be
# exactly stats' counts (the ring held the whole boot), but for the last
# one, the HLT the guest sleeps in: stats counts an exit when Keel is done
# with it, and that one never ends. Every boot phase
# (hvmloader, SeaBIOS, boot sector) must have exits, and it draws the
# picture (an SVG with its text as text).
. tests/boot/lib.sh
log=$LOG_DIR/t-trace.serial
svg=$LOG_DIR/t-trace.svg
rm -f "$svg"
$KEEL_RUN --guest build/mbr.img --cmdline "trace=4096" --timeout 400 --fail-on PANIC --serial-log "$log" \
	--send-after "guest g0: vCPU 0 halted with interrupts disabled" "trace nosuch" \
	--send-after "trace: no guest named 'nosuch'" "trace g0" \
	--send-after "keel: end of trace" "stats g0" \
	--expect "keel: end of stats" || exit 1
tools/exit-timeline --out "$svg" "$log" > "$LOG_DIR/t-trace.summary" || fail "tools/exit-timeline failed"
cat "$LOG_DIR/t-trace.summary"
grep -q "<svg" "$svg" && grep -q "VM exits of guest g0" "$svg" || fail "no picture (or its text drawn as paths) in $svg"
python3 - "$log" "$LOG_DIR/t-trace.summary" <<'EOF'
import re, sys
log = open(sys.argv[1], errors="replace").read()
summ = open(sys.argv[2]).read()
m = re.search(r"^keel: trace of vCPU 0: (\d+) exits, the last of (\d+)", log, re.M)
if not m or m.group(1) != m.group(2):
    sys.exit(f"FAIL: the trace did not keep the whole boot: {m and m.group(0)}")
traced = {k: int(v) for k, v in re.findall(r"^  reason (.+): (\d+)$", summ, re.M)}
st = log[log.index("exit statistics of guest g0:"):log.index("keel: end of stats")]
stats = {k: int(v) for k, v in re.findall(r"^keel:   (\S.*?) +(\d+) +\d+ +\d+ +\d+ +\d+$", st, re.M)}
total = int(re.search(r"exit statistics of guest g0: (\d+) exits", st).group(1))
last = re.findall(r"^keel: trace 0 \d+ (\d+) ", log, re.M)[-1]
if last != "12":
    sys.exit(f"FAIL: the last exit traced is reason {last}, not the HLT the guest sleeps in")
traced["HLT"] -= 1
traced = {k: v for k, v in traced.items() if v}
if traced != stats or sum(traced.values()) != total:
    sys.exit(f"FAIL: the trace's exits by reason {traced} differ from stats' {stats} (total {total})")
print(f"trace = stats: {total} exits, {len(stats)} reasons")
for phase in ("hvmloader", "SeaBIOS", "boot sector"):
    m = re.search(rf"^  phase {phase}: (\d+) exits", summ, re.M)
    if not m or int(m.group(1)) == 0:
        sys.exit(f"FAIL: no exits in the {phase} phase")
EOF
