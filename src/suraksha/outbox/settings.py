"""The outbox's section of the one settings object (``suraksha.settings.OutboxSettings``, env ``SURAKSHA_OUTBOX_*``)."""

from __future__ import annotations

from suraksha.settings import OutboxSettings, get_settings, reset_settings

__all__ = ["OutboxSettings", "get_outbox_settings", "reset_outbox_settings"]


def get_outbox_settings() -> OutboxSettings:
    return get_settings().outbox


def reset_outbox_settings() -> None:
    """Forget the cached settings (all sections: there is one object)."""
    reset_settings()
