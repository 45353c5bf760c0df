"""api key scopes

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-01

Adds ``api_keys.scopes`` (space-separated scope names). Keys that exist before this revision were
allowed every route, so they become ``admin`` and keep working; each logs a warning the first time
a process sees it, until it is narrowed with ``suraksha apikey scopes NAME --scope ...``. The
server default used to fill them is dropped afterwards, so a row inserted without scopes fails
rather than silently holding ``admin``.
"""
from alembic import op
import sqlalchemy as sa

revision = 'a0002'
down_revision = 'a0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=500), nullable=False, server_default='admin'))
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.String(length=500), existing_nullable=False,
                              server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('scopes')
