# Hostile guests, memory outside their RAM (firmware/hostile/hostile.S,
# docs/security.md): one read each of the PCI MMIO hole (0xE0000000), the
# first byte above 32 MiB of RAM, 4 GiB, and the last 2 MiB the CPU's
# physical-address width allows. EPT maps nothing there, so each guest is
# stopped and Keel names the address; none of the reads comes back, and a
# heartbeat guest beside them keeps beating.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-memory.serial
$KEEL_RUN --guest build/hostile-gpa-hole.img,name=hole --guest build/hostile-gpa-above.img,name=above \
	--guest build/hostile-gpa-4g.img,name=g4 --guest build/hostile-gpa-top.img,name=top \
	--guest build/heartbeat.img,name=hb --timeout 300 --fail-on PANIC --fail-on "FATAL" \
	--fail-on "hostile: unexpected" --fail-on "came back" --serial-log "$log" --expect "[hb] heartbeat 100" \
	--expect-re "keel: guest hole stopped: read from guest-physical 0xe0000000, outside its 32 MiB of RAM" \
	--expect-re "keel: guest above stopped: read from guest-physical 0x2000000, outside its 32 MiB of RAM" \
	--expect-re "keel: guest g4 stopped: read from guest-physical 0x100000000, outside its 32 MiB of RAM" \
	--expect-re "keel: guest top stopped: read from guest-physical 0x[0-9a-f]+e00000, outside its 32 MiB of RAM" || exit 1
top=$(grep -o "\[top\] hostile: reading guest-physical 0x[0-9a-f]*" "$log" | grep -o "0x.*")
echo "highest address tried: $top"
beats_after "$log" "guest top stopped" 5 || exit 1
