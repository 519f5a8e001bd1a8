"""The Committees page's selections, texts and tables: the committees of the area, the figures over them, the
municipalities' tooltips, what needs attention and the register as shown.

Each function takes the translator ``_`` (:class:`geo.i18n.Translator`) where it writes text; the page only
lays out what these return.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo import coverage, i18n, maps

#: Committee types by their abbreviation in each language (KLSP/KKSB/EVSP, LOJB/OSBZ/ATJB).
TYPE_ABBR = i18n.COMMITTEE_ABBR


def pct(v, _) -> str:
    """A share (0…1) as a whole per cent, "–" when missing."""
    return _.number(v * 100) + " %" if pd.notna(v) else "–"


def _date_or_never(d, _) -> str:
    return _.date(d) if pd.notna(d) else _("never")


def area_register(
    register: pd.DataFrame,
    committees: pd.DataFrame,
    municipalities: list[str],
    section: str = "",
    section_municipality: str = "",
) -> pd.DataFrame:
    """The register's committees of the area: those that serve the chosen ``section`` (in
    ``section_municipality``), else those of the area's ``municipalities``."""
    if section:
        serving = coverage.serving(committees, section, section_municipality)
        return register[register["committee_id"].isin(set(committees.loc[serving, "committee_id"]))]
    return register[register["municipality"].isin(municipalities)]


def register_counts(register: pd.DataFrame) -> tuple[int, int, int]:
    """The committees, those active and meeting, and those lapsed."""
    n_active = int((~register["lapsed"]).sum()) if len(register) else 0
    return len(register), n_active, len(register) - n_active


def residents_covered(cover: pd.DataFrame, _) -> str:
    """The share of the residents who live in a section that an active LCPS lists, "–" without residents."""
    pop, pop_cov = cover["population"].sum(), cover["population_covered"].sum()
    return pct(pop_cov / pop, _) if pop else "–"


def municipality_tip(name: str, cover: pd.DataFrame, sections: pd.DataFrame, _) -> str:
    """A municipality's tooltip: its coverage, committees and meetings."""
    r = cover.loc[name] if name in cover.index else None
    if r is None:
        return maps.tip_html(_.municipality(name), "", [])
    return maps.tip_html(
        _.municipality(name),
        _.region(sections.loc[sections["municipality"] == name, "region"].iloc[0]) if len(sections) else "",
        [
            (_("Sections covered"), f"{_.number(r['sections_covered'])} / {_.number(r['sections'])}"),
            (_("Residents covered"), pct(r["share_population_covered"], _)),
            (_("Active LCPS"), _.number(r["lcps_active"])),
            (_("MCPS"), _("yes") if r["mcps_present"] else _("no")),
            (_("MCPS meetings, 3/6/12 months"), "/".join(_.number(r[f"mcps_meetings_{m}m"]) for m in (3, 6, 12))),
            (_("ACPS"), _.number(r["acps"])),
            (_("Last meeting"), _date_or_never(r["last_meeting"], _)),
            (_("Lapsed committees"), _.number(r["lapsed"])),
        ],
    )


def all_lapsed(cover: pd.DataFrame) -> pd.DataFrame:
    """The municipalities whose committees have all lapsed."""
    return cover[cover["all_lapsed"].fillna(False).astype(bool)]


def without_committee(cover: pd.DataFrame) -> pd.DataFrame:
    """The municipalities with neither an active LCPS nor an MCPS."""
    return cover[(cover["lcps_active"] == 0) & ~cover["mcps_present"].fillna(False).astype(bool)]


def all_lapsed_table(lapsed_munis: pd.DataFrame, _) -> pd.DataFrame:
    """The municipalities of :func:`all_lapsed`, with their lapsed committees and last meeting."""
    return pd.DataFrame(
        {
            _("Municipality"): [_.municipality(m) for m in lapsed_munis.index],
            _("Lapsed committees"): [_.number(v) for v in lapsed_munis["lapsed"]],
            _("Last meeting"): [_date_or_never(d, _) for d in lapsed_munis["last_meeting"]],
        }
    )


def year_start(as_of: pd.Timestamp) -> dt.date:
    """The first day of the twelve months that end on ``as_of``."""
    return (as_of - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date()


def busy_uncovered(values: pd.Series, sections: pd.DataFrame, committees: pd.DataFrame, policy=None) -> pd.DataFrame:
    """The busiest tenth of ``sections`` by ``values`` that no active LCPS lists
    (:func:`geo.coverage.uncovered_hot_sections`); ``policy`` (published incident counts): a count shown as
    "fewer than N" is not busy. (Concern counts are exact in both versions: pass no policy.)"""
    found = coverage.uncovered_hot_sections(values.dropna(), sections, committees, top_share=0.1)
    if policy is not None:
        found = found[~found["value"].map(policy.is_small).to_numpy(dtype=bool)]
    return found


def busy_table(found: pd.DataFrame, sections: pd.DataFrame, what: str, _) -> pd.DataFrame:
    """The sections of :func:`busy_uncovered` with their names, municipality and the figure named ``what``."""
    names = sections.set_index(sections["section_id"])
    sid = found["section_id"]
    return pd.DataFrame(
        {
            _("Police section"): names.reindex(sid)["section_name"].astype(str).to_numpy(),
            _("Municipality"): [_.municipality(m) for m in names.reindex(sid)["municipality"]],
            what: [_.number(v) for v in found["value"]],
        }
    )


def lapsed_table(lapsed: pd.DataFrame, _) -> pd.DataFrame:
    """The lapsed committees of the register."""
    return pd.DataFrame(
        {
            _("Committee"): lapsed["name"].astype(str).to_numpy(),
            _("Type"): [_(TYPE_ABBR.get(t, t)) for t in lapsed["type"].astype(str)],
            _("Municipality"): [_.municipality(m) for m in lapsed["municipality"]],
            _("Active"): [_("yes") if a else _("no") for a in lapsed["active"]],
            _("Last meeting"): [_date_or_never(d, _) for d in lapsed["last_meeting"]],
        }
    )


def filter_register(register: pd.DataFrame, types: list[str], status: str, query: str) -> pd.DataFrame:
    """The register's committees of the chosen ``types`` (all when none), ``status`` (``"all"``, ``"active"``,
    ``"lapsed"``) whose name contains ``query`` (case-insensitive, as typed)."""
    shown = register
    if types:
        shown = shown[shown["type"].isin(types)]
    if status == "active":
        shown = shown[~shown["lapsed"]]
    elif status == "lapsed":
        shown = shown[shown["lapsed"]]
    if query.strip():
        shown = shown[shown["name"].astype(str).str.casefold().str.contains(query.strip().casefold(), regex=False)]
    return shown


def register_table(shown: pd.DataFrame, _) -> pd.DataFrame:
    """The register as shown: who, where, whether it meets first; the details after."""
    return pd.DataFrame(
        {
            _("Committee"): shown["name"].astype(str).to_numpy(),
            _("Type"): [_(TYPE_ABBR.get(t, t)) for t in shown["type"].astype(str)],
            _("Status"): [_("Lapsed") if lapsed_ else _("Active and meeting") for lapsed_ in shown["lapsed"]],
            _("Last meeting"): [_date_or_never(d, _) for d in shown["last_meeting"]],
            _("Municipality"): [_.municipality(m) for m in shown["municipality"]],
            _("Last 3 / 6 / 12 months"): [
                f"{_.number(a)} / {_.number(b)} / {_.number(c)}"
                for a, b, c in zip(shown["meetings_3m"], shown["meetings_6m"], shown["meetings_12m"], strict=True)
            ],
            _("Meetings"): [_.number(v) for v in shown["meetings_total"]],
            _("Members"): [_.number(v) if pd.notna(v) else "–" for v in shown["members"]],
            _("Mean attendance"): [_.number(v, decimals=1) if pd.notna(v) else "–" for v in shown["mean_attendance"]],
            _("Concerns raised"): [_.number(v) for v in shown["concerns_raised"]],
            _("Sections listed"): [_.number(v) for v in shown["sections"]],
            _("Set up"): [_.date(d) if pd.notna(d) else "–" for d in shown["established_on"]],
        }
    )
