"""Attacks on what the public pages show (not only on the published cube), seeded, with their controls.

Each attack is run where it works (the control: the figures a page used to show) and the page is checked
to show them no more. The attacker knows the method and the perturbation table, not the secret.
"""

from __future__ import annotations

import pandas as pd
import pytest
import streamlit as st
from dashboard_fixtures import public_policy
from streamlit.testing.v1 import AppTest
from test_public_attacks import MONTHS, year_of_incidents
from test_public_views import run

#: The small dataset's first section of the planted cluster (in Prishtinë).
SECTION = "G22"


@pytest.fixture
def public_mode(monkeypatch):
    monkeypatch.setenv("DASHBOARD_PUBLIC", "1")


# ---------------------------------------------------------------- the hours of one section


def bounds(policy, published: int) -> tuple[int, int]:
    """The true counts a visitor knows a published value to come from: 0 is 0; "fewer than N" is 1 … N − 1 + the
    table's bound (a 6 can be published as 4); a number v is v − bound … v + bound."""
    b = policy.table.bound
    if published == 0:
        return 0, 0
    if policy.is_small(published):
        return 1, policy.min_count - 1 + b
    return max(1, published - b), published + b


def propagate(lo: dict, hi: dict, groups: list[tuple[tuple[str, ...], int, int]]) -> None:
    """Interval propagation over sums: each group's categories add up to its own bounds (in place)."""
    changed = True
    while changed:
        changed = False
        for codes, g_lo, g_hi in groups:
            for c in codes:
                others = [o for o in codes if o != c]
                new_hi = min(hi[c], g_hi - sum(lo[o] for o in others))
                new_lo = max(lo[c], g_lo - sum(hi[o] for o in others))
                if (new_lo, new_hi) != (lo[c], hi[c]):
                    lo[c], hi[c], changed = new_lo, new_hi, True


def pinned_cells(pub, policy, truth, periods, use_hours: bool) -> tuple[int, int, int]:
    """(pinned, wrong, cells): how many non-zero section × month × single category cells the attacker pins to
    one value from the published cells of the public view (each single category, each group, "all"), with
    ``use_hours`` also from the cells of one section's hours (a true zero shows as 0, so the number of hours
    that are not 0 is a lower bound of the count); ``wrong`` counts pins that are not the true count (none
    may be: the bounds are sound)."""
    cube = pub.cube
    groups_of = policy.category_groups()
    singles = [v[0] for k, v in groups_of.items() if len(v) == 1 and k == v[0]]
    pinned = wrong = cells = 0
    for period in periods:
        by_cat = cube.counts_by_category(period)
        exact = truth.counts_by_category(period)
        group_counts = {k: cube.incident_counts(period, v) for k, v in groups_of.items() if len(v) > 1}
        for sid in by_cat.index:
            lo, hi = {}, {}
            for c in singles:
                lo[c], hi[c] = bounds(policy, int(by_cat.loc[sid].get(c, 0)))
                if use_hours and hi[c] > 0:
                    hours = cube.hour_of_day(period, (c,), [sid])
                    lo[c] = max(lo[c], int((hours > 0).sum()))
            groups = [(groups_of[k], *bounds(policy, int(n.get(sid, 0)))) for k, n in group_counts.items()]
            propagate(lo, hi, groups)
            for c in singles:
                true = int(exact.loc[sid].get(c, 0)) if sid in exact.index else 0
                if true == 0:
                    continue
                cells += 1
                if lo[c] == hi[c]:
                    pinned += 1
                    wrong += lo[c] != true
    return pinned, wrong, cells


@pytest.fixture(scope="module")
def year():
    from geo.cube import IncidentCube

    data = year_of_incidents()
    policy = public_policy()
    pub = policy.apply(data)
    return policy, pub, IncidentCube.build(pub.incidents)


def test_a_sections_hours_pin_its_counts_and_without_them_almost_none_is_pinned(year):
    policy, pub, truth = year
    with_hours, wrong, cells = pinned_cells(pub, policy, truth, MONTHS[:3], use_hours=True)
    without, wrong_without, _cells = pinned_cells(pub, policy, truth, MONTHS[:3], use_hours=False)
    assert wrong == wrong_without == 0  # the attack is sound: a pinned count is the true count
    # the control: with the hour cells published, many counts are given back exactly (93 of 558 here) …
    assert with_hours >= 0.05 * cells, (with_hours, cells)
    # … and (almost) none from the figures the public pages still show (0 here)
    assert without <= with_hours / 10, (without, with_hours, cells)


def hour_charts(monkeypatch) -> list:
    """The frames of 24 rows the page gives to ``st.bar_chart`` (the hour-of-day chart)."""
    made = []
    real = st.bar_chart

    def spy(frame, *a, **k):
        made.append(frame)
        return real(frame, *a, **k)

    monkeypatch.setattr(st, "bar_chart", spy)
    return made


def test_the_public_section_page_shows_no_hours(public_mode, monkeypatch):
    charts = hour_charts(monkeypatch)
    at = run("views/section.py", SECTION)
    assert not [f for f in charts if len(f) == 24]
    assert any("time of day is not shown in the public version" in c.value for c in at.caption)


def test_the_restricted_section_page_shows_the_hours(monkeypatch):
    charts = hour_charts(monkeypatch)
    at = run("views/section.py", SECTION)
    assert [f for f in charts if len(f) == 24]
    assert not any("time of day is not shown" in c.value for c in at.caption)


# ---------------------------------------------------------------- concerns: exact counts, matching incidents


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_the_public_open_concerns_metric_is_the_number_of_rows_listed(public_mode):
    # public concerns are listed one by one: an adjusted number beside the list would only confuse
    at = run("views/concerns.py")
    listed = frame_with(at, "Age (days)")
    metric = {m.label: m.value for m in at.metric}["Open at the period's end"]
    assert len(listed) > 0 and metric == f"{len(listed):,}"


def concerns_map_tips(monkeypatch) -> list[dict[str, dict[str, str]]]:
    """For each Concerns map drawn: each section's tooltip rows (label → value), by section id."""
    from geo import maps

    calls, maps_made = [], []
    real_tip, real_map = maps.tip_html, maps.section_fill_map

    def tip(title, subtitle, rows):
        calls.append(dict(rows))
        return real_tip(title, subtitle, rows)

    def fill_map(geometry, fills, tips, *a, **k):
        ids = geometry.sections["section_id"].astype(str).tolist()
        maps_made.append(dict(zip(ids, calls[-len(ids) :], strict=True)))
        return real_map(geometry, fills, tips, *a, **k)

    monkeypatch.setattr(maps, "tip_html", tip)
    monkeypatch.setattr(maps, "section_fill_map", fill_map)
    return maps_made


def test_a_sections_matching_incidents_less_its_parts_shown_give_no_small_part_back(public_mode, monkeypatch):
    """The matching incidents of a section are a sum of its published single-category cells (each on the
    Overview's map): shown as a number beside parts shown as numbers, the difference would be the published
    value of the part shown as "fewer than 5"."""
    from geo import concerns, figures

    tips = concerns_map_tips(monkeypatch)
    at = run("views/concerns.py")
    ctx = at.session_state["ctx"]
    policy, cube, period = ctx.policy, ctx.data.cube, ctx.period
    matched = [k for k in concerns.matched_categories() if k not in policy.sensitive_concerns]
    codes = sorted({c for k in matched for c in concerns.CROSSWALK[k] if c not in policy.sensitive})
    shown = tips[-1]
    ids = pd.Index(sorted(shown))
    parts = figures.counts_by_category(cube, period, ids).reindex(index=ids, columns=codes, fill_value=0)
    attacked = singles = 0
    for sid, row in parts.iterrows():
        small = [c for c in codes if policy.is_small(row[c])]
        if not small or (row > 0).sum() < 2:
            continue
        attacked += 1
        # the control: the sum the page used to show, less the parts shown as numbers, is the small parts' own
        # published total (with one small part, its published value)
        assert int(row.sum()) - int(row.drop(small).sum()) == int(row[small].sum())
        singles += len(small) == 1
        assert shown[sid]["Matching incidents"] == "–", (sid, row.to_dict(), shown[sid])
    assert attacked >= 5 and singles >= 1  # enough sections to attack (the small dataset's newest month)
    # sections whose parts are all numbers (or 0) still show the sum
    whole = [sid for sid in ids if not parts.loc[sid].map(policy.is_small).any() and parts.loc[sid].sum() > 0]
    assert whole and all(shown[s]["Matching incidents"] == f"{int(parts.loc[s].sum()):,}" for s in whole)
