"""The figures the dashboard's pages show: periods, filters and aggregations.

Pure functions on the tables of a :class:`~geo.dataset.Dataset`. They never
modify their inputs (the dashboard shares one cached dataset between all
sessions) and return new, small frames.

Records outside every section (``section_id`` missing) belong to no area: they
are left out of every figure here and listed on the Data page instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import compare, places, rates
from geo.schema import ACCIDENT_CATEGORIES, CRIME_CATEGORIES, INCIDENT_CATEGORIES

#: Measures the map can colour sections by: change vs the previous period and vs the same period a year earlier.
MEASURES = ("rate", "count", "change", "change_year")
#: Headline figures, in the order the Overview shows them.
HEADLINES = (
    "accident_fatal",
    "accident_injury",
    "accident_damage",
    "traffic_ticket",
    "crimes",
    "open_concerns",
    "active_committees",
)

#: The incident categories behind each incident headline figure.
HEADLINE_CATEGORIES: dict[str, tuple[str, ...]] = {
    **{code: (code,) for code in ACCIDENT_CATEGORIES},
    "traffic_ticket": ("traffic_ticket",),
    "crimes": tuple(CRIME_CATEGORIES),
}

#: Every incident category code, in the vocabulary's order (the category filter's options).
CATEGORY_CODES = tuple(t.code for t in INCIDENT_CATEGORIES)
#: Categories used when the filter is empty: all but traffic tickets. Tickets (about 49,000 a month in the
#: demo against some 2,000 crimes) record enforcement, not events, and would swamp every map; they keep
#: their own headline figure and can be chosen in the category filter.
DEFAULT_CATEGORIES = tuple(c for c in CATEGORY_CODES if c != "traffic_ticket")


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A run of whole days, ``start`` and ``end`` both included (local dates)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period ends on or after its start; got {self.start} to {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period just before this one: the same number of calendar months before a period of whole
        months (February before March, the previous quarter before a quarter), otherwise the period of the
        same length that ends the day before this one starts. (Counts are compared per day covered, so
        months of unequal length compare fairly.)"""
        start, end = pd.Timestamp(self.start), pd.Timestamp(self.end)
        if start.day == 1 and end == end + pd.offsets.MonthEnd(0):
            months = (end.year - start.year) * 12 + end.month - start.month + 1
            first = start - pd.offsets.MonthBegin(months)
            return Period(first.date(), (start - pd.Timedelta(days=1)).date())
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    def year_earlier(self) -> Period:
        """The same calendar days one year earlier (29 February becomes 28 February)."""
        start, end = compare.year_earlier(pd.Timestamp(self.start), pd.Timestamp(self.end))
        return Period(start.date(), end.date())

    def covered_by(self, first: object, last: object) -> bool:
        """Does data spanning ``first`` to ``last`` cover at least half of this period's days?

        A comparison with a period the data does not reach would compare with
        zeros that are not real. ``first``/``last`` missing: not covered.
        """
        if first is None or last is None or pd.isna(first) or pd.isna(last):
            return False
        lo = max(pd.Timestamp(self.start), pd.Timestamp(first).normalize())
        hi = min(pd.Timestamp(self.end), pd.Timestamp(last).normalize())
        overlap = (hi - lo).days + 1
        return overlap * 2 >= self.days

    def covered_days(self, first: object, last: object) -> int:
        """How many of this period's days data spanning ``first`` to ``last`` covers (0 when either is missing).

        The length to compare a count with: a period the data covers on 20 of its 31 days holds 20 days' worth
        of incidents.
        """
        if first is None or last is None or pd.isna(first) or pd.isna(last):
            return 0
        lo = max(pd.Timestamp(self.start), pd.Timestamp(first).normalize())
        hi = min(pd.Timestamp(self.end), pd.Timestamp(last).normalize())
        return max(0, (hi - lo).days + 1)

    def months(self) -> list[pd.Timestamp]:
        """First days of the calendar months the period touches, in order."""
        first = pd.Timestamp(self.start).to_period("M")
        last = pd.Timestamp(self.end).to_period("M")
        return [p.to_timestamp() for p in pd.period_range(first, last, freq="M")]

    def mask(self, when: pd.Series) -> pd.Series:
        """Which timestamps (or dates) of ``when`` fall inside the period; missing ones do not."""
        when = pd.to_datetime(when)
        lo = pd.Timestamp(self.start)
        hi = pd.Timestamp(self.end) + pd.Timedelta(days=1)
        return (when >= lo) & (when < hi)


def default_period(data_as_of: object, today: dt.date | None = None) -> Period:
    """The last full calendar month of data.

    ``data_as_of`` is the latest date in the data. If it is the last day of its
    month that month is complete and is the answer; otherwise the month before.
    Without data, the last full month before ``today``.
    """
    if data_as_of is None or pd.isna(data_as_of):
        latest = (today or dt.date.today()) - dt.timedelta(days=1)
    else:
        latest = pd.Timestamp(data_as_of).date()
    month_end = (pd.Timestamp(latest) + pd.offsets.MonthEnd(0)).date()
    if latest != month_end:
        month_end = latest.replace(day=1) - dt.timedelta(days=1)
    return Period(month_end.replace(day=1), month_end)


def full_months(first: object, last: object) -> list[dt.date]:
    """First days of the calendar months the data covers completely, from ``first`` to ``last`` (timestamps).

    A month counts when the data starts on or before its first day and ends
    on or after its last day. Empty when either is missing.
    """
    if first is None or last is None or pd.isna(first) or pd.isna(last):
        return []
    lo = pd.Timestamp(first).normalize()
    hi = pd.Timestamp(last).normalize()
    start = lo if lo.day == 1 else lo + pd.offsets.MonthBegin(1)
    months = []
    m = start
    while (m + pd.offsets.MonthEnd(0)) <= hi:
        months.append(m.date())
        m = m + pd.offsets.MonthBegin(1)
    return months


def months_period(first_month: dt.date, months: int) -> Period:
    """``months`` whole calendar months starting with the month of ``first_month``."""
    if months < 1:
        raise ValueError(f"months must be at least 1, not {months!r}")
    start = pd.Timestamp(first_month).replace(day=1)
    end = start + pd.offsets.MonthBegin(months) - pd.Timedelta(days=1)
    return Period(start.date(), end.date())


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """What the sidebar selected. Empty strings mean "all"; names are canonical (Albanian).

    ``categories`` are incident category codes; empty means all categories.
    """

    region: str = ""
    municipality: str = ""
    section: str = ""
    categories: tuple[str, ...] = ()

    @property
    def incident_categories(self) -> tuple[str, ...]:
        """The categories maps and analyses use: the chosen ones, or :data:`DEFAULT_CATEGORIES` when none is chosen."""
        return tuple(self.categories) if self.categories else DEFAULT_CATEGORIES

    @property
    def area_level(self) -> str:
        """``section``, ``municipality``, ``region`` or ``all``: the narrowest level chosen."""
        if self.section:
            return "section"
        if self.municipality:
            return "municipality"
        if self.region:
            return "region"
        return "all"


def select_sections(sections: gpd.GeoDataFrame, filters: Filters) -> gpd.GeoDataFrame:
    """The sections inside the chosen region, municipality and section (a new frame)."""
    keep = pd.Series(True, index=sections.index)
    if filters.region:
        keep &= sections["region"] == filters.region
    if filters.municipality:
        keep &= sections["municipality"] == filters.municipality
    if filters.section:
        keep &= sections["section_id"] == filters.section
    return sections.loc[keep.fillna(False).to_numpy(dtype=bool)].copy()


def neighbours_of(sections: gpd.GeoDataFrame, section_id: str, tolerance_m: float = 1.0) -> list[str]:
    """Ids of the sections that touch ``section_id`` (within ``tolerance_m`` metres, EPSG:9141), sorted."""
    from geo.schema import METRIC_CRS

    ids = sections["section_id"]
    mine = sections[ids == str(section_id)]
    if mine.empty:
        return []
    metric = sections.to_crs(METRIC_CRS)
    target = metric.geometry[ids == str(section_id)].iloc[0].buffer(tolerance_m)
    hits = metric.sindex.query(target, predicate="intersects")
    found = sorted(set(ids.iloc[hits]) - {str(section_id)})
    return found


def regions_in(sections: pd.DataFrame) -> list[str]:
    """Regions that have sections, in the official order of :data:`geo.places.REGIONS`."""
    present = set(sections["region"].dropna())
    order = [r.name for r in places.REGIONS]
    return [r for r in order if r in present] + sorted(present - set(order))


def municipalities_in(sections: pd.DataFrame, region: str = "") -> list[str]:
    """Municipalities that have sections (within ``region`` if given), alphabetically."""
    s = sections if not region else sections[sections["region"] == region]
    return sorted(set(s["municipality"].dropna()), key=places.normalize)


def sections_in(sections: pd.DataFrame, region: str = "", municipality: str = "") -> pd.DataFrame:
    """``section_id`` and ``section_name`` of the sections in the area, sorted by name."""
    s = sections
    if region:
        s = s[s["region"] == region]
    if municipality:
        s = s[s["municipality"] == municipality]
    out = pd.DataFrame({"section_id": s["section_id"], "section_name": s["section_name"].astype(str)})
    return out.sort_values("section_name", key=lambda c: c.map(places.normalize)).reset_index(drop=True)


def search_sections(sections: pd.DataFrame, query: str, limit: int = 20) -> pd.DataFrame:
    """Sections whose name, or one of whose villages, contains ``query``.

    Matching ignores case, diacritics and punctuation (``"fushe"`` finds
    ``"Fushë Kosovë"``). Returns ``section_id, section_name, municipality, region,
    matched`` where ``matched`` is the name or village that matched; name
    matches come first. Empty for a query shorter than two characters.
    """
    cols = ["section_id", "section_name", "municipality", "region", "matched"]
    q = places.normalize(query or "")
    if len(q) < 2:
        return pd.DataFrame(columns=cols)
    rows = []
    has_villages = "villages" in sections.columns
    for rec in sections.itertuples(index=False):
        name = str(rec.section_name)
        if q in places.normalize(name):
            rows.append((0, rec.section_id, name, rec.municipality, rec.region, name))
            continue
        villages = getattr(rec, "villages", None) if has_villages else None
        if isinstance(villages, (list, tuple, np.ndarray)):
            for v in villages:
                if q in places.normalize(str(v)):
                    rows.append((1, rec.section_id, name, rec.municipality, rec.region, str(v)))
                    break
    rows.sort(key=lambda r: (r[0], places.normalize(r[2])))
    return pd.DataFrame([r[1:] for r in rows[:limit]], columns=cols)


# ---------------------------------------------------------------- incidents


def _in_sections(frame: pd.DataFrame, section_ids: pd.Index | None) -> pd.Series:
    ids = frame["section_id"]
    inside = ids.notna()
    if section_ids is not None:
        inside &= ids.isin(pd.Index(section_ids).astype(str))
    return inside.fillna(False).astype(bool)


def _cube(incidents):
    """``incidents`` when it is a pre-aggregated :class:`geo.cube.IncidentCube` (same answers, no scan), else None."""
    from geo.cube import IncidentCube

    return incidents if isinstance(incidents, IncidentCube) else None


def incident_counts(
    incidents: pd.DataFrame,
    period: Period,
    categories: tuple[str, ...] | list[str] = (),
    section_ids: pd.Index | None = None,
) -> pd.Series:
    """Incidents per section in ``period``: the sum of ``count``, indexed by ``section_id``.

    ``categories`` empty means all; ``section_ids`` ``None`` means every section.
    Sections without incidents are absent (use ``reindex(..., fill_value=0)``).
    """
    if (cube := _cube(incidents)) is not None:
        return cube.incident_counts(period, categories, section_ids)
    keep = period.mask(incidents["occurred_at"]) & _in_sections(incidents, section_ids)
    if categories:
        keep &= incidents["category"].isin(list(categories))
    sel = incidents.loc[keep.to_numpy(dtype=bool)]
    counts = pd.to_numeric(sel["count"], errors="coerce").fillna(1)
    out = counts.groupby(sel["section_id"]).sum()
    out.index.name = "section_id"
    return out.astype("int64")


def located_incidents(
    incidents: pd.DataFrame,
    period: Period,
    categories: tuple[str, ...] | list[str] = (),
    section_ids: pd.Index | None = None,
) -> tuple[pd.DataFrame, int]:
    """Incidents of the period with coordinates (``lon``, ``lat``, ``count``) and how many have none.

    The second value is the sum of ``count`` of the selected records located
    only by their section (daily ticket counts, say): they are in every count
    per section but cannot be placed on a density surface or a grid.
    """
    if (cube := _cube(incidents)) is not None:
        return cube.located_incidents(period, categories, section_ids)
    keep = period.mask(incidents["occurred_at"]) & _in_sections(incidents, section_ids)
    if categories:
        keep &= incidents["category"].isin(list(categories))
    sel = incidents.loc[keep.to_numpy(dtype=bool)]
    counts = pd.to_numeric(sel["count"], errors="coerce").fillna(1)
    has_xy = sel["lon"].notna() & sel["lat"].notna() if "lon" in sel else pd.Series(False, index=sel.index)
    has_xy = has_xy.to_numpy(dtype=bool)
    points = pd.DataFrame(
        {
            "lon": sel["lon"].to_numpy(dtype=float)[has_xy],
            "lat": sel["lat"].to_numpy(dtype=float)[has_xy],
            "count": counts.to_numpy(dtype=float)[has_xy],
        }
    )
    return points, int(counts[~has_xy].sum())


def counts_by_category(
    incidents: pd.DataFrame,
    period: Period,
    section_ids: pd.Index | None = None,
) -> pd.DataFrame:
    """Incidents per section (rows, ``section_id``) and category (columns) in ``period``: sums of ``count``.

    Only sections and categories with incidents appear (reindex as needed).
    """
    if (cube := _cube(incidents)) is not None:
        return cube.counts_by_category(period, section_ids)
    keep = period.mask(incidents["occurred_at"]) & _in_sections(incidents, section_ids)
    sel = incidents.loc[keep.to_numpy(dtype=bool)]
    if sel.empty:
        return pd.DataFrame(index=pd.Index([], name="section_id", dtype="object"))
    counts = pd.to_numeric(sel["count"], errors="coerce").fillna(1)
    table = counts.groupby([sel["section_id"].to_numpy(), sel["category"].astype(str).to_numpy()]).sum()
    out = table.unstack(fill_value=0).astype("int64")
    out.index.name = "section_id"
    out.columns.name = None
    return out


def section_measures(
    sections: pd.DataFrame,
    incidents: pd.DataFrame,
    period: Period,
    categories: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """Per section: incidents in the period, the previous one and a year earlier; changes; rates.

    Indexed by ``section_id`` (every given section, in order). Columns:
    ``count``, ``previous`` (the period of the same length just before),
    ``change`` (count − previous), ``p`` (two-sided p-value of the exact
    test of :mod:`geo.compare`, one section at a time), ``p_fdr`` (``p``
    adjusted by Benjamini–Hochberg across the given sections), ``direction``
    (+1, −1 or 0: the sign of the change in incidents per day) and ``flag``
    (from ``p_fdr``: the sections are compared all at once, on a map or in a
    table), ``year_earlier``, ``change_year``, ``p_year``, ``p_year_fdr``,
    ``direction_year``, ``flag_year`` (the same against the same days a year earlier),
    ``population`` (residents; missing when unknown), ``rate`` and
    ``rate_previous`` (incidents per 1,000 residents; missing without a
    population). Each count is compared with the days of its period the data
    covers (:meth:`Period.covered_days`), so unequal lengths are handled. A
    comparison period the data does not cover (less than half of its days,
    :meth:`Period.covered_by`) gets missing counts; it, and 0 against 0, get
    the flag ``no_comparison``.
    """
    ids = pd.Index(sections["section_id"], name="section_id")
    if (cube := _cube(incidents)) is not None:
        first, last = cube.span()
    else:
        first, last = (
            (pd.to_datetime(incidents["occurred_at"]).min(), pd.to_datetime(incidents["occurred_at"]).max())
            if len(incidents)
            else (None, None)
        )
    now = incident_counts(incidents, period, categories, ids).reindex(ids, fill_value=0)
    if "population" in sections.columns:
        pop = pd.to_numeric(pd.Series(sections["population"].to_numpy(), index=ids), errors="coerce")
    else:
        pop = pd.Series(np.nan, index=ids)
    pop = pop.where(pop > 0)
    out = pd.DataFrame({"count": now.astype("int64")}, index=ids)
    known = first is not None and not pd.isna(first)
    days_now = period.covered_days(first, last) if known else period.days
    for other, col, change, p, flag in (
        (period.previous(), "previous", "change", "p", "flag"),
        (period.year_earlier(), "year_earlier", "change_year", "p_year", "flag_year"),
    ):
        if other.covered_by(first, last) or (col == "previous" and first is None):
            days_other = other.covered_days(first, last) if known else other.days
            counts = incident_counts(incidents, other, categories, ids).reindex(ids, fill_value=0)
            out[col] = counts.astype("Int64")
            out[change] = (now - counts).astype("Int64")
            out[p] = compare.p_value(now, counts, days_now, days_other)
            out[f"{p}_fdr"] = compare.adjusted(out[p])
            out[f"direction{p[1:]}"] = compare.direction(now, counts, days_now, days_other)
            out[flag] = compare.flag(out[f"{p}_fdr"], out[f"direction{p[1:]}"])
        else:  # the data does not reach that period: no comparison rather than a comparison with zeros
            out[col] = pd.array([pd.NA] * len(ids), dtype="Int64")
            out[change] = pd.array([pd.NA] * len(ids), dtype="Int64")
            out[p] = np.nan
            out[f"{p}_fdr"] = np.nan
            out[f"direction{p[1:]}"] = 0
            out[flag] = compare.NO_COMPARISON
    out["population"] = pop.astype("float64")
    out = out[
        [
            "count",
            "previous",
            "change",
            "year_earlier",
            "change_year",
            "population",
            "p",
            "p_fdr",
            "direction",
            "flag",
            "p_year",
            "p_year_fdr",
            "direction_year",
            "flag_year",
        ]
    ]
    out["rate"] = out["count"] / out["population"] * 1000.0
    out["rate_previous"] = out["previous"] / out["population"] * 1000.0
    return out


def is_aggregated(incidents: pd.DataFrame) -> pd.Series:
    """Records that stand for several incidents or carry no real time of day.

    True where ``count`` > 1, or for a traffic ticket recorded at exactly
    midnight (daily ticket counts per section are dated 00:00). Such rows must
    stay out of any time-of-day figure.
    """
    when = pd.to_datetime(incidents["occurred_at"])
    count = pd.to_numeric(incidents["count"], errors="coerce").fillna(1)
    midnight = (when.dt.hour == 0) & (when.dt.minute == 0) & (when.dt.second == 0)
    ticket = incidents["category"].astype("string") == "traffic_ticket"
    return ((count > 1) | (midnight & ticket)).fillna(False).astype(bool)


def monthly_counts(
    incidents: pd.DataFrame,
    period: Period,
    categories: tuple[str, ...] | list[str] = (),
    section_ids: pd.Index | None = None,
) -> pd.DataFrame:
    """Incidents per calendar month (rows, first day of the month) and category (columns): sums of ``count``.

    Every month the period touches is a row, with zeros where nothing was
    recorded; only categories with at least one incident are columns.
    """
    if (cube := _cube(incidents)) is not None:
        return cube.monthly_counts(period, categories, section_ids, order=CATEGORY_CODES)
    keep = period.mask(incidents["occurred_at"]) & _in_sections(incidents, section_ids)
    if categories:
        keep &= incidents["category"].isin(list(categories))
    sel = incidents.loc[keep.to_numpy(dtype=bool)]
    months = pd.DatetimeIndex(period.months(), name="month")
    if sel.empty:
        return pd.DataFrame(index=months)
    month = pd.to_datetime(sel["occurred_at"]).dt.to_period("M").dt.to_timestamp()
    counts = pd.to_numeric(sel["count"], errors="coerce").fillna(1)
    table = counts.groupby([month.to_numpy(), sel["category"].astype(str).to_numpy()]).sum().unstack(fill_value=0)
    table = table.reindex(months, fill_value=0)
    table.index.name = "month"
    table.columns.name = None
    order = [c for c in CATEGORY_CODES if c in table.columns] + [c for c in table.columns if c not in CATEGORY_CODES]
    return table[order].astype("int64")


def hour_of_day(
    incidents: pd.DataFrame,
    period: Period,
    categories: tuple[str, ...] | list[str] = (),
    section_ids: pd.Index | None = None,
) -> pd.Series:
    """Incidents per hour of the day (index 0–23), leaving out aggregated records (:func:`is_aggregated`)."""
    if (cube := _cube(incidents)) is not None:
        return cube.hour_of_day(period, categories, section_ids)
    keep = period.mask(incidents["occurred_at"]) & _in_sections(incidents, section_ids) & ~is_aggregated(incidents)
    if categories:
        keep &= incidents["category"].isin(list(categories))
    sel = incidents.loc[keep.to_numpy(dtype=bool)]
    hours = pd.to_datetime(sel["occurred_at"]).dt.hour
    out = hours.value_counts().reindex(range(24), fill_value=0).astype("int64")
    out.index.name = "hour"
    return out


def area_population(sections: pd.DataFrame) -> float:
    """Residents of the given sections; NaN when any of them has no known population."""
    if "population" not in sections.columns or sections.empty:
        return float("nan")
    pop = pd.to_numeric(sections["population"], errors="coerce")
    return float(pop.sum()) if pop.notna().all() else float("nan")


# ---------------------------------------------------------------- rates that small populations cannot inflate


def smoothed_rates(measures: pd.DataFrame, national: pd.DataFrame | None = None) -> pd.Series:
    """Empirical-Bayes smoothed incidents per 1,000 residents (:mod:`geo.rates`) of ``measures``' sections.

    ``measures`` and ``national`` come from :func:`section_measures` (``count``, ``population``). The prior
    is that of ``national`` (all of Kosovo for the period and categories, so a section's smoothed rate is
    the same whichever area is shown; default: ``measures`` itself). Sections with no population, or whose
    count is missing (withheld in the public version), get no rate and take no part in the prior.
    """
    base = measures if national is None else national
    prior = rates.eb_prior(rates.as_array(base["count"]), rates.as_array(base["population"]))
    values = rates.eb_rates(rates.as_array(measures["count"]), rates.as_array(measures["population"]), prior=prior)
    return pd.Series(values, index=measures.index, name="rate_smoothed")


def highest_rates(
    measures: pd.DataFrame, min_population: int = rates.MIN_POPULATION, smoothed: bool = True, n: int = 10
) -> pd.DataFrame:
    """The rows of the "highest rate" table, in order.

    First the ``n`` sections with the highest rate among those with at least ``min_population``
    residents: by ``rate_smoothed`` (which ``measures`` must then have, :func:`smoothed_rates`) when
    ``smoothed``, else by the raw ``rate``; ties by count, sections without a rate last. Then the sections
    with fewer residents whose raw rate would have put them among the ``n`` highest: they are listed,
    marked, but never ranked first. Adds ``rank`` (1…, missing for the marked ones) and
    ``small_population`` (True for them).
    """
    if smoothed and "rate_smoothed" not in measures:
        raise ValueError("smoothed rates need a 'rate_smoothed' column (geo.figures.smoothed_rates)")
    key = "rate_smoothed" if smoothed else "rate"
    out = measures.copy()
    pop = rates.as_array(out["population"])
    out["small_population"] = np.isfinite(pop) & (pop < min_population)
    ranked = out[~out["small_population"]].sort_values([key, "count"], ascending=False, na_position="last").head(n)
    by_raw = out.sort_values(["rate", "count"], ascending=False, na_position="last").head(n)
    small = by_raw[by_raw["small_population"] & by_raw["rate"].notna()]
    ranked = ranked.assign(rank=pd.array(range(1, len(ranked) + 1), dtype="Int64"))
    small = small.assign(rank=pd.array([pd.NA] * len(small), dtype="Int64"))
    return pd.concat([ranked, small])


# ---------------------------------------------------------------- headline figures


@dataclass(frozen=True)
class Headline:
    """One headline figure in a period, the previous period of the same length and the same days a year earlier.

    ``previous`` is always a number (0 where the data does not reach);
    ``previous_covered`` says whether the data covers that period (see
    :meth:`Period.covered_by`). ``year_earlier`` is ``None`` when the data does
    not cover the same days a year earlier. A comparison with zeros the data
    never recorded would be dishonest: :meth:`test` returns ``no_comparison``
    then. ``days``, ``previous_days`` and ``year_days`` are the lengths
    compared (the days of each period the data covers; equal for states such
    as open concerns).
    """

    key: str
    current: int
    previous: int
    year_earlier: int | None = None
    previous_covered: bool = True
    days: float = 1
    previous_days: float = 1
    year_days: float = 1

    @property
    def change(self) -> int:
        return self.current - self.previous

    @property
    def change_year(self) -> int | None:
        return None if self.year_earlier is None else self.current - self.year_earlier

    def other(self, against: str) -> int | None:
        """The figure of ``previous`` or ``year_earlier``, ``None`` when the data does not cover it."""
        if against == "previous":
            return self.previous if self.previous_covered else None
        if against == "year_earlier":
            return self.year_earlier
        raise ValueError(f"against must be 'previous' or 'year_earlier', not {against!r}")

    def test(self, against: str = "previous") -> tuple[float, str]:
        """``(p, flag)`` of the change against ``previous`` or ``year_earlier``: the exact test of
        :mod:`geo.compare` for this one figure, at its stated levels.

        ``(nan, "no_comparison")`` when that period is not covered, or both counts are 0.
        """
        other = self.other(against)
        if other is None:
            return float("nan"), compare.NO_COMPARISON
        days = self.previous_days if against == "previous" else self.year_days
        return compare.compare_one(self.current, other, self.days, days)


def open_concerns(concerns: pd.DataFrame, on: dt.date, section_ids: pd.Index | None = None) -> int:
    """Concerns open at the end of day ``on``: raised by then and not resolved by then (exact in the public
    view too: public concerns are listed one by one).

    A concern marked resolved without a ``resolved_on`` date counts as resolved.
    """
    return int(open_mask(concerns, on, section_ids).sum())


def open_mask(concerns: pd.DataFrame, on: dt.date, section_ids: pd.Index | None = None) -> np.ndarray:
    """Which concerns (rows of ``concerns``, in order) are open at the end of day ``on`` in these sections
    (all sections when ``None``): see :func:`open_concerns`."""
    if concerns.empty:
        return np.zeros(len(concerns), dtype=bool)
    end = pd.Timestamp(on) + pd.Timedelta(days=1)
    raised = pd.to_datetime(concerns["raised_on"]) < end
    status = concerns["status"].astype("string").fillna("open") if "status" in concerns else "open"
    resolved_on = pd.to_datetime(concerns["resolved_on"]) if "resolved_on" in concerns else pd.NaT
    resolved = (status == "resolved") & (pd.isna(resolved_on) | (resolved_on < end))
    keep = raised & ~resolved.fillna(False) & _in_sections(concerns, section_ids)
    return keep.fillna(False).to_numpy(dtype=bool)


def active_committees(committees: pd.DataFrame, on: dt.date, sections: pd.DataFrame, filters: Filters) -> int:
    """Committees active at ``on`` that serve the chosen area.

    A committee serves a section if its ``sections`` list names it; an MCPS
    with an empty list serves its whole municipality. A committee set up after
    ``on`` does not count. (Files carry no end date: an inactive committee is
    left out of every period.)
    """
    if committees.empty:
        return 0
    c = committees
    active = c["active"].astype("boolean").fillna(True) if "active" in c else pd.Series(True, index=c.index)
    if "established_on" in c:
        est = pd.to_datetime(c["established_on"])
        active &= est.isna() | (est < pd.Timestamp(on) + pd.Timedelta(days=1))
    keep = active.fillna(False).astype(bool)
    if filters.section:
        sec = sections[sections["section_id"] == filters.section]
        muni = sec["municipality"].iloc[0] if len(sec) else None

        def serves(row) -> bool:
            ids = row["sections"] if isinstance(row["sections"], (list, tuple, np.ndarray)) else []
            if filters.section in [str(i) for i in ids]:
                return True
            return row["type"] == "MCPS" and len(ids) == 0 and row["municipality"] == muni

        keep &= c.apply(serves, axis=1).astype(bool) if len(c) else keep
    elif filters.municipality:
        keep &= c["municipality"] == filters.municipality
    elif filters.region:
        munis = {m.name for m in places.municipalities() if m.region == filters.region}
        keep &= c["municipality"].isin(munis)
    return int(keep.fillna(False).sum())


def headlines(
    incidents: pd.DataFrame,
    concerns: pd.DataFrame,
    committees: pd.DataFrame,
    sections: pd.DataFrame,
    filters: Filters,
    period: Period,
) -> dict[str, Headline]:
    """The Overview's headline figures for the chosen area, keyed as in :data:`HEADLINES`.

    Accidents (three kinds), traffic tickets and crimes are sums of ``count``
    in the period; open concerns and active committees are states at the
    period's last day. Each is paired with the previous period of the same
    length and with the same days a year earlier, when the data covers them
    (incidents: the span of incident dates; concerns: of concern dates; the
    committee register always). The incident category filter does not apply
    here: each figure is its own group of categories.
    """
    ids = pd.Index(select_sections(sections, filters)["section_id"])
    prev = period.previous()
    year = period.year_earlier()

    def span(frame: pd.DataFrame, col: str) -> tuple[object, object]:
        if frame.empty or col not in frame:
            return None, None
        when = pd.to_datetime(frame[col])
        return when.min(), when.max()

    inc_span = cube.span() if (cube := _cube(incidents)) is not None else span(incidents, "occurred_at")
    con_span = span(concerns, "raised_on")

    def total(p: Period, cats: tuple[str, ...]) -> int:  # the cube's own total (a public one is one cell)
        if cube is not None:
            return cube.total(p, cats, ids)
        return int(incident_counts(incidents, p, cats, ids).sum())

    def covered(p: Period, extent: tuple[object, object]) -> bool:
        return p.covered_by(*extent)

    groups = HEADLINE_CATEGORIES
    known = inc_span[0] is not None and not pd.isna(inc_span[0])
    lengths = {  # the days of each period the incident data covers (every day when there is none)
        "days": period.covered_days(*inc_span) if known else period.days,
        "previous_days": prev.covered_days(*inc_span) if known else prev.days,
        "year_days": year.covered_days(*inc_span) if known else year.days,
    }
    out = {
        key: Headline(
            key,
            total(period, cats),
            total(prev, cats),
            total(year, cats) if covered(year, inc_span) else None,
            covered(prev, inc_span),
            **lengths,
        )
        for key, cats in groups.items()
    }
    out["open_concerns"] = Headline(
        "open_concerns",
        open_concerns(concerns, period.end, ids),
        open_concerns(concerns, prev.end, ids),
        open_concerns(concerns, year.end, ids) if covered(year, con_span) else None,
        covered(prev, con_span),
    )
    out["active_committees"] = Headline(
        "active_committees",
        active_committees(committees, period.end, sections, filters),
        active_committees(committees, prev.end, sections, filters),
        active_committees(committees, year.end, sections, filters),
    )
    return {k: out[k] for k in HEADLINES}


# ---------------------------------------------------------------- joined exports


def joined_records(frame: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """Incidents or concerns with their section's name, municipality and region added (a new frame)."""
    names = pd.DataFrame(
        {
            "section_id": sections["section_id"],
            "section_name": sections["section_name"],
            "municipality": sections["municipality"],
            "region": sections["region"],
        }
    )
    left = frame.copy()
    drop = [c for c in ("section_name", "municipality", "region") if c in left.columns]
    return left.drop(columns=drop).merge(names, on="section_id", how="left")


def outside_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Records with coordinates that fell outside every section (a new frame)."""
    if frame.empty or "section_id" not in frame:
        return frame.iloc[0:0].copy()
    lon = pd.to_numeric(frame.get("lon"), errors="coerce") if "lon" in frame else pd.Series(np.nan, index=frame.index)
    keep = frame["section_id"].isna() & np.isfinite(lon.to_numpy(dtype=float))
    return frame.loc[keep.to_numpy(dtype=bool)].copy()


def empty_period(incidents, period: Period) -> tuple[dt.date, dt.date] | None:
    """``(first, last)`` dates of the incidents when ``period`` holds none of them but the data has some.

    ``incidents`` is the table or, cheaper, its cube (``Dataset.cube``: then only records in a section count,
    as on every map and figure).

    ``None`` when the period has incidents or there are none at all: then zeros are the truth, and
    otherwise they would be shown for a period the data does not reach.
    """
    cube = _cube(incidents)
    if cube is not None:  # from the per-day index: no scan of the records on every rerun
        lo, hi = cube._days(period)
        if cube.n_days == 0 or cube.offsets[hi] > cube.offsets[lo]:
            return None
        first, last = cube.span()
        if first is None or last is None:
            return None
        return pd.Timestamp(first).date(), pd.Timestamp(last).date()
    if not len(incidents):
        return None
    when = incidents["occurred_at"]
    if period.mask(when).any():
        return None
    first, last = when.min(), when.max()
    if pd.isna(first) or pd.isna(last):
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()
