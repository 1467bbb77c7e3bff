"""A corpus of bad parameter files generated from every shipped parameter file of every industry.

Each case is one way a hostile or careless user breaks a good file: wrong bytes, YAML tricks, values that are not
finite or absurd, wrong units, typos, missing pieces. The mutations are chosen from the file and from its rule
(which flow is a co-product, which processes the route requires, which flows report transport), so a new
industry's parameter files are fuzzed the same way without writing a test for it.

``cases(source)`` gives ``Case(name, content, field)``: the bytes to write and the field (a substring of it) at
which validation must report a problem. ``write_corpus(folder)`` writes every case of every shipped file, for
running ``pcf validate`` or ``pcf batch`` over them by hand.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "parameters").glob("*/*.yaml"))


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    field: str  # validation must name a field containing this ("line" for YAML positions, "(file)" ...)


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


def _text(data: dict) -> bytes:
    return _dump(data).encode("utf-8")


def _block_lines(text: str, header: str, indent: int) -> tuple[int, int]:
    """First and past-the-end line index of the block that starts with ``header`` at ``indent`` spaces."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line == " " * indent + header)
    end = start + 1
    while end < len(lines) and (lines[end].startswith(" " * (indent + 1)) or not lines[end].strip()):
        end += 1
    return start, end


def _duplicated(text: str, header: str, indent: int) -> bytes:
    lines = text.split("\n")
    start, end = _block_lines(text, header, indent)
    return "\n".join(lines[:end] + lines[start:end] + lines[end:]).encode("utf-8")


@dataclass
class _Source:
    path: Path
    data: dict
    rule: object  # schema.rules.Rule

    def flows(self, kinds: tuple[str, ...] | None = None) -> Iterator[tuple[str, str, object]]:
        """(process id, flow key, FlowSpec) of the values given in the file, in file order."""
        for pid, values in self.data["processes"].items():
            spec = self.rule.process_by_id[pid]
            for key in values:
                f = spec.flow_by_key[key]
                if kinds is None or f.kind.value in kinds:
                    yield pid, key, f

    def mutated(self, change: Callable[[dict], None]) -> bytes:
        data = copy.deepcopy(self.data)
        change(data)
        return _text(data)


def _source(path: Path) -> _Source:
    from methodology.study import Study

    study = Study.prepare(path)  # the shipped file is valid: every case below breaks exactly one thing
    return _Source(path, yaml.safe_load(path.read_text(encoding="utf-8")), study.rule)


def _set(path: tuple, value) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value

    return change


def _drop(path: tuple) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]

    return change


def _byte_cases(src: _Source) -> list[Case]:
    text = _dump(src.data)
    name = src.data["enterprise"]["name"]
    latin = text.replace(name, name + " Stahlwerk Düsseldorf", 1)
    first_process = next(iter(src.data["processes"]))
    first_flow = next(iter(src.data["processes"][first_process]))
    bomb = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else '"x"'] * 9) + "]\n" for i in range(9))
    deep = "notes: " + "[" * 200 + "]" * 200 + "\n"
    period = src.data["reference_period"]
    bad_date = text.replace(f"start: {period['start']}", "start: 2023-02-30", 1)
    return [
        Case("latin-1", latin.encode("latin-1", errors="replace"), "line"),
        Case("utf-16", text.encode("utf-16"), "(file)"),
        Case("binary", b"\x00\x01\x02PK\x03\x04" + os.urandom(256), "byte"),
        Case("impossible-date", bad_date.encode(), "line"),
        Case("deep-nesting", (text + deep).encode(), "line"),
        Case("alias-bomb", (text + bomb).encode(), "line"),
        Case("self-alias", (text + "loop: &loop [1, *loop]\n").encode(), "line"),
        Case("undefined-alias", (text + "x: *nowhere\n").encode(), "line"),
        Case("duplicate-flow-key", _duplicated(text, f"{first_flow}:", 4), "line"),
        Case("duplicate-process-block", _duplicated(text, f"{first_process}:", 2), "line"),
        Case("two-documents", (text + "---\nenterprise: {}\n").encode(), "line"),
        Case("syntax-error", text.replace("processes:", "processes: {", 1).encode(), "line"),
        Case("tab-indent", text.replace("\n  ", "\n\t", 3).encode(), "line"),
        Case("huge-integer", (text + "x: " + "9" * 6000 + "\n").encode(), ""),
        Case("empty", b"", "(top level)"),
        Case("top-level-list", b"- 1\n- 2\n", "(top level)"),
        Case("python-tag", (text + "x: !!python/object/apply:os.system ['true']\n").encode(), "line"),
    ]


def _value_cases(src: _Source) -> list[Case]:
    pid, key, f = next(src.flows(("material", "fuel", "grid_electricity", "intermediate", "process_gas")))
    value = ("processes", pid, key, "value")
    where = f"processes.{pid}.{key}"
    other_unit = "kWh" if f.unit in ("t", "kg") or f.unit.endswith("t") else "t"
    out = [Case(f"value-{name}", src.mutated(_set(value, v)), f"{where}.value")
           for name, v in [("nan", math.nan), ("inf", math.inf), ("minus-inf", -math.inf), ("negative", -5.0),
                           ("1e300", 1e300), ("text", "12 t"), ("null", None), ("list", [1, 2]), ("bool", True)]]
    out += [
        Case("unit-unknown", src.mutated(_set(("processes", pid, key, "unit"), "tonnez")), f"{where}.unit"),
        Case("unit-other-dimension", src.mutated(_set(("processes", pid, key, "unit"), other_unit)), f"{where}.unit"),
        Case("unit-missing", src.mutated(_drop(("processes", pid, key, "unit"))), f"{where}.unit"),
        Case("source-missing", src.mutated(_drop(("processes", pid, key, "source"))), f"{where}.source"),
        Case("value-a-million-times", src.mutated(
            _set(value, float(src.data["processes"][pid][key]["value"]) * 1e6)), where),
        Case("flow-key-typo", src.mutated(lambda d: d["processes"][pid].update(
            {key + "_x": d["processes"][pid][key]})), f"{where}_x"),
        Case("flow-extra-field", src.mutated(_set(("processes", pid, key, "valeu"), 1)), f"{where}.valeu"),
        Case("data-quality-7", src.mutated(_set(("processes", pid, key, "data_quality"), {
            "technological": 7, "temporal": 1, "geographical": 1, "completeness": 1, "reliability": 1})),
             f"{where}.data_quality.technological"),
    ]
    for pid2, key2, _ in src.flows(("coproduct",)):
        out.append(Case("coproduct-nan", src.mutated(_set(("processes", pid2, key2, "value"), math.nan)),
                        f"processes.{pid2}.{key2}.value"))
        break
    ref_pid = next(iter(src.data["processes"]))
    ref_key = src.rule.process_by_id[ref_pid].reference.key
    if ref_key in src.data["processes"][ref_pid]:
        out.append(Case("reference-output-zero", src.mutated(_set(("processes", ref_pid, ref_key, "value"), 0)),
                        f"processes.{ref_pid}.{ref_key}"))
        out.append(Case("reference-output-1e30", src.mutated(_set(("processes", ref_pid, ref_key, "value"), 1e30)),
                        f"processes.{ref_pid}.{ref_key}"))
    return out


def _transport_cases(src: _Source) -> list[Case]:
    for pid, values in src.data["processes"].items():
        for key, v in values.items():
            if v.get("transport"):
                where = f"processes.{pid}.{key}.transport[0]"
                leg = ("processes", pid, key, "transport", 0, "distance")
                return [Case(f"distance-{n}", src.mutated(_set(leg, x)), f"{where}.distance")
                        for n, x in [("1e300", 1e300), ("nan", math.nan), ("negative", -10.0), ("text", "far")]] + [
                    Case("transport-mode-unknown", src.mutated(_set(leg[:-1] + ("mode",), "teleport")),
                         f"{where}.mode")]
    return []


def _structure_cases(src: _Source) -> list[Case]:
    d = src.data
    route = src.rule.route(d["route"])
    required = next(p for p in route.processes if p in d["processes"])
    period = d["reference_period"]
    out = [
        Case("top-level-typo", src.mutated(lambda x: x.update(procesess={})), "procesess"),
        Case("product-missing", src.mutated(_drop(("product",))), "product"),
        Case("product-unknown", src.mutated(_set(("product",), "no-such-product")), "product"),
        Case("route-unknown", src.mutated(_set(("route",), "no-such-route")), "route"),
        Case("rule-set-version-unknown", src.mutated(_set(("rule_set", "version"), "9.9.9")), "rule_set"),
        Case("rule-set-id-unknown", src.mutated(_set(("rule_set", "id"), "no-such-rule")), "rule_set"),
        Case("rule-set-missing", src.mutated(_drop(("rule_set",))), "rule_set"),
        Case("enterprise-id-invalid", src.mutated(_set(("enterprise", "id"), "Bad Id!")), "enterprise.id"),
        Case("enterprise-missing", src.mutated(_drop(("enterprise",))), "enterprise"),
        Case("period-reversed", src.mutated(_set(("reference_period",), {"start": period["end"],
                                                                         "end": period["start"]})),
             "reference_period"),
        Case("period-text", src.mutated(_set(("reference_period", "start"), "last year")), "reference_period.start"),
        Case("unknown-process", src.mutated(lambda x: x["processes"].update({"no-such-process": {}})),
             "processes.no-such-process"),
        Case("required-process-missing", src.mutated(_drop(("processes", required))), f"processes.{required}"),
        Case("processes-empty", src.mutated(_set(("processes",), {})), "processes"),
        Case("processes-a-list", src.mutated(_set(("processes",), [1, 2])), "processes"),
    ]
    final = src.rule.declared_product(d["product"]).final_process
    if final in d["processes"] and final not in route.processes:  # optional in the route: the product needs it
        out.append(Case("declared-product-process-missing", src.mutated(_drop(("processes", final))),
                        f"processes.{final}"))
    allowed = route.processes + route.optional_processes
    for prod in src.rule.products:  # the hot-rolled coil on the scrap-EAF route without a rolling mill
        if prod.final_process in allowed and prod.final_process not in d["processes"]:
            out.append(Case(f"product-{prod.id}-without-its-process", src.mutated(_set(("product",), prod.id)),
                            f"processes.{prod.final_process}"))
    return out


def cases(path: Path) -> list[Case]:
    """Every bad variant of one good parameter file."""
    src = _source(path)
    return _byte_cases(src) + _value_cases(src) + _transport_cases(src) + _structure_cases(src)


def write_corpus(folder: Path, sources: list[Path] = SHIPPED) -> list[tuple[Path, Case]]:
    """Write every case of every source under ``folder/<source stem>/<case>.yaml``."""
    out = []
    for source in sources:
        sub = folder / source.stem
        sub.mkdir(parents=True, exist_ok=True)
        for case in cases(source):
            path = sub / f"{case.name}.yaml"
            path.write_bytes(case.content)
            out.append((path, case))
    return out


if __name__ == "__main__":  # python tests/badfiles.py <folder>: write the corpus to look at
    import sys

    written = write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "bad-parameter-files"))
    print(f"{len(written)} bad files written")


# --- tree mutations of any YAML input (rules, factor sets, parameter files) -----------------------------------

_REPLACEMENTS = [("delete", None), ("null", None), ("nan", math.nan), ("negative", -1.0), ("huge", 1e300),
                 ("text", "x"), ("empty-list", []), ("empty-map", {}), ("true", True), ("zero", 0)]


def _paths(node, prefix=()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def tree_mutations(data: dict, n: int = 300) -> Iterator[tuple[str, dict]]:
    """``n`` variants of a document, each with one value deleted or replaced (spread evenly over its paths and
    over the replacements; deterministic)."""
    paths = list(_paths(data))
    step = max(1, len(paths) * 3 // max(1, n))  # a third of the replacements per path: about n variants
    for i, path in enumerate(paths[::step]):
        for j, (name, value) in enumerate(_REPLACEMENTS):
            if (i + j) % 3:  # two thirds of the combinations are left out, in a pattern that covers every pair
                continue
            d = copy.deepcopy(data)
            node = d
            for k in path[:-1]:
                node = node[k]
            if name == "delete":
                del node[path[-1]]
            else:
                node[path[-1]] = copy.deepcopy(value)
            yield f"{'.'.join(map(str, path))}={name}", d
