# Resets asked for by the guest: port 0xCF9, the keyboard controller's
# 0xFE command and a triple fault. Each mb1test guest resets on its first
# boot; with on_reset:restart (the default) Keel rebuilds it, and the boot
# counter it keeps in CMOS NVRAM (battery-backed, so it survives the
# reset) shows "boot 2" before it exits through port 0xF4. A fourth guest
# with on_reset:stop triple-faults and must stay stopped.
. tests/boot/lib.sh
log=$LOG_DIR/t-reset.serial
$KEEL_RUN --timeout 300 --fail-on PANIC --fail-on "mb1test: FAIL" --serial-log "$log" \
	--guest "kernel=build/mb1test.elf,name=cf9,mem=8,cmdline=reset=cf9 exit=1" \
	--guest "kernel=build/mb1test.elf,name=kbc,mem=8,cmdline=reset=kbc exit=2" \
	--guest "kernel=build/mb1test.elf,name=triple,mem=8,cmdline=reset=triple exit=3" \
	--guest "kernel=build/mb1test.elf,name=stop,mem=8,on_reset=stop,cmdline=reset=triple exit=4" \
	--expect "keel: guest cf9 stopped: guest exited with status 3" \
	--expect "keel: guest kbc stopped: guest exited with status 5" \
	--expect "keel: guest triple stopped: guest exited with status 7" \
	--expect-re "keel: guest stop stopped: reset requested \(triple fault at RIP .*\) and on_reset is 'stop'" || exit 1
for g in cf9 kbc triple; do
	# In order: first boot, the reset, Keel's restart, second boot.
	last=0
	for m in "[$g] mb1test: boot 1" "[$g] mb1test: resetting by $g" "keel: guest $g: reset requested" \
		"keel: guest $g: restarting" "[$g] mb1test: boot 2" "[$g] mb1test: restarted after the reset"; do
		n=$(grep -nF -- "$m" "$log" | head -1 | cut -d: -f1)
		[ -n "$n" ] || { echo "missing in serial log: $m"; exit 1; }
		[ "$n" -gt "$last" ] || { echo "out of order: '$m' at line $n, before line $last"; exit 1; }
		last=$n
	done
done
if grep -qF "[stop] mb1test: boot 2" "$log"; then echo "guest 'stop' was restarted despite on_reset:stop"; exit 1; fi
echo "cf9, kbc and triple-fault resets restarted their guests once; on_reset:stop stopped"
