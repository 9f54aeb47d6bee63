# The slow tier (make test-slow): Debian's own kernel (linux-image-amd64,
# fetched by tools/fetch-linux into build/linux, never committed) booted
# directly by hvmloader through the Linux boot protocol, with an initramfs
# whose /init (firmware/linux-init) prints a marker, the kernel release and
# its CPU count on ttyS0, waits until the UART has sent it (interrupt-
# driven), and powers off. Two boots, side by side (one Bochs each):
#   smp: 2 vCPUs, Linux's defaults, with ACPI power management (acpi=pm):
#        it finds both CPUs in the MADT, starts the second with INIT/SIPI,
#        routes the PIT and the UART through the I/O APIC, times the local
#        APIC timer from CPUID 0x15, runs ACPI on Keel's FADT and DSDT
#        (S3/S4/S5, the PCI root bridge, the keyboard controller found by
#        PNP) and powers off through ACPI S5 (keel_poweroff=acpi): Keel ends
#        the guest with status 0, keel-run returns 0;
#   pic: 1 vCPU, noapic nolapic acpi=off: the 8259A and the PIT alone; init
#        ends the guest through port 0xF4 with 0x2a: keel-run returns
#        (0x2a << 1) | 1 = 85.
# Both use the UART at 0x3F8 as console and the kernel's own load address
# (nokaslr, for runs that can be compared).
. tests/boot/lib.sh
[ -s build/linux/vmlinuz ] || skip "no build/linux/vmlinuz (tools/fetch-linux fetches Debian's kernel)"
[ -s build/linux/initramfs.cpio ] || skip "no build/linux/initramfs.cpio (make build/linux/initramfs.cpio)"
boot() { # NAME VCPUS CMDLINE [GUEST-OPTIONS]
	$KEEL_RUN --guest "kernel=build/linux/vmlinuz,ramdisk=build/linux/initramfs.cpio,mem=192,vcpus=$2$4,cmdline=$3" \
		--timeout 2000 --wait-exit --fail-on "keel: PANIC" --fail-on "Kernel panic" --fail-on "VM entry failed" \
		--fail-on "g0 stopped: reset" --fail-on "keel-init: FAIL" --serial-log "$LOG_DIR/t-linux-$1.serial" \
		--expect "[g0] hvmloader: kernel 'vmlinuz': Linux bzImage" --expect "[g0] keel-init: hello from PID 1" \
		--expect "[g0] keel-init: CPUs online: $2" >"$LOG_DIR/t-linux-$1.out" 2>&1
	echo $? >"$LOG_DIR/t-linux-$1.rc"
}
start=$(date +%s)
boot smp 2 "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr keel_poweroff=acpi" ",acpi=pm" &
boot pic 1 "console=ttyS0 earlyprintk=serial,ttyS0,115200 noapic nolapic acpi=off nokaslr" &
wait
echo "wall time: $(($(date +%s) - start)) s for both"
fail=0
for b in smp pic; do
	log=$LOG_DIR/t-linux-$b.serial rc=$(cat "$LOG_DIR/t-linux-$b.rc")
	want=85 how="port 0xf4: (0x2a << 1) | 1" line="guest exited with status 85"
	[ $b = smp ] && want=0 how="ACPI power-off" line="guest exited with status 0 (ACPI power-off, S5)"
	if [ "$rc" -ne "$want" ]; then
		echo "$b: keel-run returned $rc, expected $want ($how); its report:"
		tail -40 "$LOG_DIR/t-linux-$b.out"
		fail=1
		continue
	fi
	grep -qE '^\[g0\] keel-init: running on Linux [0-9]' "$log" || { echo "$b: no 'running on Linux' line"; fail=1; }
	grep -qF "keel: guest g0 stopped: $line" "$log" || { echo "$b: no exit line from Keel ('$line')"; fail=1; }
	grep -F "[g0] keel-init: CPUs online" "$log"
	grep -E '^keel-run: guest g0 exited' "$LOG_DIR/t-linux-$b.out"
done
[ "$fail" -eq 0 ] || exit 1
grep -qF "smp: Brought up 1 node, 2 CPUs" "$LOG_DIR/t-linux-smp.serial" || { echo "smp: Linux did not bring up 2 CPUs"; exit 1; }
grep -qF "ACPI: PM: (supports S0 S3 S4 S5)" "$LOG_DIR/t-linux-smp.serial" || { echo "smp: Linux's ACPI did not find S3/S4/S5"; exit 1; }
grep -qF "i8042: PNP: PS/2 Controller [PNP0303:KBD]" "$LOG_DIR/t-linux-smp.serial" ||
	{ echo "smp: Linux did not find the keyboard controller in the DSDT"; exit 1; }
echo "Linux reached its init twice (2 vCPUs with the APICs and ACPI, 1 vCPU with the 8259A); each printed its marker and powered off (ACPI S5, port 0xf4)"
