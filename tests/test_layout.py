"""The package layout shows the architecture: schema -> core -> brightway / outputs -> execution -> facade.

Every import of every module (also those inside functions) is read with ``ast`` and checked against the
layer rules; module-level imports must form no circle; the code fingerprint of the run key covers every
module of every subpackage.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "methodology"
BASE = {"methodology", "methodology.errors", "methodology.units", "methodology.gases"}
# what each layer may import from the package (besides itself and the base modules)
ALLOWED = {
    "schema": {"schema"},
    "core": {"schema", "core"},
    "brightway": {"schema", "core", "brightway"},
    "outputs": {"schema", "core", "outputs"},
    "execution": {"schema", "core", "brightway", "outputs", "execution", "study"},
    "exchange": {"schema", "outputs", "exchange"},  # the PACT API serves what outputs wrote; no engine, no runs
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m == "methodology" or m.startswith("methodology.")}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_relative_imports_and_layers_respected():
    modules = _modules()
    problems = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in ast.walk(tree)):
            problems.append(f"{name}: relative import")
        layer = _layer(name)
        if layer not in ALLOWED:
            continue
        for imp in _imports(path):
            target = imp if imp in modules else imp.rsplit(".", 1)[0]
            if target in BASE or _layer(target) in ALLOWED[layer]:
                continue
            problems.append(f"{name} imports {imp} (layer '{layer}' may import {sorted(ALLOWED[layer])})")
    assert not problems, "\n".join(problems)


def test_module_level_imports_form_no_circle():
    modules = _modules()
    graph = {name: {i if i in modules else i.rsplit(".", 1)[0] for i in _imports(path, top_level_only=True)}
             for name, path in modules.items()}
    graph = {k: {v for v in vs if v in modules and v != k and v != "methodology"} for k, vs in graph.items()}
    state: dict[str, int] = {}

    def visit(node, trail):
        if state.get(node) == 1:
            pytest.fail("import circle: " + " -> ".join([*trail, node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in sorted(graph[node]):
            visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        visit(node, [])


def test_code_fingerprint_covers_every_subpackage(tmp_path, monkeypatch):
    from methodology.execution import batch

    root = tmp_path / "copy"
    shutil.copytree(PACKAGE, root / "methodology", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "notebooks").mkdir()
    monkeypatch.setattr(batch, "ROOT", root)
    monkeypatch.setattr(batch, "NOTEBOOKS", root / "notebooks")
    before = batch.code_fingerprint()
    for sub in ("schema/rules.py", "core/foreground.py", "brightway/engine.py", "outputs/report.py"):
        path = root / "methodology" / sub
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "\n# changed\n", encoding="utf-8")
        assert batch.code_fingerprint() != before, sub
        path.write_text(text, encoding="utf-8")
    assert batch.code_fingerprint() == before


def test_warm_module_names_exist():
    import importlib

    from methodology.execution import forkserver, kernels

    for name in {*kernels.WARM_MODULES, *forkserver.TEMPLATE_MODULES}:
        if name.startswith("methodology"):
            importlib.import_module(name)
