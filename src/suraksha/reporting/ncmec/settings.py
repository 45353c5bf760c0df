"""CyberTipline settings, from the environment (``SURAKSHA_NCMEC_*``).

Kept next to the client rather than in ``suraksha.config`` so the reporting area owns its
configuration; ``suraksha.config.Settings`` may embed it later.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .enums import Environment


class NcmecSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_NCMEC_", extra="ignore")

    environment: Environment = Field(default=Environment.TEST, description="'test' or 'production'.")
    base_url: str | None = Field(default=None, description="Override of the environment's base URL.")
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = 60.0
    attempts: int = Field(default=1, ge=1, description="Whole-filing attempts per dispatch.")

    @model_validator(mode="after")
    def _production_needs_https(self) -> NcmecSettings:
        if self.environment is Environment.PRODUCTION and self.base_url and not self.base_url.startswith("https://"):
            raise ValueError("SURAKSHA_NCMEC_BASE_URL must be https:// in production")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.username) and self.password is not None
