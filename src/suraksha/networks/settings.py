"""Networks' section of the one settings object (``suraksha.settings.NetworkSettings``, env ``SURAKSHA_NETWORK_*``)."""

from __future__ import annotations

from suraksha.settings import NetworkSettings, get_settings, reset_settings

__all__ = ["NetworkSettings", "get_network_settings", "reset_network_settings"]


def get_network_settings() -> NetworkSettings:
    return get_settings().networks


def reset_network_settings() -> None:
    """Forget the cached settings (all sections: there is one object)."""
    reset_settings()
