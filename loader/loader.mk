# hvmloader: a flat 32-bit binary loaded by Keel at guest-physical 0x100000.
LOADER_CFLAGS := -m32 -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -ffreestanding \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -mno-sse -mno-mmx \
	-Iinclude -Iloader -DKEEL_VERSION=\"$(VERSION)\"
LOADER_SRCS := loader/start.S loader/main.c loader/e820.c loader/seabios_info.c loader/start_info.c \
	loader/mptable.c loader/acpi.c loader/smp_tables.c loader/divdi3.c \
	loader/direct_boot.c loader/trampoline.S loader/multiboot1.c loader/linux.c \
	lib/format.c lib/string.c lib/kernel_image.c
LOADER_OBJS := $(patsubst %,$(BUILD)/loader/%.o,$(LOADER_SRCS))

$(BUILD)/loader/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(LOADER_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/loader/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) -m32 -Iinclude -Iloader -MMD -MP -c $< -o $@

$(BUILD)/hvmloader.elf: $(LOADER_OBJS) loader/loader.ld
	$(CC) -m32 -nostdlib -static -no-pie -z noexecstack -Wl,--build-id=none,--no-warn-rwx-segments -T loader/loader.ld -o $@ $(LOADER_OBJS)

$(BUILD)/hvmloader.bin: $(BUILD)/hvmloader.elf
	$(OBJCOPY) -O binary $< $@
	@echo "hvmloader.bin: $$(stat -c %s $@) bytes"

# The DSDT's AML, regenerated from loader/dsdt.asl with iasl (acpica-tools)
# and committed: building Keel needs no iasl.
.PHONY: dsdt
dsdt:
	@command -v iasl >/dev/null || { echo "dsdt: iasl not found (apt-get install acpica-tools)"; exit 2; }
	@mkdir -p $(BUILD)/dsdt
	iasl -p $(BUILD)/dsdt/dsdt -tc loader/dsdt.asl >/dev/null
	{ echo "/* Generated from loader/dsdt.asl by 'make dsdt' (iasl); do not edit. */"; \
	  sed -n '/^unsigned char/,/^};/p' $(BUILD)/dsdt/dsdt.hex | sed 's/^unsigned char dsdt_aml_code/static const unsigned char dsdt_aml/'; } >loader/dsdt_aml.h
