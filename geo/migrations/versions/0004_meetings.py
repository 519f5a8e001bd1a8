"""What meetings record: actions, attendance, the append-only history (events), idempotency keys, drafts, and a
version per concern, action and meeting (optimistic concurrency).

The history refuses UPDATE and DELETE by triggers on both engines. The one exception is the redaction path
(:func:`geo.meetings.redact`): inside its transaction it first adds a ``redacted`` event and a ticket of it in
``redaction_tickets``; while the ticket is there, earlier events of the same record may have their
``before``/``after`` texts changed (and nothing else); then it removes the ticket. A plain UPDATE or DELETE
through the app's connection fails.

Revision ID: 0004
Revises: 0003
Created: 2026-12-01
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GROUPS = (
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
RECORD_TABLES = ("actions", "attendance", "events")
REFUSED = "events are append-only: only the redaction path may blank a text"

#: The condition under which an UPDATE of an event is allowed (``OLD``/``NEW`` as both engines name them).
_ALLOWED = (
    "EXISTS (SELECT 1 FROM redaction_tickets t JOIN events e ON e.seq = t.event_seq "
    "WHERE e.change = 'redacted' AND e.record_kind = OLD.record_kind AND e.record_id = OLD.record_id "
    "AND e.seq > OLD.seq) "
    "AND NEW.seq = OLD.seq AND NEW.event_id = OLD.event_id AND NEW.at = OLD.at AND NEW.actor = OLD.actor "
    "AND NEW.record_kind = OLD.record_kind AND NEW.record_id = OLD.record_id AND NEW.change = OLD.change "
    "AND NEW.origin = OLD.origin AND {same_import}"
)


def _kept() -> list:
    return [
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("retracted", sa.Text),
    ]


def _record() -> list:
    return [
        sa.Column("rid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.import_id"), nullable=True, index=True),
        sa.Column("origin", sa.Text, nullable=False, server_default="import"),
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("concerns", "meetings"):
        with op.batch_alter_table(table) as batch:
            for column in _kept():
                batch.add_column(column)
            if table == "meetings":
                batch.add_column(sa.Column("closed_at", sa.DateTime))
    op.create_table(
        "actions",
        *_record(),
        sa.Column("action_id", sa.Text, nullable=False, unique=True),
        sa.Column("concern_id", sa.Text, index=True),
        sa.Column("meeting_id", sa.Text),
        sa.Column("what", sa.Text),
        sa.Column("owner", sa.Text),
        sa.Column("due_on", sa.DateTime),
        sa.Column("done_on", sa.DateTime),
        sa.Column("row", sa.BigInteger),
        *_kept(),
    )
    op.create_table(
        "attendance",
        *_record(),
        sa.Column("meeting_id", sa.Text, nullable=False, unique=True),
        sa.Column("total", sa.BigInteger),
        *(sa.Column(g, sa.BigInteger) for g in GROUPS),
        sa.Column("row", sa.BigInteger),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Text, nullable=False, unique=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("record_kind", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("change", sa.Text, nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.import_id"), nullable=True),
        sa.Column("origin", sa.Text, nullable=False, server_default="app"),
    )
    op.create_index("events_record", "events", ["record_kind", "record_id"])
    op.create_table(
        "redaction_tickets",
        sa.Column("event_seq", sa.Integer, sa.ForeignKey("events.seq"), primary_key=True),
    )
    op.create_table(
        "idempotency",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "drafts",
        sa.Column("actor", sa.Text, primary_key=True),
        sa.Column("form_key", sa.Text, primary_key=True),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    if postgres:
        allowed = _ALLOWED.format(same_import="NEW.import_id IS NOT DISTINCT FROM OLD.import_id")
        op.execute(
            f"""
            CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND ({allowed}) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{REFUSED}' USING ERRCODE = 'insufficient_privilege';
            END
            $$"""
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()"
        )
    else:
        allowed = _ALLOWED.format(same_import="NEW.import_id IS OLD.import_id")
        op.execute(
            f"CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
        op.execute(
            f"CREATE TRIGGER events_no_update BEFORE UPDATE ON events WHEN NOT ({allowed}) "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
    revisions = sa.table(
        "revisions",
        sa.column("table_name", sa.Text),
        sa.column("revision", sa.Text),
        sa.column("changed_at", sa.DateTime(timezone=True)),
        sa.column("report", sa.JSON),
    )
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        revisions,
        [
            {"table_name": t, "revision": "empty", "changed_at": now, "report": {"problems": [], "counts": {}}}
            for t in RECORD_TABLES
        ],
    )
