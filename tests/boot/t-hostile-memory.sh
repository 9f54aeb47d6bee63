# Hostile guests, memory outside their RAM (firmware/hostile/hostile.S,
# docs/security.md): one read each of the PCI MMIO hole (0xE0000000), the
# first byte above 32 MiB of RAM, 4 GiB, and the last 2 MiB the CPU's
# physical-address width allows; a write just above RAM; a jump to 64 TiB.
# EPT maps nothing there; with unclaimed=stop each guest is stopped and
# Keel names the address and the kind of access; none of the accesses comes
# back (by default the loads and stores would complete, as on a PC's bus:
# t-conformance). 64 TiB
# is above the physical-address width of the emulated CPU (40 bits), so
# there the guest's own page walk refuses it (#PF, reserved bit) before EPT
# is consulted; on a CPU with more bits Keel stops the guest instead. A
# heartbeat guest beside them keeps beating.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-memory.serial
hostile_run "$log" --guest build/hostile-gpa-hole.img,name=hole,unclaimed=stop --guest build/hostile-gpa-above.img,name=above,unclaimed=stop \
	--guest build/hostile-gpa-4g.img,name=g4,unclaimed=stop --guest build/hostile-gpa-top.img,name=top,unclaimed=stop \
	--guest build/hostile-gpa-wabove.img,name=wabove,unclaimed=stop --guest build/hostile-gpa-x64t.img,name=x64t,unclaimed=stop \
	--guest build/heartbeat.img,name=hb --timeout 300 \
	--fail-on "came back" --expect "[hb] heartbeat 100" \
	--expect-re "keel: guest hole stopped: read from guest-physical 0xe0000000, outside its 32 MiB of RAM" \
	--expect-re "keel: guest above stopped: read from guest-physical 0x2000000, outside its 32 MiB of RAM" \
	--expect-re "keel: guest g4 stopped: read from guest-physical 0x100000000, outside its 32 MiB of RAM" \
	--expect-re "keel: guest top stopped: read from guest-physical 0x[0-9a-f]+e00000, outside its 32 MiB of RAM" \
	--expect-re "keel: guest wabove stopped: write to guest-physical 0x2000000, outside its 32 MiB of RAM" \
	--expect-re "(keel: guest x64t stopped: instruction fetch from guest-physical 0x400000000000, outside)|(\[x64t\] hostile: gpa: error code: 9$)" || exit 1
top=$(grep -o "\[top\] hostile: reading guest-physical 0x[0-9a-f]*" "$log" | grep -o "0x.*")
echo "highest address read: $top"
if grep -q "^\[x64t\] hostile: gpa: the CPU refused" "$log"; then
	# Error code 9 = present (1) + reserved bit (8), on the instruction
	# fetch's own page walk: never reached EPT, so nothing of Keel's ran.
	grep -q "^\[x64t\] hostile: gpa: the CPU refused the address itself, exception: 14$" "$log" ||
		fail "64 TiB: an exception other than #PF"
	echo "64 TiB: beyond the CPU's physical-address width; the guest's page walk raised #PF (reserved bit)"
	grep -q "guest x64t stopped: " "$log" && fail "guest x64t stopped although its access never left the CPU"
fi
beats_after "$log" "guest top stopped" 5 || exit 1
beats_after "$log" "guest wabove stopped" 5 || exit 1
