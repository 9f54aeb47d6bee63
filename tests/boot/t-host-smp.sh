# Host SMP (Bochs with two CPUs): Keel finds the second CPU in the ACPI MADT,
# starts it with INIT-SIPI-SIPI and runs vCPUs on both. Two test MBRs, a
# spinner and a heartbeat: every guest reaches its marker, vCPUs are seen
# running on each CPU, and the heartbeat keeps beating while the spinner
# holds one CPU with interrupts off.
. tests/boot/lib.sh
log=$LOG_DIR/t-host-smp.serial
$KEEL_RUN --cpus 2 --guest build/mbr.img,name=a --guest build/mbr.img,name=b \
	--guest build/spin.img,name=spin --guest build/heartbeat.img,name=hb --timeout 300 --fail-on PANIC \
	--serial-log "$log" --expect "keel: smp: cpu1 (APIC id 1) online, in VMX operation" \
	--expect "keel: smp: 2 CPUs online" \
	--expect-re '^\[a\] .*MBR loaded' --expect-re '^\[b\] .*MBR loaded' \
	--expect-re '^\[spin\] .*spinner: spinning with interrupts off' \
	--expect-re 'keel: guest .*: vCPU 0 runs on cpu0' --expect-re 'keel: guest .*: vCPU 0 runs on cpu1' \
	--expect "[hb] heartbeat 30" || exit 1
beats_after "$log" "spinner: spinning" 5 || exit 1
# Only the boot CPU when told so.
$KEEL_RUN --cpus 2 --cmdline "cpus=1" --guest build/mbr.img --timeout 120 --fail-on "cpu1 (APIC id" \
	--expect "keel: smp: cpus=1: running on the boot CPU only" --expect "MBR loaded" || exit 1
