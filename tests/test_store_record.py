"""Records made in the app (:func:`geo.store.record`): added with ``origin = 'app'`` and no import, the
table's counts and revision moved in the same transaction (the other tables' revisions not), and kept by
every later import that replaces the table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from dbfiles import new_concern, write_concerns, write_folder

from geo import db, dbimport, store
from geo.settings import Settings


@pytest.fixture
def eng(tmp_path):
    settings = Settings.load({"DASHBOARD_DATA_DIR": str(tmp_path / "own")}, secrets_file=None)
    engine = db.engine(settings)
    assert dbimport.run(engine, write_folder(tmp_path / "files")).ok
    return engine


def test_a_recorded_concern_moves_only_its_table(eng):
    before = store.revisions(eng)
    revision = store.record(eng, "concerns", new_concern())
    after = store.revisions(eng)
    assert after["concerns"] == revision != before["concerns"]
    assert {n: r for n, r in after.items() if n != "concerns"} == {n: r for n, r in before.items() if n != "concerns"}
    with eng.connect() as conn:
        row = conn.execute(
            sa.select(db.CONCERNS.c.origin, db.CONCERNS.c.import_id, db.CONCERNS.c.row, db.CONCERNS.c.section_id).where(
                db.CONCERNS.c.concern_id == "C-app-1"
            )
        ).one()
        assert tuple(row) == ("app", None, 0, "S2")
        _problems, counts = store.get_part(conn, "concerns")
    assert counts == {"loaded": 6, "joined": 6, "outside": 0, "rejected": 0}
    unlocated = new_concern("C-app-2").assign(section_id=None, lon=float("nan"), lat=float("nan"))
    store.record(eng, "concerns", unlocated)
    with eng.connect() as conn:
        assert store.get_part(conn, "concerns")[1] == {"loaded": 7, "joined": 6, "outside": 1, "rejected": 0}


def test_a_recorded_concern_survives_an_import_that_replaces_the_concerns(eng, tmp_path):
    store.record(eng, "concerns", new_concern())
    outcome = dbimport.run(eng, {"concerns": write_concerns(tmp_path)}, modes={"concerns": "replace"})
    assert outcome.ok and outcome.removed == {"concerns": 5}
    _revs, parts = store.read(eng, ["concerns"])
    assert sorted(parts["concerns"].frame["concern_id"]) == ["C-app-1", "C1", "C2", "C3", "C4", "C5"]


def test_only_data_tables_take_records(eng):
    with pytest.raises(ValueError, match="not a data table"):
        store.record(eng, "imports", new_concern())
