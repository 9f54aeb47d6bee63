# Isolation between guests (firmware/hostile/hostile.S fill/scan): guest a
# fills its RAM above 1 MiB with a 16-byte signature computed at run time;
# guest b plants the same signature once in its own RAM (the positive
# control: the scan must find it), scans all of its RAM three times, a
# second apart, and must find only that one copy, never a's 1966080; then it
# reads just above its RAM, and Keel stops it (unclaimed=stop: by default
# the read would complete as all ones), naming the address.
. tests/boot/lib.sh
log=$LOG_DIR/t-isolation.serial
hostile_run "$log" --guest build/hostile-fill.img,name=a --guest build/hostile-scan.img,name=b,unclaimed=stop --timeout 300 \
	--fail-on "came back" \
	--expect "[a] hostile: isolation: RAM from 1 MiB filled with the signature, copies: 1966080" \
	--expect-re "keel: guest b stopped: read from guest-physical 0x2000000, outside its 32 MiB of RAM" || exit 1
sig_a=$(grep -o "^\[a\] hostile: isolation: signature from seed .*" "$log" | cut -d' ' -f2-)
sig_b=$(grep -o "^\[b\] hostile: isolation: signature from seed .*" "$log" | cut -d' ' -f2-)
echo "$sig_a"
[ -n "$sig_a" ] && [ "$sig_a" = "$sig_b" ] || fail "guests a and b do not look for the same signature ('$sig_a', '$sig_b')"
scans=$(grep -c "^\[b\] hostile: isolation: scan: matches of the signature in all of RAM: " "$log")
[ "$scans" -eq 3 ] || fail "guest b reported $scans scans, expected 3"
grep "^\[b\] hostile: isolation: scan: matches" "$log" | grep -v ": 1$" && fail "guest b saw a signature it did not plant"
n=$(grep -c "^\[b\] hostile: isolation: scan: last match at: 19088736$" "$log")
[ "$n" -eq 3 ] || fail "the positive control (the copy b planted at 0x1234560) was not found by every scan"
filled=$(grep -n "^\[a\] hostile: isolation: RAM from 1 MiB filled" "$log" | cut -d: -f1)
last_scan=$(grep -n "^\[b\] hostile: isolation: scan: matches" "$log" | tail -1 | cut -d: -f1)
[ "$filled" -lt "$last_scan" ] || fail "guest a had not filled its RAM before b's last scan: the test proves nothing"
echo "guest b found only its own copy in 3 scans, the last after guest a filled its RAM"
