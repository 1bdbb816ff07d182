"""password-reset codes belong to the chat that asked for them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 02:00:00

A reset code asked for from one chat can be used only from that chat, and asking for
a new one retires only that chat's earlier code: a stranger asking for codes for
someone's address can neither replace nor use up the owner's code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("verification_codes") as batch:
        batch.add_column(sa.Column("requester", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verification_codes") as batch:
        batch.drop_column("requester")
