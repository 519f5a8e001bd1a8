"""The embedded database's columnar images (:func:`geo.store.write_image`): a load reads each table in one
piece while its image is of the table's revision, and the rows themselves as soon as it is not, so an image
can make a load faster but never older."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from dbfiles import new_concern, write_folder

from geo import db, dbimport, store
from geo.loader import load_files


@pytest.fixture
def imported(tmp_path):
    eng = db.engine(url=f"sqlite:///{tmp_path / 'db' / 'dashboard.sqlite3'}")
    paths = write_folder(tmp_path / "files")
    paths.pop("options", None)
    outcome = dbimport.run(eng, {k: v for k, v in paths.items() if k in ("sections", "incidents", "concerns")})
    assert outcome.ok
    return eng, paths


def images(eng) -> dict[str, str]:
    with eng.connect() as conn:
        return dict(conn.execute(sa.select(db.IMAGES.c.table_name, db.IMAGES.c.revision)).all())


def test_an_import_leaves_an_image_of_each_table_it_changed_at_its_revision(imported):
    eng, _ = imported
    revisions = store.revisions(eng)
    made = images(eng)
    assert set(made) == {"sections", "incidents", "concerns"}  # the empty others are read as rows: nothing
    assert all(made[t] == revisions[t] for t in ("sections", "incidents", "concerns"))


def test_a_load_reads_the_image_and_gives_what_the_rows_give(imported, monkeypatch):
    eng, paths = imported
    from_rows = store._arrow_rows
    monkeypatch.setattr(store, "_arrow_rows", lambda *a: pytest.fail("the rows were read"))
    three = ("sections", "incidents", "concerns")
    _, parts = store.read(eng, three)
    monkeypatch.setattr(store, "_arrow_rows", from_rows)
    with eng.begin() as conn:  # images of another revision: the rows are read
        conn.execute(db.IMAGES.update().values(revision="older"))
    _, again = store.read(eng, three)
    files = load_files({k: paths[k] for k in three})
    for name in three:
        pd.testing.assert_frame_equal(parts[name].frame, again[name].frame)
    pd.testing.assert_frame_equal(parts["concerns"].frame, files.concerns.reset_index(drop=True))


def test_a_write_without_a_new_image_is_read_from_the_rows_never_from_the_older_image(imported):
    eng, _ = imported
    with db.write(eng) as conn:  # a write that makes no image (as any future write path might)
        store.insert(conn, "concerns", new_concern("C-late"), None, origin="app")
        store.bump(conn, "concerns")
    _, parts = store.read(eng, ["concerns"])
    assert "C-late" in set(parts["concerns"].frame["concern_id"])


def test_a_record_made_in_the_app_comes_with_its_image(imported, monkeypatch):
    eng, _ = imported
    revision = store.record(eng, "concerns", new_concern("C-app-2"))
    assert images(eng)["concerns"] == revision
    monkeypatch.setattr(store, "_arrow_rows", lambda *a: pytest.fail("the rows were read"))
    _, parts = store.read(eng, ["concerns"])
    assert "C-app-2" in set(parts["concerns"].frame["concern_id"])
