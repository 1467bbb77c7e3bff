"""CBAM embedded emissions of one result: a pure function of ``result.json`` and the good's entry in
``standards/cbam/goods.yaml``, following the attribution of Implementing Regulation (EU) 2025/2547 Annex III (the
transitional rules of 2023/1773 Annex III, section F, are the same in structure):

    SEE_dir = (AttrEm_dir + EE_prec,dir) / AL        SEE_ind = (AttrEm_ind + EE_prec,ind) / AL

with AL the activity level (here one declared unit, in t of good). From the result:

- attributed direct emissions ``AttrEm_dir``: the direct emissions of the good's own production processes, of
  the gases the category counts (Regulation 2023/956 Annex I), per declared unit: each process's
  ``direct_emissions[].kg_per_year`` x its ``process_scaling`` x its allocation factor x GWP100 (AR6, the
  method's). Processes that make a precursor within the installation are the precursor's (its embedded
  emissions, own-made); processes generating electricity are the electricity's (indirect); processes the goods
  file excludes leave the boundary. The direct emissions the result books on exported process gases (the
  surplus columns ``<process>::<gas>``: ``by_origin.direct`` minus the processes' sum) stay with the good.
- indirect emissions ``AttrEm_ind``: the grid electricity consumed (the kWh of the ``by_input`` row of the result's
  grid factor) x the CO2 emission factor of generation the goods file names (Implementing Regulation (EU)
  2023/1773 Annex III D.4.3; the PCF's life-cycle factor above it is a reconciliation line), electricity under a
  contractual instrument at its own factor, plus the direct emissions of the on-site generation processes.
- purchased precursors ``EE_prec``: the ``by_input`` rows of their factors (the factor set's cradle-to-gate
  value, not split into direct and indirect: counted as direct; CBAM asks for the supplier's SEE instead).

Everything else the PCF counts lies outside the CBAM boundary: the upstream burden of purchased inputs that are
not precursors, transport, co-product credits, gases CBAM does not count, excluded processes. ``reconciliation``
lists each, so that the CBAM total plus them gives the PCF total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from methodology.errors import CalculationError
from methodology.gases import Gas
from methodology.schema.cbam import BoundaryNotes, Category, Good
from methodology.units import UnitParseError, conversion_factor

OWN, PRECURSOR, ELECTRICITY, EXCLUDED = "good", "precursor", "electricity", "excluded"
ROUNDING = 1e-4  # kg CO2e per declared unit: result.json rounds its figures to 1e-6 kg, a few dozen of them add up


@dataclass(frozen=True)
class Line:
    section: str  # direct | indirect | precursors | specific | reconciliation
    item: str
    kg_co2e: float  # per declared unit
    basis: str = ""
    note: str = ""
    quantity: float | None = None  # e.g. kWh per declared unit
    quantity_unit: str = ""


@dataclass(frozen=True)
class CbamFigures:
    good: Good
    category: Category
    tonnes_per_unit: float  # t of good in one declared unit
    direct: list[Line]
    indirect: list[Line]
    precursors: list[Line]
    reconciliation: list[Line]
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def _sum(lines) -> float:
        return sum(x.kg_co2e for x in lines)

    @property
    def see_direct(self) -> float:
        """Specific direct embedded emissions, t CO2e per t of good."""
        return (self._sum(self.direct) + self._sum(self.precursors)) / 1000 / self.tonnes_per_unit

    @property
    def see_indirect(self) -> float:
        return self._sum(self.indirect) / 1000 / self.tonnes_per_unit

    @property
    def see_total(self) -> float:
        return self.see_direct + self.see_indirect


def tonnes_per_unit(declared_unit: Mapping) -> float:
    """t of good in one declared unit (any mass unit the units registry knows)."""
    try:
        factor = conversion_factor(declared_unit["unit"], "t")
    except UnitParseError as e:
        raise CalculationError(f"CBAM figures are per tonne of good: the declared unit '{declared_unit['unit']}' "
                               f"is not a mass ({e})") from e
    return declared_unit["amount"] * factor


def _roles(good: Good) -> dict[str, tuple[str, str]]:
    """process -> (role, precursor category or exclusion reason)"""
    roles = {p: (ELECTRICITY, "") for p in good.electricity_generation}
    roles |= {x.process: (EXCLUDED, x.why) for x in good.excluded_processes}
    for pre in good.own_precursors:  # a precursor of the good's own category made on site is the good's process
        if pre.category != good.category:
            roles |= {p: (PRECURSOR, pre.category) for p in pre.processes}
    return roles


def process_direct(result: Mapping, gwp: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """kg CO2e per declared unit of each process's direct emissions, by gas: ``kg_per_year`` x scaling x allocation
    factor x GWP."""
    scaling, alloc = result["process_scaling"], result["allocation"]["factors"]
    out: dict[str, dict[str, float]] = {}
    for d in result["direct_emissions"]:
        p = d["process"]
        for gas, kg in d["kg_per_year"].items():
            by_gas = out.setdefault(p, {})
            by_gas[gas] = by_gas.get(gas, 0.0) + kg * scaling.get(p, 0.0) * alloc.get(p, 1.0) * gwp[gas]
    return out


def _direct_lines(result, good, category, gwp) -> tuple[list[Line], dict[str, list[Line]], list[Line], list[Line]]:
    """Own processes' lines, own precursors' lines by category, on-site generation lines, and what is left out."""
    counted = {g.value for g in category.gases}
    roles, names = _roles(good), {p["process"]: p["name"] for p in result["by_process"]}
    own, precursors, generation, left_out = [], {}, [], []
    per_process = process_direct(result, gwp)
    for p, by_gas in per_process.items():
        role, what = roles.get(p, (OWN, ""))
        kg_in = sum(v for g, v in by_gas.items() if g in counted)
        kg_out = sum(v for g, v in by_gas.items() if g not in counted)
        if kg_out:
            gases = ", ".join(sorted(g for g in by_gas if g not in counted))
            left_out.append(Line("reconciliation", f"gases CBAM does not count: {names.get(p, p)}", kg_out,
                                 f"{p}: {gases}", "Regulation (EU) 2023/956 Annex I lists the gases of each good"))
        line = Line("direct", names.get(p, p), kg_in, f"process {p}: direct emissions of "
                    + ", ".join(sorted(g for g in by_gas if g in counted)))
        if role == EXCLUDED:
            left_out.append(Line("reconciliation", f"excluded process: {names.get(p, p)}", kg_in, f"process {p}", what))
        elif role == ELECTRICITY:
            generation.append(Line("indirect", f"electricity generated on site: {names.get(p, p)}", kg_in,
                                   f"process {p}: its direct emissions, attributed to the electricity it supplies"))
        elif role == PRECURSOR:
            precursors.setdefault(what, []).append(line)
        else:
            own.append(line)
    residual = result["by_origin"].get("direct", {}).get("total", 0.0) - sum(
        v for by_gas in per_process.values() for v in by_gas.values())
    if abs(residual) > ROUNDING:
        own.append(Line("direct", "process gases leaving the product system", residual,
                        "by_origin.direct minus the processes' direct emissions (the surplus columns <process>::<gas>)",
                        "the PCF takes out the carbon of the gas exported; CBAM deducts only its natural-gas "
                        "equivalent (WG_corr,exp, Implementing Regulation (EU) 2025/2547 Annex III): review"))
    return own, precursors, generation, left_out


@dataclass(frozen=True)
class GridFactors:
    """kg per kWh of the result's grid factor (to find the kWh) and of the CO2 factor CBAM takes (``cbam``)."""

    pcf: float | None
    cbam_factor: str = ""
    cbam: float | None = None
    cbam_basis: str = ""


def _grid_line(row: Mapping, name: str, grid: GridFactors, is_grid: bool) -> tuple[Line, float]:
    """The indirect line of an electricity row and what the PCF counts above it (kg per declared unit)."""
    kwh = row["total"] / grid.pcf if grid.pcf and is_grid else None
    if kwh is not None and grid.cbam is not None:
        kg = kwh * grid.cbam
        return Line("indirect", f"grid electricity: {name}", kg,
                    f"{grid.cbam:g} kg CO2/kWh (factor {grid.cbam_factor}) x {kwh:,.1f} kWh", grid.cbam_basis,
                    kwh, "kWh"), row["total"] - kg
    note = ("the PCF's grid factor: the kWh could not be found from it, so CBAM's CO2 factor was not applied"
            if is_grid else "electricity under a contractual instrument at its own factor, as the PCF counts it")
    return Line("indirect", f"{'grid ' if is_grid else ''}electricity: {name}", row["total"],
                f"factor {row['factor']}", note), 0.0


def _input_lines(result, good, grid: GridFactors) -> tuple[list[Line], list[Line], list[Line]]:
    """Grid electricity (indirect), purchased precursors, and the rest of the purchased inputs (outside)."""
    used, names = result["factors_used"], {}
    for pre in good.purchased_precursors:
        names |= {f: pre.category for f in pre.factors}
    lines, bought, outside = [], [], {}
    for row in result["by_input"]:
        f = row["factor"]
        if f is None:
            continue
        cat = used.get(f, {}).get("category")
        if cat == "electricity":
            line, above = _grid_line(row, used[f]["name"], grid, f == result["electricity_factor"])
            lines.append(line)
            if above:
                key = "grid electricity: the PCF's life-cycle factor above the CO2 factor of generation CBAM takes"
                outside[key] = outside.get(key, 0.0) + above
        elif f in names:
            bought.append(Line("precursors", f"purchased {names[f]}: {used[f]['name']}", row["total"],
                               f"factor {f} (cradle-to-gate, {used[f]['status']})",
                               "the factor set's value stands in for the supplier's embedded emissions; not split "
                               "into direct and indirect, counted as direct"))
        else:
            key = {"transport": "transport of purchased inputs", "avoided_product": "co-product credits"}.get(
                cat, "upstream of purchased inputs that are not precursors")
            outside[key] = outside.get(key, 0.0) + row["total"]
    rest = [Line("reconciliation", k, v, "by_input rows", "outside the CBAM boundary") for k, v in outside.items()]
    return lines, bought, rest


def embedded_emissions(result: Mapping, good: Good, category: Category, *, gwp: Mapping[str, float],
                       notes: BoundaryNotes, grid: GridFactors | None = None) -> CbamFigures:
    """The CBAM figures of a result (module docstring). ``gwp``: kg CO2e per kg of each gas key (the result's
    method); ``notes``: the goods file's boundary notes; ``grid``: the values of the result's grid factor (to find
    the kWh) and of CBAM's CO2 factor of generation; without them grid electricity stays at the PCF's value."""
    own, own_pre, generation, left_out = _direct_lines(result, good, category, gwp)
    grid, bought, rest = _input_lines(result, good, grid or GridFactors(None))
    precursors = [Line("precursors", f"own-made {cat}: {x.item}", x.kg_co2e, x.basis, "made within the installation")
                  for cat, lines in own_pre.items() for x in lines] + bought
    figures = CbamFigures(good, category, tonnes_per_unit(result["declared_unit"]), own, grid + generation,
                          precursors, left_out + rest, _notes(good, category, notes))
    gap = result["gwp100_kg_co2e"]["total"] - sum(
        x.kg_co2e for x in [*figures.direct, *figures.indirect, *figures.precursors, *figures.reconciliation])
    if abs(gap) > ROUNDING:
        figures.reconciliation.append(Line("reconciliation", "other differences", gap, "PCF total minus the above"))
    return figures


def _notes(good: Good, category: Category, texts: BoundaryNotes) -> list[str]:
    """The boundary notes of the goods file for this good, then its CN note and excluded processes."""
    fields = {"category": category.name, "gases": ", ".join(Gas(g).value for g in category.gases)}
    obligation = texts.direct_and_indirect if category.indirect_in_obligation else texts.direct_only
    notes = [t.format(**fields) for t in (texts.boundary, texts.gases, obligation)] + list(texts.general)
    if good.cn_note:
        notes.append(f"CN code {good.cn_code}: {good.cn_note}.")
    notes += [f"{x.process} excluded: {x.why}." for x in good.excluded_processes]
    return notes
