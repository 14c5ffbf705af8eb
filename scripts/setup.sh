#!/usr/bin/env bash
# Sets up a fresh Debian machine for minigrad and builds it:
#   1. installs the Debian packages minigrad needs, if any are missing (with apt-get as root,
#      or through sudo; scripts/install-packages.sh);
#   2. configures the build directory with meson (release by default);
#   3. compiles the library, the examples and the tests.
#
#   bash scripts/setup.sh            # release build in build/
#   bash scripts/setup.sh asan       # address + undefined-behaviour sanitizers in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

# The Debian packages of every part: the build, the loss curves' plots, the annotated edition
# and its browser test (install-packages.sh lists which part needs which).
bash scripts/install-packages.sh setup build plots docs browser

flavour=${1:-release}
case "$flavour" in
  release) dir=build; options=(--buildtype=release) ;;
  asan) dir=build-asan; options=(--buildtype=debugoptimized -Db_sanitize=address,undefined) ;;
  *) echo "setup: unknown build '$flavour' (expected release or asan)" >&2; exit 2 ;;
esac

if [[ ! -f $dir/build.ninja ]]; then
  meson setup "$dir" "${options[@]}" >/dev/null
fi
ninja -C "$dir" | tail -n 1
