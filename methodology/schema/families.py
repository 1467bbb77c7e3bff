"""Product families of a declared product: grades a rule accounts separately (decision record 0010).

A declared product may list ``families`` (stainless grades such as 304 or 430, cement types such as P.O 42.5):
each with its designations in the standards that define it, the composition ranges that identify it (mass
fractions of elements or constituents) and, optionally, a plausible footprint that replaces the route's for
results of that family. An enterprise's parameter file names its ``product_family``; the result records it.
Part of the rule schema (``schema.rules``); no Brightway is imported here.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator, model_validator

from methodology.schema.common import KEBAB, Strict
from methodology.schema.processes import Plausible
from methodology.units import convertible


class Designation(Strict):
    """The family's name in one standard (e.g. GB/T 20878 06Cr19Ni10, ASTM A240 304)."""

    standard: str = Field(description="key of the rule's `standards`")
    grade: str


class ComponentRange(Strict):
    """Mass fraction of one element or constituent (Cr, Ni, Mo, clinker ...) in the family, min to max."""

    component: str = Field(min_length=1, description="a chemical element symbol or a constituent's name")
    min: float = Field(0.0, ge=0, le=1, description="mass fraction, 0-1")
    max: float = Field(ge=0, le=1, description="mass fraction, 0-1")

    @field_validator("max")
    @classmethod
    def _not_below_min(cls, v: float, info: ValidationInfo) -> float:
        low = info.data.get("min", 0.0)
        if v < low:
            raise ValueError(f"max {v} is below min {low}")
        return v


class ProductFamily(Strict):
    """A family (grade, type) of a declared product, accounted on its own."""

    id: str = Field(pattern=KEBAB)
    name: str
    description: str | None = None
    designations: list[Designation] = []
    composition: list[ComponentRange] = Field(default_factory=list, description="mass fractions that identify it")
    composition_source: str | None = Field(None, description="where the composition ranges come from")
    plausible_footprint: Plausible | None = Field(
        None, description="plausible cradle-to-gate total per declared unit for this family; replaces the route's")

    @model_validator(mode="after")
    def _sourced(self) -> ProductFamily:
        if self.composition and not self.composition_source:
            raise ValueError("composition ranges need `composition_source` (the standard and table they come from)")
        return self

    def designation_text(self) -> list[str]:
        return [f"{d.standard}: {d.grade}" for d in self.designations]


def family_problems(product_id: str, families: list[ProductFamily], standards: set[str]) -> list[tuple[str, str, str]]:
    """A product's families, as (field, found, expected): unique ids, known standards, a composition that can
    exist (each component once, minima summing to at most 1), a footprint range in a mass of CO2e."""
    p = []
    where = f"products.{product_id}.families"
    ids = [f.id for f in families]
    p += [(where, f"'{x}' given {ids.count(x)} times", "each family id once") for x in sorted(set(ids))
          if ids.count(x) > 1]
    for fam in families:
        at = f"{where}.{fam.id}"
        p += [(f"{at}.designations", f"standard '{d.standard}'", f"one of the rule's standards {sorted(standards)}")
              for d in fam.designations if d.standard not in standards]
        names = [c.component for c in fam.composition]
        p += [(f"{at}.composition", f"'{x}' given {names.count(x)} times", "each component once")
              for x in sorted(set(names)) if names.count(x) > 1]
        low = sum(c.min for c in fam.composition)
        if low > 1 + 1e-9:
            p.append((f"{at}.composition", f"minimum mass fractions summing to {low:g}", "at most 1 in total"))
        pf = fam.plausible_footprint
        if pf is not None and not convertible(pf.unit, "kg"):
            p.append((f"{at}.plausible_footprint.unit", repr(pf.unit), "a mass of CO2e (kg)"))
    return p
