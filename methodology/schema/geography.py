"""Grid regions: which provinces draw on which regional power grid, as a factor set records it.

Grid electricity factors exist per country, per grid region and per province. A factor set that carries
regional factors lists its ``grid_regions`` (each with the provinces it covers, in English and Chinese, and the
source of the division); a rule whose ``electricity.grid_factor`` is ``regional`` then gives each enterprise the
factor of its region, found from ``enterprise.province`` (or ``enterprise.grid_region`` where a province lies in
two regions, as Inner Mongolia does: its west in North China, its east in the Northeast). Decision record
``docs/decisions/0011-regional-grid-factors.md``.
"""

from __future__ import annotations

from pydantic import Field

from methodology.schema.common import KEBAB, Strict


class Province(Strict):
    name: str = Field(description="English name as parameter files write it (e.g. Inner Mongolia)")
    zh: str = Field(description="Chinese name (e.g. 内蒙古)")
    part: str | None = Field(None, description="the part of the province in this region when it is split")
    iso: str | None = Field(None, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$", description="ISO 3166-2 code (e.g. CN-SD)")


class GridRegion(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    zh: str
    provinces: list[Province] = Field(min_length=1)


class GridRegions(Strict):
    """The regional division of a country's grid used by a set of regional factors."""

    country: str
    source: str = Field(description="key of sources: the document that defines the division")
    regions: list[GridRegion] = Field(min_length=1)

    def region_ids(self) -> list[str]:
        return [r.id for r in self.regions]

    def regions_of(self, province: str) -> list[str]:
        """Ids of the regions a province (English or Chinese name, any case) lies in: none, one, or two for a
        split province."""
        key = province.strip().casefold()
        return [r.id for r in self.regions
                if any(key in (p.name.casefold(), p.zh.casefold()) for p in r.provinces)]

    def iso_of(self, province: str) -> str | None:
        """The ISO 3166-2 code of a province (English or Chinese name), None when unknown or not given."""
        key = province.strip().casefold()
        return next((p.iso for r in self.regions for p in r.provinces
                     if key in (p.name.casefold(), p.zh.casefold()) and p.iso), None)

    def provinces(self) -> list[str]:
        return sorted({p.name for r in self.regions for p in r.provinces})

    def problems(self, sources) -> list[tuple[str, str, str]]:
        """(field, found, expected): a known source, unique region ids, no province twice in one region."""
        p = []
        if self.source not in sources:
            p.append(("grid_regions.source", repr(self.source), f"a key of sources: {sorted(sources)}"))
        ids = self.region_ids()
        for dup in sorted({x for x in ids if ids.count(x) > 1}):
            p.append(("grid_regions.regions", f"region id '{dup}' given {ids.count(dup)} times", "each id once"))
        for r in self.regions:
            names = [x.name.casefold() for x in r.provinces]
            for dup in sorted({x for x in names if names.count(x) > 1}):
                p.append((f"grid_regions.regions.{r.id}.provinces", f"'{dup}' listed twice", "each province once"))
        return p
