# Guest-side images: the test MBR and its 4 MiB disk image.
MBR_IMG_SIZE := 4194304

# Test boot sectors: mbr (the CI marker), heartbeat and spin (scheduling),
# resetter (reset and exit conventions).
$(BUILD)/firmware/%.o: firmware/mbr/%.S firmware/mbr/com1.inc
	@mkdir -p $(dir $@)
	$(CC) -m32 -Ifirmware/mbr -c $< -o $@

$(BUILD)/firmware/%.bin: $(BUILD)/firmware/%.o
	ld -m elf_i386 -Ttext 0x7c00 -e _start --oformat binary -o $@ $<
	@test $$(stat -c %s $@) -eq 512 || { echo "$@ is not 512 bytes"; exit 1; }

$(BUILD)/%.img: $(BUILD)/firmware/%.bin
	cp $< $@
	truncate -s $(MBR_IMG_SIZE) $@

TEST_IMAGES := $(BUILD)/mbr.img $(BUILD)/heartbeat.img $(BUILD)/spin.img $(BUILD)/resetter.img

# A disk carrying a real boot loader: the hybrid image grub-mkrescue makes
# (its first sector is an MBR that loads GRUB from the same disk).
$(BUILD)/grub-disk.img: firmware/grub-disk/grub.cfg
	@mkdir -p $(BUILD)/grub-disk/boot/grub
	cp $< $(BUILD)/grub-disk/boot/grub/grub.cfg
	grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/grub-disk >/dev/null 2>&1 || \
		{ grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/grub-disk; exit 1; }

# The SMP test guest: an MBR that loads 8 sectors and starts the other vCPUs
# (firmware/smp/smp.S; tests/boot/t-smp-guest.sh).
$(BUILD)/firmware/smp.o: firmware/smp/smp.S firmware/mbr/com1.inc
	@mkdir -p $(dir $@)
	$(CC) -m32 -c $< -o $@

$(BUILD)/firmware/smp.bin: $(BUILD)/firmware/smp.o
	ld -m elf_i386 -Ttext 0x7c00 -e _start --oformat binary -o $@ $<
	@test $$(stat -c %s $@) -eq 4096 || { echo "$@ is not 4096 bytes"; exit 1; }

TEST_IMAGES += $(BUILD)/smp.img
