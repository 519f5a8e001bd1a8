"""Which data a deployment shows (:mod:`geo.deployment`), against a real embedded database in a temporary
data folder: nothing there → the demo (and no database made); files there → imported once, then the
database; files that cannot be imported → shown as they are, with the reason; an earlier version's saved
generation → imported; and ``python -m geo db import-own``, the same by hand."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from dbfiles import write_folder, write_sections

from geo import db, dbimport, deployment, saved, store
from geo.settings import Settings
from geo.source import DatabaseSource, FileSource


def settings_of(data_dir: Path, **more: str) -> Settings:
    return Settings.load({"DASHBOARD_DATA_DIR": str(data_dir), **more}, secrets_file=None)


def decide(settings: Settings) -> deployment.Decision:
    return deployment.source(settings, saved.find(settings.data_dir))


def imports(settings: Settings) -> int:
    with db.engine(settings).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(db.IMPORTS)).scalar_one()


def test_nothing_in_the_data_folder_is_the_demo_and_makes_no_database(tmp_path):
    settings = settings_of(tmp_path / "own")
    decision = decide(settings)
    assert decision.kind == "demo" and decision.problem == "" and decision.source.is_demo
    assert not db.embedded_path(settings).exists() and not (tmp_path / "own").exists()


def test_hand_made_files_are_imported_once_then_the_database_is_used(tmp_path):
    settings = settings_of(tmp_path / "own")
    write_folder(settings.data_dir)
    first = decide(settings)
    assert (first.kind, first.problem, first.imported) == ("database", "", True)
    assert isinstance(first.source, DatabaseSource)
    eng = db.engine(settings)
    assert store.rows(eng) == {"sections": 7, "incidents": 15, "concerns": 5} | dict.fromkeys(
        ("committees", "meetings", "surveys"), 0
    )
    revisions = store.revisions(eng)
    second = decide(settings)
    assert (second.kind, second.imported) == ("database", False)
    assert imports(settings) == 1 and store.revisions(eng) == revisions  # not imported again
    assert second.source.load().report.counts["incidents"]["joined"] == 14


def test_files_that_cannot_be_imported_are_shown_as_they_are_and_say_why(tmp_path):
    settings = settings_of(tmp_path / "own")
    paths = write_folder(settings.data_dir)
    paths["sections"].write_text("this is not GeoJSON {", encoding="utf-8")
    decision = decide(settings)
    assert (decision.kind, decision.problem) == ("own files", "import failed")
    assert isinstance(decision.source, FileSource) and decision.source.paths["sections"] == paths["sections"]
    assert decision.detail.startswith("sections.geojson: ")  # named by its file, as the report does
    assert imports(settings) == 0 and not store.has_data(db.engine(settings))  # nothing written
    # mended, the next start imports it
    write_sections(settings.data_dir)
    assert decide(settings).imported


def test_an_earlier_versions_saved_generation_is_imported(tmp_path):
    settings = settings_of(tmp_path / "own")
    src = write_folder(tmp_path / "upload")
    gen = settings.data_dir / saved.SUBDIR / "gen-3"
    gen.mkdir(parents=True)
    files = {}
    for name, path in src.items():
        shutil.copyfile(path, gen / path.name)
        files[name] = path.name
    (gen / "options.json").write_text(json.dumps({"files": files, "options": {}}), encoding="utf-8")
    (settings.data_dir / saved.SUBDIR / "current").write_text("gen-3\n", encoding="utf-8")
    decision = decide(settings)
    assert (decision.kind, decision.imported) == ("database", True)
    last = store.last_import(db.engine(settings))
    assert {Path(f["path"]).parent for f in last["files"]} == {gen.resolve()}
    assert store.rows(db.engine(settings))["incidents"] == 15


def test_a_shared_database_without_data_shows_the_demo_and_says_so(tmp_path):
    shared = tmp_path / "shared.sqlite3"
    settings = settings_of(tmp_path / "own", DASHBOARD_DATABASE_URL=f"sqlite:///{shared}")
    db.upgrade(db.engine(settings))
    decision = decide(settings)
    assert (decision.kind, decision.problem) == ("demo", "empty")


def test_an_unreachable_or_older_database_is_named_so(tmp_path):
    settings = settings_of(tmp_path / "own", DASHBOARD_DATABASE_URL="postgresql+psycopg://u:secret@127.0.0.1:1/x")
    decision = decide(settings)
    assert (decision.kind, decision.problem) == ("demo", "unreachable") and "secret" not in decision.detail
    old = settings_of(tmp_path / "old")
    path = db.embedded_path(old)
    path.parent.mkdir(parents=True)
    with sa.create_engine(f"sqlite:///{path}").begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0000_older')")
    assert decide(old).problem == "old schema"


def test_import_own_by_hand(tmp_path):
    settings = settings_of(tmp_path / "own")
    out = io.StringIO()
    assert deployment.import_own_command(settings, out) == 1
    assert "nothing to import" in out.getvalue() and not db.embedded_path(settings).exists()
    write_folder(settings.data_dir)
    out = io.StringIO()
    assert deployment.import_own_command(settings, out) == 0
    assert "import 1" in out.getvalue() and "incidents 15" in out.getvalue()
    out = io.StringIO()
    assert deployment.import_own_command(settings, out) == 2  # the database holds data: never imported twice
    assert "holds data already" in out.getvalue() and imports(settings) == 1
    # and the first start then uses the database, without importing
    assert decide(settings).imported is False


def test_two_first_starts_at_once_import_once(tmp_path):
    settings = settings_of(tmp_path / "own")
    write_folder(settings.data_dir)
    own = saved.find(settings.data_dir)
    assert deployment.import_own(settings, own).ok
    with pytest.raises(dbimport.ImportRefused):
        deployment.import_own(settings, own)
    assert imports(settings) == 1


def test_the_command_line_imports_the_data_folder_once(tmp_path):
    import os
    import subprocess
    import sys

    settings = settings_of(tmp_path / "own")
    write_folder(settings.data_dir)
    env = {**os.environ, "DASHBOARD_DATA_DIR": str(settings.data_dir)}
    env.pop("DASHBOARD_DATABASE_URL", None)
    root = Path(__file__).resolve().parent.parent

    def run() -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "geo", "db", "import-own"]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)

    first = run()
    assert first.returncode == 0, first.stderr
    assert "sections 7, incidents 15, concerns 5" in first.stdout
    second = run()
    assert second.returncode == 2 and "holds data already" in second.stderr
    assert imports(settings) == 1


def test_the_app_tries_a_folder_that_failed_again_only_once_its_files_change(tmp_path, monkeypatch):
    from views import cache

    settings = settings_of(tmp_path / "own")
    paths = write_folder(settings.data_dir)
    paths["sections"].write_text("this is not GeoJSON {", encoding="utf-8")
    tries = []
    real = deployment.source
    monkeypatch.setattr(deployment, "source", lambda s, own: tries.append(1) or real(s, own))
    cache._decided.clear()
    own = lambda: saved.find(settings.data_dir)  # noqa: E731
    first = cache.deployment(settings, own)
    assert (first.kind, first.problem) == ("own files", "import failed")
    assert cache.deployment(settings, own) is first and len(tries) == 1  # not read and checked on every rerun
    write_sections(settings.data_dir)  # mended: tried again, imported, and the database from then on
    assert cache.deployment(settings, own).imported and len(tries) == 2
    assert cache.deployment(settings, own).kind == "database" and len(tries) == 2
    cache._decided.clear()


def test_the_demo_imported_into_a_database_is_still_labelled_the_demo(tmp_path, monkeypatch):
    import geo.source

    settings = settings_of(tmp_path / "own")
    paths = write_folder(tmp_path / "files")
    eng = db.engine(settings)
    assert dbimport.run(eng, {k: paths[k] for k in ("sections", "incidents")}).ok
    assert DatabaseSource(settings).load().is_demo is False  # files of the deployment's own
    monkeypatch.setattr(geo.source, "DEMO_DIR", paths["sections"].parent)  # as if they were the demo's
    assert DatabaseSource(settings).load().is_demo is True
