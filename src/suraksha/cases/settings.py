"""Review settings (env ``SURAKSHA_REVIEW_*``): SLAs per queue, which categories need a second review."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_REVIEW_", extra="ignore")

    # Minutes from enqueue to the SLA deadline; per queue as "csam=60,ncii=120", default for the rest.
    sla_minutes: int = 24 * 60
    sla: str = "csam=60,ncii=120"
    # Categories whose decision must be confirmed by a second, different reviewer before it is final
    # (and so before anything is reported). Empty: one reviewer suffices.
    second_review: str = "csam"
    break_every: int = 20  # suggest a break after this many reveals in a day (per-user setting overrides)
    # A reveal grants a one-time link to the original bytes, valid this many seconds (the page
    # fetches it at once; a link that leaks later is worthless).
    reveal_link_seconds: int = 60

    def sla_for(self, queue: str) -> int:
        for part in self.sla.split(","):
            name, _, minutes = part.partition("=")
            if name.strip() == queue and minutes.strip().isdigit():
                return int(minutes)
        return self.sla_minutes

    @property
    def second_review_categories(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.second_review.split(",") if c.strip())


@lru_cache(maxsize=1)
def get_review_settings() -> ReviewSettings:
    return ReviewSettings()


def reset_review_settings() -> None:
    get_review_settings.cache_clear()
