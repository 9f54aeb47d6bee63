# A guest's serial console from Keel's: `console NAME` sends what is typed
# on COM1 to that guest's UART until Ctrl-]. First our echo boot sector
# (firmware/mbr/echo.S), which sleeps in HLT and reads its UART only on
# IRQ 4, on two host CPUs beside a heartbeat guest: typed lines arrive by
# interrupt, a command typed while attached is the guest's, not Keel's,
# Ctrl-] gives the console back, and a stopped guest's input is refused
# by name; a line arrives a few bytes at a time. Then Debian's GRUB,
# polling its UART: its prompt (no newline) shows while it waits, and it
# reads the word typed.
. tests/boot/lib.sh
log=$LOG_DIR/t-guest-console.serial
$KEEL_RUN --cpus 2 --guest build/echo.img,name=e --guest build/heartbeat.img,name=hb --timeout 300 --fail-on PANIC \
	--serial-log "$log" \
	--send-after "echo: ready" "console nosuch" \
	--send-after "keel: console: no guest named 'nosuch'" "console e" \
	--send-after "keel: console: typing goes to guest e's COM1" "hello keel" \
	--send-after "[e] echo: got 'hello keel'" "list" \
	--send-after "[e] echo: got 'list'" $'\x1d' \
	--send-after "keel: console: back to Keel's commands" "stop e" \
	--send-after "guest e stopped: stopped from the console" "console e" \
	--send-after "keel: console: typing goes to guest e's COM1" "x" \
	--expect "keel: console: guest e is not running: input dropped" \
	--expect "[hb] heartbeat 12" || exit 1
grep -Eq "^\[e\] echo: got 'hello keel' after [0-9]+ interrupts" "$log" ||
	fail "the echo guest did not read 'hello keel' by its UART interrupt"
# Typed input is paced, a few bytes per push (what iPXE found: a BIOS
# console's 15-key buffer lost the end of a line sent whole): the 11 bytes
# of 'hello keel' and CR take at least 3 interrupts.
irqs=$(sed -n "s/^\[e\] echo: got 'hello keel' after \([0-9]*\) interrupts.*/\1/p" "$log" | head -1)
[ "$irqs" -ge 3 ] || fail "'hello keel' arrived in $irqs interrupt(s): typed input was not paced"
back=$(grep -n "keel: console: back to Keel's commands" "$log" | head -1 | cut -d: -f1)
table=$(grep -n "^keel: guest  *state" "$log" | head -1 | cut -d: -f1)
[ -z "$table" ] || [ "$table" -gt "$back" ] || fail "'list' typed while attached ran as Keel's command"
beats_after "$log" "keel: console: back to Keel's commands" 3 || exit 1
echo "echo guest: a line by IRQ 4, 'list' went to the guest, Ctrl-] back, a stopped guest refused"

log2=$LOG_DIR/t-guest-console-grub.serial
$KEEL_RUN --guest build/grub-console.img,name=gc,mem=64 --timeout 300 --fail-on PANIC --serial-log "$log2" \
	--send-after "[gc] GRUB console: ready" "console gc" \
	--send-after "[gc] GRUB console: word?" "keel42" \
	--expect "[gc] GRUB console: read 'keel42'" || exit 1
echo "GRUB: its prompt shown before any input, the word typed read"
