# Keel nested under QEMU/KVM, where the host allows it (Intel CPU, vmx flag,
# usable /dev/kvm, kvm_intel nested=Y); otherwise skipped with the reason.
. tests/boot/lib.sh
why=$(tools/keel-run --emulator qemu-kvm --check 2>&1)
case $? in
0) ;;
3) skip "${why#keel-run: }" ;;
*) echo "$why"; exit 1 ;;
esac
exec $KEEL_RUN --emulator qemu-kvm --guest build/mbr.img --timeout 120 --fail-on "keel: PANIC" \
	--expect "Keel hypervisor" --expect "keel: vmx: VMX operation entered" \
	--expect-re '^\[g0\] .*MBR loaded'
