"""The footprints a host serves: exactly the PACT files the runs wrote, and the spec's ListFootprints filters.

``FootprintStore`` finds every ``pact-v3.0.3.json`` under a runs folder (``outputs.pact.FILE_NAME``), checks each
against the official v3.0.3 schema again (a file edited by hand after the run is left out, with a warning naming
it) and re-reads the folder when a file was added, changed or removed. The filters are pure functions
(``matches``) over the criteria of the spec's ``components/parameters``: OR within a criterion, AND between
criteria, text matched case-insensitively; the validity period is ``validityPeriodStart``/``End`` when given,
else three years from ``pcf.referencePeriodEnd`` (spec, ``ProductFootprint/validityPeriodStart``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from methodology.outputs import pact

log = logging.getLogger("pcf.serve")

LIST_CRITERIA = ("productId", "companyId", "geography", "classification")
DATE_CRITERIA = ("validOn", "validAfter", "validBefore")


class BadCriterion(ValueError):
    """A filter value that is not of the form the spec asks (the message says which and why)."""


def instant(text: str, name: str) -> dt.datetime:
    """An RFC 3339 date-time (``Z`` or an offset; a time without one is taken as UTC)."""
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise BadCriterion(f"{name}: found {text!r}; expected an RFC 3339 date-time such as "
                           "2025-01-01T00:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Criteria:
    """ListFootprints filters (and those of a RequestCreatedEvent): empty means not filtered on."""

    productId: tuple[str, ...] = ()
    companyId: tuple[str, ...] = ()
    geography: tuple[str, ...] = ()
    classification: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    validOn: dt.datetime | None = None
    validAfter: dt.datetime | None = None
    validBefore: dt.datetime | None = None

    @classmethod
    def parse(cls, get_list) -> Criteria:
        """From ``get_list(name) -> list[str]`` (query parameters or event data); empty values are ignored."""
        lists = {k: tuple(v for v in get_list(k) if v.strip()) for k in (*LIST_CRITERIA, "status")}
        dates = {}
        for k in DATE_CRITERIA:
            values = [v for v in get_list(k) if v.strip()]
            if len(values) > 1:
                raise BadCriterion(f"{k}: found {len(values)} values; expected one date-time")
            dates[k] = instant(values[0], k) if values else None
        return cls(**lists, **dates)


def validity(fp: dict) -> tuple[dt.datetime, dt.datetime]:
    """The footprint's validity period (spec: three years from ``referencePeriodEnd`` when not given)."""
    if fp.get("validityPeriodStart") and fp.get("validityPeriodEnd"):
        return (instant(fp["validityPeriodStart"], "validityPeriodStart"),
                instant(fp["validityPeriodEnd"], "validityPeriodEnd"))
    end = instant(fp["pcf"]["referencePeriodEnd"], "referencePeriodEnd")
    try:
        later = end.replace(year=end.year + 3)
    except ValueError:  # 29 February
        later = end.replace(year=end.year + 3, day=28)
    return end, later


def _any_in(wanted: Iterable[str], have: Iterable[str]) -> bool:
    have = {h.casefold() for h in have}
    return any(w.casefold() in have for w in wanted)


def _in_geography(wanted: Iterable[str], pcf: dict) -> bool:
    """A footprint is within a geography when it names it, or a subdivision of the country named."""
    have = [pcf.get(k, "") for k in ("geographyCountry", "geographyCountrySubdivision", "geographyRegionOrSubregion")]
    sub = pcf.get("geographyCountrySubdivision", "").casefold()
    return _any_in(wanted, [h for h in have if h]) or any(sub.startswith(w.casefold() + "-") for w in wanted)


def matches(fp: dict, c: Criteria) -> bool:
    """Whether a footprint meets every criterion given (the spec's ListFootprints filtering)."""
    tests = [
        (c.productId, lambda: _any_in(c.productId, fp.get("productIds", []))),
        (c.companyId, lambda: _any_in(c.companyId, fp.get("companyIds", []))),
        (c.classification, lambda: _any_in(c.classification, fp.get("productClassifications", []))),
        (c.status, lambda: _any_in(c.status, [fp.get("status", "")])),
        (c.geography, lambda: _in_geography(c.geography, fp.get("pcf", {}))),
    ]
    if not all(f() for given, f in tests if given):
        return False
    start, end = validity(fp)
    return ((c.validOn is None or start <= c.validOn <= end)
            and (c.validAfter is None or start > c.validAfter)
            and (c.validBefore is None or end < c.validBefore))


@dataclass
class FootprintStore:
    """The v3 footprints under ``root`` by id, re-read when the files under it change."""

    root: Path
    _signature: tuple = field(default=(), repr=False)
    _by_id: dict[str, dict] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _files(self) -> list[Path]:
        return sorted(self.root.rglob(pact.FILE_NAME))

    def footprints(self) -> list[dict]:
        """Every footprint, newest ``created`` first, then by id (a stable order for paging)."""
        files = self._files()
        signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
        with self._lock:
            if signature != self._signature:
                self._by_id = self._read(files)
                self._signature = signature
            found = list(self._by_id.values())
        return sorted(found, key=lambda fp: (fp.get("created", ""), fp["id"]), reverse=True)

    def get(self, footprint_id: str) -> dict | None:
        return next((fp for fp in self.footprints() if fp["id"].casefold() == footprint_id.casefold()), None)

    @staticmethod
    def _read(files: list[Path]) -> dict[str, dict]:
        by_id: dict[str, dict] = {}
        for path in files:
            try:
                fp = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("%s: not served: cannot be read as JSON (%s)", path, exc)
                continue
            problems = pact.problems_v3(fp) if isinstance(fp, dict) else ["(root): not a JSON object"]
            if problems:
                log.warning("%s: not served: breaks the PACT v%s schema: %s", path, pact.SPEC_VERSION,
                            "; ".join(problems[:3]))
                continue
            by_id.setdefault(fp["id"], fp)  # the same inputs run twice give the same id and content
        return by_id
