# The PIT's IRQ 0 reaches a directly booted kernel (firmware/mb1test,
# irqtest.c) by each path an OS uses: the 8259A in virtual-wire mode, and
# I/O APIC input 2 to the local APIC in logical flat and in physical
# destination mode, opened (as Linux's check_timer does) while a tick sits
# masked in the 8259A. Each guest counts its interrupts over 100 ms of TSC
# time (rate from CPUID 0x15) and fails itself outside 5-30 (25 alone; three
# guests share the CPU, and Keel coalesces the ticks a guest missed).
. tests/boot/lib.sh
log=$LOG_DIR/t-irq-routing.serial
$KEEL_RUN --timeout 200 --fail-on PANIC --fail-on "mb1test: FAIL" --serial-log "$log" \
	--guest "kernel=build/mb1test.elf,name=pic,mem=8,cmdline=irqtest=pic exit=1" \
	--guest "kernel=build/mb1test.elf,name=logical,mem=8,cmdline=irqtest=ioapic-logical exit=2" \
	--guest "kernel=build/mb1test.elf,name=physical,mem=8,cmdline=irqtest=ioapic-physical exit=3" \
	--expect "keel: guest pic stopped: guest exited with status 3" \
	--expect "keel: guest logical stopped: guest exited with status 5" \
	--expect "keel: guest physical stopped: guest exited with status 7" || exit 1
for m in pic:pic logical:ioapic-logical physical:ioapic-physical; do
	line=$(grep -F "[${m%%:*}] mb1test: irqtest ${m#*:}: " "$log") || { echo "no count from ${m%%:*}"; exit 1; }
	echo "$line"
done
