"""Community concerns: what citizens raise, what is still open, how long resolving takes, and worry vs incidents."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import compare, concerns, figures, maps
from geo.i18n import N_, md_escape
from views import cache, common, live
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
data = ctx.data
flt = ctx.filters
period = ctx.period

BY_LABELS = {"category": N_("Category"), "source": N_("Source"), "status": N_("Status")}
VOCAB = {"category": "concern_category", "source": "concern_source", "status": "concern_status"}
WINDOW_LABELS = {"12": N_("The 12 months up to the end of the period"), "period": N_("The chosen period")}


def term(by: str, code: object) -> str:
    if code is None or (isinstance(code, float) and pd.isna(code)) or str(code) == "":
        return _("not stated")
    return _.term(VOCAB[by], code)


def default(key: str, value, options=None) -> None:
    if key not in st.session_state or (options is not None and st.session_state[key] not in options):
        st.session_state[key] = value


policy = ctx.policy
#: Concerns are counted exactly in both versions: public concerns are records of public meetings, listed one
#: by one on this page (an adjusted number beside the list would hide nothing).
count = len


def show(n) -> str:
    """An incident count as text; in the public version a published value ("fewer than N" below the
    threshold, "–" when missing)."""
    if n is None:
        return "–"
    return policy.show(n, _) if policy is not None else _.number(n)


def share(n, total) -> str:
    """``n`` as a share of ``total`` (concerns)."""
    if not total:
        return "–"
    return _.number(n / total * 100, decimals=1) + " %"


st.title(_("Community concerns"))
st.markdown(f"**{common.area_name(ctx)}** · {_.period(period.start, period.end)}")
if data.sections.empty:
    st.warning(_("No police sections are loaded. Load a sections file on the Data page."))
    st.stop()
ids = pd.Index(common.area_sections(ctx, with_section=True)["section_id"])


def recorded(data, fingerprint: str) -> None:
    """The concerns as recorded: the figures and the three tabs (redrawn when a concern is recorded or changed
    in another session, :mod:`views.live`)."""
    names = data.sections.set_index(data.sections["section_id"])
    if data.concerns.empty:
        st.info(_("No concerns are loaded. Add a concerns file on the Data page to see what citizens raise."))
        st.stop()

    mine = concerns.in_area(data.concerns, ids)
    in_period = concerns.raised_in(mine, period.start, period.end)
    prev = period.previous()
    before = concerns.raised_in(mine, prev.start, prev.end)
    open_now = concerns.open_on(mine, period.end)
    resolved_in = mine
    if len(mine) and "resolved_on" in mine:
        r = pd.to_datetime(mine["resolved_on"])
        resolved_in = mine[period.mask(r).fillna(False).to_numpy(dtype=bool)]
    summary = concerns.resolution_summary(resolved_in)

    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        _("Raised in the period"),
        _.number(count(in_period)),
        help=_("Previous period: {n}.", n=_.number(count(before))),
        border=True,
    )
    m2.metric(
        _("Open at the period's end"),
        _.number(count(open_now)),
        help=_("Raised by the end of the period and not resolved by then."),
        border=True,
    )
    resolved_rows = resolved_in.loc[concerns.resolution_days(resolved_in).index]  # those with a resolution date
    m3.metric(_("Resolved in the period"), _.number(count(resolved_rows)), border=True)
    median = summary["median"].iloc[0]
    m4.metric(
        _("Median days to resolve"),
        _.number(median) if pd.notna(median) else "–",
        help=_("Of the concerns resolved in the period: days from raised to resolved."),
        border=True,
    )
    if policy is not None:
        st.caption(
            _(
                "Public version: concerns are records of public meetings, listed one by one, so their numbers are "
                "exact; an incident count below {n} is shown as “fewer than {n}”.",
                n=_.number(policy.min_count),
            )
            + " "
            + policy.note(_)
        )
    if mine.empty:
        st.info(_("No concerns have been recorded in this area."))
        st.stop()

    # a map cannot go in a tab: Leaflet measures its container while the tab is hidden and draws nothing
    tab_time, tab_open, tab_resolve = st.tabs([_("Over time"), _("Open concerns"), _("Time to resolve")])

    # ---------------------------------------------------------------- over time

    with tab_time:
        default("cn_by", "category", list(BY_LABELS))
        by = st.segmented_control(
            _("Break down by"), list(BY_LABELS), key="cn_by", format_func=lambda b: _(BY_LABELS[b])
        )
        by = by or "category"
        start = (pd.Timestamp(period.end).replace(day=1) - pd.DateOffset(months=23)).date()
        table = concerns.monthly(mine, start, period.end, by)
        st.markdown(f"**{_('Concerns raised per month')}**")
        st.caption(_("The 24 months up to the end of the chosen period."))
        if table.empty or table.to_numpy().sum() == 0:
            st.info(_("No concerns were raised in these 24 months."))
        else:
            chart = table.rename(columns=lambda c: term(by, c))
            chart.index = [_.month_short(d) for d in chart.index]
            common.stacked_bars(chart, _("Concerns"))
        st.markdown(f"**{_('In the chosen period')}**")
        counts = concerns.breakdown(in_period, by)
        total = count(in_period)
        if counts.empty:
            st.info(_("No concerns were raised in this period."))
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        _(BY_LABELS[by]): [term(by, c) for c in counts.index],
                        _("Concerns"): [_.number(v) for v in counts],
                        _("Share"): [share(v, total) for v in counts],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
        where = concerns.breakdown(in_period, "section_id")
        if len(where) and not flt.section:
            st.markdown(f"**{_('Sections with the most concerns in the period')}**")
            names = data.sections.set_index(data.sections["section_id"])
            top = where.head(10)
            st.dataframe(
                pd.DataFrame(
                    {
                        _("Police section"): names.reindex(top.index)["section_name"].astype(str).to_numpy(),
                        _("Municipality"): [_.municipality(m) for m in names.reindex(top.index)["municipality"]],
                        _("Concerns"): [_.number(v) for v in top],
                    }
                ),
                hide_index=True,
                width="stretch",
            )

    # ---------------------------------------------------------------- open concerns

    with tab_open:
        if open_now.empty:
            st.success(_("No concern was open at the end of the period."))
        else:
            ages = open_now["age_days"]
            st.markdown(
                _(
                    "**{n}** concerns open on {date}; median age **{median}** days; **{old}** older than 90 days.",
                    n=_.number(count(open_now)),
                    date=_.date(period.end),
                    median=_.number(ages.median()),
                    old=_.number(count(open_now[(ages > 90).to_numpy(dtype=bool)])),
                )
            )
            sid = open_now["section_id"]
            st.dataframe(
                pd.DataFrame(
                    {
                        _("Raised on"): [_.date(d) for d in open_now["raised_on"]],
                        _("Age (days)"): open_now["age_days"].to_numpy(),
                        _("Category"): [term("category", c) for c in open_now["category"]],
                        _("Status"): [
                            term("status", c) for c in open_now.get("status", pd.Series(index=open_now.index))
                        ],
                        _("Source"): [
                            term("source", c) for c in open_now.get("source", pd.Series(index=open_now.index))
                        ],
                        _("Police section"): names.reindex(sid)["section_name"].astype(str).to_numpy(),
                        _("Action taken"): common.record_text(ctx, open_now, "action_taken"),
                        _("Description"): common.record_text(ctx, open_now, "description", "description_public"),
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    _("Action taken"): st.column_config.TextColumn(width="medium"),
                    _("Description"): st.column_config.TextColumn(width="large"),
                },
            )
            st.caption(
                _(
                    "Status as recorded in the data. Descriptions are shown only where the data marks them public; "
                    "texts are shown as written, never as formatting or links."
                )
            )

    # ---------------------------------------------------------------- time to resolve

    with tab_resolve:
        if summary["resolved"].iloc[0] == 0:
            st.info(_("No concern with a resolution date was resolved in this period."))
        else:
            s = summary.iloc[0]
            st.markdown(
                _(
                    "Of **{n}** concerns resolved in the period: median **{median}** days, mean **{mean}**, "
                    "three in four within **{p75}** days, nine in ten within **{p90}**; **{within}** within 30 days.",
                    n=_.number(count(resolved_rows)),
                    median=_.number(s["median"]),
                    mean=_.number(s["mean"]),
                    p75=_.number(s["p75"]),
                    p90=_.number(s["p90"]),
                    within=_.number(s["within_30"] * 100) + " %",
                )
            )
            per = concerns.resolution_summary(resolved_in, by="category")
            st.dataframe(
                pd.DataFrame(
                    {
                        _("Category"): [term("category", c) for c in per.index],
                        _("Resolved"): [_.number(v) for v in per["resolved"]],
                        _("Median days"): [_.number(v) for v in per["median"]],
                        _("90 % within (days)"): [_.number(v) for v in per["p90"]],
                        _("Within 30 days"): [_.number(v * 100) + " %" for v in per["within_30"]],
                    }
                ),
                hide_index=True,
                width="stretch",
            )
            st.caption(_("Concerns resolved in the chosen period, whenever they were raised."))


live.part(ctx, recorded)
names = data.sections.set_index(data.sections["section_id"])


# ---------------------------------------------------------------- worry vs incidents

st.subheader(_("Worry and incidents"))
st.markdown(
    _(
        "Do citizens worry where incidents happen? For each concern category the area's concerns are shared "
        "out over its sections in proportion to their matching incidents: that is what each section would "
        "raise if worry followed incidents. A section is flagged where the concerns differ from that by more "
        "than chance, allowing for chance in the incidents too (an exact test for counts, with the false "
        "discovery rate across the sections kept below 4.55 %): **worry without incidents** (fear of crime, or "
        "problems not reported to the police) or **incidents without worry** (problems nobody raises)."
    )
)
default("cn_window", "12", list(WINDOW_LABELS))
hidden_concerns = set(policy.sensitive_concerns) if policy else set()
matched = [c for c in concerns.matched_categories() if c not in hidden_concerns]
default("cn_cat", "", ["", *matched])
w1, w2 = st.columns(2)
if policy is None:
    window = w1.radio(_("Window"), list(WINDOW_LABELS), key="cn_window", format_func=lambda w: _(WINDOW_LABELS[w]))
else:  # public figures are of calendar months, quarters and years only: the chosen period is one
    window = "period"
    w1.markdown(f"**{_('Window')}**")
    w1.caption(_(WINDOW_LABELS["period"]))
cat = w2.selectbox(
    _("Concern category"),
    ["", *matched],
    key="cn_cat",
    format_func=lambda c: term("category", c) if c else _("All categories with matching incidents"),
)
if window == "12":
    w_start = (pd.Timestamp(period.end) - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date()
else:
    w_start = period.start
crosswalk = {  # the public version names no sensitive category
    k: tuple(c for c in v if not policy or c not in policy.sensitive)
    for k, v in concerns.CROSSWALK.items()
    if k not in hidden_concerns
}
with st.expander(_("Which incidents match which concerns")):
    st.dataframe(
        pd.DataFrame(
            {
                _("Concern category"): [term("category", k) for k in crosswalk],
                _("Incident categories"): [
                    ", ".join(_.term("incident_category", c) for c in v) if v else _("none") for v in crosswalk.values()
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(_("The crosswalk is kept in one place, geo/concerns.py, where it can be edited."))
region, municipality = flt.region, flt.municipality
chosen = common.section_record(ctx, flt.section) if flt.section else None
if chosen is not None:
    region, municipality = str(chosen["region"]), str(chosen["municipality"])
    st.caption(
        _(
            "Compared across the sections of the chosen section's municipality; {name} is outlined.",
            name=md_escape(chosen["section_name"]),
        )
    )


incidents_key = cache.incidents_key(ctx.source, policy, ctx.fingerprint)
agree = cache.agreement(
    data,
    ctx.fingerprint,
    incidents_key,
    figures.Filters(region, municipality),
    figures.Period(w_start, period.end),
    (cat,) if cat else tuple(matched),
)
area_ids = pd.Index(agree.index)
n_concerns = int(agree["concerns"].sum())
incidents_hidden = pd.Series(False, index=area_ids)  # public: sums that would give a small part back
if policy is None:
    n_incidents = int(agree["incidents"].sum())
else:
    # published: each matching category's incidents are cells of their own. A sum of them is shown only
    # when no part (other than a sole one) shows as "fewer than N": the sum less the parts shown as numbers
    # (each published on the Overview's map) would give the small part back
    compared = [k for k in ((cat,) if cat else matched) if crosswalk.get(k)]
    w_period = figures.Period(w_start, period.end)
    matching = sorted({c for k in compared for c in crosswalk[k]})
    parts = cache.category_counts(data, incidents_key, figures.Filters(region, municipality), w_period)
    parts = parts.reindex(index=area_ids, columns=matching, fill_value=0)
    incidents_hidden = parts.map(policy.is_small).any(axis=1) & (parts > 0).sum(axis=1).gt(1)
    totals = pd.Series([data.cube.total(w_period, (c,), area_ids) for c in matching], dtype="int64")
    hide_total = bool(totals.map(policy.is_small).any() and (totals > 0).sum() > 1)
    n_incidents = None if hide_total else int(totals.sum())


def incidents_text(sid: str, n) -> str:
    """A section's matching incidents (public: "–" where a part shows as "fewer than N")."""
    return "–" if bool(incidents_hidden.get(sid, False)) else show(n)


st.caption(
    _(
        "{period}: {concerns} concerns and {incidents} matching incidents in {n} sections.",
        period=_.period(w_start, period.end) if isinstance(w_start, dt.date) else "",
        concerns=_.number(n_concerns),
        incidents=show(n_incidents),
        n=_.number(len(agree)),
    )
)
if policy is not None:
    st.caption(
        _(
            "Public version: a sum of matching incidents is shown as “–” where one of its categories shows as "
            "“fewer than {n}”: the sum less the other categories would give it back.",
            n=_.number(policy.min_count),
        )
    )
if agree["concerns"].sum() == 0:
    st.info(_("No concerns of these categories were raised in this window: there is nothing to compare."))
else:
    geom = cache.geometry(data, cache.table_key(ctx.source, "sections")).select(region, municipality)
    sec_ids = geom.sections["section_id"]
    rows = agree.reindex(sec_ids)
    fills = [concerns.CLASS_COLOURS.get(k, maps.NO_DATA) for k in rows["class"].fillna(concerns.QUIET)]
    tips = [
        maps.tip_html(
            str(name),
            _.municipality(muni),
            [
                (_("Concerns"), _.number(r["concerns"])),
                (_("Expected if worry followed incidents"), _.number(r["expected"], decimals=1)),
                (_("Matching incidents"), _.number(r["incidents"])),
                ("p", compare.p_text(r["p"], _) or "–"),
                (_("p across the sections (FDR)"), compare.p_text(r["p_fdr"], _) or "–"),
                (_("Result"), _.label("agreement", r["class"])),
            ]
            if policy is None
            else [  # public: the expected number and p would give the section's incident count back
                (_("Concerns"), _.number(r["concerns"])),
                (_("Matching incidents"), incidents_text(sid, r["incidents"])),
                (_("Result"), _.label("agreement", r["class"])),
            ],
        )
        for name, muni, (sid, r) in zip(
            geom.sections["section_name"], geom.sections["municipality"], rows.iterrows(), strict=True
        )
    ]
    present = set(rows["class"])
    legend = maps.category_legend_html(
        _("Worry and incidents"),
        [(concerns.CLASS_COLOURS[k], _.label("agreement", k)) for k in concerns.CLASSES if k in present],
    )
    fmap = maps.section_fill_map(
        geom, fills, tips, legend, _, assets=ctx.assets, basemap=ctx.basemap, selected=flt.section
    )
    st_folium(
        fmap,
        key="concerns_map",
        height=520,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        on_change=lambda: common.select_clicked_section(ctx, "concerns_map"),
    )
    common.profile_link(ctx)
    flagged = agree[agree["class"].isin([concerns.WORRY, concerns.UNSEEN])].copy()
    flagged = flagged.sort_values(["p_fdr", "p"], kind="stable")
    st.markdown(f"**{_('Sections where worry and incidents diverge')}**")
    if flagged.empty:
        st.success(_("In no section do concerns differ from the incidents by more than chance."))
    else:
        public_drop = (
            [_("Expected concerns"), _("Share of concerns"), _("Share of incidents"), _("p across the sections (FDR)")]
            if policy
            else []
        )
        mismatch = pd.DataFrame(  # the section, what diverges and the counts first; the municipality last
            {
                _("Police section"): names.reindex(flagged.index)["section_name"].astype(str).to_numpy(),
                _("Result"): [_.label("agreement", k) for k in flagged["class"]],
                _("Concerns"): [_.number(v) for v in flagged["concerns"]],
                _("Matching incidents"): [
                    incidents_text(s_, v) for s_, v in zip(flagged.index, flagged["incidents"], strict=True)
                ],
                _("Expected concerns"): [_.number(v, decimals=1) for v in flagged["expected"]],
                _("p across the sections (FDR)"): [compare.p_text(v, _) for v in flagged["p_fdr"]],
                _("Share of concerns"): [_.number(v * 100, decimals=1) + " %" for v in flagged["concern_share"]],
                _("Share of incidents"): [_.number(v * 100, decimals=1) + " %" for v in flagged["incident_share"]],
                _("Municipality"): [_.municipality(m) for m in names.reindex(flagged.index)["municipality"]],
            }
        ).drop(columns=public_drop)
        st.dataframe(
            mismatch,
            hide_index=True,
            width="stretch",
            column_config=common.fitted_columns(mismatch),
        )

# a recorded concern or meeting changes the map too: the whole page reruns within seconds when they move
live.watch(ctx, "concerns", "meetings", "committees")
