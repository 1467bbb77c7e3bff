"""Building blocks shared by every file format: strict models, identifier patterns, clause references."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, PrivateAttr

from methodology.units import UnitParseError, parse_unit

KEBAB = r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$"
SEMVER = r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$"
SNAKE = r"^[a-z][a-z0-9_]*$"

# what an identifier pattern means, for messages (loading._expected)
PATTERN_NAMES = {
    KEBAB: "a kebab-case identifier (lower-case letters, digits, '-' or '.')",
    SEMVER: "a semantic version x.y.z (e.g. 1.0.0)",
    SNAKE: "a snake_case name (lower-case letters, digits, '_')",
}


class Strict(BaseModel):
    # allow_inf_nan=False: NaN and infinity are refused in every number of every file (a "finite_number" problem)
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, allow_inf_nan=False)


class FileBacked(Strict):
    """A model read from a file: the loader records the path as given and the sha256 of the file's bytes."""

    _path: str = PrivateAttr("")
    _sha256: str = PrivateAttr("")

    @property
    def path(self) -> str:
        return self._path

    @property
    def sha256(self) -> str:
        return self._sha256


class ClauseRef(Strict):
    standard: str
    clause: str
    note: str | None = None


def _parsed_unit(v: str) -> str:
    try:
        parse_unit(v)
    except UnitParseError as exc:
        raise ValueError(str(exc)) from None
    return v


# a unit string the workbench's pint registry parses ('t', 'GJ/t', 'kg/(t*km)', '' for a pure number)
Unit = Annotated[str, AfterValidator(_parsed_unit)]
