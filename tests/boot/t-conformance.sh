# Hardware behaviours kvm-unit-tests found missing (docs/conformance.md),
# each checked by our multiboot1 test kernel (firmware/mb1test/conform.c),
# without the suite:
# 1. conform=misc+rf+nmi+nmihlt+step+stephlt+task+testdev+unclaimed with testdev=on:
#    IA32_MISC_ENABLE keeps its writable bits; an injected #GP pushes
#    EFLAGS.RF; an NMI sent inside the NMI handler arrives right after its
#    IRET, and does not end a HLT in that handler (an interrupt does); single-stepping over CPUID traps right after it, over STI;HLT
#    right after HLT, before the interrupt that ends the halt; hardware
#    task switches (JMP, CALL + IRET, #GP through a task gate); QEMU's pc-testdev
#    answers (data port, MMIO page, interrupt line); a load where nothing
#    answers reads all ones, a store is dropped (above RAM, and the page of
#    a globally disabled local APIC); then exit 33: keel-run returns 67;
# 2. the same access with unclaimed=stop stops the guest, and keel-run ends
#    at once (not at its timeout) with status 1, naming the reason;
# 3. a kernel linked at 0x8000 (mb1test-low.elf) is loaded below 1 MiB,
#    with hvmloader's boot information and trampoline moved out of its way.
. tests/boot/lib.sh
log=$LOG_DIR/t-conformance.serial
$KEEL_RUN --guest "kernel=build/mb1test.elf,mem=16,testdev=on,cmdline=conform=misc+rf+nmi+nmihlt+step+stephlt+task+testdev+unclaimed exit=33" \
	--timeout 200 --wait-exit --fail-on PANIC --fail-on "mb1test: FAIL" --serial-log "$log" \
	--expect "[g0] mb1test: conform misc ok" --expect "[g0] mb1test: conform rf ok" \
	--expect "[g0] mb1test: conform nmi ok" --expect "[g0] mb1test: conform nmihlt ok" \
	--expect "[g0] mb1test: conform step ok" \
	--expect "[g0] mb1test: conform stephlt ok" --expect "[g0] mb1test: conform task ok" \
	--expect "[g0] mb1test: conform testdev ok" \
	--expect "[g0] mb1test: conform unclaimed ok"
rc=$?
[ "$rc" -eq 67 ] || fail "keel-run returned $rc, expected 67 ((33 << 1) | 1)"
grep -q "keel: warning: guest g0: vCPU 0: 4-byte read from guest-physical 0x1100000, where no RAM or device answers" "$log" ||
	fail "Keel did not log the unclaimed read above RAM"
echo "conform: all nine behaviours hold"

log2=$LOG_DIR/t-conformance-stop.serial
start=$(date +%s)
$KEEL_RUN --guest "kernel=build/mb1test.elf,mem=16,unclaimed=stop,cmdline=conform=unclaimed exit=33" \
	--timeout 300 --fail-on PANIC --serial-log "$log2" >"$LOG_DIR/t-conformance-stop.out" 2>&1
rc=$?
took=$(($(date +%s) - start))
cat "$LOG_DIR/t-conformance-stop.out"
[ "$rc" -eq 1 ] || fail "unclaimed=stop: keel-run returned $rc, expected 1"
grep -q "keel-run: guest g0 was stopped by Keel: read from guest-physical 0x1100000, outside its 16 MiB of RAM" \
	"$LOG_DIR/t-conformance-stop.out" || fail "keel-run did not name the stop"
[ "$took" -lt 150 ] || fail "keel-run took ${took}s: it waited for its timeout instead of ending at the stop"
echo "unclaimed=stop: stopped, keel-run ended after ${took}s of its 300s timeout"

$KEEL_RUN --guest "kernel=build/mb1test-low.elf,mem=16,cmdline=exit=5" --timeout 200 --wait-exit \
	--fail-on PANIC --fail-on "mb1test: FAIL" \
	--expect-re "^\\[g0\\] hvmloader: kernel 'mb1test-low.elf': multiboot1 ELF kernel, [0-9]+ segment\\(s\\) at 0x8000-" \
	--expect "[g0] hvmloader: kernel 'mb1test-low.elf' uses low memory: boot information at 0x98000, trampoline at 0x91000" \
	--expect "[g0] mb1test: started, EAX 0x2badb002, EBX 0x98000" \
	--expect "[g0] mb1test: ok mem_upper=15360 cmdline='mb1test-low.elf exit=5'"
rc=$?
[ "$rc" -eq 11 ] || fail "low kernel: keel-run returned $rc, expected 11 ((5 << 1) | 1)"
echo "a kernel at 0x8000: loaded, ran, exit status 11"
