"""The Overview page's texts and tables: the headline figures' comparisons, the selected section's facts, and
the table of sections ranked by the measure that colours the map.

Each function takes the translator ``_`` (:class:`geo.i18n.Translator`) where it writes text; the page only
lays out what these return.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import compare, figures

#: The headlines that are published counts in the public version: the incident figures. Open concerns and active
#: committees are counted exactly (public concerns and the register are public records, listed one by one).
PUBLISHED_HEADLINES = tuple(figures.HEADLINE_CATEGORIES)
#: More is better only for committees; for everything else an increase is shown in red.
MORE_IS_BETTER = {"active_committees"}


def signed(n: int, _) -> str:
    """A change for ``st.metric``: explicit sign, ASCII minus (Streamlit reads the arrow from it)."""
    text = _.number(abs(n))
    return f"+{text}" if n > 0 else (f"-{text}" if n < 0 else text)


def comparison_line(h: figures.Headline, against: str, hidden: dict[str, str], _) -> str:
    """One line under a headline: the other period's figure and whether the change is meaningful.

    ``hidden``: the public version's figures of this headline that show as "fewer than N", by period
    (``current``, ``previous``, ``year_earlier``), as that text; no change is shown next to one.
    """
    name = _("Previous period") if against == "previous" else _("A year earlier")
    other = h.other(against)
    if other is None:
        return f"{name}: " + _("not in the data")
    if against in hidden or "current" in hidden:
        return f"{name}: {hidden.get(against) or _.number(other)}"
    p, flag = h.test(against)
    text = f"{name}: {_.number(other)} · {_.label('change_flag', flag)}"
    if flag != compare.NO_COMPARISON:
        text += f" · {compare.chance_text(p, _)}"
    return text


def small_figures(h: figures.Headline, policy, _) -> dict[str, str]:
    """Public version: the figures of headline ``h`` (``current``, ``previous``, ``year_earlier``) whose
    published value shows as "fewer than N", as that text; no change or test is shown next to them. (Open
    concerns and active committees are exact counts of public records: none is small.)"""
    if policy is None or h.key not in PUBLISHED_HEADLINES:
        return {}
    return {
        which: policy.small_text(_)
        for which in ("current", "previous", "year_earlier")
        if policy.is_small(getattr(h, which))
    }


def headline_delta(h: figures.Headline, hidden: dict[str, str], _) -> tuple[str | None, str]:
    """The change shown under a headline (``None``: none, it is not comparable) and its colour for
    ``st.metric``: red for a meaningful increase (green for committees), grey when chance explains it."""
    _p, flag = h.test("previous")
    better = h.key in MORE_IS_BETTER
    meaningful = flag in ("increase", "strong_increase", "decrease", "strong_decrease")
    comparable = h.previous_covered and not ({"current", "previous"} & set(hidden))
    delta = signed(h.change, _) if comparable else None
    return delta, ("normal" if better else "inverse") if meaningful else "off"


def section_facts(rec: pd.Series, _) -> list[str]:
    """The selected section's facts as lines: municipality, region, station and residents on the first; its
    villages and (where the data marks them public) its community officers on their own."""
    parts = [
        f"{_('Municipality')}: {_.municipality(rec['municipality'])}",
        f"{_('Police region')}: {_.region(rec['region'])}",
    ]
    if pd.notna(rec.get("station")) and str(rec.get("station") or ""):
        parts.append(f"{_('Police station')}: {rec['station']}")
    if pd.notna(rec.get("population")):
        parts.append(f"{_('Residents')}: {_.number(rec['population'])}")
    lines = [" · ".join(parts)]
    villages = rec.get("villages")
    if isinstance(villages, (list, tuple)) and len(villages):
        lines.append(f"{_('Villages and neighbourhoods')}: " + ", ".join(map(str, villages)))
    officers = rec.get("officers")
    if bool(rec.get("officers_public")) and isinstance(officers, (list, tuple)) and len(officers):
        lines.append(f"{_('Community officers')}: " + "; ".join(map(str, officers)))
    return lines


def table_title(measure: str, _) -> str:
    """The ranking table's title for the measure that colours the map."""
    return {
        "rate": _("Sections with the highest rate"),
        "count": _("Sections with the most incidents"),
        "change": _("Sections with the largest increase"),
        "change_year": _("Sections with the largest increase on a year earlier"),
    }[measure]


def ranked_sections(
    measures: pd.DataFrame, sections: pd.DataFrame, measure: str, smoothed: bool, min_population: int, _
) -> pd.DataFrame:
    """The sections of ``measures`` (indexed by section id) ranked by ``measure``, with their names.

    Rates: :func:`geo.figures.highest_rates` (small sections after the ranked ones, never first). Changes:
    the strongest evidence of an increase first (signed −log10 p), then the largest change. Counts: the most
    first. At most ten.
    """
    names = sections.set_index(sections["section_id"])
    table = measures.copy()
    table["section"] = names.reindex(table.index)["section_name"].astype(str)
    table["municipality"] = [_.municipality(m) for m in names.reindex(table.index)["municipality"]]
    if measure == "rate":
        return figures.highest_rates(table, min_population, smoothed=smoothed)
    for p_col, sign_col, key in (
        ("p", "direction", "change_key"),
        ("p_year", "direction_year", "change_year_key"),
    ):
        p_ = pd.to_numeric(table[p_col], errors="coerce").clip(lower=1e-300)
        table[key] = -np.log10(p_) * pd.to_numeric(table[sign_col], errors="coerce")
    sort_by = {
        "change": ["change_key", "change"],
        "change_year": ["change_year_key", "change_year"],
        "count": ["count"],
    }[measure]
    return table.sort_values(sort_by, ascending=False, na_position="last").head(10)


def ranking_table(
    table: pd.DataFrame,
    measure: str,
    smoothed: bool,
    withheld: dict[str, str] | None,
    min_population: int,
    _,
) -> pd.DataFrame:
    """The ranked sections (:func:`ranked_sections`) as shown: the name, the figure ranked by, the others,
    the municipality last (at 1280 px the key columns are on screen without scrolling sideways).

    ``withheld``: the public version's texts for a count that shows as "fewer than N", by kind.
    """

    def change_text(v: object, flag: object) -> str:
        if v is None or pd.isna(v):
            return "–"
        text = signed(int(v), _)
        return text if flag in ("no_change", None) else f"{text} · {_.label('change_flag', flag)}"

    columns = {
        _("Police section"): table["section"],
        _("Municipality"): table["municipality"],
        _("Incidents"): [
            withheld[kind] if withheld and kind else _.number(v)
            for v, kind in zip(table["count"], table.get("count_withheld", [""] * len(table)), strict=True)
        ],
        _("Change vs previous period"): [
            change_text(v, f) for v, f in zip(table["change"], table["flag"], strict=True)
        ],
        _("Change vs a year earlier"): [
            change_text(v, f) for v, f in zip(table["change_year"], table["flag_year"], strict=True)
        ],
        _("Per 1,000 residents"): [_.number(v, decimals=2) if pd.notna(v) else "–" for v in table["rate"]],
    }
    key = {
        "rate": _("Per 1,000 residents"),
        "count": _("Incidents"),
        "change": _("Change vs previous period"),
        "change_year": _("Change vs a year earlier"),
    }[measure]
    if measure == "rate":
        if smoothed:  # the smoothed rate ranks; the raw one beside it
            columns[_("Per 1,000 residents, smoothed")] = [
                _.number(v, decimals=2) if pd.notna(v) else "–" for v in table["rate_smoothed"]
            ]
            key = _("Per 1,000 residents, smoothed")
        small_text = _("fewer than {n} residents: not ranked", n=_.number(min_population))
        columns[_("Residents")] = [_.number(v) if pd.notna(v) else "–" for v in table["population"]]
        columns[_("Note")] = [small_text if s else "" for s in table["small_population"]]
    first = [
        _("Police section"),
        key,
        *([_("Per 1,000 residents")] if key != _("Per 1,000 residents") and measure == "rate" else []),
    ]
    order = [*first, *(c for c in columns if c not in first)]
    order.remove(_("Municipality"))
    order.append(_("Municipality"))
    return pd.DataFrame({c: columns[c] for c in order})
