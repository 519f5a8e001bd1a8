"""Section profile: one police section's boundary, officers, incidents, concerns, committees and survey results."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import compare, concerns, coverage, figures, hotspots, maps, surveys
from geo.i18n import md_escape
from views import cache, common, live
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
data = ctx.data
flt = ctx.filters
period = ctx.period

SELECTED_FILL = "#2c7fb8"
NEIGHBOUR_FILL = "#deebf7"


def rate(n: float, pop: float) -> str:
    return _.number(n / pop * 1000, decimals=2) if pd.notna(pop) and pop > 0 else "–"


if data.sections.empty:
    st.title(_("Section profile"))
    st.warning(_("No police sections are loaded. Load a sections file on the Data page."))
    st.stop()

rec = common.section_record(ctx, flt.section) if flt.section else None
if rec is None:
    st.title(_("Section profile"))
    st.info(
        _(
            "Choose a police section: in the sidebar (Police section, or search by the name of a section or "
            "village), by clicking it on any map, or here."
        )
    )
    options = figures.sections_in(data.sections, flt.region, flt.municipality)
    labels = dict(zip(options["section_id"], options["section_name"], strict=True))

    def pick() -> None:
        sid = st.session_state.get("sp_pick") or ""
        chosen = common.section_record(ctx, sid) if sid else None
        if chosen is not None:
            ctx.select_section(sid, str(chosen["municipality"]), str(chosen["region"]))

    st.selectbox(
        _("Police section"),
        ["", *options["section_id"]],
        key="sp_pick",
        on_change=pick,
        format_func=lambda s: labels.get(s, s) if s else _("Choose…"),
    )
    st.stop()

sid = str(rec["section_id"])
ids = pd.Index([sid])
name = md_escape(rec["section_name"])
st.title(_("Section profile: {name}", name=name))
parts = [
    f"{_('Municipality')}: {_.municipality(rec['municipality'])}",
    f"{_('Police region')}: {_.region(rec['region'])}",
]
if pd.notna(rec.get("station")) and str(rec.get("station") or ""):
    parts.append(f"{_('Police station')}: {rec['station']}")
pop = float(rec["population"]) if pd.notna(rec.get("population")) else float("nan")
parts.append(f"{_('Residents')}: {_.number(pop) if pd.notna(pop) else '–'}")
area_km2 = float(hotspots.areas_km2(data.sections[data.sections["section_id"] == sid])[0])
parts.append(f"{_('Surface area')}: {_.number(area_km2, decimals=1)} km²")
st.text(" · ".join(parts))
st.caption(_.period(period.start, period.end))

# ---------------------------------------------------------------- boundary, neighbours, officers

left, right = st.columns([3, 2])
neighbours = figures.neighbours_of(data.sections, sid)
with left:
    st.markdown(f"**{_('Boundary and neighbouring sections')}**")
    geom = cache.geometry(data, cache.table_key(ctx.source, "sections")).only([sid, *neighbours])
    fills, tips = [], []
    for s_id, s_name, s_muni in zip(
        geom.sections["section_id"],
        geom.sections["section_name"],
        geom.sections["municipality"],
        strict=True,
    ):
        fills.append(SELECTED_FILL if s_id == sid else NEIGHBOUR_FILL)
        tips.append(maps.tip_html(str(s_name), _.municipality(s_muni), []))
    legend = maps.category_legend_html(
        _("Police sections"), [(SELECTED_FILL, _("This section")), (NEIGHBOUR_FILL, _("Neighbouring sections"))]
    )
    fmap = maps.section_fill_map(
        geom, fills, tips, legend, _, assets=ctx.assets, basemap=ctx.basemap, selected=sid, fill_opacity=0.6
    )
    st_folium(
        fmap,
        key="section_map",
        height=360,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        on_change=lambda: common.select_clicked_section(ctx, "section_map"),
    )
    st.caption(_("Click a neighbouring section to open its profile."))
with right:
    st.markdown(f"**{_('Community officers')}**")
    officers = rec.get("officers")
    officers = list(officers) if isinstance(officers, (list, tuple)) or hasattr(officers, "tolist") else []
    if not officers:
        st.caption(_("No officers are recorded for this section."))
    elif ctx.policy is None or bool(rec.get("officers_public")):  # restricted users see every contact
        st.dataframe(pd.DataFrame({_("Officer"): [str(o) for o in officers]}), hide_index=True, width="stretch")
        if ctx.policy is None and not bool(rec.get("officers_public")):
            st.caption(_("These contacts are not marked public: the public view does not show them."))
    else:
        st.caption(
            _(
                "{n} officers are recorded; their contacts are not public in this data.",
                n=_.number(len(officers)),
            )
        )
    villages = rec.get("villages")
    if isinstance(villages, (list, tuple)) or hasattr(villages, "tolist"):
        villages = [str(v) for v in list(villages)]
        if villages:
            st.markdown(f"**{_('Villages and neighbourhoods')}**")
            st.text(", ".join(villages))
    if neighbours:
        st.markdown(f"**{_('Neighbouring sections')}**")
        nrec = data.sections[data.sections["section_id"].isin(neighbours)]
        for n_id, n_name, n_muni, n_reg in zip(
            nrec["section_id"], nrec["section_name"], nrec["municipality"], nrec["region"], strict=True
        ):
            st.button(
                md_escape(n_name),
                key=f"sp_nb_{n_id}",
                on_click=ctx.select_section,
                args=(n_id, str(n_muni), str(n_reg)),
            )

# ---------------------------------------------------------------- incidents

st.subheader(_("Incidents"))
common.categories_note(ctx)
cats = flt.incident_categories
policy = ctx.policy
cube = data.cube  # of a public dataset: published values, each figure a cell of its own


def show(n) -> str:
    """A count as text; in the public version a published value ("fewer than N" below the threshold)."""
    if n is None:
        return "–"
    return policy.show(n, _) if policy is not None else _.number(n)


def small(n) -> bool:
    """Public version: the count shows as "fewer than N", so no rate, change or bar is made from it."""
    return policy is not None and n is not None and policy.is_small(n)


# the section's, its municipality's and Kosovo's counts are each the cube's own total (in the public version
# the same published value as on the Overview's map), never sums of figures shown
n_now = cube.total(period, cats, ids)
muni_secs = data.sections[data.sections["municipality"] == rec["municipality"]]
muni_n = cube.total(period, cats, pd.Index(muni_secs["section_id"]))
all_n = cube.total(period, cats)
now = figures.counts_by_category(cube, period, ids)
before = figures.counts_by_category(cube, period.previous(), ids)
year = figures.counts_by_category(cube, period.year_earlier(), ids)
present = [c for c in cats if any(c in t.columns for t in (now, before, year))]
inc_first, inc_last = cube.span()
# the days of each period the data covers: the lengths the exact test compares
lengths = {
    "days": period.covered_days(inc_first, inc_last) if inc_first is not None else period.days,
    "previous_days": period.previous().covered_days(inc_first, inc_last) if inc_first is not None else period.days,
    "year_days": period.year_earlier().covered_days(inc_first, inc_last)
    if inc_first is not None
    else period.year_earlier().days,
}
heads = {
    c: figures.Headline(
        c,
        int(now.get(c, pd.Series([0])).sum()),
        int(before.get(c, pd.Series([0])).sum()),
        int(year.get(c, pd.Series([0])).sum()) if period.year_earlier().covered_by(inc_first, inc_last) else None,
        period.previous().covered_by(inc_first, inc_last),
        **lengths,
    )
    for c in present
}

k1, k2, k3, k4 = st.columns(4)
k1.metric(_("Incidents in the period"), show(n_now), border=True)
k2.metric(_("Per 1,000 residents"), "–" if small(n_now) else rate(n_now, pop), border=True)
k3.metric(
    _("Municipality, per 1,000 residents"),
    "–" if small(muni_n) else rate(muni_n, figures.area_population(muni_secs)),
    border=True,
)
k4.metric(
    _("Kosovo, per 1,000 residents"),
    "–" if small(all_n) else rate(all_n, figures.area_population(data.sections)),
    border=True,
)
if policy is not None:
    st.caption(
        _(
            "Public version: a count below {n} is shown as “fewer than {n}”, with no rate or change and no bar "
            "in the charts.",
            n=_.number(policy.min_count),
        )
        + " "
        + policy.note(_)
    )

# the 24 whole months up to the end of the period (a public period ends on a month's last day); in the
# public version each category's month is a cell of its own. That is safe: each bar is a cell section × month ×
# single category, one the sidebar offers anyway (a month, a single category and this section, on this page or
# the Overview's map), so the chart publishes no cell of its own; its zeros are the same cells' zeros
trend_start = (pd.Timestamp(period.end).replace(day=1) - pd.DateOffset(months=23)).date()
trend_cats = policy.categories(cats) if policy is not None else cats
trend = figures.monthly_counts(cube, figures.Period(trend_start, period.end), trend_cats, ids)
st.markdown(f"**{_('Incidents per month by category')}**")
st.caption(_("The 24 months up to the end of the chosen period."))
if trend.empty or trend.to_numpy().sum() == 0:
    st.info(_("No incidents of these categories were recorded in this section in these 24 months."))
else:
    chart = trend if policy is None else trend.astype("float64").mask(trend.map(policy.is_small))
    chart = chart.rename(columns=lambda c: _.term("incident_category", c))
    chart.index = [_.month_short(d) for d in chart.index]
    common.stacked_bars(chart, _("Incidents"))

if present:
    rows = []
    for c, h in heads.items():
        row = {_("Category"): _.term("incident_category", c), _("In the period"): show(h.current)}
        for against, label in (("previous", _("Previous period")), ("year_earlier", _("A year earlier"))):
            other = h.other(against)
            p, flag = h.test(against)
            change = _.label("change_flag", flag)
            if flag != compare.NO_COMPARISON:
                change += " · " + compare.chance_text(p, _)
            row[label] = show(other)
            row[label + " · " + _("change")] = "–" if other is None or small(other) or small(h.current) else change
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(
        _(
            "Each figure is compared with the previous period and a year earlier by its own exact test for counts "
            "(allowing for periods of different length): noteworthy at p < 0.0455, strong at p < 0.0027."
        )
    )

# restricted only: the 12 months up to the end of the period. The public version shows no hours: a section's
# hours split one of its counts into 24 cells whose zeros are exact, so the number of hours that are not 0
# is a lower bound of the count and, with the published totals' upper bounds, gives many counts back exactly
year_start = (pd.Timestamp(period.end) - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date()
st.markdown(f"**{_('Time of day')}**")
if policy is not None:
    st.caption(
        _(
            "The time of day is not shown in the public version: the hours of one section would show how many "
            "incidents there were."
        )
    )
else:
    hours = figures.hour_of_day(cube, figures.Period(year_start, period.end), cats, ids)
    st.caption(
        _(
            "Incidents by hour over the 12 months up to the end of the period. Records that stand for several "
            "incidents or carry no time of day (daily ticket counts dated midnight) are left out."
        )
    )
    if hours.sum() == 0:
        st.info(_("No incidents with a time of day in these 12 months."))
    else:
        st.bar_chart(
            pd.DataFrame({_("Incidents"): hours.astype("float64").to_numpy()}, index=[f"{h:02d}" for h in hours.index]),
            height=220,
            x_label=_("Hour"),
            y_label="",
        )


def recorded(data, fingerprint: str) -> None:
    """The section's concerns and actions, its committees and their meetings, as recorded (redrawn when a
    concern, a status or a meeting is recorded in another session, :mod:`views.live`)."""
    # ---------------------------------------------------------------- concerns

    st.subheader(_("Concerns and actions"))
    mine = concerns.in_area(data.concerns, ids)
    if mine.empty:
        st.info(_("No concerns have been recorded for this section."))
    else:
        recent = concerns.raised_in(mine, year_start, period.end)
        open_now = concerns.open_on(mine, period.end)
        shown = pd.concat([open_now, recent[~recent["concern_id"].isin(open_now["concern_id"])]])
        st.caption(
            _(
                "{open} open at the end of the period; {recent} raised in the 12 months up to it.",
                open=_.number(len(open_now)),  # exact in both versions: public concerns are listed one by one
                recent=_.number(len(recent)),
            )
        )
        if shown.empty:
            st.caption(_("None open and none raised in these 12 months."))
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        _("Raised on"): [_.date(d) for d in shown["raised_on"]],
                        _("Category"): [_.term("concern_category", c) for c in shown["category"]],
                        _("Status"): [
                            _.term("concern_status", c) if pd.notna(c) else "–"
                            for c in shown.get("status", pd.Series(index=shown.index))
                        ],
                        _("Resolved on"): [
                            _.date(d) if pd.notna(d) else "–"
                            for d in shown.get("resolved_on", pd.Series(index=shown.index))
                        ],
                        _("Action taken"): common.record_text(ctx, shown, "action_taken"),
                        _("Description"): common.record_text(ctx, shown, "description", "description_public"),
                    }
                ),
                hide_index=True,
                width="stretch",
            )

    # ---------------------------------------------------------------- committees

    st.subheader(_("Committees and meetings"))
    serving = coverage.serving(data.committees, sid, str(rec["municipality"]))
    if data.committees.empty or not serving.any():
        st.info(_("No committee serves this section."))
    else:
        reg = coverage.register(data.committees[serving], data.meetings, data.concerns, pd.Timestamp(period.end))
        st.dataframe(
            pd.DataFrame(
                {
                    _("Committee"): reg["name"].astype(str).to_numpy(),
                    _("Type"): [_.term("committee_type", t) for t in reg["type"].astype(str)],
                    _("Status"): [_("Lapsed") if x else _("Active and meeting") for x in reg["lapsed"]],
                    _("Meetings in the last 12 months"): [_.number(v) for v in reg["meetings_12m"]],
                    _("Last meeting"): [_.date(d) if pd.notna(d) else _("never") for d in reg["last_meeting"]],
                    _("Mean attendance"): [
                        _.number(v, decimals=1) if pd.notna(v) else "–" for v in reg["mean_attendance"]
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )
        meets = data.meetings
        if len(meets):
            meets = meets[
                meets["committee_id"].isin(set(reg["committee_id"])) & (meets["held_on"] <= pd.Timestamp(period.end))
            ]
        if len(meets):
            meets = meets.sort_values("held_on", ascending=False).head(10)
            names = dict(zip(reg["committee_id"], reg["name"].astype(str), strict=True))
            st.markdown(f"**{_('Latest meetings')}**")
            st.dataframe(
                pd.DataFrame(
                    {
                        _("Date"): [_.date(d) for d in meets["held_on"]],
                        _("Committee"): [names.get(c, c) for c in meets["committee_id"]],
                        _("Attendance"): [_.number(v) if pd.notna(v) else "–" for v in meets["attendance"]],
                        _("Concerns raised"): [_.number(v) if pd.notna(v) else "–" for v in meets["concerns_raised"]],
                    }
                ),
                hide_index=True,
                width="stretch",
            )


live.part(ctx, recorded)

# ---------------------------------------------------------------- trust

st.subheader(_("Trust and satisfaction"))
area = surveys.area_for_section(data.surveys, str(rec["municipality"]), str(rec["region"]))
if area is None:
    st.info(_("No survey covers this section's municipality or region."))
else:
    kind, area_name = area
    where = _.municipality(area_name) if kind == "municipality" else _("Police region {name}", name=_.region(area_name))
    st.caption(
        (
            _("Survey results for {area}, next to incident rates per 1,000 residents per year.", area=where)
            if policy is None
            else _("Survey results for {area}.", area=where)
        )
        + " "
        + (
            _("The municipality was surveyed.")
            if kind == "municipality"
            else _("The municipality was not surveyed: its police region stands for it.")
        )
    )
    res = surveys.with_rates(data.surveys, data.sections, data.incidents, cats, kind, [area_name])
    table = {
        _("Period"): res["period"].astype(str).to_numpy(),
        _("Trust (%)"): [_.number(v, decimals=1) for v in res["trust_pct"]],
        _("Satisfaction (%)"): [_.number(v, decimals=1) for v in res["satisfaction_pct"]],
        _("Respondents"): [_.number(v) if pd.notna(v) else "–" for v in res["respondents"]],
    }
    if policy is None:  # public: survey periods are not calendar periods, and overlapping ones would give counts back
        mine_only = data.sections[data.sections["section_id"] == sid]
        section_rates = [
            surveys.rate_for(mine_only, data.incidents, cats, a, b)[2]
            for a, b in zip(res["period_start"], res["period_end"], strict=True)
        ]
        table[_("Area: incidents per 1,000 a year")] = [
            _.number(v, decimals=1) if pd.notna(v) else "–" for v in res["rate"]
        ]
        table[_("This section: incidents per 1,000 a year")] = [
            _.number(v, decimals=1) if pd.notna(v) else "–" for v in section_rates
        ]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    if policy is None:
        st.caption(
            _(
                "Rates are left out where the data covers less than {days} days of the survey period.",
                days=surveys.MIN_DAYS,
            )
        )

# a recorded concern or meeting changes the map too: the whole page reruns within seconds when they move
live.watch(ctx, "concerns", "meetings", "committees")
