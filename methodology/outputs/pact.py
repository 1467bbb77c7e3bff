"""The result as a PACT ProductFootprint (WBCSD PACT Technical Specifications v3.0.3), for customers' systems.

A pure mapping from a ``core.result.Result`` (or its JSON content) to the spec's ``ProductFootprint``; the field
names are PACT's and appear only here. The official OpenAPI document ships in ``standards/pact/`` and every
footprint written is validated against its ``ProductFootprint`` component before it is written
(``validate_v3``), so a file that leaves the workbench is schema-valid or is not written.

Mapping choices (decision record ``docs/decisions/0012-pact-export.md``):

- ``id`` is a UUID derived from what the footprint depends on (enterprise, product, family, reference period,
  the rule's, factor set's and parameter file's sha256): the same inputs give the same id, and any change gives a
  new one, as PACT v3 asks of an edited footprint.
- Totals follow the spec's formulas: ``pcfExcludingBiogenicUptake`` = fossil + land-use change + biogenic
  non-CO2 emissions; ``pcfIncludingBiogenicUptake`` adds ``biogenicCO2Uptake``, the CO2 equivalent of the biogenic
  carbon in the product at the gate (negative). Biogenic CO2 of burned biomass and its uptake (which cancel in
  the workbench's total) are not PACT terms; they are stated in ``comment``.
- Co-product credits of a rule's system expansion are in the fossil figure, as in the result's total, and said
  in ``allocationRulesDescription``; a fossil figure below zero cannot be a PACT footprint and is refused.
- ``exemptedEmissionsPercent`` is the rule's cut-off ceiling (an upper bound; the exempted inputs are not
  quantified), said so in ``exemptedEmissionsDescription``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from pathlib import Path
from typing import Any

import yaml

from methodology.core.result import Result, as_json
from methodology.errors import MethodologyError
from methodology.outputs.cpc import classification_urns
from methodology.units import UnitParseError, conversion_factor

SPEC_VERSION = "3.0.3"
SPEC_FILE = Path(__file__).resolve().parents[2] / "standards" / "pact" / "spec" / f"pact-openapi-v{SPEC_VERSION}.yaml"
FILE_NAME = f"pact-v{SPEC_VERSION}.json"
URN_PREFIX = "urn:pact:pcf-workbench"
NAMESPACE = uuid.UUID("6f1c2b1e-3f3a-5d2e-9a55-0c8b1c7e2a10")  # fixed: ids stay stable across releases
KG_CO2_PER_KG_C = 44.009 / 12.011


class PactExportError(MethodologyError):
    """A result that cannot be expressed as a PACT footprint (the reason says why)."""


def _dec(x: float, places: int = 3) -> str:
    """A PACT decimal string (no exponent, no negative zero)."""
    s = f"{round(float(x), places):.{places}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _instant(day: dt.date) -> str:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def footprint_id(r: dict) -> str:
    """The footprint's UUID: a function of everything the figures depend on (see the module docstring)."""
    p = r["provenance"]
    key = "|".join([r["enterprise"]["id"], r["product"]["id"], (r.get("product_family") or {}).get("id") or "",
                    str(r["reference_period"]["start"]), str(r["reference_period"]["end"]),
                    p["rule_set"]["sha256"], p["factor_set"]["sha256"], p["parameter_file"]["sha256"]])
    return str(uuid.uuid5(NAMESPACE, key))


def _declared_unit(r: dict) -> tuple[str, str, str]:
    """(declaredUnitOfMeasurement, declaredUnitAmount, productMassPerDeclaredUnit) for a mass declared unit."""
    du = r["declared_unit"]
    try:
        kg = du["amount"] * conversion_factor(du["unit"], "kg")
    except UnitParseError as exc:
        raise PactExportError(f"declared unit {du['amount']} {du['unit']}: only a mass declared unit is exported "
                              "to PACT (kilogram, with the product mass per declared unit)") from exc
    return "kilogram", _dec(kg), _dec(kg)


def _geography(r: dict) -> dict[str, str]:
    e = r["enterprise"]
    if e.get("subdivision"):
        return {"geographyCountrySubdivision": e["subdivision"]}
    return {"geographyCountry": e["country"]} if e.get("country") else {}


def _biogenic(r: dict) -> tuple[float, float, float]:
    """(biogenic non-CO2 emissions, biogenic CO2 of the product's carbon (<= 0), biogenic CO2 of burned biomass),
    kg CO2e per declared unit."""
    gas = r["gas_mass_kg"]
    bio_co2_net = gas.get("co2_biogenic", 0.0) - gas.get("co2_uptake", 0.0)
    non_co2 = max(r["gwp100_kg_co2e"]["biogenic"] - bio_co2_net, 0.0)
    uptake = -r["product_carbon"]["biogenic_kg_c"] * KG_CO2_PER_KG_C
    return non_co2, uptake, gas.get("co2_biogenic", 0.0)


def _texts(r: dict) -> dict[str, str]:
    s = r["scope"]
    stages = ", ".join(f"{x['name']} ({x['total']:.1f} kg CO2e)" for x in r["by_stage"])
    processes = ", ".join(x["name"] for x in r["by_process"])
    alloc = (f"Rule approach for co-products: {s['coproducts'].replace('_', ' ')}"
             + (f"; co-product credits {r['gwp100_kg_co2e']['credits']:.1f} kg CO2e per declared unit are included "
                "in the fossil figure (system expansion by the rule, which follows a sector rule)"
                if r["gwp100_kg_co2e"]["credits"] else "")
             + (f"; end of life: {s['end_of_life']['approach'].replace('_', '-')} approach for recycled inputs"
                if s.get("end_of_life") else "") + ".")
    not_counted = "; ".join(f"{x['what']} ({x['why']})" for x in s["not_counted"])
    exempted = (f"Upper bound set by the rule's cut-off, not a quantified share: {s['cut_off']}."
                + (f" Not quantified inside the boundary: {not_counted}." if not_counted else ""))
    return {"boundaryProcessesDescription": f"Cradle to gate. Stages: {stages}. Processes: {processes}.",
            "allocationRulesDescription": alloc, "exemptedEmissionsDescription": exempted}


def _comment(r: dict, burned_bio: float) -> str:
    p = r["provenance"]
    parts = [f"Computed by PCF Workbench under product category rule {p['rule_set']['id']} {p['rule_set']['version']}"
             f" (sha256 {p['rule_set']['sha256'][:12]}) with factor set {p['factor_set']['id']} "
             f"{p['factor_set']['version']} (sha256 {p['factor_set']['sha256'][:12]}), ISO 14067:2018 and "
             "GB/T 24067-2024.",
             f"{r['traceability']['verified_share'] * 100:.0f} % of the absolute contributions rest on factors "
             "whose sources were checked against their documents."]
    if burned_bio:
        parts.append(f"Biogenic CO2 of burned biomass ({burned_bio:.1f} kg per declared unit) and the CO2 its "
                     "growth took up are reported apart in the workbench result and are in neither PACT total.")
    if r["enterprise"]["illustrative"]:
        parts.append("ILLUSTRATIVE: fictional enterprise and data, not a footprint of a real product.")
    return " ".join(parts)


def footprint_v3(result: Result | dict) -> dict[str, Any]:
    """The result as a PACT v3.0.3 ``ProductFootprint`` (a JSON-ready dict; not yet validated)."""
    r = json.loads(json.dumps(as_json(result), default=str))
    g = r["gwp100_kg_co2e"]
    if g["fossil"] < 0:
        raise PactExportError(f"fossil emissions {g['fossil']:.3f} kg CO2e per declared unit are below zero "
                              "(credits exceed the emissions): PACT's fossilGhgEmissions must be >= 0")
    unit, amount, mass = _declared_unit(r)
    non_co2, uptake, burned = _biogenic(r)
    excl = g["fossil"] + g["land_use"] + non_co2
    period = r["reference_period"]
    pcf = {
        "declaredUnitOfMeasurement": unit, "declaredUnitAmount": amount, "productMassPerDeclaredUnit": mass,
        "referencePeriodStart": _instant(dt.date.fromisoformat(period["start"])),
        "referencePeriodEnd": _instant(dt.date.fromisoformat(period["end"]) + dt.timedelta(days=1)),  # exclusive
        **_geography(r),
        "pcfExcludingBiogenicUptake": _dec(excl), "pcfIncludingBiogenicUptake": _dec(excl + uptake),
        "fossilCarbonContent": _dec(r["product_carbon"]["fossil_kg_c"]),
        "biogenicCarbonContent": _dec(r["product_carbon"]["biogenic_kg_c"]),
        "fossilGhgEmissions": _dec(g["fossil"]), "landUseChangeGhgEmissions": _dec(g["land_use"]),
        "biogenicCO2Uptake": _dec(uptake), "biogenicNonCO2Emissions": _dec(non_co2),
        "packagingEmissionsIncluded": False, "ccsTechnologicalCO2CaptureIncluded": False,
        "ipccCharacterizationFactors": ["AR6"], "crossSectoralStandards": ["ISO14067"],
        "productOrSectorSpecificRules": [{"operator": "Other", "otherOperatorName": "PCF Workbench",
                                          "ruleNames": [f"{r['provenance']['rule_set']['id']} "
                                                        f"{r['provenance']['rule_set']['version']}"]}],
        "exemptedEmissionsPercent": _dec(r["scope"]["cut_off_max_share"] * 100, 2),
        **_texts(r),
        "secondaryEmissionFactorSources": [{"name": r["provenance"]["factor_set"]["id"],
                                            "version": r["provenance"]["factor_set"]["version"]}],
        "primaryDataShare": _dec(r["data_quality"]["primary_data_share"] * 100, 1),
        "dqi": {k: _dec(v, 2) for k, v in r["data_quality"]["pact_dqr"].items()},
    }
    e, product, family = r["enterprise"], r["product"], r.get("product_family")
    product_urn = f"{URN_PREFIX}:product-id:{e['id']}:{product['id']}" + (f":{family['id']}" if family else "")
    classes = classification_urns(r["provenance"]["rule_set"]["id"], product["id"])
    return {
        "id": footprint_id(r), "specVersion": SPEC_VERSION,
        "created": dt.datetime.fromisoformat(r["provenance"]["generated_at"]).astimezone(dt.UTC)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": "Active", "companyName": e["name"], "companyIds": [f"{URN_PREFIX}:company-id:{e['id']}"],
        "productDescription": f"{product['name']}" + (f", {family['name']}" if family else "")
        + f"; route: {r['route']['name']}; {r['declared_unit']['description']}",
        "productIds": [product_urn], **({"productClassifications": classes} if classes else {}),
        "productNameCompany": product["name"] + (f" {family['name']}" if family else ""),
        "comment": _comment(r, burned), "pcf": pcf,
    }


@functools.cache
def spec_validator(spec_file: Path, component: str = "ProductFootprint"):
    """A JSON Schema 2020-12 validator of one component of an official PACT OpenAPI document."""
    import jsonschema

    doc = yaml.safe_load(Path(spec_file).read_text(encoding="utf-8"))
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"],
              "$ref": f"#/components/schemas/{component}"}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def problems(footprint: dict, spec_file: Path) -> list[str]:
    """Where a footprint breaks the ``ProductFootprint`` schema of ``spec_file``: '<path>: <message>' each."""
    return [f"{'/'.join(str(x) for x in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(spec_validator(spec_file).iter_errors(footprint),
                            key=lambda e: list(map(str, e.absolute_path)))]


def problems_v3(footprint: dict) -> list[str]:
    """Where a footprint breaks the official v3.0.3 ``ProductFootprint`` schema: '<path>: <message>' each."""
    return problems(footprint, SPEC_FILE)


def checked(footprint: dict, spec_file: Path, version: str) -> dict[str, Any]:
    """``footprint`` when it validates against the official schema of ``spec_file``; else refused, every place
    it breaks the schema named."""
    found = problems(footprint, spec_file)
    if found:
        raise PactExportError(f"PACT footprint does not validate against the v{version} schema: " + "; ".join(found))
    return footprint


def validated_v3(result: Result | dict) -> dict[str, Any]:
    """``footprint_v3`` checked against the official schema; a footprint that breaks it is refused."""
    return checked(footprint_v3(result), SPEC_FILE, "3.0.3")
