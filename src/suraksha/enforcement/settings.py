"""Enforcement settings (env ``SURAKSHA_*``): the platform connector and the dispatcher's retry policy.

Kept in this package, like the pipeline's and NCMEC's, so the area owns its knobs; the names are
what an operator sets (docs/enforcement.md).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class EnforcementSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_", extra="ignore")

    connector_url: str | None = Field(default=None, description="The platform's webhook URL (https:// in production).")
    connector_secret: SecretStr | None = Field(default=None, description="Shared HMAC-SHA256 secret for webhook signatures.")
    connector_timeout_s: float = Field(default=10.0, gt=0)
    connector_replay_window_s: int = Field(default=300, gt=0, description="How old a signed timestamp may be.")

    action_max_attempts: int = Field(default=8, ge=1, description="Deliveries before an action is dead-lettered.")
    action_backoff_base_s: float = Field(default=2.0, gt=0)
    action_backoff_max_s: float = Field(default=3600.0, gt=0)
    action_lease_s: int = Field(default=60, ge=1, description="How long a dispatcher holds a claimed action or report.")

    report_max_attempts: int = Field(default=8, ge=1, description="Filing attempts before a report fails for good.")
    dispatch_batch: int = Field(default=20, ge=1)

    # Jurisdictions whose retention applies to every preserved copy, besides the item's country.
    preserve_jurisdictions: list[str] = Field(default_factory=lambda: ["us"])


@lru_cache(maxsize=1)
def get_enforcement_settings() -> EnforcementSettings:
    return EnforcementSettings()


def reset_enforcement_settings() -> None:
    get_enforcement_settings.cache_clear()
