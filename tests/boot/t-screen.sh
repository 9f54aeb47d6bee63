# A screen when there is no serial port (issue #18): GRUB sets the 640x480
# 32-bit graphics mode Keel's multiboot2 header asks for (keel-run --video:
# GRUB's video drivers loaded), and Keel draws its console there with its
# own font. Checked twice, independently:
#  - Bochs's debugger dumps video memory (0xE0000000, Bochs's VBE frame
#    buffer) when Keel starts reading the screen back (a breakpoint on
#    fb_text_read_row, reached through the 'screen' command), and
#    tests/boot/fbdump-text reads the text off the pixels with the glyphs
#    of GRUB's ascii.h, the font's source;
#  - the 'screen' console command reads the rows back itself (each 8x16
#    cell matched against Keel's font; '?' for a cell that is no glyph).
# Both must agree, hold the guest's and Keel's last lines in order, and
# every cell must be a glyph.
. tests/boot/lib.sh
log=$LOG_DIR/t-screen.serial
case $LOG_DIR in # Bochs runs in its own directory: an absolute path
/*) dump=$LOG_DIR/t-screen.fb ;;
*) dump=$(pwd)/$LOG_DIR/t-screen.fb ;;
esac
rm -f "$dump"
addr=$(nm build/keel.elf | awk '$3 == "fb_text_read_row" { print "0x" $1 }')
[ -n "$addr" ] || fail "no fb_text_read_row in build/keel.elf"
$KEEL_RUN --video --guest build/mbr.img --timeout 600 --fail-on PANIC --serial-log "$log" \
	--debugger "lb $addr" --debugger c --debugger "writemem \"$dump\" 0xe0000000 1228800" --debugger "d 1" \
	--debugger c \
	--expect "keel: screen: console on the 640x480 framebuffer at 0xe0000000" \
	--send-after "MBR loaded" "screen" --expect "keel: end of screen" || exit 1
n=$(grep -ac '^keel: screen [ 0-9][0-9]|' "$log")
[ "$n" -eq 30 ] || fail "$n rows read back, expected 30 (640x480 with an 8x16 font)"
[ -s "$dump" ] || fail "Bochs wrote no dump of video memory"
keel_rows=$(grep -a '^keel: screen [ 0-9][0-9]|' "$log" | sed 's/^keel: screen [ 0-9][0-9]|//')
dump_rows=$(tests/boot/fbdump-text "$dump" 640 480 2560) || fail "could not read the dump"
echo "video memory, as Bochs dumped it:"; echo "$dump_rows" | sed 's/^/  | /'
[ "$keel_rows" = "$dump_rows" ] || {
	echo "Keel's own read-back:"; echo "$keel_rows" | sed 's/^/  | /'
	fail "Keel's read-back and the dump disagree"
}
# The screen holds the last 30 rows of text (it scrolls by 7 rows at a
# time): the end of the guest's boot and Keel's report after it.
last=0
for want in "[g0] SeaBIOS (version" "[g0] Booting from Hard Disk..MBR loaded" \
	"keel: boot timeline of guest g0" "keel:   boot vCPU halted (cli; hlt)"; do
	n=$(echo "$dump_rows" | grep -nF -- "$want" | head -1 | cut -d: -f1)
	[ -n "$n" ] || fail "not on the screen: $want"
	[ "$n" -gt "$last" ] || fail "out of order on the screen: $want"
	last=$n
done
# Every character drawn is read back as itself: no cell reads '?' (the
# guest's text is plain ASCII).
if echo "$dump_rows" | grep -q '?'; then fail "cells that are not glyphs of the font"; fi
echo "the screen shows Keel's and the guest's lines, in order; Keel's read-back agrees"
