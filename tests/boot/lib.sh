# Shared by the boot tests: run keel-run quietly (the driver keeps the log).
KEEL_RUN="tools/keel-run --quiet"
skip() { echo "$*"; exit 77; }
