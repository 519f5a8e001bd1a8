"""The Hotspots page's decisions, texts and tables, on small hand-made results (no app)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from geo import hotspot_tables as ht
from geo import hotspots
from geo.i18n import translator
from geo.public import SMALL, PublicPolicy

_ = translator("en")
H99, NS, C90 = hotspots.HOT_99, hotspots.NOT_SIGNIFICANT, hotspots.COLD_90


def a_result(sim: bool = True) -> pd.DataFrame:
    """Gi* on three sections: a hot spot, an ordinary one, a cold spot."""
    frame = pd.DataFrame(
        {
            "count": [30, 5, 0],
            "value": [3.0, 0.5, 0.0],
            "z": [3.2, 0.1, -1.8],
            "label": [H99, NS, C90],
            "neighbours": [2, 2, 0],
        },
        index=pd.Index(["S1", "S2", "S3"], name="section_id"),
    )
    if sim:
        frame["label_sim"] = [H99, NS, NS]
    return frame


def sections() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "section_id": ["S1", "S2", "S3", "S4"],
            "section_name": ["North <b>", "Centre", "South", "East"],
            "municipality": ["Pejë", "Pejë", "Pejë", "Pejë"],
        },
        geometry=[box(i, 0, i + 1, 1) for i in range(4)],
        crs="EPSG:4326",
    )


def test_a_chosen_section_is_analysed_within_its_municipality_unless_one_is_chosen():
    chosen = pd.Series({"region": "Pejë", "municipality": "Deçan"})
    assert ht.analysed_area("", "", chosen) == ("Pejë", "Deçan")
    assert ht.analysed_area("Pejë", "Istog", chosen) == ("Pejë", "Istog")
    assert ht.analysed_area("Prizren", "", None) == ("Prizren", "")


def test_the_analysis_error_names_the_cause():
    assert "larger cells" in ht.analysis_error(ValueError("too many cells: 30000"), _)
    assert "Use counts" in ht.analysis_error(ValueError("no population for 3 units"), _)
    assert ht.analysis_error(ValueError("boom"), _) == "The analysis could not be run: boom"


def test_the_check_runs_at_once_for_sections_with_queen_neighbours_on_request_otherwise_never_when_too_big():
    result = a_result()
    assert ht.check_runs("sections", "queen", result, requested=False) == (False, True)
    assert ht.check_runs("sections", "distance", result, requested=False) == (False, False)
    assert ht.check_runs("grid", "queen", result, requested=True) == (False, True)
    big = pd.DataFrame({"count": np.zeros(hotspots.MAX_CHECK_CELLS + 1)})
    assert ht.check_runs("grid", "queen", big, requested=True) == (True, False)
    assert ht.check_runs("sections", "queen", None, requested=True) == (False, False)


def test_small_probabilities_keep_two_significant_digits_and_missing_numbers_show_a_dash():
    assert ht.small_p(0.00025, _) == "0.00025"
    assert ht.small_p(0.5, _) == "0.500"
    assert ht.small_p(0, _) == "0"
    assert ht.number(np.nan, _) == "–" and ht.number(1234, _) == "1,234"


def test_a_withheld_count_shows_as_fewer_than_n_and_has_no_rate():
    policy = PublicPolicy()
    texts = ht.UnitTexts(_, policy, pd.Series({"S3": SMALL, "S1": ""}))
    assert texts.withheld("S3") and not texts.withheld("S1") and not texts.withheld("S9")
    assert texts.count("S3", 0) == policy.small_text(_)
    assert texts.count("S1", 30) == "30"


def test_the_legend_shows_the_labels_present_and_not_significant_only_without_a_density_surface():
    labels = a_result()["label"]
    assert [t for _c, t in ht.legend_entries(labels, False, _)] == [_.label("hotspot", x) for x in (H99, NS, C90)]
    assert [t for _c, t in ht.legend_entries(labels, True, _)] == [_.label("hotspot", x) for x in (H99, C90)]
    assert ht.legend_entries(pd.Series([H99]), False, _)[0][0] == hotspots.LABEL_COLOURS[H99]


def test_sections_are_filled_by_their_label_and_their_tooltips_escape_names_and_hide_z_in_public():
    texts = ht.UnitTexts(_)
    fills, tips = ht.section_layers(sections(), a_result(), True, False, "count", texts)
    assert fills == [hotspots.LABEL_COLOURS[H99], hotspots.LABEL_COLOURS[NS], hotspots.LABEL_COLOURS[C90], None]
    assert "North &lt;b&gt;" in tips[0] and "Gi* z" in tips[0] and "3.20" in tips[0]
    assert "Permutation check" in tips[0] and "Incidents" not in tips[3]
    fills, _tips = ht.section_layers(sections(), a_result(), True, True, "count", texts)
    assert fills[1] is None  # under a density surface the ordinary sections stay clear
    assert ht.section_layers(sections(), a_result(), False, False, "count", texts)[0] == [None] * 4
    public = ht.UnitTexts(_, PublicPolicy(), pd.Series({"S1": SMALL}))
    _fills, tips = ht.section_layers(sections(), a_result(), True, False, "rate", public)
    assert "Gi* z" not in tips[0] and PublicPolicy().small_text(_) in tips[0] and "3.00" not in tips[0]
    assert "0.50" in tips[1]


def test_only_hot_and_cold_grid_cells_are_drawn():
    cells = sections().iloc[:3].set_index("section_id")  # one cell a row of the result
    frame, fills, tips = ht.cell_layers(cells, a_result(), ht.UnitTexts(_))
    assert list(frame.index) == ["S1", "S3"]
    assert fills == [hotspots.LABEL_COLOURS[H99], hotspots.LABEL_COLOURS[C90]]
    assert "Grid cell S1" in tips[0]


def test_the_check_table_counts_each_label_both_ways_and_hot_in_both_counts_the_confirmed():
    table = ht.check_table(a_result(), _)
    assert len(table) == len(hotspots.LABELS)
    assert table[_("Normal")].sum() == 3 and table[_("Permutations")].sum() == 3
    row = table[table[_("Result")] == _.label("hotspot", C90)]
    assert row[_("Normal")].item() == 1 and row[_("Permutations")].item() == 0
    result = a_result()
    result.loc["S2", "label"] = hotspots.HOT_90
    assert ht.hot_in_both(result) == (1, 2)


def test_the_list_of_spots_is_sorted_by_z_and_names_sections_or_cells():
    sig = ht.significant(a_result())
    assert list(sig.index) == ["S1", "S3"]
    names = sections().set_index("section_id")
    table = ht.spots_table(sig, names, "sections", "rate", ht.UnitTexts(_))
    assert list(table[_("Police section")]) == ["North <b>", "South"]
    assert list(table[_("Per 1,000 residents")]) == ["3.00", "0.00"]
    assert list(table["Gi* z"]) == ["3.20", "\u22121.80"]  # a true minus sign
    grid = ht.spots_table(sig.drop(columns="label_sim"), names, "grid", "count", ht.UnitTexts(_, PublicPolicy()))
    assert list(grid.columns) == [_("Grid cell"), _("Incidents"), _("Result")]


def test_the_prediction_windows_and_table():
    months = [dt.date(2025, m, 1) for m in range(1, 11)]
    assert ht.default_training(months) == (dt.date(2025, 4, 1), dt.date(2025, 9, 1))
    assert ht.default_training(months[:2]) == (dt.date(2025, 1, 1), dt.date(2025, 1, 1))
    train, test = ht.windows(dt.date(2025, 1, 1), dt.date(2025, 3, 1), 3)
    assert (train.start, train.end) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert (test.start, test.end) == (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    incidents = pd.DataFrame({"occurred_at": pd.to_datetime(["2025-01-15", "2025-03-31"])})
    assert ht.data_months(incidents) == [dt.date(2025, 2, 1), dt.date(2025, 3, 1)]  # January is not whole
    assert ht.data_months(incidents.iloc[0:0]) == []
    outcome = pd.DataFrame(
        {"units": [3], "area_share": [0.05], "captured": [12], "hit_rate": [np.nan], "pai": [np.nan]},
        index=["density"],
    )
    table = ht.prediction_table(outcome, _)
    assert table.iloc[0].tolist() == [_.label("predictor", "density"), "3", "5.0 %", "12", "–", "–"]
