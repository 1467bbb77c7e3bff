#!/usr/bin/env python3
"""Write the golden values of every shipped parameter file into tests/golden/footprints.yaml.

After a deliberate change of method, rule, factors or parameter files::

    .venv/bin/python scripts/golden.py            # rewrite the file from the current code (numpy evaluator)
    git diff tests/golden/footprints.yaml         # review every figure that moved
    .venv/bin/python scripts/golden.py --check    # exit 1 listing what differs; writes nothing

The file's format, tolerance and why: ``methodology/outputs/golden.py``. No Brightway set-up is needed;
tests/test_golden.py checks the same figures through Brightway too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from methodology.execution.batch import find_parameter_files
from methodology.outputs import golden
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "footprints.yaml"


def current() -> dict[str, dict]:
    """The golden entry of every parameter file under parameters/, by its path relative to the repository."""
    return {path.relative_to(ROOT).as_posix(): golden.figures(Study.prepare(path).calculate_without_brightway())
            for path in find_parameter_files([ROOT / "parameters"])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = ap.parse_args(argv)
    entries = current()
    expected, absolute, relative = {}, golden.ABSOLUTE, golden.RELATIVE  # the tolerance stays as reviewed
    if GOLDEN.is_file():
        expected, absolute, relative = golden.load(GOLDEN.read_text(encoding="utf-8"))
    if args.check:
        problems = [f"{key}: no golden entry" for key in sorted(set(entries) - set(expected))]
        problems += [f"{key}: golden entry without a parameter file" for key in sorted(set(expected) - set(entries))]
        problems += [f"{key}: {d}" for key in sorted(set(expected) & set(entries))
                     for d in golden.differences(expected[key], entries[key], absolute, relative)]
        print("\n".join(problems) or f"{GOLDEN.relative_to(ROOT)}: all {len(entries)} entries match")
        return 1 if problems else 0
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(golden.render(entries, absolute, relative), encoding="utf-8")
    print(f"wrote {len(entries)} entries to {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
