"""The core settings section under its older module name (``suraksha.settings`` holds them all).

``get_settings()`` here is ``suraksha.settings.get_settings().core`` (home, database URL, mode,
media limits): some fifty call sites across every area read ``get_settings().home`` and
``.mode``, and keep doing so; new code reads ``suraksha.settings.get_settings().core``.
``reset_settings()`` forgets every section, not only this one.
"""

from __future__ import annotations

from suraksha.settings import CoreSettings, make_private, reset_settings, tighten
from suraksha.settings import get_settings as _all_settings

Settings = CoreSettings

__all__ = ["Settings", "get_settings", "make_private", "reset_settings", "tighten"]


def get_settings() -> CoreSettings:
    """The core section of the one settings object."""
    return _all_settings().core
