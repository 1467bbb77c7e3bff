"""Building blocks shared by every file format: strict models, identifier patterns, clause references."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

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
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)
