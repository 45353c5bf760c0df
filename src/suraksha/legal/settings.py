"""Legal settings (env ``SURAKSHA_*``): document limits, escalation thresholds and recipients,
the disclosure signing key. Names are what an operator sets (docs/legal.md)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class LegalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_", extra="ignore")

    legal_max_document_bytes: int = Field(default=20 * 1024 * 1024, gt=0, description="Largest PDF accepted with a request.")
    nodal_officer_email: str | None = Field(default=None, description="Who gets the first escalation.")
    compliance_officer_email: str | None = Field(default=None, description="Who gets the second escalation.")
    legal_escalate_nodal_at: float = Field(default=0.5, gt=0, lt=1, description="Share of the period used before the nodal officer is alerted.")
    legal_escalate_compliance_at: float = Field(default=0.8, gt=0, lt=1, description="Share used before the compliance officer is alerted.")
    legal_at_risk_at: float = Field(default=0.5, gt=0, lt=1, description="Share used from which the dashboard lists a request as at risk.")
    legal_escalation_webhook: bool = Field(default=False, description="Also send each escalation to the platform connector (event legal_escalation).")
    disclosure_signing_key: SecretStr | None = Field(default=None, description="Base64 raw Ed25519 private key (32 bytes).")
    legal_disclose_media: bool = Field(default=True, description="Include preserved media in packages when content_media is asked for.")

    @model_validator(mode="after")
    def _ordered(self) -> LegalSettings:
        if self.legal_escalate_nodal_at >= self.legal_escalate_compliance_at:
            raise ValueError("SURAKSHA_LEGAL_ESCALATE_NODAL_AT must be below SURAKSHA_LEGAL_ESCALATE_COMPLIANCE_AT")
        return self


@lru_cache(maxsize=1)
def get_legal_settings() -> LegalSettings:
    return LegalSettings()


def reset_legal_settings() -> None:
    get_legal_settings.cache_clear()
