"""Trust and satisfaction: survey results by police region or municipality, next to incident rates."""

from __future__ import annotations

import streamlit as st

from geo import surveys
from geo.i18n import N_
from views import common
from views.context import Context

ctx: Context = st.session_state["ctx"]
_ = ctx._
data = ctx.data
flt = ctx.filters
period = ctx.period

LEVEL_LABELS = {"region": N_("Police regions"), "municipality": N_("Municipalities")}


st.title(_("Trust and satisfaction"))
st.markdown(f"**{common.area_name(ctx)}**")
st.caption(
    _(
        "Survey results on public trust in the police and satisfaction with its work, next to the incident rate "
        "of the same area in the same period (incidents per 1,000 residents per year; the chosen incident "
        "categories). A survey shows opinion, not cause: read the two side by side, not one as the reason "
        "for the other."
    )
    if ctx.policy is None
    else _(  # the public version shows no incident figures here (see below): promise none
        "Survey results on public trust in the police and satisfaction with its work, by area and survey "
        "period. A survey shows opinion, not cause."
    )
)
if data.surveys.empty:
    st.info(_("No survey results are loaded. Add a surveys file on the Data page."))
    st.stop()
if ctx.policy is None:  # the categories only matter for the incident rates
    common.categories_note(ctx)

sections = common.area_sections(ctx)
munis = set(sections["municipality"].dropna())
regions = set(sections["region"].dropna())
levels = surveys.surveyed_levels(data.surveys)
if "tr_level" not in st.session_state or st.session_state["tr_level"] not in levels:
    st.session_state["tr_level"] = surveys.first_level(data.surveys, levels, flt.municipality)
level = (
    st.segmented_control(_("Survey results by"), levels, key="tr_level", format_func=lambda k: _(LEVEL_LABELS[k]))
    or levels[0]
)
names = sorted(munis if level == "municipality" else regions)
res = surveys.with_rates(data.surveys, data.sections, data.incidents, ctx.filters.incident_categories, level, names)
if res.empty:
    st.info(
        _(
            "None of the {level} in this area was surveyed. Choose the other level or a larger area.",
            level=_(LEVEL_LABELS[level]).lower(),
        )
    )
    st.stop()

res = surveys.shown_results(res, _)
c1, c2 = st.columns(2)
with c1:
    st.markdown(f"**{_('Trust in the police (%)')}**")
    trust = res.pivot_table(index="period", columns="area", values="trust_pct", aggfunc="mean")
    common.lines(trust, "%", _("Period"))
with c2:
    if ctx.policy is not None:  # nested areas and periods: one figure minus another would give a count back
        st.info(
            _(
                "Public version: incident figures are not shown next to survey results, because areas and "
                "survey periods overlap and one figure minus another could give a small count back."
            )
        )
    else:
        st.markdown(f"**{_('Incidents per 1,000 residents a year')}**")
        rates = res.pivot_table(index="period", columns="area", values="rate", aggfunc="mean")
        if rates.notna().to_numpy().any():
            common.lines(rates, "", _("Period"))
        else:
            st.info(_("The incident data does not cover these survey periods."))

st.dataframe(surveys.results_table(res, _, public=ctx.policy is not None), hide_index=True, width="stretch")
st.caption(
    _(
        "Rates are annualised over the days of the survey period that the incident data covers, and left out "
        "below {days} days. With few respondents a change of a few points can be chance.",
        days=surveys.MIN_DAYS,
    )
    if ctx.policy is None
    else _("With few respondents a change of a few points can be chance.")
)
