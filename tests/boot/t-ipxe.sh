# A third-party guest from Debian's ipxe package: its hybrid ISO as the
# guest's disk (SeaBIOS boots ISOLINUX from its MBR, ISOLINUX loads iPXE,
# which scans the PCI bus). iPXE's console is SeaBIOS's serial console,
# which copies the UART into the BIOS keyboard buffer: through `console
# NAME`, Ctrl-B gets its command line; CPUID shows long mode; a command
# line arrives whole (Keel paces typed input: sent at once, it overflowed
# the 15-key buffer and lost its end); `sleep 1` returns (its timer); and
# `reboot` resets the guest, which Keel restarts into iPXE again.
. tests/boot/lib.sh
iso=/usr/lib/ipxe/ipxe.iso
[ -r "$iso" ] || skip "no $iso: Debian's ipxe package (tools/install-deps installs it)"
log=$LOG_DIR/t-ipxe.serial
$KEEL_RUN --guest "$iso,name=ipxe" --timeout 300 --fail-on PANIC --serial-log "$log" \
	--send-after "iPXE initialising devices" "console ipxe" \
	--send-after "keel: console: typing goes to guest ipxe" $'\x02' \
	--send-after "iPXE>" 'cpuid --ext 29 && echo keel-${buildarch}-lm || echo keel-${buildarch}-no-lm' \
	--send-after "[ipxe] keel-i386-" 'echo keel-${platform}: ${buildarch} after the whole line' \
	--send-after "[ipxe] keel-pcbios: " 'sleep 1 && echo keel-slept-${buildarch}' \
	--send-after "[ipxe] keel-slept-i386" "reboot" \
	--expect "keel: guest ipxe: reset requested" \
	--expect "keel: guest ipxe: restarting" || exit 1
# The triggers and checks match iPXE's output, never the echo of the
# command typed (which has the variables unexpanded).
grep -q '^\[ipxe\] keel-i386-lm$' "$log" || fail "iPXE's cpuid --ext 29 did not see long mode"
grep -q '^\[ipxe\] keel-pcbios: i386 after the whole line$' "$log" ||
	fail "the typed line did not arrive whole (or iPXE did not expand it)"
grep -q '^\[ipxe\] keel-slept-i386$' "$log" || fail "iPXE's sleep 1 did not return"
echo "iPXE: command line by Ctrl-B, long mode in CPUID, a whole line typed, sleep 1, reboot restarted the guest"
