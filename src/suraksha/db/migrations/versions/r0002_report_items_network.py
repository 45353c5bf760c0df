"""reporting: one report per reported user and incident (report_items), network group

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'r0002'
down_revision = 'r0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('report_items',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('report_id', BigId, nullable=False),
    sa.Column('destination', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('outbox_message_id', sa.BigInteger(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('excluded', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_items_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_items')),
    sa.UniqueConstraint('destination', 'item_id', name='uq_report_items_destination_item')
    )
    op.create_index(op.f('ix_report_items_report_id'), 'report_items', ['report_id'], unique=False)
    with op.batch_alter_table('reports') as batch:
        batch.add_column(sa.Column('group_identifier', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('network', JSON, nullable=True))
    # Reports made before this revision covered one item each: record that item.
    op.execute(
        "INSERT INTO report_items (report_id, destination, item_id, outbox_message_id, added_at) "
        "SELECT id, destination, item_id, outbox_message_id, created_at FROM reports "
        "WHERE item_id IS NOT NULL AND supplemental_to IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('reports') as batch:
        batch.drop_column('network')
        batch.drop_column('group_identifier')
    op.drop_index(op.f('ix_report_items_report_id'), table_name='report_items')
    op.drop_table('report_items')
