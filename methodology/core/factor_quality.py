"""The data quality of an emission factor, derived from its metadata; and how it combines with activity data.

ISO 14067:2018 6.3.5 asks for the quality of all data used, secondary data included, to be characterised
(technological, temporal and geographical coverage, completeness, reliability...). The workbench scores
activity data with the pedigree matrix (Weidema and Wesnaes 1996, "Data quality management for life cycle
inventories - an example of using data quality indicators", J. Cleaner Prod. 4(3-4) 167-174; as updated in
the ecoinvent data quality guideline, Weidema et al. 2013, "Overview and methodology. Data quality guideline
for the ecoinvent database version 3", Table 10.4). An emission factor carries no such scores; this module
reads them off what the factor set records of each factor (status, the ``verified`` flag of its sources, its
``limitations``, geography and period), by the table below. Pure functions; decision record
``docs/decisions/0009-factor-traceability-and-quality.md`` gives the reasons for every cell.

=================  ===========================================================================================
indicator          score (1 best, 5 worst)
=================  ===========================================================================================
reliability        1 published and every cited source verified against the document ("verified data based on
                   measurements"); 2 derived from verified figures ("partly based on assumptions"); 3 published
                   or derived with a source not verified ("non-verified data"); 5 illustrative: an
                   order-of-magnitude placeholder to be replaced ("non-qualified estimate")
completeness       2 complete cradle-to-gate value (1 is kept for data known to cover all relevant sites, which
                   a factor's metadata cannot show); 4 ``partial``: part of the chain is left out
temporal           years between the factor's period and the reference period: < 3 -> 1, < 6 -> 2, < 10 -> 3,
                   < 15 -> 4, else 5 (the ecoinvent thresholds)
geographical       1 the enterprise's province; 2 China (CN) or a larger area including it (GLO); 3 another
                   Chinese region or province (containment not checked); 4 another country; a ``proxy`` is at
                   least 3
technological      2 the process or material itself, not the enterprise's own supplier; 4 ``proxy``: a related
                   technology or another geography's process stands in
=================  ===========================================================================================

Physical properties (carbon contents, calorific values) used by a direct-emission mechanism are scored as
their own values: ``limitations`` qualify a factor's cradle-to-gate emissions only, so they do not apply;
reliability is 1 (published) or 2 (a property with a ``derivation``) when every source they cite is verified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from methodology.schema.factors import Factor, Limitation, Source, SourcedValue, Status
from methodology.schema.parameters import DQ_INDICATORS

TEMPORAL_YEARS = ((3, 1), (6, 2), (10, 3), (15, 4))  # fewer years than the first -> the second; else 5
RELIABILITY = {(Status.published, True): 1, (Status.derived, True): 2, (Status.published, False): 3,
               (Status.derived, False): 3, (Status.illustrative, True): 5, (Status.illustrative, False): 5}
COMPLETENESS = {False: 2, True: 4}  # partial?
TECHNOLOGICAL = {False: 2, True: 4}  # proxy?
PROXY_MIN_GEOGRAPHICAL = 3
COUNTRY = "CN"  # the workbench's enterprises are Chinese: their province is a Chinese province
LARGER_AREAS = frozenset({"GLO"})
# ISO 3166-2:CN subdivision codes of the provinces, by the names parameter files use
PROVINCES = {
    "Anhui": "AH", "Beijing": "BJ", "Chongqing": "CQ", "Fujian": "FJ", "Gansu": "GS", "Guangdong": "GD",
    "Guangxi": "GX", "Guizhou": "GZ", "Hainan": "HI", "Hebei": "HE", "Heilongjiang": "HL", "Henan": "HA",
    "Hubei": "HB", "Hunan": "HN", "Inner Mongolia": "NM", "Jiangsu": "JS", "Jiangxi": "JX", "Jilin": "JL",
    "Liaoning": "LN", "Ningxia": "NX", "Qinghai": "QH", "Shaanxi": "SN", "Shandong": "SD", "Shanghai": "SH",
    "Shanxi": "SX", "Sichuan": "SC", "Tianjin": "TJ", "Tibet": "XZ", "Xinjiang": "XJ", "Yunnan": "YN",
    "Zhejiang": "ZJ",
}
COMBINATION = ("per indicator the worse (higher) of the activity datum's score and the factor's; an input without "
               "a factor (direct emissions from measured values only) keeps its activity score")


class Use(StrEnum):
    """Which values of a factor a contribution rests on."""

    emissions = "emissions"  # its cradle-to-gate value: an input's burden, a credit, a process emission factor
    properties = "properties"  # its physical properties: carbon contents, calorific values in direct emissions


def used_values(factor: Factor, use: Use) -> list[SourcedValue]:
    if use is Use.emissions:
        return list(factor.emissions)
    p = factor.properties
    return [v for v in (p.net_calorific_value, p.carbon_content, p.carbon_per_energy, p.oxidation_rate,
                        p.biogenic_carbon_share) if v is not None]


def cited(factor: Factor, use: Use) -> list[str]:
    """Keys of the sources the used values cite, in first-cited order."""
    return list(dict.fromkeys(v.source for v in used_values(factor, use)))


def verified(factor: Factor, use: Use, sources: Mapping[str, Source]) -> bool:
    """Every source the used values cite is verified against the document (False when they cite none)."""
    keys = cited(factor, use)
    return bool(keys) and all(sources[k].verified for k in keys)


def years_apart(period: str, start: int, end: int) -> int:
    """Whole years between a factor's period ("2023" or "2006-2020") and the years start..end (0 if they overlap)."""
    first, _, last = period.partition("-")
    lo, hi = int(first), int(last or first)
    return max(0, start - hi, lo - end)


def temporal_score(years: int) -> int:
    return next((score for limit, score in TEMPORAL_YEARS if years < limit), 5)


def geographical_score(geography: str, province: str) -> int:
    code = PROVINCES.get(province)
    if code is not None and geography == f"{COUNTRY}-{code}":
        return 1
    if geography == COUNTRY or geography in LARGER_AREAS:
        return 2
    if geography.startswith(f"{COUNTRY}-"):
        return 3
    return 4


def factor_pedigree(factor: Factor, use: Use, sources: Mapping[str, Source], *, province: str,
                    years: tuple[int, int]) -> dict[str, int]:
    """Pedigree scores of the values of ``factor`` a contribution rests on (table in the module docstring).

    ``province``: the enterprise's; ``years``: the first and last year of its reference period."""
    values = used_values(factor, use)
    ok = verified(factor, use, sources)
    if use is Use.emissions:
        status, limits = factor.status, set(factor.limitations)
    else:
        status = Status.derived if any(v.derivation for v in values) else Status.published
        limits = set()
    proxy = Limitation.proxy in limits
    geo = geographical_score(factor.geography, province)
    return {
        "technological": TECHNOLOGICAL[proxy],
        "temporal": temporal_score(years_apart(factor.period, *years)),
        "geographical": max(geo, PROXY_MIN_GEOGRAPHICAL) if proxy else geo,
        "completeness": COMPLETENESS[Limitation.partial in limits],
        "reliability": RELIABILITY[(status, ok)],
    }


def mean_pedigree(scores: Iterable[Mapping[str, float]]) -> dict[str, float] | None:
    """Per indicator, the mean of several factors' scores (the factors one direct emission rests on)."""
    scores = list(scores)
    if not scores:
        return None
    return {k: sum(s[k] for s in scores) / len(scores) for k in DQ_INDICATORS}


def combine(activity: Mapping[str, float] | None, factor: Mapping[str, float] | None) -> dict[str, float] | None:
    """The combined rating of one input: per indicator the worse of activity datum and factor (``COMBINATION``)."""
    if activity is None or factor is None:
        return None if activity is None and factor is None else dict(activity or factor)
    return {k: max(activity[k], factor[k]) for k in DQ_INDICATORS}


def score(indicators: Mapping[str, float]) -> float:
    """The mean of the five indicators (the rule's weighted score)."""
    return sum(indicators[k] for k in DQ_INDICATORS) / len(DQ_INDICATORS)
