"""The facade a notebook or the CLI uses: one enterprise, one product, one rule, one factor set.

Everything is found by id and version in the catalogue (``schema.catalogue``): the parameter file names its
rule set, the rule names its factor set. No industry is a default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from methodology.core import results
from methodology.core.balances import EnterpriseBalances, balance_problems, enterprise_balances
from methodology.core.contributions import Contributions
from methodology.core.foreground import Foreground, build_foreground, study_factors
from methodology.core.result import SCHEMA_FILE, AgeReference, Balances, Result
from methodology.errors import (
    CalculationError,
    InputFileError,
    MethodologyError,
    ParameterFileError,
    Problem,
    RuleError,
)
from methodology.outputs.files import atomic_write_bytes, atomic_write_text, write_result  # noqa: F401 - re-exported
from methodology.schema import catalogue, choices, variants
from methodology.schema.export import MODELS
from methodology.schema.factors import FactorSet, load_factor_set
from methodology.schema.loading import parse_model, read_yaml
from methodology.schema.methods import gwp_indicators
from methodology.schema.parameters import (
    EnterpriseData,
    IncompleteParameterFile,
    ParameterFile,
    read_parameter_file,
    validate,
)
from methodology.schema.rules import Rule, check_against_factor_set, load_rule
from methodology.schema.variants import Variant, load_variant
from methodology.schema.workbook import is_workbook

ROOT = Path(__file__).resolve().parent.parent
# every JSON Schema ``pcf schema`` writes into standards/schema/: the input file formats and result.json
SCHEMAS = {**MODELS, SCHEMA_FILE: Result}


def _date(value: dt.date | str | None) -> dt.date | None:
    """An assessment date given as a date or as ISO text (a notebook parameter); empty text is none."""
    if not isinstance(value, str):
        return value
    try:
        return dt.date.fromisoformat(value) if value.strip() else None
    except ValueError:
        raise MethodologyError(f"assessment_date: found {value!r}; expected a date YYYY-MM-DD") from None


def rule_file_for(parameter_file: str | Path) -> Path:
    """The catalogued rule file a parameter file names (``ParameterFileError`` listing the rule sets if none)."""
    return catalogue.rule_for_parameter_file(parameter_file)


def factor_file_for(rule_file: str | Path) -> Path:
    """The catalogued factor set a rule names in ``rule_set.factor_set`` (its highest version); ``RuleError`` at
    that field, listing the catalogued factor sets, when there is none."""
    named = load_rule(rule_file).rule_set.factor_set
    try:
        return catalogue.factor_set_path(named)
    except catalogue.CatalogueError:
        listing = ", ".join(e.label() for e in catalogue.entries("factor_set")) or "none"
        raise RuleError(str(rule_file), [Problem(str(rule_file), "rule_set.factor_set", f"{named!r} (not in the "
                                                 "catalogue)", f"one of the factor sets under standards/: {listing}")
                                         ]) from None


def load_standards(rule_file: str | Path, factor_file: str | Path | None = None) -> tuple[Rule, FactorSet]:
    """The rule, checked against its factor set (the one given, else the one the rule names)."""
    factors = load_factor_set(factor_file or factor_file_for(rule_file))
    return load_rule(rule_file, factors), factors


def all_problems(exc: IncompleteParameterFile, parameter_file: str | Path, rule_file: str | Path | None = None,
                 factor_file: str | Path | None = None) -> ParameterFileError:
    """A file's schema problems and, when the rest of it could be read, its problems against its rule, so that
    one validation reports everything (the rule's problems under the entries left out are not repeated)."""
    pf = exc.partial
    if pf is None:
        return exc
    try:
        rule_file = rule_file or catalogue.rule_named_by(parameter_file, pf.rule_set.id, pf.rule_set.version)
        rule, factors = load_standards(rule_file, factor_file)
        validate(pf, rule, factors, partial=True)
    except ParameterFileError as more:
        def under(fld: str) -> bool:
            return any(fld == r or fld.startswith((r + ".", r + "[")) for r in exc.removed)

        extra = [p for p in more.problems if not under(p.field)]
        return ParameterFileError(exc.file, exc.problems + [replace(p, file=exc.file) for p in extra])
    except MethodologyError:  # the rule or factor set itself is broken: reported when the file is fixed
        return exc
    return exc


def _checked(pf: ParameterFile, rule: Rule, factors: FactorSet) -> tuple[EnterpriseData, EnterpriseBalances]:
    ed = validate(pf, rule, factors)
    balances = enterprise_balances(ed)
    problems = balance_problems(ed, balances)
    if problems:
        raise ParameterFileError(ed.params.path or "(parameters)", problems)
    return ed, balances


def check_enterprise(pf: ParameterFile, rule: Rule, factors: FactorSet) -> EnterpriseData:
    """File-level validation, then the rule's balances: ``ParameterFileError`` with every problem found."""
    return _checked(pf, rule, factors)[0]


def load_enterprise(parameter_file: str | Path, rule: Rule, factors: FactorSet) -> EnterpriseData:
    """Read a parameter file and check it against its rule (``check_enterprise``)."""
    return check_enterprise(read_parameter_file(parameter_file), rule, factors)


def rule_with_selection(rule: Rule, selection: dict[str, str], factors: FactorSet | None = None) -> Rule:
    """The rule with other options of its ``factor_choices`` selected ({choice id: option id}), read again from
    its file and checked like any rule; for comparing the options (it is not the catalogued rule: its sha256
    says which options were selected)."""
    raw = choices.with_selection(read_yaml(rule.path, RuleError), selection)
    return _rule_variant(rule, raw, ",".join(f"{k}={v}" for k, v in sorted(selection.items())), factors)


def rule_with_grid_factor(rule: Rule, grid_factor: str, factors: FactorSet | None = None) -> Rule:
    """The rule with ``electricity.grid_factor`` set to ``national`` or ``regional`` (decision record 0011), read
    again from its file and checked like any rule (its sha256 says so); for comparing the two bases."""
    raw = dict(read_yaml(rule.path, RuleError))  # a shallow copy: the file's mapping is not changed
    if isinstance(raw.get("electricity"), dict):
        raw["electricity"] = {**raw["electricity"], "grid_factor": grid_factor}
    return _rule_variant(rule, raw, f"grid_factor={grid_factor}", factors)


def rule_with_variant(rule: Rule, variant: str | Path | Variant, factors: FactorSet | None = None) -> Rule:
    """The rule with a variant file's changes applied (``schema.variants``): same id and version, another
    content; every problem names the variant file. For comparing what a committee's change does."""
    v = variant if isinstance(variant, Variant) else load_variant(variant)
    bad = variants.base_problem(v, rule.id, rule.version)
    if bad is not None:
        raise RuleError(v.path, [bad])
    raw = variants.applied(read_yaml(rule.path, RuleError), v)
    out = _rule_variant(rule, raw, f"variant:{v.id}@{v.sha256[:12]}", factors, source=v.path)
    out._variant = {"id": v.id, "title": v.variant.title, "path": v.path, "sha256": v.sha256}
    return out


def _rule_variant(rule: Rule, raw: dict, tag: str, factors: FactorSet | None, source: str | None = None) -> Rule:
    """A rule read from ``raw`` (an edit of ``rule``'s file), checked like any rule; problems name ``source``
    (the file the edit comes from) or the rule's file."""
    where = source or rule.path
    variant = parse_model(Rule, raw, where, RuleError)
    variant._path, variant._sha256 = rule.path, f"{rule.sha256}+{tag}"
    problems = variant.reference_problems() + (check_against_factor_set(variant, factors) if factors else [])
    if problems:
        raise RuleError(where, [Problem(where, fld, found, expected) for fld, found, expected in problems])
    return variant


def rule_with_allocation(rule: Rule, approach: str, factors: FactorSet | None = None) -> Rule:
    """The rule with another rule-wide ``allocation.approach`` (mass, energy, economic, system_expansion), read
    again from its file and checked like any rule; processes with their own approach keep it. For comparing
    allocation bases (ISO 14044 4.3.4.2; docs/decisions/0003); its sha256 says which approach was chosen."""
    raw = read_yaml(rule.path, RuleError)
    raw = {**raw, "allocation": {**raw["allocation"], "approach": approach}}  # a copy: the file's cache stays
    return _rule_variant(rule, raw, f"allocation={approach}", factors)


def rule_with_bound_co2(rule: Rule, treatment: str, factors: FactorSet | None = None) -> Rule:
    """The rule with another ``carbon_accounting.bound_co2.treatment`` (not_credited, credited), read again from
    its file and checked like any rule; for showing both treatments of the CO2 bound in a product (urea)."""
    raw = read_yaml(rule.path, RuleError)
    acc = raw.get("carbon_accounting") or {}
    if "bound_co2" not in acc:
        raise RuleError(str(rule.path), [Problem(str(rule.path), "carbon_accounting.bound_co2", "nothing",
                                            "a bound_co2 section whose treatment to change")])
    raw = {**raw, "carbon_accounting": {**acc, "bound_co2": {**acc["bound_co2"], "treatment": treatment}}}
    return _rule_variant(rule, raw, f"bound_co2={treatment}", factors)


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
    """One enterprise's product under one rule and factor set, validated, with its foreground built.

    ``enterprise_balances``: the rule's balances as validation computed them (computed on construction if not
    given); ``assessment_date``: the date the reference period's age is counted to (default: the rule set's
    date), recorded in the result's ``data_quality.age_reference``.
    """

    rule: Rule
    factors: FactorSet
    enterprise: EnterpriseData
    foreground: Foreground
    parameter_file: str
    enterprise_balances: EnterpriseBalances | None = None
    assessment_date: dt.date | None = None

    def __post_init__(self) -> None:
        if self.enterprise_balances is None:
            self.enterprise_balances = enterprise_balances(self.enterprise)

    @classmethod
    def prepare(cls, parameter_file: str | Path, rule_file: str | Path | None = None,
                factor_file: str | Path | None = None, *, assessment_date: dt.date | str | None = None,
                data: bytes | None = None) -> Study:
        """Load and validate everything (no Brightway): raises with every problem found.

        ``rule_file`` defaults to the rule set the parameter file names, ``factor_file`` to the factor set the
        rule names, both found in the catalogue. ``assessment_date``: a date, or its ISO text (empty: none).
        ``data``: the parameter file's bytes, checked as if read from ``parameter_file`` (nothing is read).
        A filled data-collection workbook (``.xlsx``) is read by ``execution.workbooks.prepare``: the same checks,
        every problem with its cell, and the study records the workbook as its parameter file.
        """
        assessment_date = _date(assessment_date)
        if data is None and is_workbook(parameter_file):
            from methodology.execution import workbooks  # it imports this module

            return workbooks.prepare(parameter_file, rule_file, factor_file, assessment_date=assessment_date)
        try:
            pf = read_parameter_file(parameter_file, data)  # read once: it names its rule set, then is checked
        except IncompleteParameterFile as exc:
            raise all_problems(exc, parameter_file, rule_file, factor_file) from None
        rule_file = rule_file or catalogue.rule_named_by(parameter_file, pf.rule_set.id, pf.rule_set.version)
        rule, factors = load_standards(rule_file, factor_file)
        return cls.check(pf, rule, factors, parameter_file, assessment_date=assessment_date)

    @classmethod
    def check(cls, pf: ParameterFile, rule: Rule, factors: FactorSet, parameter_file: str | Path, *,
              assessment_date: dt.date | None = None) -> Study:
        """A study from a read parameter file, checked against an already loaded rule and factor set (batches
        load those once): ``ParameterFileError`` with every problem found."""
        ed, balances = _checked(pf, rule, factors)
        factors = study_factors(ed, factors)  # with the enterprise's supplier values, if it gives any
        fg = build_foreground(ed, factors, balances.process_gases)
        return cls(rule, factors, ed, fg, str(parameter_file), balances, assessment_date)

    @cached_property
    def balances(self) -> Balances:
        """The result's balances section (site carbon, process gases, electricity, yields), built once."""
        return results.balances_section(self.enterprise, self.foreground, self.factors, self.enterprise_balances)

    @property
    def age_reference(self) -> AgeReference:
        return results.age_reference(self.rule, self.assessment_date)

    def assemble(self, contributions: Contributions, cfs: Mapping[str, Mapping[str, float]], *,
                 engine_scores: Mapping[str, float] | None = None, generated_at: dt.datetime | None = None) -> Result:
        """The typed result from an evaluator's contributions table and characterisation (``results.assemble``)."""
        return results.assemble(
            ed=self.enterprise, fg=self.foreground, fs=self.factors, contributions=contributions, cfs=cfs,
            provenance=results.provenance(self.enterprise, self.factors, self.parameter_file,
                                          generated_at=generated_at),
            age=self.age_reference, balances=self.balances, engine_scores=engine_scores)

    def calculate(self, workdir: str | Path, *, keep_project: bool = False) -> Result:
        """The official result: the foreground written into a private Brightway project, the LCA run by bw2calc.

        ``keep_project``: leave that project in ``workdir/brightway`` (a Brightway data directory that
        bw2data and Activity Browser open with ``BRIGHTWAY2_DIR`` pointing there) instead of removing it.
        """
        from methodology.brightway import engine

        with engine.run_project(workdir, self.factors, keep=keep_project) as bd:
            engine.write_foreground(bd, self.foreground, self.factors)
            calc = engine.calculate(bd, self.foreground, self.factors)
        return self.assemble(calc.contributions, calc.cfs, engine_scores=calc.scores)

    def calculate_without_brightway(self) -> Result:
        """The same result from the fast evaluator (``core.compute``; tested equal to ``calculate``)."""
        return calculate_without_brightway([self])[0]

    def with_factor_choices(self, selection: Mapping[str, str]) -> Study:
        """The same enterprise under its rule with other options of the rule's ``factor_choices`` selected
        ({choice id: option id}), to compare what a committee's choice moves (``schema.choices``)."""
        return self._under(rule_with_selection(self.rule, dict(selection), self.factors))


    def with_grid_factor(self, grid_factor: str) -> Study:
        """The same enterprise under its rule with grid purchases at the ``national`` or ``regional`` grid factor
        (the rule's ``electricity.grid_factor``; decision record 0011), to see what the basis moves."""
        return self._under(rule_with_grid_factor(self.rule, grid_factor, self.factors))

    def monte_carlo(self, iterations: int = 10_000, *, seed: int = 1, spec: str | Path | None = None,
                    deterministic: float | None = None):
        """Monte Carlo uncertainty of this footprint from the pedigree of its activity data and background factors
        (``core.uncertainty``, decision record 0015): a ``core.result.Uncertainty``."""
        from methodology.core import result as R
        from methodology.core import uncertainty as U

        sp = U.load_spec(spec or U.DEFAULT_SPEC)
        mc = U.run(self.enterprise, self.foreground, self.factors, gwp_indicators(), iterations=iterations,
                   seed=seed, spec=sp)
        if not len(mc.samples):
            raise CalculationError(f"Monte Carlo: none of {iterations} iterations kept the rule's balances")
        st = U.statistics(mc.samples)
        return R.Uncertainty(
            method=U.METHOD, spec=R.FileRef(id=sp.uncertainty.id, version=sp.uncertainty.version, path=sp.path,
                                            sha256=sp.sha256),
            iterations=st.iterations, rejected=mc.rejected, seed=seed,
            deterministic_kg_co2e=deterministic if deterministic is not None
            else self.calculate_without_brightway().gwp100_kg_co2e.total, mean=st.mean,
            median=st.median, sd=st.sd, cv=st.cv, p2_5=st.p2_5, p97_5=st.p97_5, quantities=len(mc.names),
            held_by_balance=list(mc.held),
            drivers=[R.UncertaintyDriver(quantity=q, share=round(x, 4))
                     for q, x in U.contribution_to_variance(mc.samples, mc.multipliers, mc.names)],
            not_sampled=U.NOT_SAMPLED)

    def sensitivity(self, n: int = 256, *, seed: int = 1, spec: str | Path | None = None):
        """Sobol indices (first and total order) of the total per group of uncertain quantities, with SALib
        (``core.sensitivity``; the quantities and distributions of ``monte_carlo``); ``n`` base samples."""
        from methodology.core import sensitivity
        from methodology.core import uncertainty as U

        m = U.model(self.enterprise, self.foreground, self.factors, gwp_indicators(),
                    U.load_spec(spec or U.DEFAULT_SPEC))
        return sensitivity.sobol(m, n=n, seed=seed)

    def with_uncertainty(self, result: Result, iterations: int = 10_000, *, seed: int = 1,
                         sobol_samples: int = 1024) -> Result:
        """``result`` with its ``uncertainty`` (``monte_carlo``) and the Sobol indices (``sensitivity``, with
        ``sobol_samples`` base samples; 0: none); 0 iterations leaves the result without uncertainty."""
        if iterations <= 0:
            return result
        from methodology.core import result as R

        u = self.monte_carlo(iterations, seed=seed, deterministic=result.gwp100_kg_co2e.total)
        if sobol_samples > 0:
            s = self.sensitivity(sobol_samples, seed=seed)
            u = u.model_copy(update={"sobol_base_samples": s.base_samples, "sobol": [
                R.SobolGroup(group=x.group, quantities=x.quantities, S1=round(x.S1, 4), S1_conf=round(x.S1_conf, 4),
                             ST=round(x.ST, 4), ST_conf=round(x.ST_conf, 4)) for x in s.indices]})
        return result.model_copy(update={"uncertainty": u})

    def grid_factor_results(self) -> dict[str, Result | str]:
        """This enterprise under each grid basis the rule offers (``national``, and ``regional`` when the rule lists
        regional factors; decision record 0011), fast evaluator: each result, or why it cannot be computed (a
        province in two grid regions without ``enterprise.grid_region``), as a line without file paths."""
        out: dict[str, Result | str] = {}
        for basis in ("national", "regional") if self.rule.electricity.regional_factors else ("national",):
            try:
                out[basis] = self.with_grid_factor(basis).calculate_without_brightway()
            except InputFileError as exc:
                out[basis] = "; ".join(f"{p.field}: found {p.found}; expected {p.expected}" for p in exc.problems)
        return out

    def with_variant(self, variant: str | Path | Variant) -> Study:
        """The same enterprise under its rule with a variant file's changes applied (``schema.variants``)."""
        return self._under(rule_with_variant(self.rule, variant, self.factors))

    def with_allocation(self, approach: str) -> Study:
        """The same enterprise under its rule with another rule-wide allocation approach (``rule_with_allocation``),
        to show what the choice of basis moves."""
        return self._under(rule_with_allocation(self.rule, approach, self.factors))

    def with_bound_co2(self, treatment: str) -> Study:
        """The same enterprise under its rule with another treatment of the CO2 bound in products
        (``rule_with_bound_co2``: not_credited or credited), as the fertilizer notebook shows."""
        return self._under(rule_with_bound_co2(self.rule, treatment, self.factors))

    def _under(self, rule: Rule) -> Study:
        """The same parameter data (as read once: a workbook's too, or a file given as bytes) checked against another
        version of its rule."""
        return Study.check(self.enterprise.params, rule, self.factors, self.parameter_file,
                           assessment_date=self.assessment_date)

    def with_product(self, product: str) -> Study:
        """The same enterprise and data declaring another product of its rule (e.g. an intermediate that is also
        a declared product, such as clinker in a cement plant or liquid metal in a smelter that casts ingot),
        validated as if the parameter file named it: a reviewer sees both declared units of one site."""
        pf = self.enterprise.params.model_copy(update={"product": product})
        return Study.check(pf, self.rule, self.factors, self.parameter_file, assessment_date=self.assessment_date)


def calculate_without_brightway(studies: Sequence[Study], *, keep_going: bool = False) -> list:
    """The results of many studies from the fast evaluator: one stacked system and one LU factorisation per
    factor set (``core.compute``), each result assembled from its contributions table as ``calculate`` does.

    ``keep_going``: a study whose calculation fails (``MethodologyError``, e.g. physically impossible figures)
    gets its error in its place in the list instead of stopping the others."""
    from methodology.core import compute

    cfs = gwp_indicators()
    generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out: list = [None] * len(studies)
    groups: dict[tuple, list[int]] = {}
    for i, study in enumerate(studies):
        groups.setdefault(compute.factor_set_key(study.factors), []).append(i)
    for members in groups.values():
        st = compute.stack([studies[i].foreground for i in members], studies[members[0]].factors)
        for i, table in zip(members, compute.contributions(st, compute.scaling(st)), strict=True):
            try:
                out[i] = studies[i].assemble(table, cfs, generated_at=generated_at)
            except MethodologyError as exc:
                if not keep_going:
                    raise
                out[i] = exc
    return out
