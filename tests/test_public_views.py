"""The Section, Concerns, Committees and Hotspots pages in public mode: every figure a published value.

Public figures come from the public dataset (:meth:`geo.public.PublicPolicy.apply`): incident counts are
cells of its published cube (true count plus a bounded adjustment fixed by the records' keys); concern
counts are exact (public concerns are listed one by one). Each test
compares what a page shows with those values, and checks that the values differ from the true counts
somewhere, so that a page showing true counts would fail. The cube refuses free periods
(:class:`geo.public.PublicQueryError`): a page that asked one would raise, so every run must be clean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from dashboard_fixtures import CLUSTER, SmallSource, ok, public_policy, small_dataset, texts
from streamlit.testing.v1 import AppTest

from geo import figures, hotspots, maps, public

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
MY_PAGES = ("views/section.py", "views/concerns.py", "views/committees.py", "views/hotspots.py")
#: Sections of the small dataset: the cluster's first, in Prishtinë.
SECTION = CLUSTER[0]


@pytest.fixture
def public_mode(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")


@pytest.fixture(scope="module")
def both():
    """The small dataset and its public copy (with the suite's secret, as the app makes it)."""
    policy = public_policy()
    restricted = small_dataset()
    return policy, restricted, policy.apply(restricted)


def run(page: str, section: str = "", **state) -> AppTest:
    """The app straight on ``page`` (public when the environment says so); ``section`` (with its
    municipality) and ``state`` are set after the first run, which resets the sidebar for the new data."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["source"] = SmallSource()
    at.session_state["lang"] = "en"
    at.switch_page(page)
    at.run()
    ok(at)
    if section or state:
        if section:
            sections = small_dataset().sections.set_index("section_id")
            at.session_state["region"] = str(sections.loc[section, "region"])
            at.session_state["municipality"] = str(sections.loc[section, "municipality"])
            at.session_state["section"] = section
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        ok(at)
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


# ---------------------------------------------------------------- every page runs, for Kosovo and a section


@pytest.mark.parametrize("section", ["", SECTION], ids=["kosovo", "section"])
@pytest.mark.parametrize("page", MY_PAGES)
def test_public_pages_run_without_error_for_kosovo_and_a_section(public_mode, page, section):
    at = run(page, section)
    ctx = at.session_state["ctx"]
    assert ctx.policy is not None and isinstance(ctx.data.cube, public.PublishedCube)
    assert public.period_kind(ctx.period), ctx.period  # the app's period is one the cube answers
    if page != "views/section.py" or section:  # the profile without a section only offers the choice
        shown = texts(at)
        assert ctx.policy.note(ctx._) in shown or page == "views/concerns.py" and section == "", page


@pytest.mark.parametrize("page", MY_PAGES)
def test_public_pages_run_for_a_quarter_and_a_category_group(public_mode, both, page):
    """A calendar quarter (the previous one is the quarter before; the trend and the hours are of whole
    months) and the crimes group, set the way either sidebar keeps them (dates, or the public choice)."""
    policy, _restricted, _data = both
    q1 = figures.months_period(pd.Timestamp("2024-01-01").date(), 3)
    at = run(
        page,
        SECTION,
        period_start=q1.start,
        period_end=q1.end,
        public_period="2024-Q1",
        categories=list(policy.category_groups()["crimes"]),
        public_categories="crimes",
    )
    ctx = at.session_state["ctx"]
    assert ctx.period == q1 and public.period_kind(ctx.period) == "quarter"
    assert set(ctx.filters.incident_categories) == set(policy.category_groups()["crimes"])


def test_the_public_pages_would_raise_for_a_free_period(both):
    """The control for the runs above: the public cube refuses what a page must never ask."""
    policy, _restricted, data = both
    free = figures.Period(pd.Timestamp("2024-03-15").date(), pd.Timestamp("2024-04-14").date())
    with pytest.raises(public.PublicQueryError, match="calendar month, quarter or year"):
        data.cube.total(free, figures.DEFAULT_CATEGORIES)
    with pytest.raises(public.PublicQueryError, match="whole months"):
        data.cube.monthly_counts(free, ("theft",))
    with pytest.raises(public.PublicQueryError, match="categories"):
        data.cube.total(figures.months_period(pd.Timestamp("2024-04-01").date(), 1), ("theft", "assault"))


# ---------------------------------------------------------------- the section profile


def published_and_true(both, period, cats, ids=None) -> tuple[int, int]:
    policy, restricted, data = both
    return data.cube.total(period, cats, ids), restricted.cube.total(period, cats, ids)


def a_section_whose_count_is_adjusted(both, period, cats) -> str:
    """A section of Prishtinë whose published count is shown as a number and differs from the true one."""
    policy, restricted, data = both
    ids = data.sections.loc[data.sections["municipality"] == "Prishtinë", "section_id"].astype(str)
    for sid in ids:
        shown, true = published_and_true(both, period, cats, pd.Index([sid]))
        if shown != true and not policy.is_small(shown):
            return sid
    raise AssertionError("no adjusted count in the fixture: the tests below would mean nothing")


def test_public_section_profile_shows_the_published_counts(public_mode, both):
    policy, restricted, data = both
    first = run("views/section.py")
    ctx = first.session_state["ctx"]
    period, cats = ctx.period, ctx.filters.incident_categories
    sid = a_section_whose_count_is_adjusted(both, period, cats)
    at = run("views/section.py", sid)
    ids = pd.Index([sid])
    shown = metrics(at)
    own, true = published_and_true(both, period, cats, ids)
    assert own != true  # the control: the true count would fail the next line
    assert shown["Incidents in the period"] == f"{own:,}"
    pop = float(data.sections.set_index("section_id").loc[sid, "population"])
    assert shown["Per 1,000 residents"] == f"{own / pop * 1000:,.2f}"
    muni = data.sections.loc[data.sections["municipality"] == "Prishtinë"]
    muni_n = data.cube.total(period, cats, pd.Index(muni["section_id"].astype(str)))
    all_n = data.cube.total(period, cats)  # the cube's own total, not a sum of the sections shown
    assert shown["Municipality, per 1,000 residents"] == f"{muni_n / muni['population'].sum() * 1000:,.2f}"
    assert shown["Kosovo, per 1,000 residents"] == f"{all_n / data.sections['population'].sum() * 1000:,.2f}"
    # the categories' table: each cell the published (section, category) count of its period
    table = frame_with(at, "In the period").set_index("Category")
    now = data.cube.counts_by_category(period, ids).iloc[0]
    before = data.cube.counts_by_category(period.previous(), ids).iloc[0]
    assert {ctx._.term("incident_category", c) for c in now.index if c in cats} <= set(table.index)
    for code in [c for c in cats if ctx._.term("incident_category", c) in table.index]:
        row = table.loc[ctx._.term("incident_category", code)]
        assert row["In the period"] == policy.show(int(now.get(code, 0)), ctx._), code
        assert row["Previous period"] == policy.show(int(before.get(code, 0)), ctx._), code
        if policy.is_small(now.get(code, 0)) or policy.is_small(before.get(code, 0)):
            assert row["Previous period · change"] == "–", code  # no change from a "fewer than 5"
        else:
            assert row["Previous period · change"] != "–", code


def test_public_section_profile_shows_fewer_than_n_and_no_rate(public_mode, both):
    policy, restricted, data = both
    ctx = run("views/section.py").session_state["ctx"]
    counts = data.cube.incident_counts(ctx.period, ctx.filters.incident_categories)
    small = [s for s, n in counts.items() if policy.is_small(n)]
    assert small, "the fixture must have a small published count"
    at = run("views/section.py", small[0])
    shown = metrics(at)
    assert shown["Incidents in the period"] == "fewer than 5" and shown["Per 1,000 residents"] == "–"
    assert "Public version: a count below 5 is shown as “fewer than 5”" in texts(at)


def test_the_section_page_shows_the_same_count_as_the_overview_map(public_mode, both, monkeypatch):
    """The Section page and the Overview's map for the same period and categories: the same cell, the same
    published value (also for a section whose value differs from its true count)."""
    policy, restricted, data = both
    drawn = []
    real = maps.choropleth

    def spy(*args, **kwargs):
        m = real(*args, **kwargs)
        drawn.append(m)
        return m

    monkeypatch.setattr(maps, "choropleth", spy)
    overview = run("views/overview.py")
    ctx = overview.session_state["ctx"]
    sid = a_section_whose_count_is_adjusted(both, ctx.period, ctx.filters.incident_categories)
    layer = next(c for c in drawn[-1]._children.values() if getattr(c, "layer_name", "") == "sections")
    on_map = {f["id"]: f["properties"]["t2"] for f in layer.data["features"]}
    at = run("views/section.py", sid)
    assert at.session_state["ctx"].period == ctx.period
    assert metrics(at)["Incidents in the period"] == on_map[sid]
    _own, true = published_and_true(both, ctx.period, ctx.filters.incident_categories, pd.Index([sid]))
    assert on_map[sid] != f"{true:,}"


@pytest.mark.parametrize("group", ["crimes", "theft"])
def test_public_section_profile_with_a_category_group(public_mode, both, group):
    """The sidebar's public category choice is one group (its codes in the filters): the page asks the cube
    for that group and for each of its categories, which the cube answers."""
    policy, restricted, data = both
    codes = policy.category_groups()[group]
    at = run("views/section.py", SECTION, categories=list(codes), public_categories=group)
    ctx = at.session_state["ctx"]
    assert set(ctx.filters.incident_categories) == set(codes)
    n = data.cube.total(ctx.period, ctx.filters.incident_categories, pd.Index([SECTION]))
    assert metrics(at)["Incidents in the period"] == policy.show(n, ctx._)
    table = frame_with(at, "In the period")
    assert set(table["Category"]) <= {ctx._.term("incident_category", c) for c in codes}


def test_public_section_charts_are_published_values_without_small_ones(public_mode, both, monkeypatch):
    from views import common

    policy, restricted, data = both
    bars = []
    real_bars = common.stacked_bars
    monkeypatch.setattr(common, "stacked_bars", lambda table, *a, **k: (bars.append(table), real_bars(table, *a, **k)))
    at = run("views/section.py", SECTION)
    ctx = at.session_state["ctx"]
    period, cats = ctx.period, ctx.filters.incident_categories
    assert bars, "the public profile draws the monthly chart"
    # months: the 24 whole months up to the period's end, each (category, month) a published cell
    start = (pd.Timestamp(period.end).replace(day=1) - pd.DateOffset(months=23)).date()
    monthly = figures.monthly_counts(
        data.cube, figures.Period(start, period.end), policy.categories(cats), pd.Index([SECTION])
    )
    chart = bars[-1]
    assert chart.shape == monthly.shape
    expected = monthly.astype(float).mask(monthly.map(policy.is_small)).to_numpy()
    assert np.array_equal(chart.to_numpy(dtype=float), expected, equal_nan=True)
    assert np.isnan(expected).any() and (expected >= 5).any()  # small cells are left out, others drawn
    true = restricted.cube.monthly_counts(figures.Period(start, period.end), policy.categories(cats), [SECTION])
    assert (monthly.reindex_like(true).fillna(0) != true).any().any()  # the control: the true counts would not match
    # no hours in public (tests/test_public_attacks_pages.py)


def test_restricted_section_charts_show_the_true_counts(both, monkeypatch):
    _policy, restricted, _data = both
    hours = []
    real = st.bar_chart
    monkeypatch.setattr(st, "bar_chart", lambda frame, *a, **k: (hours.append(frame), real(frame, *a, **k)))
    at = run("views/section.py", SECTION)
    ctx = at.session_state["ctx"]
    year_start = (pd.Timestamp(ctx.period.end) - pd.DateOffset(years=1) + pd.Timedelta(days=1)).date()
    true = restricted.cube.hour_of_day(
        figures.Period(year_start, ctx.period.end), ctx.filters.incident_categories, [SECTION]
    )
    assert np.array_equal(hours[-1].iloc[:, 0].to_numpy(dtype=float), true.to_numpy(dtype=float))
    assert (
        metrics(at)["Incidents in the period"]
        == f"{restricted.cube.total(ctx.period, ctx.filters.incident_categories, [SECTION]):,}"
    )


# ---------------------------------------------------------------- concerns


def test_public_concern_counts_are_exact(public_mode, both):
    policy, restricted, data = both
    at = run("views/concerns.py")
    ctx = at.session_state["ctx"]
    from geo import concerns

    in_period = concerns.raised_in(concerns.in_area(data.concerns), ctx.period.start, ctx.period.end)
    open_now = concerns.open_on(concerns.in_area(data.concerns), ctx.period.end)
    shown = metrics(at)
    assert shown["Raised in the period"] == ctx._.number(len(in_period))
    assert shown["Open at the period's end"] == ctx._.number(len(open_now))
    assert len(in_period) and len(open_now)
    # the breakdown: each category's exact number, shares of the period's number
    table = frame_with(at, "Share").set_index("Category")
    for code, rows in in_period.groupby(in_period["category"].astype(str)):
        row = table.loc[ctx._.term("concern_category", code)]
        assert row["Concerns"] == ctx._.number(len(rows)), code
        assert row["Share"] == f"{len(rows) / len(in_period) * 100:.1f} %", code


def test_public_worry_and_incidents_uses_the_chosen_period_and_published_counts(public_mode, both):
    policy, restricted, data = both
    at = run("views/concerns.py", cn_window="12")  # a window the public version does not offer
    ctx = at.session_state["ctx"]
    assert "Window" not in [r.label for r in at.radio]
    shown = texts(at)
    period = ctx.period
    ids = pd.Index(data.sections["section_id"].astype(str))
    from geo import concerns

    matched = [k for k in concerns.matched_categories() if k not in policy.sensitive_concerns]
    rows = concerns.raised_in(concerns.in_area(data.concerns, ids), period.start, period.end)
    rows = rows[rows["category"].astype(str).isin(matched).to_numpy()]
    codes = sorted({c for k in matched for c in concerns.CROSSWALK[k] if c not in policy.sensitive})
    parts = [data.cube.total(period, (c,), ids) for c in codes]
    incidents = sum(parts)
    hidden = any(policy.is_small(n) for n in parts) and sum(n > 0 for n in parts) > 1
    line = ctx._(
        "{period}: {concerns} concerns and {incidents} matching incidents in {n} sections.",
        period=ctx._.period(period.start, period.end),
        concerns=ctx._.number(len(rows)),
        incidents="–" if hidden else policy.show(incidents, ctx._),
        n=ctx._.number(len(ids)),
    )
    assert line in shown
    true = sum(restricted.cube.total(period, (c,), ids) for c in codes)
    assert hidden or incidents != true


def test_public_concerns_name_no_sensitive_concern_category(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")
    monkeypatch.setenv("DASHBOARD_PUBLIC_SENSITIVE", "domestic_violence,sexual_offence,drugs")
    at = run("views/concerns.py")
    everything = texts(at) + "".join(df.value.to_csv() for df in at.dataframe)
    assert "Drugs" not in everything and "drugs" not in everything
    assert "Road safety" in everything  # the control: other categories are named


# ---------------------------------------------------------------- committees


def test_public_busiest_uncovered_sections_show_published_counts(public_mode, both):
    policy, restricted, data = both
    at = run("views/committees.py")
    ctx = at.session_state["ctx"]
    table = frame_with(at, "Incidents")
    counts = data.cube.incident_counts(ctx.period, ctx.filters.incident_categories)
    names = data.sections.set_index("section_name")["section_id"].astype(str)
    assert len(table)
    for name, value in zip(table["Police section"], table["Incidents"], strict=True):
        n = int(counts[names[name]])
        assert value == f"{n:,}" and not policy.is_small(n), name
    assert policy.note(ctx._) in texts(at)


# ---------------------------------------------------------------- hot spots


def test_public_hot_spots_are_made_of_published_counts(both):
    """Gi* in public: the published counts; a section whose count shows as "fewer than N" enters as 0 and is
    "not significant" with no z, even where its true count amid a cluster would make it hot."""
    from views import cache

    policy = public_policy()
    restricted = small_dataset()
    sid = CLUSTER[0]
    inc = restricted.incidents
    mine = inc.index[(inc["section_id"] == sid) & (inc["category"] != "traffic_ticket")]
    restricted.incidents = inc.drop(mine[3:]).reset_index(drop=True)  # three left: a small count amid a cluster
    data = policy.apply(restricted)
    period = figures.Period(pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-03-31").date())  # a quarter
    args = (figures.Filters(categories=figures.DEFAULT_CATEGORIES), period, "count", "queen", None, 0)
    plain = cache.section_hotspots(restricted, "hs-restricted", *args)
    assert plain.loc[sid, "label"] != hotspots.NOT_SIGNIFICANT  # the control: its neighbours make it hot
    result = cache.section_hotspots(data, "hs-public", *args, policy)
    published = data.cube.incident_counts(period, figures.DEFAULT_CATEGORIES).reindex(result.index, fill_value=0)
    assert policy.is_small(published[sid])
    assert result.loc[sid, "label"] == hotspots.NOT_SIGNIFICANT and pd.isna(result.loc[sid, "z"])
    small = published.map(policy.is_small)
    assert (result["count"] == published.where(~small, 0)).all()  # the statistic's input: published values
    true = restricted.cube.incident_counts(period, figures.DEFAULT_CATEGORIES).reindex(result.index, fill_value=0)
    assert (result.loc[~small, "count"] != true[~small]).any()  # the control: not the true counts
    expected = hotspots.section_hotspots(data.sections, published.where(~small, 0), "count", "queen", None, 0, seed=0)
    shown = ~small.to_numpy()
    assert np.allclose(result.loc[shown, "z"], expected.loc[shown, "z"])


def test_public_hot_spots_refuse_a_restricted_dataset(both):
    from views import cache

    policy, restricted, _data = both
    period = figures.months_period(pd.Timestamp("2024-03-01").date(), 1)
    with pytest.raises(ValueError, match="public dataset"):
        cache.section_hotspots(restricted, "hs-wrong", figures.Filters(), period, "count", "queen", None, 0, policy)


def test_public_hotspots_page_tooltips_show_published_counts(public_mode, both, monkeypatch):
    policy, restricted, data = both
    made = []
    real = maps.section_fill_map

    def spy(geom, fills, tips, *args, **kwargs):
        made.append((geom, tips))
        return real(geom, fills, tips, *args, **kwargs)

    monkeypatch.setattr(maps, "section_fill_map", spy)
    at = run("views/hotspots.py")
    ctx = at.session_state["ctx"]
    geom, tips = made[-1]
    counts = data.cube.incident_counts(ctx.period, ctx.filters.incident_categories)
    checked = 0
    for sid, tip in zip(geom.sections["section_id"].astype(str), tips, strict=True):
        n = int(counts.get(sid, 0))
        assert f'<td>Incidents</td><td class="cp-num">{policy.show(n, ctx._)}</td>' in tip, (sid, tip)
        assert "Gi* z" not in tip
        checked += 1
    assert checked == len(data.sections)
    assert "Gi* z" not in "".join(str(list(df.value.columns)) for df in at.dataframe)
