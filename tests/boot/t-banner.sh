# Keel's banner and one line per VMX feature, from a real boot in Bochs.
. tests/boot/lib.sh
exec $KEEL_RUN --timeout 120 --fail-on PANIC \
	--expect "Keel hypervisor" \
	--expect "keel: vmx: vmx yes" --expect "keel: vmx: ept yes" \
	--expect "keel: vmx: unrestricted-guest yes" --expect "keel: vmx: vpid yes" \
	--expect "keel: vmx: preemption-timer yes" --expect "keel: vmx: true-controls yes" \
	--expect "keel: vmx: VMX operation entered on cpu0" \
	--expect "keel: memory: 511 MiB of RAM" --expect "module hvmloader"
