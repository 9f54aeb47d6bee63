# Hostile guest, page permissions (firmware/hostile/hostile.S attack
# pageperm, docs/security.md): a CPL-3 program with IOPL 3 under 32-bit
# paging runs REP INSB into a supervisor-only page and into a read-only
# page of its own guest. Keel writes such buffers itself, so it must refuse
# what the CPU would: #PF with error code 7 (present, write, user) and CR2
# the address, nothing written. A user page is the control: no fault.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-paging.serial
# It ends through port 0xF4 with V=33: keel-run's status is 67.
hostile_run "$log" --guest build/hostile-pageperm.img,name=pp --timeout 120 --wait-exit \
	--expect "[pp] hostile: done"
status=$?
[ $status -eq 67 ] || fail "keel-run ended with status $status, not the guest's 67"
for what in "supervisor-only page: #PF, error code 0x00000007, CR2 0x00300000" \
	"read-only page: #PF, error code 0x00000007, CR2 0x00301000" "user page: no fault, ECX 0x00000000"; do
	grep -q "^\[pp\] hostile: pageperm: CPL3 rep insb into a $what$" "$log" ||
		fail "expected '$what'; got: $(grep -a 'pageperm: CPL3' "$log" | tr '\n' ';')"
done
