"""Characterisation methods as data: kg CO2e per kg of each gas, per indicator (``standards/methods/``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from pydantic import Field

from methodology.errors import InputFileError
from methodology.gases import Gas
from methodology.schema.common import KEBAB, SEMVER, Strict
from methodology.schema.loading import ContentCache, parse_model

DEFAULT_METHOD = "gwp100-ar6"  # the latest IPCC GWP100, as ISO 14067 6.5.2 asks; rules may name another


class MethodError(InputFileError):
    """A characterisation method file is invalid."""


class MethodHeader(Strict):
    id: str = Field(pattern=KEBAB)
    version: str = Field(pattern=SEMVER)
    name: str
    source: str
    biogenic_co2_convention: str | None = None


class Method(Strict):
    method: MethodHeader
    indicators: dict[str, dict[Gas, float] | None]

    def tables(self) -> Mapping[str, Mapping[str, float]]:
        """``{indicator: {gas: factor}}`` in the file's order, as read-only views."""
        return MappingProxyType({ind: MappingProxyType({g.value: float(v) for g, v in (t or {}).items()})
                                 for ind, t in self.indicators.items()})


_LOADED = ContentCache()


def load_method(path: str | Path) -> Method:
    return _LOADED.load(path, MethodError, lambda raw, sha: parse_model(Method, raw, path, MethodError))


@functools.lru_cache(maxsize=8)
def _tables(path: str) -> Mapping[str, Mapping[str, float]]:
    return load_method(path).tables()


def gwp_indicators(method_id: str = DEFAULT_METHOD) -> Mapping[str, Mapping[str, float]]:
    """Characterisation factors per indicator of a catalogued method, read once per process."""
    from methodology.schema.catalogue import method_path

    return _tables(str(method_path(method_id)))
