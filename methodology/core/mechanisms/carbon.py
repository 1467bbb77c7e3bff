"""Mechanisms that follow carbon: the carbon balance, fuel combustion and CO2 transferred out of a process."""

from __future__ import annotations

from methodology.core.balances import CarbonBalance, combustion_co2_kg
from methodology.core.mechanisms.base import MechanismResult, ProcessData
from methodology.errors import CalculationError
from methodology.gases import C_TO_CO2, Gas
from methodology.schema import mechanisms as m

UNOXIDISED = "unoxidised carbon (residues)"


def _split_biogenic(co2_kg: float, biogenic_share: float) -> dict[Gas, float]:
    out = {}
    if co2_kg and biogenic_share < 1:
        out[Gas.co2_fossil] = co2_kg * (1 - biogenic_share)
    if co2_kg and biogenic_share > 0:
        out[Gas.co2_biogenic] = co2_kg * biogenic_share
    return out


def carbon_balance(spec: m.CarbonBalance, p: ProcessData) -> MechanismResult:
    """CO2 = (carbon in - carbon out) x 44/12: IPCC 2006 Vol. 3 Ch. 4, Eq. 4.9-4.11 (Tier 2 mass balance).

    Carbon entering in materials, fuels, intermediates and process gases that does not leave in products,
    by-product gases or residues is emitted as CO2; flows in ``exclude`` are left out (another mechanism
    counts them). Where the rule's ``carbon_accounting.oxidation`` is ``factor``, the unoxidised share of each
    input with an oxidation rate (``p.oxidation``) leaves as a residue instead of being emitted. A balance more
    negative than the rule's carbon tolerance is an error (outputs carrying more carbon than entered); within
    it, it is clipped to zero.
    """
    inputs = {k: c for k, c in p.carbon_in.items() if k not in spec.exclude}
    outputs = {k: c for k, c in p.carbon_out.items() if k not in spec.exclude}
    unoxidised = sum(c * (1.0 - p.oxidation[k]) for k, c in inputs.items() if k in p.oxidation)
    if unoxidised:
        outputs[UNOXIDISED] = unoxidised  # stays in ash, slag or dust (the rule's oxidation: factor)
    biogenic_in = sum(c * p.biogenic.get(k, 0.0) for k, c in inputs.items())
    balance = CarbonBalance(p.process, inputs, outputs, biogenic_in)
    if balance.emitted < -p.carbon_tolerance * balance.carbon_in:
        raise CalculationError(
            f"process '{p.process}': carbon leaving in products and gases ({balance.carbon_out:.6g} kg C) "
            f"exceeds carbon entering ({balance.carbon_in:.6g} kg C) by more than {p.carbon_tolerance:.0%}: "
            "check carbon-bearing inputs and outputs")
    co2 = max(balance.emitted, 0.0) * C_TO_CO2
    detail = {"carbon_in_kg": balance.carbon_in, "carbon_out_kg": balance.carbon_out}
    if unoxidised:
        detail["unoxidised_kg"] = unoxidised
    return MechanismResult("carbon_balance", _split_biogenic(co2, balance.biogenic_share), "carbon balance",
                           carbon=balance, detail=detail)


def combustion(spec: m.Combustion, p: ProcessData) -> MechanismResult:
    """CO2 = sum of FC x NCV x CC x OF x 44/12 over the fuels burned.

    The emission-factor method of the Chinese enterprise GHG accounting guidelines (e.g. GB/T 32151.5-2015 and
    the NDRC 2013 iron and steel guideline, fuel combustion: AD = FC x NCV, EF = CC x OF x 44/12). With
    ``oxidation: complete`` the oxidation rate is 1 (all carbon oxidised, as a carbon balance assumes).
    """
    kg: dict[Gas, float] = {}
    detail = {}
    for key in spec.fuels:
        q = p.amount(key)
        if q == 0:
            continue
        terms = p.combustion.get(key)
        if terms is None:
            raise CalculationError(f"process '{p.process}': fuel '{key}' has no net calorific value and carbon "
                                   "content to burn it by (factor set or measured)")
        ncv, cpe, of = terms
        of = 1.0 if spec.oxidation is m.Oxidation.complete else of
        co2 = combustion_co2_kg(q, ncv, cpe, of)
        for gas, v in _split_biogenic(co2, p.biogenic.get(key, 0.0)).items():
            kg[gas] = kg.get(gas, 0.0) + v
        detail[key] = {"amount": q, "ncv_gj_per_unit": ncv, "carbon_kg_per_gj": cpe, "oxidation": of,
                       "co2_kg": co2, "biogenic_share": p.biogenic.get(key, 0.0)}
    return MechanismResult("combustion", kg, "fuel combustion (NCV x CC x OF)", detail=detail)


def co2_transfer(spec: m.CO2Transfer, p: ProcessData) -> MechanismResult:
    """CO2 leaving the process in ``output`` (captured, e.g. for urea) is not emitted here: -1 x that mass.

    Reported as transferred (ISO 14067:2018 6.4.9.2 on carbon transferred in products); the receiving process
    accounts for it. The output's unit must be a mass of CO2.
    """
    from methodology.units import conversion_factor

    co2 = p.amount(spec.output) * conversion_factor(p.unit(spec.output), "kg")
    return MechanismResult("co2_transfer", {Gas.co2_fossil: -co2} if co2 else {}, f"CO2 transferred ({spec.output})",
                           detail={"transferred_co2_kg": co2})
