#!/usr/bin/env bash
# Installs the release build into a scratch directory and builds tests/install/consumer.cpp
# against it with nothing but `pkg-config --cflags --libs minigrad`, then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson install -C build --destdir "$stage" --quiet

pc_dir=$(dirname "$(find "$stage" -name minigrad.pc | head -n 1)")
export PKG_CONFIG_PATH=$pc_dir PKG_CONFIG_SYSROOT_DIR=$stage
g++ -std=c++20 tests/install/consumer.cpp -o "$stage/consumer" $(pkg-config --cflags --libs minigrad)
LD_LIBRARY_PATH=$(dirname "$(find "$stage" -name 'libminigrad.so' | head -n 1)") "$stage/consumer"
