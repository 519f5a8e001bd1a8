"""The deployment's database: which one, how to connect, its schema and its migrations.

One schema, two engines, through SQLAlchemy Core:

* **embedded** (the default): an SQLite file, ``dashboard-db/dashboard.sqlite3`` in the deployment's data
  folder (:attr:`geo.settings.Settings.data_dir`), a folder the project owns. It runs in WAL mode (readers
  never wait for the writer, and a killed process loses nothing committed), which needs a local disk: never
  put it on a network share. ``synchronous=FULL``: a commit is on disk when it returns.
* **shared**: PostgreSQL 15+ with PostGIS 3, named by ``DASHBOARD_DATABASE_URL`` (``[database] url``),
  ``postgresql+psycopg://user:password@host:5432/name``. Each process keeps a pool of
  ``DASHBOARD_DATABASE_POOL_SIZE`` connections (default 5) and opens as many again during a burst, so a
  server needs ``replicas × 2 × pool size`` of PostgreSQL's ``max_connections`` (100 by default).
  Sections' boundaries and the incidents' and concerns' points are PostGIS geometries (EPSG:4326), so
  an analyst can open the tables in QGIS; the points are computed by the database from ``lon``/``lat``.

The tables (:data:`METADATA`) hold the loaded data as :mod:`geo.loader` gives it, already validated and
joined, plus what the database adds to each record: ``rid`` (the record's number in this database),
``import_id`` (the import that brought it, ``NULL`` for a record made in the app), ``origin``
(``import`` or ``app``: no import ever replaces or removes an ``app`` record). ``imports`` records
each import (when, who, which files with their hashes, the report); ``revisions`` holds, per table, a
token that changes with every write to it and the table's part of the report; ``images`` (embedded
database) each table's records as one Arrow stream of the revision it was made at, which a load reads in
one piece instead of row by row.

What meetings record in the app (schema 0004, :mod:`geo.meetings`): ``actions``, ``attendance`` and the
history, ``events`` (append-only: triggers refuse UPDATE and DELETE but for the redaction path, which holds a
ticket in ``redaction_tickets`` inside its transaction); ``idempotency`` (a save's key and its result) and
``drafts`` (what a user typed and has not saved); concerns, meetings and actions carry a ``version`` (optimistic
concurrency) and ``retracted`` (the reason, for a record retracted: kept, read by no page).

Sign-in's tables (:mod:`geo.users`): ``users``, ``user_roles``, ``user_committees``, and the append-only
``audit_log`` with its ``audit_retention`` (migration 0003's triggers refuse every UPDATE of ``audit_log``
and every DELETE of a record not older than ``audit_retention.purge_before``; on PostgreSQL a TRUNCATE too).
The triggers bind whoever connects, the app included; the owner of the tables can still drop them, so a
deployment that wants more migrates as another PostgreSQL role, so that the app's role owns nothing (and
cannot drop a trigger), and grants it ``SELECT, INSERT, DELETE`` on ``audit_log`` (the triggers still decide
which rows) and ``SELECT, UPDATE`` on ``audit_retention``.

The schema is made and migrated by Alembic (``geo/migrations``; :func:`upgrade`), never by
``create_all``; a test keeps :data:`METADATA` equal to what the migrations make.
"""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from geo import settings as config

#: The folder of the embedded database, inside the deployment's data folder.
SUBDIR = "dashboard-db"
FILENAME = "dashboard.sqlite3"
#: The tables of the data, in the order they are loaded (the ``revisions`` rows).
DATA_TABLES = ("sections", "incidents", "concerns", "committees", "meetings", "surveys")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Geometry(sa.types.UserDefinedType):
    """A PostGIS geometry column in EPSG:4326. :mod:`geo.store` writes it as EWKB and reads it with
    ``ST_AsBinary``; on SQLite the same column holds WKB bytes."""

    cache_ok = True

    def __init__(self, kind: str = "GEOMETRY") -> None:
        self.kind = kind

    def get_col_spec(self, **kw) -> str:
        return f"geometry({self.kind}, 4326)"


#: WKB bytes on SQLite, a PostGIS geometry on PostgreSQL.
GEOMETRY = sa.LargeBinary().with_variant(Geometry(), "postgresql")
#: Lists (officers, villages, a committee's sections) as JSON arrays.
LIST = sa.JSON()
#: A moment or a day, always naive local time in Kosovo (as the loader gives them).
WHEN = sa.DateTime()

METADATA = sa.MetaData()


def _kept_columns() -> list[sa.Column]:
    """What a record the meeting page edits carries (schema 0004): its ``version`` (1 when made, one more
    with every change: optimistic concurrency) and ``retracted`` (``NULL``, or the reason it was retracted:
    a retracted record stays in the table and in the history, and is read by no page)."""
    return [
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("retracted", sa.Text),
    ]


def _record_columns() -> list[sa.Column]:
    """What every data table's record carries besides its data."""
    return [
        sa.Column("rid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.import_id"), nullable=True, index=True),
        sa.Column("origin", sa.Text, nullable=False, server_default="import"),
    ]


IMPORTS = sa.Table(
    "imports",
    METADATA,
    sa.Column("import_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("os_user", sa.Text, nullable=False),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("files", sa.JSON, nullable=False),  # [{input, mode, name, path, bytes, sha256}]
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("report", sa.JSON, nullable=False),  # {"problems": [...], "counts": {...}}
)

REVISIONS = sa.Table(
    "revisions",
    METADATA,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("revision", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("report", sa.JSON, nullable=False),  # the table's part: {"problems": [...], "counts": {...}}
)

#: Each table's columnar image (:func:`geo.store.write_image`): its stored columns as one Arrow stream, valid
#: while ``revision`` is the table's revision.
IMAGES = sa.Table(
    "images",
    METADATA,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("revision", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

SECTIONS = sa.Table(
    "sections",
    METADATA,
    *_record_columns(),
    sa.Column("section_id", sa.Text, nullable=False, unique=True),
    sa.Column("section_name", sa.Text),
    sa.Column("municipality", sa.Text),
    sa.Column("municipality_raw", sa.Text),
    sa.Column("region", sa.Text),
    sa.Column("station", sa.Text),
    sa.Column("population", sa.BigInteger),
    sa.Column("officers", LIST),
    sa.Column("officers_public", sa.Boolean),
    sa.Column("villages", LIST),
    sa.Column("row", sa.BigInteger),
    sa.Column("geometry", GEOMETRY),
)

INCIDENTS = sa.Table(
    "incidents",
    METADATA,
    *_record_columns(),
    sa.Column("incident_id", sa.Text, nullable=False),
    #: the id was made by the loader (the file gave none): ``incident_id`` is then namespaced by the import
    sa.Column("id_generated", sa.Boolean, nullable=False),
    #: the record's identity for the public perturbation (:func:`geo.public.incident_identities`)
    sa.Column("identity", sa.LargeBinary),  # NULL: the one its id gives (geo.store._derived_identity)
    sa.Column("occurred_at", WHEN),
    sa.Column("category", sa.Text),
    sa.Column("category_raw", sa.Text),
    sa.Column("count", sa.BigInteger),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("section_id", sa.Text, index=True),
    sa.Column("row", sa.BigInteger),
)

CONCERNS = sa.Table(
    "concerns",
    METADATA,
    *_record_columns(),
    sa.Column("concern_id", sa.Text, nullable=False),
    sa.Column("raised_on", WHEN),
    sa.Column("category", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("description_public", sa.Boolean),
    sa.Column("source", sa.Text),
    sa.Column("meeting_id", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("resolved_on", WHEN),
    sa.Column("action_taken", sa.Text),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("section_id", sa.Text, index=True),
    sa.Column("row", sa.BigInteger),
    *_kept_columns(),
)

COMMITTEES = sa.Table(
    "committees",
    METADATA,
    *_record_columns(),
    sa.Column("committee_id", sa.Text, nullable=False),
    sa.Column("type", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("municipality", sa.Text),
    sa.Column("sections", LIST),
    sa.Column("established_on", WHEN),
    sa.Column("active", sa.Boolean),
    sa.Column("members", sa.BigInteger),
    sa.Column("row", sa.BigInteger),
)

MEETINGS = sa.Table(
    "meetings",
    METADATA,
    *_record_columns(),
    sa.Column("meeting_id", sa.Text, nullable=False),
    sa.Column("committee_id", sa.Text),
    sa.Column("held_on", WHEN),
    sa.Column("attendance", sa.BigInteger),
    sa.Column("concerns_raised", sa.BigInteger),
    sa.Column("row", sa.BigInteger),
    *_kept_columns(),
    sa.Column("closed_at", WHEN),  # when the meeting was closed (its minutes final); NULL while open
)

SURVEYS = sa.Table(
    "surveys",
    METADATA,
    *_record_columns(),
    sa.Column("area", sa.Text),
    sa.Column("area_kind", sa.Text),
    sa.Column("area_name", sa.Text),
    sa.Column("period", sa.Text),
    sa.Column("period_start", WHEN),
    sa.Column("period_end", WHEN),
    sa.Column("trust_pct", sa.Float),
    sa.Column("satisfaction_pct", sa.Float),
    sa.Column("respondents", sa.BigInteger),
    sa.Column("row", sa.BigInteger),
)

# ---------------------------------------------------------------- what meetings record (schema 0004)

#: Attendance groups (:data:`geo.schema.ATTENDANCE_GROUPS`), as columns.
_GROUPS = (
    "women",
    "men",
    "albanian",
    "serb",
    "turkish",
    "bosniak",
    "roma",
    "ashkali",
    "egyptian",
    "gorani",
    "montenegrin",
    "croat",
    "other_community",
)

ACTIONS = sa.Table(
    "actions",
    METADATA,
    *_record_columns(),
    sa.Column("action_id", sa.Text, nullable=False, unique=True),
    sa.Column("concern_id", sa.Text, index=True),
    sa.Column("meeting_id", sa.Text),
    sa.Column("what", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("due_on", WHEN),
    sa.Column("done_on", WHEN),
    sa.Column("row", sa.BigInteger),
    *_kept_columns(),
)

ATTENDANCE = sa.Table(
    "attendance",
    METADATA,
    *_record_columns(),
    sa.Column("meeting_id", sa.Text, nullable=False, unique=True),
    sa.Column("total", sa.BigInteger),
    *(sa.Column(g, sa.BigInteger) for g in _GROUPS),
    sa.Column("row", sa.BigInteger),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)

#: The history: append-only (triggers refuse UPDATE and DELETE; the one exception is the redaction path,
#: :func:`geo.meetings.redact`, which may blank texts of a record's earlier events while a ticket of its
#: ``redacted`` event is in ``redaction_tickets``, inside its own transaction).
EVENTS = sa.Table(
    "events",
    METADATA,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Text, nullable=False, unique=True),
    sa.Column("at", WHEN, nullable=False),  # local time in Kosovo
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("record_kind", sa.Text, nullable=False),
    sa.Column("record_id", sa.Text, nullable=False),
    sa.Column("change", sa.Text, nullable=False),
    sa.Column("before", sa.Text),  # JSON object of the changed fields, or NULL
    sa.Column("after", sa.Text),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.import_id"), nullable=True),
    sa.Column("origin", sa.Text, nullable=False, server_default="app"),
    sa.Index("events_record", "record_kind", "record_id"),
)

REDACTION_TICKETS = sa.Table(
    "redaction_tickets",
    METADATA,
    sa.Column("event_seq", sa.Integer, sa.ForeignKey("events.seq"), primary_key=True),
)

#: A save's idempotency key and what it returned: the same key again returns that and writes nothing.
IDEMPOTENCY = sa.Table(
    "idempotency",
    METADATA,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("operation", sa.Text, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

#: What a user typed in a form and has not saved yet, per user and form key.
DRAFTS = sa.Table(
    "drafts",
    METADATA,
    sa.Column("actor", sa.Text, primary_key=True),
    sa.Column("form_key", sa.Text, primary_key=True),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

#: The tables of what meetings record that have a revision (``revisions`` rows) beside the data tables.
RECORD_TABLES = ("actions", "attendance", "events")
#: Every table with a revision.
REVISED_TABLES = DATA_TABLES + RECORD_TABLES

# ---------------------------------------------------------------- who may see what, and what they did (geo.users)

#: The dashboard's users (sign-in): the e-mail address the provider gives, lowercased.
USERS = sa.Table(
    "users",
    METADATA,
    sa.Column("email", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("last_activity", sa.DateTime(timezone=True)),
)

USER_ROLES = sa.Table(
    "user_roles",
    METADATA,
    sa.Column("email", sa.Text, sa.ForeignKey("users.email"), primary_key=True),
    sa.Column("role", sa.Text, primary_key=True),
    sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("granted_by", sa.Text, nullable=False),
)

#: The committees a secretary is assigned to (``committee_id`` of the committees' data, not a foreign key:
#: an assignment may come before the committees' import).
USER_COMMITTEES = sa.Table(
    "user_committees",
    METADATA,
    sa.Column("email", sa.Text, sa.ForeignKey("users.email"), primary_key=True),
    sa.Column("committee_id", sa.Text, primary_key=True),
)

#: The audit log, append-only: triggers of migration 0003 refuse every UPDATE, and every DELETE of a record
#: not older than ``audit_retention.purge_before`` (which only the retention path, :func:`geo.users.purge`,
#: moves). ``at`` is UTC; ``roles`` the actor's roles then (comma-separated); ``detail`` a JSON object as text.
AUDIT_LOG = sa.Table(
    "audit_log",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("roles", sa.Text, nullable=False, server_default=""),
    sa.Column("address", sa.Text),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sqlite_autoincrement=True,  # ids are never reused, also after a purge removed the newest records
)

#: One row (``id`` 1): audit records older than ``purge_before`` may be deleted (``NULL``: none may).
AUDIT_RETENTION = sa.Table(
    "audit_retention",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("purge_before", sa.DateTime(timezone=True)),
    sa.CheckConstraint("id = 1", name="audit_retention_one_row"),
)

#: The data tables by name.
TABLES: dict[str, sa.Table] = {t.name: t for t in (SECTIONS, INCIDENTS, CONCERNS, COMMITTEES, MEETINGS, SURVEYS)}
#: The tables of what meetings record, by name.
RECORDS: dict[str, sa.Table] = {t.name: t for t in (ACTIONS, ATTENDANCE, EVENTS)}
#: Columns the database adds to a record (not part of the loaded frames).
RECORD_COLUMNS = ("rid", "import_id", "origin")


# ---------------------------------------------------------------- which database, and connecting


def embedded_path(settings: config.Settings | None = None) -> Path:
    """The embedded database's file: ``dashboard-db/dashboard.sqlite3`` in the deployment's data folder."""
    settings = settings if settings is not None else config.Settings.load()
    return settings.data_dir / SUBDIR / FILENAME


def url_of(settings: config.Settings | None = None) -> URL:
    """The deployment's database URL: ``DASHBOARD_DATABASE_URL``, else the embedded SQLite file.

    Raises ``ValueError`` naming the setting for a URL that is not SQLite or PostgreSQL (with psycopg)."""
    settings = settings if settings is not None else config.Settings.load()
    raw = settings.database_url
    if not raw:
        return URL.create("sqlite", database=str(embedded_path(settings)))
    try:
        url = make_url(raw)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's own errors name the URL, which may hold a password
        raise ValueError(f"DASHBOARD_DATABASE_URL is not a database URL ({type(exc).__name__})") from None
    if url.get_backend_name() == "postgresql":
        if url.get_driver_name() not in ("psycopg", ""):
            raise ValueError("DASHBOARD_DATABASE_URL: use the psycopg 3 driver, postgresql+psycopg://…")
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return url
    raise ValueError(
        f"DASHBOARD_DATABASE_URL: {url.get_backend_name()!r} is not supported; "
        "use postgresql+psycopg://user:password@host:5432/name or sqlite:////path/to/file.sqlite3"
    )


def describe(url: URL) -> str:
    """The URL as it may be shown: the password hidden."""
    return url.render_as_string(hide_password=True)


def _sqlite_connect(dbapi_connection, _record) -> None:
    # let SQLAlchemy's "begin" event start transactions (pysqlite's own handling defers BEGIN)
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA busy_timeout = 30000")
    mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        cur.close()
        raise OSError(f"the embedded database could not use WAL mode (journal mode {mode!r}): is it on a local disk?")
    cur.execute("PRAGMA synchronous = FULL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def _sqlite_begin(conn) -> None:
    # writers take the write lock at once (BEGIN IMMEDIATE): two writers then queue rather than deadlock
    how = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {how}")


@functools.cache
def _engine(url_text: str, pool_size: int) -> Engine:
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, pool_pre_ping=False)
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # a restarted PostgreSQL is noticed on the next use, not as an error
        pool_recycle=3600,
        connect_args={"connect_timeout": 10, "application_name": "community-policing-dashboard"},
    )


def engine(settings: config.Settings | None = None, url: URL | str | None = None) -> Engine:
    """The engine of the deployment's database (or of ``url``): one per URL and process, with its pool."""
    settings = settings if settings is not None else config.Settings.load()
    url = make_url(url) if url is not None else url_of(settings)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return _engine(url.render_as_string(hide_password=False), settings.database_pool_size)


def is_postgres(eng: Engine) -> bool:
    return eng.dialect.name == "postgresql"


def write(eng: Engine):
    """A connection for one writing transaction: ``with write(eng) as conn: …`` commits at the end, or
    rolls back everything on an exception (on SQLite it holds the write lock from the start)."""
    return eng.execution_options(write=True).begin()


# ---------------------------------------------------------------- the schema's version


def _alembic_config(eng: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = eng
    return cfg


def head() -> str:
    """The newest schema version the code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current(eng: Engine) -> str | None:
    """The database's schema version, ``None`` for a database without the schema."""
    from alembic.runtime.migration import MigrationContext

    with eng.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(eng: Engine) -> tuple[str | None, str]:
    """Create or migrate the schema to :func:`head`; returns (version before, version after)."""
    from alembic import command

    before = current(eng)
    command.upgrade(_alembic_config(eng), "head")
    return before, current(eng) or ""


def ready(eng: Engine) -> bool:
    """Whether the database has the schema of this code (no migration waiting)."""
    try:
        return current(eng) == head()
    except sa.exc.OperationalError:
        return False
