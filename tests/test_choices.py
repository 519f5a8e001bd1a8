"""The sidebar's choices: defaults, what is valid, the public view's period codes and category groups."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
from dashboard_fixtures import public_policy, tiny_dataset

from geo import choices, figures
from geo.i18n import translator

_ = translator("en")
D = dt.date


def test_period_codes_name_a_month_a_quarter_or_a_year():
    assert choices.period_code(figures.Period(D(2024, 3, 1), D(2024, 3, 31))) == "2024-03"
    assert choices.period_code(figures.Period(D(2024, 4, 1), D(2024, 6, 30))) == "2024-Q2"
    assert choices.period_code(figures.Period(D(2024, 1, 1), D(2024, 12, 31))) == "2024"


def test_the_public_sidebar_offers_the_covered_calendar_periods_by_code_newest_month_first():
    data = tiny_dataset()
    policy = public_policy()
    offered = choices.offered_periods(data, policy)
    periods = choices.public_periods(data, policy)
    assert list(offered) == [choices.period_code(p) for p in periods]
    assert list(offered.values()) == periods
    assert len(offered[next(iter(offered))].months()) == 1  # a month first


def test_new_data_resets_the_period_areas_and_categories_and_in_public_the_fixed_choices():
    data = tiny_dataset()
    restricted = choices.default_filters(data, None)
    period = figures.default_period(data.data_as_of)
    assert (restricted["period_start"], restricted["period_end"]) == (period.start, period.end)
    assert all(restricted[k] == "" for k in ("region", "municipality", "section", "search"))
    assert restricted["categories"] == [] and "public_period" not in restricted
    public = choices.default_filters(data, public_policy())
    assert public["public_period"] == next(iter(choices.offered_periods(data, public_policy())))
    assert public["public_categories"] == ""


def test_dates_in_the_wrong_order_are_swapped_and_said_so():
    assert choices.ordered_period(D(2024, 3, 31), D(2024, 3, 1)) == (
        figures.Period(D(2024, 3, 1), D(2024, 3, 31)),
        True,
    )
    assert choices.ordered_period(D(2024, 3, 1), D(2024, 3, 1))[1] is False


def test_the_area_boxes_offer_all_then_the_places_in_shown_order_and_tell_same_named_sections_apart():
    sections = pd.DataFrame(
        {
            "section_id": ["S1", "S2", "S3"],
            "section_name": ["Qendra", "Qendra", "Jugu"],
            "municipality": ["Pejë", "Istog", "Pejë"],
            "region": ["Pejë", "Pejë", "Pejë"],
        }
    )
    assert choices.municipality_options(sections, "Pejë", _) == ["", "Istog", "Pejë"]
    assert choices.section_labels(sections) == {"S1": "Qendra (S1)", "S2": "Qendra (S2)", "S3": "Jugu"}


def test_a_search_result_names_its_municipality_once_and_the_village_that_matched():
    rec = SimpleNamespace(section_name="Deçan", municipality="Deçan", matched="Deçan")
    assert choices.search_label(rec, _) == "Deçan"
    rec = SimpleNamespace(section_name="Qendra *1*", municipality="Pejë", matched="Vitomiricë")
    assert choices.search_label(rec, _) == "Qendra \\*1\\* · Pejë · village Vitomiricë"


def test_kept_categories_are_valid_only_when_all_are_known_and_groups_have_names():
    assert choices.valid_categories([]) and choices.valid_categories(["theft"])
    assert not choices.valid_categories(["theft", "no_such"])
    assert choices.category_group_name(_, "") == "All except traffic tickets"
    assert choices.category_group_name(_, "all") == "All categories"
    assert choices.category_group_name(_, "crimes") == "Crimes"
    assert choices.category_group_name(_, "theft") == _.term("incident_category", "theft")


def test_the_comparison_line_names_the_previous_month_quarter_year_months_or_days():
    month = choices.comparison_caption(_, figures.Period(D(2024, 3, 1), D(2024, 3, 31)))
    assert month.startswith("Compared with the previous month: ")
    assert "previous quarter" in choices.comparison_caption(_, figures.Period(D(2024, 4, 1), D(2024, 6, 30)))
    assert "previous year" in choices.comparison_caption(_, figures.Period(D(2024, 1, 1), D(2024, 12, 31)))
    assert "previous 2 months" in choices.comparison_caption(_, figures.Period(D(2024, 2, 1), D(2024, 3, 31)))
    assert "previous 10 days" in choices.comparison_caption(_, figures.Period(D(2024, 3, 1), D(2024, 3, 10)))
