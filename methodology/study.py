"""The facade a notebook or the CLI uses: one enterprise, one product, one rule, one factor set."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .factors import FactorSet, load_factor_set
from .foreground import Foreground, build_foreground
from .parameters import EnterpriseData, load_enterprise
from .results import build_result
from .rules import Rule, load_rule

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACTORS = ROOT / "standards" / "factors" / "cn-core.yaml"
RULES = {"steel": ROOT / "standards" / "steel" / "pcr-steel.yaml"}


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        import yaml

        from .matrix import characterise, first_tier_contributions, foreground_matrices

        cfs = yaml.safe_load((ROOT / "standards" / "methods" / "gwp100-ar6.yaml").read_text())["indicators"]
        m = foreground_matrices(self.foreground, self.factors)
        rows = characterise(first_tier_contributions(m, self.foreground), cfs)
        return build_result(ed=self.enterprise, fg=self.foreground, fs=self.factors,
                            calc={"rows": rows}, parameters_path=self.parameter_file)


def write_result(result: dict, out_dir: str | Path) -> Path:
    path = Path(out_dir) / "result.json"
    atomic_write_text(path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return path
