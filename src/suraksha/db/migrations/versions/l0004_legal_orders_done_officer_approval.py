"""legal: order targets are done when the platform acknowledged or staff recorded an outside action;
officers are approved by the platform's legal team with rank and authorising document

Targets keep every action id they wait on and how they were done (platform / manual: what, when, by
whom, evidence). Officers gain an approval state; officers registered before this revision declared
their own rank and were never checked, so they start ``pending`` and must be approved again.

Revision ID: l0004
Revises: l0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "l0004"
down_revision = "l0003"
branch_labels = None
depends_on = None


class _table:
    """``op.add_column`` / ``op.drop_column`` on one table, written like a batch."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> "_table":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_column(self, column: sa.Column) -> None:  # type: ignore[type-arg]
        op.add_column(self.name, column)

    def drop_column(self, name: str) -> None:
        op.drop_column(self.name, name)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild): a SQLite table rebuild would cascade-delete child rows.
    with _table("legal_targets") as batch:
        batch.add_column(sa.Column("action_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("done_source", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("done_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("done_what", sa.Text(), nullable=True))
        batch.add_column(sa.Column("done_evidence", sa.Text(), nullable=True))
    with _table("legal_officers") as batch:
        batch.add_column(sa.Column("approval", sa.String(length=12), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("approval_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("approved_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("authority_filename", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("authority_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("authority_evidence_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with _table("legal_officers") as batch:
        for name in (
            "authority_evidence_id",
            "authority_sha256",
            "authority_filename",
            "approved_at",
            "approved_by",
            "approval_note",
            "approval",
        ):
            batch.drop_column(name)
    with _table("legal_targets") as batch:
        for name in ("done_evidence", "done_what", "done_by", "done_source", "action_ids"):
            batch.drop_column(name)
