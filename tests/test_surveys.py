"""Survey results next to incident rates of the same area and period, by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import surveys


@pytest.fixture
def sections():
    return gpd.GeoDataFrame(
        {
            "section_id": ["A", "B", "C"],
            "municipality": ["Prishtinë", "Prishtinë", "Podujevë"],
            "region": ["Prishtinë"] * 3,
            "population": [1000, 1000, 500],
        },
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)],
        crs=4326,
    )


@pytest.fixture
def incidents():
    # 2024-01-01 to 2024-06-29 (181 days): 10 incidents in Prishtinë, 3 in Podujevë
    when = pd.to_datetime(["2024-01-01"] + ["2024-03-01"] * 9 + ["2024-06-29"] * 3)
    return pd.DataFrame(
        {
            "occurred_at": when,
            "category": ["theft"] * 13,
            "count": [1] * 13,
            "section_id": pd.array(["A"] * 5 + ["B"] * 5 + ["C"] * 3, dtype="string"),
        }
    )


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "area_kind": ["municipality", "municipality", "region"],
            "area_name": ["Prishtinë", "Prishtinë", "Prishtinë"],
            "period": ["2023", "2024", "2024"],
            "period_start": pd.to_datetime(["2023-01-01", "2024-01-01", "2024-01-01"]),
            "period_end": pd.to_datetime(["2023-12-31", "2024-12-31", "2024-12-31"]),
            "trust_pct": [70.0, 72.0, 75.0],
            "satisfaction_pct": [60.0, 61.0, 65.0],
            "respondents": [400, 420, 900],
        }
    )


def test_rates_are_annualised_over_the_days_the_data_covers(sections, incidents, table):
    out = surveys.with_rates(table, sections, incidents, ("theft",), kind="municipality")
    assert out["period"].tolist() == ["2023", "2024"]
    y2023, y2024 = out.iloc[0], out.iloc[1]
    assert y2023["days"] == 0 and np.isnan(y2023["rate"])  # no incident data in 2023
    assert y2024["days"] == 181 and y2024["incidents"] == 10 and y2024["population"] == 2000
    assert y2024["rate"] == pytest.approx(10 / 2000 * 1000 * 365.25 / 181)
    region = surveys.with_rates(table, sections, incidents, ("theft",), kind="region").iloc[0]
    assert region["incidents"] == 13 and region["population"] == 2500
    assert surveys.with_rates(table, sections, incidents, ("drugs",), kind="region").iloc[0]["incidents"] == 0
    assert surveys.with_rates(table.iloc[:0], sections, incidents, ("theft",)).empty


def test_short_coverage_gives_no_rate(sections, incidents):
    n, days, rate = surveys.rate_for(sections, incidents, ("theft",), "2024-06-01", "2024-07-31")
    assert (n, days) == (3, 29) and np.isnan(rate)  # below MIN_DAYS
    with pytest.raises(ValueError, match="kind"):
        surveys.area_sections(sections, "country", "Kosovo")


def test_which_area_speaks_for_a_section(table):
    assert surveys.area_for_section(table, "Prishtinë", "Prishtinë") == ("municipality", "Prishtinë")
    assert surveys.area_for_section(table, "Podujevë", "Prishtinë") == ("region", "Prishtinë")
    assert surveys.area_for_section(table, "Prizren", "Prizren") is None
    assert surveys.area_for_section(table.iloc[:0], "Prishtinë", "Prishtinë") is None
