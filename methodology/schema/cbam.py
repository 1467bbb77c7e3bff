"""The CBAM goods file (``standards/cbam/goods.yaml``): which products of the rules are goods of the EU Carbon Border
Adjustment Mechanism, and how a result's processes and purchased inputs map onto the CBAM boundary.

Strict models (a typo is an error naming the file and field); the cross-references inside the file are checked
(each good's category exists, its precursors are relevant precursors of that category, the gases are of the
workbench's vocabulary). Which processes and factors a rule has is not checked here: one entry serves every route
of a product (a process or factor the result does not have contributes nothing).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import Field

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
    grid_electricity: GridElectricity


class Category(Strict):
    """An aggregated goods category (Implementing Regulation (EU) 2025/2547 Annex II; 2023/1773 Annex II)."""

    name: str
    sector: str
    gases: list[Gas] = Field(min_length=1, description="the greenhouse gases Annex I of Regulation 2023/956 counts")
    indirect_in_obligation: bool = Field(
        description="false: only direct emissions enter the CBAM obligation (Regulation 2023/956 Annex II)")
    precursors: list[str] = Field(description="relevant precursors: keys of categories")


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


class CnCheck(Strict):
    """Whether the 8-digit CN code was found in a readable copy of the Combined Nomenclature, and where."""

    verified: bool = Field(description="true: the code and its text were found in the CN named by source")
    source: str = Field(min_length=1, description="the copy checked (document, year, address), or why none was")
    note: str | None = None


class Good(Strict):
    """One product of one rule (optionally one product family) as a CBAM good."""

    rule: str = Field(pattern=KEBAB)
    product: str = Field(pattern=KEBAB)
    family: str | None = Field(None, description="a product family of the rule, when the CN code depends on it")
    cn_code: str = Field(pattern=r"^\d{4} \d{2} \d{2}$", description="8-digit CN code, as '7208 38 00'")
    description: str
    cn_note: str | None = Field(None, description="what the 8-digit subheading turns on")
    cn_check: CnCheck
    category: str
    own_precursors: list[OwnPrecursor] = []
    purchased_precursors: list[PurchasedPrecursor] = []
    electricity_generation: list[str] = Field([], description="processes generating the installation's electricity")
    excluded_processes: list[Excluded] = []


class GoodsFile(FileBacked):
    cbam: Header
    shared: dict[str, Any] = Field({}, description="YAML anchors merged into goods; not read on its own")
    categories: dict[str, Category]
    goods: list[Good]

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
            cat = self.categories.get(g.category)
            if cat is None:
                out.append((f"{at}.category", g.category, "a key of categories"))
                continue
            for j, p in enumerate([*g.own_precursors, *g.purchased_precursors]):
                if p.category not in cat.precursors:
                    out.append((f"{at} precursor {j}", p.category,
                                f"a relevant precursor of {g.category}: {', '.join(cat.precursors) or 'none'}"))
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
