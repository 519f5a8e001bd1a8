"""The Committees page's selections and tables, on a small hand-made register (no app)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo import committee_tables as ct
from geo.i18n import translator
from geo.public import PublicPolicy

_ = translator("en")

COMMITTEES = pd.DataFrame(
    {
        "committee_id": ["C1", "C2", "C3"],
        "type": ["LCPS", "MCPS", "LCPS"],
        "name": ["Lagjja Qendër", "MCPS Pejë", "Fshati Jug"],
        "municipality": ["Pejë", "Pejë", "Istog"],
        "sections": [["S1"], [], ["S3"]],
        "active": [True, True, False],
    }
)


def a_register() -> pd.DataFrame:
    return COMMITTEES.assign(
        lapsed=[False, False, True],
        last_meeting=pd.to_datetime(["2025-05-01", "2025-04-01", None]),
        meetings_3m=[2, 1, 0],
        meetings_6m=[3, 2, 0],
        meetings_12m=[6, 4, 0],
        meetings_total=[10, 8, 1],
        members=[12, np.nan, 5],
        mean_attendance=[8.5, np.nan, np.nan],
        concerns_raised=[4, 0, 0],
        established_on=pd.to_datetime(["2020-01-01", None, "2019-06-01"]),
    ).assign(sections=[1, 0, 1])


def test_the_area_register_holds_the_committees_serving_a_section_or_of_the_area_municipalities():
    register = a_register()
    assert list(ct.area_register(register, COMMITTEES, ["Pejë"])["committee_id"]) == ["C1", "C2"]
    # a section: the LCPS that lists it and its municipality's MCPS with no list
    assert list(ct.area_register(register, COMMITTEES, [], "S1", "Pejë")["committee_id"]) == ["C1", "C2"]
    assert list(ct.area_register(register, COMMITTEES, [], "S3", "Istog")["committee_id"]) == ["C3"]


def test_the_register_counts_and_residents_covered():
    assert ct.register_counts(a_register()) == (3, 2, 1)
    assert ct.register_counts(a_register().iloc[0:0]) == (0, 0, 0)
    cover = pd.DataFrame({"population": [1000, 3000], "population_covered": [1000, 0]})
    assert ct.residents_covered(cover, _) == "25 %"
    assert ct.residents_covered(cover.assign(population=0), _) == "–"


def cover() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sections": [3, 2, 1],
            "sections_covered": [1, 0, 0],
            "share_population_covered": [0.5, 0.0, np.nan],
            "lcps_active": [1, 0, 0],
            "mcps_present": [True, True, False],
            "mcps_meetings_3m": [1, 0, 0],
            "mcps_meetings_6m": [2, 0, 0],
            "mcps_meetings_12m": [4, 0, 0],
            "acps": [0, 1, 0],
            "last_meeting": pd.to_datetime(["2025-05-01", "2024-01-02", None]),
            "lapsed": [0, 2, 0],
            "all_lapsed": [False, True, None],
        },
        index=pd.Index(["Pejë", "Istog", "Klinë"], name="municipality"),
    )


def test_what_needs_attention_among_the_municipalities():
    assert list(ct.all_lapsed(cover()).index) == ["Istog"]
    assert list(ct.without_committee(cover()).index) == ["Klinë"]
    table = ct.all_lapsed_table(ct.all_lapsed(cover()), _)
    assert table.iloc[0].tolist() == ["Istog", "2", _.date(dt.date(2024, 1, 2))]


def test_a_municipality_tip_names_its_region_coverage_and_last_meeting_or_never():
    sections = pd.DataFrame({"municipality": ["Pejë", "Klinë"], "region": ["Pejë", "Pejë"]})
    tip = ct.municipality_tip("Pejë", cover(), sections, _)
    assert "1 / 3" in tip and "50 %" in tip and "1/2/4" in tip
    assert "never" in ct.municipality_tip("Klinë", cover(), sections, _)
    assert "<table></table>" in ct.municipality_tip("Nowhere", cover(), sections, _)


def test_the_year_before_a_day_starts_the_day_after_a_year_earlier():
    assert ct.year_start(pd.Timestamp("2025-06-30")) == dt.date(2024, 7, 1)


def test_busy_sections_without_a_committee_leave_out_small_public_counts():
    sections = pd.DataFrame({"section_id": [f"S{i}" for i in range(10)], "section_name": list("ABCDEFGHIJ")})
    sections["municipality"] = "Pejë"
    values = pd.Series([0, 0, 0, 0, 0, 0, 0, 0, 0, 40], index=sections["section_id"])
    found = ct.busy_uncovered(values, sections, COMMITTEES)
    assert list(found["section_id"]) == ["S9"]
    table = ct.busy_table(found, sections, "Incidents", _)
    assert table.iloc[0].tolist() == ["J", "Pejë", "40"]
    small = values.replace(40, PublicPolicy().min_count - 1)
    assert ct.busy_uncovered(small, sections, COMMITTEES, PublicPolicy()).empty
    assert len(ct.busy_uncovered(small, sections, COMMITTEES)) == 1


def test_the_register_is_filtered_by_type_status_and_name():
    register = a_register()
    assert list(ct.filter_register(register, [], "all", "")["committee_id"]) == ["C1", "C2", "C3"]
    assert list(ct.filter_register(register, ["LCPS"], "active", "")["committee_id"]) == ["C1"]
    assert list(ct.filter_register(register, [], "lapsed", "")["committee_id"]) == ["C3"]
    assert list(ct.filter_register(register, [], "all", "  qendër ")["committee_id"]) == ["C1"]
    assert ct.filter_register(register, [], "all", "(").empty  # as typed, not a pattern


def test_the_register_and_lapsed_tables():
    table = ct.register_table(a_register(), _)
    assert list(table.columns[:4]) == ["Committee", "Type", "Status", "Last meeting"]
    assert list(table["Status"]) == ["Active and meeting", "Active and meeting", "Lapsed"]
    assert list(table["Last 3 / 6 / 12 months"])[0] == "2 / 3 / 6"
    assert list(table["Members"]) == ["12", "–", "5"] and list(table["Set up"])[1] == "–"
    assert list(table["Last meeting"])[2] == "never"
    lapsed = ct.lapsed_table(a_register().iloc[[2]], _)
    assert lapsed.iloc[0].tolist() == ["Fshati Jug", "LCPS", "Istog", "no", "never"]
