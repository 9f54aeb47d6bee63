# Issue #14: two register-state guests (firmware/regtest) with different
# random seeds share ONE host CPU (keel-run's default --cpus 1). Each fills
# x87, MXCSR, ZMM0-31/k0-7, DR0-3/DR6/DR7 (a) or YMM0-15 with XCR0 = 0x7 (b:
# its XCR0 differs from a's) with its own pattern and checks every register
# each 2 ms for 4 s of TSC time while the scheduler switches between them:
# both must PASS having tested every component the CPU model offers, and
# must have been descheduled many times (the other guest ran in between).
. tests/boot/lib.sh
log=$LOG_DIR/t-regs-two-guests.serial
seed_a=$(regtest_seed)
seed_b=$(regtest_seed)
echo "seeds: a $seed_a, b $seed_b"
[ "$seed_a" != "$seed_b" ] || fail "the two seeds are equal"
$KEEL_RUN --guest "kernel=build/regtest.bin,name=a,mem=16,cmdline=seed=$seed_a" \
	--guest "kernel=build/regtest.bin,name=b,mem=16,cmdline=seed=$seed_b xcr0=0x7" \
	--timeout 120 --fail-on PANIC --fail-on "exit 127 through port 0xf4" --serial-log "$log" \
	--expect "keel: guest a stopped: guest exited with status 67" \
	--expect "keel: guest b stopped: guest exited with status 67" || exit 1
grep -q "^keel: smp: ACPI lists 1 usable CPU" "$log" || fail "Keel did not run on one host CPU"
regs_passed "$log" a "$REGTEST_ALL" 20 || exit 1
regs_passed "$log" b "x87 sse avx dr xcr0" 20 || exit 1
grep -q "^\[a\] regs: cpu0 seed $seed_a," "$log" || fail "guest a did not use its seed $seed_a"
grep -q "^\[b\] regs: cpu0 seed $seed_b," "$log" || fail "guest b did not use its seed $seed_b"
grep -q "^\[b\] regs: seed .* xcr0 0x7, " "$log" || fail "guest b did not run with XCR0 = 0x7"
