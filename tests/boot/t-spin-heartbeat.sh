# A guest spinning in 'cli; jmp .' cannot starve another: the VMX-preemption
# timer ends its slices. The heartbeat guest, which needs PIT interrupts
# injected, must keep beating after the spinner has started.
. tests/boot/lib.sh
log=$LOG_DIR/t-spin-heartbeat.serial
$KEEL_RUN --guest build/spin.img,name=spin --guest build/heartbeat.img,name=hb --timeout 300 --fail-on PANIC \
	--serial-log "$log" --expect-re '^\[spin\] .*spinner: spinning with interrupts off' \
	--expect "[hb] heartbeat 30" || exit 1
beats_after "$log" "spinner: spinning" 5 || exit 1
