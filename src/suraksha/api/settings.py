"""API settings (env ``SURAKSHA_*``), next to the shared ``suraksha.config.Settings``.

Kept in this package so the API can add knobs without editing the settings module every area
imports; the same prefix and environment apply.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_", extra="ignore")

    hma_require_key: bool = Field(
        default=True,
        description="Require `Authorization: Bearer KEY` on the HMA-compatible routes (/h, /m, /c). "
        "HMA itself has no authentication; set false only behind a trusted network boundary.",
    )
    max_request_bytes: int | None = Field(
        default=None,
        description="Largest request body accepted; default: room for one base64-encoded media at "
        "SURAKSHA_MAX_MEDIA_BYTES plus 1 MiB of JSON.",
    )
    default_rate_limit_per_minute: int = Field(default=600, description="Rate limit of a new API key.")
    key_cache_seconds: float = Field(
        default=5.0, description="How long a verified key is trusted without re-reading it (revocation delay in other processes)."
    )
    index_save_seconds: float = Field(default=300.0, description="`serve`: persist the match index this often when it changed.")
    wait_timeout_seconds: float = Field(default=10.0, description="Longest `?wait=true` on POST /v1/items.")
    max_inflight_body_bytes: int | None = Field(
        default=None, ge=1,
        description="Request body bytes the server holds at once (large bodies beyond it answer 503 with "
        "Retry-After before being read); default: twice the request size limit.",
    )
    hash_concurrency: int = Field(
        default=2, ge=1, le=64,
        description="Media hashed at once by the API (/v1/hash, /h/hash, HMA lookups and bank uploads by media), "
        "in its own threads apart from the request threads; one more answers 503 with Retry-After.",
    )


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()


def reset_api_settings() -> None:
    get_api_settings.cache_clear()


def max_request_bytes() -> int:
    from suraksha.config import get_settings

    configured = get_api_settings().max_request_bytes
    if configured is not None:
        return configured
    return (get_settings().max_media_bytes + 2) // 3 * 4 + (1 << 20)
