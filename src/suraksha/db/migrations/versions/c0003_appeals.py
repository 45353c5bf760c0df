"""cases: appeals submitted by the platform

Revision ID: c0003
Revises: c0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = 'c0003'
down_revision = 'c0002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('appeals',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('item_id', BigId, nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('platform_appeal_id', sa.String(length=200), nullable=True),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('submitted_by', sa.String(length=200), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('original_decision_id', sa.BigInteger(), nullable=True),
    sa.Column('task_id', sa.BigInteger(), nullable=True),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_appeals_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('item_id', name=op.f('uq_appeals_item_id'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_submitted_at'), ['submitted_at'], unique=False)


def downgrade() -> None:
    op.drop_table('appeals')
