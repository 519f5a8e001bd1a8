"""Committee coverage for a hand-made register."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import coverage
from geo.loader import empty_frame

AS_OF = pd.Timestamp("2026-10-31")


@pytest.fixture
def sections():
    boxes = [shapely.box(21.1 + 0.1 * i, 42.6, 21.2 + 0.1 * i, 42.7) for i in range(4)]
    return gpd.GeoDataFrame(
        {
            "section_id": ["A", "B", "C", "D"],
            "municipality": ["Prishtinë", "Prishtinë", "Prishtinë", "Podujevë"],
            "population": [1000, 3000, 6000, 500],
        },
        geometry=boxes,
        crs=4326,
    )


@pytest.fixture
def committees():
    return pd.DataFrame(
        {
            "committee_id": ["M1", "L1", "L2", "A1", "M2"],
            "type": ["MCPS", "LCPS", "LCPS", "ACPS", "MCPS"],
            "name": ["MCPS Prishtinë", "LCPS A+B", "LCPS C (inactive)", "ACPS", "MCPS Podujevë"],
            "municipality": ["Prishtinë", "Prishtinë", "Prishtinë", "Prishtinë", "Podujevë"],
            "sections": [[], ["A", "B"], ["C"], [], []],
            "established_on": pd.to_datetime(["2020-01-01"] * 5),
            "active": [True, True, False, True, True],
        }
    )


@pytest.fixture
def meetings():
    return pd.DataFrame(
        {
            "meeting_id": ["m1", "m2", "m3", "m4"],
            "committee_id": ["M1", "M1", "L1", "M2"],
            "held_on": pd.to_datetime(["2026-10-10", "2026-06-01", "2026-09-01", "2025-01-15"]),
            "attendance": [20, 18, 12, 9],
            "concerns_raised": [3, 2, 1, 0],
        }
    )


def test_shares_of_sections_and_residents(sections, committees, meetings):
    out = coverage.by_municipality(sections, committees, meetings, AS_OF)
    pr = out.loc["Prishtinë"]
    assert pr["sections"] == 3 and pr["sections_covered"] == 2  # C's LCPS is inactive
    assert pr["share_sections_covered"] == pytest.approx(2 / 3)
    assert pr["share_population_covered"] == pytest.approx(4000 / 10000)
    assert out.loc["Podujevë", "share_sections_covered"] == 0


def test_mcps_meetings_in_windows_and_last_meeting(sections, committees, meetings):
    out = coverage.by_municipality(sections, committees, meetings, AS_OF)
    pr = out.loc["Prishtinë"]
    assert (pr["mcps_meetings_3m"], pr["mcps_meetings_6m"], pr["mcps_meetings_12m"]) == (1, 2, 2)
    assert pr["last_meeting"] == pd.Timestamp("2026-10-10")
    assert pr["acps"] == 1 and bool(pr["mcps_present"])


def test_lapsed_committees(sections, committees, meetings):
    status = coverage.last_meetings(committees, meetings, AS_OF).set_index("committee_id")
    assert bool(status.loc["M2", "lapsed"])  # last met Jan 2025
    assert bool(status.loc["L2", "lapsed"])  # inactive
    assert bool(status.loc["A1", "lapsed"])  # never met
    assert not bool(status.loc["M1", "lapsed"])
    out = coverage.by_municipality(sections, committees, meetings, AS_OF)
    assert bool(out.loc["Podujevë", "all_lapsed"]) and not bool(out.loc["Prishtinë", "all_lapsed"])


def test_high_incident_sections_without_committee(sections, committees):
    values = pd.Series({"A": 5, "B": 1, "C": 50, "D": 40})
    out = coverage.uncovered_hot_sections(values, sections, committees, top_share=0.5)
    assert out["section_id"].tolist() == ["C", "D"]


def test_empty_register(sections):
    out = coverage.by_municipality(sections, empty_frame("committees"), empty_frame("meetings"), AS_OF)
    assert (out["sections_covered"] == 0).all() and not out["mcps_present"].any()
    assert out["last_meeting"].isna().all()


def test_committees_serving_a_section(committees):
    assert committees.loc[coverage.serving(committees, "A", "Prishtinë"), "committee_id"].tolist() == ["M1", "L1"]
    assert committees.loc[coverage.serving(committees, "D", "Podujevë"), "committee_id"].tolist() == ["M2"]
    assert not coverage.serving(committees.iloc[:0], "A", "Prishtinë").any()


def test_register_counts_meetings_and_concerns(committees, meetings):
    raised = pd.DataFrame({"concern_id": ["c1", "c2", "c3"], "meeting_id": ["m1", "m1", "m3"]})
    reg = coverage.register(committees, meetings, raised, AS_OF).set_index("committee_id")
    assert list(reg.index) == ["M2", "M1", "L1", "L2", "A1"]  # by municipality (Podujevë, Prishtinë), MCPS first
    assert reg.loc["M1", "meetings_total"] == 2 and reg.loc["M1", "concerns_recorded"] == 2
    assert reg.loc["L1", "sections"] == 2 and reg.loc["L1", "concerns_recorded"] == 1
    assert reg.loc["M1", "concerns_raised"] == 5 and bool(reg.loc["A1", "lapsed"])
