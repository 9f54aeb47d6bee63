# Boot tests in emulators (see tests/boot/run and docs/running.md).
#   make test-boot                        every tests/boot/t-*.sh, two at a time
#   make test-boot BOOT_TESTS="t-mbr t-banner"   only these
.PHONY: test-boot
test-boot: all $(BUILD)/keel-panic-test.elf
	tests/boot/run $(BOOT_TESTS)
