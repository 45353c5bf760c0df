"""Legal's section of the one settings object (``suraksha.settings.LegalSettings``, env ``SURAKSHA_*``;
docs/legal.md)."""

from __future__ import annotations

from suraksha.settings import LegalSettings, get_settings, reset_settings

__all__ = ["LegalSettings", "get_legal_settings", "reset_legal_settings"]


def get_legal_settings() -> LegalSettings:
    return get_settings().legal


def reset_legal_settings() -> None:
    """Forget the cached settings (all sections: there is one object)."""
    reset_settings()
