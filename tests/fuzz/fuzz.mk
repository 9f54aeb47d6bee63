# libFuzzer harnesses (clang: -fsanitize=fuzzer,address,undefined). Each
# tests/fuzz/fuzz_NAME.c is one binary, linked with every pure source and
# run over its seed corpus tests/fuzz/corpus/NAME/ (see docs/security.md).
#
#   make fuzz              each harness for FUZZ_SECONDS (60), one after another
#   make fuzz-smoke        each for 10 s, two at a time (part of make test)
#   make fuzz-platform     one harness (fuzz-ata, fuzz-loader, fuzz-kernel, fuzz-mb2, ...)
#
# New inputs that reach new code go to build/fuzz/corpus/NAME/, crash
# reproducers to build/fuzz/crashes/; nothing is written into tests/.
# A crash, a broken invariant or a hang fails the target, and the output
# names the reproducer and the command that replays it.

FUZZ_CC := clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -DKEEL_HOST_TEST \
	-Iinclude -Iloader -Itests/fuzz -DKEEL_VERSION=\"$(VERSION)\" \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(PURE_SRCS))
FUZZ_BINS := $(addprefix $(BUILD)/fuzz/fuzz_,$(FUZZERS))

$(BUILD)/fuzz/obj/%.o: %.c
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found; tools/install-deps installs it (clang, libclang-rt-14-dev)"; exit 2; }
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(FUZZ_OBJS)

.PHONY: fuzz fuzz-smoke fuzz-build $(addprefix fuzz-,$(FUZZERS))
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	tests/fuzz/run --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) $(FUZZERS)

fuzz-smoke: $(FUZZ_BINS)
	tests/fuzz/run --seconds 10 --jobs 2 $(FUZZERS)

$(addprefix fuzz-,$(FUZZERS)): fuzz-%: $(BUILD)/fuzz/fuzz_%
	tests/fuzz/run --seconds $(FUZZ_SECONDS) $*
