"""Sign-in and the audit log: users, their roles and committees, the append-only audit log and its retention.

The audit log is append-only in the database itself: triggers refuse every UPDATE of ``audit_log`` and every
DELETE of a record that is not older than ``audit_retention.purge_before`` (``NULL``: none), which only the
retention path (:func:`geo.users.purge`) moves, in the transaction that deletes and records the purge. On
PostgreSQL a TRUNCATE (which skips row triggers) is refused too.

Revision ID: 0003
Revises: 0002
Created: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

REFUSED = "audit_log is append-only; records are removed only by the retention (python -m geo users purge)"

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
    f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT coalesce(OLD.at < (SELECT purge_before FROM audit_retention WHERE id = 1), 0)
BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
    """CREATE TRIGGER audit_retention_kept BEFORE DELETE ON audit_retention
BEGIN SELECT RAISE(ABORT, 'audit_retention keeps its row'); END""",
)

POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.at < (SELECT purge_before FROM audit_retention WHERE id = 1) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION '{REFUSED}' USING ERRCODE = 'integrity_constraint_violation';
END
$body$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE FUNCTION audit_retention_kept() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    RAISE EXCEPTION 'audit_retention keeps its row' USING ERRCODE = 'integrity_constraint_violation';
END
$body$""",
    """CREATE TRIGGER audit_retention_kept BEFORE DELETE OR TRUNCATE ON audit_retention
FOR EACH STATEMENT EXECUTE FUNCTION audit_retention_kept()""",
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "users",
        sa.Column("email", sa.Text, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("last_activity", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "user_roles",
        sa.Column("email", sa.Text, sa.ForeignKey("users.email"), primary_key=True),
        sa.Column("role", sa.Text, primary_key=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.Text, nullable=False),
    )
    op.create_table(
        "user_committees",
        sa.Column("email", sa.Text, sa.ForeignKey("users.email"), primary_key=True),
        sa.Column("committee_id", sa.Text, primary_key=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("roles", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    retention = op.create_table(
        "audit_retention",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("purge_before", sa.DateTime(timezone=True)),
        sa.CheckConstraint("id = 1", name="audit_retention_one_row"),
    )
    op.bulk_insert(retention, [{"id": 1, "purge_before": None}])
    for ddl in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(ddl)
