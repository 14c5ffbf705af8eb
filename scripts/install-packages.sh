#!/usr/bin/env bash
# Installs the Debian packages that a part of minigrad needs, if any are missing: with apt-get
# as root, or through sudo. setup.sh (everything) and docs.sh (the annotated edition) call it;
# the lists below say which part needs which package.
#
#   bash scripts/install-packages.sh CALLER PART...     # e.g. install-packages.sh docs build docs
#
# CALLER names the script in its messages. It exits 1, saying what to install, when packages are
# missing and it can neither be root nor use sudo.
set -euo pipefail

declare -A parts=(
  # The library, its tests and examples (meson finds them by pkg-config).
  [build]="g++ meson ninja-build pkg-config libfmt-dev libopenblas-dev libboost-test-dev
           nlohmann-json3-dev"
  # gnuplot-nox draws the examples' loss curves (they write the CSV without it).
  [plots]="gnuplot-nox"
  # The annotated edition (scripts/docs.py): Markdown with $-math, highlighting, KaTeX, the
  # graphs drawn by Graphviz, and the DejaVu fonts carried into the pages.
  [docs]="python3 python3-markdown-it python3-mdit-py-plugins python3-pygments libjs-katex
          fonts-katex graphviz fonts-dejavu-core"
  # Its test in a real browser (tests/site/check_site.py, the meson test 'site').
  [browser]="chromium"
)

caller=$1
shift
missing=()
for part in "$@"; do
  [[ -v "parts[$part]" ]] || { echo "$caller: no list of packages named '$part'" >&2; exit 2; }
  for package in ${parts[$part]}; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
done
((${#missing[@]})) || exit 0

echo "$caller: installing missing Debian packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "$caller: run as root, or install these packages first: ${missing[*]}" >&2
  exit 1
fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
