"""Recording a meeting (geo/meetings.py) on both engines: each operation, validation at the field, idempotency,
the conflict of two connections, the append-only history and its redaction path, retraction, drafts, and the
contract's round trip (recorded records → db export → files → db import → the same records)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from meeting_fixtures import HELD, INSIDE, TODAY, eng, engine_url, new_engine_url, record_meeting  # noqa: F401

from geo import db, dbexport, dbimport, store
from geo import meetings as mt

REPO = Path(__file__).resolve().parent.parent
ME = "secretary@example.invalid"


def _count(engine, table: sa.Table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def test_a_meeting_recorded_from_opening_to_closing(eng):  # noqa: F811
    before = store.revisions(eng)
    ids = record_meeting(eng)
    after = store.revisions(eng)
    # every table written moved its revision (other sessions' refresh() reloads them); incidents did not move
    assert {n for n in after if after[n] != before[n]} == {"concerns", "meetings", "actions", "attendance", "events"}

    meeting = mt.get(eng, "meeting", ids["meeting"])
    assert meeting["committee_id"] == "L1" and meeting["held_on"] == HELD and meeting["closed_at"] is not None
    assert meeting["attendance"] == 23 and meeting["concerns_raised"] == 2
    speed = mt.get(eng, "concern", ids["speed"])
    assert speed["section_id"] == "S2" and (speed["lon"], speed["lat"]) == INSIDE["S2"]  # the point, joined
    assert speed["source"] == "lcps_meeting" and speed["status"] == "open" and speed["raised_on"] == HELD
    assert speed["origin"] == "app" and speed["description_public"] is False
    k1 = mt.get(eng, "concern", "K1")
    assert (k1["status"], k1["resolved_on"], k1["action_taken"], k1["version"]) == (
        "resolved",
        HELD,
        "Patrols at night",
        2,
    )

    # the loaded data (what every page reads) has them, with the counts reconciling
    _revs, parts = store.read(eng, ["concerns", "meetings", "actions", "attendance"])
    concerns = parts["concerns"]
    assert set(concerns.frame["concern_id"]) == {"K1", "K2", ids["lights"], ids["speed"]}
    assert concerns.counts == {"loaded": 4, "joined": 4, "outside": 0, "rejected": 0}
    assert parts["actions"].frame["due_on"].tolist() == [pd.Timestamp("2027-01-15")]
    assert parts["attendance"].frame.loc[0, "serb"] == 3

    records = mt.meeting_records(eng, ids["meeting"])
    assert list(records.concerns["concern_id"]) == [ids["lights"], ids["speed"]]
    assert list(records.actions["action_id"]) == [ids["action"]]
    assert records.status_changes[["record_id", "status_before", "status"]].values.tolist() == [
        ["K1", "open", "resolved"]
    ]
    assert list(records.referenced["concern_id"]) == ["K1"]
    # closed: nothing more is recorded at it
    with pytest.raises(mt.Invalid) as err:
        mt.add_concern(eng, ids["meeting"], "theft", "", False, section_id="S1", actor=ME, key=mt.new_key())
    assert err.value.errors == {"meeting_id": "is closed"}


def test_the_agenda_is_the_committee_s_open_concerns_and_actions_due_oldest_first(eng):  # noqa: F811
    m = mt.open_meeting(eng, "L1", TODAY, actor=ME, key=mt.new_key(), today=TODAY).record_id
    later = mt.add_concern(eng, m, "drugs", "", False, section_id="S2", actor=ME, key=mt.new_key(), today=TODAY)
    early = mt.add_concern(
        eng, m, "theft", "", False, section_id="S1", raised_on=dt.date(2026, 1, 5), actor=ME, key=mt.new_key(),
        today=TODAY,
    )  # fmt: skip
    due = {}
    for what, day in (("late", dt.date(2027, 3, 1)), ("soon", dt.date(2026, 12, 1)), ("undated", None)):
        due[what] = mt.add_action(
            eng, later.record_id, what, "municipality", due_on=day, actor=ME, key=mt.new_key(), today=TODAY
        ).record_id
    done = mt.get(eng, "action", due["soon"])
    mt.mark_action_done(eng, due["soon"], TODAY, version=done["version"], actor=ME, key=mt.new_key(), today=TODAY)
    agenda = mt.agenda(eng, "L1")
    # K1 (imported, raised 2024 at M1 of L1) is oldest; K2 has no meeting; the other committee's nothing
    assert list(agenda.concerns["concern_id"]) == ["K1", early.record_id, later.record_id]
    assert list(agenda.actions["what"]) == ["late", "undated"]
    assert mt.agenda(eng, "M1").concerns.empty


@pytest.mark.parametrize(
    ("call", "errors"),
    [
        (
            lambda e, m: mt.add_concern(
                e,
                m,
                "speeding",
                "x",
                True,
                section_id="S9",
                raised_on=TODAY + dt.timedelta(days=1),
                actor=ME,
                key=mt.new_key(),
                today=TODAY,
            ),  # fmt: skip
            {"category", "section_id", "raised_on"},
        ),
        (
            lambda e, m: mt.add_concern(
                e, m, "theft", "x", True, point=(20.74, 42.21), actor=ME, key=mt.new_key(), today=TODAY
            ),
            {"point"},
        ),
        (
            lambda e, m: mt.add_concern(e, m, "theft", "x", True, actor=ME, key=mt.new_key(), today=TODAY),
            {"section_id"},
        ),
        (
            lambda e, m: mt.change_status(
                e,
                "K1",
                "resolved",
                version=1,
                action_taken="",
                resolved_on=TODAY + dt.timedelta(days=3),
                actor=ME,
                key=mt.new_key(),
                today=TODAY,
            ),  # fmt: skip
            {"action_taken", "resolved_on"},
        ),
        (
            lambda e, m: mt.change_status(
                e,
                "K1",
                "resolved",
                version=1,
                action_taken="done",
                resolved_on=dt.date(2024, 2, 1),
                actor=ME,
                key=mt.new_key(),
                today=TODAY,
            ),  # fmt: skip
            {"resolved_on"},
        ),
        (
            lambda e, m: mt.change_status(e, "K1", "closed", version=1, actor=ME, key=mt.new_key()),
            {"status"},
        ),
        (
            lambda e, m: mt.add_action(e, "K1", " ", "mayor", actor=ME, key=mt.new_key(), today=TODAY),
            {"what", "owner"},
        ),
        (
            lambda e, m: mt.add_action(e, "nope", "x", "police", actor=ME, key=mt.new_key(), today=TODAY),
            {"concern_id"},
        ),
        (
            lambda e, m: mt.record_attendance(
                e, m, 10, {"women": 11, "aliens": 1, "men": -1}, version=None, actor=ME, key=mt.new_key()
            ),
            {"women", "aliens", "men"},
        ),
        (
            lambda e, m: mt.open_meeting(
                e, "L9", TODAY + dt.timedelta(days=1), actor=ME, key=mt.new_key(), today=TODAY
            ),
            {"committee_id", "held_on"},
        ),
        (
            lambda e, m: mt.retract(e, "concern", "K1", "  ", version=1, actor=ME, key=mt.new_key()),
            {"reason"},
        ),
    ],
    ids=[
        "concern",
        "point",
        "no-place",
        "resolution",
        "before-raised",
        "status",
        "action",
        "concern-id",
        "groups",
        "meeting",
        "reason",
    ],  # fmt: skip
)
def test_a_field_error_names_each_field_and_writes_nothing(eng, call, errors):  # noqa: F811
    m = mt.open_meeting(eng, "L1", TODAY, actor=ME, key=mt.new_key(), today=TODAY).record_id
    revisions = store.revisions(eng)
    rows = store.rows(eng)
    events = _count(eng, db.EVENTS)
    with pytest.raises(mt.Invalid) as err:
        call(eng, m)
    assert set(err.value.errors) == errors and all(err.value.errors.values())
    assert store.revisions(eng) == revisions and store.rows(eng) == rows and _count(eng, db.EVENTS) == events
    assert _count(eng, db.IDEMPOTENCY) == 1  # the opening's only


def test_a_due_date_may_be_in_the_future(eng):  # noqa: F811
    saved = mt.add_action(
        eng, "K1", "Lights fixed", "municipality", due_on=TODAY + dt.timedelta(days=400), actor=ME, key=mt.new_key(),
        today=TODAY,
    )  # fmt: skip
    assert mt.get(eng, "action", saved.record_id)["due_on"] == TODAY + dt.timedelta(days=400)


def test_the_same_key_twice_records_once_even_at_the_same_moment(eng):  # noqa: F811
    m = mt.open_meeting(eng, "L1", TODAY, actor=ME, key="open-1", today=TODAY).record_id
    again = mt.open_meeting(eng, "L1", TODAY, actor=ME, key="open-1", today=TODAY)
    assert again.record_id == m and again.replayed and _count(eng, db.MEETINGS, db.MEETINGS.c.origin == "app") == 1

    key = mt.new_key()
    results, failures = [], []

    def save() -> None:  # a double click: two requests with the form's key at once
        try:
            results.append(
                mt.add_concern(eng, m, "theft", "twice?", True, section_id="S1", actor=ME, key=key, today=TODAY)
            )
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and len({r.record_id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    assert _count(eng, db.CONCERNS, db.CONCERNS.c.description == "twice?") == 1
    assert mt.get(eng, "meeting", m)["concerns_raised"] == 1
    with pytest.raises(mt.KeyReused):
        mt.add_action(eng, "K1", "x", "police", actor=ME, key=key, today=TODAY)


def _waiting_for_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).scalar_one()
        )


def test_two_connections_editing_one_concern_the_second_is_refused_with_the_first_s_change(eng):  # noqa: F811
    version = mt.get(eng, "concern", "K1")["version"]  # both people opened the concern at this version
    # the first person's save, in their own connection, in progress: its transaction holds the row (PostgreSQL)
    # or the write lock (SQLite) until it commits
    first = eng.execution_options(write=True).connect()
    tx = first.begin()
    mt._update(first, "concern", "K1", version, {"status": "in_progress"}, "first@example.invalid", "status")
    outcome: list = []

    def second() -> None:
        try:
            mt.change_status(
                eng, "K1", "resolved", version=version, action_taken="my text", actor="second@example.invalid",
                key=mt.new_key(), today=TODAY,
            )  # fmt: skip
            outcome.append("saved")
        except mt.Conflict as exc:
            outcome.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    if eng.dialect.name == "postgresql":  # the second waits on the first's row lock
        deadline = time.monotonic() + 30
        while not _waiting_for_a_lock(eng):
            assert time.monotonic() < deadline, "the second save never waited for the first"
            time.sleep(0.02)
    tx.commit()
    first.close()
    thread.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], mt.Conflict), outcome
    conflict = outcome[0]
    assert conflict.current["status"] == "in_progress" and conflict.current["version"] == version + 1
    assert conflict.expected == version
    stored = mt.get(eng, "concern", "K1")
    assert stored["status"] == "in_progress" and stored["action_taken"] is None  # never silently overwritten
    # with the other's version the second person's text can be applied again
    mt.change_status(
        eng, "K1", "resolved", version=conflict.current["version"], action_taken="my text", actor=ME,
        key=mt.new_key(), today=TODAY,
    )  # fmt: skip
    assert mt.get(eng, "concern", "K1")["action_taken"] == "my text"


def test_the_history_refuses_updates_and_deletes_but_lets_an_administrator_redact_a_text(eng):  # noqa: F811
    ids = record_meeting(eng)
    secret = "Arben's house"
    with eng.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(db.EVENTS.c.after.contains(secret))).scalar_one() == 1
    for sql in (
        "UPDATE events SET actor = 'someone else'",
        "UPDATE events SET after = NULL",
        "DELETE FROM events",
        "DELETE FROM events WHERE change = 'created'",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.write(eng) as conn:
                conn.exec_driver_sql(sql)
    if eng.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.write(eng) as conn:
                conn.exec_driver_sql("TRUNCATE events CASCADE")
    events = _count(eng, db.EVENTS)

    with pytest.raises(PermissionError):
        mt.redact(eng, "concern", ids["speed"], "description", administrator=False, actor=ME, key=mt.new_key())
    mt.redact(
        eng, "concern", ids["speed"], "description", administrator=True, actor="admin@example.invalid",
        key=mt.new_key(),
    )  # fmt: skip
    assert mt.get(eng, "concern", ids["speed"])["description"] is None
    with eng.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(db.EVENTS.c.after.contains(secret))).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(db.REDACTION_TICKETS)).scalar_one() == 0
    history = mt.history(eng, "concern", ids["speed"])
    assert [e.change for e in history] == ["created", "redacted"]
    assert history[0].after["description"] is None and history[0].after["category"] == "road_safety"
    assert history[-1].actor == "admin@example.invalid" and history[-1].after == {"redacted": "description"}
    assert _count(eng, db.EVENTS) == events + 1  # nothing removed, one event added
    # the ticket was the redaction's own: the events are append-only again
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with db.write(eng) as conn:
            conn.exec_driver_sql("UPDATE events SET before = '{}'")


def test_a_retracted_concern_leaves_every_page_but_stays_in_the_history(eng):  # noqa: F811
    ids = record_meeting(eng)
    version = mt.get(eng, "concern", ids["lights"])["version"]
    counts_before = store.read(eng, ["concerns"])[1]["concerns"].counts
    mt.retract(eng, "concern", ids["lights"], "recorded twice", version=version, actor=ME, key=mt.new_key())
    part = store.read(eng, ["concerns"])[1]["concerns"]
    assert ids["lights"] not in set(part.frame["concern_id"])
    assert part.counts["loaded"] == counts_before["loaded"] - 1 == len(part.frame)
    assert mt.get(eng, "concern", ids["lights"])["retracted"] == "recorded twice"  # still in its table
    assert [e.change for e in mt.history(eng, "concern", ids["lights"])] == ["created", "retracted"]
    assert mt.history(eng, "concern", ids["lights"])[-1].after == {"retracted": "recorded twice"}
    assert mt.get(eng, "meeting", ids["meeting"])["concerns_raised"] == 1
    with pytest.raises(mt.NotFound):
        mt.change_status(eng, ids["lights"], "in_progress", version=version + 1, actor=ME, key=mt.new_key())


def test_a_draft_survives_a_new_process_and_is_cleared_once_saved(eng, engine_url):  # noqa: F811
    mt.save_draft(eng, ME, "concern:m1", {"description": "Half a sent", "raised_on": TODAY})
    mt.save_draft(eng, ME, "concern:m1", {"description": "Half a sentence", "raised_on": TODAY})
    mt.save_draft(eng, "other@example.invalid", "concern:m1", {"description": "theirs"})
    code = (
        "import json; from geo import db, meetings; "
        f"print(json.dumps(meetings.load_draft(db.engine(url={engine_url!r}), {ME!r}, 'concern:m1')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == {"description": "Half a sentence", "raised_on": TODAY.isoformat()}
    mt.clear_draft(eng, ME, "concern:m1")
    assert mt.load_draft(eng, ME, "concern:m1") is None
    assert mt.drafts_of(eng, "other@example.invalid") == {"concern:m1": {"description": "theirs"}}


def _records(engine) -> dict[str, pd.DataFrame]:
    _revs, parts = store.read(engine, ["concerns", "meetings", "actions", "attendance"])
    out = {n: p.frame.drop(columns=["row"]) for n, p in parts.items()}
    out["events"] = mt.events(engine)
    for name, column in (("concerns", "concern_id"), ("meetings", "meeting_id"), ("actions", "action_id")):
        out[name] = out[name].sort_values(column, ignore_index=True)
    with engine.connect() as conn:
        closed = dict(conn.execute(sa.select(db.MEETINGS.c.meeting_id, db.MEETINGS.c.closed_at)).all())
    out["closed"] = pd.Series({k: v is not None for k, v in closed.items()}).sort_index()
    return out


def test_recorded_meetings_go_out_as_files_and_come_back_the_same(eng, new_engine_url, tmp_path):  # noqa: F811
    ids = record_meeting(eng)
    mt.retract(eng, "action", ids["action"], "wrong owner", version=1, actor=ME, key=mt.new_key())
    mt.add_action(eng, ids["speed"], 'Signs: "SLOW"; school zone, 30', "municipality", actor=ME, key=mt.new_key())
    exported = dbexport.export(eng, tmp_path / "export")
    assert {"actions", "attendance", "events"} <= set(exported.files)
    fresh = db.engine(url=new_engine_url())
    outcome = dbimport.run(fresh, exported.files)
    assert outcome.ok, [str(p) for p in outcome.report.problems]
    assert outcome.added["events"] == len(mt.events(eng))
    a, b = _records(eng), _records(fresh)
    for name in a:
        if isinstance(a[name], pd.DataFrame):
            pd.testing.assert_frame_equal(a[name], b[name], obj=name)
        else:
            pd.testing.assert_series_equal(a[name], b[name], obj=name)
    # the history came back whole: the same events, in order, and a record's history reads the same
    assert mt.history(fresh, "concern", "K1") == mt.history(eng, "concern", "K1")
    assert [e.change for e in mt.history(fresh, "action", ids["action"])] == ["created", "retracted"]
    # the history is append-only, also for an import
    with pytest.raises(dbimport.ImportRefused, match="append-only"):
        dbimport.run(fresh, {"events": exported.files["events"]}, modes={"events": "replace"})
    again = dbimport.run(fresh, {"events": exported.files["events"]}, modes={"events": "append"})
    assert again.ok and again.added["events"] == 0  # every event id already stored


def test_a_database_of_schema_0002_with_data_is_upgraded_and_its_records_can_be_edited(engine_url):  # noqa: F811
    from alembic import command

    engine = db.engine(url=engine_url)
    command.upgrade(db._alembic_config(engine), "0002")
    assert db.current(engine) == "0002"
    with db.write(engine) as conn:  # the schema as it was: no versions, no history; a concern in it
        conn.exec_driver_sql(
            "INSERT INTO concerns (concern_id, origin, status, category, raised_on) "
            "VALUES ('OLD1', 'import', 'open', 'theft', '2025-05-01 00:00:00')"
        )
    assert db.upgrade(engine) == ("0002", db.head())
    assert set(store.revisions(engine)) == set(db.REVISED_TABLES)
    old = mt.get(engine, "concern", "OLD1")
    assert old["version"] == 1 and old["retracted"] is None and old["raised_on"] == dt.date(2025, 5, 1)
    mt.change_status(engine, "OLD1", "in_progress", version=1, actor=ME, key=mt.new_key(), today=TODAY)
    assert mt.get(engine, "concern", "OLD1")["version"] == 2
    assert [e.change for e in mt.history(engine, "concern", "OLD1")] == ["status"]


def test_correcting_a_concern_changes_only_what_is_given_and_records_before_and_after(eng):  # noqa: F811
    ids = record_meeting(eng)
    assert list(mt.meetings_of(eng, "L1")["meeting_id"]) == [ids["meeting"], "M1"]  # newest first
    mt.edit_concern(
        eng, ids["speed"], version=1, category="school_safety", point=INSIDE["S1"], actor=ME, key=mt.new_key()
    )
    edited = mt.get(eng, "concern", ids["speed"])
    assert (edited["category"], edited["section_id"], edited["version"]) == ("school_safety", "S1", 2)
    assert edited["description"] == "Cars race past the school (Arben's house)"  # not given: unchanged
    last = mt.history(eng, "concern", ids["speed"])[-1]
    assert last.change == "updated" and last.before["category"] == "road_safety" and last.after["section_id"] == "S1"
    with pytest.raises(mt.Conflict):  # an editor still at version 1
        mt.edit_concern(eng, ids["speed"], version=1, description="mine", actor=ME, key=mt.new_key())
    with pytest.raises(mt.Invalid) as err:
        mt.edit_concern(eng, ids["speed"], version=2, category="nope", section_id="S7", actor=ME, key=mt.new_key())
    assert set(err.value.errors) == {"category", "section_id"}
