#!/usr/bin/env bash
# Install into .venv and run the whole test suite: unit, engine and papermill tests, then the
# methodology notebooks under nbval. Brightway data for tests lives in a throw-away folder.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
scripts/system-packages.sh  # Debian libraries (report.pdf: Pango, HarfBuzz-subset), when missing
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# the public page's browser tests (tests/test_site.py) drive Debian's Chromium with Playwright; they fail without it
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
export BRIGHTWAY2_DIR="${PCF_TEST_BRIGHTWAY_DIR:-$PWD/runs/test-brightway}"
mkdir -p "$BRIGHTWAY2_DIR"
.venv/bin/ruff check methodology tests notebooks benchmarks
# two workers (the CI machine has 2 cores; each test session gets its own Brightway folder, tests/conftest.py)
.venv/bin/pytest -n 2 --dist worksteal
.venv/bin/pcf setup
.venv/bin/pytest -p no:cacheprovider --nbval-lax --nbval-current-env \
  --nbval-sanitize-with tests/nbval-sanitize.cfg notebooks/product.ipynb notebooks/cement.ipynb \
  notebooks/aluminium.ipynb notebooks/plastics.ipynb notebooks/fertilizer.ipynb notebooks/rule-variants.ipynb \
  notebooks/validation-steel.ipynb notebooks/validation-cement.ipynb notebooks/validation-aluminium.ipynb \
  notebooks/validation-plastics.ipynb notebooks/validation-fertilizer.ipynb
