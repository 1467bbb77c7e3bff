"""Unit processes of a product category rule: their flows, parameters, emission mechanisms and allocation.

Part of the rule schema (``schema.rules``): what a process makes and needs, in which units and plausible
ranges, which process parameters enterprises give, which mechanisms produce its direct emissions and how its
products share its burdens. Cross-checks that need the whole rule live in ``schema.rules``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Annotated

from pydantic import Field, model_validator

from methodology.schema.common import KEBAB, SNAKE, ClauseRef, Strict, Unit
from methodology.schema.mechanisms import (
    CalcinationBasis,
    CarbonBalance,
    Mechanism,
    flow_fields,
    parameter_fields,
)
from methodology.units import UnitParseError, conversion_factor, convertible, parse_unit


class FlowKind(StrEnum):
    """What an input or output of a unit process is, and so how it is linked and accounted."""

    material = "material"  # purchased; upstream burden from a factor; carbon from the factor
    fuel = "fuel"  # purchased fuel; as material, its carbon enters the balance
    intermediate = "intermediate"  # made by another process of the route, else purchased
    process_gas = "process_gas"  # a process gas (an intermediate product) burned here, from its maker
    grid_electricity = "grid_electricity"  # purchased from the grid: factor chosen by the rule
    product = "product"  # the reference product of the process
    coproduct = "coproduct"  # leaves the system: handled by the allocation approach
    gas_output = "gas_output"  # a process gas generated here: used on site, exported, or flared (emitted here)
    carbon_output = "carbon_output"  # a residue that carries carbon away (dust, tar) without burden


class AllocationApproach(StrEnum):
    """ISO 14044:2006 4.3.4.2: avoid allocation by system expansion, else partition by a physical relationship
    (mass, energy), else by economic value."""

    system_expansion = "system_expansion"
    mass = "mass"
    energy = "energy"
    economic = "economic"


class EnergyContent(Strict):
    """Energy per unit of a product, for energy allocation (a measured NCV of the output replaces it)."""

    value: float = Field(gt=0, allow_inf_nan=False)
    unit: Unit
    source: str


class ProcessAllocation(Strict):
    """The allocation approach of one multi-output process, where it differs from the rule's."""

    approach: AllocationApproach
    clause: list[ClauseRef]
    decision: str | None = Field(None, description="path of the decision record")


class Severity(StrEnum):
    """What leaving a plausible range means: the file is refused (error), or the run goes on and the value is
    listed for review in the result (warning)."""

    error = "error"
    warning = "warning"


class Plausible(Strict):
    """Plausible range of the specific amount: value per unit of the process's reference product."""

    min: float = Field(ge=0)
    max: float = Field(gt=0)
    unit: Unit
    source: str
    severity: Severity | None = Field(None, description="default: the rule's plausibility.outside_range")

    @model_validator(mode="after")
    def _ordered(self) -> Plausible:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class MeasuredProperty(StrEnum):
    """Properties of a flow an enterprise may measure, replacing the factor set's default."""

    carbon_content = "carbon_content"  # mass of carbon per unit of the flow
    net_calorific_value = "net_calorific_value"  # energy per unit of the flow
    # the supplier's cradle-to-gate footprint per unit of a purchased input (kg CO2e), replacing the factor's
    # upstream emissions: supplier-specific data (ISO 14067:2018 6.3.5)
    supplier_footprint = "supplier_footprint"


class ParameterDefault(Strict):
    value: Annotated[float, Field(allow_inf_nan=False)] | str
    source: str


class ParameterSpec(Strict):
    """A process parameter the rule declares (a composition, an efficiency, a technology), given per enterprise.

    Numeric parameters have a unit (any convertible unit is accepted in parameter files), an optional range
    and an optional default with its source; choice parameters list their ``choices``. A parameter with no
    default must be ``required`` unless no mechanism needs it.
    """

    name: str = Field(pattern=SNAKE)
    description: str
    unit: Unit = ""
    min: float | None = Field(None, allow_inf_nan=False)
    max: float | None = Field(None, allow_inf_nan=False)
    choices: list[str] | None = None
    default: ParameterDefault | None = None
    required: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ParameterSpec:
        if self.required and self.default is not None:
            raise ValueError("a required parameter has no default (drop `default` or `required`)")
        if self.choices is not None:
            if self.unit or self.min is not None or self.max is not None:
                raise ValueError("a choice parameter has no unit, min or max")
            if self.default is not None and self.default.value not in self.choices:
                raise ValueError(f"default {self.default.value!r} is not one of the choices {self.choices}")
            return self
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.default is not None:
            v = self.default.value
            if not isinstance(v, int | float):
                raise ValueError(f"default {v!r} of a numeric parameter must be a number")
            if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
                raise ValueError(f"default {v} is outside [{self.min}, {self.max}]")
        return self

    @property
    def is_choice(self) -> bool:
        return self.choices is not None


class FlowSpec(Strict):
    """One input or output of a unit process, as the rule asks enterprises to report it."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="parameter name in enterprise files")
    name: str
    kind: FlowKind
    unit: Unit = Field(description="unit the value is converted to; any convertible unit is accepted")
    factor: str | None = Field(None, description="factor id: upstream burden, carbon content")
    choice: str | None = Field(
        None, description="'<choice id>/<slot>' of the rule's factor_choices: the factor comes from the selected "
                          "option (given instead of `factor`)")
    product: str | None = Field(None, description="intermediate product id this input links to")
    required: bool = True
    primary_data_mandatory: bool = False
    plausible: Plausible | None = None
    transport: bool = Field(False, description="the enterprise may report inbound transport")
    coproduct: str | None = Field(None, description="co-product id (allocation table)")
    reference: bool = Field(False, description="the reference product of a process with several products")
    measured: list[MeasuredProperty] = Field(
        default_factory=list, description="properties an enterprise may give as plant values (IPCC Tier 2/3)")
    note: str | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> FlowSpec:
        needs_factor = {FlowKind.material, FlowKind.fuel, FlowKind.process_gas, FlowKind.gas_output}
        if self.kind in needs_factor and not (self.factor or self.choice):
            raise ValueError(f"a {self.kind.value} flow needs `factor` (a factor id)")
        if self.kind is FlowKind.intermediate and not self.product:
            raise ValueError("an intermediate flow needs `product` (an intermediate product id)")
        if self.kind in (FlowKind.process_gas, FlowKind.gas_output) and not self.product:
            raise ValueError(f"a {self.kind.value} flow needs `product` (the process gas, an intermediate product id: "
                             "its makers and users are linked through it)")
        if self.kind is FlowKind.coproduct and not self.coproduct:
            raise ValueError("a coproduct flow needs `coproduct` (an id in allocation.coproducts)")
        if self.kind is FlowKind.product and not self.product:
            raise ValueError("a product flow needs `product` (its intermediate product id)")
        return self


class ProcessSpec(Strict):
    """A unit process: what it makes, what it needs and how its direct emissions are found."""

    id: str = Field(pattern=KEBAB)
    name: str
    stage: str = Field(pattern=KEBAB)
    clause: list[ClauseRef]
    inputs: list[FlowSpec]
    outputs: list[FlowSpec]
    parameters: list[ParameterSpec] = Field(default_factory=list, description="process parameters")
    allocation: ProcessAllocation | None = Field(
        None, description="allocation among this process's products and co-products (default: the rule's)")
    emissions: list[Mechanism] = Field(description="the mechanisms that produce the direct emissions")
    description: str | None = None

    @model_validator(mode="after")
    def _supplier_values_on_purchases(self) -> ProcessSpec:
        bought = (FlowKind.material, FlowKind.fuel, FlowKind.intermediate)
        for f in self.outputs:
            if MeasuredProperty.supplier_footprint in f.measured:
                raise ValueError(f"output '{f.key}': supplier_footprint is for purchased inputs only")
        for f in self.inputs:
            if MeasuredProperty.supplier_footprint in f.measured and f.kind not in bought:
                raise ValueError(f"input '{f.key}' ({f.kind.value}): supplier_footprint is for purchased materials, "
                                 "fuels and intermediates only")
        return self

    @model_validator(mode="after")
    def _one_reference_product(self) -> ProcessSpec:
        products = [o for o in self.outputs if o.kind is FlowKind.product]
        if not products:
            raise ValueError("at least one output of kind product")
        flagged = [o.key for o in products if o.reference]
        if len(products) > 1 and len(flagged) != 1:
            raise ValueError(f"several products ({[o.key for o in products]}): mark exactly one `reference: true`, "
                             f"found {flagged or 'none'}")
        made = [o.product for o in products]
        if len(set(made)) != len(made):
            raise ValueError(f"process '{self.id}' makes the same intermediate product twice: {made}")
        keys = [f.key for f in self.inputs + self.outputs]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"parameter keys used twice in process '{self.id}': {dupes}")
        for f in self.inputs:
            if f.kind in (FlowKind.product, FlowKind.coproduct, FlowKind.gas_output, FlowKind.carbon_output):
                raise ValueError(f"input '{f.key}' has output kind '{f.kind.value}'")
        for f in self.outputs:
            if f.kind not in (FlowKind.product, FlowKind.coproduct, FlowKind.gas_output, FlowKind.carbon_output):
                raise ValueError(f"output '{f.key}' has input kind '{f.kind.value}'")
        names = [x.name for x in self.parameters]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"parameter names used twice in process '{self.id}': {dupes}")
        return self

    @cached_property
    def parameter_by_name(self) -> dict[str, ParameterSpec]:
        return {x.name: x for x in self.parameters}

    @cached_property
    def flow_by_key(self) -> dict[str, FlowSpec]:
        return {f.key: f for f in self.flows()}

    def mechanism_problems(self) -> list[tuple[str, str]]:
        """(field, problem) for mechanisms naming unknown flows or parameters, or counting carbon twice."""
        out: list[tuple[str, str]] = []
        counted: dict[str, str] = {}  # flow key -> the mechanism whose CO2 covers its carbon
        for i, m in enumerate(self.emissions):
            where = f"emissions[{i}] ({m.type})"
            for fld, keys in flow_fields(m).items():
                for key in keys:
                    out += [(f"{where}.{fld}", x) for x in self._flow_problem(m.type, fld, key)]
            for fld, name in parameter_fields(m).items():
                # a CaO content may be left unreported where the mechanism has a default factor to fall back on
                optional = fld == "cao" and getattr(m, "default_factor", None) is not None
                out += [(f"{where}.{fld}", x) for x in self._parameter_problem(fld, name, optional)]
            out += [(f"{where}.factors", x) for x in self._factor_choice_problem(m)]
            for key in _co2_flows(m):
                if key in counted:
                    out.append((where, f"the carbon of '{key}' is already counted by {counted[key]}: "
                                       "list it in carbon_balance.exclude or in one mechanism only"))
                counted[key] = where
        out += self._balance_overlaps(counted)
        return out

    def _factor_choice_problem(self, m) -> list[str]:
        """Every choice of a process factor's ``technology`` parameter has a factor in ``factors``."""
        spec = self.parameter_by_name.get(getattr(m, "technology", None) or "")
        if m.type != "process_factor" or spec is None or not spec.is_choice:
            return []
        missing = [c for c in spec.choices if c not in m.factors]
        return [f"no factor for the choices {missing} of parameter '{spec.name}'"] if missing else []

    def _flow_problem(self, mechanism: str, fld: str, key: str) -> list[str]:
        """A flow a mechanism names exists and is of a kind that field can use."""
        f = self.flow_by_key.get(key)
        if f is None:
            return [f"'{key}' is not a flow of process '{self.id}'"]
        kinds = FIELD_KINDS.get(fld)
        if kinds is not None and f.kind not in kinds:
            return [f"'{key}' is a {f.kind.value} flow; {mechanism}.{fld} takes {sorted(k.value for k in kinds)}"]
        if mechanism == "co2_transfer" and not convertible(f.unit, "kg"):
            return [f"'{key}' is measured in {f.unit}; the CO2 transferred must be a mass (t or kg of CO2)"]
        return []

    def _balance_overlaps(self, counted: dict[str, str]) -> list[tuple[str, str]]:
        """A carbon balance counts every carbon-bearing flow it does not exclude."""
        out = []
        for i, m in enumerate(self.emissions):
            if not isinstance(m, CarbonBalance):
                continue
            for key, other in counted.items():
                if other.startswith(f"emissions[{i}]") or key in m.exclude:
                    continue
                out.append((f"emissions[{i}] (carbon_balance).exclude",
                            f"'{key}' is counted by {other} and by the carbon balance: exclude it"))
            if any(getattr(x, "basis", None) is CalcinationBasis.oxides for x in self.emissions):
                out.append((f"emissions[{i}] (carbon_balance)", "calcination on the oxides basis cannot be "
                            "combined with a carbon balance (the carbonate inputs would count twice)"))
        return out

    def _parameter_problem(self, fld: str, name: str, optional: bool = False) -> list[str]:
        spec = self.parameter_by_name.get(name)
        if spec is None:
            return [f"'{name}' is not a parameter of process '{self.id}' (declare it under parameters)"]
        if fld in NEEDS_VALUE and not optional and not (spec.required or spec.default is not None):
            return [f"parameter '{name}' must be required or have a default: the mechanism cannot work without it"]
        if fld == "technology":
            return [] if spec.is_choice else [f"parameter '{name}' must be a choice parameter (choices: [...])"]
        if spec.is_choice:
            return [f"parameter '{name}' must be numeric, not a choice"]
        unit = PARAMETER_UNITS.get(fld)
        if fld == "measured":
            return []  # kg of gas per unit of the output: checked against the output's unit by the rule
        if unit is None:
            return []
        try:
            conversion_factor(spec.unit, unit)
        except UnitParseError:
            return [f"parameter '{name}' has unit '{spec.unit}', expected one convertible to '{unit}'"]
        if unit != "" and parse_unit(spec.unit) == parse_unit(""):
            return [f"parameter '{name}' needs an explicit unit convertible to '{unit}', not a bare number"]
        return []

    @cached_property
    def reference(self) -> FlowSpec:
        products = self.products
        return next((o for o in products if o.reference), products[0])

    @cached_property
    def products(self) -> tuple[FlowSpec, ...]:
        """Every output of kind product (made for use in the route or as a declared product), reference first."""
        out = [o for o in self.outputs if o.kind is FlowKind.product]
        return tuple(sorted(out, key=lambda o: not o.reference))

    @cached_property
    def burned(self) -> frozenset[str]:
        """Keys of the fuels a combustion mechanism of the process burns."""
        return frozenset(k for m in self.emissions for k in getattr(m, "fuels", ()))

    def flows(self) -> list[FlowSpec]:
        return self.inputs + self.outputs


# unit each parameter-naming field of a mechanism expects (convertible units are accepted)
PARAMETER_UNITS = {
    "cao": "", "mgo": "", "cao_non_carbonate": "", "mgo_non_carbonate": "", "kiln_dust": "",
    "kiln_dust_calcination": "", "organic_carbon": "", "calcination_fraction": "", "destruction": "", "utilisation": "",
    "current_efficiency": "", "anode_effect_minutes": "min/d", "overvoltage": "mV",
}


def _co2_flows(m) -> list[str]:
    """Flows whose carbon a (non-balance) mechanism accounts for itself: fuels burned, carbonates calcined, CO2
    transferred (a carbon balance on the same process must exclude them)."""
    out = list(getattr(m, "fuels", [])) + list(getattr(m, "carbonates", []))
    return out + ([m.output] if m.type == "co2_transfer" else [])


# mechanism fields whose parameter must always have a value (the others have a neutral default or are optional)
NEEDS_VALUE = {"cao", "technology"}
_INPUTS = {FlowKind.material, FlowKind.fuel, FlowKind.intermediate, FlowKind.process_gas}
_OUTPUTS = {FlowKind.product, FlowKind.coproduct, FlowKind.carbon_output}
# the kinds of flow each flow-naming field of a mechanism may name ("exclude" may name any)
FIELD_KINDS = {"fuels": {FlowKind.fuel, FlowKind.process_gas}, "carbonates": _INPUTS, "output": _OUTPUTS,
               "raw_meal": _INPUTS}

