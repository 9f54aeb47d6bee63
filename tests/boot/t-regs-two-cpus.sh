# Issue #14 on 2 host CPUs: a register-state guest with 2 vCPUs and one
# with 1 vCPU (firmware/regtest; 3 vCPUs on 2 CPUs, so they interleave and
# move between CPUs) check every register with their own patterns for
# 4 s of TSC time; all must PASS.
. tests/boot/lib.sh
log=$LOG_DIR/t-regs-two-cpus.serial
seed_a=$(regtest_seed)
seed_b=$(regtest_seed)
$KEEL_RUN --cpus 2 --guest "kernel=build/regtest.bin,name=a,mem=16,vcpus=2,cmdline=seed=$seed_a cr8=1" \
	--guest "kernel=build/regtest.bin,name=b,mem=16,cmdline=seed=$seed_b cr8=1" \
	--timeout 180 --fail-on PANIC --fail-on "exit 127 through port 0xf4" --serial-log "$log" \
	--expect "keel: guest a stopped: guest exited with status 67" \
	--expect "keel: guest b stopped: guest exited with status 67" || exit 1
grep -q "^keel: smp: 2 CPUs online" "$log" || fail "Keel did not run on 2 CPUs"
regs_passed "$log" a "$REGTEST_ALL cr8" 5 || exit 1
regs_passed "$log" b "$REGTEST_ALL cr8" 5 || exit 1
