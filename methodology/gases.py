"""The closed vocabulary of greenhouse-gas flows and how each maps to Brightway's biosphere.

Gas keys are used in factor sets, in foreground models and in `result.json`. Each maps to one
elementary flow: an ecoinvent-3.9 biosphere3 flow shipped in bw2io, or, for values already aggregated
to CO2e by their source, a flow of the workbench's own biosphere database.
"""

from __future__ import annotations

from enum import StrEnum


class Gas(StrEnum):
    co2_fossil = "co2_fossil"
    ch4_fossil = "ch4_fossil"
    n2o = "n2o"
    co2_biogenic = "co2_biogenic"
    ch4_biogenic = "ch4_biogenic"
    co2_uptake = "co2_uptake"  # removal of CO2 from air into biomass: a negative contribution
    cf4 = "cf4"  # tetrafluoromethane (PFC-14): anode effects in aluminium smelting
    c2f6 = "c2f6"  # hexafluoroethane (PFC-116): anode effects in aluminium smelting
    sf6 = "sf6"  # sulphur hexafluoride: switchgear, magnesium casting
    co2e_fossil = "co2e_fossil"  # fossil GHGs reported by the source only as AR6 GWP100 CO2e
    co2e_biogenic = "co2e_biogenic"


# (database, name, categories): the elementary flow each gas is written as
BIOSPHERE3 = "biosphere3"
PCF_BIOSPHERE = "pcf-biosphere"

FLOWS: dict[Gas, tuple[str, str, tuple[str, ...]]] = {
    Gas.co2_fossil: (BIOSPHERE3, "Carbon dioxide, fossil", ("air",)),
    Gas.ch4_fossil: (BIOSPHERE3, "Methane, fossil", ("air",)),
    Gas.n2o: (BIOSPHERE3, "Dinitrogen monoxide", ("air",)),
    Gas.co2_biogenic: (BIOSPHERE3, "Carbon dioxide, non-fossil", ("air",)),
    Gas.ch4_biogenic: (BIOSPHERE3, "Methane, non-fossil", ("air",)),
    Gas.co2_uptake: (BIOSPHERE3, "Carbon dioxide, in air", ("natural resource", "in air")),
    Gas.cf4: (BIOSPHERE3, "Methane, tetrafluoro-, R-14", ("air",)),
    Gas.c2f6: (BIOSPHERE3, "Ethane, hexafluoro-, HFC-116", ("air",)),
    Gas.sf6: (BIOSPHERE3, "Sulfur hexafluoride", ("air",)),
    Gas.co2e_fossil: (
        PCF_BIOSPHERE,
        "Greenhouse gases, fossil, unspecified, as CO2e (IPCC AR6 GWP100)",
        ("air",),
    ),
    Gas.co2e_biogenic: (
        PCF_BIOSPHERE,
        "Greenhouse gases, biogenic, unspecified, as CO2e (IPCC AR6 GWP100)",
        ("air",),
    ),
}

# Labels for the "by gas" breakdown of results.
GAS_GROUP = {
    Gas.co2_fossil: "CO2",
    Gas.co2_biogenic: "CO2",
    Gas.co2_uptake: "CO2",
    Gas.ch4_fossil: "CH4",
    Gas.ch4_biogenic: "CH4",
    Gas.n2o: "N2O",
    Gas.cf4: "PFCs",
    Gas.c2f6: "PFCs",
    Gas.sf6: "SF6",
    Gas.co2e_fossil: "CO2e (unspecified gases)",
    Gas.co2e_biogenic: "CO2e (unspecified gases)",
}

# 12/44: mass of carbon per mass of CO2 (molar masses 12.011 and 44.009 rounded as in IPCC 2006)
C_TO_CO2 = 44.0 / 12.0
