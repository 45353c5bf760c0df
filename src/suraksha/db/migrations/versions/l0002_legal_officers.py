"""legal: portal officers, their confirmation links, sessions and outbound notifications

Revision ID: l0002
Revises: l0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = 'l0002'
down_revision = 'l0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('legal_officers',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('agency_id', BigId, nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mfa_enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['legal_agencies.id'], name=op.f('fk_legal_officers_agency_id_legal_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_officers')),
    sa.UniqueConstraint('email', name=op.f('uq_legal_officers_email'))
    )
    with op.batch_alter_table('legal_officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_officers_agency_id'), ['agency_id'], unique=False)

    op.create_table('legal_officer_tokens',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('officer_id', BigId, nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['legal_officers.id'], name=op.f('fk_legal_officer_tokens_officer_id_legal_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_officer_tokens'))
    )
    with op.batch_alter_table('legal_officer_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_officer_tokens_officer_id'), ['officer_id'], unique=False)

    op.create_table('legal_officer_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('officer_id', BigId, nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['legal_officers.id'], name=op.f('fk_legal_officer_sessions_officer_id_legal_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_officer_sessions'))
    )
    with op.batch_alter_table('legal_officer_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_officer_sessions_officer_id'), ['officer_id'], unique=False)

    op.create_table('legal_officer_notifications',
    sa.Column('id', BigId, autoincrement=True, nullable=False),
    sa.Column('officer_id', BigId, nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['officer_id'], ['legal_officers.id'], name=op.f('fk_legal_officer_notifications_officer_id_legal_officers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_officer_notifications'))
    )
    with op.batch_alter_table('legal_officer_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_officer_notifications_officer_id'), ['officer_id'], unique=False)


def downgrade() -> None:
    for table in ('legal_officer_notifications', 'legal_officer_sessions', 'legal_officer_tokens'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_officer_id'))
        op.drop_table(table)
    with op.batch_alter_table('legal_officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_officers_agency_id'))
    op.drop_table('legal_officers')
