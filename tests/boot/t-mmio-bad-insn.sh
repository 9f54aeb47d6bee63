# An instruction the MMIO decoder does not emulate stops only that guest,
# with the device, the address and the instruction bytes in the message.
# The SMP test guest is patched: its "movl $0x1ff, SVR" (C7 05 disp32 imm32)
# becomes "addl $0x1ff, SVR" (81 05 ...), a read-modify-write of the APIC.
# With APIC virtualization the CPU itself performs that read and write (as
# it would on hardware), so the decoder is tested with apicv=off.
. tests/boot/lib.sh
img=$LOG_DIR/smp-bad-insn.img
cp build/smp.img "$img"
off=$(LC_ALL=C grep -obUaP '\xc7\x05\xf0\x00\xe0\xfe\xff\x01\x00\x00' "$img" | head -1 | cut -d: -f1)
[ -n "$off" ] || { echo "the SVR store was not found in build/smp.img (firmware/smp/smp.S changed?)"; exit 1; }
printf '\x81' | dd of="$img" bs=1 seek="$off" conv=notrunc status=none
exec $KEEL_RUN --cmdline apicv=off --guest "$img",vcpus=2,name=bad --guest build/mbr.img,name=good --timeout 300 --fail-on PANIC \
	--expect "guest bad stopped: cannot emulate the write of the local APIC at guest-physical 0xfee000f0" \
	--expect "bytes: 81 05 f0 00 e0 fe ff 01 00 00" --expect-re '^\[good\] .*MBR loaded'
