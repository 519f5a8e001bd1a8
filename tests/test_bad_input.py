"""Nothing dropped or corrupted silently (issue 10, section 4): layers, counts, dates, thousands separators,
a sections file without a usable section, repeated columns, unknown CRS codes, UTF-16, empty periods.

Every test here failed before: the data went missing or wrong while the report said ok.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from geo import figures, filecache, uploads
from geo.cli import main
from geo.loader import LoadOptions, load_files
from geo.source import FileSource

HEADER = "incident_id,occurred_at,category,lat,lon,count\n"
#: Inside grid section S1.
AT_S1 = "42.65,21.15"


def incidents_csv(write, *rows: str, name: str = "incidents.csv") -> Path:
    return write(name, HEADER + "".join(r + "\n" for r in rows))


def codes(report, code: str) -> list[tuple[int | None, str | None, object]]:
    return [(p.row, p.field, p.value) for p in report.problems if p.code == code]


# ---------------------------------------------------------------- several layers


def two_layer_gpkg(path: Path, grid) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid.to_file(path, layer="all_four", driver="GPKG", engine="pyogrio")
        grid.iloc[:2].to_file(path, layer="two_only", driver="GPKG", engine="pyogrio")
    return path


def two_shapefile_zip(path: Path, grid) -> Path:
    folder = path.parent / "shp"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid.to_file(folder / "all_four.shp", engine="pyogrio")
        grid.iloc[:2].to_file(folder / "two_only.shp", engine="pyogrio")
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return path


@pytest.mark.parametrize("kind", ["gpkg", "zip"])
def test_several_layers_are_reported_and_the_skipped_named_without_a_python_warning(tmp_path, grid, kind, found):
    path = (two_layer_gpkg if kind == "gpkg" else two_shapefile_zip)(tmp_path / f"sections.{kind}", grid)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_files({"sections": path})
    assert [str(w.message) for w in caught if "layer" in str(w.message)] == []
    assert found(ds.report, "several_layers") == [(None, None)]
    problem = next(p for p in ds.report.problems if p.code == "several_layers")
    assert "'all_four'" in problem.message and "'two_only'" in problem.message and "skipped" in problem.message
    assert problem.severity == "warning" and problem.file == path.name
    assert len(ds.sections) == 4


@pytest.mark.parametrize("kind", ["gpkg", "zip"])
def test_the_layer_option_reads_the_named_layer(tmp_path, grid, kind, found):
    path = (two_layer_gpkg if kind == "gpkg" else two_shapefile_zip)(tmp_path / f"sections.{kind}", grid)
    ds = load_files({"sections": path}, LoadOptions(layer={"sections": "two_only"}))
    assert ds.report.ok and found(ds.report, "several_layers") == []
    assert sorted(ds.sections["section_id"]) == ["S1", "S2"]
    bad = load_files({"sections": path}, LoadOptions(layer={"sections": "nine"}))
    assert found(bad.report, "unknown_layer") == [(None, None)]
    assert "'all_four', 'two_only'" in bad.report.errors[0].message


def test_cli_layer_option(tmp_path, grid, capsys):
    path = two_layer_gpkg(tmp_path / "sections.gpkg", grid)
    assert main(["validate", "--sections", str(path), "--layer", "sections=two_only", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["sections"]["accepted"] == 2 and out["warnings"] == []


def test_the_data_page_shows_which_layer_was_read(tmp_path, grid):
    from dashboard_fixtures import ok
    from test_pages import DATA_PAGE, run

    path = two_layer_gpkg(tmp_path / "sections.gpkg", grid)
    at = run(FileSource({"sections": path}, label="upload"), "en", DATA_PAGE)
    ok(at)
    problems = next(d.value for d in at.dataframe if "Code" in d.value.columns)
    row = problems[problems["Code"] == "several_layers"].iloc[0]
    assert row["File"] == "sections.gpkg" and "'two_only'" in row["Details"]


# ---------------------------------------------------------------- counts that would overflow


def test_counts_above_the_maximum_are_rejected_so_no_sum_overflows(load, write, found):
    path = incidents_csv(
        write,
        f"I1,2024-03-18,traffic_ticket,{AT_S1},1e19",
        f"I2,2024-03-18,traffic_ticket,{AT_S1},5000000000000000000",
        f"I3,2024-03-18,traffic_ticket,{AT_S1},5000000000000000000",
        f"I4,2024-03-18,traffic_ticket,{AT_S1},1000000",
        f"I5,2024-03-18,traffic_ticket,{AT_S1},1000001",
    )
    ds = load(incidents=path)
    assert found(ds.report, "count_too_large") == [(1, "count"), (2, "count"), (3, "count"), (5, "count")]
    assert ds.incidents["count"].tolist() == [1_000_000]
    assert ds.report.counts["incidents"] == {"loaded": 5, "joined": 1, "outside": 0, "rejected": 4}
    assert int(ds.incidents["count"].sum()) > 0


def test_the_count_maximum_is_an_option(load, write, found):
    path = incidents_csv(write, f"I1,2024-03-18,theft,{AT_S1},12", f"I2,2024-03-18,theft,{AT_S1},10")
    ds = load(LoadOptions(max_count=10), incidents=path)
    assert found(ds.report, "count_too_large") == [(1, "count")]
    assert "at most 10" in ds.report.problems[0].expected


def test_parquet_counts_near_the_int64_limit_are_rejected(load, tmp_path, found):
    path = tmp_path / "incidents.parquet"
    frame = pd.DataFrame(
        {
            "incident_id": ["I1", "I2"],
            "occurred_at": ["2024-03-18", "2024-03-18"],
            "category": ["theft", "theft"],
            "lat": [42.65, 42.65],
            "lon": [21.15, 21.15],
            "count": pd.array([2**62, 3], dtype="int64"),
        }
    )
    frame.to_parquet(path)
    ds = load(incidents=path)
    assert found(ds.report, "count_too_large") == [(1, "count")]
    assert ds.incidents["count"].tolist() == [3]


# ---------------------------------------------------------------- implausible dates


def test_dates_outside_the_plausible_range_are_rejected(sections_path, write, found, check_counts):
    path = incidents_csv(
        write,
        f"I1,9999-12-31,theft,{AT_S1},1",
        f"I2,1900-01-01,theft,{AT_S1},1",
        f"I3,1989-12-31,theft,{AT_S1},1",
        f"I4,1990-01-01,theft,{AT_S1},1",
        f"I5,2024-03-19 23:59,theft,{AT_S1},1",
        f"I6,2024-03-20,theft,{AT_S1},1",
    )
    ds = load_files({"sections": sections_path, "incidents": path}, today=dt.date(2024, 3, 18))
    check_counts(ds)
    assert found(ds.report, "implausible_date") == [
        (1, "occurred_at"),
        (2, "occurred_at"),
        (3, "occurred_at"),
        (6, "occurred_at"),
    ]
    assert ds.incidents["incident_id"].tolist() == ["I4", "I5"]  # up to one day after today
    assert "1990-01-01 to 2024-03-19" in ds.report.problems[0].expected
    # the default period is no longer December 9999 (the Brief page crashed with OverflowError)
    assert figures.default_period(ds.data_as_of) == figures.Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))


def test_the_plausible_dates_are_options(sections_path, write, found):
    path = write(
        "concerns.csv",
        "concern_id,raised_on,category,lat,lon,resolved_on\n"
        f"C1,2019-12-31,theft,{AT_S1},\nC2,2020-01-01,theft,{AT_S1},2021-01-01\nC3,2020-06-01,theft,{AT_S1},\n",
    )
    options = LoadOptions(earliest="2020-01-01", latest="2020-12-31")
    ds = load_files({"sections": sections_path, "concerns": path}, options)
    assert found(ds.report, "implausible_date") == [(1, "raised_on"), (2, "resolved_on")]
    assert ds.concerns["concern_id"].tolist() == ["C3"]


def test_the_default_latest_date_follows_the_injected_clock_in_kosovo_time():
    from geo.loader import local_today

    # 23:30 UTC on 31 December is already 1 January in Prishtinë (UTC+1)
    assert local_today(dt.datetime(2023, 12, 31, 23, 30, tzinfo=dt.UTC)) == dt.date(2024, 1, 1)
    assert local_today(dt.datetime(2024, 7, 1, 21, 59, tzinfo=dt.UTC)) == dt.date(2024, 7, 1)
    assert LoadOptions().date_range(today=dt.date(2024, 1, 1)) == (dt.date(1990, 1, 1), dt.date(2024, 1, 2))


# ---------------------------------------------------------------- thousands separators


def test_counts_with_a_thousands_separator_are_rejected_never_read_as_one(load, write, found):
    path = write(
        "incidents.csv",
        "incident_id;occurred_at;category;lat;lon;count\n"
        "I1;2024-03-18;traffic_ticket;42.65;21.15;1,000\n"
        "I2;2024-03-18;traffic_ticket;42.65;21.15;1.000\n"
        "I3;2024-03-18;traffic_ticket;42.65;21.15;12.345.678\n"
        "I4;2024-03-18;traffic_ticket;42.65;21.15;1 000\n"
        "I5;2024-03-18;traffic_ticket;42.65;21.15;7\n",
    )
    ds = load(incidents=path)
    assert found(ds.report, "bad_number") == [(1, "count"), (2, "count"), (3, "count")]
    assert "--number-format incidents=" in ds.report.problems[0].expected
    assert ds.incidents["count"].tolist() == [1000, 7]


@pytest.mark.parametrize(
    "fmt, cells, read, bad",
    [
        ("1.234", ["1.000", "12.345", "7", "1,000"], [1000, 12345, 7], [4]),
        ("1,234", ["1,000", "12,345", "7", "1.000"], [1000, 12345, 7], [4]),
        ("1 234", ["1 000", "12 345", "7", "1.000"], [1000, 12345, 7], [4]),
    ],
)
def test_the_number_format_option_reads_grouped_counts(load, write, found, fmt, cells, read, bad):
    rows = "".join(f"I{i};2024-03-18;theft;42.65;21.15;{c}\n" for i, c in enumerate(cells, start=1))
    path = write("incidents.csv", "incident_id;occurred_at;category;lat;lon;count\n" + rows)
    ds = load(LoadOptions(number_format={"incidents": fmt}), incidents=path)
    assert ds.incidents["count"].tolist() == read
    assert [r for r, _f in found(ds.report, "bad_number")] == bad


def test_cli_number_format_max_count_and_dates(sections_path, write, capsys):
    path = write(
        "incidents.csv",
        "incident_id;occurred_at;category;lat;lon;count\n"
        "I1;2024-03-18;theft;42.65;21.15;1.000\nI2;2024-03-18;theft;42.65;21.15;2.000\n"
        "I3;2023-03-18;theft;42.65;21.15;1\n",
    )
    argv = ["validate", "--sections", str(sections_path), "--incidents", str(path), "--json"]
    assert main([*argv, "--number-format", "incidents=1.234", "--max-count", "1500", "--earliest", "2024-01-01"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted((w["code"], w["row"]) for w in out["warnings"]) == [("count_too_large", 2), ("implausible_date", 3)]
    with pytest.raises(SystemExit):
        main([*argv, "--number-format", "incidents=1'234"])
    assert "1.234, 1,234, 1 234" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*argv, "--earliest", "2024-02-01", "--latest", "2024-01-01"])


# ---------------------------------------------------------------- the new options reach the cache key and options.json


def test_every_new_option_reaches_the_cache_key_and_the_saved_options(sections_path):
    base = LoadOptions()
    changed = [
        LoadOptions(layer={"sections": "b"}),
        LoadOptions(number_format={"incidents": "1.234"}),
        LoadOptions(max_count=5),
        LoadOptions(earliest="2000-01-01"),
        LoadOptions(latest="2030-01-01"),
    ]
    paths = {"sections": sections_path}
    keys = {filecache.key(paths, o) for o in [base, *changed]}
    assert len(keys) == 1 + len(changed)
    prints = {FileSource(paths, o).fingerprint() for o in [base, *changed]}
    assert len(prints) == 1 + len(changed)
    for o in changed:
        saved = json.loads(json.dumps(uploads.options_to_dict(o)))
        assert uploads.options_from_dict(saved) == o
    # options.json written before these options existed still loads, with the defaults
    assert uploads.options_from_dict({"columns": {}, "values": {}, "crs": {}, "encoding": {}}) == base


# ---------------------------------------------------------------- a sections file without a usable section


def test_a_sections_file_whose_only_section_is_rejected_is_an_error(tmp_path, make_sections, square, write_boundaries):
    gdf = make_sections([square(21.1, 42.6)], ids=[None])
    path = write_boundaries(gdf, tmp_path / "sections.geojson")
    ds = load_files({"sections": path})
    assert not ds.report.ok
    assert [p.code for p in ds.report.errors] == ["no_sections"]
    assert ds.report.counts["sections"] == {"loaded": 1, "accepted": 0, "rejected": 1, "repaired": 0}


# ---------------------------------------------------------------- repeated columns, unknown CRS codes, UTF-16


def test_a_repeated_column_that_is_used_is_an_error(load, write, found):
    path = write("incidents.csv", "incident_id,occurred_at,category,lat,lon,lat\nI1,2024-03-18,theft,42.65,21.15,0\n")
    ds = load(incidents=path)
    assert found(ds.report, "duplicate_column") == [(None, "lat")]
    assert "columns 4, 6" in ds.report.errors[0].message
    assert "incidents" not in ds.report.counts


def test_columns_that_differ_only_in_case_are_repeated_too(load, write, found):
    path = write("incidents.csv", "incident_id,occurred_at,category,lat,lon,LAT\nI1,2024-03-18,theft,42.65,21.15,0\n")
    ds = load(incidents=path)
    assert found(ds.report, "duplicate_column") == [(None, "lat")]


def test_a_repeated_column_that_is_not_used_is_a_warning(load, write, found):
    path = write(
        "incidents.csv", "incident_id,occurred_at,category,lat,lon,note,note\nI1,2024-03-18,theft,42.65,21.15,a,b\n"
    )
    ds = load(incidents=path)
    assert found(ds.report, "duplicate_column") == [(None, None)]
    assert ds.report.ok and ds.report.problems[0].severity == "warning"
    assert ds.report.counts["incidents"]["joined"] == 1


def test_a_geojson_crs_member_with_an_unknown_code_is_an_error(tmp_path, grid, write_boundaries, found):
    path = write_boundaries(grid, tmp_path / "sections.geojson")
    doc = json.loads(path.read_text())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}
    path.write_text(json.dumps(doc))
    ds = load_files({"sections": path})
    assert found(ds.report, "bad_crs") == [(None, "crs")]
    assert ds.report.errors[0].value == "urn:ogc:def:crs:EPSG::999999"
    # --crs overrides what the file declares
    assert load_files({"sections": path}, LoadOptions(crs={"sections": "EPSG:4326"})).report.ok


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_with_a_byte_order_mark_are_read(sections_path, tmp_path, codec, check_counts):
    text = (
        "incident_id;occurred_at;category;lat;lon\nI1;2024-03-18;Vjedhje;42,65;21,15\nI2;2024-03-18;Krađa;42,65;21,15\n"
    )
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "incidents.csv"
    path.write_bytes(data)
    ds = load_files({"sections": sections_path, "incidents": path})
    check_counts(ds)
    assert ds.report.problems == []
    assert ds.incidents["category"].astype(str).tolist() == ["theft", "theft"]


# ---------------------------------------------------------------- a period without incidents


def test_empty_period_says_what_the_data_covers():
    inc = pd.DataFrame({"occurred_at": pd.to_datetime(["2024-01-05", "2024-02-20"])})
    assert figures.empty_period(inc, figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))) == (
        dt.date(2024, 1, 5),
        dt.date(2024, 2, 20),
    )
    assert figures.empty_period(inc, figures.Period(dt.date(2024, 2, 1), dt.date(2024, 2, 29))) is None
    assert figures.empty_period(inc.iloc[:0], figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))) is None


def test_the_command_line_says_when_the_period_has_no_incidents(load, write, tmp_path, capsys, sections_path):
    path = incidents_csv(write, f"I1,2024-01-05,theft,{AT_S1},1", f"I2,2024-02-20,theft,{AT_S1},1")
    out = tmp_path / "brief.html"
    argv = ["brief", "--sections", str(sections_path), "--incidents", str(path), "--municipality", "Prishtinë"]
    assert main([*argv, "--from", "2024-03-01", "--to", "2024-03-31", "--out", str(out), "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert "no incidents between 2024-03-01 and 2024-03-31; the data covers 2024-01-05 to 2024-02-20" in err
    assert main([*argv, "--from", "2024-02-01", "--to", "2024-02-29", "--out", str(out), "--lang", "en"]) == 0
    assert "no incidents" not in capsys.readouterr().err


def test_the_pages_say_when_the_period_has_no_incidents():
    from dashboard_fixtures import TinySource, ok, texts
    from test_pages import run

    from geo import i18n

    _ = i18n.translator("en")
    at = run(TinySource(), "en")
    ok(at)
    assert "No incidents between" not in texts(at)
    at.sidebar.date_input(key="period_start").set_value(dt.date(2030, 1, 1)).run()
    at.sidebar.date_input(key="period_end").set_value(dt.date(2030, 1, 31)).run()
    ok(at)
    data = TinySource().load()
    first = data.incidents["occurred_at"].min()
    last = data.incidents["occurred_at"].max()
    expected = _(
        "No incidents between {start} and {end}; the data covers {first} to {last}.",
        start=_.date(dt.date(2030, 1, 1)),
        end=_.date(dt.date(2030, 1, 31)),
        first=_.date(first),
        last=_.date(last),
    )
    assert expected in [i.value for i in at.info]
    for page in ("views/hotspots.py", "views/print.py"):
        at.switch_page(page).run()
        ok(at)
        assert expected in [i.value for i in at.info]


def test_empty_period_answers_the_same_from_the_cube():
    """The pages ask the cube (no scan of the records on every rerun); it gives the table's answer."""
    from geo.cube import IncidentCube

    inc = pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(["2024-01-05 10:00", "2024-02-20 23:30"]),
            "category": ["theft", "theft"],
            "count": [1, 1],
            "section_id": pd.array(["S1", "S1"], dtype="string"),
            "lon": [21.1, 21.1],
            "lat": [42.6, 42.6],
        }
    )
    cube = IncidentCube.build(inc)
    for start, end in (("2024-03-01", "2024-03-31"), ("2024-02-01", "2024-02-29"), ("2023-12-01", "2023-12-31")):
        period = figures.Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        assert figures.empty_period(cube, period) == figures.empty_period(inc, period)
    assert figures.empty_period(cube, figures.Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31))) == (
        dt.date(2024, 1, 5),
        dt.date(2024, 2, 20),
    )
