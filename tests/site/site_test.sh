#!/usr/bin/env bash
# The meson test 'site' (tests/meson.build): builds the annotated edition from the source tree
# with scripts/docs.py into OUT, then opens every page in headless chromium with
# tests/site/check_site.py, which saves its screenshots in OUT/screenshots/ and ends with the
# summary line. Read check_site.py for what it checks.
#
#   bash tests/site/site_test.sh SOURCE_ROOT GRAPH_PROGRAM OUT
set -euo pipefail
root=$1 graph=$2 out=$3

/usr/bin/python3 "$root/scripts/docs.py" --root "$root" --graph-program "$graph" --out "$out"
/usr/bin/python3 "$root/tests/site/check_site.py" "$out" --screenshots "$out/screenshots"
