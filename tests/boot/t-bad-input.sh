# Bad host-side input: each problem is named, and the valid guest boots.
#  g1: a disk module that does not exist   g2: a disk of 1000 bytes
#  g3: an unknown key                       g4: more memory than the machine has
. tests/boot/lib.sh
truncate -s 1000 "$LOG_DIR/odd.img"
exec $KEEL_RUN --guest build/mbr.img --guest "$LOG_DIR/odd.img" --timeout 300 --fail-on PANIC \
	--raw-cmdline "guest=name:ok,disk:mbr.img guest=name:g1,disk:nosuch.img guest=name:g2,disk:odd.img guest=name:g3,disk:mbr.img,color:blue guest=name:g4,disk:mbr.img,mem:3G bogus=1" \
	--expect "keel: error: command line: unknown option 'bogus'" \
	--expect "guest g1: no GRUB module named 'nosuch.img' for its disk" \
	--expect "guest g2: disk image 'odd.img' is 1000 bytes, not a whole number of 512-byte sectors" \
	--expect "guest g3: not started: unknown key 'color'" \
	--expect "guest g4: not enough memory for 3072 MiB of RAM" \
	--expect "1 of 5 guests started" \
	--expect-re '^\[ok\] .*MBR loaded'
