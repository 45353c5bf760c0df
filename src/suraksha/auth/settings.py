"""Auth settings (env ``SURAKSHA_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_", extra="ignore")

    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_max_failures: int = 5
    lockout_minutes: int = 15
    min_password_length: int = 12
    cookie_secure: bool | None = None  # default: on in production mode or over https


@lru_cache(maxsize=1)
def get_auth_settings() -> AuthSettings:
    return AuthSettings()


def reset_auth_settings() -> None:
    get_auth_settings.cache_clear()
