"""pipeline: items.request_sha256, the fingerprint of the request stored under an idempotency key

A resend with the same ``idempotency_key`` answers with the stored item; a different body under
that key used to get the same answer (202, the first item) while the new content was dropped
unscanned. The SHA-256 of the canonical request, kept beside the key, tells the two apart: a
different body is now a 409 naming the first item. Nullable: items stored before this revision,
and backfilled ones (whose keys are derived from their platform ids), have none, and a resend
of those keys is answered as before.

Revision ID: p0004
Revises: p0003
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = 'p0004'
down_revision = 'p0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite adds a nullable column in place (ALTER TABLE ADD COLUMN): no copy of the items table.
    with op.batch_alter_table('items') as batch:
        batch.add_column(sa.Column('request_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.drop_column('request_sha256')
