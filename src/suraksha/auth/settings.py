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
    # The sign-in throttle in front of argon2 (suraksha.auth.throttle), per server process. A burst
    # of 0 turns that bucket off. One client address: 20 attempts at once, then 10 a minute; one
    # account name (staff username or officer email, existing or not): 10 at once, then 5 a minute.
    login_ip_burst: int = 20
    login_ip_per_minute: float = 10.0
    login_account_burst: int = 10
    login_account_per_minute: float = 5.0
    # argon2 verifications at once (64 MiB each) and how long an attempt waits for one before a 429.
    login_hash_concurrency: int = 2
    login_hash_wait_seconds: float = 3.0


@lru_cache(maxsize=1)
def get_auth_settings() -> AuthSettings:
    return AuthSettings()


def reset_auth_settings() -> None:
    """Forget the cached settings (tests change the environment); the sign-in throttle built from
    them is rebuilt, with full buckets, on its next use (``auth.throttle.get_login_throttle``)."""
    get_auth_settings.cache_clear()
