# SeaBIOS boots any standard BIOS disk, not only ours: here the hybrid image
# grub-mkrescue makes (Debian's GRUB). GRUB loads itself through INT 13h,
# drives COM1 with its own serial driver, and its 'sleep 1' needs a timer.
. tests/boot/lib.sh
exec $KEEL_RUN --guest build/grub-disk.img,mem=64 --timeout 300 --fail-on PANIC \
	--expect "[g0] GRUB loading." \
	--expect "[g0] GRUB guest marker: KEEL-GRUB-OK" \
	--expect "[g0] GRUB guest: timer works"
