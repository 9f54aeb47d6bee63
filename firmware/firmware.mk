# Guest-side images: the test MBR and its 4 MiB disk image.
MBR_IMG_SIZE := 4194304

# Test boot sectors: mbr (the CI marker), heartbeat and spin (scheduling).
$(BUILD)/firmware/%.o: firmware/mbr/%.S firmware/mbr/com1.inc
	@mkdir -p $(dir $@)
	$(CC) -m32 -Ifirmware/mbr -c $< -o $@

$(BUILD)/firmware/%.bin: $(BUILD)/firmware/%.o
	ld -m elf_i386 -Ttext 0x7c00 -e _start --oformat binary -o $@ $<
	@test $$(stat -c %s $@) -eq 512 || { echo "$@ is not 512 bytes"; exit 1; }

$(BUILD)/%.img: $(BUILD)/firmware/%.bin
	cp $< $@
	truncate -s $(MBR_IMG_SIZE) $@

TEST_IMAGES := $(BUILD)/mbr.img $(BUILD)/heartbeat.img $(BUILD)/spin.img

# A disk carrying a real boot loader: the hybrid image grub-mkrescue makes
# (its first sector is an MBR that loads GRUB from the same disk).
$(BUILD)/grub-disk.img: firmware/grub-disk/grub.cfg
	@mkdir -p $(BUILD)/grub-disk/boot/grub
	cp $< $(BUILD)/grub-disk/boot/grub/grub.cfg
	grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/grub-disk >/dev/null 2>&1 || \
		{ grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/grub-disk; exit 1; }

# mb1test: Keel's multiboot1 test kernel (firmware/mb1test), as an ELF and
# as a flat a.out-kludge binary; plus a small text file used as its module.
MB1TEST_CFLAGS := -m32 -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mno-sse -mno-mmx -Iinclude -Iloader
MB1TEST_C := firmware/mb1test/mb1test.c lib/format.c lib/string.c loader/divdi3.c

$(BUILD)/mb1test/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(MB1TEST_CFLAGS) -c $< -o $@

$(BUILD)/mb1test/entry-elf.o: firmware/mb1test/entry.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -c $< -o $@

$(BUILD)/mb1test/entry-aout.o: firmware/mb1test/entry.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -DAOUT_KLUDGE -c $< -o $@

MB1TEST_OBJS := $(patsubst %.c,$(BUILD)/mb1test/%.o,$(MB1TEST_C))
MB1TEST_LD := $(CC) -m32 -nostdlib -static -no-pie -z noexecstack -z max-page-size=0x1000 \
	-Wl,--build-id=none,--no-warn-rwx-segments -T firmware/mb1test/mb1test.ld

$(BUILD)/mb1test.elf: $(BUILD)/mb1test/entry-elf.o $(MB1TEST_OBJS) firmware/mb1test/mb1test.ld
	$(MB1TEST_LD) -o $@ $(BUILD)/mb1test/entry-elf.o $(MB1TEST_OBJS)

$(BUILD)/mb1test-aout.elf: $(BUILD)/mb1test/entry-aout.o $(MB1TEST_OBJS) firmware/mb1test/mb1test.ld
	$(MB1TEST_LD) -o $@ $(BUILD)/mb1test/entry-aout.o $(MB1TEST_OBJS)

$(BUILD)/mb1test-aout.bin: $(BUILD)/mb1test-aout.elf
	$(OBJCOPY) -O binary $< $@

$(BUILD)/mb1test-module.txt:
	@mkdir -p $(dir $@)
	printf 'keel test module\nsecond line\n' > $@

TEST_IMAGES += $(BUILD)/mb1test.elf $(BUILD)/mb1test-aout.bin $(BUILD)/mb1test-module.txt

# The slow tier's initramfs: keel-init (firmware/linux-init/init.c, x86-64
# Linux, no libc) as /init, with /dev/console, in a newc cpio.
$(BUILD)/linux/init: firmware/linux-init/init.c
	@mkdir -p $(dir $@)
	$(CC) -static -nostdlib -ffreestanding -O2 -fno-pic -no-pie -fno-stack-protector \
		-fno-asynchronous-unwind-tables -Wall -Wextra -Werror -Wl,--build-id=none -o $@ $<

$(BUILD)/linux/initramfs.cpio: $(BUILD)/linux/init firmware/linux-init/mkcpio
	firmware/linux-init/mkcpio $< $@
