# Four guests of the test MBR at once, each with its own RAM, EPT, devices
# and disk copy; every one reaches its boot sector, with its prefix.
. tests/boot/lib.sh
exec $KEEL_RUN --guest build/mbr.img --guest build/mbr.img --guest build/mbr.img --guest build/mbr.img \
	--timeout 400 --fail-on PANIC --expect "4 of 4 guests started" \
	--expect-re '^\[g0\] .*MBR loaded' --expect-re '^\[g1\] .*MBR loaded' \
	--expect-re '^\[g2\] .*MBR loaded' --expect-re '^\[g3\] .*MBR loaded'
