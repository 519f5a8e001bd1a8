"""The Overview's "highest rate" table and rate map: smoothed rates, small sections marked, national colours."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_fixtures import ok, texts
from streamlit.testing.v1 import AppTest

from geo import i18n
from geo.source import demo_source

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def overview(lang: str = "en", **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["source"] = demo_source()
    at.session_state["lang"] = lang
    at.run()
    if state:
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
    ok(at)
    return at


def rate_table(at: AppTest, lang: str = "en"):
    _ = i18n.translator(lang)
    return next(d.value for d in at.dataframe if _("Per 1,000 residents") in d.value.columns)


def test_smoothed_rates_are_on_by_default_with_the_raw_rate_beside_them():
    at = overview()
    assert [t.value for t in at.toggle if t.key == "map_smoothed"] == [True]
    table = rate_table(at)
    cols = list(table.columns)
    assert cols.index("Per 1,000 residents, smoothed") + 1 == cols.index("Per 1,000 residents")
    smoothed = table["Per 1,000 residents, smoothed"].astype(float)
    assert smoothed.is_monotonic_decreasing
    # the demo's leader (31 incidents among 2,285 residents: 13.57 per 1,000) is shrunk towards Kosovo's rate
    first = table.iloc[0]
    assert first["Per 1,000 residents"] == "13.57" and float(first["Per 1,000 residents, smoothed"]) < 13.57
    assert "Ranked by the smoothed rate (empirical Bayes" in texts(at)
    assert not at.toggle(key="map_smoothed").set_value(False).run().exception
    assert "Per 1,000 residents, smoothed" not in rate_table(at).columns


def test_sections_below_the_minimum_population_are_marked_not_ranked_first(monkeypatch):
    monkeypatch.setenv("DASHBOARD_MIN_POPULATION", "3000")
    at = overview()
    table = rate_table(at)
    assert table.iloc[0]["Police section"] != "Vushtrri 10 – Nellojoc"  # 2,285 residents: below 3,000
    marked = table[table["Note"] == "fewer than 3,000 residents: not ranked"]
    assert "Vushtrri 10 – Nellojoc" in set(marked["Police section"])
    assert list(table["Note"]).index(marked["Note"].iloc[0]) >= 10  # listed after the ten ranked ones
    assert "Sections with fewer than 3,000 residents are not ranked" in texts(at)


def test_a_wrong_minimum_population_is_reported_and_the_default_used(monkeypatch):
    monkeypatch.setenv("DASHBOARD_MIN_POPULATION", "lots")
    at = overview()
    shown = texts(at)
    assert "DASHBOARD_MIN_POPULATION='lots'" in shown and "the default of 500 is used" in shown
    assert "Sections with fewer than 500 residents are not ranked" in shown


@pytest.mark.parametrize("lang", ["en", "sr"])
def test_an_area_can_stretch_the_colours_to_itself(lang):
    _ = i18n.translator(lang)
    assert not [t for t in overview(lang).toggle if t.key == "map_stretch"]  # all of Kosovo: nothing to stretch
    at = overview(lang, region="Prishtinë", municipality="Prishtinë")
    stretch = [t for t in at.toggle if t.key == "map_stretch"]
    assert [t.value for t in stretch] == [False] and stretch[0].label == _("Stretch the colours to this area")
    assert not at.toggle(key="map_stretch").set_value(True).run().exception
