"""Data quality derived from what a parameter file says (basis, year, region) instead of pedigree scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_variant

from methodology.errors import ParameterFileError
from methodology.schema.parameters import Basis, DataQuality, Region, derived_quality
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
WORKS_A = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"
DEFAULT = DataQuality(technological=1, temporal=1, geographical=1, completeness=2, reliability=2)


def test_derived_scores_by_hand():
    # an estimate from 2018 for a 2024 reference period (6 years: temporal 3), a national figure (geographical 3)
    got = derived_quality(DEFAULT, basis=Basis.estimated, year=2018, region=Region.country, period_end_year=2024)
    assert got.model_dump() == {"technological": 1, "temporal": 3, "geographical": 3, "completeness": 2,
                                "reliability": 4}
    assert derived_quality(DEFAULT, basis=Basis.measured, year=2024, region=None, period_end_year=2024) == \
        DEFAULT.model_copy(update={"reliability": 1})
    assert derived_quality(DEFAULT, basis=None, year=2005, region=Region.unknown, period_end_year=2024).temporal == 5


def _coal(change):
    def mutate(d):
        change(d["processes"]["coke-oven"]["coking_coal"])
    return mutate


def test_a_file_saying_basis_year_region_gets_those_scores_and_a_worse_footprint_rating(tmp_path):
    base = Study.prepare(WORKS_A)
    said = Study.prepare(write_variant(tmp_path, WORKS_A, _coal(lambda v: (v.pop("data_quality", None), v.update(
        basis="default", year=2015, region="abroad")))))
    dq = said.enterprise.data[("coke-oven", "coking_coal")].data_quality
    assert base.enterprise.params.reference_period.end.year == 2024  # 9 years after 2015: under 10, temporal 3
    assert (dq.reliability, dq.geographical, dq.temporal) == (5, 4, 3)
    r0, r1 = base.calculate_without_brightway(), said.calculate_without_brightway()
    assert r1.data_quality.weighted_score > r0.data_quality.weighted_score
    assert r1.gwp100_kg_co2e.total == pytest.approx(r0.gwp100_kg_co2e.total, rel=1e-12)  # quality, not amounts


@pytest.mark.parametrize("change, field, found", [
    (lambda v: v.update(basis="measured", data_quality={"technological": 1, "temporal": 1, "geographical": 1,
                                                        "completeness": 1, "reliability": 1}),
     "processes.coke-oven.coking_coal.data_quality", "pedigree scores and basis/year/region"),
    (lambda v: v.update(basis="guessed"), "processes.coke-oven.coking_coal.basis", "'guessed'"),
])
def test_refusals(tmp_path, change, field, found):
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(write_variant(tmp_path, WORKS_A, _coal(change)))
    assert (field, found) in [(p.field, p.found) for p in exc.value.problems]
