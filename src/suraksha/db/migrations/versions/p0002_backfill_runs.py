"""pipeline: backfill runs (checkpoints), retroactive matches

Revision ID: p0002
Revises: p0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'p0002'
down_revision = 'p0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('backfill_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('byte_offset', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=True),
    sa.Column('rows_read', sa.BigInteger(), nullable=False),
    sa.Column('ingested', sa.BigInteger(), nullable=False),
    sa.Column('already_present', sa.BigInteger(), nullable=False),
    sa.Column('bad_rows', sa.BigInteger(), nullable=False),
    sa.Column('first_item_id', sa.BigInteger(), nullable=True),
    sa.Column('last_item_id', sa.BigInteger(), nullable=True),
    sa.Column('errors', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backfill_runs')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_backfill_runs_fingerprint'))
    )
    with op.batch_alter_table('item_matches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retroactive', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('matched_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('item_matches', schema=None) as batch_op:
        batch_op.drop_column('matched_at')
        batch_op.drop_column('retroactive')
    op.drop_table('backfill_runs')
