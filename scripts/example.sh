#!/usr/bin/env bash
# Install into .venv, set up Brightway offline, run every shipped enterprise of every industry into runs/
# (parallel batch: executed notebooks, results table, manifest and summary notebook in runs/batch/).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
scripts/system-packages.sh  # Debian libraries (report.pdf: Pango, HarfBuzz-subset), when missing
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/pcf setup
.venv/bin/pcf batch parameters --runs runs
