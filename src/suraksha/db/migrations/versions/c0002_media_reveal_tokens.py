"""cases: one-time links to a revealed media's original bytes

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = 'c0002'
down_revision = 'c0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('media_reveal_tokens',
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('reveal_id', BigId, nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('media_position', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reveal_id'], ['media_reveals.id'], name=op.f('fk_media_reveal_tokens_reveal_id_media_reveals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_media_reveal_tokens_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_sha256', name=op.f('pk_media_reveal_tokens'))
    )
    with op.batch_alter_table('media_reveal_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_reveal_tokens_reveal_id'), ['reveal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_reveal_tokens_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('media_reveal_tokens')
