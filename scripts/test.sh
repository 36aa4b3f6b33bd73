#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs the whole test suite: unit, golden and e2e tests, and a bounded fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build="${TUNE_BUILD_DIR:-build}"
ctest --test-dir "$build" --output-on-failure -j2
scripts/fuzz.sh "${TUNE_FUZZ_RUNS:-20000}"
