#!/usr/bin/env bash
# Sets up a fresh Debian machine for minigrad and builds it:
#   1. installs the Debian packages the build needs, if any are missing (with apt-get as root,
#      or through sudo);
#   2. configures the build directory with meson (release by default);
#   3. compiles the library, the examples and the tests.
#
#   bash scripts/setup.sh            # release build in build/
#   bash scripts/setup.sh asan       # address + undefined-behaviour sanitizers in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

# gnuplot-nox draws the examples' loss curves (they write the CSV without it).
packages=(g++ meson ninja-build pkg-config libfmt-dev libopenblas-dev libboost-test-dev
          nlohmann-json3-dev gnuplot-nox)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "setup: run as root, or install these packages first: ${missing[*]}" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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
