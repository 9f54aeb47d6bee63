# Boot tests in emulators (see tests/boot/run).
test-boot: all
	tests/boot/run
