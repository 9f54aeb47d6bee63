# A guest whose VMCS fails the VM-entry guest-state checks is reported in
# words and stopped; the other guest boots as if nothing happened.
. tests/boot/lib.sh
exec $KEEL_RUN --guest build/mbr.img --timeout 300 --fail-on PANIC \
	--raw-cmdline "guest=name:bad,disk:mbr.img,selftest:bad-vmcs guest=name:good,disk:mbr.img" \
	--expect "keel: error: guest bad: VM entry failed: VM entry failure: invalid guest state (exit reason 33" \
	--expect "a guest-state field fails a consistency check" \
	--expect "keel:   TR   sel 000000 base 0000000000 limit 0x0000ffff access 0x10000" \
	--expect "keel: guest bad stopped: VM entry failed" \
	--expect-re '^\[good\] .*MBR loaded'
