"""A semantic diff of two rules: what a committee changed, in the rule's own terms, not a text diff.

Both rules are compared as the validated models (so formatting, comments and key order do not count); list
items are matched by their ``id`` (processes, products, routes, co-products, factor choices) or ``key`` (flows),
so a moved process is not a change and a renamed one is a removal and an addition. Each difference is a
``Change``: where (the dotted path a variant would ``set``), what kind (added, removed, changed) and the values
before and after; ``sections`` groups them under the rule's headings for a reader. ``pcf diff`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from methodology.schema.rules import Rule

# top-level sections of a rule, in the order a reader expects them, with their headings
SECTIONS = {"rule_set": "Header and change log", "standards": "Standards cited", "declared_unit": "Declared unit",
            "system_boundary": "System boundary", "products": "Declared products",
            "intermediate_products": "Intermediate products", "routes": "Routes", "processes": "Processes",
            "allocation": "Allocation", "cut_off": "Cut-off", "end_of_life": "Recycling and end of life",
            "electricity": "Electricity", "carbon_accounting": "Carbon accounting",
            "factor_choices": "Factor choices", "transport_modes": "Transport", "data_quality": "Data quality",
            "plausibility": "Plausibility", "balances": "Balances"}
MISSING = object()


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added | removed | changed
    before: Any = None
    after: Any = None

    @property
    def section(self) -> str:
        return self.path.split(".", 1)[0]

    def words(self) -> str:
        def show(x: Any) -> str:
            if isinstance(x, dict):
                name = x.get("name") or x.get("title") or x.get("description")
                ident = x.get("id") or x.get("key") or x.get("version")
                name = name or x.get("summary")
                return f"'{ident}'" + (f" ({name})" if name else "") if ident else _short(x)
            return _short(x)

        if self.kind == "added":
            return f"{self.path}: added {show(self.after)}"
        if self.kind == "removed":
            return f"{self.path}: removed {show(self.before)}"
        return f"{self.path}: {show(self.before)} -> {show(self.after)}"


def _short(x: Any, limit: int = 160) -> str:
    text = repr(x) if not isinstance(x, str) else x
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ident(item: Any) -> str | None:
    if isinstance(item, dict):
        for k in ("id", "key", "version"):  # version: the entries of the change log
            if isinstance(item.get(k), str):
                return item[k]
    return None


def _walk(path: str, a: Any, b: Any, out: list[Change]) -> None:
    if a == b:
        return
    if a is MISSING:
        out.append(Change(path, "added", after=b))
    elif b is MISSING:
        out.append(Change(path, "removed", before=a))
    elif isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            _walk(f"{path}.{k}" if path else str(k), a.get(k, MISSING), b.get(k, MISSING), out)
    elif isinstance(a, list) and isinstance(b, list) and (a or b) and all(_ident(x) for x in a + b):
        ka, kb = {_ident(x): x for x in a}, {_ident(x): x for x in b}
        for k in list(ka) + [k for k in kb if k not in ka]:  # the order of items is presentation, not content
            _walk(f"{path}.{k}", ka.get(k, MISSING), kb.get(k, MISSING), out)
    else:
        out.append(Change(path, "changed", before=a, after=b))


def diff(old: Rule, new: Rule) -> list[Change]:
    """Every difference between two rules, in section order (``SECTIONS``), then in the rules' own order."""
    a = old.model_dump(mode="json", exclude_none=True)
    b = new.model_dump(mode="json", exclude_none=True)
    out: list[Change] = []
    _walk("", a, b, out)
    order = {s: i for i, s in enumerate(SECTIONS)}
    return sorted(out, key=lambda c: order.get(c.section, len(order)))  # stable: keeps the rules' order inside


def sections(changes: list[Change]) -> dict[str, list[Change]]:
    """The changes grouped under the rule's headings, in reading order."""
    out: dict[str, list[Change]] = {}
    for c in changes:
        out.setdefault(SECTIONS.get(c.section, c.section), []).append(c)
    return out


def markdown(old: Rule, new: Rule, changes: list[Change]) -> str:
    """The diff as a short document: what is compared, then each section's changes in words."""
    head = f"# {old.id} {old.version} -> {new.id} {new.version}\n"
    if new.variant:
        head += f"\nVariant `{new.variant['id']}`: {new.variant['title']}\n"
    if not changes:
        return head + "\nNo difference in content.\n"
    parts = [head, f"\n{len(changes)} difference(s).\n"]
    for heading, items in sections(changes).items():
        parts.append(f"\n## {heading}\n\n" + "\n".join(f"- {c.words()}" for c in items) + "\n")
    return "".join(parts)
