"""Tables owned by networks: an index of the keys (links, domains, IPs, devices) items share.

Items keep their links and context in JSON, which no index reaches; finding "every account that
posted this link" or "every item from this IP within 24 hours" would scan all items. So each item's
keys are copied once into ``network_keys`` (indexed by kind + value + time, and by account), lazily,
by ``index.refresh_keys`` before a network is computed. Items never change their links or context
after ingest, so a row, once written, stays right; a deleted item takes its rows with it (cascade).
``network_indexed_items`` marks the items already copied (an item may have no keys at all).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, utcnow
from suraksha.db.types import BigId

KEY_KINDS = ("link", "domain", "ip", "device")


class NetworkKey(Base):
    """One key of one item: a canonical link, its domain, the IP address or the device it came from."""

    __tablename__ = "network_keys"
    __table_args__ = (
        UniqueConstraint("item_id", "kind", "value", name="uq_network_keys_item_kind_value"),
        Index("ix_network_keys_lookup", "kind", "value", "created_at"),
        Index("ix_network_keys_account", "account_id", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(512))  # longer links are stored as "sha256:<hex>"
    created_at: Mapped[dt.datetime] = mapped_column()  # the item's original time


class NetworkIndexedItem(Base):
    """An item whose keys are in ``network_keys``."""

    __tablename__ = "network_indexed_items"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)


class NetworkIndexState(Base):
    """One row: every item with an id at or below ``floor`` is indexed (so a refresh starts above it)."""

    __tablename__ = "network_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    floor: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
