"""The incident cube answers exactly as the figures functions do on the incident table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import tiny_dataset

from geo import figures
from geo.cube import IncidentCube
from geo.dataset import SECTION_ID_DTYPE
from geo.loader import empty_frame

D = dt.date


def random_incidents(n: int = 4000, seed: int = 3) -> pd.DataFrame:
    """Incidents over 2023–2024 in 12 sections: some outside every section, some without coordinates,
    aggregated ticket counts at midnight, a few without a date."""
    rng = np.random.default_rng(seed)
    cats = np.array(list(figures.CATEGORY_CODES))
    when = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730 * 24 * 60, n), unit="min")
    category = cats[rng.integers(0, len(cats), n)]
    tickets = category == "traffic_ticket"
    when = when.where(~tickets, when.normalize())  # daily counts dated 00:00
    sid = pd.array(np.array([f"S{i:02d}" for i in rng.integers(0, 12, n)], dtype=object), dtype=SECTION_ID_DTYPE)
    sid[rng.random(n) < 0.03] = np.nan  # outside
    lon = rng.uniform(20.5, 21.5, n)
    no_xy = rng.random(n) < 0.1
    lon[no_xy] = np.nan
    frame = pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in range(n)],
            "occurred_at": when.astype("datetime64[us]"),
            "category": pd.Categorical(category),
            "count": np.where(tickets, rng.integers(1, 30, n), 1).astype("int64"),
            "lon": lon,
            "lat": np.where(no_xy, np.nan, rng.uniform(42.2, 42.9, n)),
            "section_id": sid,
        }
    )
    frame.loc[rng.random(n) < 0.005, "occurred_at"] = pd.NaT
    return frame


PERIODS = [
    figures.Period(D(2024, 3, 1), D(2024, 3, 31)),  # inside the data
    figures.Period(D(2024, 2, 29), D(2024, 2, 29)),  # one day
    figures.Period(D(2020, 1, 1), D(2030, 12, 31)),  # beyond both ends
    figures.Period(D(2019, 1, 1), D(2019, 6, 30)),  # before the data
    figures.Period(D(2031, 1, 1), D(2031, 1, 31)),  # after the data
]
CATEGORIES = [(), ("theft", "burglary"), ("traffic_ticket",), ("no_such_category",)]
SECTIONS = [None, pd.Index(["S01", "S03", "S11"]), pd.Index([]), pd.Index(["S1", "S2", "nowhere"])]


@pytest.fixture(scope="module", params=["random", "tiny"])
def incidents(request) -> pd.DataFrame:
    return random_incidents() if request.param == "random" else tiny_dataset().incidents


@pytest.fixture(scope="module")
def cube(incidents) -> IncidentCube:
    return IncidentCube.build(incidents)


@pytest.mark.parametrize("period", PERIODS, ids=str)
@pytest.mark.parametrize("categories", CATEGORIES, ids=str)
@pytest.mark.parametrize("section_ids", SECTIONS, ids=str)
def test_counts_equal_the_figures_functions(incidents, cube, period, categories, section_ids):
    expected = figures.incident_counts(incidents, period, categories, section_ids)
    pd.testing.assert_series_equal(cube.incident_counts(period, categories, section_ids), expected)
    assert cube.total(period, categories, section_ids) == int(expected.sum())
    pd.testing.assert_frame_equal(
        cube.monthly_counts(period, categories, section_ids, order=figures.CATEGORY_CODES),
        figures.monthly_counts(incidents, period, categories, section_ids),
    )
    pd.testing.assert_series_equal(
        cube.hour_of_day(period, categories, section_ids),
        figures.hour_of_day(incidents, period, categories, section_ids),
    )
    got, got_unlocated = cube.located_incidents(period, categories, section_ids)
    want, want_unlocated = figures.located_incidents(incidents, period, categories, section_ids)
    assert got_unlocated == want_unlocated
    key = ["lon", "lat", "count"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True)
    )


@pytest.mark.parametrize("period", PERIODS, ids=str)
@pytest.mark.parametrize("section_ids", SECTIONS, ids=str)
def test_counts_by_category_equal_the_figures_function(incidents, cube, period, section_ids):
    pd.testing.assert_frame_equal(
        cube.counts_by_category(period, section_ids), figures.counts_by_category(incidents, period, section_ids)
    )


def test_the_span_is_that_of_the_records(incidents, cube):
    when = pd.to_datetime(incidents["occurred_at"])
    assert cube.span() == (when.min(), when.max())


def test_an_empty_table():
    cube = IncidentCube.build(empty_frame("incidents"))
    p = PERIODS[0]
    assert cube.incident_counts(p).empty
    assert cube.total(p) == 0
    assert cube.span() == (None, None)
    points, unlocated = cube.located_incidents(p)
    assert points.empty and unlocated == 0
    assert cube.hour_of_day(p).sum() == 0
    assert cube.counts_by_category(p).empty
    assert len(cube.monthly_counts(p)) == 1


def test_the_dataset_builds_its_cube_once_and_leaves_the_table_alone():
    ds = tiny_dataset()
    before = ds.incidents.copy()
    assert ds.cube is ds.cube
    pd.testing.assert_frame_equal(ds.incidents, before)
    p = figures.Period(D(2024, 3, 1), D(2024, 3, 31))
    assert ds.cube.total(p, ("theft",)) == 2  # I1 and I2; I14 is outside every section, I15 in April
