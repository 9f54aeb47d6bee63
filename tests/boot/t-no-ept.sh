# A VMX CPU without EPT, unrestricted guest or the preemption timer (Bochs's
# Core 2 Penryn): Keel names every missing control and halts cleanly.
. tests/boot/lib.sh
exec $KEEL_RUN --cpu-model core2_penryn_t9600 --guest build/mbr.img --timeout 120 --fail-on PANIC \
	--fail-on "VMX operation entered" \
	--expect "keel: vmx: ept no" \
	--expect "lacks the required control 'ept' (needed because: each guest sees only its own memory)" \
	--expect "lacks the required control 'unrestricted-guest'" \
	--expect "lacks the required control 'preemption-timer'" \
	--expect "keel: error: VMX is not usable on this CPU: required controls are missing" \
	--expect "Keel halted"
