"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:04:17.597466
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("email_verified_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
    )
    op.create_table(
        "exam_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("help_phone", sa.String(length=64), nullable=False),
        sa.Column("room_size", sa.Integer(), nullable=False),
        sa.Column("published_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("opens_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closes_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("print_written_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("print_oral_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_sessions")),
        sa.UniqueConstraint("code", name=op.f("uq_exam_sessions_code")),
    )
    op.create_table(
        "score_records",
        sa.Column("ticket_no", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("session_label", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("ticket_no", name=op.f("pk_score_records")),
    )
    op.create_table(
        "subjects",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("requires", sa.String(length=16), nullable=True),
        sa.CheckConstraint("kind IN ('written', 'oral')", name=op.f("ck_subjects_kind")),
        sa.CheckConstraint("level IN (4, 6)", name=op.f("ck_subjects_level")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_subjects")),
    )
    op.create_table(
        "verification_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_codes")),
    )
    with op.batch_alter_table("verification_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_codes_email"), ["email"], unique=False)

    op.create_table(
        "campuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("school", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("address_zh", sa.String(length=300), nullable=False),
        sa.Column("address_en", sa.String(length=300), nullable=False),
        sa.Column("pay_deadline", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_sessions.id"], name=op.f("fk_campuses_session_id_exam_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campuses")),
        sa.UniqueConstraint("session_id", "code", name=op.f("uq_campuses_session_id")),
    )
    op.create_table(
        "chat_bindings",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_user_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("bound_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_chat_bindings_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("platform", "chat_user_id", name=op.f("pk_chat_bindings")),
    )
    with op.batch_alter_table("chat_bindings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_bindings_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "session_subjects",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("fee_fen", sa.Integer(), nullable=False),
        sa.Column("exam_start", storage.types.UTCDateTime(), nullable=False),
        sa.Column("exam_end", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("fee_fen >= 0", name=op.f("ck_session_subjects_fee")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_sessions.id"],
            name=op.f("fk_session_subjects_session_id_exam_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_code"],
            ["subjects.code"],
            name=op.f("fk_session_subjects_subject_code_subjects"),
        ),
        sa.PrimaryKeyConstraint("session_id", "subject_code", name=op.f("pk_session_subjects")),
    )
    op.create_table(
        "student_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("id_type", sa.String(length=24), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("school", sa.String(length=200), nullable=False),
        sa.Column("campus_code", sa.String(length=32), nullable=False),
        sa.Column("student_no", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("has_photo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_sessions.id"],
            name=op.f("fk_student_records_session_id_exam_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_student_records")),
        sa.UniqueConstraint(
            "session_id", "id_type", "id_number", name=op.f("uq_student_records_session_id")
        ),
    )
    op.create_table(
        "campus_seats",
        sa.Column("campus_id", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_campus_seats_capacity")),
        sa.CheckConstraint("taken >= 0 AND taken <= capacity", name=op.f("ck_campus_seats_taken")),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_campus_seats_campus_id_campuses")
        ),
        sa.ForeignKeyConstraint(
            ["subject_code"], ["subjects.code"], name=op.f("fk_campus_seats_subject_code_subjects")
        ),
        sa.PrimaryKeyConstraint("campus_id", "subject_code", name=op.f("pk_campus_seats")),
    )
    op.create_table(
        "record_eligibility",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["student_records.id"],
            name=op.f("fk_record_eligibility_record_id_student_records"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_code"],
            ["subjects.code"],
            name=op.f("fk_record_eligibility_subject_code_subjects"),
        ),
        sa.PrimaryKeyConstraint("record_id", "subject_code", name=op.f("pk_record_eligibility")),
    )
    op.create_table(
        "record_photos",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["student_records.id"],
            name=op.f("fk_record_photos_record_id_student_records"),
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_record_photos")),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_registrations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["student_records.id"],
            name=op.f("fk_registrations_record_id_student_records"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_sessions.id"],
            name=op.f("fk_registrations_session_id_exam_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_registrations_active_account",
            ["session_id", "account_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.create_index(
            "uq_registrations_active_record",
            ["session_id", "record_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("ticket_no", sa.String(length=15), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('passed', 'not_reviewed', 'approved', 'rejected')",
            name=op.f("ck_reviews_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_reviews_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["student_records.id"], name=op.f("fk_reviews_record_id_student_records")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_sessions.id"], name=op.f("fk_reviews_session_id_exam_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_record_id"), ["record_id"], unique=False)

    op.create_table(
        "entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("campus_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("written_level", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("paper_report", sa.String(length=32), nullable=False),
        sa.Column("fee_fen", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("paid_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("ended_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "status IN ('unpaid', 'paid', 'cancelled', 'expired')", name=op.f("ck_entries_status")
        ),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_entries_campus_id_campuses")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_entries_registration_id_registrations"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_sessions.id"], name=op.f("fk_entries_session_id_exam_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["subject_code"], ["subjects.code"], name=op.f("fk_entries_subject_code_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entries")),
    )
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entries_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(
            "ix_entries_unpaid_expiry",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("status = 'unpaid'"),
            postgresql_where=sa.text("status = 'unpaid'"),
        )
        batch_op.create_index(
            "uq_entries_active_subject",
            ["registration_id", "subject_code"],
            unique=True,
            sqlite_where=sa.text("status IN ('unpaid', 'paid')"),
            postgresql_where=sa.text("status IN ('unpaid', 'paid')"),
        )
        batch_op.create_index(
            "uq_entries_active_written_level",
            ["registration_id", "written_level"],
            unique=True,
            sqlite_where=sa.text("status IN ('unpaid', 'paid') AND written_level IS NOT NULL"),
            postgresql_where=sa.text("status IN ('unpaid', 'paid') AND written_level IS NOT NULL"),
        )

    op.create_table(
        "waitlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("campus_id", sa.Integer(), nullable=False),
        sa.Column("subject_code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cancel_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('waiting', 'succeeded', 'cancelled', 'closed')",
            name=op.f("ck_waitlists_status"),
        ),
        sa.ForeignKeyConstraint(
            ["campus_id"], ["campuses.id"], name=op.f("fk_waitlists_campus_id_campuses")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_waitlists_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_waitlists_registration_id_registrations"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_sessions.id"], name=op.f("fk_waitlists_session_id_exam_sessions")
        ),
        sa.ForeignKeyConstraint(
            ["subject_code"], ["subjects.code"], name=op.f("fk_waitlists_subject_code_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlists")),
    )
    with op.batch_alter_table("waitlists", schema=None) as batch_op:
        batch_op.create_index(
            "ix_waitlists_queue",
            ["campus_id", "subject_code", "id"],
            unique=False,
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )
        batch_op.create_index(
            batch_op.f("ix_waitlists_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(
            "uq_waitlists_waiting_level",
            ["registration_id", "kind", "level"],
            unique=True,
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )


def downgrade() -> None:

    with op.batch_alter_table("waitlists", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_waitlists_waiting_level",
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )
        batch_op.drop_index(batch_op.f("ix_waitlists_registration_id"))
        batch_op.drop_index(
            "ix_waitlists_queue",
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )

    op.drop_table("waitlists")
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_entries_active_written_level",
            sqlite_where=sa.text("status IN ('unpaid', 'paid') AND written_level IS NOT NULL"),
            postgresql_where=sa.text("status IN ('unpaid', 'paid') AND written_level IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_entries_active_subject",
            sqlite_where=sa.text("status IN ('unpaid', 'paid')"),
            postgresql_where=sa.text("status IN ('unpaid', 'paid')"),
        )
        batch_op.drop_index(
            "ix_entries_unpaid_expiry",
            sqlite_where=sa.text("status = 'unpaid'"),
            postgresql_where=sa.text("status = 'unpaid'"),
        )
        batch_op.drop_index(batch_op.f("ix_entries_registration_id"))

    op.drop_table("entries")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_record_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_registrations_active_record",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(
            "uq_registrations_active_account",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.drop_table("registrations")
    op.drop_table("record_photos")
    op.drop_table("record_eligibility")
    op.drop_table("campus_seats")
    op.drop_table("student_records")
    op.drop_table("session_subjects")
    with op.batch_alter_table("chat_bindings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_bindings_account_id"))

    op.drop_table("chat_bindings")
    op.drop_table("campuses")
    with op.batch_alter_table("verification_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_codes_email"))

    op.drop_table("verification_codes")
    op.drop_table("subjects")
    op.drop_table("score_records")
    op.drop_table("exam_sessions")
    op.drop_table("accounts")
