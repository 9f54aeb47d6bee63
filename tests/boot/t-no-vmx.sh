# Under QEMU's TCG (CPU pinned to qemu64) there is no VMX: Keel must say so,
# give the reason, and halt without trying VMXON.
. tests/boot/lib.sh
exec $KEEL_RUN --emulator qemu-tcg --timeout 120 --fail-on "keel: PANIC" --fail-on "VMX operation entered" \
	--expect "Keel hypervisor" \
	--expect "keel: vmx: vmx no" \
	--expect-re "keel: error: VMX is not available: \S" \
	--expect "Keel halted"
