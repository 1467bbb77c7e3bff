"""Validation cases (``execution.validation``): every shipped case reproduces its published value within its
tolerance; a wrong published value is reported as outside; a malformed case file is refused at its field."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_variant

from methodology.errors import InputFileError
from methodology.execution import validation

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "standards" / "validation").glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_case_is_within_its_tolerance(path):
    rows = validation.evaluate(validation.load_cases(path), ROOT)
    assert rows and all(r["within"] for r in rows), [r for r in rows if not r["within"]]


def test_one_file_per_industry_with_a_rule():
    industries = {p.parent.name for p in (ROOT / "standards").glob("*/pcr-*.yaml")}
    assert {p.stem for p in FILES} == industries


def test_a_wrong_published_value_is_outside_and_the_difference_is_signed(tmp_path):
    def wrong(d):
        d["cases"][0]["published"]["value"] = 0.55  # the clinker factor of 65 % CaO is 0.510
    rows = validation.evaluate(validation.load_cases(write_variant(tmp_path, FILES[1], wrong)), ROOT)
    assert FILES[1].stem == "cement" and rows[0]["case"] == "ipcc-tier1-clinker-factor"
    assert not rows[0]["within"] and rows[0]["difference"] == pytest.approx(0.65 * 44.01 / 56.08 / 0.55 - 1, rel=1e-6)


def test_a_malformed_case_file_is_refused_at_the_field(tmp_path):
    with pytest.raises(InputFileError) as exc:
        validation.load_cases(write_variant(tmp_path, FILES[0], lambda d: d["cases"][0].pop("tolerance")))
    assert "cases[0].tolerance" in [p.field for p in exc.value.problems]
