# Issue #18: a guest's RAM beyond what fits below the MMIO hole is given to
# it from 4 GiB on, and everything that describes its memory says so.
# Bochs cannot give Keel 3.5 GiB of RAM for a guest that large (see
# docs/running.md), so the guests here move the boundary down with lowmem:
# (like QEMU's max-ram-below-4g) and take the same path with little RAM:
# 1. mb1test booted directly with 64 MiB, 32 MiB of it at 4 GiB: its
#    memory map lists RAM at 0x100000000, mem_upper ends at 32 MiB, CMOS
#    0x5B-0x5D agree, and highmem=1 writes and reads back both ends of the
#    high RAM through PAE paging without touching the RAM below;
# 2. the firmware path with 64 MiB, 32 MiB at 4 GiB: hvmloader's E820 has
#    the RAM at 4 GiB, SeaBIOS's Xen path reads the same 32 MiB from CMOS
#    0x5B-0x5D (fw_cfg has no etc/e820) and its merged map has it once,
#    and it boots the MBR;
#    beside them a guest asking for 1024 GiB is refused by name at once,
#    with what there is, and the others run.
# 3. a 1 GiB guest on a 2560 MiB host: its RAM is one host block, 1 GiB-
#    aligned (host 1-2 GiB is free RAM), so the EPT maps it with a single
#    1 GiB leaf: 4 table pages (PML4, PDPT, and the PD and PT of the
#    APIC-access page at 0xFEE00000 that APIC virtualization maps) where
#    2 MiB leaves need 5.
. tests/boot/lib.sh
log=$LOG_DIR/t-guest-ram-high.serial
$KEEL_RUN --guest "kernel=build/mb1test.elf,mem=64,lowmem=32M,cmdline=highmem=1 exit=3" \
	--guest "build/mbr.img,name=fw,mem=64,lowmem=32M" --guest "build/mbr.img,name=huge,mem=1048576" \
	--timeout 300 --fail-on PANIC --fail-on "mb1test: FAIL" --serial-log "$log" \
	--expect "[g0] mb1test: ok mem_upper=31744" \
	--expect "[g0] mb1test: mmap 0000000100000000-0000000101ffffff type 1" \
	--expect-re "^\[g0\] mb1test: RAM above 4 GiB: 32 MiB at 0x100000000; read back 0x4b45454c at its start, 0x48494748 at its end" \
	--expect "keel: guest g0 stopped: guest exited with status 7" \
	--expect "[fw] hvmloader: e820 0000000100000000-0000000101ffffff RAM" \
	--expect "[fw] RamSizeOver4G: 0x0000000002000000 [cmos]" \
	--expect-re "^\[fw\] +[0-9]+: 0000000100000000 - 0000000102000000 = 1 RAM" \
	--expect-re "^\[fw\] .*MBR loaded" \
	--expect-re "guest huge: not enough memory for 1048576 MiB of RAM \([0-9]+ MiB free, largest 2 MiB-aligned run [0-9]+ MiB\)" || exit 1
grep -F "[g0] mb1test: mem_lower 640 KiB, mem_upper 31744 KiB" "$log" || { echo "mem_upper is not the RAM below the hole"; exit 1; }
grep -E "^keel: guest (g0|fw): created: 64 MiB RAM" "$log"

$KEEL_RUN --host-mem 2560 --cmdline "loglevel=debug" --guest "kernel=build/mb1test.elf,name=big,mem=1024,cmdline=exit=3" \
	--timeout 300 --wait-exit --fail-on PANIC --fail-on "mb1test: FAIL" --serial-log "$log.big" \
	--expect "keel: debug: guest big: RAM 0-0x3fffffff at host 0x40000000-0x7fffffff" \
	--expect-re "keel: guest big: created: 1024 MiB RAM, .*, EPT 4 table pages" \
	--expect "[big] mb1test: ok mem_upper=1047552"
rc=$?
[ "$rc" -eq 7 ] || { echo "keel-run returned $rc, expected 7 (exit=3 through port 0xf4)"; exit 1; }
