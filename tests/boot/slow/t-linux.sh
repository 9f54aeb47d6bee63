# The slow tier (make test-slow): Debian's own kernel (linux-image-amd64,
# fetched by tools/fetch-linux into build/linux, never committed) booted
# directly by hvmloader through the Linux boot protocol, with an initramfs
# whose /init (firmware/linux-init) prints a marker on ttyS0 and ends the
# guest through port 0xF4 with 0x2a: keel-run must return (0x2a << 1) | 1 = 85.
#
# The command line suits Keel's small platform: no local APIC, I/O APIC or
# ACPI (noapic nolapic acpi=off), the UART at 0x3F8 as console, the
# kernel's own load address (nokaslr, for runs that can be compared).
. tests/boot/lib.sh
[ -s build/linux/vmlinuz ] || skip "no build/linux/vmlinuz (tools/fetch-linux fetches Debian's kernel)"
[ -s build/linux/initramfs.cpio ] || skip "no build/linux/initramfs.cpio (make build/linux/initramfs.cpio)"
log=$LOG_DIR/t-linux.serial
cmdline="console=ttyS0 earlyprintk=serial,ttyS0,115200 noapic nolapic acpi=off nokaslr"
start=$(date +%s)
$KEEL_RUN --guest "kernel=build/linux/vmlinuz,ramdisk=build/linux/initramfs.cpio,mem=192,cmdline=$cmdline" \
	--timeout 2000 --wait-exit --fail-on "keel: PANIC" --fail-on "Kernel panic" --fail-on "VM entry failed" \
	--fail-on "g0 stopped: reset" --serial-log "$log" \
	--expect "[g0] hvmloader: kernel 'vmlinuz': Linux bzImage" --expect "[g0] keel-init: hello from PID 1"
rc=$?
echo "wall time: $(($(date +%s) - start)) s"
[ "$rc" -eq 85 ] || { echo "keel-run returned $rc, expected 85 ((0x2a << 1) | 1)"; exit 1; }
grep -qE '^\[g0\] keel-init: running on Linux [0-9]' "$log" || { echo "no 'running on Linux' line"; exit 1; }
grep -qF "keel: guest g0 stopped: guest exited with status 85" "$log" || { echo "no exit line from Keel"; exit 1; }
echo "Linux reached its init, which printed its marker and exited through port 0xf4"
