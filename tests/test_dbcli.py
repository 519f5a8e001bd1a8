# ruff: noqa: F811 - pytest fixtures are imported and then named as arguments
"""``python -m geo db …``: exit codes and messages of every command, export and re-import, backup and
restore (SQLite's backup API; pg_dump/pg_restore on PostgreSQL), and imports killed mid-write.

Most tests call :func:`geo.dbcli.main` in-process on the embedded engine; the crash tests and one test of the
messages run the real ``python -m geo`` in a subprocess.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from store_fixtures import (  # noqa: F401 - fixtures
    engine_url,
    incidents_csv,
    new_engine_url,
    small_files,
    write_files,
)
from test_dbimport import _app_incident, state

from geo import db, dbcli, dbexport, dbimport, store
from geo.loader import load_files

REPO = Path(__file__).resolve().parent.parent
UNREACHABLE = "postgresql+psycopg://someone:s3cret-pw@127.0.0.1:1/nothing"


def run(capsys, *argv) -> tuple[int, str, str]:
    try:
        code = dbcli.main(["db", *map(str, argv)])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def embedded(tmp_path, monkeypatch) -> Path:
    """The deployment's database is an SQLite file in ``tmp_path`` (not created yet)."""
    path = tmp_path / "deployment" / "dashboard.sqlite3"
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("DASHBOARD_PUBLIC", raising=False)
    return path


def _engine(path: Path):
    return db.engine(url=f"sqlite:///{path}")


def _inputs(paths: dict[str, Path]) -> list[str]:
    return [arg for name, p in paths.items() for arg in (f"--{name}", str(p))]


# ---------------------------------------------------------------- upgrade and status


def test_upgrade_creates_the_schema_once_and_status_tells_what_is_there(capsys, embedded, small_files):
    code, out, err = run(capsys, "status")
    assert code == 1 and "there is no database" in err and "db upgrade" in err
    assert not embedded.exists()  # status never creates one
    code, out, _ = run(capsys, "upgrade")
    assert code == 0 and f"schema version none -> {db.head()}" in out and str(embedded) in out
    code, out, _ = run(capsys, "upgrade")
    assert code == 0 and "up to date" in out
    code, out, _ = run(capsys, "status")
    assert code == 0 and "last import: none" in out and "incidents            0" in out
    assert run(capsys, "import", *_inputs(small_files))[0] == 0
    code, out, _ = run(capsys, "status")
    assert code == 0
    assert "incidents            6" in out and "sections             4" in out
    digest = dbimport.file_digest(small_files["incidents"])[:12]
    assert f"incidents   replace  incidents.csv  sha256 {digest}" in out
    assert f"by {dbimport.os_user()}@" in out


def test_status_says_when_the_schema_is_behind(capsys, embedded):
    assert run(capsys, "upgrade")[0] == 0
    with _engine(embedded).begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    code, out, _ = run(capsys, "status")
    assert code == 1 and "needs db upgrade" in out
    code, _, err = run(capsys, "export", "--out", embedded.parent / "out")
    assert code == 1 and "schema version 0000" in err and "db upgrade" in err
    code, _, err = run(capsys, "upgrade")
    assert code == 2 and "does not know" in err


def test_a_url_that_is_not_a_database_and_an_unreachable_one_are_messages(capsys, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", "mysql://u@h/d")
    code, _, err = run(capsys, "status")
    assert code == 2 and "'mysql' is not supported" in err
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", UNREACHABLE)
    for command in ("status", "upgrade", "export --out /nonexistent/x", "import --demo"):
        code, out, err = run(capsys, *command.split())
        assert code == 2, command
        assert "cannot reach the database postgresql+psycopg://someone:***@127.0.0.1:1/nothing" in err
        assert "s3cret-pw" not in out + err


def test_the_real_command_prints_a_message_not_a_traceback(tmp_path):
    env = dict(os.environ, DASHBOARD_DATABASE_URL=UNREACHABLE)
    res = subprocess.run(
        [sys.executable, "-m", "geo", "db", "status"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 2 and "Traceback" not in res.stderr and "cannot reach the database" in res.stderr


# ---------------------------------------------------------------- import


def test_import_exit_codes_and_messages(capsys, embedded, small_files, tmp_path):
    code, _, err = run(capsys, "import")
    assert code == 2 and "give the files to import" in err
    code, _, err = run(capsys, "import", "--sections", tmp_path / "missing.geojson")
    assert code == 2 and "missing.geojson: no such file" in err
    code, _, err = run(capsys, "import", *_inputs(small_files), "--replace", "sectons")
    assert code == 2 and "--replace sectons: not an input" in err
    code, _, err = run(capsys, "import", *_inputs(small_files), "--replace", "incidents", "--append", "incidents")
    assert code == 2 and "give one of them" in err

    code, out, _ = run(capsys, "import", *_inputs(small_files))
    assert code == 0
    assert "bad_date" in out and "incidents   loaded 7, joined 5, outside 1, rejected 1" in out
    assert "import 1 written" in out and "incidents   replace: added 6" in out
    before = state(_engine(embedded))

    code, _, err = run(capsys, "import", "--sections", small_files["sections"])
    assert code == 2 and "--replace sections" in err and "--append sections" in err
    code, _, err = run(capsys, "import", "--incidents", small_files["incidents"], "--append", "concerns")
    assert code == 2 and "--append concerns was given, but no concerns file" in err
    # new incidents alone are joined to the stored sections
    code, out, _ = run(capsys, "import", "--incidents", small_files["incidents"], "--append", "incidents")
    assert code == 0 and "already_stored" in out and "incidents   append: added 0" in out
    before = state(_engine(embedded))
    broken = tmp_path / "broken.csv"
    broken.write_text("incident_id,category\nX,theft\n", encoding="utf-8")
    code, out, _ = run(
        capsys,
        "import",
        "--sections",
        small_files["sections"],
        "--incidents",
        broken,
        "--replace",
        "sections",
        "--replace",
        "incidents",
    )
    assert code == 1 and "missing_column" in out and "nothing was imported" in out and "NOT OK" in out
    assert state(_engine(embedded)) == before

    code, out, _ = run(capsys, "import", "--sections", small_files["sections"], "--replace", "sections")
    assert code == 0 and "sections    replace: added 4, removed 4" in out and "re-joined" in out


def test_import_takes_the_input_options_of_validate(capsys, embedded, small_files, tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text(incidents_csv().replace("occurred_at", "kur").replace(",theft,", ",Grabitje,"), encoding="utf-8")
    args = ["import", "--sections", small_files["sections"], "--incidents", odd]
    code, out, _ = run(capsys, *args)
    assert code == 1 and "missing_column" in out
    code, out, _ = run(
        capsys, *args, "--map", "incidents.occurred_at=kur", "--value", "incidents.category=Grabitje:theft"
    )
    assert code == 0, out
    incidents = store.read(_engine(embedded), ["incidents"])[1]["incidents"].frame
    assert (incidents["category"] == "theft").sum() == 3


# ---------------------------------------------------------------- export


def test_export_then_import_gives_the_same_records_and_identities(new_engine_url, tmp_path):
    """Generated ids written empty, app records included, lists and yes/no fields as the contract's."""
    eng = db.engine(url=new_engine_url())
    paths = write_files(tmp_path / "files", incidents=incidents_csv(ids=False))
    assert dbimport.run(eng, paths).ok
    _app_incident(eng)
    stored = store.read(eng)[1]
    folder = dbexport.export(eng, tmp_path / "export")
    # no meeting recorded anything: no actions, attendance or events files
    data_files = [dbexport.FILES[name] for name in db.DATA_TABLES]
    assert sorted(p.name for p in folder.folder.iterdir()) == sorted([*data_files, "options.json"])
    written = pd.read_parquet(folder.files["incidents"])["incident_id"]
    assert written.isna().sum() == 6 and written.iloc[-1] == "APP-1"  # the generated ids are left empty
    assert "yes" in folder.files["committees"].read_text(encoding="utf-8")

    again = load_files(folder.files)
    assert again.report.ok and not again.report.problems
    second = db.engine(url=new_engine_url())
    assert dbimport.run(second, folder.files).ok
    back = store.read(second)[1]
    for name in db.DATA_TABLES:
        a = stored[name].frame.drop(columns=["row"] + (["incident_id"] if name == "incidents" else []))
        b = back[name].frame.drop(columns=["row"] + (["incident_id"] if name == "incidents" else []))
        pd.testing.assert_frame_equal(a, b, obj=name)
    officers = back["sections"].frame["officers"].iloc[0]
    assert officers == ["Arben K. (+383 49 000 001, arben@example.invalid)"]
    ids = back["incidents"].frame["incident_id"]
    assert ids.iloc[-1] == "APP-1" and ids.iloc[0].startswith("i1:incidents.parquet:")


def test_export_refuses_a_folder_that_is_not_empty_and_a_database_without_sections(
    capsys, embedded, small_files, tmp_path
):
    assert run(capsys, "upgrade")[0] == 0
    code, _, err = run(capsys, "export", "--out", tmp_path / "out")
    assert code == 1 and "holds no sections" in err and not (tmp_path / "out").exists()
    assert run(capsys, "import", *_inputs(small_files))[0] == 0
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = run(capsys, "export", "--out", tmp_path / "full")
    assert code == 2 and "not an empty folder" in err
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    code, out, _ = run(capsys, "export", "--out", tmp_path / "out")
    assert code == 0 and "incidents            6  incidents.parquet" in out
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # the folder is a data folder too: validate --own reads it, with the same counts
    with pytest.MonkeyPatch.context() as mp:  # restores the session's data folder afterwards
        mp.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "out"))
        from geo.cli import main

        assert main(["validate", "--own"]) == 0
    assert "incidents   loaded 6, joined 5, outside 1, rejected 0" in capsys.readouterr().out


# ---------------------------------------------------------------- backup and restore


def test_backup_and_restore_round_trip_and_running_dashboards_see_new_revisions(
    capsys, embedded, small_files, tmp_path
):
    assert run(capsys, "import", *_inputs(small_files))[0] == 0
    eng = _engine(embedded)
    saved = store.read(eng)[1]
    code, out, _ = run(capsys, "backup", tmp_path / "backup.sqlite3")
    assert code == 0 and "backed up" in out
    # the data changes after the backup
    fewer = tmp_path / "fewer.csv"
    fewer.write_text(incidents_csv().splitlines()[0] + "\n" + incidents_csv().splitlines()[1] + "\n", encoding="utf-8")
    assert dbimport.run(eng, {"incidents": fewer}, modes={"incidents": "replace"}).ok
    assert store.rows(eng)["incidents"] == 1
    revisions = store.revisions(eng)

    code, out, _ = run(capsys, "restore", tmp_path / "backup.sqlite3")
    assert code == 0 and "restored" in out
    back = store.read(eng)[1]
    for name in db.DATA_TABLES:
        pd.testing.assert_frame_equal(back[name].frame, saved[name].frame, obj=name)
    now = store.revisions(eng)
    assert all(now[t] != revisions[t] for t in db.DATA_TABLES)
    with sqlite3.connect(embedded) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_restore_refuses_what_is_not_a_dashboard_database(capsys, embedded, small_files, tmp_path):
    assert run(capsys, "import", *_inputs(small_files))[0] == 0
    before = state(_engine(embedded))
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE things (x)")
    for file, message in (
        (tmp_path / "missing.sqlite3", "no such file"),
        (text, "not an SQLite database"),
        (other, "not a dashboard database"),
        (embedded, "the live database itself"),
    ):
        code, _, err = run(capsys, "restore", file)
        assert code == 2 and message in err, (file, err)
    assert state(_engine(embedded)) == before


def test_backup_and_restore_on_postgresql_print_the_pg_commands(capsys, monkeypatch, pg_url):
    url = sa.engine.make_url(pg_url).set(password="s3cret-pw")
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url.render_as_string(hide_password=False))
    code, _, err = run(capsys, "backup", "dump.pgc")
    assert code == 2 and "pg_dump --format=custom --file=dump.pgc 'postgresql://postgres:***@" in err
    code, _, err = run(capsys, "restore", "dump.pgc")
    assert code == 2 and "pg_restore --clean --if-exists" in err and "db restore --touch" in err
    assert "s3cret-pw" not in err


def test_pg_dump_and_pg_restore_give_back_the_same_data(pg_cluster, small_files, tmp_path, capsys, monkeypatch):
    """The commands ``db backup``/``db restore`` print on PostgreSQL, run for real."""
    names = [pg_cluster.create_database(), pg_cluster.create_database()]
    try:
        source, target = (pg_cluster.url(n) for n in names)
        eng = db.engine(url=source)
        assert dbimport.run(eng, small_files).ok
        _app_incident(eng)
        dump = tmp_path / "dump.pgc"
        pg_cluster.run("pg_dump", "--format=custom", f"--file={dump}", names[0])
        restore = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
        pg_cluster.run("pg_restore", *restore, f"--dbname={names[1]}", dump)
        a, b = store.read(eng), store.read(db.engine(url=target))
        assert a[0] == b[0]  # the revisions too
        for name in db.DATA_TABLES:
            pd.testing.assert_frame_equal(a[1][name].frame, b[1][name].frame, obj=name)
            assert a[1][name].counts == b[1][name].counts
        monkeypatch.setenv("DASHBOARD_DATABASE_URL", target)
        code, out, _ = run(capsys, "restore", "--touch")
        assert code == 0 and all(store.revisions(db.engine(url=target))[t] != a[0][t] for t in db.DATA_TABLES)
        assert db.ready(db.engine(url=target))
    finally:
        db._engine.cache_clear()
        for name in names:
            pg_cluster.drop_database(name)


# ---------------------------------------------------------------- killed mid-write


def _wait(condition, what: str, proc: subprocess.Popen, deadline_s: float = 180) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the import ended ({proc.returncode}) before {what}: {proc.stderr.read()[-2000:]}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.05)


def _sqlite_writing(path: Path) -> bool:
    """The import's transaction holds the write lock and has written a good part of the WAL."""
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size < 20_000_000:
        return False
    con = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    finally:
        con.close()


def _pg_writing(url: str) -> bool:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            n = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'active' AND query LIKE 'COPY incidents%%'"
            ).scalar_one()
            return bool(n)
    finally:
        eng.dispose()


def test_an_import_killed_mid_write_leaves_the_previous_data_intact(engine_url, small_files):
    eng = db.engine(url=engine_url)
    assert dbimport.run(eng, small_files).ok
    before = store.read(eng)
    rows = store.rows(eng)
    env = dict(os.environ, DASHBOARD_DATABASE_URL=engine_url)
    replace = [arg for name in small_files for arg in ("--replace", name)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "geo", "db", "import", "--demo", *replace],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if engine_url.startswith("sqlite"):
            path = Path(sa.engine.make_url(engine_url).database)
            _wait(lambda: _sqlite_writing(path), "the import writes", proc)
        else:
            _wait(lambda: _pg_writing(engine_url), "the import copies incidents", proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    db._engine.cache_clear()
    eng = db.engine(url=engine_url)
    after = store.read(eng)
    assert after[0] == before[0] and store.rows(eng) == rows
    for name in db.DATA_TABLES:
        pd.testing.assert_frame_equal(after[1][name].frame, before[1][name].frame, obj=name)
    if engine_url.startswith("sqlite"):
        with sqlite3.connect(sa.engine.make_url(engine_url).database) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # and the database takes the next import
    assert dbimport.run(eng, {"incidents": small_files["incidents"]}, modes={"incidents": "replace"}).ok


def test_an_import_is_recorded_in_the_audit_log_before_it_is_made(capsys, embedded, small_files):
    from geo import users

    code, _, _ = run(capsys, "import", *_inputs(small_files))
    assert code == 0
    found = users.entries(_engine(embedded), action="import")
    assert len(found) == 1 and found["actor"].iloc[0] == users.os_actor()
    assert "incidents.csv" in found["detail"].iloc[0] and "command line" in found["detail"].iloc[0]
    with sqlite3.connect(embedded) as conn:  # an audit log that cannot be written: nothing is imported
        conn.execute("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'full'); END")
    before = state(_engine(embedded))
    code, _, err = run(capsys, "import", *_inputs(small_files), "--append", "concerns")
    assert code == 1 and "the audit log could not be written" in err
    assert state(_engine(embedded)) == before
