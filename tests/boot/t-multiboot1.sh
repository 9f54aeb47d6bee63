# Loaded with GRUB's 'multiboot' (v1) command instead of 'multiboot2', Keel
# gets the multiboot1 magic and must refuse clearly, naming the fix.
. tests/boot/lib.sh
exec $KEEL_RUN --emulator qemu-tcg --loader multiboot --timeout 120 \
	--fail-on "Keel hypervisor" \
	--expect "keel: fatal: not started by a multiboot2 loader (EAX=0x2badb002, expected 0x36d76289)" \
	--expect "load keel.elf with GRUB's 'multiboot2' command"
