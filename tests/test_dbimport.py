# ruff: noqa: F811 - pytest fixtures are imported and then named as arguments
"""Import semantics on both engines, with small files: all or nothing, modes, appends without ids, records
made in the app, new sections, and the incidents' identities."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from dashboard_fixtures import TEST_SECRET
from store_fixtures import (  # noqa: F401 - fixtures
    FAR,
    INSIDE,
    SQUARES,
    engine_url,
    incidents_csv,
    new_engine_url,
    small_files,
    write_files,
)

from geo import db, dbimport, store
from geo.loader import load_files
from geo.public import incident_identities, record_keys
from geo.schema import COUNT_KEYS


def state(eng) -> tuple[dict, dict, list]:
    """Everything an import may change: revisions, rows per table, the imports."""
    with eng.connect() as conn:
        imports = conn.execute(sa.select(db.IMPORTS.c.import_id)).scalars().all()
    return store.revisions(eng), store.rows(eng), imports


def reconciles(counts: dict[str, dict[str, int]]) -> None:
    for name, c in counts.items():
        keys = COUNT_KEYS[name]
        assert c[keys[0]] == sum(c[k] for k in keys[1:]), (name, c)


@pytest.fixture
def loaded(engine_url, small_files):  # noqa: F811
    eng = db.engine(url=engine_url)
    outcome = dbimport.run(eng, small_files)
    assert outcome.ok
    return eng


def test_a_whole_file_error_aborts_the_import_and_changes_nothing(loaded, small_files, tmp_path):  # noqa: F811
    before = state(loaded)
    broken = tmp_path / "incidents.csv"
    broken.write_text("incident_id,category\nX1,theft\n", encoding="utf-8")  # no date column: an error
    outcome = dbimport.run(
        loaded,
        {"sections": small_files["sections"], "incidents": broken},
        modes={"sections": "replace", "incidents": "replace"},
    )
    assert not outcome.ok and outcome.import_id is None
    assert [p.code for p in outcome.report.errors] == ["missing_column"]
    assert state(loaded) == before


def test_an_import_failing_half_way_changes_nothing(loaded, small_files, monkeypatch):
    before = state(loaded)
    real = store.insert

    def insert(conn, name, frame, *args, **kwargs):
        if name == "incidents":  # the sections and committees are written by now
            raise OSError("disk full")
        return real(conn, name, frame, *args, **kwargs)

    monkeypatch.setattr(store, "insert", insert)
    with pytest.raises(OSError, match="disk full"):
        dbimport.run(loaded, small_files, modes=dict.fromkeys(small_files, "replace"))
    assert state(loaded) == before


def test_rejected_rows_are_reported_and_skipped(loaded):
    stored = store.dataset(store.read(loaded)[1])
    assert [p.code for p in stored.report.problems] == ["bad_date"]
    assert stored.report.problems[0].row == 7
    assert stored.report.counts["incidents"] == {"loaded": 7, "joined": 5, "outside": 1, "rejected": 1}
    assert "I7" not in set(stored.incidents["incident_id"])
    reconciles(stored.report.counts)


def test_modes_are_refused_with_a_message_naming_the_input_and_nothing_changes(loaded, small_files):
    before = state(loaded)
    with pytest.raises(
        dbimport.ImportRefused, match=r"incidents already holds 6 imported records.*--replace incidents"
    ):
        dbimport.run(loaded, {"incidents": small_files["incidents"]})
    with pytest.raises(dbimport.ImportRefused, match=r"--merge incidents: the mode is replace or append"):
        dbimport.run(loaded, {"incidents": small_files["incidents"]}, modes={"incidents": "merge"})
    with pytest.raises(dbimport.ImportRefused, match=r"--append concerns was given, but no concerns file"):
        dbimport.run(loaded, {"incidents": small_files["incidents"]}, modes={"concerns": "append"})
    with pytest.raises(dbimport.ImportRefused, match=r"no files to import"):
        dbimport.run(loaded, {})
    assert state(loaded) == before


def test_appending_a_file_without_ids_twice_never_merges_and_counts_the_duplicates(engine_url, small_files):  # noqa: F811
    eng = db.engine(url=engine_url)
    assert dbimport.run(eng, {"sections": small_files["sections"]}).ok
    no_ids = small_files["incidents"].with_name("no_ids.csv")
    no_ids.write_text(incidents_csv(ids=False), encoding="utf-8")
    first = dbimport.run(eng, {"incidents": no_ids})
    assert first.ok and not [p for p in first.report.problems if p.code == "duplicate_content"]
    second = dbimport.run(eng, {"incidents": no_ids}, modes={"incidents": "append"})
    assert second.ok and second.added["incidents"] == 6
    dup = [p for p in second.report.problems if p.code == "duplicate_content"]
    assert len(dup) == 1 and dup[0].value == 6 and "6 records" in dup[0].message

    incidents = store.read(eng, ["incidents"])[1]["incidents"].frame
    assert len(incidents) == 12
    ids = incidents["incident_id"].astype(str)
    assert ids.str.startswith(f"i{first.import_id}:").sum() == 6
    assert ids.str.startswith(f"i{second.import_id}:").sum() == 6
    assert ids.is_unique and incidents["id_generated"].all()
    assert len(set(incidents["identity"])) == 12  # told apart by occurrence, never merged
    part = store.read(eng, ["incidents"])[1]["incidents"]
    assert part.counts == {"loaded": 14, "joined": 10, "outside": 2, "rejected": 2}


def test_an_appended_record_whose_id_is_stored_is_reported_and_skipped(loaded, small_files):
    extra = small_files["incidents"].with_name("more.csv")
    rows = [
        ("I1", "2024-04-01 10:00", "theft", *INSIDE["S1"][::-1], "", 1),  # I1 is stored
        ("I9", "2024-04-02 10:00", "theft", *INSIDE["S2"][::-1], "", 1),
    ]
    extra.write_text(incidents_csv(rows=rows), encoding="utf-8")
    outcome = dbimport.run(loaded, {"incidents": extra}, modes={"incidents": "append"})
    assert outcome.ok and outcome.added == {"incidents": 1}
    stored = [p for p in outcome.report.problems if p.code == "already_stored"]
    assert [(p.row, p.value) for p in stored] == [(1, "I1")]
    incidents = store.read(loaded, ["incidents"])[1]["incidents"].frame
    assert sorted(incidents["incident_id"]) == ["I1", "I2", "I3", "I4", "I5", "I6", "I9"]
    assert incidents.loc[incidents["incident_id"] == "I1", "occurred_at"].iloc[0] == pd.Timestamp("2024-03-02 10:00")


def _app_incident(eng, incident_id: str = "APP-1") -> None:
    frame = pd.DataFrame(
        {
            "incident_id": pd.array([incident_id], dtype="string"),
            "occurred_at": pd.to_datetime(["2024-03-20 12:00"]).astype("datetime64[us]"),
            "category": pd.Categorical(["theft"]),
            "category_raw": pd.array(["theft"], dtype="string"),
            "count": [1],
            "lon": [INSIDE["S3"][0]],
            "lat": [INSIDE["S3"][1]],
            "section_id": pd.array(["S3"], dtype="str"),
            "row": [0],
            "id_generated": [False],
        }
    )
    frame["identity"] = incident_identities(frame)
    with db.write(eng) as conn:
        store.insert(conn, "incidents", frame, None, origin="app")
        store.bump(conn, "incidents")


def test_records_made_in_the_app_survive_replace(loaded, small_files):
    _app_incident(loaded)
    outcome = dbimport.run(loaded, {"incidents": small_files["incidents"]}, modes={"incidents": "replace"})
    assert outcome.ok and outcome.removed == {"incidents": 6} and outcome.added == {"incidents": 6}
    with loaded.connect() as conn:
        t = db.INCIDENTS
        app = conn.execute(sa.select(t.c.incident_id, t.c.import_id).where(t.c.origin == "app")).all()
    assert app == [("APP-1", None)]
    assert store.rows(loaded)["incidents"] == 7


def test_new_sections_re_join_every_stored_record_and_the_counts_add_up(loaded, small_files, tmp_path):
    _app_incident(loaded)  # in S3: re-joined too
    # S3 moves far away: what was in it is now outside; S2 grows over the point that was outside
    moved = dict(SQUARES, S3=(19.0, 41.0), S2=(FAR[0] - 0.05, FAR[1] - 0.05))
    paths = write_files(tmp_path / "moved", squares=moved)
    outcome = dbimport.run(loaded, {"sections": paths["sections"]}, modes={"sections": "replace"})
    assert outcome.ok
    assert outcome.rejoined == 4  # I2 (S2 moved away), I3 and the app's (S3 moved away), I5 (now in S2)
    incidents = store.read(loaded, ["incidents"])[1]["incidents"].frame.set_index("incident_id")["section_id"]
    joined = {k: (None if pd.isna(v) else v) for k, v in incidents.items()}
    # I6 is located by its section alone, which is still there; the concerns did not move (S1, and S3 by id)
    assert joined == {"I1": "S1", "I2": None, "I3": None, "I4": "S4", "I5": "S2", "I6": "S2", "APP-1": None}
    part = store.read(loaded, ["incidents"])[1]["incidents"]
    assert part.counts == {"loaded": 8, "joined": 4, "outside": 3, "rejected": 1}
    reconciles(store.dataset(store.read(loaded)[1]).report.counts)


# ---------------------------------------------------------------- identities


def test_a_row_inserted_above_others_does_not_change_their_keys_and_generated_ids_never_count(tmp_path):
    paths = write_files(tmp_path / "a", incidents=incidents_csv(ids=False))
    first = load_files(paths).incidents
    rows = [("", "2024-01-01 09:00", "drugs", *INSIDE["S4"][::-1], "", 1)]
    shifted = incidents_csv(ids=False).splitlines()
    shifted.insert(1, ",".join(str(v) for v in rows[0][1:]))
    paths_b = write_files(tmp_path / "b", incidents="\n".join(shifted) + "\n")
    second = load_files(paths_b).incidents
    assert first["id_generated"].all() and second["id_generated"].all()
    # every record moved down one row, so its generated id (file:row) changed; its key did not
    ids_a, ids_b = (f.set_index("occurred_at")["incident_id"] for f in (first, second))
    assert (ids_b.loc[ids_a.index] != ids_a).all()
    a = pd.Series(record_keys(first, TEST_SECRET), index=first["occurred_at"])
    b = pd.Series(record_keys(second, TEST_SECRET), index=second["occurred_at"])
    assert (b.loc[a.index] == a).all()
    assert not any(b"incidents.csv" in i for i in incident_identities(second))


def test_the_stored_identity_is_the_files_and_is_used_for_the_keys(engine_url, tmp_path):  # noqa: F811
    paths = write_files(tmp_path / "a", incidents=incidents_csv(ids=False))
    eng = db.engine(url=engine_url)
    assert dbimport.run(eng, paths).ok
    stored = store.read(eng, ["incidents"])[1]["incidents"].frame
    files = load_files(paths).incidents
    assert stored["identity"].tolist() == incident_identities(files)
    assert not any(b"i1:" in i or b"incidents.csv" in i for i in stored["identity"])
    assert (record_keys(stored, TEST_SECRET) == record_keys(files, TEST_SECRET)).all()
