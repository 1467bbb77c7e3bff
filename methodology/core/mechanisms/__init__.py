"""Emission mechanisms: one pure function per mechanism type, organised by chemistry (see ``schema.mechanisms``).

``direct_emissions(process_spec, data, factors)`` runs the mechanisms a rule selects for one process, in the
rule's order, and returns one ``MechanismResult`` each.
"""

from __future__ import annotations

from methodology.core.mechanisms.base import MechanismResult, ProcessData
from methodology.core.mechanisms.carbon import carbon_balance, co2_transfer, combustion
from methodology.core.mechanisms.minerals import calcination
from methodology.core.mechanisms.process import anode_effect_pfc, process_factor
from methodology.schema import mechanisms as m
from methodology.schema.factors import FactorSet

FUNCTIONS = {
    "carbon_balance": carbon_balance,
    "combustion": combustion,
    "calcination": calcination,
    "co2_transfer": co2_transfer,
    "anode_effect_pfc": anode_effect_pfc,
}


def run(spec, data: ProcessData, factors: FactorSet) -> MechanismResult:
    """The direct emissions of one mechanism of one process."""
    if isinstance(spec, m.ProcessFactor):
        return process_factor(spec, data, factors)
    return FUNCTIONS[spec.type](spec, data)


def direct_emissions(mechanisms, data: ProcessData, factors: FactorSet) -> list[MechanismResult]:
    return [run(spec, data, factors) for spec in mechanisms]


__all__ = ["MechanismResult", "ProcessData", "direct_emissions", "run", "FUNCTIONS"]
