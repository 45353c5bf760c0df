"""Outbox settings (env ``SURAKSHA_OUTBOX_*``): how long a claim lasts and how failures are retried."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OutboxSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_OUTBOX_", extra="ignore")

    lease_s: float = Field(default=60.0, gt=0, description=(
        "How long a dispatcher holds the outbox messages it claimed; a dispatcher that died leaves "
        "them to be claimed again after this."))
    max_attempts: int = Field(default=20, ge=1, description=(
        "Tries before an outbox message is dead-lettered (ALERT in the log; 'suraksha outbox retry')."))
    backoff_base_s: float = Field(default=2.0, gt=0, description="First wait after a failed try; doubled each try.")
    backoff_max_s: float = Field(default=3600.0, gt=0, description="Longest wait between two tries of one message.")


@lru_cache(maxsize=1)
def get_outbox_settings() -> OutboxSettings:
    return OutboxSettings()


def reset_outbox_settings() -> None:
    get_outbox_settings.cache_clear()
