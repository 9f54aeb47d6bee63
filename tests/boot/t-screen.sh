# A screen when there is no serial port (issue #18): GRUB sets the 640x480
# 32-bit graphics mode Keel's multiboot2 header asks for (keel-run --video:
# GRUB's video drivers loaded), and Keel draws its console there with its
# own font. The 'screen' console command reads the rows back from video
# memory (every 8x16 cell compared with the font: a cell that is not
# exactly a glyph in Keel's two colours reads '?'); the lines must be those
# Keel and the guest printed, in order.
. tests/boot/lib.sh
log=$LOG_DIR/t-screen.serial
$KEEL_RUN --video --guest build/mbr.img --timeout 600 --fail-on PANIC --serial-log "$log" \
	--expect "keel: screen: console on the 640x480 framebuffer at 0x" \
	--send-after "MBR loaded" "screen" --expect "keel: end of screen" || exit 1
rows=$(grep -a '^keel: screen [ 0-9][0-9]|' "$log" | sed 's/^keel: screen [ 0-9][0-9]|//')
echo "the screen reads:"; echo "$rows" | sed 's/^/  | /'
n=$(grep -ac '^keel: screen [ 0-9][0-9]|' "$log")
[ "$n" -eq 30 ] || fail "$n rows read back, expected 30 (640x480 with an 8x16 font)"
# The screen holds the last 30 rows of text (it scrolls by 7 rows at a
# time): the end of the guest's boot and Keel's report after it.
last=0
for want in "[g0] SeaBIOS (version" "[g0] Booting from Hard Disk..MBR loaded" \
	"keel: boot timeline of guest g0" "keel:   boot vCPU halted (cli; hlt)"; do
	n=$(echo "$rows" | grep -nF -- "$want" | head -1 | cut -d: -f1)
	[ -n "$n" ] || fail "not on the screen: $want"
	[ "$n" -gt "$last" ] || fail "out of order on the screen: $want"
	last=$n
done
# Every character drawn is read back as itself: no cell in a row Keel
# wrote reads '?' (the guest's text is plain ASCII).
if echo "$rows" | grep -q '?'; then fail "cells that are not glyphs of Keel's font"; fi
echo "the screen shows Keel's and the guest's lines, in order"
