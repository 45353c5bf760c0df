"""Who files reports, and how reports are retried (env ``SURAKSHA_REPORTER_*``, ``SURAKSHA_REPORT_*``).

The reporter profile is the same for every report of one platform (NCMEC's ``reporter``, the
India package's "reporting intermediary", the NCA's "reporting organisation").
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReporterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_REPORTER_", extra="ignore")

    platform: str = Field(default="Example Platform", description="The service's name (NCMEC espService).")
    organisation: str | None = Field(default=None, description="Legal name of the intermediary (India/UK packages).")
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None  # India: the nodal contact officer's address for service


class ReportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_REPORT_", extra="ignore")

    max_attempts: int = Field(default=8, ge=1, description="NCMEC filing attempts before a report fails for good.")
    backoff_base_s: float = Field(default=30.0, gt=0)
    backoff_max_s: float = Field(default=6 * 3600.0, gt=0)
    lease_s: int = Field(default=600, ge=1, description="How long a dispatcher holds a report it is filing.")
    # India: the police unit that receives reports when the case does not name one.
    india_police_unit: str | None = None


@lru_cache(maxsize=1)
def get_reporter_settings() -> ReporterSettings:
    return ReporterSettings()


@lru_cache(maxsize=1)
def get_report_settings() -> ReportSettings:
    return ReportSettings()


def reset_reporting_settings() -> None:
    get_reporter_settings.cache_clear()
    get_report_settings.cache_clear()
