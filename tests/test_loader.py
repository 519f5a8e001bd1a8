"""End to end: files on disk -> Dataset + Report, for every format, dialect, CRS case and problem.

Every load goes through the ``load`` fixture, which checks that the counts
reconcile (loaded = joined + outside + rejected; loaded = accepted + rejected;
loaded = matched + rejected) and equal the rows of the returned tables.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geo.loader import LoadOptions, empty_frame, load_files, outside
from geo.source import FileSource

NATIVE_ALL = "ë ç č ć đ š ž Ë Ç Č Ć Đ Š Ž"


def _csv_rows(frame: pd.DataFrame, sep: str = ",", decimal: str = ".") -> str:
    lines = [sep.join(frame.columns)]
    for rec in frame.itertuples(index=False):
        lines.append(sep.join(str(x).replace(".", decimal) if isinstance(x, float) else str(x) for x in rec))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- boundary formats


@pytest.mark.parametrize("name", ["sections.geojson", "sections.gpkg", "sections.zip", "sections.parquet"])
def test_every_boundary_format(tmp_path, grid, write_boundaries, load, name):
    path = write_boundaries(grid, tmp_path / name)
    ds = load(sections=path)
    assert ds.report.problems == []
    assert ds.report.ok
    assert ds.sections["section_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert ds.sections["section_name"].tolist() == ["Sektori S1", "Sektori S2", "Sektori S3", "Sektori S4"]
    assert ds.sections["municipality"].tolist() == ["Prishtinë"] * 4
    assert ds.sections["region"].tolist() == ["Prishtinë"] * 4
    assert ds.sections["population"].tolist() == [1000, 2000, 3000, 4000]
    assert ds.sections.crs.to_epsg() == 4326
    assert tuple(round(float(b), 6) for b in ds.sections.total_bounds) == (21.1, 42.6, 21.3, 42.8)
    assert ds.report.counts["sections"] == {"loaded": 4, "accepted": 4, "rejected": 0, "repaired": 0}


def test_shapefile_with_upper_case_cut_names(tmp_path, grid, write_boundaries, load):
    gdf = grid.rename(columns={"section_id": "SECTION_ID", "section_name": "SECTION_NA", "municipality": "MUNICIPALI"})
    ds = load(sections=write_boundaries(gdf, tmp_path / "sections.zip"))
    assert ds.report.problems == []
    assert ds.sections["section_name"].tolist()[0] == "Sektori S1"


# ---------------------------------------------------------------- table formats


def _incidents_as(fmt: str, frame: pd.DataFrame, tmp_path):
    if fmt == "csv":
        path = tmp_path / "incidents.csv"
        path.write_text(_csv_rows(frame), encoding="utf-8")
    elif fmt == "geojson":
        path = tmp_path / "incidents.geojson"
        gpd.GeoDataFrame(
            frame.drop(columns=["lat", "lon"]), geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326
        ).to_file(path)
    elif fmt == "parquet":
        path = tmp_path / "incidents.parquet"
        out = frame.copy()
        out["occurred_at"] = pd.to_datetime(out["occurred_at"], format="%Y-%m-%d")
        out.to_parquet(path)
    else:  # geoparquet
        path = tmp_path / "incidents.parquet"
        gpd.GeoDataFrame(
            frame.drop(columns=["lat", "lon"]), geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326
        ).to_parquet(path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "geojson", "parquet", "geoparquet"])
def test_every_table_format(tmp_path, load, incidents_frame, fmt):
    ds = load(incidents=_incidents_as(fmt, incidents_frame, tmp_path))
    assert ds.report.problems == []
    inc = ds.incidents
    assert inc["incident_id"].tolist() == ["I1", "I2", "I3", "I4", "I5"]
    assert inc["section_id"].tolist()[:4] == ["S1", "S2", "S3", "S4"]
    assert pd.isna(inc["section_id"].iloc[4])
    assert inc["occurred_at"].tolist() == [pd.Timestamp("2024-03-18")] * 5
    assert inc["category"].tolist() == ["theft", "drugs", "burglary", "assault", "theft"]
    assert inc["count"].tolist() == [1] * 5
    assert inc["row"].tolist() == [1, 2, 3, 4, 5]
    assert ds.report.counts["incidents"] == {"loaded": 5, "joined": 4, "outside": 1, "rejected": 0}


# ---------------------------------------------------------------- CSV dialects and encodings


CONCERNS_CSV = (
    "concern_id{s}raised_on{s}category{s}description{s}lat{s}lon\n"
    "K1{s}18.03.2024{s}Qentë endacakë{s}Ndriçimi në rrugën e shkollës{s}42{d}65{s}21{d}15\n"
    "K2{s}18.03.2024{s}Psi lutalice{s}Čačak Ćuprija Đurđevdan Šabac Žabljak{s}42{d}75{s}21{d}25\n"
    "K3{s}18.03.2024{s}Tjetër{s}" + NATIVE_ALL + "{s}42{d}65{s}21{d}25\n"
)
DESCRIPTIONS = ["Ndriçimi në rrugën e shkollës", "Čačak Ćuprija Đurđevdan Šabac Žabljak", NATIVE_ALL]


@pytest.mark.parametrize(
    "sep, decimal, encoding, bom, guessed",
    [
        (",", ".", "utf-8", False, None),
        (",", ".", "utf-8", True, None),
        (";", ",", "utf-8", False, None),
        (";", ",", "utf-8", True, None),
        (";", ",", "cp1250", False, "cp1250"),
        ("\t", ".", "utf-8", False, None),
    ],
)
def test_csv_dialects_and_encodings_keep_letters_intact(write, load, sep, decimal, encoding, bom, guessed):
    path = write("concerns.csv", CONCERNS_CSV.format(s=sep, d=decimal), encoding=encoding, bom=bom)
    ds = load(concerns=path)
    warnings = [(p.code, p.row, p.field, p.value) for p in ds.report.problems]
    assert warnings == ([("encoding_guessed", None, None, guessed)] if guessed else [])
    c = ds.concerns
    assert c["description"].tolist() == DESCRIPTIONS
    assert c["category"].tolist() == ["stray_animals", "stray_animals", "other"]
    assert c["lat"].tolist() == [42.65, 42.75, 42.65]
    assert c["section_id"].tolist() == ["S1", "S4", "S2"]
    assert ds.report.counts["concerns"] == {"loaded": 3, "joined": 3, "outside": 0, "rejected": 0}


def test_cp1252_albanian_file_is_guessed_and_intact(write, load):
    text = "incident_id;occurred_at;category;lat;lon\nI1;18.03.2024;Vjedhje e veçantë;42,65;21,15\n"
    ds = load(incidents=write("incidents.csv", text, encoding="cp1252"))
    assert [(p.code, p.row, p.field) for p in ds.report.problems] == [
        ("encoding_guessed", None, None),
        ("unknown_category", 1, "category"),
    ]
    assert ds.incidents["category_raw"].tolist() == ["Vjedhje e veçantë"]


@pytest.mark.parametrize("encoding", ["cp1250", "cp1252"])
def test_encoding_override(write, load, encoding):
    text = "incident_id;occurred_at;category;lat;lon\nI1;18.03.2024;Vjedhje e veçantë Ë;42,65;21,15\n"
    ds = load(LoadOptions(encoding={"incidents": encoding}), incidents=write("incidents.csv", text, encoding))
    assert "encoding_guessed" not in {p.code for p in ds.report.problems}
    assert ds.incidents["category_raw"].tolist() == ["Vjedhje e veçantë Ë"]


def test_encoding_override_that_does_not_fit(write, load, found):
    path = write("incidents.csv", "occurred_at;category;lat;lon\n18.03.2024;Krađa;42,65;21,15\n", "cp1250")
    ds = load(LoadOptions(encoding={"incidents": "utf-8"}), incidents=path)
    assert found(ds.report, "unreadable_file") == [(None, None)]
    assert not ds.report.ok
    assert "incidents" not in ds.report.counts
    assert len(ds.incidents) == 0


def test_quoted_decimal_commas_in_a_comma_separated_file(write, load):
    path = write("incidents.csv", 'occurred_at,category,lat,lon\n2024-03-18,theft,"42,65","21,15"\n')
    ds = load(incidents=path)
    assert ds.report.problems == []
    assert ds.incidents["section_id"].tolist() == ["S1"]


def test_unquoted_decimal_commas_in_a_comma_separated_file_are_not_misread(write, load, found):
    path = write("incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42,65,21,15\n")
    ds = load(incidents=path)
    assert found(ds.report, "unreadable_file") == [(None, None)]
    assert len(ds.incidents) == 0


# ---------------------------------------------------------------- dates


def test_every_date_form(write, load, found):
    text = (
        "occurred_at,category,lat,lon\n"
        "2024-03-18,theft,42.65,21.15\n"
        "18.03.2024,theft,42.65,21.15\n"
        "18/03/2024 14:05,theft,42.65,21.15\n"
        "18.03.2024.,theft,42.65,21.15\n"
        "18.3.2024,theft,42.65,21.15\n"
        "2024-03-18T14:05:00,theft,42.65,21.15\n"
        "18th March,theft,42.65,21.15\n"
    )
    ds = load(incidents=write("incidents.csv", text))
    assert found(ds.report, "bad_date") == [(7, "occurred_at")]
    assert ds.incidents["occurred_at"].tolist() == [
        pd.Timestamp("2024-03-18"),
        pd.Timestamp("2024-03-18"),
        pd.Timestamp("2024-03-18 14:05"),
        pd.Timestamp("2024-03-18"),
        pd.Timestamp("2024-03-18"),
        pd.Timestamp("2024-03-18 14:05"),
    ]
    assert ds.report.counts["incidents"] == {"loaded": 7, "joined": 6, "outside": 0, "rejected": 1}


def test_dates_of_meetings_and_concerns_drop_the_time(write, load):
    ds = load(
        concerns=write("concerns.csv", "concern_id,raised_on,category,section_id\nK1,18/03/2024 14:05,Zhurma,S1\n")
    )
    assert ds.concerns["raised_on"].tolist() == [pd.Timestamp("2024-03-18")]
    assert ds.data_as_of == pd.Timestamp("2024-03-18")


# ---------------------------------------------------------------- CRS cases


def _metric(lon, lat, epsg=9141):
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


@pytest.mark.parametrize(
    "epsg, name",
    [
        (3857, "sections.geojson"),
        (3857, "sections.gpkg"),
        (9141, "sections.gpkg"),
        (9141, "sections.parquet"),
        (9141, "sections.zip"),
    ],
)
def test_declared_crs(tmp_path, grid, write_boundaries, load, epsg, name, inside):
    path = write_boundaries(grid.to_crs(epsg=epsg), tmp_path / name)
    ds = load(sections=path)
    assert ds.report.problems == []
    assert ds.sections.crs.to_epsg() == 4326
    assert tuple(round(float(b), 6) for b in ds.sections.total_bounds) == (21.1, 42.6, 21.3, 42.8)


@pytest.mark.parametrize("name", ["sections.zip", "sections.parquet", "sections.gpkg"])
def test_no_crs_with_lon_lat_coordinates_is_assumed(tmp_path, grid, write_boundaries, load, found, name):
    path = write_boundaries(grid.set_crs(None, allow_override=True), tmp_path / name)
    ds = load(sections=path)
    assert found(ds.report, "crs_assumed") == [(None, None)]
    assert ds.report.ok
    assert len(ds.sections) == 4


@pytest.mark.parametrize("name", ["sections.zip", "sections.parquet", "sections.gpkg"])
def test_no_crs_with_metric_coordinates_is_an_error(tmp_path, grid, write_boundaries, load, found, write, name):
    path = write_boundaries(grid.to_crs(9141).set_crs(None, allow_override=True), tmp_path / name)
    incidents = write("incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42.65,21.15\n")
    ds = load(sections=path, incidents=incidents)
    assert found(ds.report, "missing_crs") == [(None, None)]
    assert found(ds.report, "needs_sections") == [(None, None)]  # the incidents cannot be joined
    assert not ds.report.ok
    assert len(ds.sections) == 0 and len(ds.incidents) == 0


def test_geojson_in_metres_without_a_crs_member_is_an_error(tmp_path, grid, load, found):
    metric = grid.to_crs(9141)
    features = [
        {
            "type": "Feature",
            "properties": {"section_id": r.section_id, "section_name": r.section_name, "municipality": r.municipality},
            "geometry": shapely.geometry.mapping(r.geometry),
        }
        for r in metric.itertuples()
    ]
    path = tmp_path / "sections.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    ds = load(sections=path)
    assert found(ds.report, "missing_crs") == [(None, None)]
    # and the user's fix: say which CRS the numbers are in
    ds = load(LoadOptions(crs={"sections": "EPSG:9141"}), sections=path)
    assert ds.report.problems == []
    assert tuple(round(float(b), 6) for b in ds.sections.total_bounds) == (21.1, 42.6, 21.3, 42.8)


def test_geojson_points_in_metres_without_a_crs_member(tmp_path, load, found, inside):
    x, y = _metric(*inside["S3"])
    feature = {
        "type": "Feature",
        "properties": {"occurred_at": "18.03.2024", "category": "Vjedhje"},
        "geometry": {"type": "Point", "coordinates": [x, y]},
    }
    path = tmp_path / "incidents.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    ds = load(incidents=path)
    assert found(ds.report, "missing_crs", "incidents") == [(None, None)]
    ds = load(LoadOptions(crs={"incidents": "EPSG:9141"}), incidents=path)
    assert ds.report.problems == []
    assert ds.incidents["section_id"].tolist() == ["S3"]


def test_crs_option_for_sections_without_one(tmp_path, grid, write_boundaries, load):
    path = write_boundaries(grid.to_crs(9141).set_crs(None, allow_override=True), tmp_path / "sections.zip")
    ds = load(LoadOptions(crs={"sections": "EPSG:9141"}), sections=path)
    assert ds.report.problems == []
    assert len(ds.sections) == 4


def test_xy_columns_with_crs_option(write, load, inside):
    rows = ["incident_id;occurred_at;category;x;y"]
    for sid in ("S1", "S2", "S3", "S4"):
        # metres with a decimal comma, as a spreadsheet in Kosovo writes them
        x, y = (f"{c:.2f}".replace(".", ",") for c in _metric(*inside[sid]))
        rows.append(f"{sid};18.03.2024;theft;{x};{y}")
    ds = load(LoadOptions(crs={"incidents": "EPSG:9141"}), incidents=write("incidents.csv", "\n".join(rows) + "\n"))
    assert ds.report.problems == []
    assert ds.incidents["section_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert ds.incidents["lon"].tolist() == pytest.approx([21.15, 21.25, 21.15, 21.25], abs=1e-6)


def test_xy_columns_without_crs(write, load, found, inside):
    x, y = _metric(*inside["S1"])
    ds = load(incidents=write("incidents.csv", f"occurred_at,category,x,y\n2024-03-18,theft,{x},{y}\n"))
    assert found(ds.report, "missing_crs", "incidents") == [(None, None)]
    assert "incidents" not in ds.report.counts
    assert not ds.report.ok


def test_point_table_without_crs_in_degrees(tmp_path, load, found):
    path = tmp_path / "incidents.parquet"
    gpd.GeoDataFrame(
        {"occurred_at": ["2024-03-18"], "category": ["theft"]}, geometry=[shapely.Point(21.15, 42.65)], crs=None
    ).to_parquet(path)
    ds = load(incidents=path)
    assert found(ds.report, "crs_assumed") == [(None, None)]
    assert ds.incidents["section_id"].tolist() == ["S1"]


def test_bad_crs_option(write, load, found):
    path = write("incidents.csv", "occurred_at,category,x,y\n2024-03-18,theft,7500000,4700000\n")
    ds = load(LoadOptions(crs={"incidents": "EPSG:0"}), incidents=path)
    assert found(ds.report, "bad_crs") == [(None, None)]


# ---------------------------------------------------------------- swapped coordinates


def test_swapped_coordinates_in_some_rows(write, load, found):
    text = (
        "incident_id,occurred_at,category,lat,lon\n"
        "I1,2024-03-18,theft,42.65,21.15\n"
        "I2,2024-03-18,theft,21.25,42.65\n"
        "I3,2024-03-18,theft,42.75,21.15\n"
    )
    ds = load(incidents=write("incidents.csv", text))
    assert found(ds.report, "swapped_coordinates") == [(2, "lat")]
    assert ds.incidents["section_id"].tolist() == ["S1", "S2", "S3"]
    assert ds.report.counts["incidents"] == {"loaded": 3, "joined": 3, "outside": 0, "rejected": 0}


def test_swapped_coordinate_columns(write, load, found, incidents_frame):
    swapped = incidents_frame.rename(columns={"lat": "lon", "lon": "lat"})
    ds = load(incidents=write("incidents.csv", _csv_rows(swapped)))
    assert found(ds.report, "swapped_coordinates") == [(None, "lat")]
    assert ds.incidents["section_id"].tolist()[:4] == ["S1", "S2", "S3", "S4"]
    assert ds.report.counts["incidents"] == {"loaded": 5, "joined": 4, "outside": 1, "rejected": 0}


# ---------------------------------------------------------------- section geometry problems


def _features(tmp_path, geometries, ids=None, name="sections.geojson"):
    ids = ids or [f"S{i + 1}" for i in range(len(geometries))]
    features = [
        {
            "type": "Feature",
            "properties": {"section_id": sid, "section_name": f"Sektori {sid}", "municipality": "Prishtinë"},
            "geometry": None if g is None else shapely.geometry.mapping(g),
        }
        for sid, g in zip(ids, geometries)
    ]
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_bow_tie_is_repaired(tmp_path, load, found, write, square):
    bow_tie = shapely.Polygon([(21.2, 42.6), (21.3, 42.7), (21.3, 42.6), (21.2, 42.7)])
    path = _features(tmp_path, [square(21.1, 42.6), bow_tie])
    inc = write(
        "incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42.62,21.25\n2024-03-18,theft,42.65,21.22\n"
    )
    ds = load(sections=path, incidents=inc)
    assert found(ds.report, "repaired_geometry") == [(2, "geometry")]
    assert ds.report.ok
    assert ds.sections.geometry.iloc[1].geom_type in ("Polygon", "MultiPolygon")
    assert ds.sections.geometry.is_valid.all()
    assert ds.report.counts["sections"] == {"loaded": 2, "accepted": 2, "rejected": 0, "repaired": 1}
    # below the crossing: cut away by the bow-tie; inside its left triangle
    assert pd.isna(ds.incidents["section_id"].iloc[0])
    assert ds.incidents["section_id"].iloc[1] == "S2"


def test_overlap_and_points_inside_it(tmp_path, load, found, write, square):
    path = _features(tmp_path, [square(21.15, 42.6), square(21.1, 42.6)], ids=["S2", "S1"])
    inc = write(
        "incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42.65,21.18\n2024-03-18,theft,42.65,21.23\n"
    )
    ds = load(sections=path, incidents=inc)
    assert found(ds.report, "overlap") == [(2, "geometry")]
    assert ds.report.ok  # a warning
    assert ds.incidents["section_id"].tolist() == ["S1", "S2"]


def test_gap_between_sections_and_points_in_it(tmp_path, load, found, write, square):
    ring = [square(21.1 + 0.1 * i, 42.6 + 0.1 * j) for j in range(3) for i in range(3) if (i, j) != (1, 1)]
    inc = write("incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42.75,21.25\n")
    ds = load(sections=_features(tmp_path, ring), incidents=inc)
    assert found(ds.report, "gap") == [(None, "geometry")]
    assert ds.report.ok
    assert ds.report.counts["incidents"] == {"loaded": 1, "joined": 0, "outside": 1, "rejected": 0}
    assert len(outside(ds.incidents)) == 1


def test_duplicate_section_ids(tmp_path, load, found, write, square):
    path = _features(tmp_path, [square(21.1, 42.6), square(21.2, 42.6), square(21.1, 42.7)], ids=["S1", "S2", "S1"])
    inc = write("incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42.65,21.15\n")
    ds = load(sections=path, incidents=inc)
    assert found(ds.report, "duplicate_id") == [(3, "section_id")]
    assert found(ds.report, "needs_sections") == [(None, None)]
    assert not ds.report.ok
    assert ds.report.counts["sections"] == {"loaded": 3, "accepted": 0, "rejected": 3, "repaired": 0}
    assert len(ds.sections) == 0


def test_empty_geometries(tmp_path, load, found, square):
    path = _features(tmp_path, [square(21.1, 42.6), None, shapely.Polygon()])
    ds = load(sections=path)
    assert found(ds.report, "empty_geometry") == [(2, "geometry"), (3, "geometry")]
    assert not ds.report.ok
    assert ds.report.counts["sections"]["loaded"] == 3


def test_non_polygons(tmp_path, load, found, square):
    path = _features(
        tmp_path, [square(21.1, 42.6), shapely.Point(21.25, 42.65), shapely.LineString([(21, 42), (21.1, 42.1)])]
    )
    ds = load(sections=path)
    assert found(ds.report, "not_polygon") == [(2, "geometry"), (3, "geometry")]
    assert not ds.report.ok


# ---------------------------------------------------------------- columns, categories, names


def test_missing_column_in_sections(tmp_path, grid, write_boundaries, load, found):
    path = write_boundaries(grid.drop(columns=["section_name"]), tmp_path / "sections.gpkg")
    ds = load(sections=path)
    assert found(ds.report, "missing_column") == [(None, "section_name")]
    assert not ds.report.ok


@pytest.mark.parametrize(
    "input, header, field",
    [
        ("incidents", "occurred_at,lat,lon", "category"),
        ("concerns", "concern_id,category,section_id", "raised_on"),
        ("committees", "committee_id,type,municipality", "name"),
        ("meetings", "meeting_id,held_on", "committee_id"),
        ("surveys", "area,period,trust_pct", "satisfaction_pct"),
    ],
)
def test_missing_column_in_tables(write, load, found, input, header, field):
    ds = load(**{input: write(f"{input}.csv", header + "\n" + ",".join(["x"] * header.count(",")) + ",y\n")})
    assert found(ds.report, "missing_column", input) == [(None, field)]
    assert input not in ds.report.counts


def test_column_mapping(tmp_path, grid, write_boundaries, load):
    gdf = grid.rename(columns={"section_name": "shapeName"})
    path = write_boundaries(gdf, tmp_path / "sections.geojson")
    ds = load(LoadOptions(columns={"sections": {"section_name": "shapeName"}}), sections=path)
    assert ds.report.problems == []
    assert ds.sections["section_name"].tolist()[0] == "Sektori S1"


def test_unknown_categories_kept_as_other(write, load, found):
    text = (
        "occurred_at;category;lat;lon\n"
        "18.03.2024;Vjedhje e veçantë;42,65;21,15\n"
        "18.03.2024;Krađa;42,65;21,15\n"
        "18.03.2024;Vjedhje e veçantë;42,65;21,15\n"
    )
    ds = load(incidents=write("incidents.csv", text))
    assert found(ds.report, "unknown_category") == [(1, "category")]
    assert ds.incidents["category"].tolist() == ["other", "theft", "other"]
    assert ds.report.counts["incidents"]["rejected"] == 0


def test_value_mapping(write, load):
    text = "occurred_at;category;lat;lon\n18.03.2024;Vjedhje e veçantë;42,65;21,15\n"
    options = LoadOptions(values={"incidents": {"category": {"Vjedhje e veçantë": "theft"}}})
    ds = load(options, incidents=write("incidents.csv", text))
    assert ds.report.problems == []
    assert ds.incidents["category"].tolist() == ["theft"]
    assert ds.incidents["category_raw"].tolist() == ["Vjedhje e veçantë"]


def test_unknown_municipality_and_region_names(tmp_path, grid, write_boundaries, load, found):
    gdf = grid.copy()
    gdf["municipality"] = ["Prishtinë", "Atlantis", "Priština", "Prishtina"]
    gdf["region"] = ["", "", "Narnia", ""]
    ds = load(sections=write_boundaries(gdf, tmp_path / "sections.gpkg"))
    assert found(ds.report, "unknown_name") == [(2, "municipality"), (3, "region")]
    assert ds.report.ok
    assert len(ds.sections) == 4


# ---------------------------------------------------------------- points and sections


def test_points_on_edges_inside_and_outside(write, load, inside):
    far_lon, far_lat = inside["far"]
    text = (
        "incident_id,occurred_at,category,lat,lon\n"
        "edge12,2024-03-18,theft,42.65,21.2\n"
        "edge34,2024-03-18,theft,42.75,21.2\n"
        "corner,2024-03-18,theft,42.7,21.2\n"
        "in4,2024-03-18,theft,42.75,21.25\n"
        f"far,2024-03-18,theft,{far_lat},{far_lon}\n"
        "nowhere,2024-03-18,theft,,\n"
    )
    ds = load(incidents=write("incidents.csv", text))
    inc = ds.incidents.set_index("incident_id")["section_id"]
    assert inc["edge12"] == "S1" and inc["edge34"] == "S3" and inc["corner"] == "S1" and inc["in4"] == "S4"
    assert pd.isna(inc["far"])  # kept and counted outside
    assert ds.report.counts["incidents"] == {"loaded": 6, "joined": 4, "outside": 1, "rejected": 1}
    assert outside(ds.incidents)["incident_id"].tolist() == ["far"]


def test_section_located_rows(write, load, found):
    text = (
        "incident_id,occurred_at,category,section_id,count\n"
        "T1,2024-03-18,Tiketë trafiku,S1,14\n"
        "T2,2024-03-18,Tiketë trafiku,S7,3\n"
        "T3,2024-03-18,Tiketë trafiku,s1,2\n"
    )
    ds = load(incidents=write("incidents.csv", text))
    assert found(ds.report, "unknown_section") == [(2, "section_id"), (3, "section_id")]
    assert ds.incidents["section_id"].tolist() == ["S1"]
    assert ds.incidents["count"].tolist() == [14]
    assert ds.report.counts["incidents"] == {"loaded": 3, "joined": 1, "outside": 0, "rejected": 2}


# ---------------------------------------------------------------- empty files


@pytest.mark.parametrize("input", ["incidents", "concerns", "committees", "meetings", "surveys"])
@pytest.mark.parametrize("content", ["", "header_only"])
def test_empty_tables(write, load, found, input, content):
    text = {"": "", "header_only": "a,b,c\n"}[content]
    ds = load(**{input: write(f"{input}.csv", text)})
    assert found(ds.report, "empty_file", input) == [(None, None)]
    assert not ds.report.ok
    assert input not in ds.report.counts
    assert len(getattr(ds, input)) == 0


@pytest.mark.parametrize("name", ["sections.geojson", "sections.gpkg", "sections.zip", "sections.parquet"])
def test_empty_boundary_files(tmp_path, load, found, name):
    path = tmp_path / name
    path.write_bytes(b"")
    ds = load(sections=path)
    assert found(ds.report, "empty_file") == [(None, None)]
    assert not ds.report.ok


def test_boundary_file_without_features(tmp_path, load, found):
    ds = load(sections=_features(tmp_path, []))
    assert found(ds.report, "empty_file") == [(None, None)]


# ---------------------------------------------------------------- committees, meetings, surveys


def test_committees_meetings_and_surveys(write, load, found):
    committees = write(
        "committees.csv",
        "committee_id,type,name,municipality,sections\n"
        "C1,KLSP,Komiteti Qendra,Prishtinë,S1|S2|S9\n"
        "C2,LCPS,Komiteti Veri,Atlantis,S3\n"
        "C3,KKSB,Këshilli Komunal,Priština,\n",
    )
    meetings = write(
        "meetings.csv",
        "meeting_id;committee_id;held_on;attendance\nM1;C1;18.03.2024.;14\nM2;C2;19.03.2024;9\nM3;C3;20.03.2024;11\n",
    )
    surveys = write(
        "surveys.csv",
        "area,period,trust_pct,satisfaction_pct\n"
        "Prishtinë,2024,61.5,55\nDRP Gjilan,2024-Q2,58,50\nAtlantis,2024,50,50\n"
        "Pejë,2024-Q5,50,50\nPodujevë,2024,101,50\n",
    )
    ds = load(committees=committees, meetings=meetings, surveys=surveys)
    assert found(ds.report, "unknown_section") == [(1, "sections")]
    assert found(ds.report, "unknown_name", "committees") == [(2, "municipality")]
    assert found(ds.report, "unknown_committee") == [(2, "committee_id")]  # its committee was rejected
    assert found(ds.report, "unknown_name", "surveys") == [(3, "area")]
    assert found(ds.report, "bad_period") == [(4, "period")]
    assert found(ds.report, "out_of_range") == [(5, "trust_pct")]
    assert ds.report.ok  # row problems are warnings
    assert ds.committees["sections"].tolist() == [["S1", "S2"], []]
    assert ds.meetings["meeting_id"].tolist() == ["M1", "M3"]
    assert ds.surveys["area_name"].tolist() == ["Prishtinë", "Gjilan"]
    assert ds.report.counts["committees"] == {"loaded": 3, "matched": 2, "rejected": 1}
    assert ds.report.counts["meetings"] == {"loaded": 3, "matched": 2, "rejected": 1}
    assert ds.report.counts["surveys"] == {"loaded": 5, "matched": 2, "rejected": 3}


def test_inputs_that_need_sections_without_them(write, found, check_counts):
    inc = write("incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42.65,21.15\n")
    sur = write("surveys.csv", "area,period,trust_pct,satisfaction_pct\nPrishtinë,2024,50,50\n")
    ds = load_files({"incidents": inc, "surveys": sur})
    check_counts(ds)
    assert found(ds.report, "needs_sections") == [(None, None)]
    assert ds.report.counts["surveys"] == {"loaded": 1, "matched": 1, "rejected": 0}
    assert "incidents" not in ds.report.counts


# ---------------------------------------------------------------- the whole set, and the source


def test_all_inputs_reconcile(write, load, incidents_frame, tmp_path):
    ds = load(
        incidents=_incidents_as("parquet", incidents_frame, tmp_path),
        concerns=write("concerns.csv", CONCERNS_CSV.format(s=";", d=",")),
        committees=write("committees.csv", "committee_id,type,name,municipality,sections\nC1,LCPS,K,Prishtinë,S1\n"),
        meetings=write("meetings.csv", "meeting_id,committee_id,held_on\nM1,C1,2024-03-18\nM2,C9,2024-03-18\n"),
        surveys=write("surveys.csv", "area,period,trust_pct,satisfaction_pct\nPrishtinë,2024,50,50\n"),
    )
    assert set(ds.report.counts) == {"sections", "incidents", "concerns", "committees", "meetings", "surveys"}
    for name in ds.report.counts:
        assert ds.report.reconciles(name)
    assert ds.data_as_of == pd.Timestamp("2024-03-18")


def test_unknown_input_name_is_a_value_error(sections_path):
    with pytest.raises(ValueError, match="incidents"):
        load_files({"sections": sections_path, "incident": sections_path})


def test_file_source_loads_and_fingerprints(write, sections_path):
    inc = write("incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42.65,21.15\n")
    src = FileSource({"sections": sections_path, "incidents": inc})
    before = src.fingerprint()
    assert before == FileSource({"sections": sections_path, "incidents": inc}).fingerprint()
    ds = src.load()
    assert ds.report.counts["incidents"]["joined"] == 1
    other = FileSource({"sections": sections_path, "incidents": inc}, LoadOptions(crs={"incidents": "EPSG:4326"}))
    assert other.fingerprint() != before
    write("incidents.csv", "occurred_at,category,lat,lon\n2024-03-18,theft,42.65,21.15\n2024-03-19,theft,42.65,21.15\n")
    assert src.fingerprint() != before


@pytest.mark.parametrize("input", ["incidents", "concerns", "committees", "meetings", "surveys"])
def test_empty_tables_have_the_loaders_columns(sections_path, input):
    ds = load_files({"sections": sections_path})
    frame = getattr(ds, input)
    assert len(frame) == 0
    assert list(frame.columns) == list(empty_frame(input).columns)
    assert ds.data_as_of is None


# ---------------------------------------------------------------- large tables (checked per distinct value)


def _big_incidents(n: int = 12_000) -> pd.DataFrame:
    """``n`` incidents in the grid with a few distinct category labels (padded, native, unknown, empty)."""
    labels = ["theft", " theft ", "Vjedhje", "drugs", "Bogus label", ""]
    lon = [21.15, 21.25, 21.15, 21.25, 20.74, 21.2]
    lat = [42.65, 42.65, 42.75, 42.75, 42.21, 42.7]
    k = [i % len(labels) for i in range(n)]
    return pd.DataFrame(
        {
            "incident_id": [f"B{i}" for i in range(n)],
            "occurred_at": ["2024-03-18 10:00"] * n,
            "category": [labels[j] for j in k],
            "lat": [lat[j] for j in k],
            "lon": [lon[j] for j in k],
        }
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet-categorical"])
def test_a_large_table_is_checked_per_distinct_value(tmp_path, load, found, fmt):
    frame = _big_incidents()
    if fmt == "csv":
        path = tmp_path / "incidents.csv"
        frame.to_csv(path, index=False)
    else:
        frame["category"] = frame["category"].astype("category")
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"])
        path = tmp_path / "incidents.parquet"
        frame.to_parquet(path)
    ds = load(incidents=path)
    inc = ds.incidents
    empty = frame["category"].astype(str) == ""
    assert len(inc) == int((~empty).sum())  # an empty category rejects the row
    assert found(ds.report, "missing_value", "incidents") == [(i + 1, "category") for i in frame.index[empty]]
    unknown = [p for p in ds.report.problems if p.code == "unknown_category"]
    assert [(p.value, p.row) for p in unknown] == [("Bogus label", 5)]  # one warning per label, first row
    by_raw = inc.groupby(inc["category_raw"].astype(str))["category"].agg(lambda c: set(c.astype(str)))
    assert by_raw.to_dict() == {"theft": {"theft"}, "Vjedhje": {"theft"}, "drugs": {"drugs"}, "Bogus label": {"other"}}
    assert str(inc["category_raw"].dtype) == "string" and str(inc["incident_id"].dtype) == "string"
    assert inc["section_id"].value_counts().to_dict() == {"S1": 2000, "S2": 2000, "S3": 2000, "S4": 2000}
    assert inc["section_id"].isna().sum() == int((frame["lon"] == 20.74).sum())  # outside every section


def test_generated_ids_for_rows_without_one(tmp_path, load):
    frame = _big_incidents(30).drop(columns=["incident_id"])
    path = tmp_path / "incidents.csv"
    frame.to_csv(path, index=False)
    ds = load(incidents=path)
    assert ds.incidents["incident_id"].tolist()[:2] == ["incidents.csv:1", "incidents.csv:2"]
    assert str(ds.incidents["incident_id"].dtype) == "string"
