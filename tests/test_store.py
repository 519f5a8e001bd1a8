"""The store on both engines: the demo's round trip (files → import → read → export → files → import), and
the schema Alembic makes.

The demo round trip runs once per engine (it is the slow test of this file); the rest uses small files.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from dashboard_fixtures import public_policy
from store_fixtures import engine_url, new_engine_url  # noqa: F401

from geo import db, dbexport, dbimport, store
from geo.figures import Period
from geo.loader import load_files
from geo.public import record_keys
from geo.source import demo_source

REPO = Path(__file__).resolve().parent.parent
PERIODS = (Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31)), Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))


def assert_same_tables(files, stored, skip: tuple[str, ...] = ()) -> None:
    """Every table equal, dtypes included (the stored incidents' ``identity`` aside)."""
    for name in db.DATA_TABLES:
        a = getattr(files, name).reset_index(drop=True).drop(columns=["identity"], errors="ignore")
        b = getattr(stored, name).drop(columns=["identity"], errors="ignore")
        a = a.drop(columns=[c for c in skip if c in a])
        b = b.drop(columns=[c for c in skip if c in b])
        pd.testing.assert_frame_equal(a, b, obj=name)


def assert_same_public_values(files, stored) -> None:
    policy = public_policy()
    a, b = policy.apply(files), policy.apply(stored)
    for period in PERIODS:
        assert a.cube.total(period) == b.cube.total(period) > 0
        pd.testing.assert_series_equal(a.cube.incident_counts(period), b.cube.incident_counts(period))


def test_the_demo_goes_through_the_database_and_back_unchanged_on_each_engine(new_engine_url, tmp_path):  # noqa: F811
    paths = demo_source().paths
    files = load_files(paths)
    eng = db.engine(url=new_engine_url())
    outcome = dbimport.run(eng, paths)
    assert outcome.ok and outcome.added["incidents"] == len(files.incidents)

    stored = store.dataset(store.read(eng)[1])
    assert_same_tables(files, stored)
    assert stored.report.counts == files.report.counts
    assert stored.report.problems == files.report.problems
    # the identities stored are those of the files: the same perturbation keys, the same published values
    keys = record_keys(files.incidents, public_policy().secret)
    assert (record_keys(stored.incidents, public_policy().secret) == keys).all()
    assert_same_public_values(files, stored)

    # db export → the contract's files → validate gives the same counts; a new import the same records
    out = dbexport.export(eng, tmp_path / "export").files
    again = load_files(out)
    assert again.report.ok and again.report.counts == files.report.counts
    second = db.engine(url=new_engine_url())
    assert dbimport.run(second, out).ok
    back = store.dataset(store.read(second)[1])
    assert_same_tables(stored, back)
    assert back.incidents["identity"].tolist() == stored.incidents["identity"].tolist()
    assert_same_public_values(files, back)


# ---------------------------------------------------------------- the schema


def test_the_migrated_schema_is_the_code_s_metadata_and_upgrading_twice_changes_nothing(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    eng = db.engine(url=f"sqlite:///{tmp_path / 'schema.sqlite3'}")
    assert db.current(eng) is None and not db.ready(eng)
    assert db.upgrade(eng) == (None, db.head())
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.METADATA)
    assert diff == []
    revisions = store.revisions(eng)
    assert set(revisions) == set(db.REVISED_TABLES)
    assert db.upgrade(eng) == (db.head(), db.head())
    assert store.revisions(eng) == revisions and db.ready(eng)


def test_the_checks_of_the_schema_see_a_difference(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    eng = db.engine(url=f"sqlite:///{tmp_path / 'schema.sqlite3'}")
    db.upgrade(eng)
    other = sa.MetaData()
    for table in db.METADATA.tables.values():
        table.to_metadata(other)
    other.tables["incidents"].append_column(sa.Column("extra", sa.Text))
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), other)
    assert any(d[0] == "add_column" and d[3].name == "extra" for d in diff)


def test_the_postgresql_schema_has_postgis_geometries(pg_url):  # noqa: F811
    eng = db.engine(url=pg_url)
    db.upgrade(eng)
    with eng.connect() as conn:
        kinds = dict(
            conn.exec_driver_sql(
                "SELECT f_table_name, srid FROM geometry_columns WHERE f_table_name IN ('sections', 'incidents')"
            ).all()
        )
    assert kinds == {"sections": 4326, "incidents": 4326}
    assert db.upgrade(eng) == (db.head(), db.head())


def test_two_processes_upgrading_at_once_both_succeed(engine_url):  # noqa: F811
    code = f"from geo import db; print(db.upgrade(db.engine(url={engine_url!r})))"
    run = [sys.executable, "-c", code]
    procs = [
        subprocess.Popen(run, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-2000:] for r in results]
    assert db.ready(db.engine(url=engine_url))
    assert sorted(store.revisions(db.engine(url=engine_url))) == sorted(db.REVISED_TABLES)
