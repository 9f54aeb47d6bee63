# Keel: build, run, test, bench.
#
#   make            build/keel.elf, build/hvmloader.bin, build/mbr.img, build/keel.iso
#   make run        boot the default guest to "MBR loaded" in Bochs
#   make test       unit tests (plain, ASan+UBSan), fuzz smoke, boot tests
#   make test-slow  the slow tier: Debian's Linux booted directly (minutes)
#   make bench      benchmarks (figures, never pass/fail)
#
# Each subsystem keeps its rules in its own fragment (*.mk) included below.

VERSION := 0.1.0
BUILD := build

CC := gcc
HOSTCC := gcc
OBJCOPY := objcopy

# Flags for code that runs in Keel (64-bit, freestanding, identity-mapped
# below 4 GiB so the small code model works).
KCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
	-mno-mmx -mno-sse -mno-sse2 -mno-avx -mcmodel=small -fomit-frame-pointer \
	-fno-asynchronous-unwind-tables -Iinclude -I$(BUILD)/include \
	-DKEEL_VERSION=\"$(VERSION)\"
KASFLAGS := -Iinclude -I$(BUILD)/include -D__ASSEMBLY__
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack -Wl,--build-id=none

KERNEL_SRCS := $(wildcard arch/x86/*.c arch/x86/*.S lib/*.c hvm/*.c hvm/dev/*.c hvm/core/*.c hvm/vmx/*.c hvm/vmx/*.S)
KERNEL_SRCS := $(filter-out hvm/vmx/asm-offsets.c,$(KERNEL_SRCS))
KERNEL_OBJS := $(patsubst %,$(BUILD)/k/%.o,$(KERNEL_SRCS))

# The tree says what is pure: lib/, hvm/*.c (policies, the port bus, the
# instruction decoder) and hvm/dev/ (the device models) never touch hardware
# or Keel's global state, and are compiled for the host by the unit tests
# and the fuzzers. Hardware and global state live in arch/x86/, hvm/core/
# (guests, scheduler, console) and hvm/vmx/ (but its pure EPT builder).
PURE_SRCS := lib/format.c lib/string.c lib/mb2.c lib/palloc.c lib/physmem.c lib/direct_map.c lib/cmdline.c lib/acpi.c lib/kernel_image.c \
	lib/efi_rsdp.c lib/ap_trampoline_page.c lib/apic_mode.c lib/fb_text.c lib/font8x16.c \
	$(wildcard hvm/*.c hvm/dev/*.c) hvm/vmx/ept.c \
	loader/e820.c loader/seabios_info.c loader/pci_setup.c \
	loader/mptable.c loader/acpi.c loader/start_info.c loader/multiboot1.c loader/linux.c

.DEFAULT_GOAL := all
# Subsystem fragments (they may add prerequisites of 'all').
include loader/loader.mk
include firmware/firmware.mk
include tests/unit/unit.mk
include tests/boot/boot.mk
include tests/fuzz/fuzz.mk

.PHONY: all clean run test test-unit test-boot test-slow bench fuzz install
all: $(BUILD)/keel.elf $(BUILD)/hvmloader.bin $(TEST_IMAGES) $(GRUB_IMAGES) $(BUILD)/keel.iso

$(BUILD)/k/%.c.o: %.c $(BUILD)/include/keel/asm-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/k/%.S.o: %.S $(BUILD)/include/keel/asm-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -MMD -MP -c $< -o $@

# Offsets of C structures used by entry.S, generated from the structures
# themselves so nobody counts bytes by hand.
$(BUILD)/include/keel/asm-offsets.h: hvm/vmx/asm-offsets.c $(wildcard include/keel/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -S $< -o $(BUILD)/asm-offsets.s
	( echo "/* generated from hvm/vmx/asm-offsets.c */"; \
	  sed -n 's/.*->\([A-Za-z0-9_]*\) \$$\{0,1\}\([0-9-]*\).*/#define \1 \2/p' $(BUILD)/asm-offsets.s ) > $@

$(BUILD)/keel.elf: $(KERNEL_OBJS) arch/x86/keel.ld
	$(CC) $(KLDFLAGS) -T arch/x86/keel.ld -o $@ $(KERNEL_OBJS) -lgcc
	@size $@ | tail -1 | awk '{printf "keel.elf: text %d data %d bss %d bytes\n", $$1, $$2, $$3}'

# Test-only kernel for t-panic-smp: keel.elf with hvm/core/sched.c built with
# -DKEEL_PANIC_TEST (a deliberate panic, see there). Not installed, not in
# the ISO; built by 'make test-boot'.
$(BUILD)/kt/hvm/core/sched.c.o: hvm/core/sched.c $(BUILD)/include/keel/asm-offsets.h
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -DKEEL_PANIC_TEST -MMD -MP -c $< -o $@

PANIC_TEST_OBJS := $(filter-out $(BUILD)/k/hvm/core/sched.c.o,$(KERNEL_OBJS)) $(BUILD)/kt/hvm/core/sched.c.o
$(BUILD)/keel-panic-test.elf: $(PANIC_TEST_OBJS) arch/x86/keel.ld
	$(CC) $(KLDFLAGS) -T arch/x86/keel.ld -o $@ $(PANIC_TEST_OBJS) -lgcc

SEABIOS ?= /usr/share/seabios/bios-256k.bin

# The default ISO: Keel, hvmloader, SeaBIOS and the test MBR as guest g0.
$(BUILD)/keel.iso: $(BUILD)/keel.elf $(BUILD)/hvmloader.bin $(BUILD)/mbr.img tools/mkiso
	tools/mkiso -o $@ --keel $(BUILD)/keel.elf --hvmloader $(BUILD)/hvmloader.bin \
		--seabios $(SEABIOS) --guest $(BUILD)/mbr.img


run: all
	tools/keel-run --guest $(BUILD)/mbr.img --expect "MBR loaded" --timeout 300

# Benchmarks: figures, never pass/fail (tools/bench, docs/performance.md);
# build/bench.json and the pictures build/bench/*.svg. BENCH_JOBS: Bochs
# runs at a time.
BENCH_JOBS ?= 2
bench: all $(BENCH_IMAGES)
	tools/bench --jobs $(BENCH_JOBS)

test: test-unit fuzz-smoke test-boot

# The slow tier (not in 'make test'): Debian's Linux booted directly to an
# initramfs, and from a Debian disk image (tools/mkdisk-linux: GRUB, ext4,
# ata_piix; built here, never committed), minutes in Bochs. The kernel is
# fetched by tools/fetch-linux. One test at a time: t-linux.sh runs two
# Bochs of its own.
test-slow: all $(BUILD)/linux/initramfs.cpio $(BUILD)/linux/initramfs-regcheck.cpio
	tools/fetch-linux $(BUILD)/linux
	BOOT_JOBS=1 BOOT_TEST_TIMEOUT=3600 tests/boot/run tests/boot/slow/t-linux.sh tests/boot/slow/t-linux-regs.sh \
		tests/boot/slow/t-linux-disk.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Installs Keel for GRUB on an existing Debian system (see docs/hardware.md):
#   make install DESTDIR=/ && update-grub
install: $(BUILD)/keel.elf $(BUILD)/hvmloader.bin
	install -d $(DESTDIR)/boot/keel/disks $(DESTDIR)/etc/grub.d
	install -m 644 $(BUILD)/keel.elf $(BUILD)/hvmloader.bin $(DESTDIR)/boot/keel/
	install -m 644 $(SEABIOS) $(DESTDIR)/boot/keel/seabios.bin
	install -m 755 tools/grub.d-keel $(DESTDIR)/etc/grub.d/42_keel
	@echo "installed into $(DESTDIR)/boot/keel; put guest disks in $(DESTDIR)/boot/keel/disks and run update-grub"
