"""legal: portal officers' TOTP seeds sealed with the vault's master key (AES-256-GCM)

Existing plain seeds are sealed in place, bound to their row ("legal_officers.totp_secret/<id>", the
binding ``suraksha.auth.totp`` uses for officers); the column widens to hold the sealed form (SQLite does not
enforce VARCHAR lengths, so only PostgreSQL is altered: a SQLite table rebuild would cascade-delete
its sessions and tokens). The master key is loaded only when there is a plain seed to seal, so an empty
database migrates without one. Downgrade opens them again (the key must still be configured).

Revision ID: l0003
Revises: l0002
Create Date: 2026-12-20
"""
from alembic import op
import sqlalchemy as sa

revision = 'l0003'
down_revision = 'l0002'
branch_labels = None
depends_on = None

TABLE = 'legal_officers'


def _rows(bind):
    return bind.execute(sa.text(f"SELECT id, totp_secret FROM {TABLE} WHERE totp_secret IS NOT NULL")).all()


def upgrade() -> None:
    from suraksha.db.keyring import is_sealed, load_keyring, seal_field

    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.alter_column(TABLE, 'totp_secret', existing_type=sa.String(length=64), type_=sa.String(length=255),
                        existing_nullable=True)
    plain = [(row_id, secret) for row_id, secret in _rows(bind) if not is_sealed(secret)]
    if not plain:
        return
    ring = load_keyring()
    for row_id, secret in plain:
        bind.execute(sa.text(f"UPDATE {TABLE} SET totp_secret = :s WHERE id = :id"),
                     {"s": seal_field(secret, f"{TABLE}.totp_secret/{row_id}", keyring=ring), "id": row_id})


def downgrade() -> None:
    from suraksha.db.keyring import is_sealed, load_keyring, open_field

    bind = op.get_bind()
    sealed = [(row_id, stored) for row_id, stored in _rows(bind) if is_sealed(stored)]
    if sealed:
        ring = load_keyring()
        for row_id, stored in sealed:
            bind.execute(sa.text(f"UPDATE {TABLE} SET totp_secret = :s WHERE id = :id"),
                         {"s": open_field(stored, f"{TABLE}.totp_secret/{row_id}", keyring=ring), "id": row_id})
    if bind.dialect.name != 'sqlite':
        op.alter_column(TABLE, 'totp_secret', existing_type=sa.String(length=255), type_=sa.String(length=64),
                        existing_nullable=True)
