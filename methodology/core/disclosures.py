"""What a result discloses besides the footprint: direct emissions by mechanism, and the carbon in the product.

Pure functions over a built foreground (no Brightway): the figures ``result.json`` reports so that a verifier can
see which mechanism (and which PFC method or measured value) produced each process's direct emissions, and how
much carbon the declared product carries out of the gate (ISO 14067:2018 6.4.9.2; PACT's fossil and biogenic
carbon content).
"""

from __future__ import annotations

import math

from methodology.core.foreground import Foreground, combustion_terms
from methodology.gases import C_TO_CO2
from methodology.schema.factors import FactorSet
from methodology.schema.parameters import EnterpriseData


def _plain(value):
    """JSON-ready copy of a mechanism's detail (floats rounded to 6 decimals, enums as values)."""
    if isinstance(value, dict):
        return {str(getattr(k, "value", k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return getattr(value, "value", value)


def direct_emissions_by_mechanism(fg: Foreground) -> list[dict]:
    """Per process and mechanism (rule order): annual kg of each gas and what the mechanism used."""
    out = []
    for p in fg.processes.values():
        for r in p.mechanisms:
            out.append({"process": p.id, "mechanism": r.type, "label": r.label,
                        "kg_per_year": {g.value: round(kg, 6) for g, kg in r.kg.items()},
                        "detail": _plain(dict(r.detail))})
    return out


def product_carbon(ed: EnterpriseData, fg: Foreground, fs: FactorSet) -> dict:
    """kg of carbon in one declared unit of the product leaving the gate, split fossil / biogenic.

    The carbon content is the enterprise's measured value for the output where the rule allows it, else the
    product's carbon factor in the factor set; the biogenic share is that factor's.
    """
    rule = ed.rule
    out = rule.declared_output(fg.product)
    final = rule.declared_product(fg.product).final_process
    d = ed.data.get((final, out.key))
    factor_id = rule.product_by_id[out.product].carbon_factor
    factor = fs.get(factor_id) if factor_id else None
    if d is not None and d.carbon_kg_per_unit is not None:
        per_unit, basis = d.carbon_kg_per_unit, "measured by the enterprise"
    elif factor is not None and factor.carbon_kg(rule.carbon_accounting.content_basis) is not None:
        per_unit = factor.carbon_kg(rule.carbon_accounting.content_basis)
        basis = f"factor {factor.id} ({factor.carbon_basis(rule.carbon_accounting.content_basis)})"
    else:
        per_unit, basis = 0.0, "no carbon content known for the product"
    bio = factor.biogenic_share() if factor is not None else 0.0
    carbon = per_unit * fg.demand
    bound = rule.carbon_accounting.bound_co2
    bound_kg = carbon * C_TO_CO2 if bound is not None and out.product in bound.products else None
    return {"fossil_kg_c": round(carbon * (1 - bio), 6), "biogenic_kg_c": round(carbon * bio, 6), "basis": basis,
            "bound_co2_kg": None if bound_kg is None else round(bound_kg, 6),
            "bound_co2_treatment": None if bound_kg is None else bound.treatment.value}


def per_component(components, declared_kg: float, total: float, excluding_biogenic: float) -> list[dict]:
    """The footprint per kg of each declared component: total / (content x kg of product per declared unit).

    ``components``: the declared product's components with the contents that apply (``schema.components``);
    ``declared_kg``: kg of product in one declared unit. E.g. urea (46.6 % N) at 3,000 kg CO2e/t: 3,000 / 466 =
    6.4 kg CO2e per kg N. The same footprint divided, not allocated among the components.
    """
    out = []
    for c in components:
        kg = c.fraction * declared_kg
        out.append({"id": c.id, "name": c.name, "content": round(c.fraction, 6), "content_source": c.source,
                    "content_origin": c.origin, "kg_per_declared_unit": round(kg, 6),
                    "kg_co2e_per_kg": round(total / kg, 6),
                    "kg_co2e_per_kg_excluding_biogenic": round(excluding_biogenic / kg, 6)})
    return out


def energy_per_unit(ed: EnterpriseData, fs: FactorSet, pid: str) -> list[dict]:
    """Per carbon-bearing input of one process with a net calorific value (feedstocks and fuels alike): GJ per unit
    of the process's reference product, the enterprise's measured NCV replacing the factor's; the total fuel
    requirement IPCC 2006 Vol. 3 Table 3.1 tabulates per t of ammonia is their sum."""
    spec = ed.rule.process_by_id[pid]
    made = ed.amount(pid, spec.reference.key)
    out = []
    for f in spec.inputs:
        q = ed.amount(pid, f.key)
        terms = combustion_terms(ed, fs, pid, f) if q and made else None
        if terms is not None:
            out.append({"input": f.key, "name": f.name, "GJ per unit": q * terms[0] / made,
                        "per": f"{spec.reference.unit} {spec.reference.product}"})
    return out
