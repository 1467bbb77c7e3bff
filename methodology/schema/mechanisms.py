"""Emission mechanisms as data: what a rule's process selects to produce its direct emissions.

Each mechanism is a strict model with a ``type`` discriminator. Its fields name flows of the process (``key``)
and process parameters (``parameters``, declared in the same process of the rule); the pure function that
implements it lives in ``core.mechanisms`` and cites its equation. Organised by chemistry, not by industry:

- ``carbon_balance``: carbon in minus carbon out, emitted as CO2 (IPCC 2006 Vol. 3 Ch. 4 Tier 2 logic);
- ``combustion``: fuel x NCV x carbon content x oxidation x 44/12 (the Chinese accounting-guideline method);
- ``calcination``: CO2 from the oxides in a product or from carbonate inputs (IPCC 2006 Vol. 3 Ch. 2);
- ``process_factor``: a per-output emission factor that a measured value may replace, with abatement
  (e.g. N2O from nitric and adipic acid, IPCC 2006 Vol. 3 Ch. 3);
- ``anode_effect_pfc``: CF4 and C2F6 from anode effects by the slope or overvoltage method, Tier 1 fallback
  (IPCC 2006 Vol. 3 Ch. 4.4);
- ``co2_transfer``: CO2 captured and sent to another process or product (e.g. urea), reported as transferred.

No Brightway and no maths here: this module only describes what a rule may ask for.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from methodology.gases import Gas
from methodology.schema.common import SNAKE, Strict, Unit
from methodology.units import convertible

Name = Annotated[str, Field(pattern=SNAKE)]


class Coefficient(Strict):
    """A sourced number a mechanism uses (a slope coefficient, a default factor), in the unit given."""

    value: float = Field(ge=0, allow_inf_nan=False)
    unit: Unit = ""
    source: str


class CarbonBalance(Strict):
    """All carbon entering the process that does not leave in a product, gas or residue is emitted as CO2.

    ``exclude`` lists flows whose carbon another mechanism of the process accounts for (e.g. fuels burned
    under ``combustion``), so that nothing is counted twice.
    """

    type: Literal["carbon_balance"]
    exclude: list[Name] = []


class Oxidation(StrEnum):
    factor = "factor"  # the fuel's oxidation rate (factor set, or measured)
    complete = "complete"  # all carbon oxidised (oxidation rate 1)


class Combustion(Strict):
    """CO2 of burning the listed fuels: amount x NCV x carbon per energy x oxidation x 44/12."""

    type: Literal["combustion"]
    fuels: list[Name] = Field(min_length=1, description="input flow keys (fuel or process_gas) burned")
    oxidation: Oxidation = Oxidation.factor


class CalcinationBasis(StrEnum):
    oxides = "oxides"  # from the CaO and MgO in a product (clinker, lime ...)
    carbonates = "carbonates"  # from the carbonates fed (limestone, dolomite)


class Calcination(Strict):
    """CO2 released when carbonates are calcined, by output oxides or by carbonate inputs.

    ``oxides``: ``output`` (e.g. clinker) with parameters for its CaO and MgO mass fractions and the shares of
    them that did not come from carbonates, and optionally cement kiln dust leaving the kiln. ``carbonates``:
    the carbonate inputs listed in ``carbonates`` with the fraction calcined (parameter, default 1).
    """

    type: Literal["calcination"]
    basis: CalcinationBasis
    output: Name | None = None
    cao: Name | None = None
    mgo: Name | None = None
    cao_non_carbonate: Name | None = None
    mgo_non_carbonate: Name | None = None
    kiln_dust: Name | None = Field(None, description="parameter: t of kiln dust leaving per t of output")
    kiln_dust_calcination: Name | None = Field(None, description="parameter: fraction of the dust calcined")
    default_factor: Coefficient | None = Field(
        None, description="t CO2 per t of output used when the enterprise reports no CaO content (e.g. the "
                          "GCCA/CSI default 525 kg CO2/t clinker); a reported CaO always replaces it")
    raw_meal: Name | None = Field(None, description="input flow key of the raw meal fed to the kiln")
    organic_carbon: Name | None = Field(
        None, description="parameter: total organic carbon (TOC) mass fraction of the raw meal, emitted as CO2")
    carbonates: list[Name] = []
    calcination_fraction: Name | None = None

    @model_validator(mode="after")
    def _basis_fields(self) -> Calcination:
        if self.basis is CalcinationBasis.oxides:
            if not (self.output and self.cao):
                raise ValueError("the oxides basis needs `output` (a product flow key) and `cao` (a parameter)")
            if self.carbonates or self.calcination_fraction:
                raise ValueError("`carbonates` and `calcination_fraction` belong to the carbonates basis")
            if bool(self.raw_meal) != bool(self.organic_carbon):
                raise ValueError("`raw_meal` (an input flow) and `organic_carbon` (a parameter) go together")
            if self.default_factor is not None and not convertible(self.default_factor.unit, "t/t"):
                raise ValueError(f"default_factor unit '{self.default_factor.unit}' is not a mass of CO2 per mass "
                                 "of output (t/t or kg/t)")
        else:
            if not self.carbonates:
                raise ValueError("the carbonates basis needs `carbonates` (carbonate input flow keys)")
            oxide_fields = [n for n in ("output", "cao", "mgo", "cao_non_carbonate", "mgo_non_carbonate",
                                        "kiln_dust", "kiln_dust_calcination", "default_factor", "raw_meal",
                                        "organic_carbon") if getattr(self, n)]
            if oxide_fields:
                raise ValueError(f"{oxide_fields} belong to the oxides basis")
        return self


class ProcessFactor(Strict):
    """A factor per unit of one output (kg of gas per unit), which a measured value may replace, abated.

    E = EF x output x (1 - destruction x utilisation) (IPCC 2006 Vol. 3 Ch. 3, Eq. 3.6 for N2O from nitric
    acid; the same form for adipic acid, Eq. 3.8). ``measured`` names a parameter that replaces the factor
    set's value of ``gas`` when the enterprise gives it.
    """

    type: Literal["process_factor"]
    factor: str | None = Field(None, description="id of a process_emission factor: kg of gas per unit of the "
                                                 "output (or `technology` with `factors`)")
    technology: Name | None = Field(None, description="choice parameter selecting the factor from `factors` (e.g. "
                                                      "the plant's pressure class or abatement technology)")
    factors: dict[str, str] = Field({}, description="{choice of `technology`: process_emission factor id}")
    output: Name | None = Field(None, description="output flow key; default: the reference product")
    measured: Name | None = Field(None, description="parameter: a measured factor replacing the default")
    gas: Gas | None = Field(None, description="the gas a measured value replaces (required with `measured`)")
    destruction: Name | None = Field(None, description="parameter: abatement destruction factor (0-1)")
    utilisation: Name | None = Field(None, description="parameter: abatement system utilisation (0-1)")

    @model_validator(mode="after")
    def _gas_with_measured(self) -> ProcessFactor:
        if (self.factor is None) == (self.technology is None) or bool(self.technology) != bool(self.factors):
            raise ValueError("give either `factor` or `technology` (a choice parameter) with `factors` "
                             "({choice: factor id})")
        if self.measured and self.gas is None:
            raise ValueError("`measured` needs `gas`: the gas whose factor the measured value replaces")
        if self.utilisation and not self.destruction:
            raise ValueError("`utilisation` needs `destruction`")
        return self

    def factor_ids(self) -> list[str]:
        """Every factor the mechanism may use (the one ``factor``, or each of ``factors``)."""
        return [self.factor] if self.factor else list(dict.fromkeys(self.factors.values()))


class PFCMethod(StrEnum):
    slope = "slope"
    overvoltage = "overvoltage"
    tier1 = "tier1"


class CellCoefficients(Strict):
    """PFC coefficients of one cell technology (IPCC 2006 Vol. 3 Tables 4.15 and 4.16, or later tables)."""

    slope_cf4: Coefficient | None = Field(None, description="(kg CF4/t Al) per (anode-effect min/cell-day)")
    overvoltage_cf4: Coefficient | None = Field(None, description="(kg CF4/t Al) per (mV/cell-day)")
    c2f6_to_cf4: Coefficient | None = Field(None, description="mass ratio C2F6/CF4 (kg/kg)")
    tier1_cf4: Coefficient | None = Field(None, description="kg CF4 per t Al")
    tier1_c2f6: Coefficient | None = Field(None, description="kg C2F6 per t Al")


class AnodeEffectPFC(Strict):
    """CF4 and C2F6 from anode effects in aluminium electrolysis, the first applicable method in ``order``.

    ``slope`` needs the anode-effect minutes per cell-day, ``overvoltage`` the anode-effect overvoltage and the
    current efficiency; ``tier1`` needs neither. ``technology`` is a choice parameter naming a key of
    ``coefficients``.
    """

    type: Literal["anode_effect_pfc"]
    output: Name | None = Field(None, description="output flow key of the metal; default: reference product")
    technology: Name
    anode_effect_minutes: Name | None = None
    overvoltage: Name | None = None
    current_efficiency: Name | None = None
    order: list[PFCMethod] = Field(default_factory=lambda: [PFCMethod.slope, PFCMethod.overvoltage,
                                                            PFCMethod.tier1], min_length=1)
    coefficients: dict[str, CellCoefficients] = Field(min_length=1)

    @model_validator(mode="after")
    def _inputs_for_methods(self) -> AnodeEffectPFC:
        if PFCMethod.slope in self.order and not self.anode_effect_minutes:
            raise ValueError("the slope method needs `anode_effect_minutes` (a parameter)")
        if PFCMethod.overvoltage in self.order and not (self.overvoltage and self.current_efficiency):
            raise ValueError("the overvoltage method needs `overvoltage` and `current_efficiency` (parameters)")
        need = {PFCMethod.slope: ("slope_cf4", "c2f6_to_cf4"), PFCMethod.overvoltage: ("overvoltage_cf4",
                "c2f6_to_cf4"), PFCMethod.tier1: ("tier1_cf4", "tier1_c2f6")}
        for tech, coeffs in self.coefficients.items():
            for method in self.order:
                missing = [n for n in need[method] if getattr(coeffs, n) is None]
                if missing and method is PFCMethod.tier1:
                    raise ValueError(f"coefficients.{tech}: the {method.value} method needs {missing}")
        return self


class CO2Transfer(Strict):
    """CO2 captured at this process and sent on in an output (to another process, e.g. urea, or sold).

    The CO2 in ``output`` (a mass of CO2) is not emitted here: it is subtracted from what the process's other
    CO2 mechanisms give, and reported as transferred. The receiving process accounts for it (its carbon
    balance sees the CO2 as a carbon input).
    """

    type: Literal["co2_transfer"]
    output: Name


Mechanism = Annotated[
    CarbonBalance | Combustion | Calcination | ProcessFactor | AnodeEffectPFC | CO2Transfer,
    Field(discriminator="type"),
]

# the model of each mechanism type, for messages and documentation
TYPES = {m.model_fields["type"].annotation.__args__[0]: m
         for m in (CarbonBalance, Combustion, Calcination, ProcessFactor, AnodeEffectPFC, CO2Transfer)}


def parameter_fields(m) -> dict[str, str]:
    """{field: parameter name} of the fields of a mechanism that name process parameters."""
    names = ("cao", "mgo", "cao_non_carbonate", "mgo_non_carbonate", "kiln_dust", "kiln_dust_calcination",
             "organic_carbon", "calcination_fraction", "measured", "destruction", "utilisation", "technology",
             "anode_effect_minutes", "overvoltage", "current_efficiency")
    return {n: getattr(m, n) for n in names if getattr(m, n, None)}


def flow_fields(m) -> dict[str, list[str]]:
    """{field: [flow keys]} of the fields of a mechanism that name flows of its process."""
    out: dict[str, list[str]] = {}
    for n in ("exclude", "fuels", "carbonates"):
        if getattr(m, n, None):
            out[n] = list(getattr(m, n))
    for n in ("output", "raw_meal"):
        if getattr(m, n, None):
            out[n] = [getattr(m, n)]
    return out
