"""The CBAM goods file (``standards/cbam/goods.yaml``): which products of the rules are goods of the EU Carbon Border
Adjustment Mechanism, and how a result's processes and purchased inputs map onto the CBAM boundary.

Strict models (a typo is an error naming the file and field); the cross-references inside the file are checked
(each good's category exists, its precursors are relevant precursors of that category, the gases are of the
workbench's vocabulary). Which processes and factors a rule has is not checked here: one entry serves every route
of a product (a process or factor the result does not have contributes nothing).
"""

from __future__ import annotations

import functools
import string
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from methodology.errors import InputFileError
from methodology.gases import Gas
from methodology.schema.common import KEBAB, FileBacked, Strict
from methodology.schema.loading import model_loader

ROOT = Path(__file__).resolve().parents[2]
GOODS_FILE = ROOT / "standards" / "cbam" / "goods.yaml"


class CbamFileError(InputFileError):
    """The CBAM goods file is invalid."""


class GridElectricity(Strict):
    """The emission factor CBAM's indirect emissions take for grid electricity (Implementing Regulation (EU)
    2023/1773 Annex III D.4.3; 2025/2547 Annex III): a CO2 factor of generation, not the PCF's life-cycle one."""

    factor: str = Field(pattern=KEBAB, description="factor id in the result's factor set (per kWh)")
    basis: str = Field(description="the clause the choice follows and why this factor")


class Header(Strict):
    id: str = Field(pattern=KEBAB)
    version: str
    date: str
    regulations: dict[str, str] = Field(description="the acts the file follows, by key")
    decision: str = Field(description="the decision record governing the mapping, relative to the repository")
    annex_i_source: str = Field(min_length=10, description="where the goods' Annex I entries were read")
    grid_electricity: GridElectricity


class Check(Strict):
    """Whether a statement of the file was read in a source, and where."""

    verified: bool = Field(description="true: read in the source named; false: not found in a readable copy")
    source: str = Field(min_length=1, description="the copy checked (document, year, address), or why none was")
    note: str | None = None


CnCheck = Check  # the check of a good's 8-digit CN code in a copy of the Combined Nomenclature


class Category(Strict):
    """An aggregated goods category (Implementing Regulation (EU) 2025/2547 Annex I point 2; 2023/1773 Annex II)."""

    name: str
    sector: str
    gases: list[Gas] = Field(min_length=1, description="the greenhouse gases Annex I of Regulation 2023/956 counts")
    indirect_in_obligation: bool = Field(
        description="false: only direct emissions enter the CBAM obligation (Regulation 2023/956 Annex II)")
    precursors: list[str] = Field(description="relevant precursors: keys of categories")
    precursors_check: Check = Field(description="where the list of relevant precursors was read")


NOTE_FIELDS = {"category", "gases"}  # the placeholders a boundary note may use


class BoundaryNotes(Strict):
    """The texts every CBAM table carries on where the CBAM boundary differs from the PCF's. ``{category}`` and
    ``{gases}`` are replaced by the good's category name and counted gases."""

    boundary: str = Field(description="what CBAM counts and what the cradle-to-gate PCF counts beside it")
    gases: str = Field(description="the gases counted, and those left out")
    direct_only: str = Field(description="for goods of Annex II of Regulation 2023/956")
    direct_and_indirect: str = Field(description="for the other goods")
    general: list[str] = Field(description="further notes every table carries")

    @field_validator("boundary", "gases", "direct_only", "direct_and_indirect")
    @classmethod
    def _placeholders(cls, text: str) -> str:
        unknown = sorted({f for _, f, _, _ in string.Formatter().parse(text) if f is not None} - NOTE_FIELDS)
        if unknown:
            raise ValueError(f"unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)}; "
                             f"expected only {', '.join('{' + f + '}' for f in sorted(NOTE_FIELDS))}")
        return text


class AnnexEntry(Strict):
    """The entry of Annex I to Regulation (EU) 2023/956 that lists the good: a CN code of 2 to 8 digits, possibly
    with codes it excepts."""

    code: str = Field(pattern=r"^\d{2}(\d{2})?( \d{1,2}( \d{2})?)?$", description="as Annex I writes it: '3102'")
    title: str
    excluding: list[str] = Field([], description="codes the entry excepts ('Except: ...')")

    def covers(self, cn_code: str) -> bool:
        digits = cn_code.replace(" ", "")
        return digits.startswith(self.code.replace(" ", "")) and not any(
            digits.startswith(x.replace(" ", "")) for x in self.excluding)


class OwnPrecursor(Strict):
    category: str
    processes: list[str] = Field(min_length=1, description="the rule's processes making it within the installation")
    note: str | None = None


class PurchasedPrecursor(Strict):
    category: str
    factors: list[str] = Field(min_length=1, description="factor ids of the purchased precursor")
    note: str | None = None


class Excluded(Strict):
    process: str
    why: str


class Good(Strict):
    """One product of one rule (optionally one product family) as a CBAM good."""

    rule: str = Field(pattern=KEBAB)
    product: str = Field(pattern=KEBAB)
    family: str | None = Field(None, description="a product family of the rule, when the CN code depends on it")
    cn_code: str = Field(pattern=r"^\d{4} \d{2} \d{2}$", description="8-digit CN code, as '7208 38 00'")
    description: str
    cn_note: str | None = Field(None, description="what the 8-digit subheading turns on")
    cn_check: Check
    annex_i: AnnexEntry = Field(description="the Annex I entry of Regulation 2023/956 that makes it a CBAM good")
    category: str
    own_precursors: list[OwnPrecursor] = []
    purchased_precursors: list[PurchasedPrecursor] = []
    electricity_generation: list[str] = Field([], description="processes generating the installation's electricity")
    excluded_processes: list[Excluded] = []


class GoodsFile(FileBacked):
    cbam: Header
    notes: BoundaryNotes
    shared: dict[str, Any] = Field({}, description="YAML anchors merged into goods; not read on its own")
    categories: dict[str, Category]
    goods: list[Good]

    def relevant_precursors(self, category: str) -> list[str]:
        """The category's relevant precursors and theirs, in order (a precursor's precursor made or bought for the
        installation enters the good through that precursor's embedded emissions: 2025/2547 Annex III B)."""
        out, todo = [], list(self.categories[category].precursors)
        while todo:
            key = todo.pop(0)
            if key not in out and key in self.categories:
                out.append(key)
                todo += self.categories[key].precursors
        return out

    def reference_problems(self) -> list[tuple[str, str, str]]:
        out = [] if (ROOT / self.cbam.decision).is_file() else [("cbam.decision", self.cbam.decision,
                                                                  "a decision record file of the repository")]
        for key, c in self.categories.items():
            out += [(f"categories.{key}.precursors", p, "a key of categories")
                    for p in c.precursors if p not in self.categories]
        seen = set()
        for i, g in enumerate(self.goods):
            at = f"goods[{i}]"
            if (g.rule, g.product, g.family) in seen:
                out.append((at, f"{g.rule} {g.product} {g.family or ''}".strip(), "one entry per rule, product and "
                            "family"))
            seen.add((g.rule, g.product, g.family))
            if not g.annex_i.covers(g.cn_code):
                out.append((f"{at}.annex_i", f"{g.annex_i.code} for CN {g.cn_code}", "an Annex I entry covering "
                            "the good's CN code (its leading digits, not one of the codes it excepts)"))
            if g.category not in self.categories:
                out.append((f"{at}.category", g.category, "a key of categories"))
                continue
            relevant = self.relevant_precursors(g.category)
            for j, p in enumerate([*g.own_precursors, *g.purchased_precursors]):
                if p.category not in relevant:
                    out.append((f"{at} precursor {j}", p.category, f"a relevant precursor of {g.category} or of "
                                f"its precursors: {', '.join(relevant) or 'none'}"))
        return out

    def good(self, rule: str, product: str, family: str | None = None) -> Good | None:
        """The entry of a product (the family's own when it has one, else the product's); None: not a CBAM good."""
        exact = [g for g in self.goods if (g.rule, g.product, g.family) == (rule, product, family)]
        any_family = [g for g in self.goods if (g.rule, g.product, g.family) == (rule, product, None)]
        return (exact or any_family or [None])[0]


_LOAD = model_loader(GoodsFile, CbamFileError, check_references=True)


def load_goods(path: str | Path = GOODS_FILE) -> GoodsFile:
    return _LOAD(path)


@functools.cache
def default_goods() -> GoodsFile:
    return load_goods(GOODS_FILE)
