# Capability handling on other CPU models than the default Skylake-X:
# Keel reads the VMX capability MSRs of each (Tiger Lake even reports a
# different VMCS revision) and boots the MBR on all of them.
. tests/boot/lib.sh
for model in corei7_sandy_bridge_2600k broadwell_ult tigerlake; do
	echo "== $model"
	$KEEL_RUN --cpu-model "$model" --guest build/mbr.img --timeout 200 --fail-on PANIC \
		--fail-on "Keel halted" --expect "keel: vmx: VMX operation entered on cpu0" \
		--expect-re '^\[g0\] .*MBR loaded' || { echo "failed on $model"; exit 1; }
done
