"""Network settings (env ``SURAKSHA_NETWORK_*``): the time window and the popularity caps."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NetworkSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_NETWORK_", extra="ignore")

    window_hours: int = Field(default=24, ge=1, le=24 * 366,
                              description="Two items from the same IP or device link their accounts if this close in time.")
    link_max_accounts: int = Field(default=50, ge=2, description=(
        "A link that is not in a bank links accounts only if at most this many accounts ever posted it "
        "(a popular benign link must not join strangers)."))
    ip_max_accounts: int = Field(default=20, ge=2, description=(
        "An IP address or device seen with more accounts than this inside the window (a carrier NAT, "
        "a shared café) links nobody."))
    index_settle_s: int = Field(default=120, ge=0, description=(
        "Items younger than this are re-checked by every key refresh (an ingest transaction may commit late)."))


@lru_cache(maxsize=1)
def get_network_settings() -> NetworkSettings:
    return NetworkSettings()


def reset_network_settings() -> None:
    get_network_settings.cache_clear()
