# Issue #14: one register-state guest (firmware/regtest) with 2 vCPUs on
# ONE host CPU: the BSP starts the AP (INIT, SIPI, SIPI) and both fill and
# check every register (x87, MXCSR, ZMM0-31, k0-7, DR0-3/DR6/DR7, XCR0,
# and CR8: cmdline cr8=1) with
# patterns of their own, for 4 s of TSC time, while the scheduler switches
# between the two vCPUs: neither may see the other's values.
. tests/boot/lib.sh
log=$LOG_DIR/t-regs-smp.serial
seed=$(regtest_seed)
$KEEL_RUN --guest "kernel=build/regtest.bin,name=s,mem=16,vcpus=2,cmdline=seed=$seed cr8=1" \
	--timeout 120 --wait-exit --fail-on PANIC --fail-on "exit 127 through port 0xf4" --serial-log "$log" \
	--expect "[s] regs: 2 of 2 vCPUs up"
rc=$?
[ "$rc" -eq 67 ] || fail "keel-run returned $rc, expected 67 (the guest's PASS exit)"
grep -q "^keel: smp: ACPI lists 1 usable CPU" "$log" || fail "Keel did not run on one host CPU"
regs_passed "$log" s "$REGTEST_ALL cr8" 20 || exit 1
grep -q "^\[s\] regs: PASS .*(vCPUs 2," "$log" || fail "the PASS line is not for 2 vCPUs"
for cpu in 0 1; do
	n=$(grep -c "^\[s\] regs: cpu$cpu round [0-9]* ok" "$log")
	echo "vCPU $cpu: $n progress lines"
	[ "$n" -ge 5 ] || fail "vCPU $cpu did not report its rounds"
done
