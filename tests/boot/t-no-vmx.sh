# Under QEMU's TCG there is no VMX: Keel must say so, and why, and halt.
. tests/boot/lib.sh
exec $KEEL_RUN --emulator qemu-tcg --timeout 120 --fail-on PANIC --fail-on "VMX operation entered" \
	--expect "keel: vmx: vmx no" \
	--expect "keel: error: VMX is not available: this CPU is AuthenticAMD, without Intel VT-x" \
	--expect "Keel halted"
