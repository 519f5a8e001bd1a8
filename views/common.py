"""Helpers the pages share (not a page: ``dashboard.py`` lists the pages).

Small pieces of Streamlit that would otherwise be pasted into every page:
the area's name, selecting a section by clicking it on a map, the link to a
section's profile and the note on traffic tickets.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo import figures, public
from geo.i18n import md_escape

PROFILE_PAGE = "views/section.py"


def area_name(ctx) -> str:
    """The chosen area, safe for Markdown: a section's name (escaped), a municipality, a region or all of Kosovo."""
    _ = ctx._
    flt = ctx.filters
    if flt.section:
        sec = ctx.data.sections[ctx.data.sections["section_id"] == flt.section]
        return md_escape(sec["section_name"].iloc[0] if len(sec) else flt.section)
    if flt.municipality:
        return _.municipality(flt.municipality)
    if flt.region:
        return _("Police region {name}", name=_.region(flt.region))
    return _("All of Kosovo")


def section_record(ctx, section_id: str) -> pd.Series | None:
    """The section's row, or ``None`` when no section has that id."""
    rows = ctx.data.sections[ctx.data.sections["section_id"] == str(section_id)]
    return rows.iloc[0] if len(rows) else None


def record_text(ctx, frame: pd.DataFrame, column: str, public_flag: str | None = None) -> list[str]:
    """A text column of records for display ("–" when empty).

    Restricted users see every text. In public mode, a column with a ``public_flag`` column (concerns'
    ``description`` / ``description_public``) shows "(not public)" where the data does not mark it public
    (:meth:`geo.public.PublicPolicy.apply` has already removed those texts from the data).
    """
    if column not in frame:
        return ["–"] * len(frame)
    values = frame[column].astype("string").fillna("")
    if public_flag is not None and ctx.policy is not None:
        allowed = frame[public_flag].astype("boolean").fillna(False) if public_flag in frame else False
        values = values.where(allowed, ctx._("(not public)"))
    return [v if v else "–" for v in values]


def clicked_section_id(map_key: str) -> str | None:
    """The section last clicked on the ``st_folium`` map of ``map_key`` (its feature's id), if any."""
    feature = (st.session_state.get(map_key) or {}).get("last_active_drawing") or {}
    sid = feature.get("id") or (feature.get("properties") or {}).get("section_id")
    return str(sid) if sid else None


def select_clicked_section(ctx, map_key: str) -> None:
    """Callback for ``st_folium(on_change=…)``: a click on a section selects it in the sidebar."""
    sid = clicked_section_id(map_key)
    if not sid:
        return
    rec = section_record(ctx, sid)
    if rec is not None:
        ctx.select_section(str(sid), str(rec["municipality"]), str(rec["region"]))


def profile_link(ctx) -> None:
    """When a section is selected: a link to its profile page."""
    if not ctx.filters.section:
        return
    rec = section_record(ctx, ctx.filters.section)
    if rec is None:
        return
    st.page_link(
        PROFILE_PAGE,
        label=ctx._("Open the profile of {name}", name=md_escape(rec["section_name"])),
        icon=":material/arrow_forward:",
    )


def categories_note(ctx, tickets: int | str | None = None) -> None:
    """Say which incident categories a map or analysis uses, and that tickets are left out by default."""
    _ = ctx._
    flt = ctx.filters
    if flt.categories:
        every = figures.CATEGORY_CODES if ctx.policy is None else ctx.policy.categories(figures.CATEGORY_CODES)
        if set(flt.categories) != set(every):
            st.caption(
                _(
                    "Incident categories: {names}",
                    names=", ".join(_.term("incident_category", c) for c in flt.categories),
                )
            )
        return
    text = _(
        "All incident categories except traffic tickets: tickets record police enforcement rather than events, "
        "and there are many times more of them than of every other incident together. Choose them in the "
        "sidebar's category filter to include them."
    )
    if tickets:  # a number, or the text the public version shows instead of it
        if isinstance(tickets, str):
            shown = tickets
        elif ctx.policy is not None and ctx.policy.is_small(tickets):
            shown = ctx.policy.texts(_)[public.SMALL]
        else:
            shown = _.number(tickets)
        text += " " + _("Traffic tickets in the period: {n}.", n=shown)
    st.caption(text)


def fitted_columns(frame: pd.DataFrame, wide: tuple[str, ...] = (), narrow: tuple[str, ...] = ()) -> dict:
    """``column_config`` for ``st.dataframe`` that keeps a table's first columns on a 1280 px screen.

    A table's cells do not wrap, so each column is as wide as what it holds (about 7 px a character,
    its header counted up to 18 characters): ``wide`` ones (explanations) 400 px, ``narrow`` ones as
    wide as their values only. Put the key columns first: the rest may need a sideways scroll.
    """
    config = {}
    for name in frame.columns:
        values = frame[name].astype(str)
        longest = int(values.str.len().max()) if len(values) else 0
        chars = longest if name in narrow else max(longest, min(len(str(name)), 18))
        width = 400 if name in wide else min(320, 7 * chars + 26)
        config[name] = st.column_config.Column(width=width)
    return config


def area_sections(ctx, with_section: bool = False):
    """The sections of the chosen region/municipality (and only the chosen section when ``with_section``)."""
    flt = ctx.filters
    return figures.select_sections(
        ctx.data.sections, figures.Filters(flt.region, flt.municipality, flt.section if with_section else "")
    )


def stacked_bars(table: pd.DataFrame, y_title: str, height: int = 300) -> None:
    """Monthly counts (rows: labelled months in order; columns: translated categories) as stacked bars.

    The legend wraps in columns under the chart, so long category names in any language stay readable.
    """
    import altair as alt

    months = list(table.index)
    long = table.reset_index(names="month").melt("month", var_name="category", value_name="n")
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("month:N", sort=months, title=None, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("sum(n):Q", title=y_title),
            color=alt.Color(
                "category:N",
                sort=list(table.columns),
                title=None,
                scale=alt.Scale(scheme="tableau20"),  # up to 20 distinct colours: every category its own
                legend=alt.Legend(orient="bottom", columns=3, labelLimit=300, symbolType="square"),
            ),
            order=alt.Order("category:N"),
            tooltip=[
                alt.Tooltip("month:N", title=""),
                alt.Tooltip("category:N", title=""),
                alt.Tooltip("n:Q", title=y_title),
            ],
        )
        .properties(height=height)
    )
    st.altair_chart(chart, width="stretch")


def lines(table: pd.DataFrame, y_title: str, x_title: str, height: int = 280) -> None:
    """One line per column (translated area names) over the index (periods), the legend wrapped under it.

    Colours follow the sorted column names, so two charts of the same areas use the same colours.
    """
    import altair as alt

    order = list(table.index)
    long = table.reset_index(names="x").melt("x", var_name="series", value_name="y").dropna()
    chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("x:N", sort=order, title=x_title, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("y:Q", title=y_title),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(domain=sorted(table.columns), scheme="tableau10"),
                title=None,
                legend=alt.Legend(orient="bottom", columns=4, labelLimit=240),
            ),
            tooltip=[
                alt.Tooltip("series:N", title=""),
                alt.Tooltip("x:N", title=""),
                alt.Tooltip("y:Q", title="", format=".1f"),
            ],
        )
        .properties(height=height)
    )
    st.altair_chart(chart, width="stretch")
