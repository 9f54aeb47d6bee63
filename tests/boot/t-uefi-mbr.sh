# UEFI hosts (issue #18): OVMF boots the ISO's EFI GRUB, which loads Keel
# through multiboot2. In Bochs (VMX) the default guest reaches its MBR; OVMF
# there installs no ACPI tables (Bochs has no fw_cfg), so Keel looks through
# the EFI system table and says what it found. Under QEMU TCG with OVMF
# (q35) GRUB passes the RSDP and a UEFI memory map; no VMX there, so Keel
# must stop with its no-VMX message.
. tests/boot/lib.sh
tools/keel-run --firmware uefi --check >/dev/null 2>&1 || skip "no OVMF or EFI GRUB here (tools/install-deps)"
log=$LOG_DIR/t-uefi-mbr.serial
$KEEL_RUN --firmware uefi --guest build/mbr.img --timeout 600 --fail-on PANIC --serial-log "$log" \
	--expect "keel: warning: acpi: no RSDP from the boot loader, and none through the EFI system table at 0x" \
	--expect-re "^\[g0\] .*MBR loaded" || exit 1
$KEEL_RUN --emulator qemu-tcg --firmware uefi --cpus 2 --guest build/mbr.img --timeout 120 \
	--fail-on "keel: PANIC" --fail-on "VMX operation entered" --fail-on "boot information" \
	--expect "keel: acpi: RSDP revision 2 from the boot loader" \
	--expect-re "keel: memory: [0-9]+ MiB of RAM in [0-9]+ map entries" \
	--expect-re "keel: error: VMX is not available: \S" --expect "Keel halted"
