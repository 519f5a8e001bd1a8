"""The Overview page's texts and ranking table, on small hand-made figures (no app)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import overview_tables as ot
from geo.figures import Headline
from geo.i18n import translator
from geo.public import PublicPolicy

_ = translator("en")


def test_a_change_has_an_explicit_sign_and_an_ascii_minus():
    assert [ot.signed(n, _) for n in (1234, -5, 0)] == ["+1,234", "-5", "0"]


def test_the_comparison_line_names_the_other_figure_and_hides_the_test_next_to_a_small_one():
    h = Headline("crimes", current=40, previous=10, year_earlier=None)
    line = ot.comparison_line(h, "previous", {}, _)
    assert line.startswith(_("Previous period") + ": 10 · ") and _.label("change_flag", h.test()[1]) in line
    assert ot.comparison_line(h, "year_earlier", {}, _) == _("A year earlier") + ": " + _("not in the data")
    assert ot.comparison_line(h, "previous", {"previous": "fewer than 10"}, _) == "Previous period: fewer than 10"
    assert ot.comparison_line(h, "previous", {"current": "fewer than 10"}, _) == "Previous period: 10"


def test_only_published_headlines_below_the_threshold_are_small():
    policy = PublicPolicy()
    h = Headline("crimes", current=policy.min_count - 1, previous=50, year_earlier=0)
    assert ot.small_figures(h, None, _) == {}
    assert set(ot.small_figures(h, policy, _)) == {"current"}  # 0 is published as it is
    assert ot.small_figures(Headline("active_committees", 1, 1), policy, _) == {}


def test_the_headline_delta_is_red_for_a_meaningful_increase_green_for_committees_and_absent_when_not_comparable():
    up = Headline("crimes", current=200, previous=50)
    assert ot.headline_delta(up, {}, _) == ("+150", "inverse")
    assert ot.headline_delta(Headline("active_committees", 200, 50), {}, _) == ("+150", "normal")
    assert ot.headline_delta(Headline("crimes", 11, 10), {}, _) == ("+1", "off")
    assert ot.headline_delta(Headline("crimes", 200, 50, previous_covered=False), {}, _)[0] is None
    assert ot.headline_delta(up, {"previous": "fewer than 10"}, _)[0] is None


def test_the_section_facts_leave_out_what_is_missing_and_officers_not_marked_public():
    rec = pd.Series(
        {
            "municipality": "Pejë",
            "region": "Pejë",
            "station": None,
            "population": 1200,
            "villages": ["A", "B"],
            "officers": ["X"],
            "officers_public": False,
        }
    )
    lines = ot.section_facts(rec, _)
    assert lines == [
        "Municipality: Pejë · Police region: Pejë · Residents: 1,200",
        "Villages and neighbourhoods: A, B",
    ]
    public = rec.copy()
    public["officers_public"] = True
    assert ot.section_facts(public, _)[-1] == "Community officers: X"


def measures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "count": [5, 40, 3],
            "rate": [5.0, 2.0, 30.0],
            "rate_smoothed": [4.0, 2.1, 6.0],
            "population": [1000, 20000, 100],
            "change": [1, 20, -2],
            "flag": ["no_change", "strong_increase", "no_change"],
            "change_year": [np.nan, 5, 0],
            "flag_year": [None, "increase", "no_change"],
            "p": [0.5, 1e-6, 0.3],
            "direction": [1, 1, -1],
            "p_year": [np.nan, 0.01, 1.0],
            "direction_year": [0, 1, 0],
            "count_withheld": ["", "", "small"],
        },
        index=pd.Index(["S1", "S2", "S3"], name="section_id"),
    )


SECTIONS = pd.DataFrame(
    {"section_id": ["S1", "S2", "S3"], "section_name": ["One", "Two", "Three"], "municipality": ["Pejë"] * 3}
)


def test_sections_are_ranked_by_rate_with_small_ones_last_by_evidence_of_increase_or_by_count():
    by_rate = ot.ranked_sections(measures(), SECTIONS, "rate", True, 500, _)
    assert list(by_rate.index) == ["S1", "S2", "S3"] and list(by_rate["small_population"]) == [False, False, True]
    assert list(ot.ranked_sections(measures(), SECTIONS, "change", False, 500, _).index) == ["S2", "S1", "S3"]
    assert list(ot.ranked_sections(measures(), SECTIONS, "count", False, 500, _).index) == ["S2", "S1", "S3"]
    assert list(ot.ranked_sections(measures(), SECTIONS, "count", False, 500, _)["section"]) == ["Two", "One", "Three"]


def test_the_ranking_table_puts_the_ranked_figure_after_the_name_and_the_municipality_last():
    table = ot.ranked_sections(measures(), SECTIONS, "rate", True, 500, _)
    shown = ot.ranking_table(table, "rate", True, {"small": "fewer than 10"}, 500, _)
    assert list(shown.columns[:3]) == ["Police section", "Per 1,000 residents, smoothed", "Per 1,000 residents"]
    assert shown.columns[-1] == "Municipality"
    assert list(shown["Incidents"]) == ["5", "40", "fewer than 10"]
    assert list(shown["Note"]) == ["", "", "fewer than 500 residents: not ranked"]
    ranked = ot.ranked_sections(measures(), SECTIONS, "change", False, 500, _)
    change = ot.ranking_table(ranked, "change", False, None, 500, _)
    assert list(change.columns[:2]) == ["Police section", "Change vs previous period"]
    strong = _.label("change_flag", "strong_increase")
    assert list(change["Change vs previous period"]) == ["+20 · " + strong, "+1", "-2"]
    assert list(change["Change vs a year earlier"])[1] == "–"  # S1 has no year earlier
    assert "Note" not in change and list(change["Incidents"]) == ["40", "5", "3"]


def test_the_table_title_follows_the_measure():
    assert ot.table_title("count", _) == "Sections with the most incidents"
