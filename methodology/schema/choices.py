"""Factor choices: a rule-wide choice, made by a committee, of which factor supplies the burden of some flows.

Some inputs can be modelled in more than one defensible way, and the choice moves results enough that a
committee wants to state it once and compare the alternatives: a by-product of another industry used as a
raw material (blast-furnace slag, fly ash, desulphurisation gypsum) enters either free of burden as a waste or
with an economic share of its producing process (ISO 14044:2006 4.3.4.2; EN 15804+A2 6.4.3.2). A rule lists such
a choice under ``factor_choices``: its options, each mapping named slots to factor ids, and the option
``selected``. A flow of a process names ``choice: <choice id>/<slot>`` instead of a factor, and gets the factor of
the selected option when the rule is read; nothing downstream knows there was a choice. Comparing the options
is editing ``selected`` (or ``with_selection``), which yields another rule content.
"""

from __future__ import annotations

import copy

from pydantic import Field

from methodology.schema.common import KEBAB, ClauseRef, Strict

SEPARATOR = "/"


class FactorOption(Strict):
    id: str = Field(pattern=KEBAB)
    description: str
    factors: dict[str, str] = Field(min_length=1, description="slot -> factor id supplying that slot's burden")


class FactorChoice(Strict):
    """A committee's choice between options, each naming the factor of every slot (see the module docstring)."""

    id: str = Field(pattern=KEBAB)
    name: str
    description: str
    selected: str = Field(description="id of the option the rule applies")
    options: list[FactorOption] = Field(min_length=2)
    clause: list[ClauseRef]
    decision: str | None = Field(None, description="path of the decision record")

    def option(self, option_id: str) -> FactorOption | None:
        return next((o for o in self.options if o.id == option_id), None)


def _selected_factors(raw_choices) -> dict[str, dict[str, str]]:
    """{choice id: {slot: factor id}} of the selected option of each well-formed raw choice."""
    out = {}
    for c in raw_choices if isinstance(raw_choices, list) else ():
        if not isinstance(c, dict) or not isinstance(c.get("options"), list):
            continue
        for o in c["options"]:
            if isinstance(o, dict) and o.get("id") == c.get("selected") and isinstance(o.get("factors"), dict):
                out[c.get("id")] = o["factors"]
    return out


def resolve(data):
    """The raw rule with each flow naming ``choice: <choice>/<slot>`` (and no factor) given the selected option's
    factor. Malformed or unresolvable references are left alone for the checks (``problems``) to name."""
    if not isinstance(data, dict) or not isinstance(data.get("processes"), list):
        return data
    selected = _selected_factors(data.get("factor_choices"))
    if not selected:
        return data
    data = copy.copy(data)
    processes = []
    for proc in data["processes"]:
        if isinstance(proc, dict):
            proc = copy.copy(proc)
            for side in ("inputs", "outputs"):
                if isinstance(proc.get(side), list):
                    proc[side] = [_resolved_flow(f, selected) for f in proc[side]]
        processes.append(proc)
    data["processes"] = processes
    return data


def _resolved_flow(flow, selected):
    if not isinstance(flow, dict) or not isinstance(flow.get("choice"), str) or flow.get("factor") is not None:
        return flow
    choice, _, slot = flow["choice"].partition(SEPARATOR)
    factor = selected.get(choice, {}).get(slot)
    return {**flow, "factor": factor} if isinstance(factor, str) else flow


def problems(choices: list[FactorChoice], processes) -> list[tuple[str, str, str]]:
    """(field, found, expected): a selected option that exists, options covering the same slots, and flows naming
    an existing choice and slot (and not also a factor of their own)."""
    p = [x for c in choices for x in _choice_problems(c)]
    by_id = {c.id: c for c in choices}
    for proc in processes:
        for f in proc.flows():
            if f.choice is not None:
                p += _flow_problems(f"processes.{proc.id}.{f.key}", f, by_id)
    return p


def _choice_problems(c: FactorChoice) -> list[tuple[str, str, str]]:
    p = []
    where = f"factor_choices.{c.id}"
    ids = [o.id for o in c.options]
    if c.option(c.selected) is None:
        p.append((f"{where}.selected", repr(c.selected), f"one of the options {ids}"))
    for dup in sorted({x for x in ids if ids.count(x) > 1}):
        p.append((f"{where}.options", f"'{dup}' given {ids.count(dup)} times", "each id once"))
    slots = set(c.options[0].factors)
    for o in c.options[1:]:
        if set(o.factors) != slots:
            p.append((f"{where}.options.{o.id}.factors", str(sorted(o.factors)),
                      f"the same slots as option '{c.options[0].id}': {sorted(slots)}"))
    return p


def _flow_problems(where: str, f, by_id: dict[str, FactorChoice]) -> list[tuple[str, str, str]]:
    name, _, slot = f.choice.partition(SEPARATOR)
    c = by_id.get(name)
    if c is None:
        return [(f"{where}.choice", repr(f.choice),
                 f"'<choice>{SEPARATOR}<slot>' with a choice of factor_choices {sorted(by_id)}")]
    chosen = c.option(c.selected)
    if chosen is None:
        return []  # reported at the choice
    if slot not in chosen.factors:
        return [(f"{where}.choice", repr(f.choice), f"a slot of choice '{name}': {sorted(chosen.factors)}")]
    if f.factor != chosen.factors[slot]:
        return [(f"{where}.factor", repr(f.factor),
                 f"no factor beside `choice` (the choice gives '{chosen.factors[slot]}')")]
    return []


def with_selection(raw: dict, selection: dict[str, str]) -> dict:
    """A copy of a raw rule with other options selected ({choice id: option id}), for comparing the options."""
    out = copy.deepcopy(raw)
    for c in out.get("factor_choices", []):
        if c.get("id") in selection:
            c["selected"] = selection[c["id"]]
    return out
