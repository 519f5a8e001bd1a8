"""What a committee meeting records, written as it happens: durable, conflict-safe, with its history.

Every save (:func:`open_meeting`, :func:`record_attendance`, :func:`add_concern`, :func:`edit_concern`,
:func:`change_status`, :func:`add_action`, :func:`mark_action_done`, :func:`retract`, :func:`redact`,
:func:`close_meeting`) is **one transaction** (:func:`geo.db.write`): the record, its event in the history
(``events``: who, when, the changed fields before and after, as JSON), the tables' counts and new revisions
(:mod:`geo.store`, so every session's ``refresh()`` sees it), and the save's **idempotency key** with its
result. It either fully happens or not at all; it has happened when the function returns.

* ``key``: the form's idempotency key (:func:`new_key`, kept where a browser refresh keeps it). A save whose
  key was already used returns the first save's :class:`Saved` (``replayed=True``) and writes nothing.
* ``version``: the version of the record the user edited (:attr:`Saved.version`, ``"version"`` of
  :func:`get`). When someone else saved it meanwhile, :class:`Conflict` carries their current record and
  nothing is written.
* Bad values raise :class:`Invalid`, whose ``errors`` map each field to an English message (the page shows it
  next to the field); nothing is written.

Dates are days in Kosovo (:data:`geo.schema.TIME_ZONE`): a concern's ``raised_on`` and ``resolved_on`` and
a meeting's ``held_on`` are not in the future, a resolution is not before the concern was raised; a due date
may be in the future. Moments (``events.at``) are local time in Kosovo too, as every date of the data.

Nothing is deleted: a mistaken record is retracted with a reason (it stays in its table, read by no page, and
in the history). An administrator can redact a text typed by mistake (personal data): the text is blanked in
the record and in its earlier events, and a ``redacted`` event says which field, who and when — not the text.
Authorisation (who may save for which committee, who is an administrator) is the caller's: this module takes
the actor's name as given.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo import db, store
from geo.dataset import SECTION_ID_DTYPE
from geo.joins import join_points
from geo.loader import local_today
from geo.schema import (
    ACTION_OWNERS,
    ATTENDANCE_GROUPS,
    CONCERN_CATEGORIES,
    CONCERN_STATUSES,
    MEETING_SOURCES,
    TIME_ZONE,
)

#: The kinds of record, their tables and id columns.
KINDS = {"meeting": "meetings", "concern": "concerns", "action": "actions", "attendance": "attendance"}
ID_COLUMNS = {"meeting": "meeting_id", "concern": "concern_id", "action": "action_id", "attendance": "meeting_id"}
#: What each kind's history records (the record's fields; ``row`` and the database's own columns aside).
FIELDS = {
    kind: [c for c in store.KINDS[table] if c != "row"] + (["closed_at"] if kind == "meeting" else [])
    for kind, table in KINDS.items()
}
#: Texts an administrator may redact, by kind.
REDACTABLE = {"concern": ("description", "action_taken"), "action": ("what",)}
#: Kinds that may be retracted.
RETRACTABLE = ("meeting", "concern", "action")
CATEGORIES = tuple(t.code for t in CONCERN_CATEGORIES)
STATUSES = tuple(t.code for t in CONCERN_STATUSES)
OWNERS = tuple(t.code for t in ACTION_OWNERS)
#: The longest text a field takes (characters).
MAX_TEXT = 4000
_DAYS = ("raised_on", "resolved_on", "held_on", "due_on", "done_on")


class Invalid(ValueError):
    """Values that cannot be saved: ``errors`` maps each field to what is wrong (English). Nothing was written."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Conflict(Exception):
    """Someone else saved the record since the user's version: ``current`` is their record (as :func:`get`
    gives it). Nothing was written."""

    def __init__(self, kind: str, record_id: str, expected: int | None, current: dict | None) -> None:
        self.kind, self.record_id, self.expected, self.current = kind, record_id, expected, current
        now = current["version"] if current else None
        super().__init__(f"{kind} {record_id}: version {expected} was edited, it is now at version {now}")


class NotFound(LookupError):
    """No such record (or a retracted one, where a record in force is needed)."""


class KeyReused(ValueError):
    """An idempotency key already used by a different operation."""


@dataclass(frozen=True)
class Saved:
    """What a save did: the record, its new version; ``replayed`` when the key had been used (nothing written)."""

    kind: str
    record_id: str
    version: int
    replayed: bool = False


@dataclass(frozen=True)
class Event:
    """One change of the history."""

    event_id: str
    at: dt.datetime  # local time in Kosovo
    actor: str
    record_kind: str
    record_id: str
    change: str
    before: dict | None
    after: dict | None


def new_key() -> str:
    """A fresh idempotency key for a form."""
    return uuid.uuid4().hex


def now_local() -> dt.datetime:
    """Now in Kosovo, naive (as every moment of the data)."""
    return dt.datetime.now(ZoneInfo(TIME_ZONE)).replace(tzinfo=None)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# ---------------------------------------------------------------- values


def _plain(value):
    """A value as the history's JSON takes it."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        value = pd.Timestamp(value)
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _day(value) -> dt.date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _stamp(day: dt.date | None) -> pd.Timestamp | None:
    return pd.Timestamp(day) if day is not None else None


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _row(conn: Connection, kind: str, record_id: str, lock: bool = False) -> dict | None:
    table = _table(kind)
    query = sa.select(table).where(table.c[ID_COLUMNS[kind]] == record_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    out = {c: row[c] for c in FIELDS[kind]}
    for c in _DAYS:
        if c in out:
            out[c] = _day(out[c])
    out["version"] = int(row["version"])
    out["retracted"] = row.get("retracted")
    out["origin"] = row["origin"]
    return out


def _fields(row: dict) -> dict:
    """A record's own fields (its version, retraction and origin aside)."""
    return {k: v for k, v in row.items() if k not in ("version", "retracted", "origin")}


def _table(kind: str) -> sa.Table:
    name = KINDS[kind]
    return db.TABLES.get(name) if name in db.TABLES else db.RECORDS[name]


def get(eng: Engine, kind: str, record_id: str) -> dict | None:
    """The record as stored (its fields, ``version``, ``retracted``, ``origin``), ``None`` if there is none."""
    with eng.connect() as conn:
        return _row(conn, kind, record_id)


# ---------------------------------------------------------------- the one way to save


def _event(
    conn: Connection, actor: str, kind: str, record_id: str, change: str, before: dict | None, after: dict | None
) -> int:
    """Add one event to the history (in the caller's transaction); returns its ``seq``."""

    def dump(values):
        if values is None:
            return None
        return json.dumps({k: _plain(v) for k, v in values.items()}, ensure_ascii=False, sort_keys=True)

    return conn.execute(
        db.EVENTS.insert()
        .values(
            event_id=uuid.uuid4().hex,
            at=now_local(),
            actor=actor,
            record_kind=kind,
            record_id=record_id,
            change=change,
            before=dump(before),
            after=dump(after),
            origin="app",
        )
        .returning(db.EVENTS.c.seq)
    ).scalar_one()


def _save(eng: Engine, key: str, operation: str, work: Callable[[Connection], Saved]) -> Saved:
    """Run ``work`` in one writing transaction under idempotency ``key`` (see the module's description)."""
    if not key or not isinstance(key, str):
        raise ValueError("a save needs its form's idempotency key (geo.meetings.new_key())")
    for attempt in range(2):
        try:
            with db.write(eng) as conn:
                found = conn.execute(
                    sa.select(db.IDEMPOTENCY.c.operation, db.IDEMPOTENCY.c.result).where(db.IDEMPOTENCY.c.key == key)
                ).first()
                if found is not None:
                    if found.operation != operation:
                        raise KeyReused(f"the key was used for {found.operation!r}, not {operation!r}")
                    result = store._json(found.result)
                    return Saved(**{**result, "replayed": True})
                saved = work(conn)
                conn.execute(
                    db.IDEMPOTENCY.insert().values(
                        key=key,
                        operation=operation,
                        result={k: v for k, v in asdict(saved).items() if k != "replayed"},
                        created_at=dt.datetime.now(dt.UTC),
                    )
                )
                store.bump(conn, "events")
            return saved
        except sa.exc.IntegrityError:
            # the same key saved at the same moment by another connection (PostgreSQL): its result stands
            if attempt:
                raise
            with eng.connect() as conn:
                if conn.execute(sa.select(db.IDEMPOTENCY.c.key).where(db.IDEMPOTENCY.c.key == key)).first() is None:
                    raise
    raise AssertionError("unreachable")


def _update(
    conn: Connection,
    kind: str,
    record_id: str,
    version: int | None,
    changes: dict,
    actor: str,
    change: str,
    note: dict | None = None,
) -> tuple[Saved, dict]:
    """Change fields of a record in force at ``version``; its event (``note``: more for the event's "after",
    e.g. the meeting where it was agreed); returns the save and the record before."""
    before = _row(conn, kind, record_id, lock=True)
    if before is None or before["retracted"] is not None:
        raise NotFound(f"no {kind} {record_id!r}" + (" in force (it was retracted)" if before else ""))
    if version is None or before["version"] != version:
        raise Conflict(kind, record_id, version, before)
    table = _table(kind)
    values = {k: (_stamp(v) if k in _DAYS else v) for k, v in changes.items()}
    done = conn.execute(
        table.update()
        .where(table.c[ID_COLUMNS[kind]] == record_id, table.c.version == version)
        .values(**values, version=version + 1)
    )
    if done.rowcount != 1:  # changed between the read and the write (cannot happen under the row lock)
        raise Conflict(kind, record_id, version, _row(conn, kind, record_id))
    _event(
        conn,
        actor,
        kind,
        record_id,
        change,
        {k: before.get(k) for k in changes},
        {**changes, **(note or {})},
    )
    return Saved(kind, record_id, version + 1), before


def _touch(conn: Connection, *tables: str) -> None:
    for name in tables:
        store.bump(conn, name)
        store.write_image(conn, name)


def _check_day(errors: dict, name: str, day, today: dt.date, future: bool = False) -> dt.date | None:
    if day is None:
        return None
    try:
        day = _day(day)
    except (TypeError, ValueError):
        errors[name] = "is not a date"
        return None
    if not future and day > today:
        errors[name] = f"is in the future (today is {today.isoformat()})"
    elif day < dt.date(1990, 1, 1):
        errors[name] = "is before 1990"
    return day


def _check_text(errors: dict, name: str, value, required: bool = False) -> str | None:
    text = _text(value)
    if required and text is None:
        errors[name] = "is empty"
    elif text is not None and len(text) > MAX_TEXT:
        errors[name] = f"is longer than {MAX_TEXT:,} characters"
    return text


def _raise(errors: dict) -> None:
    if errors:
        raise Invalid(errors)


# ---------------------------------------------------------------- meetings


def open_meeting(
    eng: Engine,
    committee_id: str,
    held_on: dt.date,
    *,
    actor: str,
    key: str,
    meeting_id: str | None = None,
    today: dt.date | None = None,
) -> Saved:
    """Open a meeting of ``committee_id`` on ``held_on`` (not in the future); returns it (``record_id`` its id)."""
    today = today or local_today()
    errors: dict[str, str] = {}
    day = _check_day(errors, "held_on", held_on, today)
    if held_on is None:
        errors["held_on"] = "is empty"
    meeting_id = meeting_id or _new_id("m")

    def work(conn: Connection) -> Saved:
        known = conn.execute(
            sa.select(db.COMMITTEES.c.committee_id).where(db.COMMITTEES.c.committee_id == committee_id)
        ).first()
        if known is None:
            errors["committee_id"] = "is not a known committee"
        if _row(conn, "meeting", meeting_id) is not None:
            errors["meeting_id"] = "is already a meeting"
        _raise(errors)
        frame = pd.DataFrame(
            {
                "meeting_id": pd.array([meeting_id], dtype="string"),
                "committee_id": pd.array([committee_id], dtype="string"),
                "held_on": [pd.Timestamp(day)],
                "attendance": pd.array([pd.NA], dtype="Int64"),
                "concerns_raised": pd.array([0], dtype="Int64"),
            }
        )
        store.record_in(conn, "meetings", frame)
        _event(conn, actor, "meeting", meeting_id, "created", None, _fields(_row(conn, "meeting", meeting_id)))
        return Saved("meeting", meeting_id, 1)

    return _save(eng, key, f"open_meeting {committee_id}", work)


def _meeting_in_force(conn: Connection, meeting_id: str, errors: dict, open_only: bool = True) -> dict | None:
    meeting = _row(conn, "meeting", meeting_id)
    if meeting is None or meeting["retracted"] is not None:
        errors["meeting_id"] = "is not a meeting in force"
        return None
    if open_only and meeting["closed_at"] is not None:
        errors["meeting_id"] = "is closed"
    return meeting


def close_meeting(eng: Engine, meeting_id: str, *, version: int, actor: str, key: str) -> Saved:
    """Close the meeting (its minutes are then final; nothing more is recorded at it)."""

    def work(conn: Connection) -> Saved:
        errors: dict[str, str] = {}
        _meeting_in_force(conn, meeting_id, errors)
        _raise(errors)
        saved, _ = _update(conn, "meeting", meeting_id, version, {"closed_at": now_local()}, actor, "closed")
        _touch(conn, "meetings")
        return saved

    return _save(eng, key, f"close_meeting {meeting_id}", work)


def record_attendance(
    eng: Engine,
    meeting_id: str,
    total: int,
    groups: Mapping[str, int | None] | None = None,
    *,
    version: int | None,
    actor: str,
    key: str,
) -> Saved:
    """Record (``version`` ``None``: the first time) or correct (``version``: the attendance record's) who came:
    the ``total`` and optional counts by group (:data:`geo.schema.ATTENDANCE_GROUPS`), none above the total.
    The meeting's ``attendance`` is the total."""
    groups = dict(groups or {})
    errors: dict[str, str] = {}
    for g in groups:
        if g not in ATTENDANCE_GROUPS:
            errors[g] = f"is not a group; groups are {', '.join(ATTENDANCE_GROUPS)}"

    def whole(name, v):
        if v is None or v == "":
            return None
        try:
            n = int(v)
        except (TypeError, ValueError):
            errors[name] = "is not a whole number"
            return None
        if n != float(v) or n < 0:
            errors[name] = "is not a whole number of 0 or more"
        return n

    total_n = whole("total", total)
    if total_n is None and "total" not in errors:
        errors["total"] = "is empty"
    counts = {g: whole(g, groups.get(g)) for g in ATTENDANCE_GROUPS}
    for g, n in counts.items():
        if n is not None and total_n is not None and n > total_n and g not in errors:
            errors[g] = f"is more than the total ({total_n})"

    def work(conn: Connection) -> Saved:
        _meeting_in_force(conn, meeting_id, errors)
        stored = _row(conn, "attendance", meeting_id, lock=True)
        _raise(errors)
        values = {"total": total_n, **counts}
        if stored is None and version is None:
            frame = pd.DataFrame(
                {"meeting_id": pd.array([meeting_id], dtype="string")}
                | {k: pd.array([v], dtype="Int64") for k, v in values.items()}
            )
            store.record_in(conn, "attendance", frame)
            _event(conn, actor, "attendance", meeting_id, "created", None, values)
            saved = Saved("attendance", meeting_id, 1)
        elif stored is None:
            raise Conflict("attendance", meeting_id, version, None)
        else:
            if version is None:
                raise Conflict("attendance", meeting_id, None, stored)
            saved, _ = _update(conn, "attendance", meeting_id, version, values, actor, "updated")
            _touch(conn, "attendance")
        conn.execute(db.MEETINGS.update().where(db.MEETINGS.c.meeting_id == meeting_id).values(attendance=total_n))
        _touch(conn, "meetings")
        return saved

    return _save(eng, key, f"record_attendance {meeting_id}", work)


# ---------------------------------------------------------------- concerns


def _sections(conn: Connection) -> pd.DataFrame:
    parts = store.read(conn.engine, ["sections"])[1] if conn.dialect.name == "postgresql" else None
    if parts is not None:
        return parts["sections"].frame
    raw = conn.connection.driver_connection  # the writing transaction's own view (SQLite: one connection)
    table = store._arrow_rows("sections", raw.execute(store._select_sql("sqlite", "sections")).fetchall())
    return store._frame("sections", table)


def _locate(
    conn: Connection, errors: dict, section_id: str | None, point: tuple[float, float] | None, sections
) -> tuple[str | None, float, float]:
    """``(section_id, lon, lat)`` of a concern given by section or by a point (lon, lat in WGS84 degrees)."""
    section_id = _text(section_id)
    if point is not None:
        try:
            lon, lat = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError):
            errors["point"] = "is not a point (longitude, latitude)"
            return None, np.nan, np.nan
        if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            errors["point"] = "is not a point in WGS84 degrees (longitude, latitude)"
            return None, np.nan, np.nan
        frame = sections if sections is not None else _sections(conn)
        pts = pd.DataFrame({"lon": [lon], "lat": [lat], "section_id": pd.Series([None], dtype="str")})
        found = join_points(pts, frame)["section_id"].iloc[0]
        if pd.isna(found):
            errors["point"] = "is in no section"
            return None, lon, lat
        if section_id is not None and section_id != str(found):
            errors["section_id"] = f"is not the section of the point ({found})"
        return str(found), lon, lat
    if section_id is None:
        errors["section_id"] = "is empty: choose a section or a point"
        return None, np.nan, np.nan
    known = conn.execute(sa.select(db.SECTIONS.c.section_id).where(db.SECTIONS.c.section_id == section_id)).first()
    if known is None:
        errors["section_id"] = "is not a known section"
    return section_id, np.nan, np.nan


def add_concern(
    eng: Engine,
    meeting_id: str,
    category: str,
    description: str | None,
    description_public: bool,
    *,
    section_id: str | None = None,
    point: tuple[float, float] | None = None,
    raised_on: dt.date | None = None,
    actor: str,
    key: str,
    concern_id: str | None = None,
    sections: pd.DataFrame | None = None,
    today: dt.date | None = None,
) -> Saved:
    """Record a concern raised at an open meeting: ``category`` from the vocabulary, located by a known
    ``section_id`` or by a ``point`` (lon, lat) joined to its section (``sections``: the stored sections, to
    spare reading them), the ``description`` and whether it may be shown in public, ``raised_on`` (default the
    meeting's day; not in the future); status open, source this meeting (by the committee's type)."""
    today = today or local_today()
    errors: dict[str, str] = {}
    if category not in CATEGORIES:
        errors["category"] = f"is not a concern category; categories are {', '.join(CATEGORIES)}"
    text = _check_text(errors, "description", description)
    raised = _check_day(errors, "raised_on", raised_on, today)
    concern_id = concern_id or _new_id("c")

    def work(conn: Connection) -> Saved:
        meeting = _meeting_in_force(conn, meeting_id, errors)
        where, lon, lat = _locate(conn, errors, section_id, point, sections)
        day = raised if raised is not None else (meeting["held_on"] if meeting else None)
        if _row(conn, "concern", concern_id) is not None:
            errors["concern_id"] = "is already a concern"
        _raise(errors)
        kind = conn.execute(
            sa.select(db.COMMITTEES.c.type).where(db.COMMITTEES.c.committee_id == meeting["committee_id"])
        ).scalar()
        frame = pd.DataFrame(
            {
                "concern_id": pd.array([concern_id], dtype="string"),
                "raised_on": [pd.Timestamp(day)],
                "category": pd.Categorical([category]),
                "description": pd.array([text], dtype="string"),
                "description_public": [bool(description_public)],
                "source": pd.array([MEETING_SOURCES.get(str(kind))], dtype="string"),
                "meeting_id": pd.array([meeting_id], dtype="string"),
                "status": pd.array(["open"], dtype="string"),
                "resolved_on": [pd.NaT],
                "action_taken": pd.array([None], dtype="string"),
                "lon": [lon],
                "lat": [lat],
                "section_id": pd.array([where], dtype=SECTION_ID_DTYPE),
            }
        )
        store.record_in(conn, "concerns", frame)
        _event(conn, actor, "concern", concern_id, "created", None, _fields(_row(conn, "concern", concern_id)))
        conn.execute(
            db.MEETINGS.update()
            .where(db.MEETINGS.c.meeting_id == meeting_id)
            .values(concerns_raised=sa.func.coalesce(db.MEETINGS.c.concerns_raised, 0) + 1)
        )
        _touch(conn, "meetings")
        return Saved("concern", concern_id, 1)

    return _save(eng, key, f"add_concern {meeting_id}", work)


def edit_concern(
    eng: Engine,
    concern_id: str,
    *,
    version: int,
    actor: str,
    key: str,
    category: str | None = None,
    description: str | None = None,
    description_public: bool | None = None,
    section_id: str | None = None,
    point: tuple[float, float] | None = None,
    sections: pd.DataFrame | None = None,
) -> Saved:
    """Correct a concern's category, description, public flag or place (only the arguments given change)."""
    errors: dict[str, str] = {}
    changes: dict = {}
    if category is not None:
        if category not in CATEGORIES:
            errors["category"] = f"is not a concern category; categories are {', '.join(CATEGORIES)}"
        changes["category"] = category
    if description is not None:
        changes["description"] = _check_text(errors, "description", description)
    if description_public is not None:
        changes["description_public"] = bool(description_public)

    def work(conn: Connection) -> Saved:
        if section_id is not None or point is not None:
            where, lon, lat = _locate(conn, errors, section_id, point, sections)
            changes.update(section_id=where, lon=None if np.isnan(lon) else lon, lat=None if np.isnan(lat) else lat)
        _raise(errors)
        if not changes:
            raise Invalid({"concern_id": "nothing to change"})
        saved, _ = _update(conn, "concern", concern_id, version, changes, actor, "updated")
        _touch(conn, "concerns")
        return saved

    return _save(eng, key, f"edit_concern {concern_id}", work)


def change_status(
    eng: Engine,
    concern_id: str,
    status: str,
    *,
    version: int,
    actor: str,
    key: str,
    action_taken: str | None = None,
    resolved_on: dt.date | None = None,
    meeting_id: str | None = None,
    today: dt.date | None = None,
) -> Saved:
    """Move a concern open → in progress → resolved (``resolved``: with the ``action_taken`` and the day,
    ``resolved_on``, default today; not in the future, not before it was raised). ``meeting_id``: the meeting
    where the change was agreed (its minutes list it)."""
    today = today or local_today()
    errors: dict[str, str] = {}
    if status not in STATUSES:
        errors["status"] = f"is not a status; statuses are {', '.join(STATUSES)}"
    taken = _check_text(errors, "action_taken", action_taken, required=status == "resolved")
    day = _check_day(errors, "resolved_on", resolved_on if resolved_on is not None else today, today)

    def work(conn: Connection) -> Saved:
        current = _row(conn, "concern", concern_id)
        if meeting_id is not None:
            _meeting_in_force(conn, meeting_id, errors)
        if current is not None and current["status"] == status and "status" not in errors:
            errors["status"] = f"is already {status}"
        if status == "resolved" and current is not None and day is not None and "resolved_on" not in errors:
            raised = current["raised_on"]
            if raised is not None and day < raised:
                errors["resolved_on"] = f"is before the concern was raised ({raised.isoformat()})"
        _raise(errors)
        changes: dict = {"status": status}
        if status == "resolved":
            changes |= {"resolved_on": day, "action_taken": taken}
        else:
            changes |= {"resolved_on": None}
            if taken is not None:
                changes["action_taken"] = taken
        note = {"at_meeting": meeting_id} if meeting_id is not None else None
        saved, _ = _update(conn, "concern", concern_id, version, changes, actor, "status", note)
        _touch(conn, "concerns")
        return saved

    return _save(eng, key, f"change_status {concern_id}", work)


# ---------------------------------------------------------------- actions


def add_action(
    eng: Engine,
    concern_id: str,
    what: str,
    owner: str,
    *,
    due_on: dt.date | None = None,
    meeting_id: str | None = None,
    actor: str,
    key: str,
    action_id: str | None = None,
    today: dt.date | None = None,
) -> Saved:
    """Agree an action on a concern in force: ``what`` will be done, by whom (``owner``: police, municipality or
    other), by when (``due_on``, may be in the future), at which open meeting (``meeting_id``)."""
    today = today or local_today()
    errors: dict[str, str] = {}
    text = _check_text(errors, "what", what, required=True)
    if owner not in OWNERS:
        errors["owner"] = f"is not an owner; owners are {', '.join(OWNERS)}"
    due = _check_day(errors, "due_on", due_on, today, future=True)
    action_id = action_id or _new_id("a")

    def work(conn: Connection) -> Saved:
        concern = _row(conn, "concern", concern_id)
        if concern is None or concern["retracted"] is not None:
            errors["concern_id"] = "is not a concern in force"
        if meeting_id is not None:
            _meeting_in_force(conn, meeting_id, errors)
        if _row(conn, "action", action_id) is not None:
            errors["action_id"] = "is already an action"
        _raise(errors)
        frame = pd.DataFrame(
            {
                "action_id": pd.array([action_id], dtype="string"),
                "concern_id": pd.array([concern_id], dtype="string"),
                "meeting_id": pd.array([meeting_id], dtype="string"),
                "what": pd.array([text], dtype="string"),
                "owner": pd.array([owner], dtype="string"),
                "due_on": [_stamp(due) if due is not None else pd.NaT],
                "done_on": [pd.NaT],
            }
        )
        store.record_in(conn, "actions", frame)
        _event(conn, actor, "action", action_id, "created", None, _fields(_row(conn, "action", action_id)))
        return Saved("action", action_id, 1)

    return _save(eng, key, f"add_action {concern_id}", work)


def mark_action_done(
    eng: Engine,
    action_id: str,
    done_on: dt.date | None = None,
    *,
    version: int,
    actor: str,
    key: str,
    meeting_id: str | None = None,
    today: dt.date | None = None,
) -> Saved:
    """Record that an action was done on ``done_on`` (default today; not in the future), at ``meeting_id``
    when it was reported at a meeting."""
    today = today or local_today()
    errors: dict[str, str] = {}
    day = _check_day(errors, "done_on", done_on if done_on is not None else today, today)

    def work(conn: Connection) -> Saved:
        if meeting_id is not None:
            _meeting_in_force(conn, meeting_id, errors)
        _raise(errors)
        note = {"at_meeting": meeting_id} if meeting_id is not None else None
        saved, _ = _update(conn, "action", action_id, version, {"done_on": day}, actor, "status", note)
        _touch(conn, "actions")
        return saved

    return _save(eng, key, f"mark_action_done {action_id}", work)


# ---------------------------------------------------------------- retraction and redaction


def retract(eng: Engine, kind: str, record_id: str, reason: str, *, version: int, actor: str, key: str) -> Saved:
    """Retract a mistaken meeting, concern or action with a ``reason``: it stays in its table and in the history,
    and no page reads it any more."""
    if kind not in RETRACTABLE:
        raise ValueError(f"a {kind!r} cannot be retracted; kinds are {', '.join(RETRACTABLE)}")
    errors: dict[str, str] = {}
    text = _check_text(errors, "reason", reason, required=True)

    def work(conn: Connection) -> Saved:
        _raise(errors)
        saved, before = _update(conn, kind, record_id, version, {"retracted": text}, actor, "retracted")
        table = KINDS[kind]
        if table in ("concerns", "meetings", "actions"):
            located = pd.DataFrame({"section_id": [before.get("section_id")]}) if kind == "concern" else None
            store.recount(conn, table, located if located is not None else pd.DataFrame(index=[0]), sign=-1)
        if kind == "concern" and before.get("meeting_id"):
            conn.execute(
                db.MEETINGS.update()
                .where(db.MEETINGS.c.meeting_id == before["meeting_id"], db.MEETINGS.c.concerns_raised > 0)
                .values(concerns_raised=db.MEETINGS.c.concerns_raised - 1)
            )
            _touch(conn, "meetings")
        _touch(conn, table)
        return saved

    return _save(eng, key, f"retract {kind} {record_id}", work)


def redact(
    eng: Engine, kind: str, record_id: str, field_name: str, *, administrator: bool, actor: str, key: str
) -> Saved:
    """Blank a text typed by mistake (personal data) in the record and in every earlier event of its history;
    a ``redacted`` event records which field, who and when — not the text. For administrators only
    (``administrator``: the caller checked the role)."""
    if not administrator:
        raise PermissionError("only an administrator may redact a text")
    if field_name not in REDACTABLE.get(kind, ()):
        fields = ", ".join(f"{k}.{f}" for k, fs in REDACTABLE.items() for f in fs)
        raise ValueError(f"{kind}.{field_name} cannot be redacted; texts that can are {fields}")

    def work(conn: Connection) -> Saved:
        current = _row(conn, kind, record_id, lock=True)
        if current is None:
            raise NotFound(f"no {kind} {record_id!r}")
        table = _table(kind)
        version = current["version"] + 1
        conn.execute(
            table.update().where(table.c[ID_COLUMNS[kind]] == record_id).values({field_name: None, "version": version})
        )
        seq = _event(conn, actor, kind, record_id, "redacted", None, {"redacted": field_name})
        conn.execute(db.REDACTION_TICKETS.insert().values(event_seq=seq))
        e = db.EVENTS
        rows = conn.execute(
            sa.select(e.c.seq, e.c.before, e.c.after).where(
                e.c.record_kind == kind, e.c.record_id == record_id, e.c.seq < seq
            )
        ).all()
        for row in rows:
            blanked = {}
            for col in ("before", "after"):
                values = json.loads(getattr(row, col)) if getattr(row, col) else None
                if values and values.get(field_name) is not None:
                    values[field_name] = None
                    blanked[col] = json.dumps(values, ensure_ascii=False, sort_keys=True)
            if blanked:
                conn.execute(e.update().where(e.c.seq == row.seq).values(**blanked))
        conn.execute(db.REDACTION_TICKETS.delete().where(db.REDACTION_TICKETS.c.event_seq == seq))
        _touch(conn, KINDS[kind])
        return Saved(kind, record_id, version)

    return _save(eng, key, f"redact {kind} {record_id} {field_name}", work)


# ---------------------------------------------------------------- reading


def history(eng: Engine, kind: str, record_id: str) -> list[Event]:
    """The record's history, oldest first."""
    e = db.EVENTS
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(e).where(e.c.record_kind == kind, e.c.record_id == record_id).order_by(e.c.seq)
        ).mappings()
        return [_as_event(r) for r in rows]


def _as_event(r) -> Event:
    return Event(
        r["event_id"],
        r["at"],
        r["actor"],
        r["record_kind"],
        r["record_id"],
        r["change"],
        json.loads(r["before"]) if r["before"] else None,
        json.loads(r["after"]) if r["after"] else None,
    )


def events(eng: Engine) -> pd.DataFrame:
    """Every event of the history, in order (the columns of the contract's ``events``)."""
    e = db.EVENTS
    cols = ["event_id", "at", "actor", "record_kind", "record_id", "change", "before", "after"]
    with eng.connect() as conn:
        rows = conn.execute(sa.select(*[e.c[c] for c in cols]).order_by(e.c.seq)).all()
    frame = pd.DataFrame(rows, columns=cols)
    frame["at"] = pd.to_datetime(frame["at"]).astype("datetime64[us]")
    return frame


def _frame(conn: Connection, kind: str, where, order) -> pd.DataFrame:
    table = _table(kind)
    cols = [*FIELDS[kind], "version"]
    rows = conn.execute(sa.select(*[table.c[c] for c in cols]).where(*where).order_by(*order)).all()
    frame = pd.DataFrame(rows, columns=cols)
    for c in _DAYS:
        if c in frame:
            frame[c] = pd.to_datetime(frame[c]).astype("datetime64[us]")
    return frame


def meetings_of(eng: Engine, committee_id: str) -> pd.DataFrame:
    """The committee's meetings in force, newest first (with ``version`` and ``closed_at``)."""
    m = db.MEETINGS
    with eng.connect() as conn:
        return _frame(
            conn, "meeting", [m.c.committee_id == committee_id, m.c.retracted.is_(None)], [m.c.held_on.desc()]
        )


@dataclass
class Agenda:
    """What a committee's next meeting reviews: its open concerns (raised at its meetings) and the actions on
    them not yet done, oldest first."""

    concerns: pd.DataFrame
    actions: pd.DataFrame


def agenda(eng: Engine, committee_id: str) -> Agenda:
    """The committee's agenda (see :class:`Agenda`): concerns oldest raised first, actions oldest due first
    (those without a due date last)."""
    c, a, m = db.CONCERNS, db.ACTIONS, db.MEETINGS
    held = sa.select(m.c.meeting_id).where(m.c.committee_id == committee_id, m.c.retracted.is_(None))
    with eng.connect() as conn:
        concerns = _frame(
            conn,
            "concern",
            [c.c.meeting_id.in_(held), c.c.retracted.is_(None), c.c.status != "resolved"],
            [c.c.raised_on, c.c.rid],
        )
        theirs = sa.select(c.c.concern_id).where(c.c.meeting_id.in_(held), c.c.retracted.is_(None))
        actions = _frame(
            conn,
            "action",
            [
                sa.or_(a.c.concern_id.in_(theirs), a.c.meeting_id.in_(held)),
                a.c.retracted.is_(None),
                a.c.done_on.is_(None),
            ],
            [a.c.due_on.is_(None), a.c.due_on, a.c.rid],
        )
    return Agenda(concerns, actions)


@dataclass
class MeetingRecords:
    """What one meeting recorded (records in force): the meeting, its committee, attendance, the concerns
    raised, the actions agreed, and the status changes agreed at it (``status_changes``: one row per event,
    ``record_kind`` concern or action, with the status or done day after)."""

    meeting: dict
    committee: dict
    attendance: dict | None
    concerns: pd.DataFrame
    actions: pd.DataFrame
    status_changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the concerns the actions and status changes name that were raised at other meetings
    referenced: pd.DataFrame = field(default_factory=pd.DataFrame)


def meeting_records(eng: Engine, meeting_id: str) -> MeetingRecords:
    """Everything :class:`MeetingRecords` holds for ``meeting_id``; :class:`NotFound` for no meeting in force."""
    c, a, e = db.CONCERNS, db.ACTIONS, db.EVENTS
    with eng.connect() as conn:
        meeting = _row(conn, "meeting", meeting_id)
        if meeting is None or meeting["retracted"] is not None:
            raise NotFound(f"no meeting {meeting_id!r} in force")
        committee = (
            conn.execute(sa.select(db.COMMITTEES).where(db.COMMITTEES.c.committee_id == meeting["committee_id"]))
            .mappings()
            .first()
        )
        attendance = _row(conn, "attendance", meeting_id)
        concerns = _frame(conn, "concern", [c.c.meeting_id == meeting_id, c.c.retracted.is_(None)], [c.c.rid])
        actions = _frame(conn, "action", [a.c.meeting_id == meeting_id, a.c.retracted.is_(None)], [a.c.rid])
        marked = conn.execute(
            sa.select(e)
            .where(e.c.change == "status", e.c.after.like(f'%"at_meeting": {json.dumps(meeting_id)}%'))
            .order_by(e.c.seq)
        ).mappings()
        changes = [_as_event(r) for r in marked]
        retracted = {
            (k, i)
            for k, i in conn.execute(
                sa.select(sa.literal("concern"), c.c.concern_id).where(c.c.retracted.is_not(None))
            ).all()
        } | {
            (k, i)
            for k, i in conn.execute(
                sa.select(sa.literal("action"), a.c.action_id).where(a.c.retracted.is_not(None))
            ).all()
        }
    rows = [
        {
            "record_kind": ev.record_kind,
            "record_id": ev.record_id,
            "at": ev.at,
            "actor": ev.actor,
            "status_before": (ev.before or {}).get("status"),
            "status": (ev.after or {}).get("status"),
            "resolved_on": (ev.after or {}).get("resolved_on"),
            "action_taken": (ev.after or {}).get("action_taken"),
            "done_on": (ev.after or {}).get("done_on"),
        }
        for ev in changes
        if (ev.record_kind, ev.record_id) not in retracted and (ev.after or {}).get("at_meeting") == meeting_id
    ]
    status_changes = pd.DataFrame(
        rows,
        columns=[
            "record_kind",
            "record_id",
            "at",
            "actor",
            "status_before",
            "status",
            "resolved_on",
            "action_taken",
            "done_on",
        ],
    )
    raised = set(concerns["concern_id"])
    named = set(actions["concern_id"].dropna()) | set(
        status_changes.loc[status_changes["record_kind"] == "concern", "record_id"]
    )
    with eng.connect() as conn:
        referenced = _frame(
            conn, "concern", [c.c.concern_id.in_(sorted(named - raised)), c.c.retracted.is_(None)], [c.c.rid]
        )
    return MeetingRecords(
        meeting,
        dict(committee) if committee else {},
        attendance if attendance else None,
        concerns,
        actions,
        status_changes,
        referenced,
    )


# ---------------------------------------------------------------- drafts


def save_draft(eng: Engine, actor: str, form_key: str, fields: Mapping[str, object]) -> None:
    """Keep what ``actor`` typed in form ``form_key`` and has not saved (JSON values), replacing the last draft."""
    values = {str(k): _plain(v) for k, v in fields.items()}
    now = dt.datetime.now(dt.UTC)
    if eng.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(db.DRAFTS).values(actor=actor, form_key=form_key, fields=values, updated_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["actor", "form_key"], set_={"fields": values, "updated_at": now})
    with db.write(eng) as conn:
        conn.execute(stmt)


def load_draft(eng: Engine, actor: str, form_key: str) -> dict | None:
    """The draft's field values, ``None`` when there is none."""
    d = db.DRAFTS
    with eng.connect() as conn:
        found = conn.execute(sa.select(d.c.fields).where(d.c.actor == actor, d.c.form_key == form_key)).scalar()
    return store._json(found) if found is not None else None


def drafts_of(eng: Engine, actor: str) -> dict[str, dict]:
    """Every draft of ``actor``, by form key."""
    d = db.DRAFTS
    with eng.connect() as conn:
        return {
            k: store._json(v) for k, v in conn.execute(sa.select(d.c.form_key, d.c.fields).where(d.c.actor == actor))
        }


def clear_draft(eng: Engine, actor: str, form_key: str) -> None:
    """Forget the draft (after its form was saved)."""
    d = db.DRAFTS
    with db.write(eng) as conn:
        conn.execute(d.delete().where(d.c.actor == actor, d.c.form_key == form_key))
