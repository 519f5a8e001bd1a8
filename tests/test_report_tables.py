"""The Data page's tables and decisions, on small hand-made reports and frames (no app)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from geo import exports, report_tables, uploads
from geo.i18n import translator
from geo.public import PublicPolicy
from geo.report import Report

_ = translator("en")


def a_report() -> Report:
    rep = Report()
    rep.add("bad_date", "incidents", "inc.csv", "row 3: 'yesterday' is no date", row=3, field="occurred_at", value="x")
    rep.add("missing_crs", "sections", "s.geojson", "no coordinate system")
    rep.set_counts("sections", loaded=3, accepted=3, rejected=0, repaired=1)
    rep.set_counts("incidents", loaded=10, joined=6, outside=1, rejected=2)  # one record is not accounted for
    return rep


def test_the_problems_table_has_one_row_a_problem_and_a_blank_row_for_a_whole_file_problem():
    table = report_tables.problems_table(a_report(), _)
    assert list(table[_("Code")]) == ["bad_date", "missing_crs"]
    assert list(table[_("Value")]) == ["x", ""]
    assert list(table[_("Row")]) == ["3", ""]  # a row problem beside a whole-file one: not "3.0" and "nan"
    rows_only, whole_file_only = Report(), Report()
    rows_only.problems, whole_file_only.problems = a_report().problems[:1], a_report().problems[1:]
    assert list(report_tables.problems_table(rows_only, _)[_("Row")]) == ["3"]
    assert list(report_tables.problems_table(whole_file_only, _)[_("Row")]) == [""]
    assert list(table.columns[:3]) == [_("Severity"), _("Input"), _("Row")]
    assert report_tables.problems_table(Report(), _).empty


def test_the_counts_table_says_per_input_whether_it_adds_up_and_blanks_what_does_not_apply():
    table = report_tables.counts_table(a_report(), _)
    assert list(table[_("Input")]) == [_.input("sections"), _.input("incidents")]
    assert list(table[_("Adds up")]) == ["✓", "✗"]
    assert table.columns[-1] == _("Adds up")
    assert table[_.count("repaired")].isna().tolist() == [False, True]
    shown = report_tables.shown_counts(table, _)
    assert list(shown[_.count("repaired")]) == ["1", ""]
    assert list(shown[_.count("loaded")]) == ["3", "10"]
    assert report_tables.counts_table(Report(), _).empty


def test_the_outcome_says_nothing_loaded_every_record_used_or_how_many_were_rejected():
    assert report_tables.outcome_text(Report(), _) == _("No records were loaded.")
    rep = Report()
    rep.set_counts("meetings", loaded=2, matched=2, rejected=0)
    assert report_tables.outcome_text(rep, _) == _("Every record was used.")
    assert "2" in report_tables.outcome_text(a_report(), _)
    assert report_tables.outcome_text(a_report(), _) != _("Every record was used.")


def test_problem_messages_put_errors_first_escape_markdown_and_cut_after_ten():
    rep = Report()
    for i in range(12):
        rep.add("bad_number", "incidents", "i.csv", f"row {i}: *{i}*", row=i)
    rep.add("missing_crs", "sections", "s.geojson", "no crs")
    blocks = report_tables.problem_messages(rep, _)
    assert len(blocks) == 2
    assert "`missing_crs`" in blocks[0]  # the error before the warnings
    assert "`bad_number`" in blocks[1] and "12)" in blocks[1]
    assert blocks[1].count("\n- ") == report_tables.MESSAGES_SHOWN + 1  # ten messages and "… and 2 more"
    assert "row 11" not in blocks[1] and "\\*0\\*" in blocks[1]


def test_records_outside_every_section_are_listed_and_located_records_in_a_section_or_without_place_are_not():
    incidents = pd.DataFrame(
        {
            "incident_id": ["a", "b", "c"],
            "occurred_at": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-04"]),
            "category": ["theft", "theft", "burglary"],
            "section_id": pd.array(["S1", None, None], dtype="string"),
            "lon": [21.1, 21.2, np.nan],
            "lat": [42.6, 42.7, np.nan],
            "row": [1, 2, 3],
        }
    )
    table = report_tables.outside_table(incidents, "incidents", _)
    assert list(table[_("Record")]) == ["b"]
    assert list(table[_("Row")]) == [2]
    assert list(table[_("Category")]) == [_.term("incident_category", "theft")]
    assert report_tables.outside_table(incidents.iloc[:1], "incidents", _).empty


def test_the_loaded_table_names_each_file_and_counts_records_only_when_asked():
    frames = {n: pd.DataFrame({"x": range(k)}) for k, n in enumerate(uploads.INPUTS)}
    data = SimpleNamespace(**frames)
    table = report_tables.loaded_table(data, {"sections": "/tmp/x/own-sections.geojson"}, _, counted=True)
    assert table[_("File")].tolist()[:2] == ["own-sections.geojson", "–"]
    assert table[_("Records used")].tolist()[:3] == ["0", "1", "2"]
    assert _("Records used") not in report_tables.loaded_table(data, {}, _, counted=False)


def test_the_data_downloads_are_marked_and_single_incidents_and_problems_are_withheld_in_public():
    data = SimpleNamespace(is_demo=True, report=a_report())
    restricted = exports.data_downloads(data, None)
    names = [d.file_name for d in restricted]
    assert names[:2] == ["demo-sections-RESTRICTED.geojson", "demo-incidents-RESTRICTED.csv"]
    assert not any(d.restricted for d in restricted)
    assert b"missing_crs" in restricted[5].build()
    public = exports.data_downloads(SimpleNamespace(is_demo=False, report=a_report()), PublicPolicy())
    assert [d.restricted for d in public] == [False, True, False, False, False, True]
    assert public[1].build() == b"" and public[5].build() == b""
    assert public[0].file_name == "data-sections-PUBLIC.geojson"


def test_place_choices_offer_none_then_the_meant_places_then_the_others_in_shown_order():
    choices = uploads.place_choices("committees", "municipality", ("Pejë",), _.municipality)
    assert choices[:2] == ["", "Pejë"] and choices.count("Pejë") == 1
    rest = choices[2:]
    assert rest == sorted(rest, key=lambda k: uploads.places.normalize(_.municipality(k)))
    regions = uploads.place_choices("sections", "region", (), _.region)
    assert len(regions) == len(uploads.places.REGIONS) + 1
    with pytest.raises(ValueError, match="holds no place names"):
        uploads.place_choices("incidents", "category", (), str)


def test_missing_fields_are_the_required_ones_without_a_column():
    assert uploads.missing_fields("incidents", {"category": "cat"}) == ["occurred_at"]
    assert uploads.missing_fields("incidents", {"category": "c", "occurred_at": "d"}) == []


def test_an_upload_is_usable_only_when_its_sections_loaded_without_error():
    ok = SimpleNamespace(report=Report(), sections=pd.DataFrame({"section_id": ["S1"]}))
    assert uploads.usable(ok)
    assert not uploads.usable(SimpleNamespace(report=Report(), sections=pd.DataFrame()))
    bad = Report()
    bad.add("missing_crs", "sections", "s.geojson", "no crs")
    assert not uploads.usable(SimpleNamespace(report=bad, sections=ok.sections))
