"""The first schema: imports, revisions and the six data tables (PostGIS geometries on PostgreSQL).

Revision ID: 0001
Revises:
Created: 2026-12-01
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DATA_TABLES = ("sections", "incidents", "concerns", "committees", "meetings", "surveys")


class Geometry(sa.types.UserDefinedType):
    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "geometry(GEOMETRY, 4326)"


def _record() -> list:
    return [
        sa.Column("rid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.import_id"), nullable=True, index=True),
        sa.Column("origin", sa.Text, nullable=False, server_default="import"),
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "imports",
        sa.Column("import_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("os_user", sa.Text, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
    )
    revisions = op.create_table(
        "revisions",
        sa.Column("table_name", sa.Text, primary_key=True),
        sa.Column("revision", sa.Text, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
    )
    op.create_table(
        "sections",
        *_record(),
        sa.Column("section_id", sa.Text, nullable=False, unique=True),
        sa.Column("section_name", sa.Text),
        sa.Column("municipality", sa.Text),
        sa.Column("municipality_raw", sa.Text),
        sa.Column("region", sa.Text),
        sa.Column("station", sa.Text),
        sa.Column("population", sa.BigInteger),
        sa.Column("officers", sa.JSON),
        sa.Column("officers_public", sa.Boolean),
        sa.Column("villages", sa.JSON),
        sa.Column("row", sa.BigInteger),
        sa.Column("geometry", Geometry() if postgres else sa.LargeBinary()),
    )
    op.create_table(
        "incidents",
        *_record(),
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("id_generated", sa.Boolean, nullable=False),
        sa.Column("identity", sa.LargeBinary),
        sa.Column("occurred_at", sa.DateTime),
        sa.Column("category", sa.Text),
        sa.Column("category_raw", sa.Text),
        sa.Column("count", sa.BigInteger),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("section_id", sa.Text, index=True),
        sa.Column("row", sa.BigInteger),
    )
    op.create_table(
        "concerns",
        *_record(),
        sa.Column("concern_id", sa.Text, nullable=False),
        sa.Column("raised_on", sa.DateTime),
        sa.Column("category", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("description_public", sa.Boolean),
        sa.Column("source", sa.Text),
        sa.Column("meeting_id", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("resolved_on", sa.DateTime),
        sa.Column("action_taken", sa.Text),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("section_id", sa.Text, index=True),
        sa.Column("row", sa.BigInteger),
    )
    op.create_table(
        "committees",
        *_record(),
        sa.Column("committee_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("municipality", sa.Text),
        sa.Column("sections", sa.JSON),
        sa.Column("established_on", sa.DateTime),
        sa.Column("active", sa.Boolean),
        sa.Column("members", sa.BigInteger),
        sa.Column("row", sa.BigInteger),
    )
    op.create_table(
        "meetings",
        *_record(),
        sa.Column("meeting_id", sa.Text, nullable=False),
        sa.Column("committee_id", sa.Text),
        sa.Column("held_on", sa.DateTime),
        sa.Column("attendance", sa.BigInteger),
        sa.Column("concerns_raised", sa.BigInteger),
        sa.Column("row", sa.BigInteger),
    )
    op.create_table(
        "surveys",
        *_record(),
        sa.Column("area", sa.Text),
        sa.Column("area_kind", sa.Text),
        sa.Column("area_name", sa.Text),
        sa.Column("period", sa.Text),
        sa.Column("period_start", sa.DateTime),
        sa.Column("period_end", sa.DateTime),
        sa.Column("trust_pct", sa.Float),
        sa.Column("satisfaction_pct", sa.Float),
        sa.Column("respondents", sa.BigInteger),
        sa.Column("row", sa.BigInteger),
    )
    if postgres:
        op.execute("CREATE INDEX sections_geometry_gist ON sections USING gist (geometry)")
        for table in ("incidents", "concerns"):  # points for QGIS, always those of lon/lat
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4326) GENERATED ALWAYS AS "
                "(CASE WHEN lon IS NOT NULL AND lat IS NOT NULL THEN ST_SetSRID(ST_MakePoint(lon, lat), 4326) END)"
                " STORED"
            )
            op.execute(f"CREATE INDEX {table}_geom_gist ON {table} USING gist (geom)")
    now = dt.datetime.now(dt.UTC)
    op.bulk_insert(
        revisions,
        [
            {"table_name": t, "revision": "empty", "changed_at": now, "report": {"problems": [], "counts": {}}}
            for t in DATA_TABLES
        ],
    )
