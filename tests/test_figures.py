"""Figures keep their labels inside: long process names are wrapped, two items of one name stay two bars."""

from __future__ import annotations

import warnings

from methodology.outputs import figures

LONG = ("Coal gasification, shift, acid-gas removal and ammonia synthesis, with the site's coal-fired boilers and "
        "air separation")


def _result(names):
    return {"by_process": [{"process": f"p{i}", "name": n, "total": 10.0 * (i + 1)} for i, n in enumerate(names)]}


def test_long_labels_are_wrapped_and_the_layout_applies():
    ax = figures.new_axes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when a label cannot fit ("Tight layout not applied")
        figures.breakdown_bars(_result([LONG, "Urea synthesis"]), "by_process", ax, "By process")
        ax.figure.tight_layout()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert max(len(line) for lab in labels for line in lab.split("\n")) <= figures.LABEL_WIDTH
    assert "".join(next(lab for lab in labels if lab.startswith("Coal")).split()) == "".join(LONG.split())  # whole


def test_driver_labels_are_wrapped_too():
    drivers = [{"quantity": LONG, "share": 0.6}, {"quantity": "coal", "share": 0.4}]
    ax = figures.uncertainty_tornado({"uncertainty": {"drivers": drivers, "p2_5": 1, "p97_5": 2, "median": 1.5,
                                                      "iterations": 10}})
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert max(len(line) for lab in labels for line in lab.split("\n")) <= figures.LABEL_WIDTH


def test_items_of_one_name_stay_two_bars():
    ax = figures.new_axes()
    figures.breakdown_bars(_result([LONG, LONG]), "by_process", ax)
    assert len(ax.patches) == 2
    assert sorted(p.get_width() for p in ax.patches) == [10.0, 20.0]
