"""Multi-output processes and internal co-products on the toy rule (tests/fixtures/toy), by hand.

The splitter makes a main product (reference), a side product used by another process of the chain, and sells a
by-product. Its whole burden per year: 1000 GJ feed x 15 kg C/GJ x 44/12 (carbon balance, no carbon leaves in
products) + 10 000 kWh x 0.5 kg/kWh = 55 000 + 5 000 = 60 000 kg CO2e. Outputs: main 100 t, side 50 t,
by-product 25 t. The user turns 40 t of side product and 2 000 kWh (1 000 kg) into 40 t of finished product.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_same_figures, write_variant

from methodology.core.allocation import partition
from methodology.errors import ParameterFileError, RuleError
from methodology.schema.factors import load_factor_set
from methodology.schema.rules import load_rule
from methodology.study import Study

TOY = Path(__file__).resolve().parent / "fixtures" / "toy"
RULE = TOY / "standards" / "toy" / "pcr-toy.yaml"
FACTORS = TOY / "standards" / "factors" / "toy-factors.yaml"
CHAIN = TOY / "parameters" / "toy-chain.yaml"
WHOLE = 1000 * 15 * 44 / 12 + 10000 * 0.5  # kg CO2e per year of the splitter, all outputs together


def chain(tmp_path, product: str, approach: str = "mass", mutate_params=None) -> Study:
    def set_approach(d):
        next(p for p in d["processes"] if p["id"] == "splitter")["allocation"]["approach"] = approach
        if approach == "system_expansion":  # the side product is then credited, not made: not declarable
            d["products"] = [p for p in d["products"] if p["id"] != "side"]

    rule = write_variant(tmp_path, RULE, set_approach, name=f"rule-{approach}.yaml")

    def change(d):
        d["product"] = product
        if mutate_params:
            mutate_params(d)

    return Study.prepare(write_variant(tmp_path, CHAIN, change, name=f"{product}.yaml"), rule, FACTORS)


def total(st: Study) -> float:
    return st.calculate_without_brightway().gwp100_kg_co2e.total


# shares of (main, side, by-product) by hand
SHARES = {
    "mass": (100 / 175, 50 / 175, 25 / 175),
    "energy": (4000 / 6000, 1500 / 6000, 500 / 6000),  # 40, 30, 20 GJ/t
    "economic": (100000 / 210000, 100000 / 210000, 10000 / 210000),  # 1000, 2000, 400 CNY/t
}


@pytest.mark.parametrize("approach", sorted(SHARES))
def test_partition_by_hand_and_burdens_sum_back_to_the_whole(tmp_path, approach):
    main_share, side_share, by_share = SHARES[approach]
    st = chain(tmp_path, "main", approach)
    cols = st.foreground.processes
    assert cols["splitter"].allocation_factor == pytest.approx(main_share)
    assert cols["splitter::side"].allocation_factor == pytest.approx(side_share)
    assert main_share + side_share + by_share == pytest.approx(1.0)
    assert total(st) == pytest.approx(WHOLE * main_share / 100)
    assert total(chain(tmp_path, "side", approach)) == pytest.approx(WHOLE * side_share / 50)
    # the two columns and the by-product's share add back to the whole process, exchange by exchange
    for a, b in zip(cols["splitter"].exchanges, cols["splitter::side"].exchanges, strict=True):
        assert a.target == b.target
        assert a.amount / main_share == pytest.approx(b.amount / side_share)
        assert a.amount + b.amount == pytest.approx(a.amount / main_share * (1 - by_share))
    # footprints x amounts + what the by-product takes away = the whole burden
    main, side = total(st), total(chain(tmp_path, "side", approach))
    assert main * 100 + side * 50 + WHOLE * by_share == pytest.approx(WHOLE)


@pytest.mark.parametrize("approach", sorted(SHARES))
def test_internal_coproduct_links_to_its_column(tmp_path, approach):
    st = chain(tmp_path, "finished", approach)
    user = st.foreground.processes["user"]
    (link,) = [e for e in user.exchanges if e.linked_to == "foreground"]
    assert (link.target, link.amount) == ("splitter::side", 40)
    side_per_t = WHOLE * SHARES[approach][1] / 50
    assert total(st) == pytest.approx((40 * side_per_t + 1000) / 40)


def test_system_expansion_credits_coproducts_and_users_buy_the_substitute(tmp_path):
    st = chain(tmp_path, "main", "system_expansion")
    assert list(st.foreground.processes) == ["splitter"]
    # credits: 50 t side and 25 t by-product each replace 100 kg CO2e/t
    assert total(st) == pytest.approx((WHOLE - 50 * 100 - 25 * 100) / 100)
    fin = chain(tmp_path, "finished", "system_expansion")
    # the user buys 40 t of the substitute; the splitter is not in the finished product's system
    assert list(fin.foreground.processes) == ["user"]
    assert total(fin) == pytest.approx((40 * 100 + 1000) / 40)


def test_measured_ncv_of_an_output_replaces_the_energy_content(tmp_path):
    st = chain(tmp_path, "main", "energy", lambda d: d["processes"]["splitter"]["main"].update(
        net_calorific_value={"value": 45, "unit": "GJ/t", "source": "lab"}))
    assert st.foreground.processes["splitter"].allocation_factor == pytest.approx(4500 / (4500 + 1500 + 500))


def test_partition_function():
    assert partition([1.0, 3.0]) == [0.25, 0.75]
    with pytest.raises(Exception, match="sum to 0"):
        partition([0.0, 0.0])


# --- the rule states what each approach needs -------------------------------------------------------------
def _problems(tmp_path, mutate):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), load_factor_set(FACTORS))
    return [(p.field, p.found, p.expected) for p in exc.value.problems]


def test_rule_refuses_a_non_reference_product_without_substitute_under_expansion(tmp_path):
    def mutate(d):
        next(p for p in d["processes"] if p["id"] == "splitter")["allocation"]["approach"] = "system_expansion"
        next(p for p in d["intermediate_products"] if p["id"] == "side").pop("substitutes")

    assert ("intermediate_products.side.substitutes", "nothing", "the avoided product it replaces: process "
            "'splitter' makes it besides its reference product under system expansion") in _problems(tmp_path, mutate)


def test_rule_refuses_a_declared_non_reference_product_under_expansion(tmp_path):
    def mutate(d):
        next(p for p in d["processes"] if p["id"] == "splitter")["allocation"]["approach"] = "system_expansion"

    (problem,) = _problems(tmp_path, mutate)
    assert problem[:2] == ("products.side.output", "'side'")


def test_rule_refuses_energy_allocation_without_energy_contents(tmp_path):
    def mutate(d):
        next(p for p in d["processes"] if p["id"] == "splitter")["allocation"]["approach"] = "energy"
        next(p for p in d["intermediate_products"] if p["id"] == "main").pop("energy_content")
        next(c for c in d["allocation"]["coproducts"] if c["id"] == "toy-by").pop("energy_content")

    assert [p[0] for p in _problems(tmp_path, mutate)] == ["intermediate_products.main.energy_content",
                                                           "allocation.coproducts.toy-by.energy_content"]


def test_rule_refuses_two_products_without_a_reference(tmp_path):
    def mutate(d):
        next(p for p in d["processes"] if p["id"] == "splitter")["outputs"][0].pop("reference")

    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), load_factor_set(FACTORS))
    assert "mark exactly one `reference: true`" in exc.value.problems[0].expected


def test_a_used_coproduct_that_is_not_made_is_refused(tmp_path):
    with pytest.raises(ParameterFileError) as exc:
        chain(tmp_path, "finished", "mass", lambda d: d["processes"]["splitter"].update(
            side={"value": 0, "unit": "t", "source": "toy"}))
    assert [(p.field, p.found) for p in exc.value.problems] == [("processes.splitter.side", "nothing or 0")]


@pytest.mark.engine
@pytest.mark.parametrize("approach", ["mass", "energy", "economic", "system_expansion"])
def test_brightway_equals_numpy_for_each_approach(tmp_path, bw_project, approach):
    from methodology.brightway import engine

    engine.setup_project(load_factor_set(FACTORS), log=lambda *a: None)
    st = chain(tmp_path, "finished", approach)
    official = st.calculate(tmp_path / "run")
    assert official.checks.brightway_scores_match
    # the fast evaluator gives Brightway's result on every figure (breakdowns, mechanisms, balances, checks)
    assert_same_figures(st.calculate_without_brightway().model_dump(mode="json"), official.model_dump(mode="json"),
                        skip={".checks.brightway_scores_match", ".provenance.generated_at"})


def test_result_records_the_process_approach_and_column_factors(tmp_path):
    result = chain(tmp_path, "finished", "energy").calculate_without_brightway()
    assert result.allocation.approach == "system_expansion"  # the rule's
    assert result.allocation.approaches == {"splitter": "energy"}
    assert result.allocation.factors == {"splitter": pytest.approx(4000 / 6000),
                                         "splitter::side": pytest.approx(1500 / 6000)}
