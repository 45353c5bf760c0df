"""The API's section of the one settings object (``suraksha.settings.ApiSettings``, env ``SURAKSHA_*``)."""

from __future__ import annotations

from suraksha.settings import ApiSettings, get_settings, reset_settings

__all__ = ["ApiSettings", "get_api_settings", "max_request_bytes", "reset_api_settings"]


def get_api_settings() -> ApiSettings:
    return get_settings().api


def reset_api_settings() -> None:
    """Forget the cached settings (all sections: there is one object)."""
    reset_settings()


def max_request_bytes() -> int:
    """The largest request body: the configured one, else room for one base64 media plus 1 MiB of JSON."""
    settings = get_settings()
    configured = settings.api.max_request_bytes
    if configured is not None:
        return configured
    return (settings.core.max_media_bytes + 2) // 3 * 4 + (1 << 20)
