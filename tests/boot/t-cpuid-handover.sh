# The Xen CPUID signature is for the firmware only (hvm/vmx/boot_sector_trap.c):
# SeaBIOS finds it during POST, and the boot sector then finds Keel's own
# leaf (firmware/mbr/cpuidsig.S). A reset brings the Xen leaves back for
# the next POST: SeaBIOS must find them again after the console's restart.
. tests/boot/lib.sh
log=$LOG_DIR/t-cpuid-handover.serial
$KEEL_RUN --guest build/cpuidsig.img --timeout 300 --fail-on PANIC --fail-on "cpuid: leaf 0x40000000 says" \
	--serial-log "$log" --expect-re "^\[g0\] .*cpuid: Keel leaf ok" || exit 1
grep -qF "[g0] Found Xen hypervisor signature" "$log" || fail "SeaBIOS did not find the Xen signature"
grep -qF "boot sector running at 0x7c" "$log" || fail "Keel did not log the hand-over to the boot sector"
echo "Xen leaves during POST, Keel's leaf in the boot sector"
