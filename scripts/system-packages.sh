#!/usr/bin/env bash
# Debian/Ubuntu libraries the workbench needs outside Python, installed only when missing; called by
# scripts/test.sh and scripts/example.sh (nothing installs them at run time: a run without them fails with a
# message naming them, methodology/outputs/pdf_report.py).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
need=()  # Debian packages to install
have() { ldconfig -p | grep -q "$1"; }

# report.pdf (WeasyPrint): Pango for text layout, HarfBuzz-subset to embed only the glyphs used (fontTools instead
# takes 15-30 s per report on the CJK font)
have libpango-1.0.so.0 || need+=(libpango-1.0-0)
have libpangoft2-1.0.so.0 || need+=(libpangoft2-1.0-0)
have libharfbuzz-subset.so.0 || need+=(libharfbuzz-subset0)

# (next: further system packages, e.g. chromium, each with a line saying what needs it and its check above this)

if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  ($SUDO apt-get install -y -q "${need[@]}" || { $SUDO apt-get update -q && $SUDO apt-get install -y -q "${need[@]}"; }) \
    >/dev/null
fi
