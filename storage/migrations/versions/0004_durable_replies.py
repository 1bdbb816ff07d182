"""durable replies: the unsent reply of a committed update, on its conversation row

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("reply", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("reply_update_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("reply_at", storage.types.UTCDateTime(), nullable=True))
    op.create_index(
        "ix_conversations_reply_at",
        "conversations",
        ["reply_at"],
        unique=False,
        sqlite_where=sa.text("reply_at IS NOT NULL"),
        postgresql_where=sa.text("reply_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_reply_at", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("reply_at")
        batch.drop_column("reply_update_id")
        batch.drop_column("reply")
