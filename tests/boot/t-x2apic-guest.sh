# x2APIC for guests (issues #21, #15): firmware/mb1test x2apictest.c on
# two vCPUs: CPUID (leaf 1 ECX[21], leaf 0xB), IA32_APIC_BASE's x2APIC
# transitions and #GPs, ID and LDR, #GP for absent/read-only/write-only
# registers, the MMIO page not decoding, SELF IPI and ICR self-IPIs,
# priority order, TPR/PPR, EOI, the timer one-shot and periodic, the
# second vCPU started by INIT/start-up through the x2APIC ICR and sent
# IPIs by physical, logical-cluster and shorthand destinations, then
# sending the first fixed IPIs as fast as it can while that one waits
# 200 ms with interrupts off and a SELF IPI pending: nothing may arrive
# before its STI (issue #17's Linux hang: Bochs delivers a pending
# virtual interrupt, IF or not, when a host interrupt comes, and Keel's
# kicks were host interrupts; two host CPUs, so both vCPUs run). Three
# ways: with APIC virtualization and "virtualize x2APIC mode" (Skylake-X:
# MSR reads, TPR, EOI and SELF IPI writes without exits; a 1 ms periodic
# timer must give 10-21 interrupts in 20 ms), with apicv=off
# (every x2APIC MSR exits and is emulated), on Sandy Bridge (no APIC
# virtualization at all); and a guest with x2apic:off, which must see an
# xAPIC only.
. tests/boot/lib.sh
run() { # NAME GUEST-ARG EXPECTED-LINE KEEL-RUN-ARGS...
	local name=$1 arg=$2 want=$3
	shift 3
	echo "== $name"
	local log="$LOG_DIR/t-x2apic-guest-$name.serial"
	$KEEL_RUN --timeout 300 --fail-on PANIC --fail-on "mb1test: FAIL" --serial-log "$log" \
		--guest "kernel=build/mb1test.elf,name=x2,mem=8,$arg exit=9" --expect "$want" --wait-exit "$@"
	local rc=$?
	[ "$rc" -eq 19 ] || { echo "$name: keel-run returned $rc, expected 19"; return 1; }
	grep -F "mb1test: x2apictest:" "$log"
}
# The values the guest read back, as it printed them.
want_values() { # NAME
	local log="$LOG_DIR/t-x2apic-guest-$1.serial"
	grep -q "x2apictest: base 0xfee00d00 ID 0 LDR 0x1 page 0xffffffff; .* TPR/PPR 0x50/0x50, .* AP ID 1 LDR 0x2, IPIs taken 4; back to xAPIC ID 0: ok" "$log" ||
		{ echo "$1: the guest's x2APIC values are not base 0xfee00d00, ID 0, LDR 0x1, AP ID 1, LDR 0x2, 4 IPIs"; return 1; }
	grep -q "x2apictest: IF=0 for 200 ms against [1-9][0-9]* IPIs: 0 taken, 0 with IF=0 in all, the SELF IPI 1 time(s) after STI" "$log" ||
		{ echo "$1: an interrupt arrived while the guest had RFLAGS.IF = 0 (or no IPIs were sent)"; return 1; }
	grep -q "guest x2: vCPU 0: IPI (ICR 0x81, destination 0x55) matched no local APIC: dropped" "$log" ||
		{ echo "$1: no line about the IPI to x2APIC ID 0x55"; return 1; }
}
run apicv "vcpus=2,cmdline=x2apictest=2" "keel: vmx: x2apic-virtualization yes" --cpus 2 || exit 1
want_values apicv || exit 1
run apicv-off "vcpus=2,cmdline=x2apictest=2" "keel: vmx: x2apic-virtualization no" --cmdline apicv=off --cpus 2 || exit 1
want_values apicv-off || exit 1
run sandy-bridge "vcpus=2,cmdline=x2apictest=2" "keel: vmx: apic-virtualization no" --cpu-model corei7_sandy_bridge_2600k || exit 1
want_values sandy-bridge || exit 1
run hidden "x2apic=off,cmdline=x2apictest=off" "mb1test: x2apictest: x2APIC hidden" || exit 1
