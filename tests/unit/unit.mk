# Host unit tests (cmocka). Each tests/unit/test_*.c is one binary linked
# with the pure sources, built twice: plain, and with ASan+UBSan. The pure
# sources are compiled once per flavour into objects (with -MMD, so a
# changed header rebuilds what includes it), not once per test binary.

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-DKEEL_HOST_TEST -Iinclude -Iloader -Itests/unit -DKEEL_VERSION=\"$(VERSION)\"
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_OBJS := $(patsubst %.c,$(BUILD)/unit-obj/%.o,$(PURE_SRCS))
UNIT_SAN_OBJS := $(patsubst %.c,$(BUILD)/unit-san-obj/%.o,$(PURE_SRCS))

$(BUILD)/unit-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/unit-san-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -MMD -MP -o $@ $< $(UNIT_OBJS) -lcmocka

$(BUILD)/unit-san/%: tests/unit/%.c $(UNIT_SAN_OBJS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) $(SAN_FLAGS) -MMD -MP -o $@ $< $(UNIT_SAN_OBJS) -lcmocka

UNIT_BINS := $(addprefix $(BUILD)/unit/,$(UNIT_TESTS)) $(addprefix $(BUILD)/unit-san/,$(UNIT_TESTS))

# check-exit-path reads the built Keel: the VM-exit path clears the
# guest's registers and overwrites the RSB (include/keel/spec.h).
test-unit: $(UNIT_BINS) $(BUILD)/keel.elf
	@tests/unit/run-all $(UNIT_BINS)
	@tests/unit/check-exit-path $(BUILD)/keel.elf

# Kept between runs (make would delete them as intermediate files).
.SECONDARY: $(UNIT_OBJS) $(UNIT_SAN_OBJS)
