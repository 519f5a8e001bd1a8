"""Validation: cell coercion, column mapping, CRS, geometry checks and every per-input validator.

Raw tables are built in memory (as the readers return them: CSV cells as text)
so each test states exactly what the file held.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Transformer

from geo import validation as v
from geo.io import LoadError, RawTable
from geo.report import Report
from geo.schema import INCIDENT_CATEGORIES, METRIC_CRS, PROBLEM_CODES


def text_table(header: str, *rows: str, sep: str = ",", file: str = "t.csv") -> RawTable:
    """A raw CSV table: every cell text, as :func:`geo.io.read_csv` returns it."""
    cols = header.split(sep)
    data = [r.split(sep) for r in rows]
    frame = pd.DataFrame(data, columns=cols, dtype=str) if data else pd.DataFrame(columns=cols, dtype=str)
    return RawTable(file, frame)


def boundary_table(gdf: gpd.GeoDataFrame, file: str = "sections.geojson", crs="keep") -> RawTable:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
    geometry = gdf.geometry.reset_index(drop=True)
    return RawTable(file, frame, geometry=geometry, crs=gdf.crs if crs == "keep" else crs)


def problems(report: Report, code: str | None = None) -> list[tuple[str, int | None, str | None]]:
    return [(p.code, p.row, p.field) for p in report.problems if code is None or p.code == code]


# ---------------------------------------------------------------- numbers


def test_parse_numbers_decimal_point_comma_and_thousands():
    s = pd.Series(["42.66", "42,66", "1.234,5", "1,234.5", "1 234.5", "1\u00a0234,5", "-21,15", " 7 ", "", "abc"])
    values, bad = v.parse_numbers(s)
    assert values.tolist()[:8] == [42.66, 42.66, 1234.5, 1234.5, 1234.5, 1234.5, -21.15, 7.0]
    assert np.isnan(values.iloc[8]) and np.isnan(values.iloc[9])
    assert bad.tolist() == [False] * 8 + [False, True]  # empty is missing, not bad


def test_parse_numbers_keeps_numeric_columns():
    s = pd.Series([42.5, np.nan, 3])
    values, bad = v.parse_numbers(s)
    assert values.tolist()[0] == 42.5 and np.isnan(values.iloc[1])
    assert not bad.any()


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("2024-03-18", "2024-03-18 00:00"),
        ("18.03.2024", "2024-03-18 00:00"),
        ("18.03.2024.", "2024-03-18 00:00"),
        ("18/03/2024", "2024-03-18 00:00"),
        ("18/03/2024 14:05", "2024-03-18 14:05"),
        ("18.03.2024 14:05", "2024-03-18 14:05"),
        ("18.03.2024. 14:05", "2024-03-18 14:05"),
        ("2024-03-18 14:05", "2024-03-18 14:05"),
        ("2024-03-18T14:05:30", "2024-03-18 14:05:30"),
        ("2024/03/18", "2024-03-18 00:00"),
        ("3.4.2024", "2024-04-03 00:00"),  # day first, as written in Kosovo
        ("2024-03-18T13:05:00Z", "2024-03-18 14:05"),  # UTC to local (CET) time
        ("2024-03-18T14:05+01:00", "2024-03-18 14:05"),
        ("2024-07-01T12:00:00.5+00:00", "2024-07-01 14:00:00.5"),  # CEST
        ("2024-03-18 14:05:00.123", "2024-03-18 14:05:00.123"),  # no offset: already local time
        ("2024-03-18T14:05:00.5", "2024-03-18 14:05:00.5"),
    ],
)
def test_parse_dates_every_form(cell, expected):
    values, bad = v.parse_dates(pd.Series([cell]))
    assert not bad.iloc[0]
    assert values.iloc[0] == pd.Timestamp(expected)


@pytest.mark.parametrize("cell", ["32.03.2024", "2024-13-01", "yesterday", "18-03-2024x", "14:05"])
def test_parse_dates_bad(cell):
    values, bad = v.parse_dates(pd.Series([cell]))
    assert bad.iloc[0]
    assert pd.isna(values.iloc[0])


def test_parse_dates_empty_is_missing_not_bad():
    values, bad = v.parse_dates(pd.Series(["", None, "  "], dtype=object))
    assert values.isna().all()
    assert not bad.any()


def test_parse_dates_without_time_drops_the_time():
    values, _ = v.parse_dates(pd.Series(["18/03/2024 14:05", "18.03.2024."]), keep_time=False)
    assert values.tolist() == [pd.Timestamp("2024-03-18"), pd.Timestamp("2024-03-18")]


def test_parse_dates_native_columns_with_time_zone_become_local():
    s = pd.Series(pd.to_datetime(["2024-07-01 12:00"]).tz_localize("UTC"))
    values, bad = v.parse_dates(s)
    assert values.iloc[0] == pd.Timestamp("2024-07-01 14:00")  # CEST
    assert not bad.any()


# ---------------------------------------------------------------- booleans, lists, periods, vocabularies


def test_parse_bools_in_three_languages():
    s = pd.Series(["po", "JO", "da", "ne", "yes", "no", "1", "0", "", "maybe"])
    values, bad = v.parse_bools(s)
    assert values.tolist()[:8] == [True, False, True, False, True, False, True, False]
    assert pd.isna(values.iloc[8]) and pd.isna(values.iloc[9])
    assert bad.tolist() == [False] * 9 + [True]


@pytest.mark.parametrize(
    "cell, items",
    [
        ("S1|S2", ["S1", "S2"]),
        ("S1; S2", ["S1", "S2"]),
        ("S1, S2 ,S3", ["S1", "S2", "S3"]),
        ("S1", ["S1"]),
        ("", []),
        (None, []),
        (float("nan"), []),
        (["S1", " S2 "], ["S1", "S2"]),
        (np.array(["S1"]), ["S1"]),
    ],
)
def test_split_list(cell, items):
    assert v.split_list(cell) == items


@pytest.mark.parametrize(
    "cell, label, start, end",
    [
        ("2024", "2024", "2024-01-01", "2024-12-31"),
        (2024, "2024", "2024-01-01", "2024-12-31"),
        (2024.0, "2024", "2024-01-01", "2024-12-31"),
        ("2024-Q1", "2024-Q1", "2024-01-01", "2024-03-31"),
        ("2024Q2", "2024-Q2", "2024-04-01", "2024-06-30"),
        ("2024 q3", "2024-Q3", "2024-07-01", "2024-09-30"),
        ("Q4 2024", "2024-Q4", "2024-10-01", "2024-12-31"),
        ("2024-T1", "2024-Q1", "2024-01-01", "2024-03-31"),
        ("K2-2024", "2024-Q2", "2024-04-01", "2024-06-30"),
    ],
)
def test_parse_period(cell, label, start, end):
    assert v.parse_period(cell) == (label, pd.Timestamp(start), pd.Timestamp(end))


@pytest.mark.parametrize("cell", ["2024-Q5", "Q0 2024", "24", "1850", "2024-03", "March 2024", "", None, float("nan")])
def test_parse_period_bad(cell):
    assert v.parse_period(cell) is None


def test_match_vocabulary_aliases_in_albanian_serbian_english():
    s = pd.Series(["Vjedhje", "KRAĐA", "kradja", "larceny", "Aksident me të lënduar", "narcotics", "", "foo"])
    codes, unknown = v.match_vocabulary(s, INCIDENT_CATEGORIES)
    assert codes.tolist()[:6] == ["theft", "theft", "theft", "theft", "accident_injury", "drugs"]
    assert pd.isna(codes.iloc[6]) and pd.isna(codes.iloc[7])
    assert unknown.tolist() == [False] * 7 + [True]


def test_match_vocabulary_user_labels_override():
    s = pd.Series(["Vjedhje e veçantë", "vjedhje e vecante", "Vjedhje"])
    codes, unknown = v.match_vocabulary(s, INCIDENT_CATEGORIES, {"Vjedhje e veçantë": "burglary", "Vjedhje": "robbery"})
    assert codes.tolist() == ["burglary", "burglary", "robbery"]
    assert not unknown.any()


# ---------------------------------------------------------------- column mapping


def test_columns_found_by_name_alias_case_and_spacing():
    raw = text_table("Data;Kategoria;Gjerësia;Gjatësia;ID", "18.03.2024;Vjedhje;42,65;21,15;A1", sep=";")
    chk = v.TableCheck("incidents", raw, Report())
    assert chk.mapping["occurred_at"] == "Data"
    assert chk.mapping["category"] == "Kategoria"
    assert chk.mapping["lat"] == "Gjerësia"
    assert chk.mapping["lon"] == "Gjatësia"
    assert chk.mapping["incident_id"] == "ID"


def test_explicit_column_mapping_wins():
    raw = text_table("shapeID,shapeName,name,komuna", "S1,Qendra,Other,Prishtinë")
    chk = v.TableCheck("sections", raw, Report(), columns={"section_id": "shapeID", "section_name": "shapeName"})
    assert chk.mapping["section_id"] == "shapeID"
    assert chk.mapping["section_name"] == "shapeName"
    assert chk.mapping["municipality"] == "komuna"


def test_explicit_mapping_of_a_column_not_in_the_file():
    report = Report()
    with pytest.raises(LoadError):
        v.TableCheck("sections", text_table("id,name,komuna", "S1,A,Prishtinë"), report, columns={"section_name": "x"})
    assert problems(report) == [("missing_column", None, "section_name")]
    assert report.problems[0].value == "x"


def test_explicit_mapping_of_an_unknown_field_is_a_value_error():
    with pytest.raises(ValueError, match="section_name"):
        v.TableCheck("sections", text_table("id,name,komuna", "S1,A,Prishtinë"), Report(), columns={"nme": "name"})


def test_missing_required_columns_each_named():
    report = Report()
    with pytest.raises(LoadError):
        v.TableCheck("surveys", text_table("area,trust_pct", "Prishtinë,50"), report)
    assert problems(report) == [("missing_column", None, "period"), ("missing_column", None, "satisfaction_pct")]
    assert all(p.severity == "error" for p in report.problems)


def test_shapefile_names_cut_to_ten_characters_are_recognised():
    # a Shapefile keeps 10 characters of a column name: section_name -> section_na, municipality -> municipali
    raw = text_table("section_id,section_na,municipali,officers_p", "S1,Qendra,Prishtinë,po")
    chk = v.TableCheck("sections", raw, Report())
    assert chk.mapping["section_name"] == "section_na"
    assert chk.mapping["municipality"] == "municipali"
    assert chk.mapping["officers_public"] == "officers_p"


# ---------------------------------------------------------------- CRS


@pytest.mark.parametrize(
    "declared, override, bounds, epsg, code",
    [
        (CRS.from_epsg(4326), None, (21.1, 42.6, 21.3, 42.8), 4326, None),
        (CRS.from_epsg(3857), None, (2.3e6, 5.2e6, 2.4e6, 5.3e6), 3857, None),
        (CRS.from_epsg(9141), None, (7.5e6, 4.7e6, 7.6e6, 4.8e6), 9141, None),
        (None, "EPSG:9141", (7.5e6, 4.7e6, 7.6e6, 4.8e6), 9141, None),
        (CRS.from_epsg(4326), "EPSG:9141", (7.5e6, 4.7e6, 7.6e6, 4.8e6), 9141, None),  # the override wins
        (None, None, (21.1, 42.6, 21.3, 42.8), 4326, "crs_assumed"),
    ],
)
def test_resolve_crs(declared, override, bounds, epsg, code):
    report = Report()
    crs = v.resolve_crs("sections", "f", declared, override, bounds, report)
    assert crs.to_epsg() == epsg
    assert [p.code for p in report.problems] == ([code] if code else [])


def test_resolve_crs_missing_for_metric_coordinates():
    report = Report()
    with pytest.raises(LoadError):
        v.resolve_crs("incidents", "f", None, None, (7.5e6, 4.7e6, 7.6e6, 4.8e6), report)
    assert problems(report) == [("missing_crs", None, None)]
    assert report.problems[0].severity == "error"


def test_resolve_crs_geographic_declared_for_metric_coordinates_is_missing():
    # GeoJSON without a "crs" member is read as WGS84 whatever its numbers are
    report = Report()
    with pytest.raises(LoadError):
        v.resolve_crs("sections", "f", CRS.from_epsg(4326), None, (7.5e6, 4.7e6, 7.6e6, 4.8e6), report)
    assert problems(report) == [("missing_crs", None, None)]


def test_resolve_crs_bad_override():
    report = Report()
    with pytest.raises(LoadError):
        v.resolve_crs("incidents", "f", None, "EPSG:999999", (1, 1, 2, 2), report)
    assert problems(report) == [("bad_crs", None, None)]
    assert report.problems[0].value == "EPSG:999999"


# ---------------------------------------------------------------- sections


def _bounds(gdf):
    return tuple(round(float(b), 6) for b in gdf.total_bounds)


@pytest.mark.parametrize("epsg", [4326, 3857, 9141])
def test_sections_declared_crs_end_in_wgs84(grid, epsg):
    report = Report()
    out = v.validate_sections(boundary_table(grid.to_crs(epsg=epsg)), report)
    assert report.problems == []
    assert out.crs.to_epsg() == 4326
    assert _bounds(out) == (21.1, 42.6, 21.3, 42.8)
    assert out["section_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert out["row"].tolist() == [1, 2, 3, 4]
    assert report.counts["sections"] == {"loaded": 4, "accepted": 4, "rejected": 0, "repaired": 0}


def test_sections_without_crs_in_degrees_are_assumed_wgs84(grid):
    report = Report()
    out = v.validate_sections(boundary_table(grid, crs=None), report)
    assert problems(report) == [("crs_assumed", None, None)]
    assert report.problems[0].severity == "warning"
    assert _bounds(out) == (21.1, 42.6, 21.3, 42.8)


def test_sections_without_crs_in_metres_are_an_error(grid):
    report = Report()
    with pytest.raises(LoadError):
        v.validate_sections(boundary_table(grid.to_crs(METRIC_CRS), crs=None), report)
    assert problems(report) == [("missing_crs", None, None)]


def test_sections_without_crs_in_metres_with_override(grid):
    report = Report()
    out = v.validate_sections(boundary_table(grid.to_crs(METRIC_CRS), crs=None), report, crs="EPSG:9141")
    assert report.problems == []
    assert _bounds(out) == (21.1, 42.6, 21.3, 42.8)


def test_sections_crs_option_beats_the_declared_one(grid):
    # a GeoJSON in metres without a "crs" member is read as WGS84; the user says what it is
    raw = boundary_table(grid.to_crs(METRIC_CRS).set_crs("EPSG:4326", allow_override=True))
    report = Report()
    out = v.validate_sections(raw, report, crs="EPSG:9141")
    assert report.problems == []
    assert _bounds(out) == (21.1, 42.6, 21.3, 42.8)


def test_bow_tie_is_repaired_and_stays_polygonal(make_sections, square):
    bow_tie = shapely.Polygon([(21.1, 42.6), (21.2, 42.7), (21.2, 42.6), (21.1, 42.7)])
    assert not bow_tie.is_valid
    gdf = make_sections([square(21.0, 42.6), bow_tie])
    report = Report()
    out = v.validate_sections(boundary_table(gdf), report)
    assert problems(report) == [("repaired_geometry", 2, "geometry")]
    assert report.problems[0].severity == "warning"
    repaired = out.geometry.iloc[1]
    assert repaired.is_valid
    assert repaired.geom_type in ("Polygon", "MultiPolygon")
    assert repaired.area == pytest.approx(0.005)  # the two triangles of the bow-tie
    assert report.counts["sections"] == {"loaded": 2, "accepted": 2, "rejected": 0, "repaired": 1}


def test_multipolygons_are_sections(make_sections, square):
    two_parts = shapely.MultiPolygon([square(21.1, 42.6), square(21.3, 42.6)])
    report = Report()
    out = v.validate_sections(boundary_table(make_sections([two_parts, square(21.1, 42.7)])), report)
    assert report.problems == []
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"


def _metric_area(a, b):
    g = gpd.GeoSeries([a, b], crs="EPSG:4326").to_crs(METRIC_CRS)
    return g.iloc[0].intersection(g.iloc[1]).area


def test_overlapping_sections_are_reported_with_the_area(make_sections, square):
    a, b = square(21.1, 42.6), square(21.15, 42.6)  # half of each overlaps
    report = Report()
    out = v.validate_sections(boundary_table(make_sections([a, b])), report)
    assert problems(report) == [("overlap", 2, "geometry")]
    assert report.problems[0].severity == "warning"
    assert report.problems[0].value == "S1|S2"
    assert f"{_metric_area(a, b):,.0f} m²" in report.problems[0].message
    assert len(out) == 2  # both kept


def test_section_inside_another_is_an_overlap(make_sections, square):
    outer, inner = square(21.1, 42.6, 0.2), square(21.15, 42.65, 0.05)
    report = Report()
    v.validate_sections(boundary_table(make_sections([outer, inner])), report)
    assert problems(report) == [("overlap", 2, "geometry")]
    assert f"{_metric_area(outer, inner):,.0f} m²" in report.problems[0].message


def test_identical_sections_are_an_overlap(make_sections, square):
    report = Report()
    v.validate_sections(boundary_table(make_sections([square(21.1, 42.6), square(21.1, 42.6)])), report)
    assert problems(report) == [("overlap", 2, "geometry")]


def test_sections_sharing_edges_neither_overlap_nor_leave_gaps(grid):
    report = Report()
    v.validate_sections(boundary_table(grid), report)
    assert report.problems == []


def test_hole_enclosed_by_sections_is_a_gap(make_sections, square):
    # a 3×3 block of squares without its centre
    ring = [square(21.1 + 0.1 * i, 42.6 + 0.1 * j) for j in range(3) for i in range(3) if (i, j) != (1, 1)]
    report = Report()
    out = v.validate_sections(boundary_table(make_sections(ring)), report)
    assert problems(report) == [("gap", None, "geometry")]
    assert report.problems[0].severity == "warning"
    lat, lon = map(float, report.problems[0].value.split(","))
    assert shapely.box(21.2, 42.7, 21.3, 42.8).contains(shapely.Point(lon, lat))
    assert len(out) == 8


def test_an_open_bay_is_not_a_gap(make_sections, square):
    # an L of three squares: the missing corner is outside, not enclosed
    report = Report()
    v.validate_sections(
        boundary_table(make_sections([square(21.1, 42.6), square(21.2, 42.6), square(21.1, 42.7)])), report
    )
    assert report.problems == []


def test_duplicate_section_ids_are_an_error(grid):
    gdf = grid.copy()
    gdf.loc[3, "section_id"] = "S2"
    report = Report()
    with pytest.raises(LoadError):
        v.validate_sections(boundary_table(gdf), report)
    assert problems(report) == [("duplicate_id", 4, "section_id")]
    assert report.problems[0].severity == "error"
    assert report.problems[0].value == "S2"
    # the file is not used: nothing is accepted
    assert report.counts["sections"] == {"loaded": 4, "accepted": 0, "rejected": 4, "repaired": 0}
    assert report.reconciles("sections")


@pytest.mark.parametrize("empty", [None, shapely.Polygon(), shapely.MultiPolygon()])
def test_empty_geometry_is_an_error(grid, empty):
    gdf = grid.copy()
    gdf.loc[2, "geometry"] = empty
    report = Report()
    with pytest.raises(LoadError):
        v.validate_sections(boundary_table(gdf), report)
    assert problems(report) == [("empty_geometry", 3, "geometry")]
    assert report.problems[0].severity == "error"
    assert report.counts["sections"] == {"loaded": 4, "accepted": 0, "rejected": 4, "repaired": 0}


@pytest.mark.parametrize(
    "geom",
    [shapely.Point(21.15, 42.75), shapely.LineString([(21.1, 42.7), (21.2, 42.8)]), shapely.MultiPoint([(21.1, 42.7)])],
)
def test_non_polygons_are_an_error(grid, geom):
    gdf = grid.copy()
    gdf.loc[2, "geometry"] = geom
    report = Report()
    with pytest.raises(LoadError):
        v.validate_sections(boundary_table(gdf), report)
    assert problems(report) == [("not_polygon", 3, "geometry")]
    assert report.problems[0].severity == "error"


def test_sections_without_features_are_empty(grid):
    report = Report()
    with pytest.raises(LoadError):
        v.validate_sections(boundary_table(grid.iloc[0:0]), report)
    assert problems(report) == [("empty_file", None, None)]


def test_sections_missing_a_required_column(grid):
    report = Report()
    with pytest.raises(LoadError):
        v.validate_sections(boundary_table(grid.drop(columns=["municipality"])), report)
    assert problems(report) == [("missing_column", None, "municipality")]


def test_sections_column_mapping(grid):
    gdf = grid.rename(columns={"section_name": "shapeName", "section_id": "shapeID"})
    report = Report()
    out = v.validate_sections(
        boundary_table(gdf), report, columns={"section_name": "shapeName", "section_id": "shapeID"}
    )
    assert report.problems == []
    assert out["section_name"].tolist() == ["Sektori S1", "Sektori S2", "Sektori S3", "Sektori S4"]
    assert out["section_id"].tolist() == ["S1", "S2", "S3", "S4"]


def test_section_without_id_is_rejected(grid):
    gdf = grid.copy()
    gdf["section_id"] = ["S1", "", "S3", "S4"]
    report = Report()
    out = v.validate_sections(boundary_table(gdf), report)
    assert problems(report) == [("missing_value", 2, "section_id")]
    assert out["section_id"].tolist() == ["S1", "S3", "S4"]
    assert report.counts["sections"] == {"loaded": 4, "accepted": 3, "rejected": 1, "repaired": 0}


def test_municipality_and_region_names(grid):
    gdf = grid.copy()
    gdf["municipality"] = ["Prishtinë", "Priština", "Atlantis", "Atlantis"]
    gdf["region"] = ["", "DRP Prishtinë", "", "Nowhere"]
    report = Report()
    out = v.validate_sections(boundary_table(gdf), report)
    # one warning per unknown name, at its first row; the rows are kept as written
    assert problems(report) == [("unknown_name", 3, "municipality"), ("unknown_name", 4, "region")]
    assert [p.value for p in report.problems] == ["Atlantis", "Nowhere"]
    assert out["municipality"].tolist() == ["Prishtinë", "Prishtinë", "Atlantis", "Atlantis"]
    assert out["municipality_raw"].tolist() == ["Prishtinë", "Priština", "Atlantis", "Atlantis"]
    assert out["region"].tolist()[:2] == ["Prishtinë", "Prishtinë"]  # derived from the municipality
    assert pd.isna(out["region"].iloc[2])
    assert out["region"].iloc[3] == "Nowhere"
    assert len(out) == 4


def test_region_that_contradicts_the_municipality(grid):
    gdf = grid.copy()
    gdf["region"] = ["Prishtinë", "Prizren", "", ""]
    report = Report()
    out = v.validate_sections(boundary_table(gdf), report)
    assert problems(report) == [("region_mismatch", 2, "region")]
    assert out["region"].iloc[1] == "Prizren"  # the file's region is kept


def test_section_optional_columns(grid):
    gdf = grid.copy()
    gdf["population"] = ["1200", "1.234", "x", ""]
    gdf["officers"] = ["Arta Krasniqi|Dragan Petrović", "", "Besnik; Milica", None]
    gdf["officers_public"] = ["po", "jo", "", "da"]
    gdf["villages"] = ["Bardhosh, Sofali", "", "", "Čaglavica"]
    report = Report()
    out = v.validate_sections(boundary_table(gdf), report)
    # 1.234 is a thousands separator or a decimal: either way not a whole number of residents
    assert sorted(problems(report)) == [("bad_number", 2, "population"), ("bad_number", 3, "population")]
    assert out["section_id"].tolist() == ["S1", "S4"]
    assert out["population"].tolist()[0] == 1200
    assert out["officers"].tolist() == [["Arta Krasniqi", "Dragan Petrović"], []]
    assert out["officers_public"].tolist() == [True, True]
    assert out["villages"].tolist() == [["Bardhosh", "Sofali"], ["Čaglavica"]]


# ---------------------------------------------------------------- incidents: locations


INC_HEADER = "incident_id,occurred_at,category,lat,lon"


def _incidents(raw, grid, **kw):
    report = Report()
    out, n = v.validate_incidents(raw, report, grid, **kw)
    return out, n, report


def test_swapped_coordinates_in_single_rows(grid):
    raw = text_table(
        INC_HEADER, "1,2024-03-18,theft,42.65,21.15", "2,2024-03-18,theft,21.25,42.75", "3,2024-03-18,theft,42.75,21.15"
    )
    out, n, report = _incidents(raw, grid)
    assert problems(report) == [("swapped_coordinates", 2, "lat")]
    assert report.problems[0].severity == "warning"
    assert out["lon"].tolist() == [21.15, 21.25, 21.15]
    assert out["lat"].tolist() == [42.65, 42.75, 42.75]
    assert n == len(out) == 3


def test_swapped_coordinate_columns_in_a_whole_file(grid):
    raw = text_table(
        "occurred_at,category,lat,lon",
        *[f"2024-03-18,theft,{lon},{lat}" for lon, lat in [(21.15, 42.65), (21.25, 42.65), (21.15, 42.75)]],
    )
    out, n, report = _incidents(raw, grid)
    assert problems(report) == [("swapped_coordinates", None, "lat")]  # one warning for the file
    assert out["lon"].tolist() == [21.15, 21.25, 21.15]
    assert out["lat"].tolist() == [42.65, 42.65, 42.75]


def test_far_away_points_are_not_taken_for_swapped(grid):
    raw = text_table(INC_HEADER, "1,2024-03-18,theft,48.2,16.37")  # Vienna
    out, _, report = _incidents(raw, grid)
    assert report.problems == []
    assert out["lat"].tolist() == [48.2]


def test_impossible_coordinates_are_rejected(grid):
    raw = text_table(INC_HEADER, "1,2024-03-18,theft,95,21.1", "2,2024-03-18,theft,42.65,21.15")
    out, n, report = _incidents(raw, grid)
    assert problems(report) == [("bad_coordinates", 1, "lat")]
    assert out["incident_id"].tolist() == ["2"]
    assert n == 2


def test_decimal_comma_coordinates(grid):
    raw = text_table("occurred_at;category;lat;lon", "18.03.2024;Vjedhje;42,65;21,15", sep=";")
    out, _, report = _incidents(raw, grid)
    assert report.problems == []
    assert (out["lon"].iloc[0], out["lat"].iloc[0]) == (21.15, 42.65)


def test_not_a_number_coordinate(grid):
    raw = text_table(INC_HEADER, "1,2024-03-18,theft,42.6x,21.15")
    out, n, report = _incidents(raw, grid)
    assert problems(report) == [("bad_number", 1, "lat")]
    assert len(out) == 0 and n == 1


def _metric(lon, lat):
    return Transformer.from_crs(4326, 9141, always_xy=True).transform(lon, lat)


def test_xy_columns_with_crs(grid):
    x, y = _metric(21.15, 42.65)
    raw = text_table("occurred_at,category,x,y", f"2024-03-18,theft,{x:.2f},{y:.2f}")
    out, _, report = _incidents(raw, grid, crs="EPSG:9141")
    assert report.problems == []
    assert out["lon"].iloc[0] == pytest.approx(21.15, abs=1e-6)
    assert out["lat"].iloc[0] == pytest.approx(42.65, abs=1e-6)


def test_xy_columns_in_metres_without_crs(grid):
    x, y = _metric(21.15, 42.65)
    report = Report()
    with pytest.raises(LoadError):
        v.validate_incidents(text_table("occurred_at,category,x,y", f"2024-03-18,theft,{x},{y}"), report, grid)
    assert problems(report) == [("missing_crs", None, None)]


def test_xy_columns_in_degrees_without_crs(grid):
    out, _, report = _incidents(text_table("occurred_at,category,x,y", "2024-03-18,theft,21.15,42.65"), grid)
    assert problems(report) == [("crs_assumed", None, None)]
    assert out["lon"].iloc[0] == 21.15


def test_point_geometry_in_a_declared_crs(grid):
    pts = gpd.GeoDataFrame(
        {"occurred_at": ["2024-03-18"], "category": ["theft"]},
        geometry=[shapely.Point(21.15, 42.65)],
        crs="EPSG:4326",
    ).to_crs(3857)
    raw = RawTable("i.geojson", pd.DataFrame(pts.drop(columns="geometry")), pts.geometry, pts.crs)
    out, _, report = _incidents(raw, grid)
    assert report.problems == []
    assert out["lon"].iloc[0] == pytest.approx(21.15)


def test_no_location_columns_at_all(grid):
    report = Report()
    with pytest.raises(LoadError):
        v.validate_incidents(text_table("occurred_at,category", "2024-03-18,theft"), report, grid)
    assert problems(report) == [("missing_location_columns", None, "lat")]
    assert report.problems[0].severity == "error"


def test_rows_located_by_section(grid):
    raw = text_table(
        "occurred_at,category,section_id,lat,lon",
        "2024-03-18,theft,S2,,",
        "2024-03-18,theft,S9,,",
        "2024-03-18,theft,,,",
        "2024-03-18,theft,S9,42.75,21.25",  # coordinates decide; the id is not used
    )
    out, n, report = _incidents(raw, grid)
    assert problems(report) == [("missing_location", 3, "lat"), ("unknown_section", 2, "section_id")]
    assert report.problems[1].value == "S9"
    assert out["row"].tolist() == [1, 4]
    assert out["section_id"].tolist()[0] == "S2"
    assert pd.isna(out["section_id"].iloc[1])  # set by the join, from the coordinates
    assert n == 4


# ---------------------------------------------------------------- incidents: other fields


def test_incident_dates_every_form(grid):
    raw = text_table(
        INC_HEADER,
        "1,2024-03-18,theft,42.65,21.15",
        "2,18.03.2024,theft,42.65,21.15",
        "3,18/03/2024 14:05,theft,42.65,21.15",
        "4,18.03.2024.,theft,42.65,21.15",
        "5,31.02.2024,theft,42.65,21.15",
        "6,,theft,42.65,21.15",
    )
    out, n, report = _incidents(raw, grid)
    assert problems(report) == [("bad_date", 5, "occurred_at"), ("missing_value", 6, "occurred_at")]
    assert out["occurred_at"].tolist() == [
        pd.Timestamp("2024-03-18"),
        pd.Timestamp("2024-03-18"),
        pd.Timestamp("2024-03-18 14:05"),
        pd.Timestamp("2024-03-18"),
    ]
    assert n == 6


def test_unknown_categories_are_kept_as_other_and_listed(grid):
    raw = text_table(
        INC_HEADER,
        "1,2024-03-18,Vjedhje,42.65,21.15",
        "2,2024-03-18,Vjedhje e veçantë,42.65,21.15",
        "3,2024-03-18,Krađa,42.65,21.15",
        "4,2024-03-18,Zjarr,42.65,21.15",
        "5,2024-03-18,Vjedhje e veçantë,42.65,21.15",
    )
    out, n, report = _incidents(raw, grid)
    # one warning per unknown label, at its first row
    assert problems(report) == [("unknown_category", 2, "category"), ("unknown_category", 4, "category")]
    assert [p.value for p in report.problems] == ["Vjedhje e veçantë", "Zjarr"]
    assert all(p.severity == "warning" for p in report.problems)
    assert "2, 5" in report.problems[0].message  # every row with the label is listed
    assert out["category"].tolist() == ["theft", "other", "theft", "other", "other"]
    assert out["category_raw"].tolist()[1] == "Vjedhje e veçantë"
    assert n == len(out) == 5


def test_value_mapping_for_categories(grid):
    raw = text_table(
        INC_HEADER, "1,2024-03-18,Vjedhje e veçantë,42.65,21.15", "2,2024-03-18,VJEDHJE E VEÇANTË,42.65,21.15"
    )
    out, _, report = _incidents(raw, grid, values={"category": {"Vjedhje e veçantë": "burglary"}})
    assert report.problems == []
    assert out["category"].tolist() == ["burglary", "burglary"]


def test_missing_category_is_rejected(grid):
    out, n, report = _incidents(text_table(INC_HEADER, "1,2024-03-18,,42.65,21.15"), grid)
    assert problems(report) == [("missing_value", 1, "category")]
    assert len(out) == 0 and n == 1


def test_counts_and_duplicate_ids(grid):
    raw = text_table(
        "incident_id,occurred_at,category,section_id,count",
        "A,2024-03-18,traffic_ticket,S1,12",
        "B,2024-03-18,traffic_ticket,S1,",
        "C,2024-03-18,traffic_ticket,S1,1.5",
        "D,2024-03-18,traffic_ticket,S1,-2",
        "A,2024-03-19,traffic_ticket,S1,3",
    )
    out, n, report = _incidents(raw, grid)
    assert problems(report) == [
        ("bad_number", 3, "count"),
        ("out_of_range", 4, "count"),
        ("duplicate_record", 5, "incident_id"),
    ]
    assert out["incident_id"].tolist() == ["A", "B"]
    assert out["count"].tolist() == [12, 1]
    assert n == 5


def test_incident_ids_generated_when_absent(grid):
    raw = text_table(
        "occurred_at,category,lat,lon", "2024-03-18,theft,42.65,21.15", "2024-03-18,theft,42.75,21.25", file="inc.csv"
    )
    out, _, _ = _incidents(raw, grid)
    assert out["incident_id"].tolist() == ["inc.csv:1", "inc.csv:2"]


# ---------------------------------------------------------------- concerns


def test_concerns(grid):
    raw = text_table(
        "concern_id;raised_on;category;source;status;resolved_on;section_id;lat;lon;description_public",
        "K1;18.03.2024;Shpejtësia;KLSP;I hapur;;S2;;;po",
        "K2;18.03.2024.;Qentë endacakë;Radio;Unclear;17.03.2024;;42,75;21,25;",
        "K3;2024-03-18;Zhurma;;;;S9;;;",
        "K1;2024-03-18;noise;;;;S1;;;",
        "K5;2024-03-18;Bespravna gradnja;;;;S3;;;maybe",
        sep=";",
    )
    report = Report()
    out, n = v.validate_concerns(raw, report, grid)
    assert problems(report) == [
        ("unknown_category", 2, "source"),
        ("unknown_category", 2, "status"),
        ("bad_value", 5, "description_public"),
        ("unknown_section", 3, "section_id"),
        ("duplicate_record", 4, "concern_id"),
        ("resolved_before_raised", 2, "resolved_on"),
    ]
    assert out["concern_id"].tolist() == ["K1", "K2"]
    assert out["category"].tolist() == ["road_safety", "stray_animals"]
    assert out["source"].tolist()[0] == "lcps_meeting"
    assert pd.isna(out["source"].iloc[1])  # unknown source left empty
    assert out["status"].tolist() == ["open", "open"]
    assert out["description_public"].tolist() == [True, False]
    assert n == 5


# ---------------------------------------------------------------- committees, meetings, surveys


COMMITTEES = (
    "committee_id,type,name,municipality,sections",
    "C1,LCPS,Komiteti Qendra,Prishtinë,S1|S9",
    "C2,KLSP,Komiteti Veri,Atlantis,S2",
    "C3,MCPS,Këshilli Komunal,Priština,",
    "C4,XYZ,Komiteti 4,Prishtinë,S1",
    "C1,LCPS,Again,Prishtinë,S1",
)


def test_committees(grid):
    report = Report()
    out, n = v.validate_committees(text_table(*COMMITTEES), report, grid)
    assert problems(report) == [
        ("bad_value", 4, "type"),
        ("unknown_name", 2, "municipality"),
        ("duplicate_record", 5, "committee_id"),
        ("unknown_section", 1, "sections"),
    ]
    assert report.problems[3].value == "S9"
    assert report.problems[3].severity == "warning"
    assert out["committee_id"].tolist() == ["C1", "C3"]
    assert out["sections"].tolist() == [["S1"], []]  # the unknown id is dropped, the committee kept
    assert out["municipality"].tolist() == ["Prishtinë", "Prishtinë"]
    assert out["type"].tolist() == ["LCPS", "MCPS"]
    assert n == 5


def test_committee_municipality_of_the_loaded_sections_is_known(grid):
    gdf = grid.copy()
    gdf["municipality"] = "Atlantis"  # kept as written by the sections validator
    report = Report()
    out, _ = v.validate_committees(text_table(COMMITTEES[0], "C2,KLSP,Komiteti Veri,Atlantis,S2"), report, gdf)
    assert report.problems == []
    assert out["municipality"].tolist() == ["Atlantis"]


def test_meetings(grid):
    committees = pd.DataFrame({"committee_id": ["C1", "C3"]})
    raw = text_table(
        "meeting_id,committee_id,held_on,attendance",
        "M1,C1,18.03.2024,12",
        "M2,C2,2024-03-18,5",
        "M3,C3,2024-13-18,3",
        "M4,C3,2024-03-18,-1",
        "M1,C1,19.03.2024,7",
    )
    report = Report()
    out, n = v.validate_meetings(raw, report, committees)
    assert problems(report) == [
        ("bad_date", 3, "held_on"),
        ("out_of_range", 4, "attendance"),
        ("unknown_committee", 2, "committee_id"),
        ("duplicate_record", 5, "meeting_id"),
    ]
    assert out["meeting_id"].tolist() == ["M1"]
    assert n == 5


def test_meetings_without_committees_are_all_unknown():
    report = Report()
    out, n = v.validate_meetings(text_table("meeting_id,committee_id,held_on", "M1,C1,2024-03-18"), report, None)
    assert problems(report) == [("unknown_committee", 1, "committee_id")]
    assert len(out) == 0 and n == 1


def test_surveys():
    raw = text_table(
        "area;period;trust_pct;satisfaction_pct;respondents",
        "Prishtinë;2024;55,5;60;400",
        "DRP Prizren;2024-Q1;55;60;",
        "Pristina;Q5 2024;55;60;",
        "Gjilan;2024;105;60;",
        "Atlantis;2024;50;50;",
        "Peja;2024q2;50;;",
        "Mitrovica South;;50;50;",
        "Gnjilane;2023;-1;50;",
        sep=";",
    )
    report = Report()
    out, n = v.validate_surveys(raw, report)
    assert problems(report) == [
        ("bad_period", 3, "period"),
        ("missing_value", 7, "period"),
        ("out_of_range", 4, "trust_pct"),
        ("out_of_range", 8, "trust_pct"),
        ("missing_value", 6, "satisfaction_pct"),
        ("unknown_name", 5, "area"),
    ]
    assert out["area_kind"].tolist() == ["municipality", "region"]
    assert out["area_name"].tolist() == ["Prishtinë", "Prizren"]
    assert out["period"].tolist() == ["2024", "2024-Q1"]
    assert out["period_end"].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2024-03-31")]
    assert out["trust_pct"].tolist() == [55.5, 55.0]
    assert n == 8


# ---------------------------------------------------------------- problems are well formed


def test_every_problem_code_has_a_known_severity():
    assert set(PROBLEM_CODES.values()) == {"error", "warning"}


def test_report_refuses_unknown_codes():
    with pytest.raises(ValueError, match="no_such_code"):
        Report().add("no_such_code", "incidents", "f", "m")


def test_report_counts_must_be_complete():
    report = Report()
    with pytest.raises(ValueError, match="outside"):
        report.set_counts("incidents", loaded=1, joined=1, rejected=0)
    report.set_counts("incidents", loaded=3, joined=1, outside=1, rejected=1)
    assert report.reconciles("incidents")
    report.set_counts("incidents", loaded=3, joined=1, outside=1, rejected=0)
    assert not report.reconciles("incidents")


def test_whole_number_ids_read_as_floats_stay_whole(make_sections, square):
    # an integer column with an empty cell comes back from GeoJSON/GeoPackage as floats: 101.0, NaN
    gdf = make_sections([square(21.1, 42.6), square(21.2, 42.6), square(21.1, 42.7)])
    gdf["section_id"] = [101.0, np.nan, 103.0]
    report = Report()
    out = v.validate_sections(boundary_table(gdf), report)
    assert problems(report) == [("missing_value", 2, "section_id")]
    assert out["section_id"].tolist() == ["101", "103"]
    raw = text_table("occurred_at,category,section_id", "2024-03-18,theft,101", "2024-03-18,theft,103")
    report = Report()
    inc, n = v.validate_incidents(raw, report, out)
    assert report.problems == []
    assert inc["section_id"].tolist() == ["101", "103"]
