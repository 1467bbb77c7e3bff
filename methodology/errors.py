"""One error hierarchy for the workbench.

Every error raised on bad input names the file, the field, what was found and what was expected, so an
analyst can fix a parameter file or a committee member a rule file without reading Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class MethodologyError(Exception):
    """Base class of every error the workbench raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    field: str
    found: str
    expected: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: found {self.found}; expected {self.expected}"


class InputFileError(MethodologyError):
    """A rule, factor or parameter file is invalid. Holds every problem found, not just the first."""

    SHOWN = 50  # problems written into the message; the rest are counted (all are kept in ``problems``)

    def __init__(self, file: str | Path, problems: list[Problem]):
        self.file = str(file)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p.field}: found {p.found}; expected {p.expected}" for p in problems[:self.SHOWN])
        if len(problems) > self.SHOWN:
            lines += f"\n  ... and {len(problems) - self.SHOWN} more problem(s) not shown"
        super().__init__(f"{self.file} is invalid ({len(problems)} problem(s)):\n{lines}")


class RuleError(InputFileError):
    """A product category rule file is invalid."""


class FactorSetError(InputFileError):
    """An emission-factor set is invalid."""


class ParameterFileError(InputFileError):
    """An enterprise parameter file is invalid or does not satisfy its rule."""


class ProjectNotReadyError(MethodologyError):
    """The Brightway project is missing, empty or built from other standards than asked for."""


class SystemLibraryMissing(MethodologyError):
    """A library outside Python (a Debian package) is not installed; the message names what to install."""


class CalculationError(MethodologyError):
    """A calculation produced something physically impossible (e.g. a negative carbon balance)."""
