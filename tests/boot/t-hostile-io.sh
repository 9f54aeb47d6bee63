# Hostile guests, port I/O (firmware/hostile/hostile.S, docs/security.md):
# 20000 random port accesses of every size then a REP INSB off the end of
# RAM (Keel stops that guest and says why); READ SECTORS beyond the disk
# (every request refused with ERR), then a good sector read by REP INSW into
# a buffer that runs across 2 MiB (a RAM chunk boundary: it must work); an
# interrupt storm (PICs unmasked, PIT count 1, EOI spam). A heartbeat guest beside them must keep beating.
. tests/boot/lib.sh
log=$LOG_DIR/t-hostile-io.serial
hostile_run "$log" --guest build/hostile-ports.img,name=ports --guest build/hostile-ata.img,name=ata \
	--guest build/hostile-storm.img,name=storm --guest build/heartbeat.img,name=hb --timeout 300 \
	--fail-on "came back" --expect "[hb] heartbeat 100" \
	--expect "[ports] hostile: ports: random accesses done: 20000" \
	--expect-re "keel: guest ports stopped: INS of [0-9]+ bytes at guest-physical 0x2000000 crosses the end of its 32 MiB of RAM" \
	--expect "[ata] hostile: ata: bad requests refused with ERR (of 4): 4" \
	--expect "[ata] hostile: ata: REP INSW across 2 MiB at 0x1fff01, bytes matching the sector (of 512): 512" \
	--fail-on "guest ata stopped" \
	--expect "[storm] hostile: storm: interrupts taken: " --expect "[storm] hostile: done" || exit 1
beats_after "$log" "guest ports stopped" 5 || exit 1
beats_after "$log" "\[storm\] hostile: done" 5 || exit 1
