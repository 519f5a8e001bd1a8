"""Each table's columnar image: its records as one Arrow stream, tagged with the table's revision.

Revision ID: 0002
Revises: 0001
Created: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("table_name", sa.Text, primary_key=True),
        sa.Column("revision", sa.Text, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
