"""The figures the dashboard's pages show: periods, filters and aggregations.

Pure functions on the tables of a :class:`~geo.source.Dataset`. They never
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

from geo import places
from geo.schema import ACCIDENT_CATEGORIES, CRIME_CATEGORIES, INCIDENT_CATEGORIES

#: Measures the map can colour sections by.
MEASURES = ("rate", "count", "change")
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
        """The period of the same length that ends the day before this one starts."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

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
        keep &= sections["section_id"].astype(str) == filters.section
    return sections.loc[keep.fillna(False).to_numpy(dtype=bool)].copy()


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
    out = pd.DataFrame({"section_id": s["section_id"].astype(str), "section_name": s["section_name"].astype(str)})
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
        inside &= ids.astype("string").isin(pd.Index(section_ids).astype(str))
    return inside.fillna(False).astype(bool)


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
    keep = period.mask(incidents["occurred_at"]) & _in_sections(incidents, section_ids)
    if categories:
        keep &= incidents["category"].isin(list(categories))
    sel = incidents.loc[keep.to_numpy(dtype=bool)]
    counts = pd.to_numeric(sel["count"], errors="coerce").fillna(1)
    out = counts.groupby(sel["section_id"].astype(str)).sum()
    out.index.name = "section_id"
    return out.astype("int64")


def section_measures(
    sections: pd.DataFrame,
    incidents: pd.DataFrame,
    period: Period,
    categories: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """Per section: incidents in the period and the previous one, change, rate per 1,000 residents.

    Indexed by ``section_id`` (every given section, in order). Columns:
    ``count``, ``previous``, ``change`` (count − previous), ``population``
    (residents; missing when unknown), ``rate`` and ``rate_previous``
    (incidents per 1,000 residents; missing without a population).
    """
    ids = pd.Index(sections["section_id"].astype(str), name="section_id")
    now = incident_counts(incidents, period, categories, ids).reindex(ids, fill_value=0)
    before = incident_counts(incidents, period.previous(), categories, ids).reindex(ids, fill_value=0)
    if "population" in sections.columns:
        pop = pd.to_numeric(pd.Series(sections["population"].to_numpy(), index=ids), errors="coerce")
    else:
        pop = pd.Series(np.nan, index=ids)
    pop = pop.where(pop > 0)
    out = pd.DataFrame(
        {
            "count": now.astype("int64"),
            "previous": before.astype("int64"),
            "change": (now - before).astype("int64"),
            "population": pop.astype("float64"),
        },
        index=ids,
    )
    out["rate"] = out["count"] / out["population"] * 1000.0
    out["rate_previous"] = out["previous"] / out["population"] * 1000.0
    return out


# ---------------------------------------------------------------- headline figures


@dataclass(frozen=True)
class Headline:
    """One headline figure in a period and in the previous period of the same length."""

    key: str
    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous


def open_concerns(concerns: pd.DataFrame, on: dt.date, section_ids: pd.Index | None = None) -> int:
    """Concerns open at the end of day ``on``: raised by then and not resolved by then.

    A concern marked resolved without a ``resolved_on`` date counts as resolved.
    """
    if concerns.empty:
        return 0
    end = pd.Timestamp(on) + pd.Timedelta(days=1)
    raised = pd.to_datetime(concerns["raised_on"]) < end
    status = concerns["status"].astype("string").fillna("open") if "status" in concerns else "open"
    resolved_on = pd.to_datetime(concerns["resolved_on"]) if "resolved_on" in concerns else pd.NaT
    resolved = (status == "resolved") & (pd.isna(resolved_on) | (resolved_on < end))
    keep = raised & ~resolved.fillna(False) & _in_sections(concerns, section_ids)
    return int(keep.fillna(False).sum())


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
        sec = sections[sections["section_id"].astype(str) == filters.section]
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
    length. The incident category filter does not apply here: each figure is
    its own group of categories.
    """
    ids = pd.Index(select_sections(sections, filters)["section_id"].astype(str))
    prev = period.previous()

    def total(p: Period, cats: tuple[str, ...]) -> int:
        return int(incident_counts(incidents, p, cats, ids).sum())

    groups = {code: (code,) for code in ACCIDENT_CATEGORIES}
    groups["traffic_ticket"] = ("traffic_ticket",)
    groups["crimes"] = CRIME_CATEGORIES
    out = {key: Headline(key, total(period, cats), total(prev, cats)) for key, cats in groups.items()}
    out["open_concerns"] = Headline(
        "open_concerns", open_concerns(concerns, period.end, ids), open_concerns(concerns, prev.end, ids)
    )
    out["active_committees"] = Headline(
        "active_committees",
        active_committees(committees, period.end, sections, filters),
        active_committees(committees, prev.end, sections, filters),
    )
    return {k: out[k] for k in HEADLINES}


#: Every incident category code, in the vocabulary's order (the category filter's options).
CATEGORY_CODES = tuple(t.code for t in INCIDENT_CATEGORIES)


# ---------------------------------------------------------------- joined exports


def joined_records(frame: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    """Incidents or concerns with their section's name, municipality and region added (a new frame)."""
    names = pd.DataFrame(
        {
            "section_id": sections["section_id"].astype(str),
            "section_name": sections["section_name"],
            "municipality": sections["municipality"],
            "region": sections["region"],
        }
    )
    left = frame.copy()
    left["section_id"] = left["section_id"].astype("string")
    names["section_id"] = names["section_id"].astype("string")
    drop = [c for c in ("section_name", "municipality", "region") if c in left.columns]
    return left.drop(columns=drop).merge(names, on="section_id", how="left")


def outside_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Records with coordinates that fell outside every section (a new frame)."""
    if frame.empty or "section_id" not in frame:
        return frame.iloc[0:0].copy()
    lon = pd.to_numeric(frame.get("lon"), errors="coerce") if "lon" in frame else pd.Series(np.nan, index=frame.index)
    keep = frame["section_id"].isna() & np.isfinite(lon.to_numpy(dtype=float))
    return frame.loc[keep.to_numpy(dtype=bool)].copy()
