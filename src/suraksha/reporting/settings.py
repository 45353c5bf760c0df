"""Reporting's sections of the one settings object: who files reports (``SURAKSHA_REPORTER_*``)
and how reports are retried (``SURAKSHA_REPORT_*``).

The reporter profile is the same for every report of one platform (NCMEC's ``reporter``, the
India package's "reporting intermediary", the NCA's "reporting organisation").
"""

from __future__ import annotations

from suraksha.settings import ReporterSettings, ReportSettings, get_settings, reset_settings

__all__ = ["ReportSettings", "ReporterSettings", "get_report_settings", "get_reporter_settings", "reset_reporting_settings"]


def get_reporter_settings() -> ReporterSettings:
    return get_settings().reporter


def get_report_settings() -> ReportSettings:
    return get_settings().report


def reset_reporting_settings() -> None:
    """Forget the cached settings (all sections: there is one object)."""
    reset_settings()
