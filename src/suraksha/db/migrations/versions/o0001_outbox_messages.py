"""outbox: the outbox_messages table, owned by the outbox area (was created by p0001)

Revision ID: o0001
Revises:
Create Date: 2026-12-01

A database migrated before this revision has the table already (p0001 created it then): this
revision finds it and changes nothing, so the data and the dedupe keys stay as they are; from here
on the table belongs to the ``outbox`` branch. A new database gets it here (p0001 no longer creates
it). Downgrading this branch drops the table.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'o0001'
down_revision = None
branch_labels = ('outbox',)
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table('outbox_messages'):
        return  # created by p0001 before this revision existed: nothing to do but own it
    op.create_table('outbox_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('dedupe_key', sa.String(length=300), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=True),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_dispatch', ['topic', 'status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_item_id'), ['item_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_item_id'))
        batch_op.drop_index('ix_outbox_messages_dispatch')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_account_id'))

    op.drop_table('outbox_messages')
