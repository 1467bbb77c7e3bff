"""The catalogue: rules, factor sets and methods by id and version; no industry is a default."""

from __future__ import annotations

import shutil

import pytest
from conftest import ENTERPRISES, ROOT, write_variant

from methodology.errors import ParameterFileError
from methodology.schema import catalogue
from methodology.study import Study, rule_file_for


def test_shipped_standards_are_catalogued():
    rules = {(e.id, e.version): e for e in catalogue.entries("rule")}
    assert rules[("cn-pcr-steel", "1.4.0")].path == ROOT / "standards" / "steel" / "pcr-steel.yaml"
    assert catalogue.factor_set_path("cn-core") == ROOT / "standards" / "factors" / "cn-core.yaml"
    assert catalogue.method_path("gwp100-ar6") == ROOT / "standards" / "methods" / "gwp100-ar6.yaml"


@pytest.mark.parametrize("change, found", [
    ({"id": "cn-pcr-cemnet", "version": "1.0.0"}, "cn-pcr-cemnet 1.0.0 (not in the catalogue)"),
    ({"id": "cn-pcr-steel", "version": "9.9.9"}, "cn-pcr-steel 9.9.9 (not in the catalogue)"),
])
def test_unknown_rule_set_refused_by_name_listing_what_exists(tmp_path, change, found):
    path = write_variant(tmp_path, ENTERPRISES[0], lambda d: d.__setitem__("rule_set", change))
    with pytest.raises(ParameterFileError) as err:
        Study.prepare(path)
    (problem,) = err.value.problems
    assert (problem.file, problem.field, problem.found) == (str(path), "rule_set", found)
    assert "cn-pcr-steel 1.4.0" in problem.expected  # lists what exists


def test_missing_rule_set_and_unreadable_file_named(tmp_path):
    path = write_variant(tmp_path, ENTERPRISES[0], lambda d: d.pop("rule_set"))
    with pytest.raises(ParameterFileError) as err:
        rule_file_for(path)
    assert err.value.problems[0].field == "rule_set" and err.value.problems[0].found == "nothing"
    with pytest.raises(ParameterFileError, match="no such file"):
        rule_file_for(tmp_path / "absent.yaml")


def test_unknown_rule_set_is_invalid_in_a_batch_not_judged_as_steel(tmp_path):
    from methodology.execution.batch import plan

    bad = write_variant(tmp_path, ENTERPRISES[0], lambda d: d.__setitem__("rule_set", {"id": "cn-pcr-cemnet",
                                                                                        "version": "1.0.0"}))
    p = plan([bad, ENTERPRISES[1]], tmp_path / "runs")
    assert [x["parameter_file"] for x in p.invalid] == [str(bad.resolve())]
    shipped = ", ".join(sorted(f"{e.id} {e.version}" for e in catalogue.entries("rule")))  # every industry's
    assert {"cn-pcr-aluminium 1.1.0", "cn-pcr-cement 1.1.0", "cn-pcr-steel 1.4.0"} <= set(shipped.split(", "))
    assert p.invalid[0]["problems"] == ["rule_set: found cn-pcr-cemnet 1.0.0 (not in the "
                                        "catalogue); expected one of the rule sets under standards/: " + shipped]
    assert len(p.todo) + len(p.skipped) == 1


def test_a_new_industry_is_a_folder_of_data(tmp_path):
    """A copy of the steel rule under another id in a new folder is found without any code change."""
    standards = tmp_path / "standards"
    shutil.copytree(ROOT / "standards", standards)
    (standards / "widgets").mkdir()
    write_variant(standards / "widgets", ROOT / "standards" / "steel" / "pcr-steel.yaml",
                  lambda d: d["rule_set"].update(id="cn-pcr-widgets", industry="widgets", version="0.1.0"),
                  name="pcr-widgets.yaml")
    entry = catalogue.find("rule", "cn-pcr-widgets", "0.1.0", standards)
    assert entry.industry == "widgets" and entry.path == standards / "widgets" / "pcr-widgets.yaml"
    with pytest.raises(catalogue.CatalogueError, match="cn-pcr-steel 1.4.0, cn-pcr-widgets 0.1.0"):
        catalogue.find("rule", "cn-pcr-gadgets", "1.0.0", standards)


def test_highest_version_when_none_is_asked(tmp_path):
    standards = tmp_path / "standards"
    (standards / "factors").mkdir(parents=True)
    for v in ("0.9.0", "0.10.0", "0.10.0-rc.1"):
        (standards / "factors" / f"f-{v}.yaml").write_text(f"factor_set: {{id: f, version: {v}}}\n")
    assert catalogue.find("factor_set", "f", None, standards).version == "0.10.0"


def test_rule_naming_an_unknown_factor_set_is_refused_at_that_field(tmp_path):
    from methodology.errors import RuleError
    from methodology.study import load_standards

    rule = write_variant(tmp_path, ROOT / "standards" / "steel" / "pcr-steel.yaml",
                         lambda d: d["rule_set"].update(factor_set="cn-cor"))
    with pytest.raises(RuleError) as err:
        load_standards(rule)
    (problem,) = err.value.problems
    assert (problem.file, problem.field, problem.found) == (str(rule), "rule_set.factor_set", "'cn-cor' (not in the "
                                                            "catalogue)")
    assert "cn-core 0.2.0" in problem.expected
