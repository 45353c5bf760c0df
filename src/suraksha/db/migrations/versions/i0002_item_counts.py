"""items: item_counts, per-day counters of benign items under findings-only storage

With ``SURAKSHA_FINDINGS_ONLY`` a benign item leaves no item row; one increment per UTC day,
platform and kind is what stays, so a period's scanned total can still be published.

Revision ID: i0002
Revises: i0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "i0002"
down_revision = "i0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("benign", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "kind"),
    )


def downgrade() -> None:
    op.drop_table("item_counts")
