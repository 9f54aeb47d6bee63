# The PCI platform and the IDE bus master (firmware/pci/pcidisk.S): the
# guest enumerates bus 0, finds the PIIX3 IDE function hvmloader set up,
# reads its own sectors by DMA, writes a boot count by DMA and reads it back
# by PIO, has a PRD entry outside its RAM refused, and resets; after the
# reset the disk still holds the count (boot 2), and it exits with status 2
# (keel-run: (2 << 1) | 1 = 5). Two guests on the same image run side by
# side: each has its own copy, kept across its restart.
. tests/boot/lib.sh
log=$LOG_DIR/t-pci-disk.serial
$KEEL_RUN --guest build/pcidisk.img,name=p1 --guest build/pcidisk.img,name=p2,vcpus=2 --timeout 600 \
	--fail-on PANIC --fail-on "pcidisk: FAIL" --fail-on "still running after" --serial-log "$log" \
	--expect-re "^\[p1\] .*pcidisk: boot 2 ok" --expect-re "^\[p2\] .*pcidisk: boot 2 ok"
rc=$?
echo "keel-run exit status: $rc"
[ "$rc" = 0 ] || [ "$rc" = 5 ] || { tail -30 "$log"; exit 1; }
for g in p1 p2; do
	for want in "hvmloader: pci 00:01.1 8086:7010 class 0101 bar4 io 0xc000 size 0x10 irq 14" \
		"hvmloader: pci: PIRQ A-D -> IRQ 5, 10, 11, 5" \
		"pcidisk: pci 00:0000.0000 8086:1237 class 0600" \
		"pcidisk: pci 00:0001.0000 8086:7000 class 0601" \
		"pcidisk: pci 00:0001.0001 8086:7010 class 0101" \
		"pcidisk: READ DMA and READ DMA EXT match the disk" \
		"pcidisk: WRITE DMA reached the disk" "pcidisk: DMA outside RAM refused" \
		"pcidisk: boot 1 ok" "pcidisk: boot 2 ok" \
		"guest $g: IDE DMA: PRD entry 0 points at guest-physical 0xf0000000"; do
		# SeaBIOS's "Booting from Hard Disk.." may precede the guest's text on its line.
		case $want in
		guest*) grep -qF -- "$want" "$log" ;;
		*) grep -F -- "$want" "$log" | grep -q "^\[$g\] " ;;
		esac || { echo "missing for $g: $want"; tail -30 "$log"; exit 1; }
	done
done
echo "both guests: bus enumerated, DMA read/write checked, hostile PRD refused, count kept across reset"
