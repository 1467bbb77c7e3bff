"""PACT v3.0.3 ProductFootprint export (``outputs.pact``, decision record docs/decisions/0012): every shipped
enterprise validates against the official schema shipped in standards/pact/spec/ (read here with its own JSON
Schema validator, not the exporter's), the figures map as the spec's formulas say, and what PACT cannot express is
refused with the reason."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import write_variant

from methodology.outputs import cpc, pact, pact_v2
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


# --- PACT v2.3.3 (outputs.pact_v2): the same footprint in v2.3's vocabulary, with the product's UN CPC code -------

SPEC_V2 = ROOT / "standards" / "pact" / "spec" / "pact-openapi-v2.3.3.yaml"
CPC = yaml.safe_load((ROOT / "standards" / "pact" / "cpc-v2.1.yaml").read_text(encoding="utf-8"))
CODES = {(c["rule"], c["product"]): c["cpc"] for c in CPC["codes"]}


@pytest.fixture(scope="module")
def official_v2():
    doc = yaml.safe_load(SPEC_V2.read_text(encoding="utf-8"))
    assert doc["info"]["version"] == "2.3.3"
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"],
              "$ref": "#/components/schemas/ProductFootprint"}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _key(r) -> tuple[str, str]:
    return r.provenance.rule_set.id, r.product.id


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_every_shipped_enterprise_has_a_v23_footprint_valid_against_the_official_schema(path, results, official_v2):
    r = results[path]
    assert _key(r) in CODES, f"no UN CPC code recorded for {_key(r)}"
    fp, v3 = pact_v2.validated_v23(r), pact.footprint_v3(r)
    assert errors(official_v2, fp) == []
    assert fp["productCategoryCpc"] == CODES[_key(r)] and fp["id"] == v3["id"] and fp["specVersion"] == "2.3.3"
    urn = f"urn:pact:productclassification:un-cpc:{CODES[_key(r)]}"
    assert fp["productClassifications"] == v3["productClassifications"] == [urn]
    p2, p3 = fp["pcf"], v3["pcf"]
    assert (p2["pCfExcludingBiogenic"], p2["pCfIncludingBiogenic"], p2["fossilGhgEmissions"]) == (
        p3["pcfExcludingBiogenicUptake"], p3["pcfIncludingBiogenicUptake"], p3["fossilGhgEmissions"])
    assert p2["biogenicCarbonWithdrawal"] == p3["biogenicCO2Uptake"] and p2["declaredUnit"] == "kilogram"
    assert p2["exemptedEmissionsPercent"] == float(p3["exemptedEmissionsPercent"])


def _without_code(results) -> dict:
    """A shipped result whose product has no CPC code recorded (a product id the table does not have)."""
    r = json.loads(next(iter(results.values())).model_dump_json())
    r["product"]["id"] = "product-without-cpc-code"
    return r


def test_a_product_without_a_cpc_code_gets_no_v23_footprint_and_no_classification(results):
    r = _without_code(results)
    with pytest.raises(pact.PactExportError, match=r"no UN CPC Ver. 2.1 code .*'product-without-cpc-code' of rule "):
        pact_v2.footprint_v23(r)
    assert "productClassifications" not in pact.footprint_v3(r)  # v3 needs none: it is left out, never guessed


def test_the_v23_validator_is_not_vacuous(results, official_v2):
    r = next(iter(results.values()))
    broken = copy.deepcopy(pact_v2.footprint_v23(r))
    del broken["productCategoryCpc"]
    broken["pcf"]["declaredUnit"] = "tonne"  # not in v2.3's enum
    broken["version"] = -1
    found = errors(official_v2, broken)
    assert any("productCategoryCpc" in e for e in found) and any(e.startswith("pcf/declaredUnit") for e in found)
    assert any(e.startswith("version") for e in found)
    assert pact_v2.problems_v23(broken) and not pact_v2.problems_v23(pact_v2.footprint_v23(r))


def test_every_cpc_code_is_well_formed_and_names_a_product_of_a_shipped_rule_and_its_source():
    shipped = set()
    for f in (ROOT / "standards").glob("*/pcr-*.yaml"):
        rule = yaml.safe_load(f.read_text(encoding="utf-8"))
        shipped |= {(rule["rule_set"]["id"], p["id"]) for p in rule["products"]}
    assert set(CODES) <= shipped, sorted(set(CODES) - shipped)
    assert shipped <= set(CODES), f"products without a CPC code: {sorted(shipped - set(CODES))}"
    for c in CPC["codes"]:
        assert re.fullmatch(r"\d{5}", c["cpc"]) and c["title"].strip() == c["title"] and c["title"], c
        # the source names the subclass it was read as, and where: a package file or an address
        assert c["cpc"] in c["source"] and ("tree_cpc_2_1.csv" in c["source"] or "https://" in c["source"]), c
    titles = {}
    for c in CPC["codes"]:
        titles.setdefault(c["cpc"], set()).add(c["title"])
    assert all(len(t) == 1 for t in titles.values()), titles
    assert pact_v2.cpc_codes() and set(pact_v2.cpc_codes()) == set(CODES)


@pytest.mark.parametrize("change, message", [
    (lambda c: c[1].update(title="Another title"), "one title per CPC code, found several for 37440"),
    (lambda c: c[1].update(cpc="3744"), "codes[1].cpc: found '3744'; expected text matching"),
    (lambda c: c.append(dict(c[0])), "one code per rule product, found several for cn-pcr-cement/clinker"),
])
def test_a_bad_cpc_table_is_refused_naming_the_file_and_what_is_wrong(tmp_path, change, message):
    table = copy.deepcopy(CPC)
    change(table["codes"])
    bad = tmp_path / "cpc-bad.yaml"
    bad.write_text(yaml.safe_dump(table, allow_unicode=True), encoding="utf-8")
    with pytest.raises(cpc.CpcError, match="cpc-bad.yaml") as err:
        cpc.cpc_codes(bad)
    assert message in str(err.value)


def test_write_result_writes_v23_or_the_reason(tmp_path, results):
    with_code = next(iter(results.values()))
    write_result(json.loads(with_code.model_dump_json()), tmp_path / "a")
    assert json.loads((tmp_path / "a" / "pact-v2.3.json").read_text())["productCategoryCpc"] == CODES[_key(with_code)]
    write_result(_without_code(results), tmp_path / "b")
    assert not (tmp_path / "b" / "pact-v2.3.json").exists()
    assert "productCategoryCpc" in (tmp_path / "b" / "pact-v2.3.json.refused.txt").read_text()
    assert (tmp_path / "b" / "pact-v3.0.3.json").is_file()  # v3 needs no CPC code
