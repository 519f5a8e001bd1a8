"""Section identity is fixed at load: every ``section_id`` column is :data:`geo.dataset.SECTION_ID_DTYPE`.

From the files (the loader), from the columnar cache (:mod:`geo.filecache`) and in the public copy
(:meth:`geo.public.PublicPolicy.apply`): nothing downstream converts section ids, so they must come right.
"""

from __future__ import annotations

import pandas as pd
import pytest
from dashboard_fixtures import public_policy, small_dataset, tiny_dataset

from geo import filecache
from geo.dataset import SECTION_ID_DTYPE, Dataset
from geo.loader import empty_frame, empty_sections, load_files


def check_ids(data: Dataset) -> None:
    for name in ("sections", "incidents", "concerns"):
        ids = getattr(data, name)["section_id"]
        assert ids.dtype == SECTION_ID_DTYPE, (name, ids.dtype)
        assert all(isinstance(v, str) for v in ids.dropna()), name
    for ids in data.committees["sections"]:
        assert isinstance(ids, list) and all(type(v) is str for v in ids), ids


@pytest.fixture
def files(tmp_path, sections_path, write, inside):
    far = inside["far"]
    points = [*(inside[s] for s in ("S1", "S2", "S3", "S4")), far]
    rows = "\n".join(f"I{i},2024-03-18,theft,{lat},{lon}," for i, (lon, lat) in enumerate(points))
    incidents = write(
        "incidents.csv",
        f"incident_id,occurred_at,category,lat,lon,section_id\n{rows}\nI9,2024-03-19,traffic_ticket,,,S3\n",
    )
    concerns = write(
        "concerns.csv",
        "concern_id,raised_on,category,status,source,section_id\nC1,2024-03-01,drugs,open,phone,S1\n"
        "C2,2024-03-02,other,open,phone,S4\n",
    )
    committees = write(
        "committees.csv",
        "committee_id,type,name,municipality,sections,active\nK1,LCPS,KLSP,Prishtinë,S1;S2,yes\n",
    )
    return {"sections": sections_path, "incidents": incidents, "concerns": concerns, "committees": committees}


def test_section_ids_from_the_files_the_cache_and_the_public_copy(files, tmp_path):
    loaded = load_files(files)
    assert loaded.report.ok, [p.message for p in loaded.report.errors]
    check_ids(loaded)
    assert loaded.incidents["section_id"].isna().sum() == 1  # the record outside every section: NaN
    assert loaded.incidents["section_id"].iloc[-1] == "S3"  # located by section only: its id as text
    first = filecache.load(files, directory=tmp_path / "cache", min_bytes=0)  # written to the cache
    cached = filecache.load(files, directory=tmp_path / "cache", min_bytes=0)  # read back from Parquet
    assert len(list((tmp_path / "cache").iterdir())) == 1
    for data in (first, cached, public_policy().apply(loaded), public_policy().apply(cached)):
        check_ids(data)
    pd.testing.assert_series_equal(cached.incidents["section_id"], loaded.incidents["section_id"])


def test_section_ids_that_look_like_numbers_stay_text(tmp_path, grid, write_boundaries, write, inside):
    sections = write_boundaries(grid.assign(section_id=["007", "010", "1e3", "12"]), tmp_path / "s.geojson")
    lon, lat = inside["S1"]
    incidents = write("incidents.csv", f"incident_id,occurred_at,category,lat,lon\nI1,2024-03-18,theft,{lat},{lon}\n")
    data = load_files({"sections": sections, "incidents": incidents})
    check_ids(data)
    assert data.sections["section_id"].tolist() == ["007", "010", "1e3", "12"]
    assert data.incidents["section_id"].tolist() == ["007"]


def test_empty_tables_and_the_hand_made_datasets_have_the_same_dtype():
    for name in ("incidents", "concerns"):
        assert empty_frame(name)["section_id"].dtype == SECTION_ID_DTYPE
    assert empty_sections()["section_id"].dtype == SECTION_ID_DTYPE
    for data in (tiny_dataset(), small_dataset()):
        check_ids(data)
