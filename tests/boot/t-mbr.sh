# The headline: a guest boots through hvmloader and SeaBIOS to its MBR.
# The order of the milestones is checked on the serial log afterwards.
. tests/boot/lib.sh
log=$LOG_DIR/t-mbr.serial
$KEEL_RUN --guest build/mbr.img --timeout 300 --fail-on PANIC --serial-log "$log" \
	--expect-re "^\[g0\] .*MBR loaded" || exit 1
order=("keel: vmx: VMX operation entered" "[g0] hvmloader: Keel hvmloader" \
	"[g0] hvmloader: invoking SeaBIOS at F000:FFF0" "[g0] SeaBIOS (version" \
	"[g0] Found Xen hypervisor signature" "[g0] Booting from" "MBR loaded")
last=0
for m in "${order[@]}"; do
	n=$(grep -nF -- "$m" "$log" | head -1 | cut -d: -f1)
	[ -n "$n" ] || { echo "missing in serial log: $m"; exit 1; }
	[ "$n" -gt "$last" ] || { echo "out of order: '$m' at line $n, before line $last"; exit 1; }
	last=$n
done
# The boot menu is off (fw_cfg): no "Press ESC" prompt and its wait.
if grep -q "Press ESC for boot menu" "$log"; then echo "SeaBIOS showed its boot menu prompt"; exit 1; fi
echo "milestones in order; no boot-menu wait"
