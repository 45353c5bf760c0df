"""Auth's section of the one settings object (``suraksha.settings.AuthSettings``, env ``SURAKSHA_*``)."""

from __future__ import annotations

from suraksha.settings import AuthSettings, get_settings, reset_settings

__all__ = ["AuthSettings", "get_auth_settings", "reset_auth_settings"]


def get_auth_settings() -> AuthSettings:
    return get_settings().auth


def reset_auth_settings() -> None:
    """Forget the cached settings (all sections); the sign-in throttle built from them is rebuilt,
    with full buckets, on its next use (``auth.throttle.get_login_throttle``)."""
    reset_settings()
