"""Concerns: the crosswalk to incidents, open concerns, resolution times, and worry vs incidents by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from dashboard_fixtures import tiny_concerns
from scipy import stats

from geo import concerns, hotspots
from geo.schema import CONCERN_CATEGORIES


def test_crosswalk_maps_concerns_to_incidents():
    assert concerns.matching_incidents("road_safety") == (
        "accident_fatal",
        "accident_injury",
        "accident_damage",
        "traffic_ticket",
    )
    assert concerns.matching_incidents("theft") == ("theft", "burglary", "robbery")
    assert concerns.matching_incidents("drugs") == ("drugs",)
    assert concerns.matching_incidents("domestic_violence") == ("domestic_violence",)
    assert concerns.matching_incidents("noise_public_order") == ("public_order",)
    assert concerns.matching_incidents("public_lighting") == ()
    assert concerns.concern_categories_for("burglary") == ("theft",)
    assert concerns.concern_categories_for("traffic_ticket") == ("road_safety",)
    assert concerns.concern_categories_for("sexual_offence") == ()
    assert set(concerns.CROSSWALK) == {t.code for t in CONCERN_CATEGORIES}
    assert set(concerns.matched_categories()) == {
        "road_safety",
        "drugs",
        "theft",
        "domestic_violence",
        "noise_public_order",
    }


def test_crosswalk_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="unknown concern category 'noise'"):
        concerns.matching_incidents("noise")
    with pytest.raises(ValueError, match="unknown incident category"):
        concerns.concern_categories_for("speeding")
    bad = dict(concerns.CROSSWALK, theft=("theft", "pickpocketing"))
    with pytest.raises(ValueError, match=r"crosswalk\['theft'\] names unknown incident categories \['pickpocketing'\]"):
        concerns.check_crosswalk(bad)
    with pytest.raises(ValueError, match="missing"):
        concerns.check_crosswalk({k: v for k, v in concerns.CROSSWALK.items() if k != "other"})
    with pytest.raises(ValueError, match="keys must be concern categories"):
        concerns.check_crosswalk({**concerns.CROSSWALK, "graffiti": ()})


def frame(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "concern_id": [f"C{i}" for i in range(len(rows))],
            "section_id": pd.array([r[0] for r in rows], dtype="string"),
            "category": [r[1] for r in rows],
            "raised_on": pd.Timestamp("2024-03-01"),
        }
    )


def test_worry_and_incidents_by_hand():
    # theft: concerns A 10, B 2, C 8; incidents A 10, B 80, C 10 -> expected A 2, B 16, C 2
    # drugs: concerns D 4; incidents A 2, D 2 -> expected A 2, D 2
    rows = [("A", "theft")] * 10 + [("B", "theft")] * 2 + [("C", "theft")] * 8 + [("D", "drugs")] * 4
    rows += [("B", "public_lighting")] * 5  # no counterpart: ignored
    incidents = pd.DataFrame(
        {"theft": [7, 80, 10, 0, 0], "burglary": [3, 0, 0, 0, 0], "drugs": [2, 0, 0, 2, 0], "assault": [0, 9, 0, 0, 0]},
        index=pd.Index(["A", "B", "C", "D", "E"], name="section_id"),
    )
    out = concerns.section_agreement(frame(rows), incidents, ["A", "B", "C", "D", "E"])
    assert out["concerns"].tolist() == [10, 2, 8, 4, 0]
    assert out["incidents"].tolist() == [12, 80, 10, 2, 0]  # assault has no counterpart
    assert out["expected"].tolist() == pytest.approx([4, 16, 2, 2, 0])
    # given its records (concerns + matching incidents), a section's concerns are binomial on the area's share
    # of concerns among the records of each category: theft 20 / 120, drugs 4 / 8
    q_theft, q_drugs = 20 / 120, 4 / 8
    records = {"A": (20, 2), "B": (82, 0), "C": (18, 0), "D": (0, 6)}  # theft, drugs records per section
    concerns_seen = {"A": 10, "B": 2, "C": 8, "D": 4}
    for sid, (r_theft, r_drugs) in records.items():
        m, mean = r_theft + r_drugs, r_theft * q_theft + r_drugs * q_drugs
        k = concerns_seen[sid]
        p = min(1, 2 * min(stats.binom.cdf(k, m, mean / m), stats.binom.sf(k - 1, m, mean / m)))
        assert out.loc[sid, "p"] == pytest.approx(p), sid
    assert np.isnan(out.loc["E", "p"])  # nothing to test
    assert out["p_fdr"].dropna().tolist() == pytest.approx(hotspots.fdr_bh(out["p"].dropna().to_numpy()))
    assert out["class"].tolist() == [concerns.WORRY, concerns.UNSEEN, concerns.WORRY, concerns.AGREE, concerns.QUIET]
    assert out["concern_share"].sum() == pytest.approx(1) and out["incident_share"].loc["B"] == pytest.approx(80 / 104)


def test_worry_for_one_category_and_without_any_incidents():
    rows = [("A", "theft")] * 3 + [("B", "drugs")] * 3
    incidents = pd.DataFrame({"theft": [5, 5]}, index=pd.Index(["A", "B"], name="section_id"))
    only_drugs = concerns.section_agreement(frame(rows), incidents, ["A", "B"], categories=("drugs",))
    # drugs were worried about, but no drug incident was recorded anywhere: worry without incidents
    assert only_drugs["expected"].tolist() == [0, 0]
    assert only_drugs["class"].tolist() == [concerns.QUIET, concerns.WORRY]
    empty = concerns.section_agreement(frame([])[:0], incidents.iloc[:0], ["A", "B"])
    assert empty["class"].tolist() == [concerns.QUIET, concerns.QUIET]


def test_open_concerns_and_their_age():
    c = tiny_concerns()
    now = concerns.open_on(c, dt.date(2024, 3, 31))
    assert now["concern_id"].tolist() == ["C1", "C3"]  # oldest first; C2 resolved 5 Mar, C4 20 Mar, C5 no date
    assert now["age_days"].tolist() == [81, 28]
    before = concerns.open_on(c, dt.date(2024, 3, 1))
    assert set(before["concern_id"]) == {"C1", "C2"}
    assert concerns.open_on(c.iloc[:0], dt.date(2024, 3, 1)).empty


def test_resolution_times_by_hand():
    c = tiny_concerns()
    days = concerns.resolution_days(c)
    assert sorted(days.tolist()) == [16, 24]  # C4: 4 → 20 March; C2: 10 Feb → 5 March; C5 has no date
    s = concerns.resolution_summary(c).iloc[0]
    assert (s["resolved"], s["median"], s["mean"], s["within_30"]) == (2, 20, 20, 1.0)
    per = concerns.resolution_summary(c, by="category")
    assert per.loc["drugs", "median"] == 16 and per.loc["public_lighting", "median"] == 24
    assert concerns.resolution_summary(c.iloc[:0])["resolved"].iloc[0] == 0


def test_breakdowns_and_months():
    c = tiny_concerns()
    assert concerns.breakdown(c, "status").to_dict() == {"resolved": 3, "open": 1, "in_progress": 1}
    assert concerns.breakdown(c, "source").to_dict() == {"lcps_meeting": 5}
    with pytest.raises(ValueError, match="by must be one of"):
        concerns.breakdown(c, "colour")
    m = concerns.monthly(c, dt.date(2024, 1, 1), dt.date(2024, 4, 30), "category")
    assert len(m) == 4 and m.to_numpy().sum() == 5 and m.loc["2024-03-01"].sum() == 2
    assert m.loc["2024-04-01"].sum() == 0
    assert concerns.in_area(c, ["S1"])["concern_id"].tolist() == ["C1", "C2"]
    assert concerns.raised_in(c, dt.date(2024, 3, 3), dt.date(2024, 3, 3))["concern_id"].tolist() == ["C3"]
