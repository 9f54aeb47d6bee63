# Sourced by every tests/boot/t-*.sh (run from the top of the tree by
# tests/boot/run, which keeps each test's output in $LOG_DIR/<name>.log).
#
#   $KEEL_RUN ...   tools/keel-run, quiet (the failure report still has the
#                   last serial lines) and with the time line on success
#   $LOG_DIR        where a test keeps extra files (serial logs, scratch
#                   images): build/boot-tests unless BOOT_LOG_DIR says
#   skip REASON     skip the test (exit 77); the driver shows REASON
KEEL_RUN="tools/keel-run --quiet --timings"
LOG_DIR=${BOOT_LOG_DIR:-build/boot-tests}
mkdir -p "$LOG_DIR"
skip() { echo "$*"; exit 77; }
