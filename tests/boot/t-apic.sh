# The guest's local APIC (firmware/mb1test apictest.c: self-IPIs, priority
# order, TPR, ISR/IRR, EOI, one-shot and periodic timer, a level-triggered
# I/O APIC input whose EOI must reach the I/O APIC) three ways: with APIC
# virtualization (Skylake-X offers it: reads, TPR writes and EOIs do not
# exit, writes exit decoded, the CPU delivers), with it turned off on the
# same CPU (apicv=off: every access an EPT violation, decoded), and on a
# CPU model without it (Sandy Bridge), where Keel must fall back alone.
. tests/boot/lib.sh
run() { # NAME EXPECTED-APICV-LINE KEEL-RUN-ARGS...
	local name=$1 want=$2
	shift 2
	echo "== $name"
	# One guest: keel-run returns its exit status, (9 << 1) | 1.
	$KEEL_RUN --timeout 300 --fail-on PANIC --fail-on "mb1test: FAIL" --serial-log "$LOG_DIR/t-apic-$name.serial" \
		--guest "kernel=build/mb1test.elf,name=apic,mem=8,cmdline=apictest=1 exit=9" --expect "$want" --wait-exit "$@"
	local rc=$?
	[ "$rc" -eq 19 ] || { echo "$name: keel-run returned $rc, expected 19"; return 1; }
	grep -F "mb1test: apictest:" "$LOG_DIR/t-apic-$name.serial"
	grep -q "guest apic: vCPU 0: IPI (ICR 0x81, destination 0x55) matched no local APIC: dropped" \
		"$LOG_DIR/t-apic-$name.serial" || { echo "$name: no line about the IPI to APIC id 0x55"; return 1; }
	grep -E "^keel:     (APIC access|APIC write|virtualized EOI|EPT violation) " "$LOG_DIR/t-apic-$name.serial" || true
}
run apicv "keel: vmx: apic-virtualization yes" --send-after "guest apic stopped" "stats apic" --expect "keel: end of stats" || exit 1
run apicv-off "keel: vmx: apic-virtualization no (apicv=off)" --cmdline apicv=off || exit 1
run sandy-bridge "keel: vmx: apic-virtualization no" --cpu-model corei7_sandy_bridge_2600k || exit 1
