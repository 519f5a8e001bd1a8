"""Upload folders do not pile up: idle ones are swept, all of them together are capped, none is cached.

Every test sets the folders' modification times and the sweep's clock explicitly (``os.utime`` and
``now=``): nothing sleeps, nothing depends on how fast the machine is.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dashboard_fixtures import TinySource, ok, texts
from streamlit.testing.v1 import AppTest

from geo import filecache, i18n, uploads, uploads_root
from geo.uploads import SweepSettings

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
NOW = 1_800_000_000.0  # a fixed clock (January 2027), seconds since the epoch
HOUR = 3600.0
MB = 1024 * 1024


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A private uploads parent, set as the project's (so the dashboard and the cache use it too)."""
    folder = tmp_path / "uploads-root"
    monkeypatch.setattr(uploads_root, "UPLOADS_ROOT", folder)
    monkeypatch.setattr(uploads, "_last_sweep", {})
    monkeypatch.delenv(uploads.IDLE_ENV, raising=False)
    monkeypatch.delenv(uploads.MAX_ENV, raising=False)
    return folder


def session_folder(root: Path, name: str, used: float, size: int = 10) -> Path:
    """A session's upload folder with one file of ``size`` bytes, everything last modified at ``used``."""
    folder = root / name
    (folder / "incidents").mkdir(parents=True)
    path = folder / "incidents" / "incidents.csv"
    path.write_bytes(b"x" * size)
    for p in (path, folder / "incidents", folder):
        os.utime(p, (used, used))
    return folder


def names(paths) -> set[str]:
    return {Path(p).name for p in paths}


# ---------------------------------------------------------------- settings


def test_settings_default_to_two_hours_and_one_gigabyte():
    s = SweepSettings.from_env({})
    assert (s.idle_hours, s.max_mb, s.idle_s, s.max_bytes) == (2.0, 1024.0, 7200.0, 1024**3)


def test_settings_from_the_environment():
    s = SweepSettings.from_env({uploads.IDLE_ENV: "0.5", uploads.MAX_ENV: " 300 "})
    assert s.idle_s == 1800 and s.max_bytes == 300 * MB
    assert SweepSettings.from_env({uploads.IDLE_ENV: ""}).idle_hours == 2.0  # empty: the default


@pytest.mark.parametrize("value", ["two", "0", "-1", "nan", "inf"])
@pytest.mark.parametrize("var", [uploads.IDLE_ENV, uploads.MAX_ENV])
def test_a_wrong_setting_is_refused_naming_the_variable(var, value):
    with pytest.raises(ValueError, match=rf"{var} must be a positive number .*got '{value}'"):
        SweepSettings.from_env({var: value})


# ---------------------------------------------------------------- where the folders are


def test_session_folders_live_under_one_private_parent_in_the_temporary_directory(root):
    import tempfile

    assert Path(tempfile.gettempdir()) in uploads_root.UPLOADS_ROOT.parents or uploads_root.UPLOADS_ROOT == root
    a, b = uploads.new_session_dir(now=NOW), uploads.new_session_dir(now=NOW)
    assert a != b and a.parent == root and b.parent == root
    assert a.name.startswith("session-") and (root.stat().st_mode & 0o777) == 0o700
    assert uploads_root.is_upload(uploads.save_upload(a, "incidents", "i.csv", b"x"))
    assert not uploads_root.is_upload(ROOT / "data" / "demo" / "sections.geojson")


def test_the_default_parent_is_the_projects_folder_in_the_temporary_directory():
    import tempfile

    assert uploads_root.UPLOADS_ROOT == Path(tempfile.gettempdir()) / "community-policing-dashboard-uploads"


def test_a_parent_that_is_a_link_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(PermissionError, match="not a folder of this user"):
        uploads.new_session_dir(root=link)


def test_touch_marks_a_folder_used_and_says_when_it_is_gone(root):
    folder = session_folder(root, "session-a", NOW - 5 * HOUR)
    assert uploads.touch(folder, now=NOW) and folder.stat().st_mtime == NOW
    assert not uploads.touch(root / "session-gone", now=NOW)


# ---------------------------------------------------------------- the sweep


def test_folders_idle_longer_than_the_limit_are_removed_and_newer_ones_kept(root):
    session_folder(root, "session-old", NOW - 2 * HOUR - 1)
    session_folder(root, "session-limit", NOW - 2 * HOUR)  # exactly at the limit: kept
    session_folder(root, "session-live", NOW - 10 * 60)
    removed = uploads.sweep(root, now=NOW, settings=SweepSettings())
    assert names(removed) == {"session-old"}
    assert names(p for p in root.iterdir()) == {"session-limit", "session-live"}


def test_a_file_written_recently_keeps_its_folder_even_if_the_folder_itself_is_old(root):
    folder = session_folder(root, "session-a", NOW - 5 * HOUR)
    os.utime(folder / "incidents" / "incidents.csv", (NOW - 60, NOW - 60))
    assert uploads.sweep(root, now=NOW, settings=SweepSettings()) == []
    assert folder.exists()


def test_the_idle_limit_is_configurable(root, monkeypatch):
    session_folder(root, "session-a", NOW - 40 * 60)
    assert uploads.sweep(root, now=NOW) == []
    monkeypatch.setenv(uploads.IDLE_ENV, "0.5")
    assert names(uploads.sweep(root, now=NOW)) == {"session-a"}


def test_the_size_cap_removes_the_least_recently_used_first(root):
    for k, name in enumerate(["session-1", "session-2", "session-3", "session-4"]):
        session_folder(root, name, NOW - (50 - 10 * k) * 60, size=3 * MB)  # used 50, 40, 30, 20 minutes ago
    removed = uploads.sweep(root, now=NOW, settings=SweepSettings(max_mb=7))
    assert names(removed) == {"session-1", "session-2"}  # 12 MB → 6 MB, oldest first
    assert sum(size for _p, _u, size in uploads.upload_folders(root)) <= 7 * MB


def test_the_size_cap_spares_the_sweeping_session_and_a_folder_being_written(root):
    own = session_folder(root, "session-own", NOW - 50 * 60, size=4 * MB)
    session_folder(root, "session-writing", NOW - 10, size=4 * MB)
    session_folder(root, "session-other", NOW - 30 * 60, size=4 * MB)
    removed = uploads.sweep(root, now=NOW, settings=SweepSettings(max_mb=5), keep=[own])
    assert names(removed) == {"session-other"}
    assert own.exists() and (root / "session-writing").exists()


def test_the_sweeping_session_keeps_its_own_folder_whatever_its_age(root):
    own = session_folder(root, "session-own", NOW - 9 * HOUR)
    assert uploads.sweep(root, now=NOW, settings=SweepSettings(), keep=[own]) == []


def test_the_sweep_runs_at_most_once_a_minute(root):
    session_folder(root, "session-a", NOW - 3 * HOUR)
    assert names(uploads.maybe_sweep(root, now=NOW)) == {"session-a"}
    session_folder(root, "session-b", NOW - 3 * HOUR)
    assert uploads.maybe_sweep(root, now=NOW + 30) == []  # 30 s later: not swept again
    assert (root / "session-b").exists()
    assert names(uploads.maybe_sweep(root, now=NOW + 61)) == {"session-b"}


def test_making_a_session_folder_sweeps_the_idle_ones(root):
    session_folder(root, "session-old", NOW - 3 * HOUR)
    new = uploads.new_session_dir(now=NOW)
    assert names(root.iterdir()) == {new.name}


def test_files_outside_the_folders_and_links_are_left_alone(root, tmp_path):
    session_folder(root, "session-old", NOW - 3 * HOUR)
    (root / "note.txt").write_text("x")
    os.utime(root / "note.txt", (NOW - 9 * HOUR, NOW - 9 * HOUR))
    target = tmp_path / "not-ours"
    target.mkdir()
    (root / "session-link").symlink_to(target, target_is_directory=True)
    os.utime(root / "session-link", (NOW - 9 * HOUR, NOW - 9 * HOUR), follow_symlinks=False)
    assert names(uploads.sweep(root, now=NOW, settings=SweepSettings())) == {"session-old"}
    assert (root / "note.txt").exists() and target.exists()


# ---------------------------------------------------------------- uploads never reach the shared cache


def small_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    sections = folder / "sections.geojson"
    sections.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"section_id": "S1", '
        '"section_name": "Qendra", "municipality": "Prishtinë", "population": 1000}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[21.1, 42.6], [21.2, 42.6], [21.2, 42.7], [21.1, 42.7], '
        "[21.1, 42.6]]]}}]}",
        encoding="utf-8",
    )
    incidents = folder / "incidents.csv"
    incidents.write_text("occurred_at,category,lat,lon\n2024-03-01,theft,42.6512,21.1534\n", encoding="utf-8")
    return {"sections": sections, "incidents": incidents}


def test_uploaded_files_are_never_written_to_the_columnar_cache(root, tmp_path):
    cache = tmp_path / "cache"
    folder = uploads.new_session_dir(now=NOW)
    paths = small_inputs(folder / "files")
    data = filecache.load(paths, directory=cache, min_bytes=0)  # however large they are
    assert len(data.incidents) == 1 and data.incidents["lon"].iloc[0] == pytest.approx(21.1534)
    assert not cache.exists() or not any(cache.iterdir())


def test_control_the_same_files_elsewhere_are_cached_with_their_coordinates(root, tmp_path):
    import pandas as pd

    cache = tmp_path / "cache"
    paths = small_inputs(tmp_path / "own")
    filecache.load(paths, directory=cache, min_bytes=0)
    entries = [p for p in cache.iterdir() if (p / "manifest.json").is_file()]
    assert len(entries) == 1
    cached = pd.read_parquet(entries[0] / "incidents.parquet")
    assert cached["lon"].iloc[0] == pytest.approx(21.1534)


# ---------------------------------------------------------------- the session is told


def swept_session(root: Path, tmp_path: Path, lang: str) -> AppTest:
    """A session that uploaded files and uses them, whose folder was swept before its next run."""
    from geo.source import FileSource

    folder = uploads.new_session_dir(now=NOW)
    paths = small_inputs(folder / "files")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["upload_dir"] = str(folder)
    at.session_state["uploads"] = {n: {"file_id": n, "path": str(p), "name": p.name} for n, p in paths.items()}
    at.session_state["source"] = FileSource(paths, label="upload")
    import shutil

    shutil.rmtree(folder)
    return at


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_a_session_whose_upload_was_swept_is_told_and_gets_the_deployments_data(root, tmp_path, lang, monkeypatch):
    monkeypatch.setattr(uploads, "own_source", lambda *a, **k: None)  # the deployment's data: the demo
    _ = i18n.translator(lang)
    at = swept_session(root, tmp_path, lang)
    at.run()
    ok(at)
    notice = _(
        "Your uploaded files were removed from the server: uploads are kept for {hours} hours after their last "
        "use, or less when all uploads together exceed {size} MB. The dashboard shows the deployment's data "
        "again; upload the files once more on the Data page to use them.",
        hours=_.number(2),
        size=_.number(1024),
    )
    assert notice in [w.value for w in at.warning], [w.value for w in at.warning]
    for key in ("source", "upload_dir", "uploads"):
        assert key not in at.session_state, key
    at.switch_page("views/data.py").run()
    ok(at)
    earlier = _(
        "Your earlier uploads were removed from the server after {hours} hours without use (or because all "
        "uploads together were too large). Upload the files again.",
        hours=_.number(2),
    )
    assert earlier in [w.value for w in at.warning]
    assert _("Upload a sections file: the other inputs are joined to the sections.") not in texts(at)


def test_a_live_session_keeps_its_folder_fresh(root, tmp_path):
    import time

    folder = uploads.new_session_dir()
    idle = time.time() - 3 * HOUR  # the dashboard sweeps by the real clock: idle longer than the limit
    os.utime(folder, (idle, idle))
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = TinySource()
    at.session_state["upload_dir"] = str(folder)
    at.run()
    ok(at)
    assert folder.exists() and folder.stat().st_mtime > idle + 2 * HOUR  # marked used by the run, not swept
    assert at.session_state["upload_dir"] == str(folder)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_the_data_page_says_what_is_kept_where_and_for_how_long(lang, monkeypatch):
    monkeypatch.setenv(uploads.IDLE_ENV, "3")
    _ = i18n.translator(lang)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["source"] = TinySource()
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("views/data.py").run()
    ok(at)
    assert _("What is kept where, and for how long") in [e.label for e in at.expander]
    text = texts(at)
    assert (
        _(
            "**Your uploads**: in a folder of this session on the server (in its temporary directory), and nowhere "
            "else: not in the cache of large files, and no other user sees them. They are deleted {hours} hours after "
            "this session last used them, or sooner, oldest first, when all uploads together exceed {size} MB; the "
            "dashboard then says so.",
            hours=_.number(3),
            size=_.number(1024),
        )
        in text
    )
