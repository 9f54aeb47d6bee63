# x2APIC hosts (issue #18): Keel drives the local APICs as x2APICs (MSRs
# 0x800-0x8FF) on every CPU, including the INIT/start-up IPIs that start
# the second CPU and the kicks between them. corei7_skylake_x offers x2APIC
# (CPUID.1:ECX[21]); neither Bochs's BIOS nor GRUB turn it on and its MADT
# lists xAPIC entries, so apic=x2apic asks for it (include/keel/apic_mode.h;
# the choice from the firmware's state and the MADT is unit-tested).
. tests/boot/lib.sh
exec $KEEL_RUN --cpus 2 --cmdline "apic=x2apic" --guest build/mbr.img,name=a --guest build/mbr.img,name=b \
	--guest build/heartbeat.img,name=hb --timeout 600 --fail-on PANIC \
	--expect "keel: apic: x2APIC mode: apic=x2apic on the command line" \
	--expect "keel: smp: cpu1 (APIC id 1) online, in VMX operation" --expect "keel: smp: 2 CPUs online" \
	--expect-re '^\[a\] .*MBR loaded' --expect-re '^\[b\] .*MBR loaded' \
	--expect-re 'keel: guest .*: vCPU 0 runs on cpu1' --expect "[hb] heartbeat 10"
