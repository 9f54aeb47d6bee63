# UEFI hosts (issue #18): OVMF boots the ISO's EFI GRUB, which loads Keel
# through multiboot2.
# In Bochs (VMX), with two CPUs: the default guest reaches its MBR, and so
# does a second one on the other CPU. OVMF there installs no ACPI tables
# (Bochs has no fw_cfg), so Keel looks through the EFI system table (and
# says what it found), then starts the other CPU with broadcast start-up
# IPIs from a page below 1 MiB chosen from the UEFI memory map. With
# --video GRUB hands over OVMF's GOP framebuffer, and Keel draws its
# console there too. One run for all: OVMF's start-up is most of the time
# (1-2 min here).
# Under QEMU TCG with OVMF (q35) GRUB passes the RSDP and a UEFI memory
# map; no VMX there, so Keel must stop with its no-VMX message.
. tests/boot/lib.sh
tools/keel-run --firmware uefi --check >/dev/null 2>&1 || skip "no OVMF or EFI GRUB here (tools/install-deps)"
log=$LOG_DIR/t-uefi.serial
$KEEL_RUN --firmware uefi --video --cpus 2 --guest build/mbr.img --guest build/mbr.img,name=b \
	--timeout 900 --fail-on PANIC --fail-on "not used" --serial-log "$log" \
	--expect "keel: warning: acpi: no RSDP from the boot loader, and none through the EFI system table at 0x" \
	--expect "keel: smp: no ACPI tables, so no list of CPUs: starting every other CPU with broadcast" \
	--expect "keel: smp: cpu1 (APIC id 1) online, in VMX operation" --expect "keel: smp: 2 CPUs online" \
	--expect "keel: screen: console on the 640x480 framebuffer at 0x" \
	--expect-re '^\[g0\] .*MBR loaded' --expect-re '^\[b\] .*MBR loaded' \
	--expect-re 'keel: guest .*: vCPU 0 runs on cpu1' || exit 1
$KEEL_RUN --emulator qemu-tcg --firmware uefi --cpus 2 --guest build/mbr.img --timeout 120 \
	--fail-on "keel: PANIC" --fail-on "VMX operation entered" --fail-on "boot information" \
	--expect "keel: acpi: RSDP revision 2 from the boot loader" \
	--expect-re "keel: memory: [0-9]+ MiB of RAM in [0-9]+ map entries" \
	--expect-re "keel: error: VMX is not available: \S" --expect "Keel halted"
