"""The facade a notebook or the CLI uses: one enterprise, one product, one rule, one factor set."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from .factors import FactorSet, load_factor_set
from .foreground import Foreground, build_foreground
from .loading import load_yaml
from .parameters import EnterpriseData, load_enterprise
from .results import build_result
from .rules import Rule, load_rule

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACTORS = ROOT / "standards" / "factors" / "cn-core.yaml"
RULES = {"steel": ROOT / "standards" / "steel" / "pcr-steel.yaml"}
GWP_METHOD = ROOT / "standards" / "methods" / "gwp100-ar6.yaml"


@functools.lru_cache(maxsize=1)
def gwp_indicators() -> Mapping[str, Mapping[str, float]]:
    """Characterisation factors (kg CO2e per kg of gas) per indicator, read once per process.

    ``{indicator: {gas: factor}}`` from ``standards/methods/gwp100-ar6.yaml``, in the file's order (fossil,
    biogenic, land use). Read-only views: the cached tables are shared by every caller.
    """
    raw = load_yaml(GWP_METHOD.read_text(encoding="utf-8"))["indicators"]
    return MappingProxyType({ind: MappingProxyType(dict(table or {})) for ind, table in raw.items()})


@functools.lru_cache(maxsize=4)
def rule_index(standards: Path = ROOT / "standards") -> dict[tuple[str, str], Path]:
    """(rule-set id, version) -> rule file, for every rule file under ``standards/<industry>/``."""
    out = {}
    for path in sorted(standards.glob("*/*.yaml")):
        head = load_yaml(path.read_text(encoding="utf-8"))
        rs = head.get("rule_set") if isinstance(head, dict) else None
        if isinstance(rs, dict) and "id" in rs and "version" in rs:
            out[(str(rs["id"]), str(rs["version"]))] = path
    return out


def rule_file_for(parameter_file: str | Path) -> Path:
    """The shipped rule file a parameter file names in ``rule_set: {id, version}``.

    Unreadable files or unknown rule sets fall back to the steel rule, whose validation then reports
    the problem with file, field, found and expected.
    """
    try:
        rs = load_yaml(Path(parameter_file).read_text(encoding="utf-8"))["rule_set"]
        return rule_file_named(rs["id"], rs["version"])
    except Exception:  # noqa: BLE001 - validation against the default rule explains what is wrong
        return RULES["steel"]


def rule_file_named(rule_set_id: str, version: str) -> Path:
    """The shipped rule file of a rule set and version; the steel rule when there is none (see above)."""
    return rule_index().get((str(rule_set_id), str(version)), RULES["steel"])


def preload() -> None:
    """Read the default factor set and every shipped rule into the loaders' caches, and the unit registry.

    Warm kernels call this before their run is known, so that the run's ``Study.prepare`` finds the
    validated objects its files' bytes give. Nothing fails here: a file with problems is simply not
    cached, and the run then reports them.
    """
    from .units import registry

    registry()
    try:
        fs = load_factor_set(DEFAULT_FACTORS)
    except Exception:  # noqa: BLE001 - the run reports it
        return
    for path in rule_index().values():
        try:
            load_rule(path, fs)
        except Exception:  # noqa: BLE001,S112 - the run reports it
            continue


_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@dataclass
class Study:
    rule: Rule
    factors: FactorSet
    enterprise: EnterpriseData
    foreground: Foreground
    parameter_file: str

    @classmethod
    def prepare(cls, parameter_file: str | Path, rule_file: str | Path | None = None,
                factor_file: str | Path | None = None) -> Study:
        """Load and validate everything (no Brightway): raises with every problem found."""
        factors = load_factor_set(factor_file or DEFAULT_FACTORS)
        rule = load_rule(rule_file or RULES["steel"], factors)
        ed = load_enterprise(parameter_file, rule, factors)
        return cls(rule, factors, ed, build_foreground(ed, factors), str(parameter_file))

    @classmethod
    def from_loaded(cls, ed: EnterpriseData, rule: Rule, factors: FactorSet, parameter_file: str) -> Study:
        """A study from an already validated enterprise (batches load the rule and factor set once)."""
        return cls(rule, factors, ed, build_foreground(ed, factors), str(parameter_file))

    def calculate(self, workdir: str | Path, *, keep_project: bool = False) -> dict:
        """Write the foreground into a private Brightway project, run the LCA, return result.json."""
        from . import engine

        with engine.run_project(workdir, self.factors, keep=keep_project) as bd:
            engine.write_foreground(bd, self.foreground, self.factors)
            calc = engine.calculate(bd, self.foreground, self.factors)
        return build_result(ed=self.enterprise, fg=self.foreground, fs=self.factors, calc=calc,
                            parameters_path=self.parameter_file, engine_scores=calc["scores"])

    def calculate_without_brightway(self) -> dict:
        """The same result from the numpy evaluator (for checks and compute-only batches)."""
        from .matrix import characterise, first_tier_contributions, foreground_matrices

        cfs = gwp_indicators()
        m = foreground_matrices(self.foreground, self.factors)
        rows = characterise(first_tier_contributions(m, self.foreground), cfs)
        return build_result(ed=self.enterprise, fg=self.foreground, fs=self.factors,
                            calc={"rows": rows}, parameters_path=self.parameter_file)


def write_result(result: dict, out_dir: str | Path) -> Path:
    path = Path(out_dir) / "result.json"
    atomic_write_text(path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return path
