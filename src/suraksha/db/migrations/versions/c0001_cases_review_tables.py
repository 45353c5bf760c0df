"""cases: review tasks, decisions, media reveals, cases

Revision ID: c0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'c0001'
down_revision = None
branch_labels = ('cases',)
depends_on = ['p0001', 's0001']


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_account_id'), ['account_id'], unique=False)

    op.create_table('case_accounts',
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_case_accounts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_accounts_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'account_id', name=op.f('pk_case_accounts'))
    )
    with op.batch_alter_table('case_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_accounts_account_id'), ['account_id'], unique=False)

    op.create_table('case_items',
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_items_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_case_items_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'item_id', name=op.f('pk_case_items'))
    )
    with op.batch_alter_table('case_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_items_item_id'), ['item_id'], unique=False)

    op.create_table('media_reveals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('media_position', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_media_reveals_user_id_staff_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_reveals'))
    )
    with op.batch_alter_table('media_reveals', schema=None) as batch_op:
        batch_op.create_index('ix_media_reveals_user_at', ['user_id', 'at'], unique=False)

    op.create_table('review_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('queue', sa.String(length=100), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source_message_id', sa.BigInteger(), nullable=True),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalated_by', sa.BigInteger(), nullable=True),
    sa.Column('escalation_note', sa.Text(), nullable=True),
    sa.Column('pending_bank', sa.String(length=100), nullable=True),
    sa.Column('final_decision_id', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_review_tasks_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_tasks')),
    sa.UniqueConstraint('item_id', 'queue', name='uq_review_tasks_item_queue'),
    sa.UniqueConstraint('source_message_id', name=op.f('uq_review_tasks_source_message_id'))
    )
    with op.batch_alter_table('review_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_tasks_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_tasks_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_review_tasks_queue_order', ['status', 'queue', 'priority', 'created_at'], unique=False)

    op.create_table('review_decisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('reviewer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('industry_class', sa.String(length=2), nullable=True),
    sa.Column('annotation', sa.Text(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('bank', sa.String(length=100), nullable=True),
    sa.Column('bank_result', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_users.id'], name=op.f('fk_review_decisions_reviewer_id_staff_users')),
    sa.ForeignKeyConstraint(['task_id'], ['review_tasks.id'], name=op.f('fk_review_decisions_task_id_review_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_decisions'))
    )
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_decisions_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_decisions_reviewer_id'), ['reviewer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_decisions_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    for table, indexes in (
        ('review_decisions', ['ix_review_decisions_task_id', 'ix_review_decisions_reviewer_id', 'ix_review_decisions_item_id']),
        ('review_tasks', ['ix_review_tasks_queue_order', 'ix_review_tasks_item_id', 'ix_review_tasks_account_id']),
        ('media_reveals', ['ix_media_reveals_user_at']),
        ('case_items', ['ix_case_items_item_id']),
        ('case_accounts', ['ix_case_accounts_account_id']),
        ('cases', ['ix_cases_account_id']),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)
        op.drop_table(table)
