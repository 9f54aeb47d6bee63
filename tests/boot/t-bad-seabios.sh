# A SeaBIOS image of the wrong size is refused with the reason and the fix.
. tests/boot/lib.sh
head -c 100000 /dev/zero >"$LOG_DIR/bad-seabios.bin"
exec $KEEL_RUN --guest build/mbr.img --seabios "$LOG_DIR/bad-seabios.bin" --timeout 120 --fail-on PANIC \
	--expect "guest g0: the SeaBIOS image is 100000 bytes; it must be a non-zero multiple of 64 KiB" \
	--expect "0 of 1 guest started"
