# Issue #18 in Bochs: Keel on a machine with RAM above 4 GiB, with VMX.
# Bochs 2.7 accepts up to 1048576 MiB of machine memory but backs at most
# 2048 MiB with its own; its start-up time grows with the size (up to
# 4 minutes for 5 GiB here, and 8 GiB did not reach GRUB in 280 s), so this
# uses 5 GiB (the whole test took 43 s on a quiet machine and up to
# 4.5 minutes on a busy one, nearly all of it Bochs starting): its BIOS reports RAM to
# 3 GiB and 4-5 GiB. Keel must map that GiB with a 1 GiB page (Skylake-X
# has them) and give it to the allocator;
# guest RAM comes from the top of memory, so both guests live above 4 GiB:
# mb1test with 32 MiB of its own RAM at 4 GiB (writes and reads it back
# through PAE paging), and the default disk guest to "MBR loaded".
. tests/boot/lib.sh
exec $KEEL_RUN --host-mem 5120 --cmdline "loglevel=debug" --timeout 900 --fail-on PANIC --fail-on "keel: FATAL" \
	--fail-on "mb1test: FAIL" --fail-on "only RAM below 4 GiB is used" \
	--guest "kernel=build/mb1test.elf,mem=64,lowmem=32M,cmdline=highmem=1" --guest build/mbr.img,name=disk \
	--expect "keel: debug: mem: 0000000100000000-000000013fffffff RAM" \
	--expect "keel: mm: identity map extended to 5 GiB with 1 GiB pages (0 page-table pages)" \
	--expect-re "keel: allocator: 40[0-9][0-9] MiB free for guests and Keel \(RAM up to 0x140000000, 1024 MiB above 4 GiB\)" \
	--expect-re "^keel: debug: guest g0: RAM 0-0x1ffffff at host 0x13[0-9a-f]{7}-" \
	--expect-re "^keel: debug: guest g0: RAM 0x100000000-0x101ffffff at host 0x13[0-9a-f]{7}-" \
	--expect-re "^keel: debug: guest disk: RAM 0-0x1ffffff at host 0x13[0-9a-f]{7}-" \
	--expect-re "^\[g0\] mb1test: RAM above 4 GiB: 32 MiB at 0x100000000; read back 0x4b45454c at its start, 0x48494748 at its end" \
	--expect-re "^\[disk\] .*MBR loaded"
