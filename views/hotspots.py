"""Hotspots: a density surface, Gi* hot and cold spots with a permutation check, and whether the map predicts."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import figures, hotspot_tables, hotspots, maps
from geo.i18n import N_, md_escape
from views import cache, common
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
data = ctx.data
flt = ctx.filters
period = ctx.period

UNIT_LABELS = {"sections": N_("Police sections"), "grid": N_("Square grid cells")}
MEASURE_LABELS = {"count": N_("Number of incidents"), "rate": N_("Incidents per 1,000 residents")}
KIND_LABELS = {"queen": N_("Sections that touch (queen contiguity)"), "distance": N_("Distance band")}
HOW_LABELS = {
    "mean": N_("Mean density over the section"),
    "sum": N_("Density summed over the section (expected incidents)"),
}


def default(key: str, value, options=None) -> None:
    """Give a page widget its default value once (and again when the stored one is no longer an option)."""
    if key not in st.session_state or (options is not None and st.session_state[key] not in options):
        st.session_state[key] = value


presenting = ctx.presentation
st.title(_("Hotspots"))
st.markdown(f"**{common.area_name(ctx)}** · {_.period(period.start, period.end)}")
if ctx.policy is None and not presenting:  # the public version says what it shows below
    st.caption(
        _(
            "Where incidents concentrate, and whether the concentration is more than chance: a smoothed density "
            "surface, Getis-Ord Gi* hot and cold spots with a false-discovery correction, and a test of how well "
            "each map would have predicted the next period."
        )
    )
if data.sections.empty:
    st.warning(_("No police sections are loaded. Load a sections file on the Data page."))
    st.stop()

# the area analysed: the chosen region or municipality; a chosen section is analysed within its municipality
chosen = common.section_record(ctx, flt.section) if flt.section else None
region, municipality = hotspot_tables.analysed_area(flt.region, flt.municipality, chosen)
if chosen is not None:
    st.caption(
        _(
            "The analysis covers the municipality of the chosen section, {name}; the section is outlined.",
            name=md_escape(chosen["section_name"]),
        )
    )
cats = flt.incident_categories
policy = ctx.policy
heads = cache.headlines(data, ctx.fingerprint, figures.Filters(region, municipality), period)
area = figures.Filters(region, municipality, "", cats)  # the area analysed, with the categories
# presenting: the settings and their notes folded away, so that the map is on the first screen
settings = st.expander(_("Map settings"), expanded=False) if presenting else st.container()
with settings:
    common.categories_note(ctx, heads["traffic_ticket"].current)

# ---------------------------------------------------------------- settings

default("hs_units", "sections", list(UNIT_LABELS))
default("hs_measure", "count", list(MEASURE_LABELS))
default("hs_kind", "queen", list(KIND_LABELS))
default("hs_band", 8000)
default("hs_cell", 1000)
default("hs_bw", 1000)
default("hs_density", True)
default("hs_gi", True)
with settings:
    if policy is not None:
        st.session_state["hs_units"] = "sections"
        st.session_state["hs_density"] = False
        st.caption(
            _(
                "Public version: hot and cold spots of whole sections, from the published counts. No density "
                "surface and no grid: they would show where single incidents happened. A section whose count "
                "shows as “fewer than {n}” enters the statistic as 0 and is not labelled a hot or cold spot.",
                n=_.number(policy.min_count),
            )
            + " "
            + policy.note(_)
        )
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        units = "sections"
        if policy is None:
            units = st.radio(_("Units"), list(UNIT_LABELS), key="hs_units", format_func=lambda u: _(UNIT_LABELS[u]))
        if units == "grid":
            cell_m = st.number_input(_("Cell size (m)"), min_value=250, max_value=20000, step=250, key="hs_cell")
    with c2:
        measure = st.radio(
            _("Value"), list(MEASURE_LABELS), key="hs_measure", format_func=lambda m: _(MEASURE_LABELS[m])
        )
    with c3:
        kind = st.radio(_("Neighbours"), list(KIND_LABELS), key="hs_kind", format_func=lambda k: _(KIND_LABELS[k]))
        band = None
        if kind == "distance":
            band = float(
                st.number_input(
                    _("Distance band between centres (m)"), min_value=250, max_value=50000, step=250, key="hs_band"
                )
            )
    with c4:
        bandwidth, show_density = 0, False
        if policy is None:
            bandwidth = st.number_input(
                _("Density bandwidth (m)"),
                min_value=100,
                max_value=10000,
                step=100,
                key="hs_bw",
                help=_("The standard deviation of the Gaussian kernel: larger values give a smoother surface."),
            )
            show_density = st.checkbox(_("Density surface"), key="hs_density")
        show_gi = st.checkbox(_("Gi* hot and cold spots"), key="hs_gi")

geom = cache.geometry(data, cache.table_key(ctx.source, "sections")).select(region, municipality)
n_units = len(geom.sections)
names = data.sections.set_index(data.sections["section_id"])

# ---------------------------------------------------------------- computations


def analyse(permutations: int):
    """Gi* on the chosen units (cached); with ``permutations`` > 0 also the permutation check."""
    if units == "sections":
        return None, cache.section_hotspots(
            data, ctx.fingerprint, area, period, measure, kind, band, permutations, policy
        )
    return cache.grid_hotspots(data, ctx.fingerprint, area, period, float(cell_m), measure, kind, band, permutations)


result = None
cells = None
error = ""
try:
    with st.spinner(_("Computing hot spots…")):
        cells, result = analyse(0)
except ValueError as exc:
    error = hotspot_tables.analysis_error(exc, _)

# The permutation check, with enough permutations for a single unit to reach 99 % after the false-discovery
# correction (geo.hotspots.permutations_for); when it runs: geo.hotspot_tables.check_runs (then cached).
permutations = hotspots.permutations_for(len(result)) if result is not None else 0
check_key = (units, measure, kind, band, units == "grid" and cell_m, region, municipality, cats, period)
check_too_big, check_now = hotspot_tables.check_runs(
    units, kind, result, requested=st.session_state.get("hs_check_for") == check_key
)
if check_now and int(result["count"].sum()) > 0:
    with st.spinner(_("Running the permutation check ({n} permutations)…", n=_.number(permutations))):
        cells, result = analyse(permutations)

overlay, n_points, n_unlocated = None, 0, 0
if show_density:
    overlay, n_points, n_unlocated = cache.density_overlay(data, ctx.fingerprint, area, period, float(bandwidth))

total = int(result["count"].sum()) if result is not None else 0
if error:
    st.warning(error)
elif total == 0 and n_points == 0:
    st.info(
        _(
            "No incidents of these categories in this area and period: there is nothing to map. "
            "Choose a longer period, another area or other categories."
        )
    )

# ---------------------------------------------------------------- the map


# public version: the sections whose published count shows as "fewer than N", as on every page
# (geo.analysis.public_measures)
kinds = (
    cache.public_measures(data, ctx.fingerprint, policy, period, cats)["count_withheld"]
    if policy is not None
    else pd.Series(dtype=object)
)
texts = hotspot_tables.UnitTexts(_, policy, kinds)
legend_parts = []
if overlay is not None:
    legend_parts.append(
        maps.gradient_legend_html(
            _("Incidents per km² (density)"),
            overlay,
            _.number,
            _("Bandwidth {m} m", m=_.number(bandwidth)),
        )
    )
if show_gi and result is not None:
    entries = hotspot_tables.legend_entries(result["label"], overlay is not None, _)
    legend_parts.append(
        maps.category_legend_html(_("Gi* (false-discovery corrected)"), entries, outlined=overlay is not None)
    )
legend = '<div style="height:6px"></div>'.join(legend_parts) or maps.category_legend_html(_("Police sections"), [])

by_section = result if (result is not None and units == "sections") else None
fills, tips = hotspot_tables.section_layers(geom.sections, by_section, show_gi, overlay is not None, measure, texts)
cell_frame, cell_fills, cell_tips = None, None, None
if cells is not None and result is not None and show_gi:
    cell_frame, cell_fills, cell_tips = hotspot_tables.cell_layers(cells, result, texts)

col_map, col_check = st.columns([1.6, 1])  # the check's table fits its column at 1280 px
with col_map:
    fmap = maps.section_fill_map(
        geom,
        fills,
        tips,
        legend,
        _,
        assets=ctx.assets,
        basemap=ctx.basemap,
        selected=flt.section,
        overlay=overlay,
        overlay_alt=_("Density surface"),
        cells=cell_frame,
        cell_fills=cell_fills,
        cell_tips=cell_tips,
        fill_opacity=0.75,
        outlined=overlay is not None,
    )
    st_folium(
        fmap,
        key="hotspots_map",
        height=640,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        on_change=lambda: common.select_clicked_section(ctx, "hotspots_map"),
    )
    notes = [_("Click a section to select it.")]
    if show_density and n_unlocated:
        notes.append(
            _(
                "{n} incidents have no coordinates (located only by their section) and are not on the density "
                "surface or the grid.",
                n=_.number(n_unlocated),
            )
        )
    st.caption(" ".join(notes))
    common.profile_link(ctx)

with col_check:
    st.markdown(f"**{_('Permutation check')}**")
    if result is not None and "label_sim" in result:
        st.dataframe(
            hotspot_tables.check_table(result, _),
            hide_index=True,
            width="stretch",
            column_config={
                _("Result"): st.column_config.TextColumn(width=140),
                _("Normal"): st.column_config.NumberColumn(width=70),
                _("Permutations"): st.column_config.NumberColumn(width=90),
            },
        )
        both, hot = hotspot_tables.hot_in_both(result)
        n = len(result)
        st.caption(
            _(
                "{perm} permutations, seed 0. Hot spots in both: {both} of {hot}.",
                perm=_.number(permutations),
                both=_.number(both),
                hot=_.number(hot),
            )
        )
        st.caption(
            _(
                "The check shuffles the other units' values around each unit instead of assuming normal "
                "counts. Its smallest p-value is 1/(permutations + 1) = {pmin}; {perm} permutations are chosen "
                "so that after the false-discovery correction across {n} units even a single unit can reach "
                "99 % (p ≤ 0.01/{n} = {needed}). A hot spot in both is robust; one that only Gi* finds "
                "rests on the normal approximation.",
                pmin=hotspot_tables.small_p(hotspots.smallest_permutation_p(permutations), _),
                n=_.number(n),
                needed=hotspot_tables.small_p(0.01 / max(n, 1), _),
                perm=_.number(permutations),
            )
        )
    elif check_too_big:
        st.caption(
            _(
                "The permutation check is offered up to {max} grid cells; this area has {n}. To let a single "
                "cell reach 99 % after the false-discovery correction it needs more than 100 permutations per "
                "cell ({perm} here), which would take too long. Choose larger cells or a smaller area.",
                max=_.number(hotspots.MAX_CHECK_CELLS),
                n=_.number(len(result)),
                perm=_.number(permutations),
            )
        )
    elif result is not None and int(result["count"].sum()) > 0 and not error:
        st.caption(
            _(
                "The check needs {perm} permutations (enough for a single unit to reach 99 % after the "
                "false-discovery correction across {n} units); with these settings that can take a while.",
                perm=_.number(permutations),
                n=_.number(len(result)),
            )
        )
        st.button(
            _("Run the permutation check"),
            key="permutation_check_button",  # not "hs_…": page keys are kept across pages, buttons cannot be
            on_click=lambda: st.session_state.update(hs_check_for=check_key),
        )
    elif not error:
        st.caption(_("No result to check."))

# ---------------------------------------------------------------- the hot spots as a list

if result is not None and not error and total > 0:
    sig = hotspot_tables.significant(result)
    st.subheader(_("Hot and cold spots"))
    if sig.empty:
        st.info(
            _(
                "No unit is a hot or cold spot at 90 % after the false-discovery correction: the incidents "
                "of this period are not more clustered than chance would make them."
            )
        )
    else:
        table = hotspot_tables.spots_table(sig, names, units, measure, texts)
        st.dataframe(table.head(50), hide_index=True, width="stretch")
    if kind == "distance" and (result["neighbours"] == 0).any():
        st.caption(
            _(
                "{n} units have no neighbour within {m} m: each is compared only with itself.",
                n=_.number(int((result["neighbours"] == 0).sum())),
                m=_.number(band),
            )
        )

# ---------------------------------------------------------------- does it predict?

if policy is not None:  # the prediction check scores a density surface of incident locations: restricted
    st.stop()

st.subheader(_("Does the hotspot map predict?"))
st.caption(
    _(
        "Each map is made from a training window and flags its top sections until they cover the chosen share "
        "of the area; the test window that follows shows how many incidents they caught. Hit rate: share of "
        "the test window's incidents in the flagged sections. PAI (predictive accuracy index): hit rate ÷ share "
        "of the area flagged; 1 is no better than chance."
    )
)
months = hotspot_tables.data_months(data.incidents)
if len(months) < 2:
    st.info(_("The test needs at least two whole months of incidents; this data has fewer."))
    st.stop()
default("hs_train", hotspot_tables.default_training(months))
if not (isinstance(st.session_state["hs_train"], tuple) and set(st.session_state["hs_train"]) <= set(months)):
    st.session_state["hs_train"] = hotspot_tables.default_training(months)
default("hs_test", 1, [1, 3, 6, 12])
default("hs_share", 5)
default("hs_how", "mean", list(HOW_LABELS))
p1, p2, p3 = st.columns([2, 1, 1])
with p1:
    train_from, train_to = st.select_slider(
        _("Training window (months)"), options=months, key="hs_train", format_func=lambda d: _.month(d)
    )
with p2:
    test_months = st.selectbox(
        _("Test window: months after the training window"),
        [1, 3, 6, 12],
        key="hs_test",
        format_func=lambda n: _.number(n),
    )
with p3:
    share = st.slider(_("Share of the area flagged (%)"), min_value=1, max_value=30, key="hs_share")
how = st.radio(
    _("Score the density surface per section by"),
    list(HOW_LABELS),
    key="hs_how",
    format_func=lambda h: _(HOW_LABELS[h]),
    horizontal=True,
)
train, test = hotspot_tables.windows(train_from, train_to, test_months)
st.caption(
    _(
        "Training: {train}. Test: {test}.",
        train=_.period(train.start, train.end),
        test=_.period(test.start, test.end),
    )
)
if test.end > figures.months_period(months[-1], 1).end:
    st.warning(_("The test window runs past the end of the data: choose an earlier training window."))
    st.stop()

outcome = cache.prediction(
    data,
    ctx.fingerprint,
    area,
    train,
    test,
    share / 100.0,
    float(bandwidth),
    kind,
    band,
    how,
)
if outcome.attrs.get("train_total", 0) == 0 or outcome.attrs.get("test_total", 0) == 0:
    st.info(_("There are no incidents of these categories in the training or the test window in this area."))
    st.stop()
shown = hotspot_tables.prediction_table(outcome, _)
st.dataframe(shown, hide_index=True, width="stretch")
st.caption(
    _(
        "{train} incidents in the training window, {test} in the test window. Gi* flags only hot spots, so it "
        "may cover less than the chosen share. Last period's counts rank sections by incidents per km².",
        train=_.number(outcome.attrs["train_total"]),
        test=_.number(outcome.attrs["test_total"]),
    )
)
predictor_names = [_.label("predictor", p) for p in outcome.index]
chart = pd.DataFrame({"PAI": outcome["pai"].fillna(0).to_numpy()}, index=predictor_names)
c_chart, _c_rest = st.columns([1, 1])
c_chart.bar_chart(chart, horizontal=True, height=170, y_label="", x_label="PAI", sort=False)
