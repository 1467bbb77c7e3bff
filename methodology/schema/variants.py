"""Rule variants: a small override file applied to a base rule at load time, to compare without copying data.

A committee wants to know what a change to a rule does to every pilot enterprise before it decides (mass
allocation instead of system expansion, the regional grid factor, zero-burden by-products, a stricter cut-off).
A variant file names its base rule (id and version), says why, and lists its changes, each a ``set`` of one field
of the rule to a new ``value``:

    variant:
      id: steel-mass-allocation
      title: Mass allocation of co-products instead of system expansion
      base: {id: cn-pcr-steel, version: 1.4.0}
      reason: >-
        What the worldsteel system expansion credits do to the BF-BOF route compared with ISO 14044's
        physical allocation.
    changes:
      - {set: allocation.approach, value: mass}
      - {set: factor_choices.by-product-burden.selected, value: zero-burden}
      - {set: processes.blast-furnace.inputs.coke.factor, value: coke-purchased}

A path is the rule's field names joined by dots; in a list, the item is named by its ``id`` (or its ``key``, for
flows). The variant rule keeps the base's id and version, so the parameter files written for the base apply
unchanged, and is checked like any rule: every problem names the variant file and the field. Its results record
the variant (``provenance.rule_set.variant``) and its sha256 differs from the base's. Decision record
``docs/decisions/0014-rule-variants.md``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import Field

from methodology.errors import Problem, RuleError
from methodology.schema.common import KEBAB, SEMVER, FileBacked, Strict
from methodology.schema.loading import model_loader

SEPARATOR = "."


class BaseRef(Strict):
    id: str = Field(pattern=KEBAB)
    version: str = Field(pattern=SEMVER)


class VariantHeader(Strict):
    id: str = Field(pattern=KEBAB)
    title: str
    base: BaseRef
    reason: str = Field(min_length=1, description="why the committee looks at it")
    decision: str | None = Field(None, description="path of a decision record, if one exists")


class Change(Strict):
    set: str = Field(min_length=1, description="dotted path of the rule field; list items by id or key")
    value: Any
    reason: str | None = None


class Variant(FileBacked):
    variant: VariantHeader
    changes: list[Change] = Field(min_length=1)

    @property
    def id(self) -> str:
        return self.variant.id


def _item(items: list, name: str) -> tuple[int | None, list[str]]:
    names = [str(x.get("id", x.get("key"))) for x in items if isinstance(x, dict)]
    for i, x in enumerate(items):
        if isinstance(x, dict) and name in (x.get("id"), x.get("key")):
            return i, names
    return None, names


def _apply_one(raw: dict, change: Change) -> tuple[str, str] | None:
    """Set one field in ``raw`` (changed in place); (found, expected) when the path does not lead to a field."""
    parts = change.set.split(SEPARATOR)
    node: Any = raw
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = SEPARATOR.join(parts[:depth]) or "the rule"
        if isinstance(node, dict):
            if last:
                node[part] = copy.deepcopy(change.value)  # a new key is checked by the rule's strict schema
                return None
            if part not in node:
                return (f"no field '{part}' in {where}", f"one of {sorted(node)}")
            node = node[part]
        elif isinstance(node, list):
            i, names = _item(node, part)
            if i is None:
                return (f"no item '{part}' in {where}", f"the id or key of one of its items: {names}")
            if last:
                node[i] = copy.deepcopy(change.value)
                return None
            node = node[i]
        else:
            return (f"'{where}' is a value, not a section", "a path to a field of a section or of a list item")
    return None


def applied(raw_rule: dict, variant: Variant) -> dict:
    """The raw rule with every change of the variant applied (a copy); ``RuleError`` naming the variant file and
    each change whose path leads nowhere, all at once."""
    out = copy.deepcopy(raw_rule)
    problems = []
    for i, change in enumerate(variant.changes):
        bad = _apply_one(out, change)
        if bad:
            problems.append(Problem(variant.path, f"changes[{i}].set", f"'{change.set}': {bad[0]}", bad[1]))
    if problems:
        raise RuleError(variant.path, problems)
    return out


def base_problem(variant: Variant, rule_id: str, rule_version: str) -> Problem | None:
    b = variant.variant.base
    if (b.id, b.version) != (rule_id, rule_version):
        return Problem(variant.path, "variant.base", f"{b.id} {b.version}",
                       f"the rule it is applied to, {rule_id} {rule_version}")
    return None


_load = model_loader(Variant, RuleError)


def load_variant(path: str | Path) -> Variant:
    """Read and check a variant file (strict schema; ``RuleError`` naming the file and the field)."""
    return _load(path)
