"""Committee coverage by municipality and meeting recency.

A section is *covered* when an active LCPS lists it. An MCPS is *meeting*
when it met within the window (3, 6 or 12 months before the reference date).
A committee has *lapsed* when it is inactive or has not met for 6 months
(or never met) while established before that.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

WINDOWS_MONTHS = (3, 6, 12)
LAPSE_MONTHS = 6


def last_meetings(committees: pd.DataFrame, meetings: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per committee: last meeting on or before ``as_of``, meetings in the last 3/6/12 months, lapsed flag."""
    as_of = pd.Timestamp(as_of).normalize()
    m = meetings[meetings["held_on"] <= as_of] if len(meetings) else meetings
    out = committees[["committee_id", "type", "name", "municipality", "active", "established_on"]].copy()
    if len(m):
        last = m.groupby("committee_id")["held_on"].max()
        attendance = m.groupby("committee_id")["attendance"].mean()
        raised = m.groupby("committee_id")["concerns_raised"].sum()
        total = m.groupby("committee_id").size()
    else:
        last = attendance = raised = total = pd.Series(dtype="float64")
    out["last_meeting"] = pd.to_datetime(out["committee_id"].map(last))
    out["meetings_total"] = out["committee_id"].map(total).fillna(0).astype(int)
    out["mean_attendance"] = out["committee_id"].map(attendance)
    out["concerns_raised"] = out["committee_id"].map(raised).fillna(0).astype(int)
    for months in WINDOWS_MONTHS:
        since = as_of - pd.DateOffset(months=months)
        if len(m):
            recent = m[m["held_on"] > since].groupby("committee_id").size()
        else:
            recent = pd.Series(dtype="int64")
        out[f"meetings_{months}m"] = out["committee_id"].map(recent).fillna(0).astype(int)
    lapse_since = as_of - pd.DateOffset(months=LAPSE_MONTHS)
    established_long_ago = out["established_on"].isna() | (out["established_on"] <= lapse_since)
    no_recent = out["last_meeting"].isna() | (out["last_meeting"] <= lapse_since)
    out["lapsed"] = ~out["active"].astype(bool) | (no_recent & established_long_ago)
    return out


def by_municipality(
    sections: gpd.GeoDataFrame, committees: pd.DataFrame, meetings: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Coverage per municipality (index: municipality).

    Columns: ``sections``, ``sections_covered``, ``share_sections_covered`` (0–1),
    ``population``, ``population_covered``, ``share_population_covered`` (NaN
    when population is unknown), ``lcps_active``, ``mcps_present``,
    ``mcps_meetings_3m/6m/12m``, ``acps``, ``last_meeting``, ``lapsed``
    (number of lapsed committees), ``all_lapsed`` (has committees and all lapsed).
    """
    status = last_meetings(committees, meetings, as_of)
    active_lcps = committees[(committees["type"] == "LCPS") & committees["active"].astype(bool)]
    covered_ids = set(s for ids in active_lcps["sections"] for s in ids)
    sec = pd.DataFrame(sections[["section_id", "municipality", "population"]])
    sec["covered"] = sec["section_id"].isin(covered_ids)
    pop = pd.to_numeric(sec["population"], errors="coerce")
    sec["population_covered"] = pop.where(sec["covered"], 0)
    g = sec.groupby("municipality")
    out = pd.DataFrame(
        {
            "sections": g.size(),
            "sections_covered": g["covered"].sum().astype(int),
            "population": g["population"].agg(lambda p: pd.to_numeric(p, errors="coerce").sum(min_count=len(p))),
            "population_covered": g["population_covered"].sum(min_count=1),
        }
    )
    out["share_sections_covered"] = out["sections_covered"] / out["sections"]
    out["share_population_covered"] = (out["population_covered"] / out["population"]).where(out["population"] > 0)
    st = status.groupby("municipality")
    types = status.pivot_table(index="municipality", columns="type", values="committee_id", aggfunc="count")
    out["lcps_active"] = active_lcps.groupby("municipality").size().reindex(out.index).fillna(0).astype(int)
    out["mcps_present"] = types.get("MCPS", pd.Series(dtype=float)).reindex(out.index).fillna(0).astype(int) > 0
    mcps = status[status["type"] == "MCPS"].groupby("municipality")
    for months in WINDOWS_MONTHS:
        col = f"meetings_{months}m"
        out[f"mcps_{col}"] = mcps[col].sum().reindex(out.index).fillna(0).astype(int)
    out["acps"] = types.get("ACPS", pd.Series(dtype=float)).reindex(out.index).fillna(0).astype(int)
    out["last_meeting"] = st["last_meeting"].max().reindex(out.index)
    out["lapsed"] = st["lapsed"].sum().reindex(out.index).fillna(0).astype(int)
    n_comm = st.size().reindex(out.index).fillna(0).astype(int)
    out["all_lapsed"] = (n_comm > 0) & (out["lapsed"] == n_comm)
    return out


def uncovered_hot_sections(
    section_values: pd.Series, sections: gpd.GeoDataFrame, committees: pd.DataFrame, top_share: float = 0.1
) -> pd.DataFrame:
    """Sections in the top ``top_share`` by value (e.g. incidents or concerns) with no active LCPS.

    ``section_values`` is indexed by ``section_id``. Returns the sections with
    their value, sorted by value (descending).
    """
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be in (0, 1], not {top_share!r}")
    active_lcps = committees[(committees["type"] == "LCPS") & committees["active"].astype(bool)]
    covered = set(s for ids in active_lcps["sections"] for s in ids)
    vals = section_values.reindex(sections["section_id"]).fillna(0)
    if not len(vals) or vals.max() <= 0:
        return pd.DataFrame(columns=["section_id", "value"])
    n_top = max(1, int(np.ceil(top_share * len(vals))))
    top = vals.sort_values(ascending=False, kind="stable").head(n_top)
    top = top[(top > 0) & ~top.index.isin(covered)]
    return top.rename("value").rename_axis("section_id").reset_index()


def serving(committees: pd.DataFrame, section_id: str, municipality: str) -> pd.Series:
    """Which committees serve a section: those whose list names it, and the municipality's MCPS with an empty list."""
    if committees.empty:
        return pd.Series(False, index=committees.index, dtype=bool)

    def serves(row) -> bool:
        ids = row["sections"] if isinstance(row["sections"], (list, tuple, np.ndarray)) else []
        if str(section_id) in [str(i) for i in ids]:
            return True
        return row["type"] == "MCPS" and len(ids) == 0 and row["municipality"] == municipality

    return committees.apply(serves, axis=1).astype(bool)


def register(
    committees: pd.DataFrame, meetings: pd.DataFrame, concerns: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """The committee register: :func:`last_meetings` plus ``members``, ``sections`` (how many it lists)
    and ``concerns_recorded`` (concerns whose ``meeting_id`` is one of its meetings up to ``as_of``).

    Sorted by municipality, type (MCPS, LCPS, ACPS) and name.
    """
    out = last_meetings(committees, meetings, as_of)
    out["members"] = committees["members"].to_numpy() if "members" in committees else pd.NA
    out["sections"] = [len(ids) if isinstance(ids, (list, tuple, np.ndarray)) else 0 for ids in committees["sections"]]
    out["concerns_recorded"] = 0
    if len(meetings) and len(concerns) and "meeting_id" in concerns:
        held = meetings[meetings["held_on"] <= pd.Timestamp(as_of).normalize()]
        owner = dict(zip(held["meeting_id"].astype(str), held["committee_id"].astype(str), strict=True))
        ids = concerns["meeting_id"].dropna().astype(str).map(owner).dropna()
        out["concerns_recorded"] = out["committee_id"].astype(str).map(ids.value_counts()).fillna(0).astype(int)
    order = {"MCPS": 0, "LCPS": 1, "ACPS": 2}
    out["_order"] = out["type"].map(order).fillna(3)
    out = out.sort_values(["municipality", "_order", "name"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)
