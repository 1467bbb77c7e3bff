"""Figures keep their labels inside: long process names are wrapped, items whose labels read alike stay apart."""

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
    assert all(lab.count("\n") < figures.LABEL_LINES for lab in labels)
    assert next(lab for lab in labels if lab.startswith("Coal")).endswith("...")  # shortened, not cut at the edge


def test_items_whose_wrapped_labels_read_alike_stay_two_bars():
    ax = figures.new_axes()
    figures.breakdown_bars(_result([LONG + " (line 1)", LONG + " (line 2)"]), "by_process", ax)
    assert len(ax.patches) == 2
    assert sorted(p.get_width() for p in ax.patches) == [10.0, 20.0]
