"""A message, never a traceback (issue 10, section 5): each of these raised an uncaught exception before.

Broken geometry (NaN or infinite coordinates, an unclosed ring, a ring of two points), a binary file named
``.csv``, a code-page file with one undefined byte, nested Parquet columns, and cells of megabytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geo import uploads
from geo.loader import load_files

HEADER = "incident_id,occurred_at,category,lat,lon,count\n"


def broken_ring(path: Path, sections_path: Path, ring: list, feature: int = 1) -> Path:
    """The grid sections with feature ``feature`` (0-based) given ``ring`` as its exterior."""
    doc = json.loads(sections_path.read_text())
    doc["features"][feature]["geometry"] = {"type": "Polygon", "coordinates": [ring]}
    # json writes NaN and Infinity as such (not standard JSON, but what careless writers produce)
    path.write_text(json.dumps(doc))
    return path


RINGS = {
    "nan": [[21.2, 42.6], [float("nan"), 42.6], [21.3, 42.7], [21.2, 42.6]],
    "infinity": [[21.2, 42.6], [float("inf"), 42.6], [21.3, 42.7], [21.2, 42.6]],
    "unclosed": [[21.2, 42.6], [21.3, 42.6], [21.3, 42.7], [21.2, 42.7]],
    "two points": [[21.2, 42.6], [21.3, 42.6]],
}


@pytest.mark.parametrize("kind", list(RINGS))
def test_broken_polygon_geometry_is_a_problem_naming_the_feature(tmp_path, sections_path, kind, found):
    path = broken_ring(tmp_path / "broken.geojson", sections_path, RINGS[kind])
    ds = load_files({"sections": path})
    assert found(ds.report, "bad_geometry") == [(2, "geometry")]
    problem = ds.report.errors[0]
    assert problem.file == "broken.geojson" and "feature 2" in problem.message
    assert ds.report.counts["sections"]["accepted"] == 0  # like an empty geometry, an error for the file


def test_broken_point_geometry_rejects_only_that_row(tmp_path, sections_path, found, check_counts):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"incident_id": f"I{i}", "occurred_at": "2024-03-18", "category": "theft"},
                "geometry": {"type": "Point", "coordinates": xy},
            }
            for i, xy in enumerate([[21.15, 42.65], [float("nan"), 42.65], [21.25, float("inf")]], start=1)
        ],
    }
    path = tmp_path / "incidents.geojson"
    path.write_text(json.dumps(doc))
    ds = load_files({"sections": sections_path, "incidents": path})
    check_counts(ds)
    assert found(ds.report, "bad_geometry") == [(2, "geometry"), (3, "geometry")]
    assert ds.report.counts["incidents"] == {"loaded": 3, "joined": 1, "outside": 0, "rejected": 2}


def test_a_binary_file_named_csv_is_reported(sections_path, tmp_path, found):
    path = tmp_path / "incidents.csv"
    path.write_bytes(bytes(range(256)) * 40)
    ds = load_files({"sections": sections_path, "incidents": path})
    assert found(ds.report, "binary_file") == [(None, None)]
    assert ds.report.errors[0].file == "incidents.csv"


def test_binary_junk_without_nul_bytes_is_reported(sections_path, tmp_path, found):
    import random

    rng = random.Random(10)
    path = tmp_path / "incidents.csv"
    path.write_bytes(bytes(rng.choice([0x81, 0x8D, 0x8F, 0x90, 0x9D, 0x01, 0x02, 0x1B, 0x41]) for _ in range(5000)))
    ds = load_files({"sections": sections_path, "incidents": path})
    assert found(ds.report, "binary_file") == [(None, None)]


@pytest.mark.parametrize("stray", [b"\x81", b"\x98"])
def test_a_code_page_file_with_one_undefined_byte_is_read_and_the_cell_reported(
    sections_path, tmp_path, found, check_counts, stray
):
    text = (
        HEADER
        + "I1,2024-03-18,Krađa,42.65,21.15,1\nI2,2024-03-18,Vjedhje,42.65,21.15,1\nI3,2024-03-18,Krađa,42.65,21.15,1\n"
    )
    data = text.encode("cp1250").replace(b"Vjedhje", b"Vjed" + stray + b"hje")
    path = tmp_path / "incidents.csv"
    path.write_bytes(data)
    ds = load_files({"sections": sections_path, "incidents": path})
    check_counts(ds)
    assert found(ds.report, "encoding_guessed") == [(None, None)]
    assert found(ds.report, "bad_character") == [(2, "category")]
    assert ds.report.counts["incidents"]["joined"] == 3  # the row is kept (its category is then unknown)
    assert ds.incidents["category"].astype(str).tolist()[::2] == ["theft", "theft"]


@pytest.mark.parametrize("column", ["category", "incident_id", "count", "lat", "occurred_at"])
def test_a_nested_parquet_column_rejects_its_rows(load, tmp_path, found, column):
    frame = pd.DataFrame(
        {
            "incident_id": ["I1", "I2"],
            "occurred_at": ["2024-03-18", "2024-03-18"],
            "category": ["theft", "drugs"],
            "lat": [42.65, 42.65],
            "lon": [21.15, 21.15],
            "count": [1, 2],
        }
    )
    frame[column] = [{"a": [1, 2]}, None]  # a struct column (Parquet cannot mix structs and plain values)
    path = tmp_path / "incidents.parquet"
    frame.to_parquet(path)
    ds = load(incidents=path)  # the counts reconcile
    assert found(ds.report, "nested_value") == [(1, column)]
    assert 1 not in set(ds.incidents["row"])


def test_a_nested_parquet_column_in_sections(tmp_path, grid, found):
    gdf = grid.copy()
    gdf["station"] = [{"name": "Prishtinë"}, None, None, None]
    path = tmp_path / "sections.parquet"
    gdf.to_parquet(path)
    ds = load_files({"sections": path})
    assert found(ds.report, "nested_value") == [(1, "station")]
    assert ds.report.counts["sections"]["accepted"] == 3


def test_a_ten_megabyte_cell_is_cut_in_messages_and_values(load, write, found):
    from geo.report import MESSAGE_LIMIT, VALUE_LIMIT

    huge = "x" * 10_000_000
    path = write(
        "incidents.csv",
        HEADER
        + f"I1,{huge},theft,42.65,21.15,1\nI2,2024-03-18,{huge},42.65,21.15,1\nI3,2024-03-18,theft,{huge},21.15,1\n",
    )
    ds = load(incidents=path)
    assert {p.code for p in ds.report.problems} == {"bad_date", "unknown_category", "bad_number"}
    for p in ds.report.problems:
        assert len(p.message) <= MESSAGE_LIMIT
        assert p.value is None or len(str(p.value)) <= VALUE_LIMIT
        assert len(json.dumps(p.to_dict())) < 5_000
    assert next(p for p in ds.report.problems if p.code == "bad_date").value == "x" * (VALUE_LIMIT - 1) + "…"


def test_the_data_page_helpers_never_raise_on_nested_values(tmp_path):
    frame = pd.DataFrame({"category": [{"a": 1}, {"a": 2}, None], "n": [1, 2, 3]})
    path = tmp_path / "incidents.parquet"
    frame.to_parquet(path)
    cols, why = uploads.read_columns(path, "incidents")
    assert cols == ["category", "n"] and why == ""
    assert len(uploads.distinct_values(path, "incidents", "category")) == 2
