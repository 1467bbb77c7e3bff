"""Validation cases: published reference values reproduced with the workbench's own machinery.

A case file (``standards/validation/<industry>.yaml``) lists cases, each with the published value (document,
table, year, unit, whether it was checked against the document), what the workbench computes for it, the
tolerance, and an explanation of any expected difference. What is computed is either an equation of the method
core (``function``: the pure functions the mechanisms use, with the case's inputs) or a figure of a shipped
enterprise's result (``enterprise``: a mechanism's emissions or a detail it records, per unit of a flow, or the
total), so the cases exercise the same code as every footprint. ``evaluate`` returns one row per case: the
published and computed values, the difference and whether it is within the tolerance. The validation notebooks
show them under nbval; the tests require every shipped case to pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from methodology.core.mechanisms import minerals, process
from methodology.errors import InputFileError
from methodology.schema.common import FileBacked, Strict
from methodology.schema.loading import model_loader

FUNCTIONS = {
    "clinker_factor": lambda i: minerals.clinker_factor(**i),
    "kiln_dust_factor": lambda i: minerals.kiln_dust_factor(**i),
    "organic_carbon_co2": lambda i: minerals.organic_carbon_co2(**i),
    "slope_pfc_cf4": lambda i: process.slope_pfc(**i)[0],
    "slope_pfc_c2f6": lambda i: process.slope_pfc(**i)[1],
}


class Published(Strict):
    value: float
    unit: str
    document: str
    table: str
    year: int
    verified: bool = False


class Enterprise(Strict):
    parameter_file: str = Field(description="relative to the repository root")
    process: str | None = None
    mechanism: str | None = None
    quantity: Literal["co2e", "detail", "total", "product_fossil_carbon"] = "co2e"
    detail: str | None = Field(None, description="a key of the mechanism's detail (quantity: detail)")
    per: str | None = Field(None, description="flow key of the process whose annual amount divides the figure")


class Case(Strict):
    id: str
    title: str
    published: Published
    function: str | None = None
    inputs: dict[str, float] = Field(default_factory=dict)
    enterprise: Enterprise | None = None
    scale: float = Field(1.0, description="multiplies the computed figure into the published unit")
    tolerance: float = Field(gt=0, description="relative tolerance")
    explanation: str


class Cases(FileBacked):
    validation: dict[str, str]
    cases: list[Case]


_load = model_loader(Cases, InputFileError)


def load_cases(path: str | Path) -> Cases:
    return _load(path)


def _enterprise_figure(e: Enterprise, root: Path, studies: dict) -> float:
    from methodology.schema.methods import gwp_indicators
    from methodology.study import Study

    if e.parameter_file not in studies:
        st = Study.prepare(root / e.parameter_file)
        studies[e.parameter_file] = (st, st.calculate_without_brightway())
    st, res = studies[e.parameter_file]
    if e.quantity == "total":
        return res.gwp100_kg_co2e.total
    if e.quantity == "product_fossil_carbon":  # kg C per declared unit (PACT fossilCarbonContent)
        return res.product_carbon.fossil_kg_c
    (m,) = [d for d in res.direct_emissions if d.process == e.process and d.mechanism == e.mechanism]
    if e.quantity == "detail":
        value = float(m.detail[e.detail])
    else:
        gwp = {g: sum(t.get(g, 0.0) for t in gwp_indicators().values()) for g in m.kg_per_year}
        value = sum(kg * gwp[g] for g, kg in m.kg_per_year.items())
    return value / st.enterprise.amount(e.process, e.per) if e.per else value


def evaluate(cases: Cases, root: Path) -> list[dict[str, Any]]:
    """One row per case: published and computed values (published unit), relative difference, within tolerance."""
    rows, studies = [], {}
    for c in cases.cases:
        if c.function is not None:
            computed = FUNCTIONS[c.function](c.inputs) * c.scale
        else:
            computed = _enterprise_figure(c.enterprise, root, studies) * c.scale
        diff = (computed - c.published.value) / c.published.value
        rows.append({"case": c.id, "published": c.published.value, "computed": computed, "unit": c.published.unit,
                     "difference": diff, "tolerance": c.tolerance, "within": abs(diff) <= c.tolerance,
                     "source": f"{c.published.document}, {c.published.table} ({c.published.year})"
                               + ("" if c.published.verified else " [not checked against the document]")})
    return rows
