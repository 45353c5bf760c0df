"""Tables owned by the API area: API keys, one per integration.

Only a SHA-256 of each key is stored (keys are 256-bit random strings, so a plain hash is enough; a
slow password hash would cost milliseconds on every request for no gain). The short ``prefix`` is
kept in clear to find the row and to show which key is which.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, utcnow


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None, nullable=True)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    # Space-separated scope names (``api.keys.SCOPES``); no default here or in the table, so a row
    # written without scopes fails instead of opening every route.
    scopes: Mapped[str] = mapped_column(String(500))
