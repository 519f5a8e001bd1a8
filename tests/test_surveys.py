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


# ---------------------------------------------------------------- the Trust page's choices and table


def _results() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_kind": ["municipality", "region"],
            "area_name": ["Pejë", "Prizren"],
            "period": pd.Series(["2025-H1", "2025-H2"]),
            "trust_pct": [61.25, 70.0],
            "satisfaction_pct": [55.0, 58.5],
            "respondents": [400, np.nan],
            "incidents": [12, 30],
            "days": [181, 184],
            "rate": [1.5, np.nan],
        }
    )


def test_the_levels_offered_are_those_surveyed_and_municipalities_come_first_when_the_chosen_one_was():
    res = _results()
    assert surveys.surveyed_levels(res) == ["region", "municipality"]
    assert surveys.surveyed_levels(res.iloc[[1]]) == ["region"]
    levels = surveys.surveyed_levels(res)
    assert surveys.first_level(res, levels, "Pejë") == "municipality"
    assert surveys.first_level(res, levels, "Istog") == "region"
    assert surveys.first_level(res, levels) == "region"


def test_the_results_table_names_areas_in_the_language_and_leaves_incident_figures_out_in_public():
    from geo.i18n import translator

    _ = translator("en")
    shown = surveys.shown_results(_results(), _)
    assert list(shown["area"]) == [_.municipality("Pejë"), _.region("Prizren")]
    assert "area" not in _results()  # a new frame
    table = surveys.results_table(shown, _, public=False)
    assert table.iloc[0].tolist() == ["Pejë", "2025-H1", "61.2", "55.0", "400", "12", "181", "1.5"]
    assert list(table["Respondents"])[1] == "–" and list(table["Incidents per 1,000 a year"])[1] == "–"
    public = surveys.results_table(shown, _, public=True)
    assert list(public.columns) == ["Area", "Period", "Trust (%)", "Satisfaction (%)", "Respondents"]
