"""The CyberTipline's section of the one settings object (``suraksha.settings.NcmecSettings``,
env ``SURAKSHA_NCMEC_*``)."""

from __future__ import annotations

from suraksha.settings import NcmecSettings, get_settings

__all__ = ["NcmecSettings", "get_ncmec_settings"]


def get_ncmec_settings() -> NcmecSettings:
    return get_settings().ncmec
