"""The Hotspots page's permutation check: enough permutations to confirm, on demand where it is slow."""

from __future__ import annotations

import pytest
from dashboard_fixtures import SmallSource, ok, texts
from test_analysis_pages import frame_with, run

HOT = {"Hot spot – 99 %", "Hot spot – 95 %", "Hot spot – 90 %"}
CLUSTER = {"Lagjja 22", "Lagjja 23", "Lagjja 32", "Lagjja 33"}


def test_sections_with_queen_neighbours_are_checked_at_once_and_agree_on_the_planted_cluster():
    at = run(SmallSource(), "en", "hotspots")
    ok(at)
    assert not [b for b in at.button if b.key == "permutation_check_button"]
    spots = frame_with(at, "Permutation check")
    confirmed = spots[spots["Permutation check"].isin(HOT)]["Police section"]
    assert CLUSTER <= set(confirmed)
    shown = texts(at)
    assert "Hot spots in both: 4 of 4." in shown
    assert "cannot" not in shown and "by construction" not in shown  # no excuse for confirming nothing


def test_a_distance_band_runs_the_check_on_demand():
    at = run(SmallSource(), "en", "hotspots", hs_kind="distance", hs_band=2000)
    ok(at)
    assert "Permutation check" not in frame_with(at, "Result").columns  # Gi* alone until asked
    assert "The check needs 3,999 permutations" in texts(at)
    at.button(key="permutation_check_button").click().run()
    ok(at)
    check = frame_with(at, "Permutations")
    assert check["Permutations"].sum() == 36
    assert "Hot spots in both:" in texts(at)
    assert "Permutation check" in frame_with(at, "Police section").columns
    at.number_input(key="hs_band").set_value(2500).run()  # other settings: asked again
    ok(at)
    assert [b for b in at.button if b.key == "permutation_check_button"]


@pytest.mark.parametrize("lang", ["en", "sq"])
def test_grid_cells_above_the_limit_are_not_offered_the_check_and_the_page_says_why(monkeypatch, lang):
    from geo import hotspots

    monkeypatch.setattr(hotspots, "MAX_CHECK_CELLS", 10)
    at = run(SmallSource(), lang, "hotspots", hs_units="grid", hs_cell=1000)
    ok(at)
    assert not [b for b in at.button if b.key == "permutation_check_button"]
    if lang == "en":
        assert "The permutation check is offered up to 10 grid cells" in texts(at)
    else:
        assert "10" in texts(at) and "The permutation check is offered" not in texts(at)  # translated


def test_grid_cells_below_the_limit_are_checked_on_demand():
    at = run(SmallSource(), "en", "hotspots", hs_units="grid", hs_cell=1000)
    ok(at)
    assert not any("Permutations" in d.value.columns for d in at.dataframe)
    at.button(key="permutation_check_button").click().run()
    ok(at)
    check = frame_with(at, "Permutations")
    cells = int(check["Normal"].sum())
    assert int(check["Permutations"].sum()) == cells
    assert f"across {cells:,} units" in texts(at)
    assert "Permutation check" in frame_with(at, "Grid cell").columns
