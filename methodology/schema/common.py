"""Building blocks shared by every file format: strict models, identifier patterns, clause references."""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

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


def _takes_numbers_not_bools(annotation) -> bool:
    """Whether a field's type accepts a number but not true/false (``float``, ``float | None``, ``int | str``...)."""
    args = set(_flat_args(annotation))
    return bool(args & {float, int}) and bool not in args


def _flat_args(annotation):
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _flat_args(get_args(annotation)[0])
    elif origin in (Union, UnionType):
        for a in get_args(annotation):
            yield from _flat_args(a)
    else:
        yield annotation


class Strict(BaseModel):
    # allow_inf_nan=False: NaN and infinity are refused in every number of every file (a "finite_number" problem)
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data):
        """YAML's true/false (also yes/no/on/off) are not 1 and 0 where a number is expected: they are passed
        on as the words, which the number's own validation then refuses at the field."""
        if isinstance(data, dict):
            numeric = _numeric_fields(cls)
            if any(isinstance(v, bool) and k in numeric for k, v in data.items()):
                return {k: str(v).lower() if isinstance(v, bool) and k in numeric else v for k, v in data.items()}
        return data


_NUMERIC: dict[type, frozenset[str]] = {}


def _numeric_fields(cls) -> frozenset[str]:
    if cls not in _NUMERIC:
        _NUMERIC[cls] = frozenset(name for name, f in cls.model_fields.items()
                                  if _takes_numbers_not_bools(f.annotation))
    return _NUMERIC[cls]


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


class GivenUncertainty(Strict):
    """An uncertainty stated for a value or a factor instead of the one its pedigree gives (decision record 0015):
    lognormal around the value, ``gsd2`` the squared geometric standard deviation (the value times or divided by
    it bounds the 95 % interval), with where it comes from."""

    distribution: Literal["lognormal"] = "lognormal"
    gsd2: float = Field(gt=1, le=100, description="squared geometric standard deviation, > 1")
    source: str

    @property
    def sigma(self) -> float:
        import math

        return math.log(self.gsd2) / 2
