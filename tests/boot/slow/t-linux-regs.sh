# The slow tier, issue #14: two guests running Debian's Linux share ONE
# host CPU (keel-run's default --cpus 1); each initramfs' /init is
# keel-regcheck (firmware/linux-init/regcheck.c), which fills YMM0-15
# (XMM0-15 if Linux did not enable AVX) with a pattern from its own random
# seed and checks them for 5 s of CLOCK_MONOTONIC while Keel switches
# between the two guests and Linux takes its interrupts. Both must PASS,
# on YMM: Keel offers AVX on corei7_skylake_x, so Linux enables it.
. tests/boot/lib.sh
[ -s build/linux/vmlinuz ] || skip "no build/linux/vmlinuz (tools/fetch-linux fetches Debian's kernel)"
[ -s build/linux/initramfs-regcheck.cpio ] || skip "no build/linux/initramfs-regcheck.cpio (make build/linux/initramfs-regcheck.cpio)"
log=$LOG_DIR/t-linux-regs.serial
seed_a=$(regtest_seed)
seed_b=$(regtest_seed)
echo "seeds: a $seed_a, b $seed_b"
guest() { # NAME SEED
	echo "kernel=build/linux/vmlinuz,ramdisk=build/linux/initramfs-regcheck.cpio,name=$1,mem=192,cmdline=console=ttyS0 nokaslr quiet regseed=$2"
}
$KEEL_RUN --guest "$(guest a "$seed_a")" --guest "$(guest b "$seed_b")" --timeout 2000 \
	--fail-on "keel: PANIC" --fail-on "Kernel panic" --fail-on "VM entry failed" --fail-on "keel-regcheck: FAIL" \
	--serial-log "$log" \
	--expect "keel: guest a stopped: guest exited with status 85" \
	--expect "keel: guest b stopped: guest exited with status 85" || exit 1
grep -q "^keel: smp: ACPI lists 1 usable CPU" "$log" || fail "Keel did not run on one host CPU"
for g in a b; do
	seed=$seed_a
	[ "$g" = b ] && seed=$seed_b
	grep -q "^\[$g\] keel-regcheck: seed $seed, checking ymm0-15 for 5 s" "$log" ||
		fail "guest $g did not check YMM0-15 with its seed $seed: $(grep -a "^\[$g\] keel-regcheck: seed" "$log")"
	line=$(grep -a "^\[$g\] keel-regcheck: PASS ymm (checks " "$log")
	[ -n "$line" ] || fail "guest $g printed no PASS"
	echo "$line"
done
