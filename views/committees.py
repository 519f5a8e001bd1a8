"""Committees: coverage by municipality, lapsed committees, busy sections without a committee, the register."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import committee_tables, concerns, coverage, figures, maps
from geo.i18n import N_, md_escape
from views import cache, common, live
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
data = ctx.data
flt = ctx.filters
period = ctx.period
as_of = pd.Timestamp(period.end)

MEASURE_LABELS = {
    "share_population_covered": N_("Share of residents covered by an active LCPS"),
    "share_sections_covered": N_("Share of sections covered by an active LCPS"),
    "mcps_meetings_3m": N_("MCPS meetings in the last 3 months"),
    "mcps_meetings_6m": N_("MCPS meetings in the last 6 months"),
    "mcps_meetings_12m": N_("MCPS meetings in the last 12 months"),
    "acps": N_("Number of ACPS"),
}
STATUS_LABELS = {"all": N_("All"), "active": N_("Active and meeting"), "lapsed": N_("Lapsed")}


def default(key: str, value, options=None) -> None:
    if key not in st.session_state or (options is not None and st.session_state[key] not in options):
        st.session_state[key] = value


def on_map_click() -> None:
    """A click on a municipality selects it (and its region) in the sidebar."""
    state = st.session_state.get("committees_map") or {}
    feature = state.get("last_active_drawing") or {}
    name = feature.get("id")
    rows = data.sections[data.sections["municipality"] == name] if name else data.sections.iloc[0:0]
    if len(rows):
        st.session_state["region"] = str(rows["region"].iloc[0])
        st.session_state["municipality"] = str(name)
        st.session_state["section"] = ""


st.title(_("Committees"))
st.markdown(f"**{common.area_name(ctx)}** · " + _("Public-safety committees on {date}", date=_.date(period.end)))
st.caption(
    _(
        "LCPS: local committees for public safety, one or more sections each; MCPS: the municipal committee; "
        "ACPS: action teams. A section is covered when an active LCPS lists it. A committee has lapsed when it "
        "is inactive, or has not met for 6 months although set up before then."
    )
)
if data.sections.empty:
    st.warning(_("No police sections are loaded. Load a sections file on the Data page."))
    st.stop()
if data.committees.empty:
    st.info(_("No committees are loaded. Add a committees file on the Data page."))
    st.stop()

sections = common.area_sections(ctx)
munis = sorted(set(sections["municipality"].dropna()))
rec = common.section_record(ctx, flt.section) if flt.section else None


def recorded(data) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The area's coverage by municipality and its committee register, from the committees and meetings as
    recorded (``data``: the page's, or newer in a part that redraws itself, :mod:`views.live`)."""
    cover = coverage.by_municipality(data.sections, data.committees, data.meetings, as_of).reindex(munis)
    register = coverage.register(data.committees, data.meetings, data.concerns, as_of)
    register = committee_tables.area_register(
        register, data.committees, munis, flt.section, str(rec["municipality"]) if rec is not None else ""
    )
    return cover, register


# ---------------------------------------------------------------- figures


def headline(data, fingerprint: str) -> None:
    cover, register = recorded(data)
    n_all, n_active, n_lapsed = committee_tables.register_counts(register)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(_("Committees"), _.number(n_all), border=True)
    c2.metric(_("Active and meeting"), _.number(n_active), border=True)
    c3.metric(_("Lapsed"), _.number(n_lapsed), border=True)
    c4.metric(
        _("Residents covered"),
        committee_tables.residents_covered(cover, _),
        help=_("Share of the residents who live in a section that an active LCPS lists."),
        border=True,
    )


live.part(ctx, headline)
cover = recorded(data)[0]  # the map: redrawn with the page

# ---------------------------------------------------------------- the map

st.subheader(_("Coverage by municipality"))
default("cm_measure", "share_population_covered", list(MEASURE_LABELS))
measure = st.selectbox(
    _("Colour the municipalities by"),
    list(MEASURE_LABELS),
    key="cm_measure",
    format_func=lambda m: _(MEASURE_LABELS[m]),
)
geom = cache.geometry(data, cache.table_key(ctx.source, "sections")).select(flt.region, flt.municipality)
mgeo = geom.municipalities
values = cover.reindex(mgeo["municipality"])[measure].astype(float)
is_share = measure.startswith("share")
classes = maps.sequential_classes(values * 100 if is_share else values)
fills = classes.color(values * 100 if is_share else values)


def label(x: float) -> str:
    return _.number(x) + (" %" if is_share else "")


legend = maps.legend_html(_(MEASURE_LABELS[measure]), classes, label, _, show_no_data=bool(values.isna().any()))
fmap = maps.municipality_map(
    mgeo,
    fills,
    [committee_tables.municipality_tip(n, cover, sections, _) for n in mgeo["municipality"]],
    legend,
    _,
    assets=ctx.assets,
    basemap=ctx.basemap,
    regions=geom.regions,
    selected=flt.municipality,
)
st_folium(
    fmap,
    key="committees_map",
    height=520,
    use_container_width=True,
    returned_objects=["last_active_drawing"],
    on_change=on_map_click,
)
st.caption(_("Click a municipality to select it."))

# ---------------------------------------------------------------- flags


def activity(data, fingerprint: str) -> None:
    """What needs attention and the register, from the committees, meetings and concerns as recorded."""
    cover, register = recorded(data)
    st.subheader(_("Needs attention"))
    all_lapsed = committee_tables.all_lapsed(cover)
    none = committee_tables.without_committee(cover)
    f1, f2 = st.columns(2)
    with f1:
        st.markdown(f"**{_('Municipalities whose committees have all lapsed')}**")
        if all_lapsed.empty:
            st.caption(_("None."))
        else:
            st.dataframe(committee_tables.all_lapsed_table(all_lapsed, _), hide_index=True, width="stretch")
        if len(none):
            st.markdown(f"**{_('Municipalities without any committee')}**")
            st.caption(", ".join(_.municipality(m) for m in none.index))

    with f2:
        policy = ctx.policy
        ids = pd.Index(sections["section_id"])
        if policy is None:
            inc = figures.incident_counts(data.cube, period, flt.incident_categories, ids)
        else:  # the sections' published counts, as the Overview's map shows them
            # the page's key: a part redraws itself only while the sections and incidents are the page's
            published = cache.public_measures(data, ctx.fingerprint, policy, period, flt.incident_categories)
            inc = published["count"].reindex(ids)
        con = concerns.breakdown(  # exact in both versions: public concerns are listed one by one
            concerns.raised_in(concerns.in_area(data.concerns, ids), committee_tables.year_start(as_of), period.end),
            "section_id",
        )
        for title, values_, what in (
            (_("Busiest sections without an active LCPS: incidents in the period"), inc, _("Incidents")),
            (_("Sections with the most concerns without an active LCPS: last 12 months"), con, _("Concerns")),
        ):
            st.markdown(f"**{title}**")
            found = committee_tables.busy_uncovered(
                values_, sections, data.committees, policy if what == _("Incidents") else None
            )
            if found.empty:
                st.caption(_("None: the busiest tenth of the sections all have a committee."))
                continue
            st.dataframe(committee_tables.busy_table(found, data.sections, what, _), hide_index=True, width="stretch")
        st.caption(_("The busiest tenth of the area's sections, by the figure named, that no active LCPS lists."))
        if policy is not None:
            st.caption(policy.note(_))

    lapsed = register[register["lapsed"]]
    st.markdown(f"**{_('Lapsed committees')}**")
    if lapsed.empty:
        st.caption(_("None."))
    else:
        st.dataframe(committee_tables.lapsed_table(lapsed, _), hide_index=True, width="stretch")

    # ---------------------------------------------------------------- register

    st.subheader(_("Committee register"))
    if flt.section and (rec := common.section_record(ctx, flt.section)) is not None:
        st.caption(_("Committees that serve {name}.", name=md_escape(rec["section_name"])))
    if register.empty:
        where = common.area_name(ctx)
        st.info(_("No committees are registered in {area}.", area=where))
        st.stop()
    default("cm_status", "all", list(STATUS_LABELS))
    default("cm_types", [])
    default("cm_search", "")
    r1, r2, r3 = st.columns(3)
    types = r1.multiselect(
        _("Type"),
        ["LCPS", "MCPS", "ACPS"],
        key="cm_types",
        format_func=lambda t: _.term("committee_type", t),
        placeholder=_("All types"),
        select_all=False,  # Streamlit's own "Select all" is English only (an empty choice means all)
    )
    status = r2.segmented_control(
        _("Status"), list(STATUS_LABELS), key="cm_status", format_func=lambda s: _(STATUS_LABELS[s])
    )
    query = r3.text_input(_("Name contains"), key="cm_search")
    shown = committee_tables.filter_register(register, types, status, query)
    if shown.empty:
        st.info(_("No committee matches these filters."))
    else:
        register_table = committee_tables.register_table(shown, _)
        st.dataframe(
            register_table,
            hide_index=True,
            width="stretch",
            column_config=common.fitted_columns(register_table),
        )
        st.caption(
            _(
                "Meetings up to {date}. Concerns raised: the number the meetings' minutes record.",
                date=_.date(period.end),
            )
            if ctx.policy is None
            else _(  # the minutes' number may include concerns of sensitive categories (geo.public.public_meetings)
                "Meetings up to {date}. Concerns raised: the public concerns recorded for the meetings.",
                date=_.date(period.end),
            )
        )


live.part(ctx, activity)

# a recorded concern or meeting changes the map too: the whole page reruns within seconds when they move
live.watch(ctx, "concerns", "meetings", "committees")
