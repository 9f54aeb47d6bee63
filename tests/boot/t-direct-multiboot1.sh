# Direct kernel boot of a multiboot1 kernel (firmware/mb1test), no SeaBIOS:
# 1. the ELF build with a module, a command line and 2 vCPUs checks EAX,
#    the info flags, mem_lower/mem_upper against fw_cfg's RAM size and the
#    memory map, the MP table's CPUs against fw_cfg's count, prints what
#    it read and exits through port 0xF4 with 33; keel-run
#    must return (33 << 1) | 1 = 67; the command line begins with the
#    kernel's own name, as GRUB and QEMU pass it (argv[0]);
# 2. the a.out-kludge build (header flag 16, flat binary) boots the same
#    way beside a guest whose kernel module is no kernel at all, which is
#    refused by name while the other guest runs.
. tests/boot/lib.sh
log=$LOG_DIR/t-direct-multiboot1.serial
$KEEL_RUN --guest "kernel=build/mb1test.elf,ramdisk=build/mb1test-module.txt,mem=16,vcpus=2,cmdline=exit=33 hello world" \
	--timeout 200 --wait-exit --fail-on PANIC --fail-on "mb1test: FAIL" --serial-log "$log" \
	--expect "[g0] mb1test: ok mem_upper=15360 cmdline='mb1test.elf exit=33 hello world'"
rc=$?
[ "$rc" -eq 67 ] || { echo "keel-run returned $rc, expected 67 ((33 << 1) | 1)"; exit 1; }
for line in "[g0] mb1test: started, EAX 0x2badb002" "[g0] mb1test: fw_cfg ram 16 MiB, cpus 2, max_cpus 2" \
	"[g0] mb1test: MP floating pointer at 0xf0000, 2 CPU(s) in its table; ACPI RSDP at 0xf0400" \
	"[g0] mb1test: mem_lower 640 KiB, mem_upper 15360 KiB" \
	"[g0] mb1test: module 'mb1test-module.txt'" "begins 'keel test module'" \
	"keel: guest g0 stopped: guest exited with status 67"; do
	grep -qF -- "$line" "$log" || { echo "missing in serial log: $line"; exit 1; }
done
if grep -q "SeaBIOS (version" "$log"; then echo "SeaBIOS ran on the direct path"; exit 1; fi
# Ending through port 0xF4 frees the guest like any stop: its 16 MiB of RAM
# and Keel's structures go back to the allocator.
kib=$(sed -n 's/^keel: guest g0: \([0-9]*\) KiB returned to the allocator.*/\1/p' "$log")
echo "returned to the allocator: ${kib:-nothing} KiB"
[ -n "$kib" ] && [ "$kib" -ge 16384 ] || { echo "guest g0's memory was not returned after its exit"; exit 1; }
echo "ELF kernel: marker seen, exit status 67 returned"

exec $KEEL_RUN --guest "kernel=build/mb1test-aout.bin,name=aout,mem=8,cmdline=exit=5" \
	--guest "kernel=build/mbr.img,name=bad,mem=8" --timeout 200 --fail-on PANIC --fail-on "mb1test: FAIL" \
	--expect "[aout] hvmloader: kernel 'mb1test-aout.bin': multiboot1 a.out-kludge kernel" \
	--expect "[aout] mb1test: ok mem_upper=7168 cmdline='mb1test-aout.bin exit=5'" \
	--expect "keel: guest aout stopped: guest exited with status 11" \
	--expect-re "guest bad: kernel module 'mbr.img' is neither a multiboot1 kernel .* nor a Linux bzImage"
