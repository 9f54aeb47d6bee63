# The console's live view, 'top', on four guests: three boot the test MBR
# and halt, one keeps beating. typed from keel-run: 'top', a key after its
# third screen, 'stats', 'top a', a key, 'top nosuch'. Checked on the log:
# screens numbered in order about a second apart, the heartbeat guest kept
# running while top refreshed, and every figure top shows for halted guests
# (their exits, per reason and per port range, and the cost per exit)
# equals what 'stats' printed afterwards; the running guest's rate matches
# the growth of its total between two screens. Also: SeaBIOS's screen set-up
# sequences are left out of guest lines, and counted.
. tests/boot/lib.sh
log=$LOG_DIR/t-top.serial
$KEEL_RUN --guest build/mbr.img,name=a --guest build/mbr.img,name=b --guest build/mbr.img,name=c \
	--guest build/heartbeat.img,name=hb --timeout 400 --fail-on PANIC --serial-log "$log" \
	--send-after "[hb] heartbeat 4" "top" \
	--send-after "keel: top 3:" "q" \
	--send-after "keel: top ended" "stats" \
	--send-after "keel: end of stats" "top a" \
	--send-after "keel: top 2:" "x" \
	--send-after "keel: top ended" "top nosuch" \
	--expect "keel: top: no guest named 'nosuch'" || exit 1
python3 - "$log" <<'EOF'
import re, sys

lines = open(sys.argv[1], errors="replace").read().splitlines()
GUEST = re.compile(r"^keel: (\S+) +(running|halted|stopped) +(\d+) +([\d.]+) +([\d.]+) +(\d+) +(\d+)$")
ROW = re.compile(r"^keel:   ( *\S.*?) +(\d+) +(\d+) +(\d+) +([\d.]+)$")
HEAD = re.compile(r"^keel: top (\d+): up ([\d.]+) s, rates over ([\d.]+) s")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


# Screens, in order: header, guest lines, exit-reason and port rows.
screens, cur = [], None
for i, l in enumerate(lines):
    m = HEAD.match(l)
    if m:
        cur = {"n": int(m.group(1)), "interval": float(m.group(3)), "line": i, "guests": {}, "rows": []}
        screens.append(cur)
        continue
    if cur is None or l.startswith("["):
        continue  # guest lines go on below the table
    g, r = GUEST.match(l), ROW.match(l)
    if g:
        cur["guests"][g.group(1)] = {"state": g.group(2), "cpu": float(g.group(4)), "rate": int(g.group(6)),
                                    "total": int(g.group(7))}
    elif r:
        cur["rows"].append((r.group(1), int(r.group(2)), int(r.group(3)), int(r.group(4))))
    elif l.startswith("keel: top ended"):
        cur = None
ends = [i for i, l in enumerate(lines) if l.startswith("keel: top ended after")]
if len(ends) != 2:
    fail(f"'top ended' {len(ends)} times, expected 2 (a key ends top)")
first = [s for s in screens if s["line"] < ends[0]]
second = [s for s in screens if ends[0] < s["line"] < ends[1]]
if [s["n"] for s in first][:3] != [1, 2, 3] or [s["n"] for s in second][:2] != [1, 2]:
    fail(f"screens not numbered 1, 2, 3...: {[s['n'] for s in first]}, {[s['n'] for s in second]}")
print(f"top: {len(first)} and {len(second)} screens")
for s in first + second:
    if sorted(s["guests"]) != ["a", "b", "c", "hb"]:
        fail(f"screen {s['n']} lists guests {sorted(s['guests'])}")
for s in first[1:] + second[1:]:
    if not 0.9 <= s["interval"] <= 1.2:
        fail(f"screen {s['n']} came {s['interval']} s after the one before (about 1 s wanted)")

# The heartbeat guest ran on while top refreshed.
beats = [l for l in lines[first[0]["line"]:ends[0]] if l.startswith("[hb] heartbeat ")]
print(f"heartbeats while the first top ran: {len(beats)}")
if len(beats) < 3:
    fail("the heartbeat guest stalled while top ran")

# 'stats' (all guests), printed after the first top ended.
stats, g = {}, None
for l in lines[ends[0]:ends[1]]:
    m = re.match(r"^keel: exit statistics of guest (\S+): (\d+) exits, (\d+) ticks", l)
    if m:
        g = m.group(1)
        stats[g] = {"exits": int(m.group(2)), "rows": {}}
        continue
    m = re.match(r"^keel:   ( *\S.*?) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$", l)
    if m and g:
        stats[g]["rows"][m.group(1)] = (int(m.group(2)), int(m.group(3)))
    m = re.match(r"^keel:   guest text: \d+ bytes, (\d+) terminal escape sequences left out", l)
    if m and g:
        stats[g]["escapes"] = int(m.group(1))
    if l.startswith("keel: end of stats"):
        break
if sorted(stats) != ["a", "b", "c", "hb"]:
    fail(f"stats printed guests {sorted(stats)}")

last = first[-1]
for name in "abc":
    t = last["guests"][name]
    if t["state"] != "halted" or t["rate"] != 0 or t["cpu"] != 0.0:
        fail(f"top's last screen shows halted guest {name} as {t}")
    if t["total"] != stats[name]["exits"]:
        fail(f"top shows {t['total']} exits of {name}, stats {stats[name]['exits']}")
print("halted guests: top's exits = stats' exits: " + ", ".join(f"{n} {stats[n]['exits']}" for n in "abc"))

# The running guest: rate over the interval = growth of its total.
hb = [s["guests"]["hb"] for s in first]
for k in range(1, len(first)):
    d = hb[k]["total"] - hb[k - 1]["total"]
    want = hb[k]["rate"] * first[k]["interval"]
    if d <= 0 or abs(want - d) > 0.03 * d + 2:
        fail(f"hb: total grew by {d} between screens {k} and {k + 1}, but the rate says {hb[k]['rate']}/s "
             f"over {first[k]['interval']} s")
if hb[-1]["total"] > stats["hb"]["exits"]:
    fail("hb: top counted more exits than stats did later")
print(f"hb: rates {[h['rate'] for h in hb[1:]]}/s agree with its totals {[h['total'] for h in hb]}")

# 'top a': every row (exit reasons, then port ranges) is stats' count and
# ticks per exit for guest a, which no longer exits.
rows = second[-1]["rows"]
if len(rows) < 8:
    fail(f"'top a' shows only {len(rows)} rows")
for label, rate, total, per in rows:
    st = stats["a"]["rows"].get(label)
    if st is None:
        fail(f"'top a' row '{label}' is not in 'stats a'")
    if rate != 0 or total != st[0] or per != st[1] // st[0]:
        fail(f"'top a' row '{label}': {rate}/s total {total}, {per} ticks/exit; stats: {st[0]} exits, "
             f"{st[1]} ticks")
print(f"'top a': {len(rows)} rows agree with 'stats' (counts and ticks per exit)")

# Guest text: SeaBIOS's serial console sets the screen up with ESC c, ESC [?7l,
# ESC [2J, ESC [0m; the sequences are gone from the line, and counted.
bios = [l for l in lines if "SeaBIOS (version" in l]
bad = [l for l in bios if not re.match(r"^\[\w+\] SeaBIOS \(version", l)]
if not bios or bad:
    fail(f"SeaBIOS's banner line is not clean: {bad[:2] or 'missing'}")
for name in "abc":
    if stats[name].get("escapes", 0) < 4:
        fail(f"stats of {name}: {stats[name].get('escapes')} escape sequences left out, SeaBIOS sends 4")
print(f"{len(bios)} clean SeaBIOS banner lines; escape sequences left out: {stats['a']['escapes']} per guest")
EOF
