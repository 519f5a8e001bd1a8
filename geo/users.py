"""The dashboard's users, their roles and committees, and the audit log: the database side of sign-in.

Who signs in is the identity provider's business (``st.login``); what they may see is the database's: the
``users``, ``user_roles`` and ``user_committees`` tables (:mod:`geo.db`). A user is known by the e-mail
address the provider gives, lowercased. Every change of a user (:func:`first_sign_in`, :func:`grant`,
:func:`revoke`, :func:`set_disabled`, :func:`set_committees`) writes exactly one audit record in the same
transaction as the change: a change whose record cannot be written is not made.

The audit log (``audit_log``) is append-only in the database: triggers refuse every UPDATE, and every DELETE
of a record not older than ``audit_retention.purge_before``, which only :func:`purge` moves (and records).
:func:`record` writes one record and commits it before it returns, so a caller may send the restricted
content only after it returned; any failure of the database is an :class:`AuditError`, and the caller then
refuses the action. Times are UTC and timezone-aware.

The command line (:mod:`geo.usercli`) acts as the operating-system user, :func:`os_actor`.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import json
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from geo import db
from geo.access import ROLES

#: What the audit log records.
ACTIONS = (
    "sign-in",
    "sign-out",
    "timeout",
    "view",
    "export",
    "brief",
    "map",
    "import",
    "upload",
    "role",
    "user",
    "audit-export",
    "refused",
    "purge",
    "minutes",
    "redaction",
)
#: The columns of :func:`entries`.
COLUMNS = ("id", "at", "actor", "roles", "address", "action", "detail")
#: A cell of a CSV file starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class AuditError(Exception):
    """The audit record could not be written: the action it records must be refused."""


class UnknownUser(LookupError):
    """The database knows no user of that e-mail address."""


@dataclass(frozen=True)
class User:
    """A user as the database knows them."""

    email: str
    name: str | None
    roles: frozenset[str]
    committees: frozenset[str]
    disabled: bool
    created_at: dt.datetime
    last_activity: dt.datetime | None


# ---------------------------------------------------------------- checks


def normal_email(email: str) -> str:
    """``email`` stripped and lowercased; ``ValueError`` naming it when it is not an e-mail address."""
    text = str(email or "").strip().lower()
    if not _EMAIL.fullmatch(text) or len(text) > 254 or any(ord(c) < 32 for c in text):
        raise ValueError(f"{email!r} is not an e-mail address (name@domain)")
    return text


def check_role(role: str) -> str:
    """``role`` when it is one of :data:`ROLES`; ``ValueError`` naming it and the roles otherwise."""
    text = str(role or "").strip().lower()
    if text not in ROLES:
        raise ValueError(f"{role!r} is not a role; roles are {', '.join(ROLES)}")
    return text


def _actor(actor: str) -> str:
    text = str(actor or "").strip()
    if not text:
        raise ValueError("every change needs its actor (who made it)")
    return text


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time as an aware UTC datetime (a naive one is taken as UTC, as SQLite gives them back)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def os_actor() -> str:
    """``os:<user>@<host>``: the actor of the command line."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"os:{user}@{socket.gethostname()}"


# ---------------------------------------------------------------- reading users


def _users(conn: Connection, email: str | None = None) -> list[User]:
    u, r, c = db.USERS, db.USER_ROLES, db.USER_COMMITTEES
    query = (
        sa.select(u, r.c.role, c.c.committee_id)
        .select_from(u.outerjoin(r, r.c.email == u.c.email).outerjoin(c, c.c.email == u.c.email))
        .order_by(u.c.email)
    )
    if email is not None:
        query = query.where(u.c.email == email)
    found: dict[str, dict] = {}
    for row in conn.execute(query).mappings():
        one = found.setdefault(row["email"], {**row, "roles": set(), "committees": set()})
        if row["role"] is not None:
            one["roles"].add(row["role"])
        if row["committee_id"] is not None:
            one["committees"].add(row["committee_id"])
    return [
        User(
            email=v["email"],
            name=v["name"],
            roles=frozenset(v["roles"]),
            committees=frozenset(v["committees"]),
            disabled=bool(v["disabled"]),
            created_at=_utc(v["created_at"]),
            last_activity=_utc(v["last_activity"]),
        )
        for v in found.values()
    ]


def get(eng: Engine, email: str) -> User | None:
    """The user of ``email`` (stripped, lowercased), ``None`` when the database does not know them. One query."""
    with eng.connect() as conn:
        found = _users(conn, str(email or "").strip().lower())
    return found[0] if found else None


def list_users(eng: Engine) -> list[User]:
    """Every user, by e-mail address."""
    with eng.connect() as conn:
        return _users(conn)


def _known(conn: Connection, email: str) -> User:
    found = _users(conn, email)
    if not found:
        raise UnknownUser(f"no user {email} in the database")
    return found[0]


# ---------------------------------------------------------------- changing users (each change audited)


def _insert_user(conn: Connection, email: str, name: str | None, actor: str, now: dt.datetime, active: bool) -> bool:
    """Insert the user unless they exist (whoever inserts first wins a race); whether this call inserted."""
    values = {
        "email": email,
        "name": (str(name).strip() or None) if name is not None else None,
        "disabled": False,
        "created_at": now,
        "created_by": actor,
        "last_activity": now if active else None,
    }
    if db.is_postgres(conn.engine):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    query = insert(db.USERS).values(**values).on_conflict_do_nothing(index_elements=["email"])
    return conn.execute(query.returning(db.USERS.c.email)).first() is not None


def first_sign_in(
    eng: Engine,
    email: str,
    name: str | None,
    roles: Iterable[str],
    actor: str,
    address: str | None = None,
) -> User:
    """Create the user of a first sign-in with ``roles`` (those the provider's claim maps to; may be none),
    audited as ``user``. Race-safe: two sessions of the same new user at once make one user and one record;
    a user who exists already is returned unchanged."""
    email = normal_email(email)
    wanted = sorted({check_role(r) for r in roles})
    actor = _actor(actor)
    now = _now()
    with db.write(eng) as conn:
        if _insert_user(conn, email, name, actor, now, active=True):
            for role in wanted:
                conn.execute(db.USER_ROLES.insert().values(email=email, role=role, granted_at=now, granted_by=actor))
            _write_record(
                conn, actor, "user", {"email": email, "change": "first sign-in", "roles": wanted}, address, wanted
            )
        return _known(conn, email)


def grant(
    eng: Engine, email: str, role: str, actor: str, address: str | None = None, *, actor_roles: Iterable[str] = ()
) -> User:
    """Give ``role`` to the user of ``email``, creating a user the database does not know; audited as
    ``role`` (one record, ``created`` in its detail for a new user). A role held already changes nothing
    and writes no record."""
    email, role, actor = normal_email(email), check_role(role), _actor(actor)
    now = _now()
    with db.write(eng) as conn:
        created = _insert_user(conn, email, None, actor, now, active=False)
        user = _known(conn, email)
        if role in user.roles:
            return user
        conn.execute(db.USER_ROLES.insert().values(email=email, role=role, granted_at=now, granted_by=actor))
        detail = {"email": email, "change": "grant", "role": role, **({"created": True} if created else {})}
        _write_record(conn, actor, "role", detail, address, actor_roles)
        return _known(conn, email)


def revoke(
    eng: Engine,
    email: str,
    role: str | None = None,
    actor: str = "",
    address: str | None = None,
    *,
    actor_roles: Iterable[str] = (),
) -> User:
    """Take ``role`` (``None``: every role) from the user of ``email``; audited as ``role``.
    :class:`UnknownUser` for an unknown user; a role not held changes nothing and writes no record."""
    email, actor = normal_email(email), _actor(actor)
    role = check_role(role) if role is not None else None
    with db.write(eng) as conn:
        user = _known(conn, email)
        gone = sorted(user.roles if role is None else user.roles & {role})
        if not gone:
            return user
        conn.execute(db.USER_ROLES.delete().where(db.USER_ROLES.c.email == email, db.USER_ROLES.c.role.in_(gone)))
        _write_record(conn, actor, "role", {"email": email, "change": "revoke", "roles": gone}, address, actor_roles)
        return _known(conn, email)


def set_disabled(
    eng: Engine,
    email: str,
    disabled: bool,
    actor: str,
    address: str | None = None,
    *,
    actor_roles: Iterable[str] = (),
) -> User:
    """Disable (or enable again) the user of ``email``: a disabled user has no access at their next rerun,
    whatever their roles. Audited as ``role``; :class:`UnknownUser` for an unknown user; no change, no record."""
    email, actor = normal_email(email), _actor(actor)
    with db.write(eng) as conn:
        user = _known(conn, email)
        if user.disabled == bool(disabled):
            return user
        conn.execute(db.USERS.update().where(db.USERS.c.email == email).values(disabled=bool(disabled)))
        change = "disable" if disabled else "enable"
        _write_record(conn, actor, "role", {"email": email, "change": change}, address, actor_roles)
        return _known(conn, email)


def set_committees(
    eng: Engine,
    email: str,
    committees: Iterable[str],
    actor: str,
    address: str | None = None,
    *,
    actor_roles: Iterable[str] = (),
) -> User:
    """Make ``committees`` (committee ids) the committees of the user of ``email``; audited as ``role``
    with the ids before and after. :class:`UnknownUser` for an unknown user; no change, no record."""
    email, actor = normal_email(email), _actor(actor)
    wanted = {str(c).strip() for c in committees}
    if "" in wanted:
        raise ValueError("a committee id is empty")
    with db.write(eng) as conn:
        user = _known(conn, email)
        if user.committees == wanted:
            return user
        c = db.USER_COMMITTEES
        conn.execute(c.delete().where(c.c.email == email))
        if wanted:
            conn.execute(c.insert(), [{"email": email, "committee_id": i} for i in sorted(wanted)])
        detail = {
            "email": email,
            "change": "committees",
            "before": sorted(user.committees),
            "after": sorted(wanted),
        }
        _write_record(conn, actor, "role", detail, address, actor_roles)
        return _known(conn, email)


def touch(eng: Engine, email: str, now: dt.datetime) -> None:
    """Note the user's last activity (not audited; callers throttle, e.g. once a minute)."""
    email = str(email or "").strip().lower()
    with db.write(eng) as conn:
        conn.execute(db.USERS.update().where(db.USERS.c.email == email).values(last_activity=_utc(now)))


def idle_expired(user: User, now: dt.datetime, minutes: float) -> bool:
    """Whether the user has been idle longer than ``minutes`` at ``now``. A user never active (made on the
    command line, not signed in yet) has nothing to time out: ``False``."""
    if not minutes > 0:
        raise ValueError(f"minutes must be positive; got {minutes!r}")
    if user.last_activity is None:
        return False
    return _utc(now) - user.last_activity > dt.timedelta(minutes=minutes)


# ---------------------------------------------------------------- the audit log


def _write_record(
    conn: Connection,
    actor: str,
    action: str,
    detail: Mapping,
    address: str | None,
    roles: Iterable[str],
) -> int:
    """Insert one audit record in the transaction of ``conn``; :class:`AuditError` when it cannot be."""
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not an audited action; actions are {', '.join(ACTIONS)}")
    if not isinstance(detail, Mapping):
        raise ValueError(f"an audit record's detail is a mapping; got {type(detail).__name__}")
    values = {
        "at": _now(),
        "actor": _actor(actor),
        "roles": ",".join(sorted({str(r) for r in roles})),
        "address": str(address) if address else None,
        "action": action,
        "detail": json.dumps(dict(detail), ensure_ascii=False, sort_keys=True, default=str),
    }
    try:
        return conn.execute(db.AUDIT_LOG.insert().values(**values).returning(db.AUDIT_LOG.c.id)).scalar_one()
    except sa.exc.SQLAlchemyError as exc:
        raise AuditError(f"the audit record could not be written: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def record(
    eng: Engine,
    actor: str,
    action: str,
    detail: Mapping,
    address: str | None = None,
    roles: Iterable[str] = (),
) -> int:
    """Write one audit record (``action`` one of :data:`ACTIONS`, ``detail`` a JSON-able mapping, ``roles``
    the actor's roles) and commit it; its id. :class:`AuditError` when it could not be written (then refuse
    the action); ``ValueError`` for an unknown action or an empty actor."""
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not an audited action; actions are {', '.join(ACTIONS)}")
    _actor(actor)
    try:
        with db.write(eng) as conn:
            return _write_record(conn, actor, action, detail, address, roles)
    except AuditError:
        raise
    except (sa.exc.SQLAlchemyError, OSError) as exc:  # connecting, committing (OSError: the WAL check)
        raise AuditError(f"the audit record could not be written: {_reason(exc)}") from exc


def _moment(value: dt.datetime | dt.date | None, end: bool = False) -> dt.datetime | None:
    """A bound of :func:`entries`: a day means its start (``end``: the next day's start) in UTC."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _utc(value)
    start = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    return start + dt.timedelta(days=1) if end else start


def entries(
    eng: Engine,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The audit records, newest first: columns :data:`COLUMNS` (``at`` UTC, ``detail`` the JSON text).

    ``since`` is inclusive, ``until`` exclusive for a moment and inclusive for a day (a date: the whole day,
    UTC); a naive moment is UTC. ``actor`` matches whole, ignoring case; ``action`` one of :data:`ACTIONS`;
    ``limit`` keeps the newest records."""
    a = db.AUDIT_LOG
    query = sa.select(*(a.c[name] for name in COLUMNS)).order_by(a.c.id.desc())
    if since is not None:
        query = query.where(a.c.at >= _moment(since))
    if until is not None:
        query = query.where(a.c.at < _moment(until, end=True))
    if actor:
        query = query.where(sa.func.lower(a.c.actor) == actor.strip().lower())
    if action:
        if action not in ACTIONS:
            raise ValueError(f"{action!r} is not an audited action; actions are {', '.join(ACTIONS)}")
        query = query.where(a.c.action == action)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be 1 or more; got {limit!r}")
        query = query.limit(limit)
    with eng.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["id"] = frame["id"].astype("int64")
    frame["at"] = pd.to_datetime([_utc(t) for t in frame["at"]], utc=True)
    for name in ("actor", "roles", "address", "action", "detail"):
        frame[name] = frame[name].astype(object)
    return frame


def _safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def entries_csv(frame: pd.DataFrame) -> bytes:
    """The records of :func:`entries` as CSV, UTF-8 with a byte-order mark (spreadsheets then read it as
    UTF-8), every text cell that a spreadsheet would take for a formula prefixed with a single quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_safe_cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, pd.Timestamp | dt.datetime):
                value = _utc(pd.Timestamp(value).to_pydatetime()).isoformat(timespec="seconds").replace("+00:00", "Z")
            elif value is None or (isinstance(value, float) and pd.isna(value)):
                value = ""
            cells.append(_safe_cell(value))
        writer.writerow(cells)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def purge(eng: Engine, keep_days: float, now: dt.datetime, actor: str) -> int:
    """Remove the audit records older than ``keep_days`` days before ``now`` (the retention,
    ``DASHBOARD_AUDIT_RETENTION_DAYS``): in one transaction it moves ``audit_retention.purge_before`` (the
    only bound the database's triggers let a DELETE pass), deletes, and records the purge (``purge``, with
    how many records went). The number of records removed."""
    if not keep_days > 0:
        raise ValueError(f"keep_days must be a positive number of days; got {keep_days!r}")
    actor = _actor(actor)
    before = _utc(now) - dt.timedelta(days=keep_days)
    with db.write(eng) as conn:
        conn.execute(db.AUDIT_RETENTION.update().where(db.AUDIT_RETENTION.c.id == 1).values(purge_before=before))
        removed = conn.execute(db.AUDIT_LOG.delete().where(db.AUDIT_LOG.c.at < before)).rowcount
        detail = {"keep_days": keep_days, "before": before.isoformat(timespec="seconds"), "removed": removed}
        _write_record(conn, actor, "purge", detail, None, ())
    return removed
