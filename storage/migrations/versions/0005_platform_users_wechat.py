"""platform users: external ids (WeChat OpenIDs) -> internal user numbers, WeChat state;
platform access tokens shared by processes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("action_kind", sa.String(length=16), nullable=True),
        sa.Column("action_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("action_update", sa.BigInteger(), nullable=True),
        sa.Column("custom_used", sa.Integer(), nullable=False),
        sa.Column("offers", sa.JSON(), nullable=True),
        sa.Column("offers_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_users")),
        sa.UniqueConstraint("platform", "external_id", name=op.f("uq_platform_users_platform")),
    )
    op.create_table(
        "platform_tokens",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("lease_until", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_platform_tokens")),
    )


def downgrade() -> None:
    op.drop_table("platform_tokens")
    op.drop_table("platform_users")
