"""Bilingual labels (Chinese and English) of industries, products, routes and run statuses, as data.

``standards/vocabulary/zh-en.yaml`` holds them; reports (the batch summary) look an id up with :func:`label` and
show the id itself when the vocabulary has no entry for it, so a new industry needs no code to appear.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from methodology.errors import InputFileError
from methodology.schema.common import FileBacked, Strict
from methodology.schema.loading import model_loader

VOCABULARY = Path(__file__).resolve().parents[2] / "standards" / "vocabulary" / "zh-en.yaml"
Kind = Literal["industries", "products", "routes", "statuses"]


class Header(Strict):
    id: str
    version: str
    note: str


class Vocabulary(FileBacked):
    vocabulary: Header
    industries: dict[str, str] = {}
    products: dict[str, str] = {}
    routes: dict[str, str] = {}
    statuses: dict[str, str] = {}


load_vocabulary = model_loader(Vocabulary, InputFileError)


@functools.lru_cache(maxsize=1)
def _shipped() -> Vocabulary:
    return load_vocabulary(VOCABULARY)


def label(kind: Kind, id_: object) -> str:
    """The bilingual label of an id (e.g. ``label("industries", "steel")`` is "钢铁 Steel"), else the id."""
    if id_ is None or id_ != id_:  # None or NaN: nothing to name
        return ""
    return getattr(_shipped(), kind).get(str(id_), str(id_))
