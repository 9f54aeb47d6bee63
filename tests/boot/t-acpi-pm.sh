# ACPI power management (acpi=pm, hvm/dev/vpm.c), with our multiboot1 test
# kernel (firmware/mb1test/conform.c):
# 1. conform=s3: the kernel finds the FADT and FACS as an OS does, points
#    the FACS waking vector at a real-mode stub, enables the RTC alarm as
#    the wake event and enters S3; Keel suspends the guest and, on the
#    alarm, restarts its boot vCPU at the waking vector, whose stub exits
#    with 0x5a: keel-run returns 181;
# 2. conform=poweroff: SLP_TYP S5 with SLP_EN ends the guest with status 0;
# 3. without acpi=pm there is no FADT, and the kernel says so.
. tests/boot/lib.sh
log=$LOG_DIR/t-acpi-pm.serial
$KEEL_RUN --guest "kernel=build/mb1test.elf,mem=16,acpi=pm,cmdline=conform=s3 exit=33" --timeout 200 --wait-exit \
	--fail-on PANIC --serial-log "$log" \
	--expect "[g0] mb1test: conform s3: FADT at" \
	--expect "keel: guest g0: suspended to RAM (ACPI S3); its RTC alarm wakes it" \
	--expect "keel: guest g0: woken from ACPI S3 by its RTC alarm: boot vCPU at 0800:0000"
rc=$?
[ "$rc" -eq 181 ] || fail "S3: keel-run returned $rc, expected 181 ((0x5a << 1) | 1) from the resume stub"
echo "S3: suspended, woken by the RTC alarm, resumed at the waking vector"

$KEEL_RUN --guest "kernel=build/mb1test.elf,mem=16,acpi=pm,cmdline=conform=poweroff exit=33" --timeout 200 --wait-exit \
	--fail-on PANIC --fail-on "mb1test: FAIL" \
	--expect "keel: guest g0 stopped: guest exited with status 0 (ACPI power-off, S5)"
rc=$?
[ "$rc" -eq 0 ] || fail "S5: keel-run returned $rc, expected 0"
echo "S5: powered off, status 0"

$KEEL_RUN --guest "kernel=build/mb1test.elf,mem=16,cmdline=conform=s3 exit=33" --timeout 200 --wait-exit \
	--fail-on PANIC --expect "[g0] mb1test: FAIL conform s3: no FADT"
rc=$?
[ "$rc" -eq 255 ] || fail "acpi=basic: keel-run returned $rc, expected 255 (mb1test's failure exit)"
echo "acpi=basic: no FADT, as configured"
