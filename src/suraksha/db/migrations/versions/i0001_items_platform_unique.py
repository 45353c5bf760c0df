"""items: one item per platform item — items.platform, items.duplicate_of and a unique index

A repeat submit of the same platform item (same ``platform`` and ``platform_id``) used to store a
second item and scan it again; from this revision it is answered with the stored item, as a resent
idempotency key is. ``platform`` names where the item comes from ("default" for every item stored
before: one install served one platform).

Existing duplicates must not stop the upgrade, and none is deleted (a case, a report or evidence
may point at any of them): the oldest of each group (lowest id, first received) keeps its place
under the index; every later copy gets ``duplicate_of`` = that oldest id and stays readable as
before. The index covers only rows whose ``duplicate_of`` is NULL (a partial index, on SQLite and
PostgreSQL alike).

Revision ID: i0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "i0001"
down_revision = None
branch_labels = ("items",)
depends_on = "p0005"


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("platform", sa.String(length=100), nullable=False, server_default="default"))
        batch.add_column(sa.Column("duplicate_of", sa.BigInteger(), nullable=True))
    op.execute(
        """
        UPDATE items SET duplicate_of = (SELECT MIN(o.id) FROM items o
                                         WHERE o.platform = items.platform AND o.platform_id = items.platform_id)
        WHERE id > (SELECT MIN(o.id) FROM items o WHERE o.platform = items.platform AND o.platform_id = items.platform_id)
        """
    )
    op.create_index(
        "uq_items_platform_item",
        "items",
        ["platform", "platform_id"],
        unique=True,
        sqlite_where=sa.text("duplicate_of IS NULL"),
        postgresql_where=sa.text("duplicate_of IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_items_platform_item", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("duplicate_of")
        batch.drop_column("platform")
