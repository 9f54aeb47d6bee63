# tools/keel-run's own failure paths: a missing emulator names the Debian
# package (exit 2), usage errors exit 2 with the reason, an unknown Bochs CPU
# model lists the ones there are, and a timeout exits 1 with the serial tail
# and where the time went.
. tests/boot/lib.sh
expect_exit() { # expected-status pattern command...
	want=$1 pat=$2
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	echo "\$ ${*#tools/keel-run } -> exit $rc"
	[ "$rc" = "$want" ] || fail "exit $rc, expected $want; output: $out"
	echo "$out" | grep -Eq -- "$pat" || fail "output does not match '$pat': $out"
}
# An empty bin directory with only python3: no bochs, no qemu.
bin=$LOG_DIR/t-runner-errors.bin
rm -rf "$bin"
mkdir -p "$bin"
ln -s "$(command -v python3)" "$bin/python3"
expect_exit 2 "'bochs' not found: install it with 'apt-get install bochs'" \
	env PATH="$bin" python3 tools/keel-run --guest build/mbr.img
expect_exit 2 "'qemu-system-x86_64' not found: install it with 'apt-get install qemu-system-x86'" \
	env PATH="$bin" python3 tools/keel-run --emulator qemu-tcg
expect_exit 2 "--timeout must be positive" tools/keel-run --timeout 0
expect_exit 2 "--cpus must be at least 1" tools/keel-run --cpus 0
expect_exit 2 "invalid choice: 'vbox'" tools/keel-run --emulator vbox
expect_exit 2 "--send-after needs --emulator bochs" tools/keel-run --emulator qemu-tcg --send-after a b
expect_exit 2 "Bochs has no CPU model 'pentium9000'; it has: .*corei7_skylake_x" \
	tools/keel-run --cpu-model pentium9000
# A marker that never comes: exit 1, the missing string, the serial tail
# and the time line.
out=$($KEEL_RUN --guest build/mbr.img --expect "no such marker" --timeout 15 2>&1)
rc=$?
echo "timeout run -> exit $rc"
[ "$rc" = 1 ] || fail "exit $rc after a timeout, expected 1: $out"
echo "$out" | grep -q "timeout after 15s waiting for: 'no such marker'" || fail "no timeout message: $out"
echo "$out" | grep -q "last .* serial lines" || fail "no serial tail in the timeout report"
# Where it got to depends on how fast the emulator runs: any of Keel's
# lines in the tail will do.
echo "$out" | sed -n '/last .* serial lines/,$p' | grep -q "|.*keel: " ||
	fail "the serial tail does not show where the guest got to: $out"
echo "$out" | grep -q "first serial byte" || fail "no time line in the timeout report"
