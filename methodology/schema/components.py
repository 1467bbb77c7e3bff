"""Declared components of a product (nutrients, active substances): the footprint is also given per kg of each.

A rule's product lists its components (``products[].components``), each with its mass fraction in the product
where the rule fixes it (e.g. urea 46.6 % N, from the formula) or without one where it varies by grade (a
compound fertilizer's N, P2O5 and K2O); a parameter file gives a content under ``components: {<id>: {value,
unit, source}}``, which replaces the rule's. Every component of the declared product must end with a content.
No industry here: fertilizer nutrients are one use.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, field_validator

from methodology.schema.common import KEBAB, Strict, Unit
from methodology.units import UnitParseError, conversion_factor

_FRACTION = "a mass fraction in (0, 1] (unit '' or '%')"


def fraction(value: float, unit: str) -> float:
    """The mass fraction ``value`` in ``unit`` ('' or '%', or kg/kg ...) as a plain number."""
    return value * conversion_factor(unit, "")


def _check_fraction(value: float, unit: str) -> None:
    try:
        f = fraction(value, unit)
    except UnitParseError as exc:
        raise ValueError(f"unit '{unit}' is not {_FRACTION}") from exc
    if not 0 < f <= 1:
        raise ValueError(f"{value:g} {unit} is not {_FRACTION}")


class ComponentContent(Strict):
    """A component's mass fraction in the product, with its source."""

    value: float = Field(allow_inf_nan=False)
    unit: Unit = ""
    source: str

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        _check_fraction(1e-9, v)  # the unit must be dimensionless
        return v

    def as_fraction(self) -> float:
        _check_fraction(self.value, self.unit)
        return fraction(self.value, self.unit)


class ComponentSpec(Strict):
    """A component of a declared product the footprint is also given per kg of (ISO 14067 6.3.3 allows a
    functional or declared unit other than the product's mass; the per-component figure divides the same
    footprint, it allocates nothing)."""

    id: str = Field(pattern=KEBAB)
    name: str
    content: ComponentContent | None = Field(
        None, description="mass fraction in the product where the rule fixes it (e.g. from the formula); "
                          "absent: each parameter file gives it (it varies by grade)")

    @field_validator("content")
    @classmethod
    def _in_range(cls, v: ComponentContent | None) -> ComponentContent | None:
        if v is not None:
            v.as_fraction()
        return v


@dataclass(frozen=True)
class Component:
    """A component of the declared product with the content that applies to one enterprise."""

    id: str
    name: str
    fraction: float  # kg of the component per kg of product
    source: str
    origin: str  # "rule" | "enterprise"


def resolve(specs: list[ComponentSpec], given: dict[str, ComponentContent], product: str
            ) -> tuple[list[Component], list[tuple[str, str, str]]]:
    """The components of ``product`` with their contents (the enterprise's replacing the rule's), and the problems
    (field, found, expected): an unknown component, a content out of range, a component with no content."""
    known = {c.id: c for c in specs}
    problems = [(f"components.{k}", "a component the rule does not declare",
                 f"one of the components of product {product}: {sorted(known) or 'none'}") for k in given
                if k not in known]
    out = []
    for c in specs:
        content, origin = (given[c.id], "enterprise") if c.id in given else (c.content, "rule")
        if content is None:
            problems.append((f"components.{c.id}", "no content",
                             f"the mass fraction of {c.name} in the product (the rule gives none for {product})"))
            continue
        try:
            out.append(Component(c.id, c.name, content.as_fraction(), content.source, origin))
        except ValueError:
            problems.append((f"components.{c.id}", f"{content.value:g} {content.unit}".strip(), _FRACTION))
    return out, problems
