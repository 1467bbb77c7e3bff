"""The UN CPC Ver. 2.1 code of each rule product (``standards/pact/cpc-v2.1.yaml``), for PACT: v2.3's required
``productCategoryCpc`` and the ``productClassifications`` URN of v2.3 and v3 (the v3.0.3 spec's own example form,
``urn:pact:productclassification:un-cpc:<code>``). Each code in the table names the source it was read in; a product
without one has none (decision record docs/decisions/0012-pact-export.md)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, model_validator

from methodology.errors import InputFileError
from methodology.schema.common import Strict

CPC_FILE = Path(__file__).resolve().parents[2] / "standards" / "pact" / "cpc-v2.1.yaml"
URN = "urn:pact:productclassification:un-cpc:"


class CpcError(InputFileError):
    """The UN CPC code table of standards/pact/ is invalid."""


class CpcCode(Strict):
    rule: str = Field(min_length=1)
    product: str = Field(min_length=1)
    cpc: str = Field(pattern=r"^\d{5}$", description="a CPC Ver. 2.1 subclass (five digits)")
    title: str = Field(min_length=1, description="the subclass's CPC title, as published")
    source: str = Field(min_length=10, description="where code and title were read")


class CpcTable(Strict):
    classification: str = Field(min_length=1)
    codes: list[CpcCode]

    @model_validator(mode="after")
    def _consistent(self):
        keys = [(c.rule, c.product) for c in self.codes]
        twice = sorted({f"{r}/{p}" for r, p in keys if keys.count((r, p)) > 1})
        if twice:
            raise ValueError(f"one code per rule product, found several for {', '.join(twice)}")
        titles: dict[str, set[str]] = {}
        for c in self.codes:
            titles.setdefault(c.cpc, set()).add(c.title)
        differ = sorted(code for code, t in titles.items() if len(t) > 1)
        if differ:
            raise ValueError(f"one title per CPC code, found several for {', '.join(differ)}")
        return self


@functools.cache
def cpc_codes(path: Path = CPC_FILE) -> dict[tuple[str, str], CpcCode]:
    """(rule id, product id) -> its CPC code, from the table (validated)."""
    from methodology.schema.loading import parse_model, read_yaml

    table = parse_model(CpcTable, read_yaml(path, CpcError), path, CpcError)
    return {(c.rule, c.product): c for c in table.codes}


def classification_urns(rule: str, product: str) -> list[str]:
    """The product's ``productClassifications`` (its UN CPC URN), or none when no code is recorded."""
    code = cpc_codes().get((rule, product))
    return [URN + code.cpc] if code else []
