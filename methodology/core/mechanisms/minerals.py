"""Calcination: CO2 released when carbonates are heated (IPCC 2006 Vol. 3 Ch. 2, Mineral Industry)."""

from __future__ import annotations

from methodology.core.mechanisms.base import MechanismResult, ProcessData
from methodology.gases import C_TO_CO2, Gas
from methodology.schema import mechanisms as m
from methodology.units import conversion_factor

# molar masses (g/mol): CO2 44.01, CaO 56.08, MgO 40.30 (IPCC 2006 Vol. 3 Ch. 2 uses 0.785 and 1.092)
CO2_PER_CAO = 44.01 / 56.08
CO2_PER_MGO = 44.01 / 40.30


def clinker_factor(*, cao: float, mgo: float = 0.0, cao_non_carbonate: float = 0.0,
                   mgo_non_carbonate: float = 0.0) -> float:
    """t CO2 per t clinker from its oxide contents (mass fractions).

    EF_cl = (CaO - CaO from non-carbonate sources) x 44.01/56.08 + (MgO - MgO non-carbonate) x 44.01/40.30:
    IPCC 2006 Vol. 3 Ch. 2, 2.2.1.2 (Tier 2 clinker emission factor, 0.785 x CaO content, with MgO where it
    comes from carbonates) and the GCCA/CSI Cement CO2 and Energy Protocol (clinker-based method).
    """
    return (cao - cao_non_carbonate) * CO2_PER_CAO + (mgo - mgo_non_carbonate) * CO2_PER_MGO


def kiln_dust_factor(ef_clinker: float, calcination: float) -> float:
    """t CO2 per t of kiln dust leaving the kiln system, from the clinker factor and the dust's calcination rate.

    EF_CKD = (EF_cl / (1 + EF_cl) x d) / (1 - EF_cl / (1 + EF_cl) x d): GCCA/CSI Cement CO2 and Energy Protocol
    (v3.1, 2011), CO2 from bypass dust and cement kiln dust leaving the kiln system; d = calcination rate.
    """
    x = ef_clinker / (1 + ef_clinker) * calcination
    return x / (1 - x)


def organic_carbon_co2(raw_meal_t: float, toc: float) -> float:
    """t CO2 from the organic carbon of the raw meal: raw meal x TOC x 44/12.

    GCCA/CSI Cement CO2 and Energy Protocol (v3.1, 2011), CO2 from organic carbon in raw materials: the total
    organic carbon (TOC) of the raw meal burns in the preheater and is emitted as CO2.
    """
    return raw_meal_t * toc * C_TO_CO2


def calcination(spec: m.Calcination, p: ProcessData) -> MechanismResult:
    """CO2 from calcination, on the oxides basis (output x EF_cl, plus kiln dust) or the carbonates basis.

    Oxides basis: EF_cl from the CaO and MgO contents (``clinker_factor``), or the rule's ``default_factor``
    (e.g. the GCCA/CSI default 525 kg CO2/t clinker) when the enterprise reports no CaO; plus kiln dust leaving
    the kiln system and the organic carbon of the raw meal where the rule names them.
    Carbonates basis: CO2 = sum of M_i x EF_i x F_i (IPCC 2006 Vol. 3 Ch. 2, Eq. 2.14, other process uses of
    carbonates), with EF_i = the carbonate's carbon content x 44/12 (t CO2 per t carbonate) and F_i the fraction
    calcined.
    """
    if spec.basis is m.CalcinationBasis.oxides:
        if p.parameter(spec.cao) is None and spec.default_factor is not None:
            ef = spec.default_factor.value * conversion_factor(spec.default_factor.unit, "t/t")
            basis = "default factor"
        else:
            ef = clinker_factor(cao=p.number(spec.cao), mgo=p.number(spec.mgo, 0.0),
                                cao_non_carbonate=p.number(spec.cao_non_carbonate, 0.0),
                                mgo_non_carbonate=p.number(spec.mgo_non_carbonate, 0.0))
            basis = "oxide contents"
        out_t = p.amount(spec.output) * conversion_factor(p.unit(spec.output), "t")
        dust_t = out_t * p.number(spec.kiln_dust, 0.0)
        ef_dust = kiln_dust_factor(ef, p.number(spec.kiln_dust_calcination, 0.0)) if dust_t else 0.0
        toc_t = 0.0
        if spec.raw_meal:
            meal_t = p.amount(spec.raw_meal) * conversion_factor(p.unit(spec.raw_meal), "t")
            toc_t = organic_carbon_co2(meal_t, p.number(spec.organic_carbon, 0.0))
        co2_t = out_t * ef + dust_t * ef_dust + toc_t
        detail = {"output_t": out_t, "ef_t_co2_per_t": ef, "ef_basis": basis, "kiln_dust_t": dust_t,
                  "ef_kiln_dust": ef_dust, "kiln_dust_co2_t": dust_t * ef_dust, "organic_carbon_co2_t": toc_t}
        return MechanismResult("calcination", {Gas.co2_fossil: co2_t * 1000} if co2_t else {},
                               f"calcination (oxides in {spec.output})", detail=detail)
    fraction = p.number(spec.calcination_fraction, 1.0)
    co2 = sum(p.carbon_in.get(k, 0.0) for k in spec.carbonates) * C_TO_CO2 * fraction
    return MechanismResult("calcination", {Gas.co2_fossil: co2} if co2 else {}, "calcination (carbonates fed)",
                           detail={"calcination_fraction": fraction, "carbonates": list(spec.carbonates)})
