# The Xen CPUID signature is for the firmware only (hvm/vmx/boot_sector_trap.c):
# SeaBIOS finds it during POST, and the boot sector then finds Keel's own
# leaf (firmware/mbr/cpuidsig.S). A restart brings the Xen leaves back for
# the next POST: after the console's `restart`, SeaBIOS finds them again and
# Keel sees the boot sector again (its hand-over lines, counted per guest:
# hvmloader's and the boot sector's, two per boot, so the 4th is boot 2's).
. tests/boot/lib.sh
log=$LOG_DIR/t-cpuid-handover.serial
$KEEL_RUN --guest build/cpuidsig.img --timeout 300 --fail-on PANIC --fail-on "cpuid: leaf 0x40000000 says" \
	--serial-log "$log" --send-after "cpuid: Keel leaf ok" "restart g0" \
	--expect-re "^\[g0\] .*cpuid: Keel leaf ok" \
	--expect-re "boot sector running at 0x7c00: CPUID 0x40000000 is Keel's leaf from now on, not Xen's \(4 so far\)" ||
	exit 1
x=$(grep -c "^\[g0\] Found Xen hypervisor signature" "$log")
[ "$x" = 2 ] || fail "SeaBIOS found the Xen signature in $x POSTs, expected 2 (before and after the restart)"
echo "Xen leaves during both POSTs, Keel's leaf from the boot sector on"
