"""Enterprise parameter files are validated against the rule before anything runs."""

from __future__ import annotations

import pytest
from conftest import ENTERPRISES, write_variant

from methodology.errors import ParameterFileError
from methodology.study import load_enterprise

BFBOF = next(p for p in ENTERPRISES if "integrated" in p.name)


def _load(path, rule, factors):
    return load_enterprise(path, rule, factors)


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_shipped_enterprises_are_valid_and_illustrative(path, rule, factors):
    ed = _load(path, rule, factors)
    assert ed.params.enterprise.illustrative is True
    assert "ILLUSTRATIVE" in path.read_text(encoding="utf-8").upper()


def _problem(tmp_path, rule, factors, mutate):
    path = write_variant(tmp_path, BFBOF, mutate)
    with pytest.raises(ParameterFileError) as exc:
        _load(path, rule, factors)
    assert str(path) in str(exc.value)
    return exc.value.problems


def test_missing_required_input(tmp_path, rule, factors):
    probs = _problem(tmp_path, rule, factors, lambda d: d["processes"]["blast-furnace"].pop("coke"))
    assert [(p.field, p.found) for p in probs] == [("processes.blast-furnace.coke", "nothing")]
    assert "Coke in t (required)" in probs[0].expected


def test_unit_that_does_not_convert(tmp_path, rule, factors):
    probs = _problem(tmp_path, rule, factors,
                     lambda d: d["processes"]["bof"]["oxygen"].update({"unit": "GJ"}))
    assert probs[0].field == "processes.bof.oxygen.unit"
    assert probs[0].found == "'GJ'" and "convertible to m3" in probs[0].expected


def test_negative_mass(tmp_path, rule, factors):
    probs = _problem(tmp_path, rule, factors,
                     lambda d: d["processes"]["sinter-plant"]["limestone"].update({"value": -5}))
    assert probs[0].field == "processes.sinter-plant.limestone.value"
    assert "-5" in probs[0].found and ">= 0" in probs[0].expected


def test_implausible_quantity(tmp_path, rule, factors):
    # 10x the coke rate: 3.6 t coke per t hot metal
    probs = _problem(tmp_path, rule, factors,
                     lambda d: d["processes"]["blast-furnace"]["coke"].update({"value": 13.57e6}))
    assert probs[0].field == "processes.blast-furnace.coke"
    assert probs[0].found.startswith("3.599 t/t") and "between 0.28 and 0.5 t/t" in probs[0].expected


def test_unknown_key(tmp_path, rule, factors):
    probs = _problem(tmp_path, rule, factors,
                     lambda d: d["processes"]["bof"].update({"oxygn": {"value": 1, "unit": "m3", "source": "x"}}))
    assert probs[0].field == "processes.bof.oxygn" and probs[0].found == "an unknown key"


def test_unknown_top_level_key(tmp_path, rule, factors):
    probs = _problem(tmp_path, rule, factors, lambda d: d.update({"prodcut": "x"}))
    assert probs[0].field == "prodcut" and "no such key" in probs[0].expected


def test_process_gas_balance_checked(tmp_path, rule, factors):
    probs = _problem(tmp_path, rule, factors,
                     lambda d: d["processes"]["power-plant"]["blast_furnace_gas"].update({"value": 1.0e6}))
    assert probs[0].field == "process gas balance (blast-furnace-gas)"
    assert "unaccounted" in probs[0].found


def test_every_problem_reported_at_once(tmp_path, rule, factors):
    def mutate(d):
        d["processes"]["bof"]["oxygen"]["unit"] = "GJ"
        d["processes"]["sinter-plant"]["limestone"]["value"] = -1

    assert len(_problem(tmp_path, rule, factors, mutate)) == 2


def test_primary_data_mandatory(tmp_path, rule, factors):
    probs = _problem(tmp_path, rule, factors,
                     lambda d: d["processes"]["blast-furnace"]["coke"].update({"primary": False}))
    assert probs[0].field == "processes.blast-furnace.coke.primary"


def test_metallic_yield_checked(tmp_path, rule, factors):
    # liquid steel above the metal charged to the BOF: more iron out than in
    def mutate(d):
        bof = d["processes"]["bof"]
        bof["liquid_steel"]["value"] = 1.05 * (float(bof["hot_metal"]["value"]) + float(bof["scrap"]["value"]))
    probs = _problem(tmp_path, rule, factors, mutate)
    yield_probs = [p for p in probs if "yield" in p.found]
    assert [p.field for p in yield_probs] == ["processes.bof.liquid_steel"]
    assert yield_probs[0].found.startswith("BOF metallic yield 1.050")
    assert "between 0.85 and 0.98" in yield_probs[0].expected


def test_file_that_is_not_utf8_is_a_problem_not_a_traceback(tmp_path):
    from methodology.study import Study

    path = tmp_path / "latin1.yaml"
    path.write_bytes("enterprise: {name: \"Stahlw\xe4rk\"}\n".encode("latin-1"))
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(path)
    (problem,) = exc.value.problems
    offset = len("enterprise: {name: \"Stahlw")
    assert problem.field == f"line 1 (byte {offset})"
    assert problem.expected == "a UTF-8 text file (save the file as UTF-8)"


def test_unit_errors_belong_to_the_error_hierarchy():
    from methodology.errors import MethodologyError
    from methodology.units import UnitParseError, conversion_factor

    with pytest.raises(MethodologyError):
        conversion_factor("kWh", "t")
    assert issubclass(UnitParseError, ValueError)


def test_assessment_date_given_as_text():
    from methodology.errors import MethodologyError
    from methodology.study import Study

    assert Study.prepare(ENTERPRISES[0], assessment_date="2027-06-30").age_reference.date.isoformat() == "2027-06-30"
    assert Study.prepare(ENTERPRISES[0], assessment_date="").assessment_date is None
    with pytest.raises(MethodologyError, match="assessment_date: found '2027-13-01'; expected a date YYYY-MM-DD"):
        Study.prepare(ENTERPRISES[0], assessment_date="2027-13-01")
