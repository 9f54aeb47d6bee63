# x2APIC hosts (issue #18): GRUB hands Keel over with the boot CPU's local
# APIC in x2APIC mode (its 'wrmsr' sets IA32_APIC_BASE = 0xfee00d00: base,
# BSP, EXTD, EN), as firmware on many machines does. corei7_skylake_x
# offers x2APIC (CPUID.1:ECX[21]). Keel must keep x2APIC mode and drive
# the APICs as x2APICs (MSRs 0x800-0x8FF) on both CPUs: the INIT/start-up
# IPIs that start the second CPU (which comes up in xAPIC mode and
# switches itself), the kicks between them, the idle timer. The other
# reasons to choose x2APIC (MADT type-9 entries, ids above 254,
# apic=x2apic) are unit-tested (tests/unit/test_apic_mode.c).
. tests/boot/lib.sh
exec $KEEL_RUN --cpus 2 --grub-cmd "insmod wrmsr" --grub-cmd "wrmsr 0x1b 0xfee00d00" \
	--guest build/mbr.img,name=a --guest build/mbr.img,name=b --guest build/heartbeat.img,name=hb \
	--timeout 600 --fail-on PANIC \
	--expect "keel: apic: x2APIC mode: the firmware handed over in x2APIC mode" \
	--expect "keel: smp: cpu1 (APIC id 1) online, in VMX operation" --expect "keel: smp: 2 CPUs online" \
	--expect-re '^\[a\] .*MBR loaded' --expect-re '^\[b\] .*MBR loaded' \
	--expect-re 'keel: guest .*: vCPU 0 runs on cpu1' --expect "[hb] heartbeat 10"
