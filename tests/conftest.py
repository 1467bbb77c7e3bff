"""Shared fixtures. Brightway data for the whole test session lives in a temporary folder; the
variable is set before anything imports bw2data (it reads BRIGHTWAY2_DIR once, at import)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import yaml

_BW = Path(os.environ.get("PCF_TEST_BW_SESSION") or tempfile.mkdtemp(prefix="pcf-test-bw-"))
os.environ["BRIGHTWAY2_DIR"] = str(_BW)

ROOT = Path(__file__).resolve().parent.parent
RULE = ROOT / "standards" / "steel" / "pcr-steel.yaml"
FACTORS = ROOT / "standards" / "factors" / "cn-core.yaml"
ENTERPRISES = sorted((ROOT / "parameters" / "steel").glob("*.yaml"))
CEMENT_ENTERPRISES = sorted((ROOT / "parameters" / "cement").glob("*.yaml"))
ALUMINIUM_ENTERPRISES = sorted((ROOT / "parameters" / "aluminium").glob("*.yaml"))
PLASTICS_ENTERPRISES = sorted((ROOT / "parameters" / "plastics").glob("*.yaml"))
FERTILIZER_ENTERPRISES = sorted((ROOT / "parameters" / "fertilizer").glob("*.yaml"))
ALL_ENTERPRISES = (ENTERPRISES + CEMENT_ENTERPRISES + ALUMINIUM_ENTERPRISES
                   + PLASTICS_ENTERPRISES + FERTILIZER_ENTERPRISES)  # every shipped file, every industry


@pytest.fixture(scope="session")
def factors():
    from methodology.schema.factors import load_factor_set

    return load_factor_set(FACTORS)


@pytest.fixture(scope="session")
def rule(factors):
    from methodology.schema.rules import load_rule

    return load_rule(RULE, factors)


@pytest.fixture(scope="session")
def bw_project(factors):
    """The template Brightway project, built offline once per session."""
    from methodology.brightway import engine

    engine.setup_project(factors, log=lambda *a: None)
    return engine.brightway_dir()


def write_variant(tmp_path: Path, source: Path, mutate, name: str | None = None) -> Path:
    """Copy a YAML file with a change applied (for negative fixtures)."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    mutate(data)
    out = tmp_path / (name or source.name)
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def mechanism(study, pid: str, kind: str):
    """The one result of mechanism type ``kind`` at process ``pid`` of a study's foreground."""
    (r,) = [r for r in study.foreground.processes[pid].mechanisms if r.type == kind]
    return r


def scaled_amounts(data: dict, by: float = 3) -> None:
    """Multiply every activity amount of a parameter file (for linearity tests: the result per unit must not move)."""
    for proc in data["processes"].values():
        for flow in proc.values():
            flow["value"] *= by


def refused_with(tmp_path: Path, source: Path, change, problem: tuple) -> None:
    """A negative fixture: ``source`` with ``change`` applied is refused with exactly ``problem`` (field, found,
    expected; an expected of None is not compared)."""
    from methodology.errors import ParameterFileError
    from methodology.study import Study

    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(write_variant(tmp_path, source, change))
    got = [(p.field, p.found, p.expected if problem[2] else None) for p in exc.value.problems]
    assert got == [problem]


def assert_route_range_warns(tmp_path: Path, rule: Path, route: int, maximum: float, source: Path) -> None:
    """With the rule's route ``route`` capped at ``maximum``, ``source``'s total is listed for review (a warning,
    not a refusal): the plausible_footprint check of every industry."""
    from methodology.study import Study

    capped = write_variant(tmp_path, rule, lambda d: d["routes"][route]["plausible_footprint"].update(max=maximum))
    res = Study.prepare(source, capped).calculate_without_brightway()
    review = res.model_dump(mode="json")["checks"]["review"]
    assert res.gwp100_kg_co2e.total > maximum and not res.checks.within_route_plausible_range
    assert len(review) == 1 and f"{maximum:g}" in review[0]["expected"], review


REL, ABS = 1e-6, 1e-4


def _leaves(x, at: str = "") -> dict[str, object]:
    """Every value of a JSON document by its path (list items by position)."""
    if isinstance(x, dict):
        return {k: v for key, item in x.items() for k, v in _leaves(item, f"{at}.{key}").items()}
    if isinstance(x, list):
        return {k: v for i, item in enumerate(x) for k, v in _leaves(item, f"{at}[{i}]").items()}
    return {at: x}


def assert_same_figures(fast: dict, official: dict, skip: set[str] = frozenset()) -> None:
    """The same fields in the same order, equal text and flags, and numbers equal to REL / ABS.

    The fast evaluator against Brightway: Brightway keeps its matrices in single precision (bw_processing), so
    figures agree to about 1e-7 relative; REL = 1e-6 relative or ABS = 1e-4 kg near zero. A process gas's surplus
    column runs a small difference of large flows (GJ delivered minus GJ burned per declared unit, decision record
    0008), so single precision leaves up to about 1e-5 kg on its rows, a thousandth of the 0.1 kg reports print.
    """
    got, expected = _leaves(fast), _leaves(official)
    assert [k for k in got if k not in skip] == [k for k in expected if k not in skip]
    for key, value in expected.items():
        if key in skip:
            continue
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=REL, abs=ABS), key
        else:
            assert got[key] == value, key
