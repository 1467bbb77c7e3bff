"""Per-output process emission factors with abatement, and PFCs from anode effects (IPCC 2006 Vol. 3 Ch. 3-4)."""

from __future__ import annotations

from methodology.core.mechanisms.base import MechanismResult, ProcessData
from methodology.errors import CalculationError
from methodology.gases import Gas
from methodology.schema import mechanisms as m
from methodology.schema.factors import FactorSet
from methodology.units import conversion_factor


def abated(ef: float, output: float, *, destruction: float = 0.0, utilisation: float = 1.0) -> float:
    """E = EF x P x (1 - DF x ASUF): IPCC 2006 Vol. 3 Ch. 3, Eq. 3.6 (N2O from nitric acid production;
    Eq. 3.8 has the same form for adipic acid). DF destruction factor, ASUF abatement system utilisation."""
    if not (0 <= destruction <= 1 and 0 <= utilisation <= 1):
        raise CalculationError(f"destruction {destruction} and utilisation {utilisation} must be in [0, 1]")
    return ef * output * (1 - destruction * utilisation)


def process_factor(spec: m.ProcessFactor, p: ProcessData, factors: FactorSet) -> MechanismResult:
    """kg of each gas of the factor per unit of the output, a measured value replacing the factor's ``gas``."""
    factor_id = spec.factor
    if factor_id is None:
        choice = str(p.parameter(spec.technology))
        factor_id = spec.factors.get(choice)
        if factor_id is None:
            raise CalculationError(f"process '{p.process}': no process factor for {spec.technology} '{choice}'")
    fac = factors.get(factor_id)
    unit = p.unit(spec.output)
    per_unit = conversion_factor(unit, fac.reference_unit)  # factor's reference units per unit of the output
    ef = {gas: kg * per_unit for gas, kg in fac.emissions_kg().items()}  # kg per unit of the output
    measured = p.parameter(spec.measured)
    if measured is not None:
        ef[spec.gas] = float(measured)
    destruction = p.number(spec.destruction, 0.0)
    utilisation = p.number(spec.utilisation, 1.0)
    q = p.amount(spec.output)
    kg = {gas: abated(v, q, destruction=destruction, utilisation=utilisation) for gas, v in ef.items()}
    detail = {"factor": factor_id, "ef_kg_per_unit": {g.value: v for g, v in ef.items()},
              "measured": measured is not None, "destruction": destruction, "utilisation": utilisation}
    return MechanismResult("process_factor", {g: v for g, v in kg.items() if v}, f"process emission ({factor_id})",
                           detail=detail)


def slope_pfc(*, slope_cf4: float, aem: float, c2f6_to_cf4: float) -> tuple[float, float]:
    """(kg CF4, kg C2F6) per t Al by the slope method: E_CF4 = S_CF4 x AEM x MP, E_C2F6 = E_CF4 x F_C2F6/CF4.

    IPCC 2006 Vol. 3 Ch. 4.4, Eq. 4.26 (Tier 2/3); S in (kg CF4/t Al)/(anode-effect minutes/cell-day), AEM in
    anode-effect minutes per cell-day (per t Al here, MP = 1).
    """
    cf4 = slope_cf4 * aem
    return cf4, cf4 * c2f6_to_cf4


def overvoltage_pfc(*, ovc_cf4: float, aeo_mv: float, ce_percent: float, c2f6_to_cf4: float) -> tuple[float, float]:
    """(kg CF4, kg C2F6) per t Al by the overvoltage method: E_CF4 = OVC x AEO / CE x MP.

    IPCC 2006 Vol. 3 Ch. 4.4, Eq. 4.27, in the form of Regulation (EU) No 601/2012 Annex IV section 8 B
    (calculation method B): OVC in (kg CF4/t Al)/mV, AEO the anode-effect overvoltage in mV, CE the current
    efficiency in percent.
    """
    if ce_percent <= 0:
        raise CalculationError(f"current efficiency {ce_percent} % must be positive")
    cf4 = ovc_cf4 * aeo_mv / ce_percent
    return cf4, cf4 * c2f6_to_cf4


def _coefficient(c, unit: str) -> float:
    return c.value * conversion_factor(c.unit, unit)


def anode_effect_pfc(spec: m.AnodeEffectPFC, p: ProcessData) -> MechanismResult:
    """CF4 and C2F6 from anode effects: the first method of ``spec.order`` whose data the enterprise gives.

    Slope (Eq. 4.26) with anode-effect minutes, overvoltage (Eq. 4.27) with overvoltage and current
    efficiency, else Tier 1 technology defaults (IPCC 2006 Vol. 3 Table 4.15: E = EF x MP).
    """
    tech = str(p.parameter(spec.technology))
    coeffs = spec.coefficients.get(tech)
    if coeffs is None:
        raise CalculationError(f"process '{p.process}': no PFC coefficients for cell technology '{tech}'")
    metal_t = p.amount(spec.output) * conversion_factor(p.unit(spec.output), "t")
    for method in spec.order:
        per_t = _pfc_per_t(method, spec, coeffs, p)
        if per_t is None:
            continue
        cf4, c2f6 = (v * metal_t for v in per_t)
        kg = {g: v for g, v in ((Gas.cf4, cf4), (Gas.c2f6, c2f6)) if v}
        return MechanismResult("anode_effect_pfc", kg, f"anode-effect PFCs ({method.value}, {tech})",
                               detail={"method": method.value, "technology": tech, "metal_t": metal_t,
                                       "cf4_kg_per_t": per_t[0], "c2f6_kg_per_t": per_t[1]})
    raise CalculationError(f"process '{p.process}': no PFC method of {[x.value for x in spec.order]} has its data")


def _pfc_per_t(method: m.PFCMethod, spec: m.AnodeEffectPFC, c: m.CellCoefficients,
               p: ProcessData) -> tuple[float, float] | None:
    if method is m.PFCMethod.slope:
        aem = p.parameter(spec.anode_effect_minutes)
        if aem is None or c.slope_cf4 is None or c.c2f6_to_cf4 is None:
            return None
        return slope_pfc(slope_cf4=c.slope_cf4.value, aem=float(aem), c2f6_to_cf4=c.c2f6_to_cf4.value)
    if method is m.PFCMethod.overvoltage:
        aeo, ce = p.parameter(spec.overvoltage), p.parameter(spec.current_efficiency)
        if aeo is None or ce is None or c.overvoltage_cf4 is None or c.c2f6_to_cf4 is None:
            return None
        return overvoltage_pfc(ovc_cf4=c.overvoltage_cf4.value, aeo_mv=float(aeo), ce_percent=100 * float(ce),
                               c2f6_to_cf4=c.c2f6_to_cf4.value)
    return _coefficient(c.tier1_cf4, "kg/t"), _coefficient(c.tier1_c2f6, "kg/t")
