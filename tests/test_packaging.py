"""The toolchain declared once: environment.yml agrees with pyproject; CI runs the README's test command;
the exported JSON Schemas are current."""

from __future__ import annotations

import tomllib

import yaml
from conftest import ROOT

from methodology.schema.export import schema_texts
from methodology.study import SCHEMAS


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {p for p in pip if not p.startswith("-e")} == wanted


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/test.sh" in readme
    assert "./scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_json_schemas_are_current():
    assert "result.schema.json" in SCHEMAS
    for name, text in schema_texts(SCHEMAS).items():
        assert (ROOT / "standards" / "schema" / name).read_text() == text, f"run `pcf schema` ({name})"
    exported = {p.name for p in (ROOT / "standards" / "schema").glob("*.schema.json")}
    assert exported == set(SCHEMAS)  # no stale schema left behind
