# Guest-side images: the test MBR and its 4 MiB disk image.
MBR_IMG_SIZE := 4194304

$(BUILD)/firmware/mbr.o: firmware/mbr/mbr.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -c $< -o $@

$(BUILD)/firmware/mbr.bin: $(BUILD)/firmware/mbr.o
	ld -m elf_i386 -Ttext 0x7c00 -e _start --oformat binary -o $@ $<
	@test $$(stat -c %s $@) -eq 512 || { echo "mbr.bin is not 512 bytes"; exit 1; }

$(BUILD)/mbr.img: $(BUILD)/firmware/mbr.bin
	cp $< $@
	truncate -s $(MBR_IMG_SIZE) $@

# A disk carrying a real boot loader: the hybrid image grub-mkrescue makes
# (its first sector is an MBR that loads GRUB from the same disk).
$(BUILD)/grub-disk.img: firmware/grub-disk/grub.cfg
	@mkdir -p $(BUILD)/grub-disk/boot/grub
	cp $< $(BUILD)/grub-disk/boot/grub/grub.cfg
	grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/grub-disk >/dev/null 2>&1 || \
		{ grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/grub-disk; exit 1; }
