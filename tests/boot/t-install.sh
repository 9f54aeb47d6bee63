# 'make install' output is bootable: the entry the installed /etc/grub.d
# snippet generates, with the installed files, boots a guest in Bochs.
. tests/boot/lib.sh
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make -s install DESTDIR="$dest" >/dev/null || exit 1
for f in boot/keel/keel.elf boot/keel/hvmloader.bin boot/keel/seabios.bin etc/grub.d/42_keel; do
	[ -f "$dest/$f" ] || { echo "make install did not install $f"; exit 1; }
done
cp build/mbr.img "$dest/boot/keel/disks/"
iso=$dest/iso
mkdir -p "$iso/boot/grub"
cp -r "$dest/boot/keel" "$iso/boot/"
{ echo "set timeout=0"; echo "set default=0"; KEEL_ROOT=$dest "$dest/etc/grub.d/42_keel"; } >"$iso/boot/grub/grub.cfg"
echo "generated grub.cfg:"; cat "$iso/boot/grub/grub.cfg"
grep -q "multiboot2 /boot/keel/keel.elf guest=name:mbr,disk:mbr.img" "$iso/boot/grub/grub.cfg" || exit 1
grub-mkrescue -o "$dest/keel.iso" "$iso" >/dev/null 2>&1 || { echo "grub-mkrescue failed"; exit 1; }
$KEEL_RUN --iso "$dest/keel.iso" --timeout 300 --fail-on PANIC --expect-re '^\[mbr\] .*MBR loaded'
