"""One-page briefs for a committee meeting: a municipality or a section, a period, a language.

:func:`brief_content` gathers the figures (pure data); :func:`to_pdf` and
:func:`to_html` lay them out on one A4 page. The static map is drawn with
matplotlib (no internet, no tiles); the PDF embeds DejaVu Sans (shipped with
matplotlib) so ë, ç, č, ć, đ, š and ž print correctly.

In public mode the data first goes through :class:`geo.public.PublicPolicy`
(no coordinates, no sensitive categories, no private texts) and every figure
is a published value of the public dataset (true count plus a small, fixed
adjustment, the same in every output); a published value below the policy's
minimum is printed as "fewer than N", and no change, test or hot spot is made
from it. The public brief is for a calendar month, quarter or year.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo import compare, coverage, figures, hotspots, i18n
from geo.dataset import Dataset
from geo.exports import MARK_PUBLIC, MARK_RESTRICTED
from geo.public import PublicPolicy
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
    #: the map with its labels and colour scale (``map_png`` is its picture)
    map: BriefMap | None = None


#: Symbols of the comparison flags (explained under the figures).
FLAG_SYMBOLS = {
    "strong_increase": "▲▲",
    "increase": "▲",
    "no_change": "=",
    "decrease": "▼",
    "strong_decrease": "▼▼",
    compare.NO_COMPARISON: "·",
}


def _change_text(_, h: figures.Headline, against: str, show, small) -> str:
    """The earlier figure (``show``: a count as printed), a symbol for its change and, on a second line, the
    test's p-value (:meth:`figures.Headline.test`, one test per figure); ``–`` when the data does not cover
    that period. No symbol and no p-value where either count shows as "fewer than N" (``small``)."""
    other = h.other(against)
    if other is None:
        return f"–  {FLAG_SYMBOLS[compare.NO_COMPARISON]}"
    if small(h.current) or small(other):
        return show(other)
    p, flag = h.test(against)
    text = f"{show(other)}  {FLAG_SYMBOLS[flag]}"
    return f"{text}\n{compare.p_text(p, _)}" if np.isfinite(p) else text


def _area(data: Dataset, municipality: str | None, section: str | None) -> tuple[figures.Filters, pd.DataFrame]:
    if bool(municipality) == bool(section):
        raise ValueError("give exactly one of municipality or section")
    secs = data.sections
    if section:
        chosen = secs[secs["section_id"] == str(section)]
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

    ``policy``: the public-safe rules, or ``None`` for the restricted version. The public version's figures
    are the public dataset's published values, each asked as a cell of its own (an area's total is not a
    sum of its sections'); its period must be a calendar month, quarter or year that the data covers
    completely (:meth:`geo.public.PublicPolicy.check_period`, else :class:`geo.public.PublicQueryError`).
    Without the deployment's secret it raises :class:`geo.public.MissingSecret`.
    """
    _ = i18n.translator(lang)
    if policy is not None:
        policy.check_period(data, period, "a public brief")
        data = policy.apply(data)
    flt, chosen = _area(data, municipality, section)
    ids = pd.Index(chosen["section_id"])
    muni = str(chosen["municipality"].iloc[0])
    region = str(chosen["region"].iloc[0])

    def exact(n: float | None) -> str:
        return "–" if n is None or pd.isna(n) else _.number(n)

    def show(n: float | None) -> str:
        """A count as the brief prints it: exact, or (public) its published value or "fewer than N"."""
        if policy is not None:
            return policy.show(n, _)
        return exact(n)

    # headline figures against the previous period and a year earlier: in the public version each incident
    # figure is a published cell (the cube's own total); open concerns are counted exactly (public concerns
    # are listed one by one)
    now = figures.headlines(data.cube, data.concerns, data.committees, data.sections, flt, period)
    labels = {
        "accident_fatal": _("Accidents with fatalities"),
        "accident_injury": _("Accidents with injuries"),
        "accident_damage": _("Accidents, damage only"),
        "traffic_ticket": _("Traffic tickets"),
        "crimes": _("Crimes"),
        "open_concerns": _("Open concerns"),
        "active_committees": _("Active committees"),
    }
    small = policy.is_small if policy is not None else (lambda n: False)
    rows = []
    for key, label in labels.items():
        h = now[key]
        # the committee register and the public concerns are public records, listed one by one: their figures
        # are exact in both versions
        fmt, hide = (exact, lambda n: False) if key in ("active_committees", "open_concerns") else (show, small)
        rows.append(
            (
                label,
                fmt(h.current),
                _change_text(_, h, "previous", fmt, hide),
                _change_text(_, h, "year_earlier", fmt, hide),
            )
        )

    # crimes per section, for the hot spots and the map (published counts in the public version)
    counts = figures.incident_counts(data.cube, period, _crime_codes(policy)).reindex(
        data.sections["section_id"], fill_value=0
    )
    hidden = counts.map(small).to_numpy(dtype=bool)  # shown as "fewer than N": no figure is made from them

    # hotspots: Gi* over all sections (so the area's sections have their neighbours), listed for the area
    hot_rows: list[tuple[str, str, str]] = []
    hot_ids: set[str] = set()
    if counts.sum() > 0 and len(data.sections) >= 3:
        graph = hotspots.neighbours(data.sections, "queen")
        # a count shown as "fewer than N" enters as 0 and is never listed (its neighbours' z would give it back)
        gi = hotspots.getis_ord(counts.where(~hidden, 0).to_numpy(dtype=float), graph)
        gi.index = counts.index
        gi.loc[hidden, "label"] = hotspots.NOT_SIGNIFICANT
        in_area = gi.loc[gi.index.isin(ids)]
        hot = in_area[in_area["label"].str.startswith("hot")].sort_values("z", ascending=False).head(5)
        names = data.sections.set_index(data.sections["section_id"])["section_name"]
        for sid, row in hot.iterrows():
            hot_ids.add(str(sid))
            hot_rows.append((str(names.get(sid, sid)), _.label("hotspot", row["label"]), show(counts.get(sid, 0))))

    # concerns raised in the period in the area, by category (exact in the public version too: public
    # concerns are listed one by one)
    con = data.concerns
    con = con[con["section_id"].isin(ids) & period.mask(con["raised_on"]).to_numpy()]
    concern_rows: list[tuple[str, str, str, str]] = []
    if len(con):
        groups = {str(cat): grp for cat, grp in con.groupby(con["category"].astype(str))}
        n = pd.Series({cat: len(grp) for cat, grp in groups.items()}).sort_values(ascending=False, kind="stable")
        for cat, raised in n.head(5).items():
            grp = groups[cat].sort_values("raised_on")
            still_open = grp[grp["status"].astype("string").fillna("open") != "resolved"]
            actions = grp["action_taken"].dropna()
            action = str(actions.iloc[-1]) if len(actions) else "–"
            concern_rows.append((_.term("concern_category", cat), exact(raised), exact(len(still_open)), action))

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
    prev, year = period.previous(), period.year_earlier()
    period_line = _(
        "{period}, compared with {previous} and with {year_earlier}",
        period=_.period(period.start, period.end),
        previous=_.period(prev.start, prev.end),
        year_earlier=_.period(year.start, year.end),
    )
    notices = []
    if data.is_demo:
        notices.append(_("Demo data: synthetic figures on approximate boundaries, not police data."))
    if policy is not None:
        notices.append(policy.note(_))
    as_of = data.data_as_of
    mark = MARK_PUBLIC if policy is not None else MARK_RESTRICTED
    footer = _(
        "{marking} · Data as of {date} · Source: {source} · Changes are flagged only when larger than chance "
        "would explain (exact test for counts, p < 0.0455).",
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
            "▲ ▼ a noteworthy change (p < 0.0455), ▲▲ ▼▼ a strong one (p < 0.0027), = no meaningful change, "
            "· no comparison (nothing in either period, or a period outside the data). p: how often chance alone "
            "would give a change at least this large (exact test for counts, each figure on its own)."
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
    brief.map = static_map(
        data,
        chosen,
        counts.where(~hidden),
        hot_ids,
        _,
        section=str(section or ""),
        missing_text=policy.small_text(_) if policy is not None else "",
    )
    brief.map_png = brief.map.png
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


#: Colours of the brief's map: the YlGnBu scale of the counts, the hot-spot outline, neighbours and withheld.
MAP_CMAP = "YlGnBu"
HOT_OUTLINE = "#b2182b"


@dataclass
class BriefMap:
    """The brief's map: the sections as a picture, and what is written on it and under it as text.

    The picture fills its axes exactly (no margins), so a label's position is a fraction of the picture's
    width (from the left) and height (from the top). Place names, the colour scale and its title are text in
    the PDF and the HTML, not pixels: they print sharply and are searchable.
    """

    png: bytes
    aspect: float  # height / width
    #: ``(x, y, text, kind)``: kind ``section`` (the area's sections) or ``municipality`` (around it), in
    #: the order they are placed when labels would overlap (earlier ones win)
    labels: list[tuple[float, float, str, str]]
    vmin: float = 0.0
    vmax: float = 0.0
    colours: list[str] = field(default_factory=list)  # the colour scale, low to high ([]: one value only)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (fraction of the scale, the count as text)
    scale_title: str = ""
    keys: list[tuple[str, str]] = field(default_factory=list)  # ("outline" | "withheld", text)


def short_section_name(name: str) -> str:
    """A section's label on a small map: the place after the last " – " (``Prishtinë 01 – Qendra`` → ``Qendra``)."""
    head, sep, tail = str(name).rpartition(" – ")
    return tail.strip() if sep and tail.strip() else str(name)


def static_map(
    data: Dataset,
    chosen,
    counts: pd.Series,
    hot_ids: set[str],
    _: i18n.Translator | None = None,
    section: str = "",
    missing_text: str = "",
) -> BriefMap:
    """The area's sections coloured by count (NaN: not shown as a number, hatched), neighbours in grey, with
    the labels.

    ``counts``: crimes per section id; ``section``: the brief's section (its label first and in full);
    ``missing_text``: what the hatching means (the public version's "fewer than N").
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import colormaps, colors

    from geo.schema import METRIC_CRS

    _ = _ or i18n.translator("en")
    area = chosen.to_crs(METRIC_CRS)
    xmin, ymin, xmax, ymax = area.total_bounds
    pad = max(xmax - xmin, ymax - ymin) * 0.08 + 200
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    # between 3:4 and 5:4 (height : width), widened or heightened around the area's centre
    w, h = xmax - xmin, ymax - ymin
    if h / w > 1.25:
        xmin, xmax = (xmin + xmax) / 2 - h / 2.5, (xmin + xmax) / 2 + h / 2.5
    elif h / w < 0.75:
        ymin, ymax = (ymin + ymax) / 2 - w * 0.375, (ymin + ymax) / 2 + w * 0.375
    w, h = xmax - xmin, ymax - ymin
    every = data.sections.to_crs(METRIC_CRS)
    around = every.cx[xmin:xmax, ymin:ymax]
    shown = counts.reindex(area["section_id"])
    area = area.assign(value=shown.to_numpy())
    fig = plt.figure(figsize=(5.0, 5.0 * h / w), dpi=200)
    ax = fig.add_axes((0, 0, 1, 1))
    around.plot(ax=ax, color="#eeeeee", edgecolor="#bbbbbb", linewidth=0.4)
    values = shown.dropna()
    vmin, vmax = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    varied = vmax > vmin
    cmap = colormaps[MAP_CMAP]
    norm = colors.Normalize(vmin, vmax if varied else vmin + 1)
    known = area[area["value"].notna()]
    if len(known):
        known.plot(ax=ax, color=[cmap(norm(v)) for v in known["value"]], edgecolor="#555555", linewidth=0.5)
    missing = area[area["value"].isna()]
    if len(missing):
        missing.plot(ax=ax, color="white", hatch="///", edgecolor="#999999", linewidth=0.5)
    hot = area[area["section_id"].isin(hot_ids)]
    if len(hot):
        hot.boundary.plot(ax=ax, color=HOT_OUTLINE, linewidth=1.6)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)

    def at(geom) -> tuple[float, float]:
        p = geom.representative_point()
        return (p.x - xmin) / w, (ymax - p.y) / h

    from shapely.geometry import box

    view = box(xmin, ymin, xmax, ymax)
    labels: list[tuple[float, float, str, str]] = []
    area = area.assign(_size=area.geometry.area).sort_values("_size", ascending=False, kind="stable")
    if section:
        area = pd.concat([area[area["section_id"] == section], area[area["section_id"] != section]])
    for _i, row in area.iterrows():
        name = str(row["section_name"])
        labels.append(
            (*at(row.geometry), name if str(row["section_id"]) == section else short_section_name(name), "section")
        )
    if section:  # the neighbouring sections of the same municipality, by their place
        muni = str(chosen["municipality"].iloc[0])
        near = around[(around["municipality"] == muni) & ~around["section_id"].isin(area["section_id"])]
        for _i, row in near.iterrows():
            part = row.geometry.intersection(view)
            if not part.is_empty and part.area > 0.03 * w * h:
                labels.append((*at(part), short_section_name(str(row["section_name"])), "neighbour"))
    own = set(area["municipality"].astype(str))
    others = around[~around["municipality"].astype(str).isin(own)]
    if len(others):
        for name, part in others.dissolve(by="municipality").geometry.items():
            part = part.intersection(view)
            if not part.is_empty and part.area > 0.04 * w * h:
                labels.append((*at(part), _.municipality(name), "municipality"))
    keys = []
    if len(hot):
        keys.append(("outline", _("Hot spot (Gi*), outlined")))
    if len(missing):
        keys.append(("withheld", missing_text or "–"))
    return BriefMap(
        png=buf.getvalue(),
        aspect=h / w,
        labels=labels,
        vmin=vmin,
        vmax=vmax,
        colours=[colors.to_hex(cmap(x)) for x in np.linspace(0, 1, 9)] if varied else [],
        ticks=[((v - vmin) / (vmax - vmin), _.number(v)) for v in sorted({vmin, round((vmin + vmax) / 2), vmax})]
        if varied
        else [],
        scale_title=_("Crimes per section in the period (number)"),
        keys=keys,
    )


def place_labels(
    labels, width: float, height: float, text_width, text_height: float
) -> list[tuple[float, float, str, str]]:
    """The labels that fit without overlapping (earlier ones first), as ``(x, y, text, kind)`` in the units
    of ``width`` and ``height`` (the label's centre); ``text_width(text, kind)`` measures a text."""
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for fx, fy, text, kind in labels:
        tw = text_width(text, kind) + 1.0
        x, y = fx * width, fy * height
        box_ = (x - tw / 2, y - text_height / 2, x + tw / 2, y + text_height / 2)
        if box_[0] < 0 or box_[2] > width or box_[1] < 0 or box_[3] > height:
            continue
        if any(not (box_[2] <= b[0] or b[2] <= box_[0] or box_[3] <= b[1] or b[3] <= box_[1]) for b in placed):
            continue
        placed.append(box_)
        out.append((x, y, text, kind))
    return out


# ---------------------------------------------------------------- layout


def _font_path(bold: bool = False) -> Path:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def _new_pdf():
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, 10, MARGIN)
    pdf.add_font("DejaVu", "", str(_font_path()))
    pdf.add_font("DejaVu", "B", str(_font_path(bold=True)))
    return pdf


MARGIN = 12
#: Sizes tried, largest first: the first with which everything fits on the page is used.
SCALES = (1.5, 1.4, 1.3, 1.22, 1.15, 1.08, 1.0, 0.93, 0.86, 0.8, 0.74)
#: Widths of the map (mm) tried once the type size is chosen; the figures table keeps the rest of the row.
MAP_WIDTHS = (84, 90, 96, 102, 108)
#: The map is never narrower (mm); the figures table's headers then get smaller type instead.
MAP_MIN_WIDTH = 78
FOOTER_HEIGHT = 12


def to_pdf(brief: Brief) -> bytes:
    """The brief as a one-page A4 PDF, its type and map as large as the page allows.

    The layout is tried on a scratch document: the largest type size with which everything fits above the
    footer, then the widest map (up to :data:`MAP_WIDTHS`' largest) that still fits with it.
    """
    scratch = _new_pdf()
    limit = scratch.h - FOOTER_HEIGHT - 2

    def fits(scale: float, map_w: float) -> bool:
        return _layout(scratch, brief, scale, map_w) <= limit

    scale = next((s for s in SCALES if fits(s, 78 * s)), SCALES[-1])
    map_w = 78 * scale
    for wider in MAP_WIDTHS:
        if wider > map_w and fits(scale, wider):
            map_w = wider
    pdf = _new_pdf()
    _layout(pdf, brief, scale, map_w)
    _footer(pdf, brief)
    return bytes(pdf.output())


def _layout(pdf, brief: Brief, s: float, map_w: float) -> float:
    """Lay the brief out on a new page at type size ``s`` (1: 9 pt text) with a map ``map_w`` mm wide;
    returns where the content ends (mm from the top)."""
    pdf.add_page()
    width = pdf.w - 2 * MARGIN
    red = (178, 24, 43) if not brief.public else (33, 102, 172)
    pdf.set_font("DejaVu", "B", 10)
    pdf.set_text_color(*red)
    pdf.cell(width, 5, brief.marking_text or brief.marking, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "B", 15 * min(s, 1.15))
    pdf.multi_cell(width, 7 * min(s, 1.15), brief.title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", "", 9 * s)
    pdf.multi_cell(width, 4.5 * s, brief.area_line, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.multi_cell(width, 4.5 * s, brief.period_line, new_x="LMARGIN", new_y="NEXT", align="L")
    for notice in brief.notices:
        pdf.set_fill_color(235, 242, 250)
        pdf.set_font("DejaVu", "", 8 * s)
        pdf.multi_cell(width, 4 * s, notice, fill=True, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(1.5 * s)
    h = brief.headings
    # map (left) and figures (right)
    top = pdf.get_y()
    map_bottom = top
    # the figures table keeps room for its longest header word (headers wrap, never cut)
    figure_header = [h["figure"], h["now"], h["previous"], h["year"]]
    figure_widths = [0.43, 0.17, 0.2, 0.2]
    map_w = max(min(map_w, width - 4 - _table_min_width(pdf, figure_header, figure_widths, s)), MAP_MIN_WIDTH)
    if brief.map is not None:
        map_bottom = _map(pdf, brief.map, MARGIN, top, map_w, s)
    right = MARGIN + map_w + 4
    table_w = width - map_w - 4
    pdf.set_xy(right, top)
    _section_title(pdf, h["figures"], table_w, s)
    _table(
        pdf,
        figure_header,
        brief.headlines,
        figure_widths,
        table_w,
        s,
        x=right,
    )
    pdf.set_x(right)
    pdf.set_font("DejaVu", "", 6.5 * s)
    pdf.multi_cell(table_w, 3 * s, h["flags"], align="L")
    pdf.set_y(max(pdf.get_y(), map_bottom) + 2 * s)
    blocks = (
        (h["hotspots"], [h["section"], h["label"], h["count"]], brief.hotspots, [0.5, 0.3, 0.2], h["no_hotspots"]),
        (
            h["concerns"],
            [h["category"], h["raised"], h["open"], h["action"]],
            brief.concerns,
            [0.26, 0.12, 0.12, 0.5],
            h["no_concerns"],
        ),
        (
            h["committees"],
            [h["committee"], h["meetings"], h["attendance"], h["last"]],
            brief.committees[:8],
            [0.52, 0.14, 0.16, 0.18],
            h["no_committees"],
        ),
        (
            h["trust"],
            [h["area"], h["period"], h["trust_pct"], h["satisfaction_pct"]],
            brief.trust,
            [0.4, 0.2, 0.2, 0.2],
            h["no_trust"],
        ),
    )
    for title, header, rows, widths, empty in blocks:
        _block(pdf, title, header, rows, widths, width, empty, s)
    return pdf.get_y()


def _footer(pdf, brief: Brief) -> None:
    pdf.set_xy(MARGIN, pdf.h - FOOTER_HEIGHT)
    pdf.set_font("DejaVu", "", 7)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(pdf.w - 2 * MARGIN, 3.2, brief.footer, align="L")
    pdf.set_text_color(0, 0, 0)


def _hex(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _map(pdf, bmap: BriefMap, x: float, y: float, w: float, s: float) -> float:
    """The map at ``(x, y)``, ``w`` mm wide, with its place names, colour scale and keys; returns its bottom."""
    h = w * bmap.aspect
    pdf.image(io.BytesIO(bmap.png), x=x, y=y, w=w, h=h)
    pdf.set_draw_color(200, 200, 200)
    pdf.rect(x, y, w, h)
    sizes = {"section": 5.6 * s, "neighbour": 5.0 * s, "municipality": 6.0 * s}
    fonts = {"section": "B", "neighbour": "", "municipality": ""}

    def measure(text: str, kind: str) -> float:
        pdf.set_font("DejaVu", fonts[kind], sizes[kind])
        return pdf.get_string_width(text)

    line = 2.6 * s
    for lx, ly, text, kind in place_labels(bmap.labels, w, h, measure, line):
        pdf.set_font("DejaVu", fonts[kind], sizes[kind])
        tw = pdf.get_string_width(text)
        with pdf.local_context(fill_opacity=0.65):
            pdf.set_fill_color(255, 255, 255)
            pdf.rect(x + lx - tw / 2 - 0.4, y + ly - line / 2, tw + 0.8, line, style="F")
        pdf.set_text_color(*((20, 20, 20) if kind == "section" else (110, 110, 110)))
        pdf.set_xy(x + lx - tw / 2 - 0.4, y + ly - line / 2)
        pdf.cell(tw + 0.8, line, text, align="C")
    pdf.set_text_color(0, 0, 0)
    cy = y + h + 1.2 * s
    if bmap.colours:  # the colour scale: its title, the colours, the lowest, middle and highest count
        pdf.set_font("DejaVu", "", 6.5 * s)
        pdf.set_xy(x, cy)
        pdf.multi_cell(w, 3 * s, bmap.scale_title, new_x="LMARGIN", new_y="NEXT", align="L")
        cy = pdf.get_y() + 0.4
        bar_w = w * 0.8
        step = bar_w / len(bmap.colours)
        for i, colour in enumerate(bmap.colours):
            pdf.set_fill_color(*_hex(colour))
            pdf.rect(x + i * step, cy, step + 0.05, 2.6 * s, style="F")
        pdf.set_font("DejaVu", "", 6 * s)
        for frac, text in bmap.ticks:
            tw = pdf.get_string_width(text)
            pdf.set_xy(min(max(x + frac * bar_w - tw / 2, x), x + bar_w - tw), cy + 2.7 * s)
            pdf.cell(tw, 2.8 * s, text)
        cy += 2.7 * s + 3.2 * s
    if bmap.keys:
        kx = x
        pdf.set_font("DejaVu", "", 6.5 * s)
        for kind, text in bmap.keys:
            if kind == "outline":
                pdf.set_draw_color(*_hex(HOT_OUTLINE))
                pdf.set_line_width(0.6)
                pdf.rect(kx, cy + 0.4, 4, 2.4 * s)
            else:
                pdf.set_draw_color(150, 150, 150)
                pdf.set_line_width(0.2)
                pdf.rect(kx, cy + 0.4, 4, 2.4 * s)
                for k in range(3):
                    pdf.line(kx + k * 1.4, cy + 0.4 + 2.4 * s, kx + k * 1.4 + 1.2, cy + 0.4)
            pdf.set_line_width(0.2)
            pdf.set_xy(kx + 5, cy)
            pdf.cell(pdf.get_string_width(text) + 1, 3.2 * s, text)
            kx += 5 + pdf.get_string_width(text) + 4
        cy += 3.6 * s
        pdf.set_draw_color(0, 0, 0)
    return cy


def _section_title(pdf, text: str, w: float, s: float = 1.0) -> None:
    pdf.set_font("DejaVu", "B", 10 * s)
    x = pdf.get_x()
    pdf.multi_cell(w, 5 * s, text, new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_x(x)


def _lines(pdf, text: str, w: float, max_lines: int) -> list[str]:
    """``text`` broken into lines of at most ``w`` mm in the current font, at most ``max_lines`` of them (the last
    one shortened with an ellipsis if the text is longer)."""
    words, lines, current = str(text).split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if pdf.get_string_width(candidate) <= w or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    lines.append(current)
    lines = [_fit(pdf, line, w + 1) for line in lines]
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [_fit(pdf, " ".join(lines[max_lines - 1 :]) + " …", w + 1)]
    return lines


TABLE_SIZE = 7.5  # pt, at type size 1
CELL_PAD = 0.8  # mm


def _table_min_width(pdf, header, widths, s: float) -> float:
    """The narrowest table (mm) in which every word of every header fits its column."""
    pdf.set_font("DejaVu", "B", (TABLE_SIZE - 1) * s)
    return max(
        (max(pdf.get_string_width(word) for word in text.split()) + 2 * CELL_PAD + 0.6) / share
        for text, share in zip(header, widths)
    )


def _table(pdf, header, rows, widths, total_w, s: float = 1.0, x=None, size=TABLE_SIZE) -> None:
    """A table whose headers wrap (never cut) and whose cells wrap to two lines."""
    x = pdf.l_margin if x is None else x
    ws = [total_w * f for f in widths]
    pad = CELL_PAD
    head_size = (size - 1) * s
    pdf.set_font("DejaVu", "B", head_size)
    # headers are never cut: smaller type until every header word fits its column
    while head_size > 4.5 and any(
        pdf.get_string_width(word) > w - 2 * pad for text, w in zip(header, ws) for word in str(text).split()
    ):
        head_size -= 0.25
        pdf.set_font("DejaVu", "B", head_size)
    head_lh = 3.0 * s * head_size / ((size - 1) * s)
    heads = [_lines(pdf, text, w - 2 * pad, 4) for text, w in zip(header, ws)]
    head_h = max(len(lines) for lines in heads) * head_lh + 1.2
    top = pdf.get_y()
    pdf.set_fill_color(230, 230, 230)
    pdf.rect(x, top, total_w, head_h, style="F")
    cx = x
    for lines, w in zip(heads, ws):
        for i, line in enumerate(lines):
            pdf.set_xy(cx + pad, top + 0.6 + i * head_lh)
            pdf.cell(w - 2 * pad, head_lh, line)
        cx += w
    y = top + head_h
    pdf.set_font("DejaVu", "", size * s)
    lh = 3.4 * s
    pdf.set_draw_color(190, 190, 190)
    for row in rows:
        # a cell's second line (a comparison's p-value) in a smaller, grey type under its first ones
        firsts, seconds = zip(*(str(text).partition("\n")[::2] for text in row), strict=True)
        cells = [_lines(pdf, first, w - 2 * pad, 2) for first, w in zip(firsts, ws)]
        n_first = max(len(lines) for lines in cells)
        small_lh = 0.85 * lh
        row_h = n_first * lh + (small_lh if any(seconds) else 0) + 1.0
        cx = x
        for lines, second, w in zip(cells, seconds, ws):
            for i, line in enumerate(lines):
                pdf.set_xy(cx + pad, y + 0.5 + i * lh)
                pdf.cell(w - 2 * pad, lh, line)
            if second:
                pdf.set_font("DejaVu", "", size * s - 1.5)
                pdf.set_text_color(90, 90, 90)
                pdf.set_xy(cx + pad, y + 0.5 + n_first * lh)
                pdf.cell(w - 2 * pad, small_lh, _fit(pdf, second, w - 2 * pad + 1))
                pdf.set_text_color(0, 0, 0)
                pdf.set_font("DejaVu", "", size * s)
            cx += w
        y += row_h
        pdf.line(x, y, x + total_w, y)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_xy(x, y)


def _fit(pdf, text: str, w: float) -> str:
    """Shorten ``text`` with an ellipsis to fit ``w`` mm."""
    if pdf.get_string_width(text) <= w - 1:
        return text
    while text and pdf.get_string_width(text + "…") > w - 1:
        text = text[:-1]
    return text.rstrip() + "…"


def _block(pdf, title, header, rows, widths, w, empty_text, s: float = 1.0) -> None:
    _section_title(pdf, title, w, s)
    if rows:
        _table(pdf, header, rows, widths, w, s)
    else:
        pdf.set_font("DejaVu", "", 8 * s)
        pdf.cell(w, 4.5 * s, empty_text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5 * s)


def _html_map(bmap: BriefMap, caption: str) -> str:
    """The map as a figure: the picture, its place names over it (placed as in an 80 mm wide PDF map), the
    colour scale and keys under it."""
    e = html_text
    pdf = _new_pdf()
    sizes = {"section": 5.6, "neighbour": 5.0, "municipality": 6.0}
    width = 80.0

    def measure(text: str, kind: str) -> float:
        pdf.set_font("DejaVu", "B" if kind == "section" else "", sizes[kind])
        return pdf.get_string_width(text)

    height = width * bmap.aspect
    spans = "".join(
        f"<span class='{kind}' style='left:{x / width:.2%};top:{y / height:.2%}'>{e(text)}</span>"
        for x, y, text, kind in place_labels(bmap.labels, width, height, measure, 2.6)
    )
    scale = ""
    if bmap.colours:
        ticks = "".join(f"<span style='left:{frac:.0%}'>{e(text)}</span>" for frac, text in bmap.ticks)
        scale = (
            f"<div class='scale'><div>{e(bmap.scale_title)}</div>"
            f"<div class='bar' style='background:linear-gradient(to right,{','.join(bmap.colours)})'></div>"
            f"<div class='ticks'>{ticks}</div></div>"
        )
    keys = "".join(f"<span class='key {kind}'></span>{e(text)} " for kind, text in bmap.keys)
    picture = base64.b64encode(bmap.png).decode()
    return (
        f"<figure><div class='map'><img alt='{e(caption)}' src='data:image/png;base64,{picture}'>{spans}</div>"
        f"{scale}<div class='keys'>{keys}</div><figcaption>{e(caption)}</figcaption></figure>"
    )


def to_html(brief: Brief) -> str:
    """The brief as a standalone, printable HTML page (every text escaped; the map embedded)."""
    e = html_text
    h = brief.headings

    def table(header, rows, empty):
        if not rows:
            return f"<p class='empty'>{e(empty)}</p>"
        head = "".join(f"<th>{e(c)}</th>" for c in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{e(str(c)).replace(chr(10), '<br>')}</td>" for c in r) + "</tr>" for r in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    img = _html_map(brief.map, h["map"]) if brief.map is not None else ""
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
.map {{ position: relative; }} .map span {{ position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  font-size: 5.6pt; background: rgba(255,255,255,.65); padding: 0 1px; }}
.map .section {{ font-weight: bold; }} .map .municipality, .map .neighbour {{ color: #6e6e6e; font-size: 6pt; }}
.scale {{ font-size: 7pt; margin-top: 3px; }} .scale .bar {{ height: 8px; width: 80%; }}
.scale .ticks {{ position: relative; width: 80%; height: 10px; }}
.scale .ticks span {{ position: absolute; transform: translateX(-50%); }}
.key {{ display: inline-block; width: 12px; height: 8px; border: 2px solid #b2182b; vertical-align: middle; }}
.key.withheld {{ border: 1px solid #999;
  background: repeating-linear-gradient(45deg, #fff 0 2px, #999 2px 3px); }}
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
