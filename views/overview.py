"""Overview: headline figures and the map of sections for the chosen area and period."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo import figures, maps, overview_tables
from geo.i18n import N_, md_escape
from views import cache, common, live
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
policy = ctx.policy
#: what the public version shows instead of a small count, by kind
texts = policy.texts(_) if policy is not None else {}
data = ctx.data
flt = ctx.filters
period = ctx.period
prev = period.previous()

MEASURE_LABELS = {
    "rate": N_("Incidents per 1,000 residents"),
    "count": N_("Number of incidents"),
    "change": N_("Change vs previous period"),
    "change_year": N_("Change vs a year earlier"),
}
HEADLINE_LABELS = {
    "accident_fatal": N_("With fatalities"),
    "accident_injury": N_("With injuries"),
    "accident_damage": N_("Damage only"),
    "traffic_ticket": N_("Traffic tickets"),
    "crimes": N_("Crimes"),
    "open_concerns": N_("Open concerns"),
    "active_committees": N_("Active committees"),
}
HEADLINE_HELP = {
    "accident_fatal": N_("Traffic accidents with fatalities in the period."),
    "accident_injury": N_("Traffic accidents with injuries in the period."),
    "accident_damage": N_("Traffic accidents with material damage only in the period."),
    "traffic_ticket": N_("Traffic tickets issued in the period (the sum of the records' counts)."),
    "crimes": N_(
        "Thefts, burglaries, robberies, assaults, domestic violence, sexual offences, drugs, public order "
        "and other offences in the period."
    ),
    "open_concerns": N_("Citizens' concerns not resolved at the end of the period."),
    "active_committees": N_("Public-safety committees (LCPS, MCPS, ACPS) active at the end of the period."),
}
#: In the public version the sensitive categories are in no figure, so the help must not name them.
PUBLIC_HELP = {"crimes": N_("Crimes in the period, without the categories withheld from the public version.")}
#: Added to every headline's help: each figure is its own test.
TEST_HELP = N_(
    "Each figure is compared with the previous period and a year earlier by its own exact test for counts "
    "(allowing for periods of different length): noteworthy at p < 0.0455, strong at p < 0.0027."
)


def area_name() -> str:
    return common.area_name(ctx)


def on_map_click() -> None:
    """A click on a section selects it (and its municipality and region) in the sidebar."""
    common.select_clicked_section(ctx, "overview_map")


presenting = ctx.presentation
when = _(
    "{period}, compared with {previous}",
    period=_.calendar_period(period.start, period.end),
    previous=_.calendar_period(prev.start, prev.end),
)
as_of = data.data_as_of
as_of_text = _("Data as of {date}", date=_.date(as_of)) if as_of is not None else _("The data has no dated records.")
if presenting:  # one line: the page, the area and the period; the map right under it
    st.markdown(f"**{_('Overview')}** · **{area_name()}** · {when}")
else:
    st.title(_("Overview"))
    st.markdown(f"**{area_name()}** · {when} · :gray[{as_of_text}]")
if policy is not None:  # once on the page: every figure on it is published
    st.caption(policy.note(_))

if data.sections.empty:
    st.warning(_("No police sections are loaded. Load a sections file on the Data page."))
    st.stop()

# ---------------------------------------------------------------- headline figures

# public version: the published figures (a total is a cell of its own, never a sum of shown figures)
heads = cache.headlines(data, ctx.fingerprint, flt, period)
hidden = {key: overview_tables.small_figures(h, policy, _) for key, h in heads.items()}
area_ids = figures.select_sections(data.sections, figures.Filters(flt.region, flt.municipality))["section_id"]
if policy is None:
    area = figures.Filters(flt.region, flt.municipality, "", flt.incident_categories)
    measures = cache.section_measures(data, ctx.fingerprint, area, period)
    national = cache.section_measures(data, ctx.fingerprint, figures.Filters(categories=area.categories), period)
else:  # published counts of all sections, the same whatever the area chosen
    national = cache.public_measures(data, ctx.fingerprint, policy, period, flt.incident_categories)
    measures = national.loc[area_ids.tolist()]
# smoothed rates with the prior of all of Kosovo (a section's figure does not depend on the area shown); a
# count shown as "fewer than N" (public version) takes its smoothed rate with it
measures = measures.assign(rate_smoothed=figures.smoothed_rates(measures, national))
national = national.assign(rate_smoothed=figures.smoothed_rates(national))


def headline_metric(key: str, compact: bool) -> None:
    """One headline figure with its change on the previous period; with the comparison lines unless
    ``compact`` (the presentation layout's column beside the map)."""
    h = heads[key]
    delta, delta_color = overview_tables.headline_delta(h, hidden[key], _)
    st.metric(
        _(HEADLINE_LABELS[key]),
        hidden[key].get("current") or _.number(h.current),
        delta=delta,
        delta_color=delta_color,
        help=_((PUBLIC_HELP if policy else {}).get(key, HEADLINE_HELP[key])) + " " + _(TEST_HELP),
    )
    if not compact:
        st.caption(
            overview_tables.comparison_line(h, "previous", hidden[key], _)
            + "  \n"
            + overview_tables.comparison_line(h, "year_earlier", hidden[key], _)
        )


def headline_cards() -> None:
    """The headline figures: traffic accidents in a row of three under their own heading, the rest in a row
    of four, each with its comparisons."""
    st.caption(
        _(
            "Changes are flagged only when they are larger than chance would explain (an exact test for counts: "
            "noteworthy at p < 0.0455, strong at p < 0.0027); smaller ones are grey, however large in per cent."
        )
    )
    rows = [list(heads)[:3], list(heads)[3:]]
    for i, keys in enumerate(rows):
        if i == 0:
            st.markdown(f"**{_('Traffic accidents')}**")
        for col, key in zip(st.columns(len(keys)), keys, strict=True):
            with col.container(border=True):
                headline_metric(key, compact=False)


def section_card() -> None:
    """The selected section's facts."""
    if not flt.section:
        return
    sec = data.sections[data.sections["section_id"] == flt.section]
    if len(sec):
        rec = sec.iloc[0]
        with st.container(border=True):
            st.markdown(f"#### {_('Police section')}: {md_escape(rec['section_name'])}")
            for line in overview_tables.section_facts(rec, _):
                st.text(line)


# ---------------------------------------------------------------- map first, then the figures

if st.session_state.get("measure") not in MEASURE_LABELS:
    st.session_state["measure"] = "rate"


def measure_choice(compact: bool = False) -> str:
    """What colours the map: buttons, or a select box in the narrow column beside the presented map."""
    widget = st.selectbox if compact else st.segmented_control
    choice = widget(
        _("Colour the sections by"),
        list(MEASURE_LABELS),
        key="measure",
        format_func=lambda m: _(MEASURE_LABELS[m]),
    )
    return choice or "rate"


def map_options() -> tuple[bool, bool]:
    """Smoothed rates (rate map) and national or stretched colour classes (rate and count maps)."""
    st.session_state.setdefault("map_smoothed", True)
    st.session_state.setdefault("map_stretch", False)
    smoothed, stretch = False, False
    t1, t2 = st.columns(2)
    if measure == "rate":
        smoothed = t1.toggle(
            _("Smoothed rates"),
            key="map_smoothed",
            help=_(
                "Empirical-Bayes smoothing: each section's rate is pulled towards the rate of all of Kosovo, the "
                "more the fewer its residents, so that a few incidents in a small section do not make it look "
                "like the worst. The raw rate is shown beside it."
            ),
        )
    if measure in ("rate", "count") and (flt.region or flt.municipality):
        stretch = t2.toggle(
            _("Stretch the colours to this area"),
            key="map_stretch",
            help=_(
                "Off: the colour classes are those of all of Kosovo for this period, so a colour means the same "
                "in every area. On: classes from this area's sections only, to tell them apart."
            ),
        )
    return smoothed, stretch


def map_notes() -> None:
    """What the map shows: categories, when a change is coloured, what the public version shows of small counts."""
    common.categories_note(ctx, hidden["traffic_ticket"].get("current") or heads["traffic_ticket"].current)
    if measure in ("change", "change_year"):
        st.caption(
            _(
                "Sections are coloured only where the change is larger than chance would explain, with the false "
                "discovery rate across the sections compared kept below 4.55 % (strong: 0.27 %; "
                "Benjamini–Hochberg): the chosen area's sections, or all of Kosovo's in the public version. Other "
                "changes are grey; sections with nothing in either period have no comparison."
            )
        )
    if policy is not None:
        st.caption(
            _(
                "Public version: a count below {n} is shown as “fewer than {n}” and is not coloured, nor is a "
                "rate or change made from it.",
                n=_.number(policy.min_count),
            )
            + " "
            + _("Rates, changes and their tests are made from the adjusted figures.")
        )


if presenting:  # the map large on the left, the measure and the headline figures beside it
    map_col, side = st.columns([2.2, 1], gap="medium")
    with side:
        measure = measure_choice(compact=True)
        smoothed, stretch = map_options()
        accidents, others = st.columns(2)
        accidents.caption(_("Traffic accidents"))
        for key in heads:
            with accidents if key.startswith("accident_") else others:
                headline_metric(key, compact=True)
        st.caption(as_of_text)
    map_place = map_col.container()
else:
    st.subheader(_("Incidents by police section"))
    measure = measure_choice()
    smoothed, stretch = map_options()
    map_place = st.container()
coloured_by = "rate_smoothed" if smoothed else measure

geom = cache.geometry(data, cache.table_key(ctx.source, "sections")).select(flt.region, flt.municipality)
withheld = texts if policy is not None else None  # small counts: no colour, no figure to work them out from
title = (_("Incidents per 1,000 residents, smoothed") if smoothed else _(MEASURE_LABELS[measure])) + " · "
title += _.calendar_period(period.start, period.end)
classes = None
if measure in ("rate", "count") and not stretch:  # the national classes of this period
    classes = maps.sequential_classes(national[coloured_by])
fmap = maps.choropleth(
    geom,
    measures,
    coloured_by,
    _,
    assets=ctx.assets,
    basemap=ctx.basemap,
    title=title,
    selected=flt.section,
    withheld=withheld,
    classes=classes,
)

with map_place:
    st_folium(
        fmap,
        key="overview_map",
        height=540 if presenting else 520,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        on_change=on_map_click,
        render=False,  # st_folium renders the map once more itself: one render is enough
    )
st.caption(
    _("Click a section to select it.")
    if policy is not None  # the public Data page shows no records outside the sections
    else _("Click a section to select it. Records outside every section are listed on the Data page.")
)
common.profile_link(ctx)
section_card()
map_notes()
if not presenting:
    headline_cards()

with st.container():
    st.markdown(f"**{overview_tables.table_title(measure, _)}**")
    table = overview_tables.ranked_sections(measures, data.sections, measure, smoothed, ctx.min_population, _)
    shown = overview_tables.ranking_table(table, measure, smoothed, withheld, ctx.min_population, _)
    st.dataframe(shown, hide_index=True, width="stretch", column_config=common.fitted_columns(shown))
    if measure == "rate":
        st.caption(
            _(
                "Sections with fewer than {n} residents are not ranked: a few incidents give them a high rate "
                "by chance. Those that would be among the highest are listed after the others and marked.",
                n=_.number(ctx.min_population),
            )
            + (
                " "
                + _(
                    "Ranked by the smoothed rate (empirical Bayes, with the rate of all of Kosovo as the prior); "
                    "the raw rate beside it."
                )
                if smoothed
                else ""
            )
        )

# a recorded concern or meeting changes the map too: the whole page reruns within seconds when they move
live.watch(ctx, "concerns", "meetings", "committees")
