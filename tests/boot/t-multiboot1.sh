# Started by GRUB's 'multiboot' (v1) command instead of 'multiboot2', Keel
# must not run: keel.elf carries a v1 header only so that it gets control
# and can refuse in words (EAX holds the v1 magic 0x2badb002), naming the
# fix. Without that header GRUB itself refuses ("no multiboot header
# found."), which is checked instead. QEMU's TCG loads fastest; Keel stops
# before it needs VMX.
. tests/boot/lib.sh
if grub-file --is-x86-multiboot build/keel.elf; then
	exec $KEEL_RUN --emulator qemu-tcg --loader multiboot --timeout 120 \
		--fail-on "Keel hypervisor" --fail-on "keel: PANIC" \
		--expect "keel: fatal: not started by a multiboot2 loader (EAX=0x2badb002, expected 0x36d76289)" \
		--expect "load keel.elf with GRUB's 'multiboot2' command"
else
	echo "keel.elf has no multiboot v1 header: GRUB must refuse it"
	exec $KEEL_RUN --emulator qemu-tcg --loader multiboot --timeout 120 \
		--fail-on "Keel hypervisor" --expect "error: no multiboot header found."
fi
