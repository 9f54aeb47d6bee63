# Keel nested under QEMU/KVM, where the host allows it (Intel + nested VMX).
. tests/boot/lib.sh
$KEEL_RUN --emulator qemu-kvm --guest build/mbr.img --timeout 120 --expect-re "^\[g0\] .*MBR loaded"
rc=$?
[ $rc -eq 3 ] && skip "qemu-kvm: $(tools/keel-run --emulator qemu-kvm 2>&1 | tail -1 | sed 's/^keel-run: //')"
exit $rc
