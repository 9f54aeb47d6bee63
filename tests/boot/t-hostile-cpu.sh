# Hostile guests, CPU instructions (firmware/hostile/hostile.S,
# docs/security.md): random RDMSR/WRMSR (all #GP, logged but rate-limited)
# and bad values for FEATURE_CONTROL, EFER, APIC_BASE, SYSENTER_ESP/EIP
# (#GP, named in Keel's log); random CPUID and VMCALL, and hypercalls with
# bad pointers (-EFAULT); every VMX instruction (#UD, named in
# Keel's log); XSETBV (#GP for forbidden values, else loaded); RDTSCP
# returning the guest's TSC_AUX;
# a double-fault storm; a triple fault with on_reset:stop. A
# heartbeat guest beside them must keep beating.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-cpu.serial
hostile_run "$log" --guest build/hostile-msr.img,name=msr --guest build/hostile-cpu.img,name=cpu \
	--guest build/hostile-df.img,name=df --guest build/hostile-triple.img,name=triple,on_reset=stop \
	--guest build/heartbeat.img,name=hb --timeout 300 \
	--fail-on "still running after the triple fault" --expect "[hb] heartbeat 100" \
	--expect "[msr] hostile: msr: #GP for random RDMSR/WRMSR (of 2000): 2000" \
	--expect "[msr] hostile: done" --expect "[cpu] hostile: done" --expect "[df] hostile: done" \
	--expect-re "guest triple stopped: reset requested \(triple fault at RIP" || exit 1
for m in 0000003a c0000080 0000001b 00000175 00000176; do
	grep -q "\[msr\] hostile: msr: write of 0x00008000ffffffff to MSR 0x$m: #GP" "$log" ||
		fail "MSR 0x$m accepted a reserved/non-canonical value"
done
for n in IA32_FEATURE_CONTROL IA32_EFER IA32_APIC_BASE IA32_SYSENTER_ESP IA32_SYSENTER_EIP; do
	grep -q "keel: guest msr: WRMSR $n (0x[0-9a-f]*) value 0x8000ffffffff .*refused: #GP injected" "$log" ||
		fail "Keel's log does not name the refused WRMSR $n"
done
# Logged, but not 2000 lines of it: the first 8, then the 10th, 100th, 1000th.
n=$(grep -c "keel: guest msr: .*MSR .*#GP injected" "$log")
echo "Keel log lines about guest msr's MSR accesses: $n"
[ "$n" -le 20 ] || fail "a guest probing MSRs floods Keel's console ($n lines)"
grep -q "\[cpu\] hostile: cpu: VMX instructions that raised #UD (of 10): 10" "$log" || fail "a VMX instruction did not raise #UD"
grep -q "\[cpu\] hostile: cpu: random VMCALLs done: 2000" "$log" || fail "random VMCALLs did not complete"
# Hypercall pointers: unaligned across a page (done, the bytes land), across
# the end of RAM, in the MMIO hole, wrapping at 4 GiB, just above RAM
# (-EFAULT, nothing written outside RAM).
grep -q "\[cpu\] hostile: cpu: VMCALL pointer cases with the expected result (of 7): 7" "$log" ||
	fail "a hypercall with a bad pointer did not get the expected result: $(grep 'VMCALL pointer case' "$log")"
# Keel names the VMX instructions it refused (rate-limited like the MSRs).
for i in VMXON VMPTRLD VMREAD VMWRITE INVEPT INVVPID; do
	grep -q "keel: guest cpu: $i at RIP 0x[0-9a-f]*: #UD injected" "$log" || fail "Keel's log does not name the guest's $i"
done
# XSETBV (XSAVE is offered on this CPU model): #GP for each forbidden
# value, XCR0 loaded for a valid one. RDTSCP (offered too) returns the
# IA32_TSC_AUX this vCPU wrote.
grep -q "\[cpu\] hostile: cpu: XSETBV with a forbidden value, #GP (of 3): 3" "$log" ||
	fail "XSETBV with forbidden values: $(grep -a 'XSETBV' "$log")"
grep -q "\[cpu\] hostile: cpu: XCR0 after XSETBV 3: 3" "$log" || fail "a valid XSETBV did not reach XCR0: $(grep -a 'XCR0' "$log")"
grep -q "\[cpu\] hostile: cpu: RDTSCP after WRMSR TSC_AUX 1234567, ECX: 1234567" "$log" ||
	fail "RDTSCP did not return the guest's TSC_AUX: $(grep -a 'RDTSCP' "$log")"
grep -q "\[df\] hostile: df: double faults taken (of 1000): 1000" "$log" || fail "the double-fault storm did not complete"
n=$(grep -c "keel: guest cpu: unknown hypercall" "$log")
[ "$n" -le 20 ] || fail "a guest calling unknown hypercalls floods Keel's console ($n lines)"
beats_after "$log" "\[df\] hostile: done" 5 || exit 1
beats_after "$log" "guest triple stopped" 5 || exit 1
