"""The dashboard's public caches keep the deployment's own public-safe rules.

The caches once took the policy's ``min_count`` alone and rebuilt a policy from it, with the default
sensitive categories. Today they take the :class:`~geo.public.PublicPolicy` itself: a deployment that
withholds a category of its own (here theft, which is not sensitive by default) sees it left out of every
cached public figure: the measures, the hot spots and the headline figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest
from dashboard_fixtures import public_policy, small_dataset

from geo import figures, public
from geo.source import WholeSource
from views import cache

OWN = ("domestic_violence", "sexual_offence", "theft")
QUARTER = figures.Period(dt.date(2024, 1, 1), dt.date(2024, 3, 31))
#: Every category asked for: the public view answers for those its policy does not withhold.
ASKED = figures.CATEGORY_CODES


class Source(WholeSource):
    """A data source of :func:`small_dataset` (``without_theft``: its thefts removed beforehand)."""

    def __init__(self, without_theft: bool = False):
        self.without_theft = without_theft

    def fingerprint(self) -> str:
        return f"public-cache-small-{self.without_theft}"

    def load(self):
        data = small_dataset()
        if self.without_theft:
            inc = data.incidents
            data = replace(data, incidents=inc[inc["category"] != "theft"].reset_index(drop=True))
        return data


def figures_of(source, policy):
    """Every cached public figure of ``source`` under ``policy``, as the pages ask for them."""
    data, key = cache.current(source, policy)
    every = figures.Filters(categories=ASKED)
    return data, {
        "measures": cache.public_measures(data, key, policy, QUARTER, ASKED),
        "hotspots": cache.section_hotspots(data, key, every, QUARTER, "count", "queen", None, 0, policy),
        "headlines": cache.headlines(data, key, figures.Filters(), QUARTER),
    }


@pytest.fixture(scope="module")
def own():
    assert "theft" not in public.SENSITIVE_DEFAULT  # the deployment's list is not the default one
    return public_policy(sensitive=OWN)


def test_the_cached_public_dataset_leaves_the_deployment_s_own_category_out(own):
    data = cache.dataset(Source(), own)
    assert (small_dataset().incidents["category"] == "theft").sum() > 100  # the control: there are thefts
    assert not (data.incidents["category"].astype(str) == "theft").any()
    assert not (data.concerns["category"].astype(str) == "theft").any()  # a concern category of that code too
    assert "theft" not in set(data.cube.categories)


def test_every_cached_public_figure_is_that_of_the_data_without_the_category(own):
    """The same figures as the deployment's data with its thefts removed beforehand (each published value
    is a cell of its records' keys, so the remaining records publish the same values)."""
    _data, got = figures_of(Source(), own)
    _clean, expected = figures_of(Source(without_theft=True), own)
    pd.testing.assert_frame_equal(got["measures"], expected["measures"])
    pd.testing.assert_frame_equal(got["hotspots"], expected["hotspots"])
    assert got["headlines"] == expected["headlines"]


def test_with_the_default_list_the_thefts_count(own):
    """The control: under the default sensitive list (the old rebuilt policy) the figures hold the thefts."""
    default = public_policy()  # the same secret, the default lists
    assert default.sensitive == public.SENSITIVE_DEFAULT
    _data, got = figures_of(Source(), default)
    _data, own_figures = figures_of(Source(), own)
    assert got["measures"]["count"].sum() > own_figures["measures"]["count"].sum() + 100
    assert got["headlines"]["crimes"].current > own_figures["headlines"]["crimes"].current
    assert not got["hotspots"]["count"].equals(own_figures["hotspots"]["count"])
