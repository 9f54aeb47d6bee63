# Host SMP on a UEFI host (issue #18): Bochs with OVMF and two CPUs. With no
# ACPI tables there (see t-uefi-mbr), Keel starts the other CPU with
# broadcast start-up IPIs from a page below 1 MiB chosen from the UEFI
# memory map; both CPUs run guests.
. tests/boot/lib.sh
tools/keel-run --firmware uefi --check >/dev/null 2>&1 || skip "no OVMF or EFI GRUB here (tools/install-deps)"
exec $KEEL_RUN --firmware uefi --cpus 2 --guest build/mbr.img,name=a --guest build/mbr.img,name=b \
	--timeout 900 --fail-on PANIC --fail-on "not used" \
	--expect "keel: smp: no ACPI tables, so no list of CPUs: starting every other CPU with broadcast" \
	--expect "keel: smp: cpu1 (APIC id 1) online, in VMX operation" --expect "keel: smp: 2 CPUs online" \
	--expect-re '^\[a\] .*MBR loaded' --expect-re '^\[b\] .*MBR loaded' \
	--expect-re 'keel: guest .*: vCPU 0 runs on cpu1'
