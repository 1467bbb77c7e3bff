"""What a mechanism function receives and returns: plain values of one unit process, no files, no Brightway."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from methodology.core.balances import CarbonBalance
from methodology.errors import CalculationError
from methodology.gases import Gas


@dataclass(frozen=True)
class ProcessData:
    """One unit process as its mechanisms see it, in the units the rule declares.

    ``amounts``: annual amount of each flow (0 when not reported). ``parameters``: process parameters (the
    enterprise's value or the rule's default; absent when neither). ``carbon_in`` / ``carbon_out``: kg C per
    year of each carbon-bearing input and output, measured contents replacing the factor set's defaults.
    ``combustion``: per fuel flow, (NCV in GJ per unit, kg C per GJ, oxidation rate), measured values replacing
    defaults. ``biogenic``: biogenic share of each input's carbon. ``units``: the rule's unit of each flow.
    ``oxidation``: the oxidation rate of each carbon input the carbon balance leaves partly unoxidised (only
    when the rule's ``carbon_accounting.oxidation`` is ``factor``; empty otherwise).
    """

    process: str
    reference: str  # flow key of the reference product
    amounts: Mapping[str, float]
    units: Mapping[str, str]
    parameters: Mapping[str, float | str] = field(default_factory=dict)
    carbon_in: Mapping[str, float] = field(default_factory=dict)
    carbon_out: Mapping[str, float] = field(default_factory=dict)
    combustion: Mapping[str, tuple[float, float, float] | None] = field(default_factory=dict)
    biogenic: Mapping[str, float] = field(default_factory=dict)
    carbon_tolerance: float = 0.0
    oxidation: Mapping[str, float] = field(default_factory=dict)  # inputs left partly unoxidised (rule: factor)

    def amount(self, key: str | None) -> float:
        return self.amounts.get(key or self.reference, 0.0)

    def unit(self, key: str | None) -> str:
        return self.units[key or self.reference]

    def parameter(self, name: str | None, default: float | None = None) -> float | str | None:
        """A parameter's value; ``default`` when the mechanism does not name one or it has no value."""
        if not name:
            return default
        v = self.parameters.get(name)
        return default if v is None else v

    def number(self, name: str | None, default: float | None = None) -> float:
        """A numeric parameter that must have a value (else CalculationError naming it)."""
        v = self.parameter(name, default)
        if v is None:
            raise CalculationError(f"process '{self.process}': parameter '{name}' has no value and no default")
        return float(v)


@dataclass(frozen=True)
class MechanismResult:
    """kg of each gas per year a mechanism gives for one process, with what it used (for the report)."""

    type: str
    kg: Mapping[Gas, float]
    label: str
    carbon: CarbonBalance | None = None  # the carbon balance, when the mechanism is one
    detail: Mapping[str, object] = field(default_factory=dict)
