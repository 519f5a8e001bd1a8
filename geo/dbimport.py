"""Import files into the deployment's database: validated as ``validate`` does, written in one transaction.

:func:`run` reads and checks the files first, against what the database already holds (new incidents are
joined to the stored sections, new meetings checked against the stored committees). A whole-file problem
(an error of the report) stops it before anything is written. Otherwise one transaction:

1. records the import (when, the OS user and host, each file's name, path, size and SHA-256, the options,
   the report) in ``imports``;
2. per input, by its mode: ``replace`` removes the table's imported records (never those made in the
   app, ``origin = 'app'``) and adds the new ones; ``append`` adds them. An appended record whose id is
   already stored is rejected and reported (``already_stored``); appended incidents without ids of their
   own get ids namespaced by the import (``i<import>:<file>:<row>``), are never merged with stored ones,
   and those equal in content to stored records are counted and reported (``duplicate_content``);
3. when sections changed, joins every stored located record (incidents and concerns, those made in the
   app too) to the new sections again, by the project's one rule (:func:`geo.joins.join_points`);
4. stores each changed table's part of the report and gives it a new revision.

Killed at any moment, the database keeps what it had before: the transaction is all or nothing.
Each incident's identity for the public perturbation is computed here once
(:func:`geo.public.incident_identities`), numbering exact duplicates on from those already stored, and
stored with it: published values are then the same from the files, from either engine, and after
``db export`` and a new import.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo import db, store
from geo.joins import join_points
from geo.loader import LoadOptions, load_files, load_records
from geo.public import _SEP, incident_identities
from geo.report import Report
from geo.schema import CONTRACT, RECORDS

MODES = ("replace", "append")
#: Records already stored that an append names one by one (the others are counted in one line).
LISTED = 1000
#: The order tables are written in (what a table is checked against comes first).
ORDER = ("sections", "committees", "incidents", "concerns", "meetings", "surveys", "actions", "attendance", "events")
#: The records' own ids, by table (surveys have none).
ID_FIELDS = {"sections": "section_id", "incidents": "incident_id", "concerns": "concern_id"} | {
    "committees": "committee_id",
    "meetings": "meeting_id",
    "actions": "action_id",
    "attendance": "meeting_id",
    "events": "event_id",
}
#: The count a table's kept records are reported under.
KEPT = {"sections": "accepted", "committees": "matched", "meetings": "matched", "surveys": "matched"} | {
    name: "matched" for name in RECORDS
}
#: Every table an import writes, by name.
TABLES = db.TABLES | db.RECORDS

#: ``progress(label, total)`` starts a step and returns the function that advances it by a number of rows.
Progress = Callable[[str, int | None], Callable[[int], None]]


def _quiet(label: str, total: int | None) -> Callable[[int], None]:
    return lambda n: None


class ImportRefused(ValueError):
    """The import was not started: the message says why (and names the file or option)."""


@dataclass
class Outcome:
    """What an import did: ``import_id`` ``None`` when nothing was written (``report`` says why)."""

    report: Report
    import_id: int | None = None
    modes: dict[str, str] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    rejoined: int = 0

    @property
    def ok(self) -> bool:
        return self.import_id is not None


def file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def os_user() -> str:
    """Who runs the import, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def decide_modes(conn: Connection, paths: dict[str, Path], modes: dict[str, str]) -> dict[str, str]:
    """Each given input's mode; an input whose table already holds imported records needs one said."""
    for name, mode in modes.items():
        if mode not in MODES:
            raise ImportRefused(f"--{mode} {name}: the mode is replace or append")
        if name not in CONTRACT:
            raise ImportRefused(f"--{mode} {name}: {name!r} is not an input; inputs are {', '.join(CONTRACT)}")
        if name not in paths:
            raise ImportRefused(f"--{mode} {name} was given, but no {name} file (--{name} FILE)")
        if name == "events" and mode == "replace":
            raise ImportRefused("--replace events: the history is append-only; --append events adds to it")
    out = {}
    for name in paths:
        if name in modes:
            out[name] = modes[name]
            continue
        table = TABLES[name]
        stored = conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.origin == "import")
        ).scalar_one()
        if stored:
            raise ImportRefused(
                f"{name} already holds {stored:,} imported records: say --replace {name} to replace them "
                f"or --append {name} to add to them"
            )
        out[name] = "append" if name == "events" else "replace"
    return out


def _stored(eng: Engine, names: list[str]) -> dict[str, pd.DataFrame]:
    return {n: p.frame for n, p in store.read(eng, names)[1].items()} if names else {}


def _merge(into: Report, part: Report) -> None:
    into.problems.extend(part.problems)
    into.counts.update(part.counts)


def _combined(old: pd.DataFrame | None, new: pd.DataFrame, mode: str, id_field: str) -> pd.DataFrame:
    """What the table will hold: the new records, after the stored ones when appending (a new record
    whose id is stored is left out: it will be rejected)."""
    if mode == "replace" or old is None or not len(old):
        return new
    fresh = new.loc[~new[id_field].astype(str).isin(set(old[id_field].astype(str)))]
    return pd.concat([old, fresh], ignore_index=True)


def _reject_stored_ids(name: str, frame: pd.DataFrame, stored_ids: set[str], report: Report, file: str) -> pd.DataFrame:
    """Drop (and report) appended records whose id the database already holds."""
    id_field = ID_FIELDS.get(name)
    if not id_field or not stored_ids or not len(frame):
        return frame
    ids = frame[id_field].astype(str)
    if name == "incidents":
        clash = ids.isin(stored_ids).to_numpy() & ~frame["id_generated"].to_numpy(dtype=bool)
    else:
        clash = ids.isin(stored_ids).to_numpy()
    rows, values = frame.loc[clash, "row"].tolist(), ids[clash].tolist()
    for row, value in zip(rows[:LISTED], values[:LISTED], strict=True):
        report.add(
            "already_stored",
            name,
            file,
            f"row {row}: {id_field} {value!r} is already in the database; the record was not imported again",
            row=int(row),
            field=id_field,
            value=value,
        )
    if len(rows) > LISTED:  # the rest counted in one line: a file imported twice would list every record
        report.add(
            "already_stored",
            name,
            file,
            f"{len(rows) - LISTED:,} more records (rows {rows[LISTED]} to {rows[-1]}) have an {id_field} that is "
            "already in the database; they were not imported again",
            field=id_field,
            value=len(rows) - LISTED,
        )
    return frame.loc[~clash].reset_index(drop=True)


def _recount_import(report: Report, name: str, kept: pd.DataFrame) -> None:
    """This import's counts of ``name`` after rejecting records already stored."""
    counts = report.counts.get(name)
    if not counts:
        return
    if name in ("incidents", "concerns"):
        joined = int(kept["section_id"].notna().sum())
        counts.update(joined=joined, outside=len(kept) - joined, rejected=counts["loaded"] - len(kept))
    else:
        counts.update({KEPT[name]: len(kept), "rejected": counts["loaded"] - len(kept)})


def _identities(frame: pd.DataFrame, stored: list[bytes]) -> tuple[list[bytes], int]:
    """The new records' identities, exact duplicates numbered on from the stored ones; and how many
    new records equal a stored one in content (records without ids of their own)."""
    fresh = incident_identities(frame)
    if not stored:
        return fresh, 0
    base = Counter(s.rsplit(_SEP.encode(), 1)[0] for s in stored)
    out, same = [], 0
    for ident in fresh:
        head, occurrence = ident.rsplit(_SEP.encode(), 1)
        before = base.get(head, 0)
        if before and not head.startswith(b"id" + _SEP.encode()):
            same += 1
        out.append(head + _SEP.encode() + str(int(occurrence) + before).encode())
    return out, same


def _rejoin(conn: Connection, sections: pd.DataFrame, progress: Progress) -> int:
    """Join every stored located record to ``sections`` again; returns how many changed section."""
    changed = 0
    known = set(sections["section_id"].astype(str))
    for name in ("incidents", "concerns"):
        table = db.TABLES[name]
        rows = conn.execute(sa.select(table.c.rid, table.c.lon, table.c.lat, table.c.section_id)).all()
        if not rows:
            continue
        frame = pd.DataFrame(rows, columns=["rid", "lon", "lat", "old"])
        frame["lon"] = pd.to_numeric(frame["lon"]).astype(float)
        frame["lat"] = pd.to_numeric(frame["lat"]).astype(float)
        located = np.isfinite(frame["lon"].to_numpy()) & np.isfinite(frame["lat"].to_numpy())
        pts = frame.loc[located, ["lon", "lat"]].assign(section_id=pd.Series(dtype="str"))
        joined = join_points(pts, sections)["section_id"]
        new = frame["old"].where(frame["old"].astype(str).isin(known), None).astype(object)  # by section only
        new[located] = joined.astype(object).where(joined.notna(), None).to_numpy()
        old = frame["old"].astype(object).where(frame["old"].notna(), None)
        diff = [(n, int(r)) for n, o, r in zip(new, old, frame["rid"], strict=True) if (n or None) != (o or None)]
        advance = progress(f"joining stored {name} to the new sections", len(diff))
        if diff:
            conn.execute(
                table.update().where(table.c.rid == sa.bindparam("r")).values(section_id=sa.bindparam("s")),
                [{"s": s, "r": r} for s, r in diff],
            )
        advance(len(diff))
        changed += len(diff)
    return changed


def _counts(conn: Connection, name: str, previous: dict, imported: dict, mode: str) -> dict[str, int]:
    """The table's counts after the import: what is stored, plus the rejected rows of the imports kept."""
    table = TABLES[name]
    rejected = int(imported.get("rejected", 0)) + (int(previous.get("rejected", 0)) if mode == "append" else 0)
    if name in ("incidents", "concerns"):
        joined = conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.section_id.is_not(None))
        ).scalar_one()
        outside = conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.section_id.is_(None))
        ).scalar_one()
        return {"loaded": joined + outside + rejected, "joined": joined, "outside": outside, "rejected": rejected}
    kept = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    out = {"loaded": kept + rejected, KEPT[name]: kept, "rejected": rejected}
    if name == "sections":
        out["repaired"] = int(imported.get("repaired", 0)) + (
            int(previous.get("repaired", 0)) if mode == "append" else 0
        )
    return out


def _recount(conn: Connection, name: str) -> None:
    """After a re-join: the joined/outside counts of a table the import did not change otherwise."""
    problems, previous = store.get_part(conn, name)
    if not previous:
        return
    store.set_part(conn, name, problems, _counts(conn, name, previous, previous, "replace"))


def _known_ids(eng: Engine, new: dict[str, pd.DataFrame], modes: dict[str, str]) -> tuple[set[str], set[str]]:
    """The concern and meeting ids the database will hold after the import (actions and attendance name them)."""
    out = []
    with eng.connect() as conn:
        for name, column in (("concerns", "concern_id"), ("meetings", "meeting_id")):
            table = db.TABLES[name]
            query = sa.select(table.c[column]).where(table.c.retracted.is_(None))
            if name in new and modes.get(name) == "replace":
                query = query.where(table.c.origin != "import")
            ids = {r[0] for r in conn.execute(query)}
            if name in new:
                ids |= set(new[name][column].astype(str))
            out.append(ids)
    return out[0], out[1]


def _insert_events(conn: Connection, frame: pd.DataFrame, import_id: int) -> int:
    """Add the history's events (in their order) and close the meetings a ``closed`` event closed."""
    if not len(frame):
        return 0
    at = pd.to_datetime(frame["at"]).dt.to_pydatetime()
    rows = [
        {
            "event_id": str(r.event_id),
            "at": when,
            "actor": str(r.actor),
            "record_kind": str(r.record_kind),
            "record_id": str(r.record_id),
            "change": str(r.change),
            "before": None if pd.isna(r.before) else str(r.before),
            "after": None if pd.isna(r.after) else str(r.after),
            "import_id": import_id,
            "origin": "import",
        }
        for r, when in zip(frame.itertuples(index=False), at, strict=True)
    ]
    conn.execute(db.EVENTS.insert(), rows)
    closed = {r["record_id"]: r["at"] for r in rows if r["record_kind"] == "meeting" and r["change"] == "closed"}
    for meeting_id, when in closed.items():
        m = db.MEETINGS
        conn.execute(m.update().where(m.c.meeting_id == meeting_id, m.c.closed_at.is_(None)).values(closed_at=when))
    if closed:
        store.bump(conn, "meetings")
        store.write_image(conn, "meetings")
    return len(rows)


def run(
    eng: Engine,
    paths: dict[str, Path],
    options: LoadOptions | None = None,
    modes: dict[str, str] | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
    only_if_empty: bool = False,
) -> Outcome:
    """Import ``paths`` (input → file) into the database of ``eng`` (see the module's description).

    Raises :class:`ImportRefused` before reading anything when the modes do not fit (an input whose table
    holds imported records needs ``replace`` or ``append`` said). Never raises for bad data: an
    :class:`Outcome` without ``import_id`` and its report say what stopped it. ``only_if_empty``: write
    only into a database that holds no data yet (checked inside the writing transaction, so of two
    processes importing a first time at once, one imports and the other is refused)."""
    options = options or LoadOptions()
    progress = progress or _quiet
    paths = {n: Path(p) for n, p in paths.items()}
    if not paths:
        raise ImportRefused("no files to import: give at least one input (--sections FILE, --incidents FILE, …)")
    if not db.ready(eng):
        db.upgrade(eng)
    with eng.connect() as conn:
        modes = decide_modes(conn, paths, dict(modes or {}))

    report = Report()
    context_names = [
        n
        for n in ("sections", "committees")
        if n not in paths or modes[n] == "append" or (n == "sections" and set(paths) - {"sections"})
    ]
    stored = _stored(eng, context_names)
    new: dict[str, pd.DataFrame] = {}
    sections = stored.get("sections")
    if "sections" in paths:
        advance = progress("reading and checking sections", None)
        part = load_files({"sections": paths["sections"]}, options, today=today)
        advance(1)
        _merge(report, part.report)
        if not part.report.has_errors("sections"):
            new["sections"] = part.sections
            sections = _combined(stored.get("sections"), part.sections, modes["sections"], "section_id")
    known = {"sections": sections} if sections is not None and len(sections) else {}
    committees = stored.get("committees")
    if "committees" in paths and known:
        advance = progress("reading and checking committees", None)
        part = load_files({"committees": paths["committees"]}, options, today=today, known=known)
        advance(1)
        _merge(report, part.report)
        if not part.report.has_errors("committees"):
            new["committees"] = part.committees
            committees = _combined(stored.get("committees"), part.committees, modes["committees"], "committee_id")
    elif "committees" in paths:
        part = load_files({"committees": paths["committees"]}, options, today=today)
        _merge(report, part.report)
    if committees is not None:
        known["committees"] = committees
    rest = {n: p for n, p in paths.items() if n not in ("sections", "committees")}
    inputs = {n: p for n, p in rest.items() if n not in RECORDS}
    if inputs:
        advance = progress(f"reading and checking {', '.join(inputs)}", None)
        part = load_files(inputs, options, today=today, known=known)
        advance(1)
        _merge(report, part.report)
        for n in inputs:
            if not part.report.has_errors(n):
                new[n] = getattr(part, n)
    records = {n: p for n, p in rest.items() if n in RECORDS}
    if records:
        advance = progress(f"reading and checking {', '.join(records)}", None)
        concerns, meetings = _known_ids(eng, new, modes)
        frames, part = load_records(records, options, today=today, concerns=concerns, meetings=meetings)
        advance(1)
        _merge(report, part)
        for n in records:
            if n in frames and not part.has_errors(n):
                new[n] = frames[n]
    if not report.ok:
        return Outcome(report, None, modes)

    outcome = Outcome(report, None, modes)
    files = [
        {
            "input": n,
            "mode": modes[n],
            "name": p.name,
            "path": str(p.resolve()),
            "bytes": p.stat().st_size,
            "sha256": file_digest(p),
        }
        for n, p in paths.items()
    ]
    with db.write(eng) as conn:
        if conn.dialect.name == "postgresql":  # one import at a time (SQLite's write lock does the same)
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7215016)")
        if only_if_empty and any(rev != "empty" for rev in store.revisions_in(conn).values()):
            raise ImportRefused("the database already holds data (another process imported it first)")
        import_id = conn.execute(
            db.IMPORTS.insert()
            .values(
                finished_at=dt.datetime.now(dt.UTC),
                os_user=os_user(),
                host=socket.gethostname(),
                files=files,
                options=asdict(options),
                report={"problems": [], "counts": {}},
            )
            .returning(db.IMPORTS.c.import_id)
        ).scalar_one()
        for name in ORDER:
            if name not in new:
                continue
            frame = new[name]
            mode = modes[name]
            table = TABLES[name]
            if mode == "append" and name in ID_FIELDS:
                ids = {r[0] for r in conn.execute(sa.select(table.c[ID_FIELDS[name]]))}
                frame = _reject_stored_ids(name, frame, ids, report, paths[name].name)
                _recount_import(report, name, frame)
            if name == "incidents":
                existing = store.identities(conn, app_only=mode == "replace")  # app records stay
                identities, same = _identities(frame, existing)
                frame = frame.assign(identity=identities)
                generated = frame["id_generated"].to_numpy(dtype=bool)
                if generated.any():
                    ids = frame["incident_id"].to_numpy(dtype=object, copy=True)  # pandas may give a read-only view
                    ids[generated] = [f"i{import_id}:{i}" for i in ids[generated]]
                    frame["incident_id"] = pd.array(ids, dtype="string")
                if same:
                    report.add(
                        "duplicate_content",
                        name,
                        paths[name].name,
                        f"{same:,} records without ids of their own are equal in every field to records already "
                        "stored; they were imported as records of their own (is this file imported twice?)",
                        value=same,
                    )
            previous_problems, previous_counts = store.get_part(conn, name)
            if mode == "replace":
                outcome.removed[name] = store.delete_imported(conn, name)
            if name == "events":
                outcome.added[name] = _insert_events(conn, frame, import_id)
            else:
                outcome.added[name] = store.insert(
                    conn, name, frame, import_id, progress=progress(f"writing {name}", len(frame))
                )
            problems = [p for p in report.problems if p.input == name]
            if mode == "append":
                problems = previous_problems + problems
            store.set_part(
                conn, name, problems, _counts(conn, name, previous_counts, report.counts.get(name, {}), mode)
            )
        if "sections" in new:
            outcome.rejoined = _rejoin(conn, sections, progress)
            for name in ("incidents", "concerns"):
                if name not in new:
                    _recount(conn, name)
        for name in ORDER:  # after their last change: each changed table's image of its new revision
            if name not in store.KINDS:
                continue
            if name in new or (name in ("incidents", "concerns") and "sections" in new):
                store.write_image(conn, name)
        conn.execute(
            db.IMPORTS.update()
            .where(db.IMPORTS.c.import_id == import_id)
            .values(
                finished_at=dt.datetime.now(dt.UTC),
                report={"problems": [asdict(p) for p in report.problems], "counts": report.counts},
            )
        )
    outcome.import_id = import_id
    return outcome
