"""PACT v3.0.3 ProductFootprint export (``outputs.pact``, decision record docs/decisions/0012): every shipped
enterprise validates against the official schema shipped in standards/pact/spec/ (read here with its own JSON
Schema validator, not the exporter's), the figures map as the spec's formulas say, and what PACT cannot express is
refused with the reason."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import write_variant

from methodology.outputs import pact
from methodology.outputs.files import write_result
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "standards" / "pact" / "spec" / "pact-openapi-v3.0.3.yaml"
ENTERPRISES = sorted((ROOT / "parameters").glob("*/*.yaml"))
WORKS_A = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"
CEMENT_B = ROOT / "parameters" / "cement" / "gd-coprocessing-plant-b.yaml"


@pytest.fixture(scope="module")
def official():
    doc = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    assert doc["info"]["version"] == "3.0.3"
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"],
              "$ref": "#/components/schemas/ProductFootprint"}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def errors(validator, footprint) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(footprint))


@pytest.fixture(scope="module")
def results():
    return {p: Study.prepare(p).calculate_without_brightway() for p in ENTERPRISES}


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_every_shipped_enterprise_validates_against_the_official_schema(path, results, official):
    fp = pact.footprint_v3(results[path])
    assert errors(official, fp) == []
    r = results[path]
    pcf = fp["pcf"]
    assert float(pcf["fossilGhgEmissions"]) == pytest.approx(r.gwp100_kg_co2e.fossil, abs=5e-4)
    assert pcf["geographyCountrySubdivision"].startswith("CN-") and "geographyCountry" not in pcf
    assert fp["comment"].endswith("not a footprint of a real product.")  # every shipped enterprise is fictional


def test_the_validator_is_not_vacuous(results, official):
    fp = pact.footprint_v3(results[WORKS_A])
    broken = copy.deepcopy(fp)
    del broken["pcf"]["fossilGhgEmissions"]
    broken["pcf"]["biogenicCO2Uptake"] = "12"  # must be <= 0
    broken["pcf"]["geographyCountry"] = "CN"  # two geographies at once
    broken["companyIds"] = ["company-a"]  # not a URN
    found = errors(official, broken)
    assert any("fossilGhgEmissions" in e for e in found)
    assert any(e.startswith("pcf/biogenicCO2Uptake") for e in found)
    assert any(e.startswith("companyIds/0") for e in found)
    assert pact.problems_v3(broken) and pact.problems_v3(fp) == []


def test_works_a_by_hand(results):
    r = results[WORKS_A]
    fp = pact.footprint_v3(r)
    pcf = fp["pcf"]
    g = r.gwp100_kg_co2e
    # no biogenic carbon, no land use: both PACT totals are the fossil figure, credits of system expansion included
    assert pcf["pcfExcludingBiogenicUptake"] == pcf["pcfIncludingBiogenicUptake"] == pcf["fossilGhgEmissions"]
    assert float(pcf["fossilGhgEmissions"]) == pytest.approx(g.gross + g.credits, abs=5e-4) and g.credits < 0
    assert "co-product credits -226.1 kg CO2e" in pcf["allocationRulesDescription"]
    assert (pcf["declaredUnitOfMeasurement"], pcf["declaredUnitAmount"], pcf["productMassPerDeclaredUnit"]) == (
        "kilogram", "1000", "1000")
    assert float(pcf["fossilCarbonContent"]) == pytest.approx(r.product_carbon.fossil_kg_c, abs=5e-4)
    assert r.product_carbon.fossil_kg_c > 4  # 0.0042 t C per t of steel
    # the reference period's end is exclusive in PACT: the day after the parameter file's last day
    assert r.reference_period.end.isoformat() == "2024-12-31" and pcf["referencePeriodEnd"] == "2025-01-01T00:00:00Z"
    assert pcf["exemptedEmissionsPercent"] == "5" and "Upper bound" in pcf["exemptedEmissionsDescription"]
    assert pcf["primaryDataShare"] == f"{r.data_quality.primary_data_share * 100:.1f}".rstrip("0").rstrip(".")
    assert float(pcf["dqi"]["temporalDQR"]) == pytest.approx(r.data_quality.combined_indicators.temporal, abs=5e-3)
    assert pcf["productOrSectorSpecificRules"][0]["ruleNames"] == ["cn-pcr-steel 1.4.0"]


def test_biogenic_terms_follow_the_spec_formulas(results):
    """Cement plant B burns biomass: its biogenic CO2 and the uptake cancel and are in neither PACT total. A
    product carrying biogenic carbon at the gate gets a negative biogenicCO2Uptake of 44/12 x that carbon."""
    r = json.loads(results[CEMENT_B].model_dump_json())
    fp = pact.footprint_v3(r)
    assert r["gas_mass_kg"]["co2_biogenic"] > 50
    assert float(fp["pcf"]["pcfExcludingBiogenicUptake"]) == pytest.approx(r["gwp100_kg_co2e"]["fossil"], abs=5e-4)
    assert "Biogenic CO2 of burned biomass (57.6 kg" in fp["comment"]
    r["product_carbon"]["biogenic_kg_c"] = 10.0
    pcf = pact.footprint_v3(r)["pcf"]
    assert float(pcf["biogenicCO2Uptake"]) == pytest.approx(-10 * 44.009 / 12.011, abs=5e-4)
    assert float(pcf["pcfIncludingBiogenicUptake"]) == pytest.approx(
        float(pcf["pcfExcludingBiogenicUptake"]) - 10 * 44.009 / 12.011, abs=1e-3)
    assert pcf["biogenicCarbonContent"] == "10"


def test_the_id_depends_on_the_inputs_and_on_nothing_else(tmp_path, results):
    first = pact.footprint_v3(results[WORKS_A])["id"]
    again = pact.footprint_v3(Study.prepare(WORKS_A).calculate_without_brightway())["id"]
    assert first == again
    edited = write_variant(tmp_path, WORKS_A, lambda d: d["enterprise"].update(description="edited"))
    assert pact.footprint_v3(Study.prepare(edited).calculate_without_brightway())["id"] != first
    assert len({pact.footprint_v3(r)["id"] for r in results.values()}) == len(results)


def test_what_pact_cannot_express_is_refused_and_written_as_the_reason(tmp_path, results):
    r = json.loads(results[WORKS_A].model_dump_json())
    r["gwp100_kg_co2e"]["fossil"] = -5.0
    with pytest.raises(pact.PactExportError, match="fossil emissions -5.000 .* must be >= 0"):
        pact.footprint_v3(r)
    write_result(r, tmp_path)
    assert (tmp_path / "result.json").is_file() and not (tmp_path / "pact-v3.0.3.json").exists()
    assert "must be >= 0" in (tmp_path / "pact-v3.0.3.json.refused.txt").read_text(encoding="utf-8")
    r2 = json.loads(results[WORKS_A].model_dump_json())
    write_result(r2, tmp_path)  # a later good result replaces the reason with the footprint
    assert (tmp_path / "pact-v3.0.3.json").is_file() and not (tmp_path / "pact-v3.0.3.json.refused.txt").exists()
    r2["declared_unit"]["unit"] = "piece"
    with pytest.raises(pact.PactExportError, match="only a mass declared unit"):
        pact.footprint_v3(r2)
