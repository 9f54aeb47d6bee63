# Guest SMP: a guest with 4 vCPUs runs firmware/smp/smp.S, which finds the
# MP table hvmloader built (copied by SeaBIOS into its F segment), starts
# the APs with INIT-SIPI-SIPI through its local APIC, and has every CPU
# print the APIC id read from its own local APIC. Each id 0-3 must appear
# exactly once, and the BSP's final line must follow.
. tests/boot/lib.sh
log=$LOG_DIR/t-smp-guest.serial
$KEEL_RUN --guest build/smp.img,vcpus=4 --timeout 300 --fail-on PANIC --fail-on "smp: timeout" \
	--fail-on "smp: no MP table" --fail-on "stopped:" --serial-log "$log" \
	--expect-re '^\[g0\] smp: all 4 CPUs up' || exit 1
grep -q '^\[g0\] smp: MP table lists 4 CPUs' "$log" || { echo "the MP table did not list 4 CPUs"; exit 1; }
# SeaBIOS accepted both tables (it checks signatures and checksums first).
grep -q 'Copying MPTABLE from 0x00010800' "$log" || { echo "SeaBIOS did not copy the MP table"; exit 1; }
grep -q 'Copying ACPI RSDP from 0x00010c00' "$log" || { echo "SeaBIOS did not copy the ACPI RSDP"; exit 1; }
grep -q '^\[g0\] smp: I/O APIC version 0x11, 24 inputs' "$log" || { echo "the I/O APIC did not answer"; exit 1; }
for id in 0 1 2 3; do
	n=$(grep -cE "^\[g0\] smp: (BSP|AP) APIC id $id up" "$log")
	[ "$n" -eq 1 ] || { echo "APIC id $id reported $n times (expected once)"; grep 'smp:' "$log"; exit 1; }
done
[ "$(grep -c '^\[g0\] smp: BSP APIC id 0 up' "$log")" -eq 1 ] || { echo "the BSP is not APIC id 0"; exit 1; }
last_ap=$(grep -nE '^\[g0\] smp: AP APIC id' "$log" | tail -1 | cut -d: -f1)
final=$(grep -n '^\[g0\] smp: all 4 CPUs up' "$log" | cut -d: -f1)
[ "$final" -gt "$last_ap" ] || { echo "the final line came before an AP checked in"; exit 1; }
echo "APIC ids 0-3 each reported once; final line after the last AP"
# The same guest on two host CPUs, beside a heartbeat guest: INIT and
# start-up IPIs now cross physical CPUs (Keel kicks the CPU a target vCPU
# runs or idles on), and every AP still checks in once.
log2=$LOG_DIR/t-smp-guest-2cpus.serial
$KEEL_RUN --cpus 2 --guest build/smp.img,vcpus=4 --guest build/heartbeat.img,name=hb --timeout 300 \
	--fail-on PANIC --fail-on "smp: timeout" --fail-on "stopped:" --serial-log "$log2" \
	--expect "keel: smp: 2 CPUs online" --expect-re '^\[g0\] smp: all 4 CPUs up' --expect "[hb] heartbeat 10" || exit 1
for id in 1 2 3; do
	n=$(grep -cE "^\[g0\] smp: AP APIC id $id up" "$log2")
	[ "$n" -eq 1 ] || { echo "2 host CPUs: APIC id $id reported $n times (expected once)"; exit 1; }
done
grep -q "keel: guest g0: vCPU [1-3] runs on cpu1" "$log2" || grep -q "keel: guest g0: vCPU 0 runs on cpu1" "$log2" ||
	{ echo "no vCPU of the SMP guest ran on cpu1"; exit 1; }
echo "2 host CPUs: APIC ids 1-3 each reported once"
