"""Readers: every boundary and table format, CSV dialects and encodings, whole-file problems."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from geo.io import (
    LoadError,
    detect_delimiter,
    detect_encoding,
    read_boundaries,
    read_csv,
    read_table,
    suffix_of,
)
from geo.report import Report

NATIVE = "ë ç č ć đ š ž Ë Ç Č Ć Đ Š Ž"


# ---------------------------------------------------------------- helpers of the readers


@pytest.mark.parametrize(
    "name, suffix",
    [
        ("a.geojson", ".geojson"),
        ("A.GPKG", ".gpkg"),
        ("sections.zip", ".zip"),
        ("sections.shp.zip", ".zip"),
        ("x.parquet", ".parquet"),
        ("x.CSV", ".csv"),
    ],
)
def test_suffix_of(name, suffix, tmp_path):
    assert suffix_of(tmp_path / name) == suffix


@pytest.mark.parametrize(
    "header, delimiter",
    [
        ("a,b,c", ","),
        ("a;b;c", ";"),
        ("a\tb\tc", "\t"),
        ("a|b|c", "|"),
        ("single", ","),
        ("a;b,c;d", ";"),
    ],
)
def test_detect_delimiter(header, delimiter):
    assert detect_delimiter(header) == delimiter


def test_detect_encoding_utf8_with_and_without_bom():
    text = f"name\n{NATIVE}\n"
    assert detect_encoding(text.encode("utf-8")) == ("utf-8", False)
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8")) == ("utf-8-sig", False)
    assert detect_encoding(b"plain ascii") == ("utf-8", False)


def test_detect_encoding_cp1250_serbian_letters():
    data = "Krađa; Čačak; Šćepan; Žižak; ć".encode("cp1250")
    assert detect_encoding(data) == ("cp1250", True)


def test_detect_encoding_cp1252_albanian_letters_decode_intact():
    # Albanian ë and ç have the same bytes in both code pages: either guess reads them right
    data = "Vjedhje e veçantë; Çarshia; Ëndërr".encode("cp1252")
    enc, guessed = detect_encoding(data)
    assert guessed
    assert enc in ("cp1250", "cp1252")
    assert data.decode(enc) == "Vjedhje e veçantë; Çarshia; Ëndërr"


def test_detect_encoding_cp1252_only_bytes():
    # 0x83 (ƒ) and 0x88 (ˆ) are undefined in cp1250: only cp1252 decodes them
    data = "ƒ ˆ ë".encode("cp1252")
    assert detect_encoding(data) == ("cp1252", True)


# ---------------------------------------------------------------- CSV dialects and encodings


def _csv(tmp_path, text: str, encoding="utf-8", bom=False, name="t.csv"):
    p = tmp_path / name
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return p


# the second name holds commas, so it is quoted (as every spreadsheet writes it, whatever the separator)
CSV_TEXT = 'id{s}name{s}value\n1{s}Krađa në Prishtinë{s}{v1}\n2{s}"Vjedhje e veçantë – Čačak, Šid, Žabalj"{s}{v2}\n'


@pytest.mark.parametrize(
    "sep, values",
    [
        (",", ("42.5", "21.25")),
        (";", ("42,5", "21,25")),
        ("\t", ("42.5", "21.25")),
        ("|", ("42,5", "21,25")),
    ],
)
@pytest.mark.parametrize("bom", [False, True])
def test_read_csv_dialects_utf8(tmp_path, sep, values, bom):
    text = CSV_TEXT.format(s=sep, v1=values[0], v2=values[1])
    report = Report()
    raw = read_csv(_csv(tmp_path, text, bom=bom), "incidents", report)
    assert report.problems == []
    assert list(raw.frame.columns) == ["id", "name", "value"]  # no BOM left in the first name
    assert raw.encoding == ("utf-8-sig" if bom else "utf-8")
    assert raw.frame["name"].tolist() == ["Krađa në Prishtinë", "Vjedhje e veçantë – Čačak, Šid, Žabalj"]
    assert raw.frame["value"].tolist() == list(values)  # cells stay text; numbers are validation's job
    assert raw.frame.index.tolist() == [0, 1]


@pytest.mark.parametrize(
    "encoding, text",
    [
        ("cp1250", "id;name\n1;Krađa čćđšž ČĆĐŠŽ\n2;Vjedhje e veçantë\n"),
        ("cp1252", "id;name\n1;Vjedhje e veçantë\n2;Çështje ËË šž\n"),
    ],
)
def test_read_csv_windows_code_pages_are_guessed_and_reported(tmp_path, encoding, text):
    report = Report()
    raw = read_csv(_csv(tmp_path, text, encoding=encoding), "incidents", report)
    assert [(p.code, p.row, p.field) for p in report.problems] == [("encoding_guessed", None, None)]
    assert report.problems[0].severity == "warning"
    assert report.problems[0].input == "incidents"
    assert report.problems[0].file == "t.csv"
    expected = [line.split(";")[1] for line in text.splitlines()[1:]]
    assert raw.frame["name"].tolist() == expected


@pytest.mark.parametrize("encoding", ["cp1250", "cp1252"])
def test_read_csv_encoding_override_is_not_a_guess(tmp_path, encoding):
    text = "id;name\n1;Vjedhje e veçantë Ë\n"
    report = Report()
    raw = read_csv(_csv(tmp_path, text, encoding=encoding), "concerns", report, encoding=encoding)
    assert report.problems == []
    assert raw.encoding == encoding
    assert raw.frame["name"].tolist() == ["Vjedhje e veçantë Ë"]


def test_read_csv_override_that_cannot_decode_is_unreadable(tmp_path):
    p = _csv(tmp_path, "id;name\n1;Krađa\n", encoding="cp1250")
    report = Report()
    with pytest.raises(LoadError):
        read_csv(p, "incidents", report, encoding="utf-8")
    assert [(p.code, p.row, p.field) for p in report.problems] == [("unreadable_file", None, None)]
    assert report.problems[0].value == "utf-8"


def test_read_csv_unknown_encoding_name_is_unreadable(tmp_path):
    report = Report()
    with pytest.raises(LoadError):
        read_csv(_csv(tmp_path, "a\n1\n"), "incidents", report, encoding="no-such-codec")
    assert [p.code for p in report.problems] == ["unreadable_file"]


def test_read_csv_crlf_line_ends_and_padded_header(tmp_path):
    report = Report()
    raw = read_csv(_csv(tmp_path, " id ; name \r\n1;Pejë\r\n"), "incidents", report)
    assert list(raw.frame.columns) == ["id", "name"]
    assert raw.frame["name"].tolist() == ["Pejë"]


def test_read_csv_keeps_empty_cells_as_empty_text(tmp_path):
    raw = read_csv(_csv(tmp_path, "a,b\n1,\n,NA\n"), "incidents", Report())
    assert raw.frame["a"].tolist() == ["1", ""]
    assert raw.frame["b"].tolist() == ["", "NA"]  # "NA" is not turned into a missing value


def test_read_csv_rows_longer_than_header_are_not_shifted(tmp_path):
    # decimal commas in a comma-separated file, unquoted: every row has 6 fields under a 4-field header
    p = _csv(tmp_path, "occurred_at,category,lat,lon\n2024-03-18,theft,42,65,21,15\n2024-03-19,theft,42,75,21,25\n")
    report = Report()
    with pytest.raises(LoadError):
        read_csv(p, "incidents", report)
    assert [(p.code, p.row, p.field) for p in report.problems] == [("unreadable_file", None, None)]


def test_read_csv_ragged_rows_are_unreadable(tmp_path):
    p = _csv(tmp_path, "a,b\n1,2\n3,4,5,6\n")
    report = Report()
    with pytest.raises(LoadError):
        read_csv(p, "incidents", report)
    assert [p.code for p in report.problems] == ["unreadable_file"]


# ---------------------------------------------------------------- empty and unsupported files


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_empty_csv_is_an_error(tmp_path, content):
    p = tmp_path / "empty.csv"
    p.write_bytes(content)
    report = Report()
    with pytest.raises(LoadError):
        read_table(p, "incidents", report)
    assert [(p.code, p.severity, p.row, p.field) for p in report.problems] == [("empty_file", "error", None, None)]


def test_csv_with_only_a_header_is_empty(tmp_path):
    report = Report()
    with pytest.raises(LoadError):
        read_table(_csv(tmp_path, "occurred_at,category,lat,lon\n"), "incidents", report)
    assert [(p.code, p.row, p.field) for p in report.problems] == [("empty_file", None, None)]


def test_geojson_table_without_features_is_empty(tmp_path):
    p = tmp_path / "incidents.geojson"
    p.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    report = Report()
    with pytest.raises(LoadError):
        read_table(p, "incidents", report)
    assert [p.code for p in report.problems] == ["empty_file"]


@pytest.mark.parametrize("name", ["sections.geojson", "sections.gpkg", "sections.zip", "sections.parquet"])
def test_empty_boundary_file_is_an_error(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"")
    report = Report()
    with pytest.raises(LoadError):
        read_boundaries(p, "sections", report)
    assert [(p.code, p.row, p.field) for p in report.problems] == [("empty_file", None, None)]


@pytest.mark.parametrize(
    "reader, name, input",
    [(read_boundaries, "sections.kml", "sections"), (read_table, "incidents.xlsx", "incidents")],
)
def test_unsupported_format(tmp_path, reader, name, input):
    p = tmp_path / name
    p.write_bytes(b"something")
    report = Report()
    with pytest.raises(LoadError):
        reader(p, input, report)
    assert [p.code for p in report.problems] == ["unsupported_format"]
    assert report.problems[0].value == "." + name.rsplit(".", 1)[1]


@pytest.mark.parametrize("reader", [read_boundaries, read_table])
def test_missing_file_is_unreadable(tmp_path, reader):
    report = Report()
    with pytest.raises(LoadError):
        reader(tmp_path / "nowhere.geojson", "sections", report)
    assert [p.code for p in report.problems] == ["unreadable_file"]


def test_garbage_geojson_is_unreadable(tmp_path):
    p = tmp_path / "sections.geojson"
    p.write_text("this is not json", encoding="utf-8")
    report = Report()
    with pytest.raises(LoadError):
        read_boundaries(p, "sections", report)
    assert [p.code for p in report.problems] == ["unreadable_file"]


def test_plain_parquet_is_not_a_boundary_file(tmp_path):
    p = tmp_path / "sections.parquet"
    pd.DataFrame({"section_id": ["S1"]}).to_parquet(p)
    report = Report()
    with pytest.raises(LoadError):
        read_boundaries(p, "sections", report)
    assert [p.code for p in report.problems] == ["unreadable_file"]


def test_boundaries_without_geometry_column(tmp_path):
    p = tmp_path / "sections.gpkg"
    import pyogrio

    pyogrio.write_dataframe(pd.DataFrame({"section_id": ["S1"]}), p, driver="GPKG")
    report = Report()
    with pytest.raises(LoadError):
        read_boundaries(p, "sections", report)
    assert [p.code for p in report.problems] == ["unreadable_file"]


# ---------------------------------------------------------------- boundary formats


@pytest.mark.parametrize("name", ["sections.geojson", "sections.gpkg", "sections.zip", "sections.parquet"])
def test_read_boundaries_every_format(tmp_path, grid, write_boundaries, name):
    path = write_boundaries(grid, tmp_path / name)
    report = Report()
    raw = read_boundaries(path, "sections", report)
    assert report.problems == []
    assert raw.file == name
    assert len(raw.frame) == len(raw.geometry) == 4
    assert raw.frame.index.tolist() == raw.geometry.index.tolist() == [0, 1, 2, 3]
    assert raw.crs is not None and raw.crs.to_epsg() == 4326
    assert "geometry" not in raw.frame.columns
    # the file's own columns come back (a Shapefile cuts names to 10 characters)
    cols = {c.lower() for c in raw.frame.columns}
    assert "section_id" in cols
    assert ("section_name" in cols) or ("section_na" in cols)
    sid = next(c for c in raw.frame.columns if c.lower() == "section_id")
    assert sorted(raw.frame[sid]) == ["S1", "S2", "S3", "S4"]
    # GeoJSON keeps 15 significant digits: equal within a nanodegree
    assert raw.geometry.normalize().geom_equals_exact(grid.geometry.normalize(), tolerance=1e-9).all()


def test_read_boundaries_declared_crs_is_kept(tmp_path, grid, write_boundaries):
    path = write_boundaries(grid.to_crs("EPSG:9141"), tmp_path / "sections.gpkg")
    raw = read_boundaries(path, "sections", Report())
    assert raw.crs.to_epsg() == 9141


def test_read_boundaries_without_crs(tmp_path, grid, write_boundaries):
    path = write_boundaries(grid.set_crs(None, allow_override=True), tmp_path / "sections.parquet")
    raw = read_boundaries(path, "sections", Report())
    assert raw.crs is None


# ---------------------------------------------------------------- table formats


def test_read_table_csv(tmp_path):
    p = _csv(tmp_path, "occurred_at;category;lat;lon\n18.03.2024;Vjedhje;42,65;21,15\n")
    raw = read_table(p, "incidents", Report())
    assert raw.geometry is None
    assert raw.frame.to_dict("records") == [
        {"occurred_at": "18.03.2024", "category": "Vjedhje", "lat": "42,65", "lon": "21,15"}
    ]


def test_read_table_geojson_points(tmp_path):
    import geopandas as gpd

    p = tmp_path / "incidents.geojson"
    gpd.GeoDataFrame(
        {"occurred_at": ["18.03.2024", "2024-03-19"], "category": ["Krađa", "theft"]},
        geometry=shapely.points([(21.15, 42.65), (21.25, 42.75)]),
        crs="EPSG:4326",
    ).to_file(p)
    raw = read_table(p, "incidents", Report())
    assert raw.geometry is not None and len(raw.geometry) == 2
    assert raw.frame["category"].tolist() == ["Krađa", "theft"]
    assert raw.crs.to_epsg() == 4326


def test_read_table_plain_parquet_keeps_types(tmp_path):
    p = tmp_path / "incidents.parquet"
    frame = pd.DataFrame(
        {
            "occurred_at": [pd.Timestamp(2024, 3, 18, 14, 5), pd.Timestamp(2024, 3, 19)],
            "category": ["Vjedhje e veçantë", "drugs"],
            "lat": [42.65, 42.75],
            "lon": [21.15, 21.25],
        }
    )
    frame.to_parquet(p)
    raw = read_table(p, "incidents", Report())
    assert raw.geometry is None
    assert pd.api.types.is_datetime64_any_dtype(raw.frame["occurred_at"])
    assert raw.frame["lat"].tolist() == [42.65, 42.75]
    assert raw.frame["category"].tolist() == ["Vjedhje e veçantë", "drugs"]


def test_read_table_geoparquet_points(tmp_path):
    import geopandas as gpd

    p = tmp_path / "incidents.parquet"
    gpd.GeoDataFrame(
        {"occurred_at": ["2024-03-18"], "category": ["theft"]},
        geometry=shapely.points([(21.15, 42.65)]),
        crs="EPSG:4326",
    ).to_parquet(p)
    raw = read_table(p, "incidents", Report())
    assert raw.geometry is not None
    assert raw.geometry.iloc[0].equals(shapely.Point(21.15, 42.65))


def test_read_table_broken_parquet_is_unreadable(tmp_path):
    p = tmp_path / "incidents.parquet"
    p.write_bytes(b"PAR1 not really")
    report = Report()
    with pytest.raises(LoadError):
        read_table(p, "incidents", report)
    assert [p.code for p in report.problems] == ["unreadable_file"]
