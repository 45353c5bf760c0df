"""networks: the key index (links, domains, IPs, devices of items) and its progress

Revision ID: n0001
Revises: 
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = 'n0001'
down_revision = None
branch_labels = ('networks',)
depends_on = 'p0001'


def upgrade() -> None:
    op.create_table('network_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=512), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_network_keys_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_network_keys_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_keys')),
    sa.UniqueConstraint('item_id', 'kind', 'value', name='uq_network_keys_item_kind_value')
    )
    op.create_index('ix_network_keys_lookup', 'network_keys', ['kind', 'value', 'created_at'], unique=False)
    op.create_index('ix_network_keys_account', 'network_keys', ['account_id', 'kind', 'value'], unique=False)
    op.create_table('network_indexed_items',
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_network_indexed_items_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_network_indexed_items'))
    )
    op.create_table('network_index_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('floor', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_index_state'))
    )


def downgrade() -> None:
    op.drop_table('network_index_state')
    op.drop_table('network_indexed_items')
    op.drop_index('ix_network_keys_account', table_name='network_keys')
    op.drop_index('ix_network_keys_lookup', table_name='network_keys')
    op.drop_table('network_keys')
