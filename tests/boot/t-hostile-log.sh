# Hostile guest, Keel's own log (firmware/hostile/hostile.S attack logflood,
# docs/security.md): forever, each action Keel logs on a guest's behalf:
# WRMSR IA32_APIC_BASE with another base, the hypercall-page MSR outside
# RAM, hvmloader's timeline mark again, an INIT IPI to its boot vCPU (cli;
# hlt woken by a self-NMI was one too while Keel delivered such an NMI late;
# with NMIs delivered as the architecture says, a lone vCPU cannot wake
# itself from cli; hlt). Every such line goes through guest_log()
# (1-8, 10, 100, 1000... of each kind) and the console never waits for the
# UART under hv_lock, so the heartbeat guest sharing its CPU keeps its pace
# (before: 76,578 Keel lines and no 40th beat in 600 s). First, the guest
# writes IA32_TSC and reads it back with RDTSC and RDMSR. Keel runs with
# verw=on, so the VERW before every VM entry runs here too (the emulated
# CPU does not ask for it: include/keel/spec.h).
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-log.serial
hostile_run "$log" --guest build/hostile-logflood.img,name=logflood --guest build/heartbeat.img,name=hb \
	--cmdline "verw=on" --timeout 150 --expect "[hb] heartbeat 40" \
	--expect "[logflood] hostile: logflood: rounds of Keel-logged actions: 2048" || exit 1
grep -q "^keel: spec: .*; VERW on VM entry: on (verw=on); " "$log" || fail "verw=on did not turn VERW on"
grep -q "^keel: spec: .*on VM exit: registers cleared, RSB filled (always)" "$log" || fail "no speculation line"
grep -q "^\[logflood\] hostile: tsc: after WRMSR IA32_TSC 2^60, RDTSC high 0x10000000, RDMSR high 0x10000000" "$log" ||
	fail "a WRMSR IA32_TSC did not move the guest's TSC: $(grep -a 'hostile: tsc' "$log")"
beats_after "$log" "logflood: rounds of Keel-logged actions: 1024" 10 || exit 1
rounds=$(grep -o "logflood: rounds of Keel-logged actions: [0-9]*" "$log" | tail -1 | grep -o "[0-9]*$")
lines=$(grep -c "^keel: .*guest logflood" "$log")
echo "the guest made $rounds rounds; Keel lines about it: $lines"
# Each kind was logged, and counted through its 1000th time: the loop
# reached Keel every round, it was only not printed.
for what in "vCPU 0: moving the local APIC to 0xfee01000 is not supported" \
	"WRMSR Xen hypercall page (0x40000000) value 0x80000000 at RIP 0x[0-9a-f]* refused: #GP injected" \
	"INIT IPI to the boot vCPU ignored"; do
	grep -q "^keel: .*guest logflood: $what.* (1 so far)$" "$log" || fail "Keel never logged: $what"
	grep -q "^keel: .*guest logflood: $what.* (1000 so far)$" "$log" || fail "Keel did not count to 1000: $what"
done
# hvmloader's mark is logged when it is first set, once per boot.
n=$(grep -c "guest logflood: hvmloader hands over" "$log")
[ "$n" -eq 1 ] || fail "the timeline mark was logged $n times"
# 3 kinds x (8 + one per power of ten: 10, 100...), plus its creation,
# the hand-over and two lines for the TSC (logged at most 8 times).
max=$((3 * (8 + ${#rounds}) + 4))
[ "$lines" -le "$max" ] || fail "the guest made Keel print $lines lines (at most $max expected)"
