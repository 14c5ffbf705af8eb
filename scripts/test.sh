#!/usr/bin/env bash
# Builds minigrad (installing what is missing, see setup.sh) and runs the whole test suite.
#
#   bash scripts/test.sh         # the release build
#   bash scripts/test.sh asan    # the same suite under address + undefined-behaviour sanitizers
#
# meson runs every Boost.Test executable and closes with its summary; a failing test prints its
# log (which names the failed check and the values involved).
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=${1:-release}
bash scripts/setup.sh "$flavour"
dir=build
[[ $flavour == asan ]] && dir=build-asan

# Under the sanitizers, any report is fatal, and leaks are reported too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
meson test -C "$dir" --print-errorlogs --num-processes 2
