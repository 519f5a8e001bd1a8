"""Exported files carry their marking (PUBLIC / RESTRICTED) in content and name; the map export is one code path."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from dashboard_fixtures import EVIL, tiny_dataset

from geo import exports, figures
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
    assert raw.startswith(b"\xef\xbb\xbfclassification,")  # BOM, then the marking column first
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
    assert raw.decode("utf-8-sig").splitlines()[0].startswith("classification,")


@pytest.mark.parametrize("bad", ["public", "SECRET", ""])
def test_unknown_markings_are_refused(data, bad):
    with pytest.raises(ValueError, match="PUBLIC, RESTRICTED"):
        exports.csv_bytes(data.committees, bad)
    with pytest.raises(ValueError, match="PUBLIC, RESTRICTED"):
        exports.sections_geojson(data.sections, bad)


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
    public = exports.overview_map_html(data, march, "en", policy=PublicPolicy())
    assert "<title>PUBLIC · " in public and "RESTRICTED" not in public


def test_map_html_refuses_bad_arguments(data):
    march = figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    with pytest.raises(ValueError, match="Atlantis"):
        exports.overview_map_html(data, march, municipality="Atlantis")
    with pytest.raises(ValueError, match="measure"):
        exports.overview_map_html(data, march, measure="density")
    with pytest.raises(ValueError, match="withheld"):
        exports.overview_map_html(data, march, categories=["domestic_violence"], policy=PublicPolicy())
