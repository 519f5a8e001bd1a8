"""Published figures that are not incident cells: open concerns, and the Overview's headline figures of a
public dataset (:func:`geo.public.open_concerns`, :func:`geo.public.headlines`)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from dashboard_fixtures import public_policy, small_dataset, tiny_dataset

from geo import figures, public

MARCH = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))


@pytest.fixture(scope="module")
def policy():
    return public_policy()


@pytest.fixture(scope="module")
def small(policy):
    return policy.apply(small_dataset())


def test_open_concerns_are_one_published_cell_of_the_open_rows(policy, small):
    con = small.concerns
    for on in (dt.date(2024, 2, 15), dt.date(2024, 3, 31), dt.date(2024, 4, 30)):
        rows = con.loc[figures.open_mask(con, on)]
        n = public.open_concerns(policy, con, on)
        assert n == policy.count_records(rows)  # the cell of exactly the open concerns
        assert abs(n - figures.open_concerns(con, on)) <= policy.table.bound
        assert n > 0
    # the same rows in another order, or reached through another filter, are the same cell
    on = dt.date(2024, 3, 31)
    ids = pd.Index(small.sections["section_id"].astype(str))
    assert public.open_concerns(policy, con.iloc[::-1], on) == public.open_concerns(policy, con, on, ids)


def test_open_concerns_of_some_sections(policy, small):
    con, on = small.concerns, dt.date(2024, 4, 30)
    ids = pd.Index(["G55"])  # twelve road-safety concerns, some open
    true = figures.open_concerns(con, on, ids)
    n = public.open_concerns(policy, con, on, ids)
    assert true > 0 and abs(n - true) <= policy.table.bound
    assert n == policy.count_records(con.loc[figures.open_mask(con, on, ids)])


def test_no_open_concern_is_published_as_zero(policy, small):
    assert public.open_concerns(policy, small.concerns, dt.date(2020, 1, 1)) == 0  # before any was raised
    assert public.open_concerns(policy, small.concerns.iloc[0:0], dt.date(2024, 3, 31)) == 0
    assert public.open_concerns(policy, small.concerns, dt.date(2024, 3, 31), pd.Index(["nowhere"])) == 0


def test_open_concerns_need_public_concerns(policy):
    with pytest.raises(ValueError, match="_key"):  # a restricted table has no keys: its count is not published
        public.open_concerns(policy, tiny_dataset().concerns, dt.date(2024, 3, 31))


def test_public_headlines_are_the_published_cells(policy):
    data = policy.apply(tiny_dataset())
    heads = public.headlines(policy, data, figures.Filters(), MARCH)
    assert list(heads) == list(figures.HEADLINES)
    for key, cats in figures.HEADLINE_CATEGORIES.items():
        assert heads[key].current == data.cube.total(MARCH, cats)
        assert heads[key].previous == data.cube.total(MARCH.previous(), cats)
    h = heads["open_concerns"]
    assert h.current == public.open_concerns(policy, data.concerns, MARCH.end)
    assert h.previous == public.open_concerns(policy, data.concerns, dt.date(2024, 2, 29))
    assert h.year_earlier is None  # the concerns do not reach March 2023
    # committees are a public register: as they are
    assert (
        heads["active_committees"]
        == figures.headlines(data.cube, data.concerns, data.committees, data.sections, figures.Filters(), MARCH)[
            "active_committees"
        ]
    )


def test_public_headlines_of_a_section(policy):
    data = policy.apply(tiny_dataset())
    flt = figures.Filters("Prishtinë", "Prishtinë", "S2")
    heads = public.headlines(policy, data, flt, MARCH)
    assert heads["traffic_ticket"].current == data.cube.total(MARCH, ("traffic_ticket",), pd.Index(["S2"]))
    assert heads["open_concerns"].current == public.open_concerns(policy, data.concerns, MARCH.end, pd.Index(["S2"]))


def test_public_headlines_refuse_a_restricted_dataset(policy):
    with pytest.raises(ValueError, match="public dataset"):
        public.headlines(policy, tiny_dataset(), figures.Filters(), MARCH)
