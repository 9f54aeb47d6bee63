# A panic on one host CPU stops the others (lib/console.c, arch/x86/smp.c).
# build/keel-panic-test.elf is keel.elf with a deliberate panic
# (-DKEEL_PANIC_TEST, hvm/core/sched.c) on the CPU that loads guest "panic" (a
# spinner, interrupts off) 3 s after it first ran. With two CPUs and a
# heartbeat guest beside it: the panic message, then Keel's count of the
# other CPUs that stopped (1 of 1: only a CPU parked for good counts itself;
# without the NMI the other CPU kept running the heartbeat), and no guest
# output between "halted." and that count.
. tests/boot/lib.sh
log=$LOG_DIR/t-panic-smp.serial
$KEEL_RUN --keel build/keel-panic-test.elf --cpus 2 --guest build/spin.img,name=panic \
	--guest build/heartbeat.img,name=hb --timeout 300 --serial-log "$log" \
	--expect "keel: smp: 2 CPUs online" --expect "[hb] heartbeat 3" \
	--expect-re "keel: PANIC: test: deliberate panic on cpu[01] \(KEEL_PANIC_TEST build\)" \
	--expect "keel: panic: other CPUs stopped: 1 of 1" || exit 1
after=$(sed -n '/keel: halted\./,$p' "$log" | grep -c '^\[hb\] heartbeat' || true)
echo "heartbeats after the panic: $after"
[ "$after" -eq 0 ] || { echo "FAIL: the heartbeat guest kept running after the panic"; tail -20 "$log"; exit 1; }
