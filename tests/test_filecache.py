"""The columnar cache gives back exactly what the loader gave, and never a stale result."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from geo import filecache
from geo.loader import LoadOptions, load_files
from geo.source import FileSource

INCIDENTS = """incident_id;occurred_at;category;lat;lon;count
I1;18.03.2024 14:05;Vjedhje;42,65;21,15;1
I2;2024-03-19;drugs;42.65;21.25;
I3;yesterday;theft;42.75;21.15;1
I4;2024-03-20;bogus;42.75;21.25;2
I5;2024-03-21;theft;42.21;20.74;1
I1;2024-03-22;theft;42.65;21.15;1
"""
CONCERNS = """concern_id,raised_on,category,status,lat,lon,description
C1,2024-03-01,road_safety,open,42.65,21.15,Gropa
C2,2024-03-02,drugs,resolved,42.75,21.25,
"""
COMMITTEES = """committee_id,type,name,municipality,sections,active
K1,LCPS,KLSP Qendra,Prishtinë,S1|S2,yes
K2,MCPS,KKSB Prishtinë,Prishtinë,,po
"""


@pytest.fixture
def paths(sections_path, write) -> dict[str, Path]:
    return {
        "sections": sections_path,
        "incidents": write("incidents.csv", INCIDENTS),
        "concerns": write("concerns.csv", CONCERNS),
        "committees": write("committees.csv", COMMITTEES),
    }


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "cache"


def same(a, b) -> None:
    for name in filecache.TABLES:
        x, y = getattr(a, name), getattr(b, name)
        pd.testing.assert_frame_equal(x, y, check_exact=True)
        assert [str(t) for t in x.dtypes] == [str(t) for t in y.dtypes], name
        for col in x.columns:  # lists stay lists, None stays None
            if x[col].dtype == object:
                assert [type(v) for v in x[col]] == [type(v) for v in y[col]], (name, col)
    assert getattr(a.sections, "crs", None) == getattr(b.sections, "crs", None)
    assert a.report.problems == b.report.problems
    assert a.report.counts == b.report.counts
    assert (a.label, a.is_demo) == (b.label, b.is_demo)


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if (p / "manifest.json").is_file()) if folder.exists() else []


def test_a_cached_load_equals_the_direct_load(paths, folder):
    direct = load_files(paths, label="mine")
    first = filecache.load(paths, label="mine", directory=folder, min_bytes=0)
    assert len(entries(folder)) == 1
    again = filecache.load(paths, label="mine", directory=folder, min_bytes=0)
    same(direct, first)
    same(direct, again)
    assert direct.report.problems  # the files have problems: they come back from the cache too


def test_the_cached_demo_equals_the_direct_load(folder):
    from geo.source import demo_source

    source = demo_source()
    direct = load_files(source.paths, label="demo", is_demo=True)
    filecache.load(source.paths, label="demo", is_demo=True, directory=folder, min_bytes=0)
    same(direct, filecache.load(source.paths, label="demo", is_demo=True, directory=folder, min_bytes=0))


def test_a_changed_file_name_or_option_makes_a_new_key(paths, tmp_path):
    k = filecache.key(paths)
    assert filecache.key(paths) == k
    assert filecache.key(paths, LoadOptions(crs={"incidents": "EPSG:4326"})) != k
    moved = tmp_path / "other"
    moved.mkdir()
    copy = {name: moved / p.name for name, p in paths.items()}
    for name, p in paths.items():
        copy[name].write_bytes(p.read_bytes())
    assert filecache.key(copy) == k  # the same content and names elsewhere: the same entry
    renamed = dict(copy, incidents=moved / "incidents-2024.csv")
    renamed["incidents"].write_bytes(paths["incidents"].read_bytes())
    assert filecache.key(renamed) != k  # messages name the file
    copy["incidents"].write_text(INCIDENTS.replace("I5;", "I9;"), encoding="utf-8")
    assert filecache.key(copy) != k


def test_an_edited_file_is_loaded_again(paths, folder):
    filecache.load(paths, directory=folder, min_bytes=0)
    paths["incidents"].write_text(INCIDENTS + "I7;2024-03-23;theft;42.65;21.15;1\n", encoding="utf-8")
    ds = filecache.load(paths, directory=folder, min_bytes=0)
    assert "I7" in set(ds.incidents["incident_id"])
    assert len(entries(folder)) == 2


def test_a_damaged_entry_is_dropped_and_the_files_loaded(paths, folder):
    direct = load_files(paths)
    filecache.load(paths, directory=folder, min_bytes=0)
    (entry,) = entries(folder)
    (entry / "incidents.parquet").write_bytes(b"not parquet")
    same(direct, filecache.load(paths, directory=folder, min_bytes=0))
    (entry,) = entries(folder)  # written again
    same(direct, filecache.load(paths, directory=folder, min_bytes=0))


def test_small_inputs_are_not_cached(paths, folder):
    filecache.load(paths, directory=folder)  # far below MIN_BYTES
    assert entries(folder) == []


def test_the_cache_can_be_turned_off_or_moved(monkeypatch, tmp_path):
    monkeypatch.setenv(filecache.CACHE_ENV, "off")
    assert filecache.default_dir() is None
    monkeypatch.setenv(filecache.CACHE_ENV, str(tmp_path / "here"))
    assert filecache.default_dir() == tmp_path / "here"
    monkeypatch.delenv(filecache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert filecache.default_dir() == tmp_path / "xdg" / "community-policing-dashboard" / "filecache"


def test_file_source_loads_through_the_cache(paths, folder, monkeypatch):
    monkeypatch.setenv(filecache.CACHE_ENV, str(folder))
    monkeypatch.setattr(filecache, "MIN_BYTES", 0)
    source = FileSource(paths, label="own")
    first = source.load()
    assert len(entries(folder)) == 1
    same(first, source.load())


def test_an_unwritable_folder_still_loads(paths, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    ds = filecache.load(paths, directory=blocker / "cache", min_bytes=0)
    same(load_files(paths), ds)


def test_a_missing_file_is_reported_not_cached(paths, folder):
    paths = dict(paths, incidents=paths["incidents"].with_name("missing.csv"))
    ds = filecache.load(paths, directory=folder, min_bytes=0)
    assert any(p.code == "unreadable_file" for p in ds.report.problems)
    assert entries(folder) == []


def test_prune_keeps_the_most_recently_used(paths, folder, write):
    for i in range(4):
        filecache.load(dict(paths, incidents=write(f"incidents{i}.csv", INCIDENTS)), directory=folder, min_bytes=0)
    found = entries(folder)
    assert len(found) == 4
    for i, e in enumerate(found):  # last use: the order of the listing
        os.utime(e / "manifest.json", (2e9 + i, 2e9 + i))
    filecache.prune(folder, keep=2)
    assert entries(folder) == found[2:]
