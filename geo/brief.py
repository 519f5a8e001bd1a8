"""One-page briefs for a committee meeting: a municipality or a section, a period, a language.

:func:`brief_content` gathers the figures (pure data); :func:`to_pdf` and
:func:`to_html` lay them out on one A4 page. The static map is drawn with
matplotlib (no internet, no tiles); the PDF embeds DejaVu Sans (shipped with
matplotlib) so ë, ç, č, ć, đ, š and ž print correctly.

In public mode the data first goes through :class:`geo.public.PublicPolicy`
(no coordinates, no sensitive categories, no private texts) and every count
below the policy's minimum is printed as "fewer than N" and left out of totals.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo import compare, coverage, figures, hotspots, i18n, public
from geo.exports import MARK_PUBLIC, MARK_RESTRICTED
from geo.public import PublicPolicy, protect_areas, suppress
from geo.source import Dataset
from geo.untrusted import html_text

__all__ = ["MARK_PUBLIC", "MARK_RESTRICTED", "Brief", "brief_content", "to_html", "to_pdf", "write"]


@dataclass
class Brief:
    """The content of one brief, already translated and formatted as text."""

    lang: str
    title: str
    area_line: str
    period_line: str
    marking: str  # the code, PUBLIC or RESTRICTED (as in file names)
    public: bool
    notices: list[str]
    headlines: list[tuple[str, str, str, str]]  # label, current, vs previous, vs a year earlier
    hotspots: list[tuple[str, str, str]]  # section, label, count
    concerns: list[tuple[str, str, str, str]]  # category, count, open, latest action
    committees: list[tuple[str, str, str, str]]  # name, meetings in period, mean attendance, last meeting
    trust: list[tuple[str, str, str, str]]  # area, period, trust %, satisfaction %
    footer: str
    map_png: bytes = b""
    headings: dict[str, str] = field(default_factory=dict)
    #: the marking as printed, in the brief's language (and in English)
    marking_text: str = ""


def _fmt_count(_, value: float, suppressed: bool, policy: PublicPolicy | None) -> str:
    if suppressed and policy is not None:
        return policy.texts(_)[public.SMALL]
    return _.number(value)


#: Symbols of the comparison flags (explained under the figures).
FLAG_SYMBOLS = {
    "strong_increase": "▲▲",
    "increase": "▲",
    "no_change": "=",
    "decrease": "▼",
    "strong_decrease": "▼▼",
}


def _withheld_text(_, kind: str, policy: PublicPolicy) -> str:
    return policy.texts(_)[kind]


def _change_text(_, current: float, previous: float, hidden: bool) -> str:
    """The earlier figure and a symbol for its change; ``–`` when either count is withheld."""
    if hidden:
        return "–"
    z = float(compare.poisson_z(current, previous))
    return f"{_.number(previous)}  {FLAG_SYMBOLS[compare.flag(np.array([z]))[0]]}"


def _area(data: Dataset, municipality: str | None, section: str | None) -> tuple[figures.Filters, pd.DataFrame]:
    if bool(municipality) == bool(section):
        raise ValueError("give exactly one of municipality or section")
    secs = data.sections
    if section:
        chosen = secs[secs["section_id"].astype(str) == str(section)]
        if chosen.empty:
            raise ValueError(f"no section {section!r}; sections are e.g. {list(secs['section_id'].head(5))}")
        return figures.Filters(section=str(section)), chosen
    from geo import places

    name = places.match_municipality(municipality) or municipality
    chosen = secs[secs["municipality"] == name]
    if chosen.empty:
        known = sorted(secs["municipality"].dropna().unique())
        raise ValueError(f"no sections in municipality {municipality!r}; municipalities are {known}")
    return figures.Filters(municipality=name), chosen


def brief_content(
    data: Dataset,
    period: figures.Period,
    lang: str = "sq",
    municipality: str | None = None,
    section: str | None = None,
    policy: PublicPolicy | None = None,
) -> Brief:
    """Everything a brief shows, for ``municipality`` or ``section`` in ``period`` (both days included).

    ``policy``: the public-safe rules, or ``None`` for the restricted version.
    """
    _ = i18n.translator(lang)
    if policy is not None:
        data = policy.apply(data)
    flt, chosen = _area(data, municipality, section)
    ids = pd.Index(chosen["section_id"].astype(str))
    muni = str(chosen["municipality"].iloc[0])
    region = str(chosen["region"].iloc[0])

    # headline figures: current, previous period, a year earlier
    now = figures.headlines(data.incidents, data.concerns, data.committees, data.sections, flt, period)
    y0, y1 = compare.year_earlier(pd.Timestamp(period.start), pd.Timestamp(period.end))
    year = figures.headlines(
        data.incidents, data.concerns, data.committees, data.sections, flt, figures.Period(y0.date(), y1.date())
    )
    labels = {
        "accident_fatal": _("Accidents with fatalities"),
        "accident_injury": _("Accidents with injuries"),
        "accident_damage": _("Accidents, damage only"),
        "traffic_ticket": _("Traffic tickets"),
        "crimes": _("Crimes"),
        "open_concerns": _("Open concerns"),
        "active_committees": _("Active committees"),
    }
    # crimes per section, for the hot spots and the map; in the public version their withheld counts, for
    # all sections at once (with municipality and region parts, as on every public output)
    counts = figures.incident_counts(data.incidents, period, _crime_codes(policy)).reindex(
        data.sections["section_id"].astype(str), fill_value=0
    )
    kinds = pd.Series("", index=counts.index, dtype=object)
    hidden: dict[tuple[str, str], str] = {}
    if policy is not None:
        keyed = data.sections.set_index(data.sections["section_id"].astype(str))
        kinds, _ok = policy.protect(counts, [keyed[c].astype(str) for c in ("municipality", "region")])
        if policy.exposed(counts.loc[ids], kinds.loc[ids]) and now["crimes"].current:
            hidden[("crimes", "now")] = _("withheld")  # the area's crimes would give a section's back
        if not flt.section:  # a municipality's total against its region's and the others' (any output)
            area_key = ("municipality", muni)
            for key, cats in figures.HEADLINE_CATEGORIES.items():
                for which, p_, value in (
                    ("now", period, now[key].current),
                    ("previous", period.previous(), now[key].previous),
                    ("year", figures.Period(y0.date(), y1.date()), year[key].current),
                ):
                    sec_counts = figures.incident_counts(data.incidents, p_, policy.categories(cats))
                    kind = protect_areas(sec_counts, data.sections, policy.min_count).get(area_key, "")
                    if kind and value:
                        hidden.setdefault((key, which), _withheld_text(_, kind, policy))
    # public version: each period's incident figures are protected in the sets the Overview uses (those that
    # add up to its default map, all but tickets; and tickets), so the two never withhold differently
    if policy is not None:
        sets = (("accident_fatal", "accident_injury", "accident_damage", "crimes"), ("traffic_ticket",))
        for which, get in (
            ("now", lambda k: now[k].current),
            ("previous", lambda k: now[k].previous),
            ("year", lambda k: year[k].current),
        ):
            for keys in sets:
                head_kinds, _ok = policy.protect(pd.Series({k: get(k) for k in keys}, dtype="float64"))
                for k, kind in head_kinds.items():
                    if kind:
                        hidden.setdefault((k, which), _withheld_text(_, kind, policy))
    rows = []
    for key, label in labels.items():
        h, hy = now[key], year[key]
        hide_now, hide_prev, hide_year = ((key, w) in hidden for w in ("now", "previous", "year"))
        rows.append(
            (
                label,
                hidden.get((key, "now")) or _.number(h.current),
                _change_text(_, h.current, h.previous, hide_now or hide_prev),
                _change_text(_, h.current, hy.current, hide_now or hide_year),
            )
        )

    # hotspots: Gi* over all sections (so the area's sections have their neighbours), listed for the area
    hot_rows: list[tuple[str, str, str]] = []
    hot_ids: set[str] = set()
    if counts.sum() > 0 and len(data.sections) >= 3:
        graph = hotspots.neighbours(data.sections, "queen")
        # withheld counts enter as 0 and are never listed (the neighbours' z would give them back)
        gi = hotspots.getis_ord(counts.where(kinds == "", 0).to_numpy(dtype=float), graph)
        gi.index = counts.index
        gi.loc[(kinds != "").to_numpy(dtype=bool), "label"] = hotspots.NOT_SIGNIFICANT
        in_area = gi.loc[gi.index.isin(ids)]
        hot = in_area[in_area["label"].str.startswith("hot")].sort_values("z", ascending=False).head(5)
        names = data.sections.set_index(data.sections["section_id"].astype(str))["section_name"]
        for sid, row in hot.iterrows():
            hot_ids.add(str(sid))
            hot_rows.append(
                (
                    str(names.get(sid, sid)),
                    _.label("hotspot", row["label"]),
                    _withheld_text(_, kinds[sid], policy) if kinds.get(sid) else _.number(counts.get(sid, 0)),
                )
            )

    # concerns raised in the period in the area, by category
    con = data.concerns
    con = con[con["section_id"].astype("string").isin(ids).fillna(False) & period.mask(con["raised_on"]).to_numpy()]
    concern_rows: list[tuple[str, str, str, str]] = []
    if len(con):
        groups = {str(cat): grp for cat, grp in con.groupby(con["category"].astype(str))}
        n = pd.Series({cat: len(grp) for cat, grp in groups.items()}).sort_values(ascending=False, kind="stable")
        n = n.head(5)
        shown, small = suppress(n, policy.min_count if policy else 1)
        for cat, count in n.items():
            grp = groups[cat].sort_values("raised_on")
            still_open = int((grp["status"].astype("string").fillna("open") != "resolved").sum())
            actions = grp["action_taken"].dropna()
            action = str(actions.iloc[-1]) if len(actions) else "–"
            concern_rows.append(
                (
                    _.term("concern_category", cat),
                    _fmt_count(_, count, bool(small[cat]), policy),
                    _fmt_count(_, still_open, bool(policy and 0 < still_open < policy.min_count), policy),
                    action,
                )
            )

    # committees serving the area and their meetings
    status = coverage.last_meetings(data.committees, data.meetings, pd.Timestamp(period.end))
    serving = data.committees[
        (data.committees["municipality"] == muni)
        & (
            (data.committees["type"] == "MCPS")
            | data.committees["sections"].map(lambda s: bool(set(map(str, s or [])) & set(ids)))
        )
    ]
    committee_rows: list[tuple[str, str, str, str]] = []
    if len(serving):
        m = data.meetings
        m = m[m["committee_id"].isin(serving["committee_id"]) & period.mask(m["held_on"]).to_numpy()]
        per = m.groupby("committee_id")
        st = status.set_index("committee_id")
        for _i, c in serving.iterrows():
            cid = c["committee_id"]
            n_m = int(per.size().get(cid, 0)) if len(m) else 0
            att = per["attendance"].mean().get(cid, np.nan) if len(m) else np.nan
            last = st.loc[cid, "last_meeting"] if cid in st.index else pd.NaT
            committee_rows.append(
                (
                    _committee_name(_, c["type"], c["name"]),
                    _.number(n_m),
                    _.number(att) if pd.notna(att) else "–",
                    _.date(last) or "–",
                )
            )

    # trust and satisfaction: the municipality if surveyed, else its region; latest periods first
    sv = data.surveys
    trust_rows: list[tuple[str, str, str, str]] = []
    if len(sv):
        own = sv[(sv["area_kind"] == "municipality") & (sv["area_name"] == muni)]
        if own.empty:
            own = sv[(sv["area_kind"] == "region") & (sv["area_name"] == region)]
        for _i, r in own.sort_values("period_start", ascending=False).head(3).iterrows():
            area = _.municipality(r["area_name"]) if r["area_kind"] == "municipality" else _.region(r["area_name"])
            trust_rows.append(
                (area, str(r["period"]), f"{_.number(r['trust_pct'], 1)} %", f"{_.number(r['satisfaction_pct'], 1)} %")
            )

    if flt.section:
        title = _("Safety brief: section {name}", name=str(chosen["section_name"].iloc[0]))
    else:
        title = _("Safety brief: municipality of {name}", name=_.municipality(muni))
    area_line = _("{municipality} · police region {region}", municipality=_.municipality(muni), region=_.region(region))
    prev = period.previous()
    period_line = _(
        "{period}, compared with {previous} and with {year_earlier}",
        period=_.period(period.start, period.end),
        previous=_.period(prev.start, prev.end),
        year_earlier=_.period(y0.date(), y1.date()),
    )
    notices = []
    if data.is_demo:
        notices.append(_("Demo data: synthetic figures on approximate boundaries, not police data."))
    if policy is not None:
        notices.append(
            _(
                "Public version: counts below {n} are shown as “fewer than {n}”, with another count withheld "
                "where a total would give them back; sensitive categories are left out of every figure; no exact "
                "locations.",
                n=policy.min_count,
            )
        )
    as_of = data.data_as_of
    mark = MARK_PUBLIC if policy is not None else MARK_RESTRICTED
    footer = _(
        "{marking} · Data as of {date} · Source: {source} · Changes are flagged only when statistically meaningful "
        "(Poisson z ≥ 2).",
        marking=_.marking(mark),
        date=_.date(as_of) if as_of is not None else "–",
        source=_("Kosovo Police (demo)") if data.is_demo else (data.label or _("loaded files")),
    )
    headings = {
        "figures": _("Figures for the period"),
        "figure": _("Figure"),
        "now": _("This period"),
        "previous": _("Previous period"),
        "year": _("A year earlier"),
        "hotspots": _("Hot spots (Getis-Ord Gi*, crimes)"),
        "no_hotspots": _("No significant hot spot in this area."),
        "section": _("Section"),
        "label": _("Confidence"),
        "count": _("Crimes"),
        "concerns": _("Community concerns raised in the period"),
        "no_concerns": _("No concerns were raised in this period."),
        "category": _("Category"),
        "raised": _("Raised"),
        "open": _("Not resolved"),
        "action": _("Latest action taken"),
        "committees": _("Committees serving the area"),
        "no_committees": _("No committee serves this area."),
        "committee": _("Committee"),
        "meetings": _("Meetings"),
        "attendance": _("Mean attendance"),
        "last": _("Last meeting"),
        "trust": _("Trust and satisfaction (surveys)"),
        "no_trust": _("No survey results for this area."),
        "area": _("Area"),
        "period": _("Period"),
        "trust_pct": _("Trust"),
        "satisfaction_pct": _("Satisfaction"),
        "map": _("Crimes per section in the period; hot spots outlined"),
        "flags": _(
            "▲ ▼ a statistically meaningful change (Poisson z ≥ 2), ▲▲ ▼▼ a strong one (z ≥ 3), = no meaningful change."
        ),
    }
    brief = Brief(
        lang=lang,
        title=title,
        area_line=area_line,
        period_line=period_line,
        marking=mark,
        marking_text=_.marking(mark),
        public=policy is not None,
        notices=notices,
        headlines=rows,
        hotspots=hot_rows,
        concerns=concern_rows,
        committees=committee_rows,
        trust=trust_rows,
        footer=footer,
        headings=headings,
    )
    brief.map_png = static_map(data, chosen, counts.where(kinds == ""), hot_ids)
    return brief


def _committee_name(_, kind: object, name: object) -> str:
    """``KLSP · Fellabanë`` style: the type's abbreviation in the brief's language before the name, unless the
    name already starts with it (``KKSB Prishtinë``) or with the English code."""
    abbr, text = _.committee_abbr(kind), str(name)
    first = text.split(" ", 1)[0].upper()
    return text if first in (abbr.upper(), str(kind).upper()) else f"{abbr} · {text}"


def _crime_codes(policy: PublicPolicy | None) -> tuple[str, ...]:
    from geo.schema import CRIME_CATEGORIES

    if policy is None:
        return CRIME_CATEGORIES
    return tuple(c for c in CRIME_CATEGORIES if c not in policy.sensitive)


def static_map(data: Dataset, chosen, counts: pd.Series, hot_ids: set[str]) -> bytes:
    """A PNG of the area's sections coloured by count (NaN: withheld, hatched), neighbours in grey."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from geo.schema import METRIC_CRS

    area = chosen.to_crs(METRIC_CRS)
    xmin, ymin, xmax, ymax = area.total_bounds
    pad = max(xmax - xmin, ymax - ymin) * 0.08 + 200
    around = data.sections.to_crs(METRIC_CRS).cx[xmin - pad : xmax + pad, ymin - pad : ymax + pad]
    shown = counts.reindex(area["section_id"].astype(str))
    fig, ax = plt.subplots(figsize=(4.2, 3.6), dpi=150)
    around.plot(ax=ax, color="#eeeeee", edgecolor="#bbbbbb", linewidth=0.4)
    area = area.assign(value=shown.to_numpy())
    varied = shown.dropna().nunique() > 1
    area.plot(
        ax=ax,
        column="value",
        cmap="YlGnBu",
        edgecolor="#555555",
        linewidth=0.5,
        legend=bool(varied),
        legend_kwds={"shrink": 0.7} if varied else None,
        missing_kwds={"color": "white", "hatch": "///", "edgecolor": "#999999"},
    )
    hot = area[area["section_id"].astype(str).isin(hot_ids)]
    if len(hot):
        hot.boundary.plot(ax=ax, color="#b2182b", linewidth=1.6)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_axis_off()
    fig.tight_layout(pad=0.2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------- layout


def _font_path(bold: bool = False) -> Path:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def to_pdf(brief: Brief) -> bytes:
    """The brief as a one-page A4 PDF."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(12, 10, 12)
    pdf.add_font("DejaVu", "", str(_font_path()))
    pdf.add_font("DejaVu", "B", str(_font_path(bold=True)))
    pdf.add_page()
    width = pdf.w - 24
    red = (178, 24, 43) if not brief.public else (33, 102, 172)
    # marking
    pdf.set_font("DejaVu", "B", 10)
    pdf.set_text_color(*red)
    pdf.cell(width, 5, brief.marking_text or brief.marking, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(width, 7, brief.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width, 4.5, brief.area_line, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4.5, brief.period_line, new_x="LMARGIN", new_y="NEXT")
    for notice in brief.notices:
        pdf.set_fill_color(235, 242, 250)
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(width, 4, notice, fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    h = brief.headings
    # map (left) and figures (right)
    top = pdf.get_y()
    map_w = 78
    if brief.map_png:
        pdf.image(io.BytesIO(brief.map_png), x=12, y=top, w=map_w)
        pdf.set_xy(12, top + map_w * 3.6 / 4.2 + 0.5)
        pdf.set_font("DejaVu", "", 7)
        pdf.multi_cell(map_w, 3.2, h["map"])
    map_bottom = pdf.get_y()
    pdf.set_xy(12 + map_w + 4, top)
    table_w = width - map_w - 4
    _section_title(pdf, h["figures"], table_w)
    _table(
        pdf,
        [h["figure"], h["now"], h["previous"], h["year"]],
        brief.headlines,
        [0.43, 0.17, 0.2, 0.2],
        table_w,
        x=12 + map_w + 4,
    )
    pdf.set_x(12 + map_w + 4)
    pdf.set_font("DejaVu", "", 6.5)
    pdf.multi_cell(table_w, 3, h["flags"])
    pdf.set_y(max(pdf.get_y(), map_bottom) + 2)
    _block(
        pdf,
        h["hotspots"],
        [h["section"], h["label"], h["count"]],
        brief.hotspots,
        [0.5, 0.3, 0.2],
        width,
        h["no_hotspots"],
    )
    _block(
        pdf,
        h["concerns"],
        [h["category"], h["raised"], h["open"], h["action"]],
        brief.concerns,
        [0.24, 0.1, 0.12, 0.54],
        width,
        h["no_concerns"],
    )
    _block(
        pdf,
        h["committees"],
        [h["committee"], h["meetings"], h["attendance"], h["last"]],
        brief.committees[:8],
        [0.52, 0.14, 0.16, 0.18],
        width,
        h["no_committees"],
    )
    _block(
        pdf,
        h["trust"],
        [h["area"], h["period"], h["trust_pct"], h["satisfaction_pct"]],
        brief.trust,
        [0.4, 0.2, 0.2, 0.2],
        width,
        h["no_trust"],
    )
    pdf.set_y(pdf.h - 14)
    pdf.set_font("DejaVu", "", 7)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(width, 3.2, brief.footer)
    return bytes(pdf.output())


def _section_title(pdf, text: str, w: float) -> None:
    pdf.set_font("DejaVu", "B", 10)
    x = pdf.get_x()
    pdf.multi_cell(w, 5, text, new_x="LEFT", new_y="NEXT")
    pdf.set_x(x)


def _table(pdf, header, rows, widths, total_w, x=None, size=7.5) -> None:
    x = pdf.l_margin if x is None else x
    ws = [total_w * f for f in widths]
    pdf.set_x(x)
    pdf.set_font("DejaVu", "B", size - 1)
    pdf.set_fill_color(230, 230, 230)
    for text, w in zip(header, ws):
        pdf.cell(w, 4.6, _fit(pdf, text, w), border=0, fill=True)
    pdf.ln(4.6)
    pdf.set_font("DejaVu", "", size)
    for row in rows:
        pdf.set_x(x)
        for text, w in zip(row, ws):
            pdf.cell(w, 4.2, _fit(pdf, str(text), w), border="B")
        pdf.ln(4.2)


def _fit(pdf, text: str, w: float) -> str:
    """Shorten ``text`` with an ellipsis to fit ``w`` mm."""
    if pdf.get_string_width(text) <= w - 1:
        return text
    while text and pdf.get_string_width(text + "…") > w - 1:
        text = text[:-1]
    return text + "…"


def _block(pdf, title, header, rows, widths, w, empty_text) -> None:
    _section_title(pdf, title, w)
    if rows:
        _table(pdf, header, rows, widths, w)
    else:
        pdf.set_font("DejaVu", "", 8)
        pdf.cell(w, 4.5, empty_text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def to_html(brief: Brief) -> str:
    """The brief as a standalone, printable HTML page (every text escaped; the map embedded)."""
    e = html_text
    h = brief.headings

    def table(header, rows, empty):
        if not rows:
            return f"<p class='empty'>{e(empty)}</p>"
        head = "".join(f"<th>{e(c)}</th>" for c in header)
        body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    img = ""
    if brief.map_png:
        img = (
            f"<figure><img alt='{e(h['map'])}' src='data:image/png;base64,"
            f"{base64.b64encode(brief.map_png).decode()}'><figcaption>{e(h['map'])}</figcaption></figure>"
        )
    notices = "".join(f"<p class='notice'>{e(n)}</p>" for n in brief.notices)
    parts = [
        (h["hotspots"], [h["section"], h["label"], h["count"]], brief.hotspots, h["no_hotspots"]),
        (h["concerns"], [h["category"], h["raised"], h["open"], h["action"]], brief.concerns, h["no_concerns"]),
        (
            h["committees"],
            [h["committee"], h["meetings"], h["attendance"], h["last"]],
            brief.committees,
            h["no_committees"],
        ),
        (h["trust"], [h["area"], h["period"], h["trust_pct"], h["satisfaction_pct"]], brief.trust, h["no_trust"]),
    ]
    blocks = "\n".join(f"<h2>{e(title)}</h2>{table(head, rows, empty)}" for title, head, rows, empty in parts)
    return f"""<!doctype html>
<html lang="{e(brief.lang)}"><head><meta charset="utf-8"><title>{e(brief.title)}</title>
<style>
@page {{ size: A4; margin: 10mm 12mm; }}
body {{ font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #111; max-width: 186mm; margin: auto; }}
.marking {{ text-align: right; font-weight: bold; color: {"#2166ac" if brief.public else "#b2182b"}; }}
h1 {{ font-size: 16pt; margin: 2px 0; }} h2 {{ font-size: 11pt; margin: 10px 0 3px; clear: both; }}
.notice {{ background: #ebf2fa; padding: 3px 6px; font-size: 9pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; }}
th {{ background: #e6e6e6; text-align: left; }} td, th {{ padding: 2px 4px; border-bottom: 1px solid #ccc; }}
figure {{ float: left; width: 80mm; margin: 0 6mm 4mm 0; }} figure img {{ width: 100%; }}
figcaption {{ font-size: 8pt; color: #444; }}
footer {{ clear: both; margin-top: 10px; font-size: 8pt; color: #555; }}
</style></head><body>
<div class="marking">{e(brief.marking_text or brief.marking)}</div>
<h1>{e(brief.title)}</h1><p>{e(brief.area_line)}<br>{e(brief.period_line)}</p>{notices}
{img}<h2>{e(h["figures"])}</h2>
{table([h["figure"], h["now"], h["previous"], h["year"]], brief.headlines, "")}<p class="empty">{e(h["flags"])}</p>
{blocks}
<footer>{e(brief.footer)}</footer>
</body></html>
"""


def write(brief: Brief, out: Path) -> Path:
    """Write the brief as PDF or HTML, by ``out``'s suffix."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        out.write_bytes(to_pdf(brief))
    elif suffix in (".html", ".htm"):
        out.write_text(to_html(brief), encoding="utf-8")
    else:
        raise ValueError(f"the brief is written as .pdf or .html, not {out.name!r}")
    return out
