#!/usr/bin/env bash
# Builds the annotated edition, minigrad's source and chapters as a browsable book, into
# build/docs/; open build/docs/index.html from the disk, in any browser, with no network.
#   1. installs the Debian packages it needs, if any are missing (as setup.sh does:
#      scripts/install-packages.sh, with apt-get as root or through sudo);
#   2. configures the build directory with meson if it is not there yet, and compiles only
#      build/examples/graph, which writes the DOT files of the graphs the site shows;
#   3. runs scripts/docs.py, which writes the pages (read it next).
#
#   bash scripts/docs.sh             # the site in build/docs/
#   bash scripts/docs.sh BUILD_DIR   # with another meson build directory: BUILD_DIR/docs/
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-packages.sh docs build docs

dir=${1:-build}
if [[ ! -f $dir/build.ninja ]]; then
  meson setup "$dir" --buildtype=release >/dev/null
fi
ninja -C "$dir" examples/graph | tail -n 1
# Debian's python3, whose packages (markdown-it, Pygments) docs.py imports.
/usr/bin/python3 scripts/docs.py --out "$dir/docs" --graph-program "$dir/examples/graph"
echo "docs: open $dir/docs/index.html"
