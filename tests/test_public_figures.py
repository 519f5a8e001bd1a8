"""The Overview's headline figures of a public dataset (:func:`geo.public.headlines`): incident figures are
published cells; open concerns are counted exactly (public concerns are listed one by one)."""

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


def test_public_concerns_carry_no_perturbation_key(small):
    # counted exactly: public concerns are listed one by one, so no key is kept to adjust their number
    assert "_key" not in small.concerns.columns
    assert not hasattr(public.PublicPolicy, "count_records") and not hasattr(public, "open_concerns")


def test_public_headlines_are_the_published_cells(policy):
    data = policy.apply(tiny_dataset())
    heads = public.headlines(policy, data, figures.Filters(), MARCH)
    assert list(heads) == list(figures.HEADLINES)
    for key, cats in figures.HEADLINE_CATEGORIES.items():
        assert heads[key].current == data.cube.total(MARCH, cats)
        assert heads[key].previous == data.cube.total(MARCH.previous(), cats)
    h = heads["open_concerns"]
    assert h.current == figures.open_concerns(data.concerns, MARCH.end) > 0  # exact, of the public concerns
    assert h.previous == figures.open_concerns(data.concerns, dt.date(2024, 2, 29))
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
    assert heads["open_concerns"].current == figures.open_concerns(data.concerns, MARCH.end, pd.Index(["S2"]))


def test_public_headlines_refuse_a_restricted_dataset(policy):
    with pytest.raises(ValueError, match="public dataset"):
        public.headlines(policy, tiny_dataset(), figures.Filters(), MARCH)
