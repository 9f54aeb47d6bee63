# Issue #18: Keel maps and allocates the host's RAM above 4 GiB. Bochs 2.7
# cannot give a machine more than 2 GiB of its own memory (see
# t-host-ram-bochs), so this runs in QEMU's TCG with 8 GiB: SeaBIOS there
# reports RAM to 3 GiB and 5 GiB from 4 GiB. There is no VMX under TCG, so
# the run ends at the VMX probe, after the allocator has taken all of it.
. tests/boot/lib.sh
exec $KEEL_RUN --emulator qemu-tcg --host-mem 8192 --timeout 120 --fail-on "keel: PANIC" \
	--fail-on "keel: FATAL" --fail-on "only RAM below 4 GiB is used" \
	--expect "keel: memory: 8191 MiB of RAM" \
	--expect-re "keel: allocator: 81[0-9][0-9] MiB free for guests and Keel \(RAM up to 0x240000000, 5120 MiB above 4 GiB\)" \
	--expect "Keel halted"
