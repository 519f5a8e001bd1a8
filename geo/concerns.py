"""Citizens' concerns: breakdowns, open concerns and their age, resolution times, and the crosswalk to incidents.

The **crosswalk** (:data:`CROSSWALK`) says which incident categories record
the problem a concern category is about. It is the one place to edit that
mapping; the Concerns page, its tests and its documentation all read it from
here. Concern categories that no incident category records (public lighting,
stray animals, illegal construction, school safety, other) map to nothing and
take no part in the comparison with incidents.

**Agreement between worry and incidents**, per section: for each concern
category *k* the concerns of the area are shared out over its sections in
proportion to the section's share of *k*'s matching incidents; summed over
the categories this gives the concerns a section would have *if worry
followed recorded incidents* (``expected``).

Whether a section's concerns differ from that by more than chance is an
exact conditional test, in the spirit of the one for periods
(:mod:`geo.compare`). If concerns and incidents of category *k* are both
Poisson with the same spatial pattern (concerns a fixed multiple of
incidents, section by section), then given the section's records of *k*
(``m = concerns + incidents``) its concerns are binomial with probability
``q_k = C_k / (C_k + N_k)``, the area's share of concerns among the records
of *k*. Over the categories, the section's concerns are tested as binomial
on ``m`` records with the mean of those probabilities (a sum of binomials is
less spread than one binomial with the same mean, so this is conservative);
the two-sided p-value is twice the smaller tail, capped at 1. Unlike a test
on the expected number alone, this allows for chance in the incidents too.
Concerns of a category of which the area recorded no matching incident at
all are worry without incidents by definition (p = 0). The p-values are
adjusted across the area's sections with Benjamini–Hochberg
(:func:`geo.hotspots.fdr_bh`) and a section is flagged at an adjusted
``p < 0.0455``:

* more concerns than the incidents explain: **worry without incidents**
  – fear of crime, or problems people do not report to the police;
* fewer: **incidents without worry** – incidents nobody raises: unseen
  problems, or residents who do not come to committees;
* otherwise **agree**; sections with neither concerns nor matching incidents
  are **quiet**.

Concern texts (``description``, ``action_taken``) come from users' files and
are untrusted: callers escape them for HTML and Markdown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import compare
from geo.schema import CONCERN_CATEGORIES, INCIDENT_CATEGORIES

#: Concern category → incident categories that record the same problem. Edit here, and only here.
CROSSWALK: dict[str, tuple[str, ...]] = {
    "road_safety": ("accident_fatal", "accident_injury", "accident_damage", "traffic_ticket"),
    "drugs": ("drugs",),
    "theft": ("theft", "burglary", "robbery"),
    "domestic_violence": ("domestic_violence",),
    "noise_public_order": ("public_order",),
    "school_safety": (),  # incidents are not recorded by place type: no counterpart
    "public_lighting": (),  # a municipal matter, not an offence
    "stray_animals": (),
    "illegal_construction": (),
    "other": (),
}

#: Agreement classes, in the order legends list them.
WORRY, AGREE, UNSEEN, QUIET = "worry_without_incidents", "agree", "incidents_without_worry", "quiet"
CLASSES = (WORRY, AGREE, UNSEEN, QUIET)
#: English text per class (translated for display by geo.i18n, context ``agreement``).
CLASS_TEXT = {
    WORRY: "Worry without incidents",
    AGREE: "Worry matches incidents",
    UNSEEN: "Incidents without worry",
    QUIET: "Neither concerns nor incidents",
}
#: One colour table (ColorBrewer PuOr ends, a neutral middle, light grey for quiet sections).
CLASS_COLOURS = {WORRY: "#b35806", AGREE: "#f7f7f7", UNSEEN: "#542788", QUIET: "#d9d9d9"}

_CONCERN_CODES = tuple(t.code for t in CONCERN_CATEGORIES)
_INCIDENT_CODES = tuple(t.code for t in INCIDENT_CATEGORIES)


def check_crosswalk(crosswalk: dict[str, tuple[str, ...]] = CROSSWALK) -> None:
    """Raise ``ValueError`` unless every key is a concern category and every value an incident category."""
    unknown = sorted(set(crosswalk) - set(_CONCERN_CODES))
    if unknown:
        raise ValueError(f"crosswalk keys must be concern categories ({', '.join(_CONCERN_CODES)}); got {unknown}")
    missing = sorted(set(_CONCERN_CODES) - set(crosswalk))
    if missing:
        raise ValueError(f"every concern category needs a crosswalk entry (use () for none); missing {missing}")
    for key, cats in crosswalk.items():
        bad = sorted(set(cats) - set(_INCIDENT_CODES))
        if bad:
            raise ValueError(
                f"crosswalk[{key!r}] names unknown incident categories {bad}; allowed: {', '.join(_INCIDENT_CODES)}"
            )


check_crosswalk()


def matching_incidents(concern_category: str) -> tuple[str, ...]:
    """Incident categories that record what ``concern_category`` is about (empty: none does)."""
    if concern_category not in CROSSWALK:
        raise ValueError(f"unknown concern category {concern_category!r}; categories are {', '.join(CROSSWALK)}")
    return CROSSWALK[concern_category]


def concern_categories_for(incident_category: str) -> tuple[str, ...]:
    """Concern categories whose crosswalk includes ``incident_category``."""
    if incident_category not in _INCIDENT_CODES:
        raise ValueError(
            f"unknown incident category {incident_category!r}; categories are {', '.join(_INCIDENT_CODES)}"
        )
    return tuple(k for k, cats in CROSSWALK.items() if incident_category in cats)


def matched_categories() -> tuple[str, ...]:
    """Concern categories that have a counterpart among incident categories."""
    return tuple(k for k, cats in CROSSWALK.items() if cats)


# ---------------------------------------------------------------- selections


def _ids(section_ids) -> pd.Index | None:
    return None if section_ids is None else pd.Index(section_ids).astype(str)


def in_area(concerns: pd.DataFrame, section_ids=None) -> pd.DataFrame:
    """Concerns located in a section (of ``section_ids`` when given); a new frame."""
    if concerns.empty:
        return concerns.copy()
    keep = concerns["section_id"].notna()
    ids = _ids(section_ids)
    if ids is not None:
        keep &= concerns["section_id"].isin(ids)
    return concerns.loc[keep.fillna(False).to_numpy(dtype=bool)].copy()


def raised_in(concerns: pd.DataFrame, start, end) -> pd.DataFrame:
    """Concerns raised between ``start`` and ``end`` (dates, both included); a new frame."""
    if concerns.empty:
        return concerns.copy()
    when = pd.to_datetime(concerns["raised_on"])
    keep = (when >= pd.Timestamp(start)) & (when < pd.Timestamp(end) + pd.Timedelta(days=1))
    return concerns.loc[keep.fillna(False).to_numpy(dtype=bool)].copy()


def _status(concerns: pd.DataFrame) -> pd.Series:
    if "status" not in concerns:
        return pd.Series("open", index=concerns.index, dtype="string")
    return concerns["status"].astype("string").fillna("open")


def breakdown(concerns: pd.DataFrame, by: str) -> pd.Series:
    """Number of concerns per value of ``by`` (``category``, ``source``, ``status`` or ``section_id``), largest first.

    Missing values count under ``""``. Exact in the public version too: public concerns are listed one by one.
    """
    if by not in ("category", "source", "status", "section_id"):
        raise ValueError(f"by must be one of category, source, status, section_id; got {by!r}")
    if concerns.empty or by not in concerns:
        return pd.Series(dtype="int64", name="concerns")
    values = _status(concerns) if by == "status" else concerns[by].astype("string").fillna("")
    out = values.value_counts(sort=False)
    out = out.sort_values(ascending=False, kind="stable").astype("int64")
    out.index.name = by
    return out.rename("concerns")


def monthly(concerns: pd.DataFrame, start, end, by: str) -> pd.DataFrame:
    """Concerns raised per calendar month (rows) and value of ``by`` (columns), every month from start to end."""
    months = pd.period_range(pd.Timestamp(start).to_period("M"), pd.Timestamp(end).to_period("M"), freq="M")
    index = pd.DatetimeIndex([m.to_timestamp() for m in months], name="month")
    sel = raised_in(concerns, start, end)
    if sel.empty:
        return pd.DataFrame(index=index)
    values = _status(sel) if by == "status" else sel[by].astype("string").fillna("")
    month = pd.to_datetime(sel["raised_on"]).dt.to_period("M").dt.to_timestamp()
    table = pd.crosstab(month.to_numpy(), values.to_numpy())
    table = table.reindex(index, fill_value=0)
    table.index.name = "month"
    table.columns.name = None
    return table.astype("int64")


# ---------------------------------------------------------------- open concerns and resolution


def open_on(concerns: pd.DataFrame, on) -> pd.DataFrame:
    """Concerns open at the end of day ``on`` with their age in days, oldest first; a new frame.

    Open means raised by then and not resolved by then (a concern marked
    resolved without a date counts as resolved, as in the headline figure).
    Adds ``age_days`` = days from ``raised_on`` to ``on``.
    """
    if concerns.empty:
        out = concerns.copy()
        out["age_days"] = pd.Series(dtype="int64")
        return out
    end = pd.Timestamp(on) + pd.Timedelta(days=1)
    raised = pd.to_datetime(concerns["raised_on"])
    resolved_on = (
        pd.to_datetime(concerns["resolved_on"])
        if "resolved_on" in concerns
        else pd.Series(pd.NaT, index=concerns.index)
    )
    resolved = (_status(concerns) == "resolved") & (resolved_on.isna() | (resolved_on < end))
    keep = (raised < end) & ~resolved.fillna(False)
    out = concerns.loc[keep.fillna(False).to_numpy(dtype=bool)].copy()
    out["age_days"] = (pd.Timestamp(on).normalize() - pd.to_datetime(out["raised_on"]).dt.normalize()).dt.days
    out["age_days"] = out["age_days"].astype("int64")
    return out.sort_values(["age_days", "concern_id"], ascending=[False, True], kind="stable")


def resolution_days(concerns: pd.DataFrame) -> pd.Series:
    """Days from raised to resolved for the resolved concerns that have both dates (same index)."""
    if concerns.empty or "resolved_on" not in concerns:
        return pd.Series(dtype="float64")
    done = (_status(concerns) == "resolved") & concerns["resolved_on"].notna()
    sel = concerns.loc[done.fillna(False).to_numpy(dtype=bool)]
    days = (pd.to_datetime(sel["resolved_on"]) - pd.to_datetime(sel["raised_on"])).dt.days
    return days[days >= 0].astype("float64")


def resolution_summary(concerns: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Time from raised to resolved: ``resolved, median, mean, p75, p90`` (days) and ``within_30`` (share, 0–1).

    One row (index ``all``) or one row per value of ``by``, most resolved
    first. Concerns without a ``resolved_on`` date are left out.
    """
    days = resolution_days(concerns)
    cols = ["resolved", "median", "mean", "p75", "p90", "within_30"]

    def row(d: pd.Series) -> list[float]:
        if d.empty:
            return [0, np.nan, np.nan, np.nan, np.nan, np.nan]
        return [
            len(d),
            float(d.median()),
            float(d.mean()),
            float(d.quantile(0.75)),
            float(d.quantile(0.9)),
            float((d <= 30).mean()),
        ]

    if by is None:
        return pd.DataFrame([row(days)], index=pd.Index(["all"], name="group"), columns=cols)
    if days.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name=by))
    keys = concerns.loc[days.index, by].astype("string").fillna("")
    rows = {k: row(d) for k, d in days.groupby(keys.to_numpy())}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    out.index.name = by
    out["resolved"] = out["resolved"].astype("int64")
    return out.sort_values(["resolved", "median"], ascending=[False, True], kind="stable")


# ---------------------------------------------------------------- worry vs incidents


def _test(concerns: np.ndarray, records: np.ndarray, mean: np.ndarray, unmatched: np.ndarray):
    """Two-sided p-value and direction per section: ``concerns`` of ``records`` (concerns + matching
    incidents) against Binomial(records, mean / records); concerns of categories without any incident in the
    area (``unmatched``) give p = 0, more worry."""
    m, o = np.asarray(records, dtype=float), np.asarray(concerns, dtype=float)
    share = np.divide(mean, m, out=np.zeros_like(m), where=m > 0)
    p = compare.p_value(o, m - o, share, 1.0 - share)
    sign = np.sign(o - mean)
    worry_only = np.asarray(unmatched) > 0
    p[worry_only], sign[worry_only] = 0.0, 1.0
    return p, sign


def agreement_p(concerns: np.ndarray, incidents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The test of :func:`section_agreement` on plain arrays: ``(p, sign)`` per section.

    ``concerns`` and ``incidents`` are counts, sections × concern categories (incidents already summed
    over each category's crosswalk), of one area.
    """
    c, n = (np.asarray(a, dtype=float) for a in (concerns, incidents))
    c, n = (a[:, None] if a.ndim == 1 else a for a in (c, n))
    if c.shape != n.shape:
        raise ValueError(f"concerns and incidents must have the same shape; got {c.shape} and {n.shape}")
    total_c, total_n = c.sum(axis=0), n.sum(axis=0)
    has = total_n > 0
    q = np.divide(total_c, total_c + total_n, out=np.zeros_like(total_c), where=has)
    records = (c + n)[:, has].sum(axis=1)
    mean = ((c + n) * q)[:, has].sum(axis=1)
    return _test(c[:, has].sum(axis=1), records, mean, c[:, ~has].sum(axis=1))


def section_agreement(
    concerns: pd.DataFrame,
    incident_counts: pd.DataFrame,
    section_ids,
    categories: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Where worry and recorded incidents agree or diverge, per section.

    Parameters
    ----------
    concerns
        Concerns of the window to compare (already selected by date), with ``section_id`` and ``category``.
    incident_counts
        Incidents of the same window per section (index ``section_id``) and
        incident category (columns), e.g. the sum of ``count``.
    section_ids
        The sections of the area; every one gets a row, in this order.
    categories
        Concern categories to compare; default every category with a
        counterpart (:func:`matched_categories`). Categories without one are
        ignored.

    Returns
    -------
    DataFrame indexed by ``section_id``: ``concerns``, ``incidents``
    (matching incidents), ``concern_share`` and ``incident_share`` (0–1, of
    the area's totals), ``expected`` (concerns if worry followed incidents,
    category by category), ``p`` (two-sided p-value of the section's test,
    see the module's description; NaN where there is nothing to test),
    ``p_fdr`` (Benjamini–Hochberg across the sections) and ``class``
    (:data:`CLASSES`).
    """
    ids = pd.Index(pd.Index(section_ids).astype(str), name="section_id")
    cats = tuple(c for c in (categories if categories is not None else matched_categories()) if CROSSWALK.get(c))
    con = in_area(concerns, ids)
    if len(con):
        con = con[con["category"].astype("string").isin(cats).fillna(False).to_numpy(dtype=bool)]
    counts = incident_counts.copy()
    counts.index = counts.index.astype(str)
    counts = counts.reindex(ids, fill_value=0)
    observed = pd.Series(0.0, index=ids)
    expected = pd.Series(0.0, index=ids)
    matched = pd.Series(0.0, index=ids)
    by_category: list[tuple[np.ndarray, np.ndarray]] = []  # concerns and matching incidents per section
    incident_cats: set[str] = set()
    for k in cats:
        inc_k = [c for c in CROSSWALK[k] if c in counts.columns]
        n_k = counts[inc_k].sum(axis=1).astype(float) if inc_k else pd.Series(0.0, index=ids)
        incident_cats.update(inc_k)
        c_k = con.loc[con["category"].astype("string") == k, "section_id"].value_counts()
        c_k = c_k.reindex(ids, fill_value=0).astype(float)
        observed += c_k
        by_category.append((c_k.to_numpy(), n_k.to_numpy()))
        total_n = n_k.sum()
        if total_n > 0:
            expected += c_k.sum() * n_k / total_n
    if incident_cats:
        matched = counts[sorted(incident_cats)].sum(axis=1).astype(float)
    out = pd.DataFrame({"concerns": observed.astype("int64"), "incidents": matched.astype("int64")}, index=ids)
    c_total, n_total = observed.sum(), matched.sum()
    out["concern_share"] = observed / c_total if c_total else 0.0
    out["incident_share"] = matched / n_total if n_total else 0.0
    out["expected"] = expected
    shape = (len(ids), len(by_category))
    c_all = np.column_stack([c for c, _n in by_category]) if by_category else np.zeros(shape)
    n_all = np.column_stack([n for _c, n in by_category]) if by_category else np.zeros(shape)
    p, sign = agreement_p(c_all, n_all)
    out["p"] = p
    out["p_fdr"] = compare.adjusted(p)
    klass = np.full(len(out), AGREE, dtype=object)
    with np.errstate(invalid="ignore"):
        significant = out["p_fdr"].to_numpy() < compare.NOTEWORTHY
    klass[significant & (sign > 0)] = WORRY
    klass[significant & (sign < 0)] = UNSEEN
    klass[(observed.to_numpy() == 0) & (matched.to_numpy() == 0)] = QUIET
    out["class"] = klass
    return out
