"""A corpus of broken files, made here, through the Data page's own path: a report naming the file, never an exception.

Each file goes where an upload goes (``uploads.save_upload``), then through what ``views/data.py`` calls
with it: the layers, the columns and the distinct labels of each recognised category column
(``views/cache.py``), and finally ``cache.dataset`` of a :class:`~geo.source.FileSource`, the "Check these
files" button. The corpus is generated with a fixed seed; every input kind gets every case that fits it.
"""

from __future__ import annotations

import io
import json
import random
import tempfile
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import uploads
from geo.i18n import FIELD_VOCABULARY
from geo.report import MESSAGE_LIMIT, VALUE_LIMIT
from geo.schema import COUNT_KEYS, INPUTS
from geo.source import FileSource
from views import cache

SEED = 20240318
#: Cases that are read as they should be (no problem needed), among the broken ones.
READABLE = {"utf16_bom.csv"}
TABLES = ("incidents", "concerns", "committees", "meetings", "surveys")

#: A valid row per table input, as CSV (header, row), for the cases that spoil one thing in a good file.
GOOD_ROWS = {
    "incidents": ("incident_id,occurred_at,category,lat,lon,count", "I1,2024-03-18,theft,42.65,21.15,1"),
    "concerns": ("concern_id,raised_on,category,lat,lon", "C1,2024-03-18,theft,42.65,21.15"),
    "committees": ("committee_id,type,name,municipality,sections", "K1,LCPS,Komiteti,Prishtinë,S1"),
    "meetings": ("meeting_id,committee_id,held_on,attendance", "M1,K1,2024-03-18,12"),
    "surveys": ("area,period,trust_pct,satisfaction_pct,respondents", "Prishtinë,2024,61,55,400"),
}


def _rng() -> random.Random:
    return random.Random(SEED)


def _grid(**columns) -> gpd.GeoDataFrame:
    cells = [
        shapely.box(21.1 + 0.1 * i, 42.6 + 0.1 * j, 21.2 + 0.1 * i, 42.7 + 0.1 * j) for j in (0, 1) for i in (0, 1)
    ]
    data = {"section_id": ["S1", "S2", "S3", "S4"], "section_name": list("ABCD"), "municipality": ["Prishtinë"] * 4}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=cells, crs="EPSG:4326")


def _geojson(gdf: gpd.GeoDataFrame) -> dict:
    return json.loads(gdf.to_json(drop_id=True))


def _with_ring(ring: list) -> bytes:
    doc = _geojson(_grid())
    doc["features"][2]["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    return json.dumps(doc).encode()


def _gpkg_bytes(gdf: gpd.GeoDataFrame, tmp: Path, layers: int = 1) -> bytes:
    path = tmp / "x.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(layers):
            gdf.to_file(path, layer=f"layer{k}", driver="GPKG", engine="pyogrio")
    data = path.read_bytes()
    path.unlink()
    return data


def _shapefile_zip(gdf: gpd.GeoDataFrame, tmp: Path) -> bytes:
    folder = tmp / "shp"
    folder.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.to_file(folder / "sections.shp", engine="pyogrio")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
            f.unlink()
    return buf.getvalue()


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf)
    return buf.getvalue()


def _mutations(data: bytes, rng: random.Random, n: int) -> list[bytes]:
    """``n`` copies of ``data`` with a few bytes flipped or the tail cut."""
    out = []
    for k in range(n):
        b = bytearray(data)
        if k % 2:
            b = b[: rng.randrange(1, len(b))]
        else:
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    return out


def _nan_polygon() -> shapely.Polygon:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely's note on the NaN made on purpose
        return shapely.Polygon([(21, 42), (float("nan"), 42), (21.1, 42.1)])


def sections_corpus(tmp: Path) -> dict[str, bytes]:
    rng = _rng()
    good = json.dumps(_geojson(_grid())).encode()
    gpkg = _gpkg_bytes(_grid(), tmp)
    shp = _shapefile_zip(_grid(), tmp)
    geoparquet = _parquet(_grid())
    corpus = {
        "empty.geojson": b"",
        "junk.geojson": bytes(rng.randrange(256) for _ in range(4000)),
        "not_json.geojson": b"{not json at all",
        "a_list.geojson": b"[1, 2, 3]",
        "no_features.geojson": b'{"type": "FeatureCollection", "features": []}',
        "features_null.geojson": b'{"type": "FeatureCollection", "features": null}',
        "nan.geojson": _with_ring([[21.1, 42.7], [float("nan"), 42.7], [21.2, 42.8], [21.1, 42.7]]),
        "infinity.geojson": _with_ring([[21.1, 42.7], [float("inf"), 42.7], [21.2, 42.8], [21.1, 42.7]]),
        "unclosed.geojson": _with_ring([[21.1, 42.7], [21.2, 42.7], [21.2, 42.8], [21.1, 42.8]]),
        "two_points.geojson": _with_ring([[21.1, 42.7], [21.2, 42.7]]),
        "points.geojson": json.dumps(
            _geojson(gpd.GeoDataFrame({"section_id": ["S1"]}, geometry=[shapely.Point(21, 42)], crs="EPSG:4326"))
        ).encode(),
        "unknown_crs.geojson": json.dumps(
            {**_geojson(_grid()), "crs": {"type": "name", "properties": {"name": "EPSG:999999"}}}
        ).encode(),
        "duplicate_ids.geojson": json.dumps(_geojson(_grid().assign(section_id=["S1"] * 4))).encode(),
        "no_usable.geojson": json.dumps(_geojson(_grid().assign(section_id=[None] * 4))).encode(),
        "huge_cell.geojson": json.dumps(
            _geojson(_grid(section_name=["x" * 1_000_000] * 4, municipality=["?"] * 4))
        ).encode(),
        "utf16.geojson": good.decode().encode("utf-16"),
        "truncated.gpkg": gpkg[: len(gpkg) // 3],
        "two_layers.gpkg": _gpkg_bytes(_grid(), tmp, layers=2),
        "not_sqlite.gpkg": b"SQLite format 3\x00" + bytes(rng.randrange(256) for _ in range(3000)),
        "truncated.zip": shp[: len(shp) // 2],
        "empty.zip": _empty_zip(),
        "junk_in.zip": _zip_of({"sections.shp": bytes(rng.randrange(256) for _ in range(500))}),
        "truncated.parquet": geoparquet[: len(geoparquet) // 2],
        "plain.parquet": _parquet(pd.DataFrame({"section_id": ["S1"]})),
        "nested.parquet": _parquet(_grid(station=[{"a": [1, 2]}, None, None, None])),
        "nan.parquet": _parquet(
            gpd.GeoDataFrame(
                _grid().drop(columns="geometry"),
                geometry=[_nan_polygon(), *_grid().geometry[1:]],
                crs="EPSG:4326",
            )
        ),
        "binary.csv": b"",  # sections are not CSV: unsupported_format
    }
    for k, data in enumerate(_mutations(good, rng, 6)):
        corpus[f"mutated{k}.geojson"] = data
    return corpus


def _empty_zip() -> bytes:
    buf = io.BytesIO()
    zipfile.ZipFile(buf, "w").close()
    return buf.getvalue()


def _zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def table_corpus(input: str) -> dict[str, bytes]:
    rng = _rng()
    header, row = GOOD_ROWS[input]
    good = f"{header}\n{row}\n"
    first = header.split(",")[0]
    corpus = {
        "empty.csv": b"",
        "blank.csv": b"   \n\n  \n",
        "binary.csv": bytes(range(256)) * 20,
        "junk.csv": bytes(rng.randrange(1, 256) for _ in range(5000)),
        "zip_named.csv": _zip_of({"a.csv": good.encode()}),
        "only_header.csv": f"{header}\n".encode(),
        "only_delimiters.csv": b",,,,\n,,,,\n",
        "unbalanced_quote.csv": f'{header}\n"{row}\n'.encode(),
        "more_fields.csv": f"{header}\n{row},1,2,3\n{row},4,5,6\n".encode(),
        "duplicate_columns.csv": f"{header},{first}\n{row},x\n".encode(),
        "huge_cell.csv": f"{header}\n{row}\n".replace(row.split(",")[1], "y" * 2_000_000, 1).encode(),
        "huge_header.csv": ("z" * 300_000 + "," + good).encode(),
        "utf16_bom.csv": good.encode("utf-16"),
        "utf16_no_bom.csv": good.encode("utf-16-le"),
        "cp1250_stray.csv": (good + row.replace(row[:2], "Kđ", 1) + "\n").encode("cp1250") + b"\x81\n",
        "not_geojson.json": b'{"a": 1}',
        "empty_collection.geojson": b'{"type": "FeatureCollection", "features": []}',
        "truncated.parquet": _parquet(pd.read_csv(io.StringIO(good), dtype=str))[:200],
        "nested.parquet": _parquet(pd.read_csv(io.StringIO(good), dtype=str).assign(**{first: [{"x": [1, 2]}]})),
        "list_column.parquet": _parquet(pd.read_csv(io.StringIO(good), dtype=str).assign(**{first: [["a", "b"]]})),
        "unsupported.xlsx": b"PK\x03\x04",
    }
    # cases that spoil a value only where the input has it
    for case, spoiled in {
        "count_1e19.csv": good.replace(",1\n", ",1e19\n") if input == "incidents" else good,
        "thousands.csv": good.replace(",12\n", ",1,000\n").replace(",400\n", ',"1,000"\n'),
        "far_dates.csv": good.replace("2024-03-18", "9999-12-31").replace(",2024,", ",1900,"),
        "nan_coordinates.csv": good.replace("42.65", "NaN").replace("21.15", "Infinity"),
    }.items():
        if spoiled != good:
            corpus[case] = spoiled.encode()
    if input in ("incidents", "concerns"):
        props = {k: v for k, v in zip(header.split(","), row.split(","), strict=True) if k not in ("lat", "lon")}
        corpus["nan_points.geojson"] = json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": props,
                        "geometry": {"type": "Point", "coordinates": [float("nan"), float("inf")]},
                    }
                ],
            }
        ).encode()
    for k, data in enumerate(_mutations(good.encode(), rng, 4)):
        corpus[f"mutated{k}.csv"] = data
    return corpus


def _check_file(directory: Path, input: str, name: str, data: bytes, others: dict[str, Path]) -> None:
    """What the Data page does with one upload, then "Check these files"; fails on any exception."""
    path = uploads.save_upload(directory, input, name, data)
    mtime = path.stat().st_mtime_ns
    layers = cache.file_layers(str(path), mtime)
    columns, why = cache.file_columns(str(path), input, mtime, layers[0] if layers else "")
    assert isinstance(columns, list) and isinstance(why, str)
    if not why:
        chosen = uploads.guess_columns(input, columns)
        for fld in FIELD_VOCABULARY:
            inp, _dot, fname = fld.partition(".")
            if inp == input and fname in chosen:
                labels = cache.file_labels(str(path), input, chosen[fname], mtime)
                uploads.unknown_labels(input, fname, labels)
    source = FileSource({**others, input: path}, label="upload")
    data_set = cache.dataset(source)
    report = data_set.report
    stored_name = path.name
    named = [p for p in report.problems if p.file == stored_name]
    for name_, counts in report.counts.items():
        first, *rest = COUNT_KEYS[name_]
        assert counts[first] == sum(counts[k] for k in rest), (name, name_, counts)
    for p in report.problems:
        assert len(p.message) <= MESSAGE_LIMIT, (name, p.code)
        assert p.value is None or len(str(p.value)) <= VALUE_LIMIT, (name, p.code)
    if name.startswith("mutated") or name in READABLE:
        # a few flipped bytes may leave a readable file, UTF-16 with a byte-order mark is read: accounted for
        assert named or input in report.counts, name
    else:
        assert named, (name, [str(p) for p in report.problems])


@pytest.fixture(scope="module")
def good_sections(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "sections.geojson"
    path.write_text(_grid().to_json(drop_id=True))
    return path


@pytest.fixture(scope="module")
def good_incidents(tmp_path_factory) -> Path:
    header, row = GOOD_ROWS["incidents"]
    path = tmp_path_factory.mktemp("good") / "incidents.csv"
    path.write_text(f"{header}\n{row}\n")
    return path


with tempfile.TemporaryDirectory(prefix="fuzz-names-") as _tmp:
    SECTION_CASES = sorted(sections_corpus(Path(_tmp)))


@pytest.mark.parametrize("name", SECTION_CASES)
def test_broken_sections_files_give_a_report_never_an_exception(tmp_path, good_incidents, name):
    data = sections_corpus(tmp_path)[name]
    _check_file(tmp_path / "upload", "sections", name, data, {"incidents": good_incidents})


@pytest.mark.parametrize("input", TABLES)
def test_broken_table_files_give_a_report_never_an_exception(tmp_path, good_sections, input):
    for name, data in table_corpus(input).items():
        _check_file(tmp_path / "upload", input, name, data, {"sections": good_sections})


def test_the_corpus_covers_every_input_kind():
    assert set(TABLES) | {"sections"} == set(INPUTS)
    assert len(SECTION_CASES) >= 30 and len(table_corpus("incidents")) >= 25
