# Guest-side images: the test MBR and its 4 MiB disk image.
MBR_IMG_SIZE := 4194304

# Every test image is one .S assembled from firmware/<dir>/, including what
# they share from firmware/common/ (COM1 output, the boot-sector prologue,
# the INT 13h loader, the flat GDT). -MMD writes which includes each object
# read (the top Makefile includes the .d files), so editing a shared include
# rebuilds every image that uses it.
FW_ASFLAGS := -m32 -Ifirmware/common -MMD -MP

# Test boot sectors: mbr (the CI marker), heartbeat and spin (scheduling),
# resetter (reset and exit conventions), cpuidsig (the CPUID leaf an OS sees),
# echo (input typed on the console after `console NAME`).
$(BUILD)/firmware/%.o: firmware/mbr/%.S
	@mkdir -p $(dir $@)
	$(CC) $(FW_ASFLAGS) -c $< -o $@

# Each image is linked at 0000:7C00, where the BIOS puts sector 0, and must
# come out exactly as large as it says (IMAGE_SECTORS in its source): one
# sector unless FW_BYTES_<name> says otherwise.
fw_bytes = $(or $(FW_BYTES_$(1)),512)

$(BUILD)/firmware/%.bin: $(BUILD)/firmware/%.o
	ld -m elf_i386 -Ttext 0x7c00 -e _start --oformat binary -o $@ $<
	@test $$(stat -c %s $@) -eq $(call fw_bytes,$*) || { echo "$@ is not $(call fw_bytes,$*) bytes"; exit 1; }

$(BUILD)/%.img: $(BUILD)/firmware/%.bin
	cp $< $@
	truncate -s $(MBR_IMG_SIZE) $@

TEST_IMAGES := $(BUILD)/mbr.img $(BUILD)/heartbeat.img $(BUILD)/spin.img $(BUILD)/resetter.img \
	$(BUILD)/cpuidsig.img $(BUILD)/echo.img

# Disks carrying a real boot loader: the hybrid image grub-mkrescue makes
# (its first sector is an MBR that loads GRUB from the same disk), with
# firmware/grub-NAME/grub.cfg: grub-disk (t-grub-disk), grub-console
# (t-guest-console: GRUB reading what is typed on Keel's console).
GRUB_IMAGES := $(BUILD)/grub-disk.img $(BUILD)/grub-console.img
$(BUILD)/grub-%.img: firmware/grub-%/grub.cfg
	@mkdir -p $(BUILD)/grub-$*/boot/grub
	cp $< $(BUILD)/grub-$*/boot/grub/grub.cfg
	grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/grub-$* >/dev/null 2>&1 || \
		{ grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/grub-$*; exit 1; }

# The SMP test guest: an MBR that loads 8 sectors and starts the other vCPUs
# (firmware/smp/smp.S; tests/boot/t-smp-guest.sh).
$(BUILD)/firmware/%.o: firmware/smp/%.S
	@mkdir -p $(dir $@)
	$(CC) $(FW_ASFLAGS) -c $< -o $@
FW_BYTES_smp := 4096

TEST_IMAGES += $(BUILD)/smp.img

# Hostile guests (firmware/hostile/hostile.S, one image per attack;
# tests/boot/t-hostile-*.sh and docs/security.md). hostile-gpa-NAME makes
# one access (read, write or exec) to one guest-physical address outside its
# 32 MiB of RAM: NAME:ADDRESS:ACCESS (ADDRESS 0 with NAME top: the highest
# 2 MiB the CPU's physical-address width allows). Each prints the seed of
# its random choices; 'make -B HOSTILE_SEED=0x... build/hostile-NAME.img'
# builds one that replays it.
HOSTILE_ATTACKS := ports msr cpu df triple storm ata fill scan flood reboot logflood pageperm
HOSTILE_GPAS := hole:0xe0000000:read above:0x2000000:read 4g:0x100000000:read top:0:read \
	wabove:0x2000000:write x64t:0x400000000000:exec
gpa_word = $(word $(2),$(subst :, ,$(1)))
HOSTILE_IMAGES := $(foreach a,$(HOSTILE_ATTACKS),$(BUILD)/hostile-$(a).img) \
	$(foreach g,$(HOSTILE_GPAS),$(BUILD)/hostile-gpa-$(call gpa_word,$(g),1).img)

define hostile_rule
$(BUILD)/firmware/hostile-$(1).o: firmware/hostile/hostile.S
	@mkdir -p $$(dir $$@)
	$$(CC) $$(FW_ASFLAGS) -DATTACK=$(2) -DATTACK_NAME='"$(1)"' $(3) $$(if $$(HOSTILE_SEED),-DSEED=$$(HOSTILE_SEED)) -c $$< -o $$@
endef
$(foreach a,$(HOSTILE_ATTACKS),$(eval $(call hostile_rule,$(a),$(a),)))
$(foreach g,$(HOSTILE_GPAS),$(eval $(call hostile_rule,gpa-$(call gpa_word,$(g),1),gpa,-DGPA=$(call gpa_word,$(g),2) -DGPA_$(call gpa_word,$(g),3) $(if $(filter top:%,$(g)),-DGPA_TOP))))
$(foreach i,$(HOSTILE_IMAGES),$(eval FW_BYTES_$(basename $(notdir $(i))) := 8192))

TEST_IMAGES += $(HOSTILE_IMAGES)

# Benchmark guests (tools/bench, docs/performance.md): tscmark prints its
# first TSC reading with the marker; exitcost times exits from inside.
$(BUILD)/firmware/%.o: firmware/bench/%.S
	@mkdir -p $(dir $@)
	$(CC) $(FW_ASFLAGS) -c $< -o $@
FW_BYTES_exitcost := 1536
BENCH_IMAGES := $(BUILD)/tscmark.img $(BUILD)/exitcost.img
# mb1test: Keel's multiboot1 test kernel (firmware/mb1test), as an ELF (also
# linked at 0x8000, mb1test-low.elf, for loading below 1 MiB) and
# as a flat a.out-kludge binary; plus a small text file used as its module.
MB1TEST_CFLAGS := -m32 -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mno-sse -mno-mmx -Iinclude -Iloader
MB1TEST_C := firmware/mb1test/mb1test.c firmware/mb1test/irqtest.c firmware/mb1test/apictest.c firmware/mb1test/x2apictest.c firmware/mb1test/conform.c firmware/mb1test/highmem.c lib/format.c \
	lib/string.c loader/divdi3.c

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
$(MB1TEST_OBJS): firmware/mb1test/mb1test.h loader/multiboot1.h firmware/common/cmdline_arg.h
MB1TEST_LD := $(CC) -m32 -nostdlib -static -no-pie -z noexecstack -z max-page-size=0x1000 \
	-Wl,--build-id=none,--no-warn-rwx-segments -T firmware/mb1test/mb1test.ld

$(BUILD)/mb1test.elf: $(BUILD)/mb1test/entry-elf.o $(MB1TEST_OBJS) firmware/mb1test/mb1test.ld
	$(MB1TEST_LD) -o $@ $(BUILD)/mb1test/entry-elf.o $(MB1TEST_OBJS)

$(BUILD)/mb1test-low.elf: $(BUILD)/mb1test/entry-elf.o $(MB1TEST_OBJS) firmware/mb1test/mb1test.ld
	$(MB1TEST_LD) -Wl,--defsym=MB1TEST_BASE=0x8000 -o $@ $(BUILD)/mb1test/entry-elf.o $(MB1TEST_OBJS)

$(BUILD)/mb1test-aout.elf: $(BUILD)/mb1test/entry-aout.o $(MB1TEST_OBJS) firmware/mb1test/mb1test.ld
	$(MB1TEST_LD) -o $@ $(BUILD)/mb1test/entry-aout.o $(MB1TEST_OBJS)

$(BUILD)/mb1test-aout.bin: $(BUILD)/mb1test-aout.elf
	$(OBJCOPY) -O binary $< $@

$(BUILD)/mb1test-module.txt:
	@mkdir -p $(dir $@)
	printf 'keel test module\nsecond line\n' > $@

TEST_IMAGES += $(BUILD)/mb1test.elf $(BUILD)/mb1test-aout.bin $(BUILD)/mb1test-low.elf $(BUILD)/mb1test-module.txt

# The slow tier's initramfs: keel-init (firmware/linux-init/init.c, x86-64
# Linux, no libc) as /init, with /dev/console, in a newc cpio.
$(BUILD)/linux/init: firmware/linux-init/init.c firmware/linux-init/linux_sys.h
	@mkdir -p $(dir $@)
	$(CC) -static -nostdlib -ffreestanding -O2 -fno-pic -no-pie -fno-stack-protector \
		-fno-asynchronous-unwind-tables -Wall -Wextra -Werror -Wl,--build-id=none -o $@ $<

$(BUILD)/linux/initramfs.cpio: $(BUILD)/linux/init firmware/linux-init/mkcpio
	firmware/linux-init/mkcpio $< $@

# regtest: the 64-bit register-state test kernel (firmware/regtest; issue
# #14, tests/boot/t-regs-*.sh and t-hostile-cr8/cache): a flat multiboot1
# binary (a.out kludge). Its C code is built with -mgeneral-regs-only: it
# must not touch the x87/SSE/AVX registers it checks.
REGTEST_CFLAGS := -m64 -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	-mcmodel=small -mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables -Iinclude \
	-Ifirmware/regtest
REGTEST_OBJS := $(addprefix $(BUILD)/regtest/,entry.o isr.o regs.o regtest.o format.o string.o)

$(BUILD)/regtest/%.o: firmware/regtest/%.S firmware/regtest/regfile.h
	@mkdir -p $(dir $@)
	$(CC) -m64 -Ifirmware/regtest -c $< -o $@

$(BUILD)/regtest/%.o: firmware/regtest/%.c firmware/regtest/regfile.h firmware/common/cmdline_arg.h
	@mkdir -p $(dir $@)
	$(CC) $(REGTEST_CFLAGS) -c $< -o $@

$(BUILD)/regtest/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(REGTEST_CFLAGS) -c $< -o $@

$(BUILD)/regtest.elf: $(REGTEST_OBJS) firmware/regtest/regtest.ld
	ld -m elf_x86_64 -nostdlib -static -z max-page-size=0x1000 -z noexecstack --build-id=none --no-warn-rwx-segments \
		-T firmware/regtest/regtest.ld -o $@ $(REGTEST_OBJS)

$(BUILD)/regtest.bin: $(BUILD)/regtest.elf
	$(OBJCOPY) -O binary $< $@

TEST_IMAGES += $(BUILD)/regtest.bin

# The slow tier's register-state initramfs (tests/boot/slow/t-linux-regs.sh,
# issue #14): keel-regcheck (firmware/linux-init/regcheck.c) as /init. Built
# with -mgeneral-regs-only: only its asm touches XMM/YMM.
$(BUILD)/linux/regcheck: firmware/linux-init/regcheck.c firmware/linux-init/linux_sys.h
	@mkdir -p $(dir $@)
	$(CC) -static -nostdlib -ffreestanding -O2 -fno-pic -no-pie -fno-stack-protector -mgeneral-regs-only \
		-fno-asynchronous-unwind-tables -Wall -Wextra -Werror -Wl,--build-id=none -o $@ $<

$(BUILD)/linux/initramfs-regcheck.cpio: $(BUILD)/linux/regcheck firmware/linux-init/mkcpio
	firmware/linux-init/mkcpio $< $@

# The PCI/IDE/DMA test guest (firmware/pci/pcidisk.S; tests/boot/t-pci-disk.sh).
$(BUILD)/firmware/%.o: firmware/pci/%.S
	@mkdir -p $(dir $@)
	$(CC) $(FW_ASFLAGS) -c $< -o $@
FW_BYTES_pcidisk := 4096
TEST_IMAGES += $(BUILD)/pcidisk.img
