# The slow tier's real OS from a real disk (issue #17): a Debian disk image
# made by tools/mkdisk-linux (GRUB in the MBR gap, ext4 root with Debian's
# kernel, an initramfs with ata_piix and busybox as init; never committed).
# SeaBIOS boots GRUB from the disk through the PIIX3 IDE function, GRUB
# loads Linux, Linux mounts its root read-write from the IDE disk
# (ata_piix, DMA), counts the boot in /bootcount and reboots; the second
# boot finds count 2 and powers off. Two such guests side by side, each
# with 2 vCPUs and its own copy of the image (kept across its reboot).
. tests/boot/lib.sh
[ -s build/linux/vmlinuz ] || skip "no build/linux/vmlinuz (tools/fetch-linux fetches Debian's kernel)"
img=build/linux/disk.img
tools/mkdisk-linux "$img" || skip "tools/mkdisk-linux could not build the disk image"
log=$LOG_DIR/t-linux-disk.serial
$KEEL_RUN --guest "$img,mem=192,vcpus=2,name=d1" --guest "$img,mem=192,vcpus=2,name=d2" --cpus 2 --host-mem 1024 \
	--timeout 1320 --fail-on "keel: PANIC" --fail-on "rcu: INFO: rcu_preempt detected stalls" --fail-on "Kernel panic" --fail-on "keel-disk: FAIL" \
	--fail-on "VM entry failed" --fail-on "unknown hypercall" --serial-log "$log" \
	--expect-re "^\[d1\] keel-disk: boot 2: root /dev/sda1 \(ext4\) mounted read-write through ata_piix" \
	--expect-re "^\[d2\] keel-disk: boot 2: root /dev/sda1 \(ext4\) mounted read-write through ata_piix" || exit 1
for g in d1 d2; do
	grep -q "^\[$g\] keel-disk: boot 1: .*transfer mode XFER_MW_DMA_2, 2 CPUs" "$log" ||
		{ echo "$g: boot 1 did not report XFER_MW_DMA_2 and 2 CPUs"; grep "^\[$g\] keel-disk" "$log"; exit 1; }
	grep -q "^\[$g\] Found Xen hypervisor signature" "$log" || { echo "$g: SeaBIOS saw no Xen"; exit 1; }
	grep -q "^\[$g\] .*Hypervisor detected: Xen" "$log" && { echo "$g: Linux took Keel for Xen"; exit 1; }
done
echo "two guests, 2 vCPUs each: GRUB from the disk, Linux root rw on ata_piix (MWDMA2), boot count 2 after reboot"
