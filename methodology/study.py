"""The facade a notebook or the CLI uses: one enterprise, one product, one rule, one factor set.

Everything is found by id and version in the catalogue (``schema.catalogue``): the parameter file names its
rule set, the rule names its factor set. No industry is a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from methodology.core.balances import balance_problems
from methodology.core.foreground import Foreground, build_foreground
from methodology.core.results import build_result
from methodology.errors import ParameterFileError
from methodology.outputs.files import atomic_write_bytes, atomic_write_text, write_result  # noqa: F401 - re-exported
from methodology.schema import catalogue
from methodology.schema.factors import FactorSet, load_factor_set
from methodology.schema.methods import gwp_indicators  # noqa: F401 - re-exported
from methodology.schema.parameters import EnterpriseData, ParameterFile, read_parameter_file, validate
from methodology.schema.rules import Rule, load_rule

ROOT = Path(__file__).resolve().parent.parent


def rule_file_for(parameter_file: str | Path) -> Path:
    """The catalogued rule file a parameter file names (``ParameterFileError`` listing the rule sets if none)."""
    return catalogue.rule_for_parameter_file(parameter_file)


def factor_file_for(rule_file: str | Path) -> Path:
    """The catalogued factor set a rule names in ``rule_set.factor_set`` (its highest version)."""
    return catalogue.factor_set_path(load_rule(rule_file).rule_set.factor_set)


def load_standards(rule_file: str | Path, factor_file: str | Path | None = None) -> tuple[Rule, FactorSet]:
    """The rule, checked against its factor set (the one given, else the one the rule names)."""
    factors = load_factor_set(factor_file or factor_file_for(rule_file))
    return load_rule(rule_file, factors), factors


def check_enterprise(pf: ParameterFile, rule: Rule, factors: FactorSet) -> EnterpriseData:
    """File-level validation, then the rule's balances: ``ParameterFileError`` with every problem found."""
    ed = validate(pf, rule, factors)
    problems = balance_problems(ed)
    if problems:
        raise ParameterFileError(ed.params.path or "(parameters)", problems)
    return ed


def load_enterprise(parameter_file: str | Path, rule: Rule, factors: FactorSet) -> EnterpriseData:
    """Read a parameter file and check it against its rule (``check_enterprise``)."""
    return check_enterprise(read_parameter_file(parameter_file), rule, factors)


def preload() -> None:
    """Read every catalogued factor set and rule into the loaders' caches, and the unit registry.

    Warm kernels call this before their run is known, so that the run's ``Study.prepare`` finds the
    validated objects its files' bytes give. Nothing fails here: a file with problems is simply not
    cached, and the run then reports them.
    """
    from methodology.units import registry

    registry()
    for entry in catalogue.entries("rule"):
        try:
            load_standards(entry.path)
        except Exception:  # noqa: BLE001,S112 - the run reports it
            continue


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
        """Load and validate everything (no Brightway): raises with every problem found.

        ``rule_file`` defaults to the rule set the parameter file names, ``factor_file`` to the factor set the
        rule names, both found in the catalogue.
        """
        rule, factors = load_standards(rule_file or rule_file_for(parameter_file), factor_file)
        ed = check_enterprise(read_parameter_file(parameter_file), rule, factors)
        return cls(rule, factors, ed, build_foreground(ed, factors), str(parameter_file))

    @classmethod
    def from_loaded(cls, ed: EnterpriseData, rule: Rule, factors: FactorSet, parameter_file: str) -> Study:
        """A study from an already validated enterprise (batches load the rule and factor set once)."""
        return cls(rule, factors, ed, build_foreground(ed, factors), str(parameter_file))

    def calculate(self, workdir: str | Path, *, keep_project: bool = False) -> dict:
        """Write the foreground into a private Brightway project, run the LCA, return result.json."""
        from methodology.brightway import engine

        with engine.run_project(workdir, self.factors, keep=keep_project) as bd:
            engine.write_foreground(bd, self.foreground, self.factors)
            calc = engine.calculate(bd, self.foreground, self.factors)
        return build_result(ed=self.enterprise, fg=self.foreground, fs=self.factors, calc=calc,
                            parameters_path=self.parameter_file, engine_scores=calc["scores"])

    def calculate_without_brightway(self) -> dict:
        """The same result from the numpy evaluator (for checks and compute-only batches)."""
        from methodology.core.matrix import characterise, first_tier_contributions, foreground_matrices

        cfs = gwp_indicators()
        m = foreground_matrices(self.foreground, self.factors)
        rows = characterise(first_tier_contributions(m, self.foreground), cfs)
        return build_result(ed=self.enterprise, fg=self.foreground, fs=self.factors,
                            calc={"rows": rows}, parameters_path=self.parameter_file)
