# Sourced by every tests/boot/t-*.sh (run from the top of the tree by
# tests/boot/run, which keeps each test's output in $LOG_DIR/<name>.log).
#
#   $KEEL_RUN ...   tools/keel-run, quiet (the failure report still has the
#                   last serial lines) and with the time line on success
#   $LOG_DIR        where a test keeps extra files (serial logs, scratch
#                   images): build/boot-tests unless BOOT_LOG_DIR says
#   skip REASON     skip the test (exit 77); the driver shows REASON
#   fail REASON     fail the test (exit 1) with "FAIL: REASON"
KEEL_RUN="tools/keel-run --quiet --timings"
LOG_DIR=${BOOT_LOG_DIR:-build/boot-tests}
mkdir -p "$LOG_DIR"
skip() { echo "$*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

# beats_after LOG PATTERN MIN: at least MIN '[hb] heartbeat' lines in LOG
# after the first line matching PATTERN (a guest kept running after an
# event in another one).
beats_after() {
	from=$(grep -n -- "$2" "$1" | head -1 | cut -d: -f1)
	[ -n "$from" ] || { echo "no line matching '$2' in $1"; return 1; }
	n=$(tail -n +"$from" "$1" | grep -c '^\[hb\] heartbeat ')
	echo "heartbeats after '$2': $n"
	[ "$n" -ge "$3" ] || { echo "the heartbeat guest stalled after '$2' (fewer than $3 beats)"; return 1; }
}

# hostile_seeds LOG: prints the seed each hostile guest in LOG drew, so a
# failure can be replayed (make -B HOSTILE_SEED=0x... build/hostile-NAME.img).
hostile_seeds() {
	grep -o '^\[[^]]*\] hostile: attack .*, seed 0x[0-9a-f]*' "$1" || echo "no hostile guest printed its seed"
}

# hostile_run LOG KEEL-RUN-ARGS...: $KEEL_RUN for a test with hostile
# guests: serial log in LOG, failing on a Keel panic or fatal error and on a
# guest's unexpected exception; then, pass or fail, the seeds they drew.
# Returns keel-run's status.
hostile_run() {
	hr_log=$1
	shift
	$KEEL_RUN --fail-on PANIC --fail-on "FATAL" --fail-on "hostile: unexpected" --serial-log "$hr_log" "$@"
	hr_status=$?
	hostile_seeds "$hr_log"
	return $hr_status
}

# Register-state guests (firmware/regtest, issue #14).
# REGTEST_ALL: what corei7_skylake_x (keel-run's default model) offers, so
# what a guest must have tested there: its CPUID (Bochs 2.7, measured
# without Keel: leaf 1 ECX 0x77faf3bf: XSAVE, AVX; leaf 7 EBX 0xd19f27eb:
# AVX512F, AVX512BW; leaf 0xD EAX 0xe7: x87, SSE, AVX, opmask, ZMM_Hi256,
# Hi16_ZMM) plus the debug registers and XCR0 (and CR8 with cmdline cr8=1).
REGTEST_ALL="x87 sse avx avx512 dr xcr0"
# regtest_seed: a random nonzero 64-bit seed, in hex without leading
# zeros as the guest prints it (so a failure can be replayed with cmdline
# seed=...).
regtest_seed() {
	rs=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ' | sed 's/^0*//')
	echo "0x${rs:-1}"
}
# regs_passed LOG NAME COMPONENTS MIN_DESCHED: guest NAME printed
# "regs: PASS COMPONENTS (...)", exactly those components, and was
# descheduled at least MIN_DESCHED times during its checks (other vCPUs
# ran on its CPU in between: otherwise the check proves nothing); and each
# of its vCPUs' positive control (one register per component changed on
# purpose before the checks) saw every change it planted, at least 7.
regs_passed() {
	rp_ctl=$(grep -a "^\[$2\] regs: cpu[0-9]* control: " "$1")
	[ -n "$rp_ctl" ] || { echo "guest $2 ran no positive control"; return 1; }
	echo "$rp_ctl"
	if echo "$rp_ctl" | grep -v -e ' control: \([7-9]\) planted changes, \1 detected$' >/dev/null; then
		echo "guest $2's check missed a change it planted itself"
		return 1
	fi
	rp_line=$(grep -a "^\[$2\] regs: PASS " "$1" | head -1)
	[ -n "$rp_line" ] || { echo "guest $2 printed no 'regs: PASS'"; return 1; }
	echo "$rp_line"
	case "$rp_line" in
	"[$2] regs: PASS $3 ("*) ;;
	*) echo "guest $2 did not test exactly '$3'"; return 1 ;;
	esac
	rp_d=$(echo "$rp_line" | sed -n 's/.*descheduled \([0-9]*\))$/\1/p')
	[ "${rp_d:-0}" -ge "$4" ] || { echo "guest $2 was descheduled ${rp_d:-0} times, fewer than $4: no other vCPU ran in between"; return 1; }
}
