"""The result as a PACT v2.3 ProductFootprint (WBCSD PACT Technical Specifications v2.3.3), beside the v3 one.

Built from the v3.0.3 footprint of ``outputs.pact`` (same id, texts and figures) in v2.3's vocabulary, and
validated against the ``ProductFootprint`` component of the official v2.3.3 OpenAPI document shipped in
``standards/pact/spec/`` before it is written. v2.3 requires ``productCategoryCpc``, a UN CPC code of the product:
it is read from ``standards/pact/cpc-v2.1.yaml`` by rule id and product id, where each code has its source; a
product without a recorded code is refused (``PactExportError``), never given a guessed one.

Figure mapping (v3 -> v2.3; decision record ``docs/decisions/0012-pact-export.md``): ``pCfExcludingBiogenic`` =
``pcfExcludingBiogenicUptake`` (fossil, land-use change and biogenic non-CO2: no biogenic CO2);
``pCfIncludingBiogenic`` = ``pcfIncludingBiogenicUptake``; ``dLucGhgEmissions`` = ``landUseChangeGhgEmissions``;
``otherBiogenicGhgEmissions`` = ``biogenicNonCO2Emissions``; ``biogenicCarbonWithdrawal`` = ``biogenicCO2Uptake``.
"""

from __future__ import annotations

import json
from typing import Any

from methodology.core.result import Result, as_json
from methodology.outputs import pact
from methodology.outputs.cpc import CPC_FILE, cpc_codes
from methodology.outputs.pact import PactExportError

SPEC_VERSION = "2.3.3"
SPEC_FILE = pact.SPEC_FILE.parent / f"pact-openapi-v{SPEC_VERSION}.yaml"
FILE_NAME = "pact-v2.3.json"
STANDARDS_V2 = {"ISO14067": "ISO Standard 14067", "ISO14040-44": "ISO Standard 14044",
                "GHGP-Product": "GHG Protocol Product standard"}  # crossSectoralStandards -> ...Used (deprecated)


def _number(text: str) -> float:
    return float(text)


def _pcf(p3: dict) -> dict[str, Any]:
    pcf = {
        "declaredUnit": p3["declaredUnitOfMeasurement"], "unitaryProductAmount": p3["declaredUnitAmount"],
        "productMassPerDeclaredUnit": p3["productMassPerDeclaredUnit"],
        "pCfExcludingBiogenic": p3["pcfExcludingBiogenicUptake"],
        "pCfIncludingBiogenic": p3["pcfIncludingBiogenicUptake"],
        "fossilGhgEmissions": p3["fossilGhgEmissions"], "fossilCarbonContent": p3["fossilCarbonContent"],
        "biogenicCarbonContent": p3["biogenicCarbonContent"], "dLucGhgEmissions": p3["landUseChangeGhgEmissions"],
        "otherBiogenicGhgEmissions": p3["biogenicNonCO2Emissions"],
        "biogenicCarbonWithdrawal": p3["biogenicCO2Uptake"],
        "characterizationFactors": p3["ipccCharacterizationFactors"][0],
        "ipccCharacterizationFactorsSources": p3["ipccCharacterizationFactors"],
        "crossSectoralStandardsUsed": [STANDARDS_V2[s] for s in p3["crossSectoralStandards"] if s in STANDARDS_V2],
        "crossSectoralStandards": p3["crossSectoralStandards"],
        "productOrSectorSpecificRules": p3["productOrSectorSpecificRules"],
        "boundaryProcessesDescription": p3["boundaryProcessesDescription"],
        "referencePeriodStart": p3["referencePeriodStart"], "referencePeriodEnd": p3["referencePeriodEnd"],
        "secondaryEmissionFactorSources": p3["secondaryEmissionFactorSources"],
        "exemptedEmissionsPercent": _number(p3["exemptedEmissionsPercent"]),
        "exemptedEmissionsDescription": p3["exemptedEmissionsDescription"],
        "packagingEmissionsIncluded": p3["packagingEmissionsIncluded"],
        "allocationRulesDescription": p3["allocationRulesDescription"],
        "primaryDataShare": _number(p3["primaryDataShare"]),
    }
    for key in ("geographyCountrySubdivision", "geographyCountry", "geographyRegionOrSubregion"):
        if key in p3:
            pcf[key] = p3[key]
    return pcf


def footprint_v23(result: Result | dict) -> dict[str, Any]:
    """The result as a PACT v2.3.3 ``ProductFootprint`` (a JSON-ready dict; not yet validated)."""
    r = json.loads(json.dumps(as_json(result), default=str))
    rule, product = r["provenance"]["rule_set"]["id"], r["product"]["id"]
    code = cpc_codes().get((rule, product))
    if code is None:
        raise PactExportError(f"no UN CPC Ver. 2.1 code is recorded for product {product!r} of rule {rule!r} in "
                              f"{CPC_FILE.relative_to(CPC_FILE.parents[2])}: PACT v2.3 requires productCategoryCpc, "
                              "and codes are added there with their source, never guessed")
    v3 = pact.footprint_v3(r)
    keep = ("id", "created", "status", "companyName", "companyIds", "productDescription", "productIds",
            "productClassifications", "productNameCompany", "comment")
    return {**{k: v3[k] for k in keep[:2]}, "specVersion": SPEC_VERSION, "version": 0,
            **{k: v3[k] for k in keep[2:] if k in v3}, "productCategoryCpc": code.cpc, "pcf": _pcf(v3["pcf"])}


def problems_v23(footprint: dict) -> list[str]:
    """Where a footprint breaks the official v2.3.3 ``ProductFootprint`` schema: '<path>: <message>' each."""
    return pact.problems(footprint, SPEC_FILE)


def validated_v23(result: Result | dict) -> dict[str, Any]:
    """``footprint_v23`` checked against the official v2.3.3 schema; a footprint that breaks it is refused."""
    return pact.checked(footprint_v23(result), SPEC_FILE, "2.3.3")
