"""Enforcement's section of the one settings object (``suraksha.settings.EnforcementSettings``,
env ``SURAKSHA_*``): the platform connector and action delivery (docs/enforcement.md)."""

from __future__ import annotations

from suraksha.settings import EnforcementSettings, get_settings, reset_settings

__all__ = ["EnforcementSettings", "get_enforcement_settings", "reset_enforcement_settings"]


def get_enforcement_settings() -> EnforcementSettings:
    return get_settings().enforcement


def reset_enforcement_settings() -> None:
    """Forget the cached settings (all sections: there is one object)."""
    reset_settings()
