"""Review's section of the one settings object (``suraksha.settings.ReviewSettings``, env ``SURAKSHA_REVIEW_*``)."""

from __future__ import annotations

from suraksha.settings import ReviewSettings, get_settings, reset_settings

__all__ = ["ReviewSettings", "get_review_settings", "reset_review_settings"]


def get_review_settings() -> ReviewSettings:
    return get_settings().review


def reset_review_settings() -> None:
    """Forget the cached settings (all sections: there is one object)."""
    reset_settings()
