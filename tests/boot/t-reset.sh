# Reset and exit conventions (firmware/mbr/resetter.S): the guest resets
# itself through port 0xCF9, the keyboard controller (0xFE) and a triple
# fault, counting boots in CMOS NVRAM (kept across a reset, as on a PC), then
# writes 0x21 to the isa-debug-exit port 0xF4: keel-run must return
# (0x21 << 1) | 1 = 67. With on_reset:stop, the first reset stops the guest.
. tests/boot/lib.sh
log=$LOG_DIR/t-reset.serial
$KEEL_RUN --guest build/resetter.img,name=r --timeout 300 --fail-on PANIC --fail-on "still running after" \
	--serial-log "$log"
rc=$?
echo "keel-run exit status: $rc"
[ "$rc" = 67 ] || { echo "expected exit status 67 from the guest's write of 0x21 to port 0xf4"; exit 1; }
for want in "boot 1: resetting through port 0xCF9" "boot 2: resetting through the keyboard controller" \
	"boot 3: resetting by a triple fault" "boot 4: done, exiting through port 0xF4" \
	"guest r: reset requested (port 0xcf9" "guest r: reset requested (keyboard controller" \
	"guest r: reset requested (triple fault at RIP" \
	"guest r stopped: guest exited with status 67"; do
	grep -qiF "$want" "$log" || { echo "missing: $want"; tail -20 "$log"; exit 1; }
done
# on_reset:stop: the first reset request stops the guest, nothing restarts.
log2=$LOG_DIR/t-reset-stop.serial
$KEEL_RUN --guest build/resetter.img,name=r,on_reset=stop --timeout 120 --fail-on "boot 2" \
	--serial-log "$log2" --expect "and on_reset is 'stop'" || exit 1
