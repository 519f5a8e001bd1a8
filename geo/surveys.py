"""Public trust and satisfaction surveys next to incident rates for the same areas and periods.

A survey row is about a municipality or a police region (``area_kind``,
``area_name``) and a period (a year or a quarter). Its incident rate is the
number of incidents of the chosen categories recorded in the sections of that
area during the part of the period the data covers, per 1,000 residents (the
sections' population) **per year** (annualised, so partial periods compare
with whole ones). Periods the data covers for fewer than :data:`MIN_DAYS`
days get no rate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import figures

#: Fewer days of incident data than this in a survey period: no rate (too little to compare).
MIN_DAYS = 60
LEVELS = ("region", "municipality")


def area_sections(sections: pd.DataFrame, kind: str, name: str) -> pd.DataFrame:
    """The sections of a municipality or a police region."""
    if kind not in LEVELS:
        raise ValueError(f"kind must be 'region' or 'municipality', not {kind!r}")
    return sections[sections[kind] == name]


def data_span(incidents: pd.DataFrame) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First and last day with incident records (``None`` without incidents)."""
    if incidents.empty:
        return None, None
    when = pd.to_datetime(incidents["occurred_at"])
    return when.min().normalize(), when.max().normalize()


def with_rates(
    surveys: pd.DataFrame,
    sections: pd.DataFrame,
    incidents: pd.DataFrame,
    categories: tuple[str, ...],
    kind: str | None = None,
    names: list[str] | None = None,
) -> pd.DataFrame:
    """Survey rows (of ``kind`` areas, of ``names`` when given) with their area's incident rate.

    Adds ``population``, ``incidents``, ``days`` (days of the period the data
    covers) and ``rate`` (incidents per 1,000 residents per year; missing
    below :data:`MIN_DAYS` days or without population). Sorted by area and period.
    """
    cols = [
        "area_kind",
        "area_name",
        "period",
        "period_start",
        "period_end",
        "trust_pct",
        "satisfaction_pct",
        "respondents",
        "population",
        "incidents",
        "days",
        "rate",
    ]
    if surveys.empty:
        return pd.DataFrame(columns=cols)
    s = surveys
    if kind is not None:
        s = s[s["area_kind"] == kind]
    if names is not None:
        s = s[s["area_name"].isin(names)]
    span = data_span(incidents)
    rows = []
    for rec in s.itertuples(index=False):
        secs = area_sections(sections, rec.area_kind, rec.area_name)
        n, days, rate = rate_for(secs, incidents, categories, rec.period_start, rec.period_end, span)
        rows.append(
            [
                rec.area_kind,
                rec.area_name,
                rec.period,
                rec.period_start,
                rec.period_end,
                rec.trust_pct,
                rec.satisfaction_pct,
                getattr(rec, "respondents", pd.NA),
                figures.area_population(secs),
                n,
                days,
                rate,
            ]
        )
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["area_kind", "area_name", "period_start"], kind="stable").reset_index(drop=True)


def rate_for(
    sections: pd.DataFrame,
    incidents: pd.DataFrame,
    categories: tuple[str, ...],
    start,
    end,
    span: tuple | None = None,
) -> tuple[int, int, float]:
    """Incidents in ``sections`` from ``start`` to ``end`` (clipped to the data), the days counted, the annual rate.

    The rate is per 1,000 residents per year; NaN below :data:`MIN_DAYS`
    days or without a known population.
    """
    first, last = span if span is not None else data_span(incidents)
    if first is None:
        return 0, 0, float("nan")
    lo = max(pd.Timestamp(start), first)
    hi = min(pd.Timestamp(end), last)
    days = max(0, (hi - lo).days + 1)
    n = 0
    if days:
        ids = pd.Index(sections["section_id"])
        n = int(figures.incident_counts(incidents, figures.Period(lo.date(), hi.date()), categories, ids).sum())
    pop = figures.area_population(sections)
    rate = n / pop * 1000.0 * 365.25 / days if days >= MIN_DAYS and np.isfinite(pop) and pop > 0 else float("nan")
    return n, days, rate


def area_for_section(surveys: pd.DataFrame, municipality: str, region: str) -> tuple[str, str] | None:
    """Which surveyed area speaks for a section: its municipality if surveyed, else its region, else ``None``."""
    if surveys.empty:
        return None
    if ((surveys["area_kind"] == "municipality") & (surveys["area_name"] == municipality)).any():
        return "municipality", municipality
    if ((surveys["area_kind"] == "region") & (surveys["area_name"] == region)).any():
        return "region", region
    return None


# ---------------------------------------------------------------- the Trust page


def surveyed_levels(surveys: pd.DataFrame) -> list[str]:
    """The levels (:data:`LEVELS`) that the survey results have at least one area of."""
    return [k for k in LEVELS if (surveys["area_kind"] == k).any()]


def first_level(surveys: pd.DataFrame, levels: list[str], municipality: str = "") -> str:
    """The level shown first: municipalities when the chosen ``municipality`` was surveyed, else the first."""
    surveyed = set(surveys.loc[surveys["area_kind"] == "municipality", "area_name"])
    return "municipality" if municipality in surveyed else levels[0]


def shown_results(res: pd.DataFrame, _) -> pd.DataFrame:
    """The results of :func:`with_rates` with a translated ``area`` name and the ``period`` as text (a new frame)."""
    out = res.copy()
    out["area"] = [
        _.municipality(n) if k == "municipality" else _.region(n)
        for k, n in zip(out["area_kind"], out["area_name"], strict=True)
    ]
    out["period"] = out["period"].astype(str)
    return out


def results_table(res: pd.DataFrame, _, public: bool) -> pd.DataFrame:
    """The survey results as shown (``res`` from :func:`shown_results`); the public version without the
    incident figures (nested areas and periods: one figure minus another could give a small count back)."""
    table = pd.DataFrame(
        {
            _("Area"): res["area"].to_numpy(),
            _("Period"): res["period"].to_numpy(),
            _("Trust (%)"): [_.number(v, decimals=1) for v in res["trust_pct"]],
            _("Satisfaction (%)"): [_.number(v, decimals=1) for v in res["satisfaction_pct"]],
            _("Respondents"): [_.number(v) if pd.notna(v) else "–" for v in res["respondents"]],
            _("Incidents"): [_.number(v) for v in res["incidents"]],
            _("Days of incident data"): [_.number(v) for v in res["days"]],
            _("Incidents per 1,000 a year"): [_.number(v, decimals=1) if pd.notna(v) else "–" for v in res["rate"]],
        }
    )
    if public:
        return table.drop(columns=[_("Incidents"), _("Days of incident data"), _("Incidents per 1,000 a year")])
    return table
