# Host unit tests (cmocka). Each tests/unit/test_*.c is one binary linked
# with every pure source, built twice: plain, and with ASan+UBSan.

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-DKEEL_HOST_TEST -Iinclude -Iloader -Itests/unit -DKEEL_VERSION=\"$(VERSION)\"
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

$(BUILD)/unit/%: tests/unit/%.c $(PURE_SRCS) $(wildcard tests/unit/*.h) $(wildcard include/*/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $< $(PURE_SRCS) -lcmocka

$(BUILD)/unit-san/%: tests/unit/%.c $(PURE_SRCS) $(wildcard tests/unit/*.h) $(wildcard include/*/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $< $(PURE_SRCS) -lcmocka

UNIT_BINS := $(addprefix $(BUILD)/unit/,$(UNIT_TESTS)) $(addprefix $(BUILD)/unit-san/,$(UNIT_TESTS))

# check-exit-path reads the built Keel: the VM-exit path clears the
# guest's registers and overwrites the RSB (include/keel/spec.h).
test-unit: $(UNIT_BINS) $(BUILD)/keel.elf
	@tests/unit/run-all $(UNIT_BINS)
	@tests/unit/check-exit-path $(BUILD)/keel.elf
