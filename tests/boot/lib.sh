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
