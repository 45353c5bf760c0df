"""Audit settings (env ``SURAKSHA_AUDIT_*``): where published anchors go and how often.

An anchor is the chain's head (``seq`` and ``hash``) written to a file **outside the database**.
Someone with write access to the database can rewrite the chain and the head consistently, or cut
its newest events and point the head at the new end; neither can be seen from inside the database.
Against an anchor kept elsewhere both can: the event at the anchor's ``seq`` must still carry its
hash. So the file only helps if the database's attacker cannot also rewrite it: put it on other
storage (another disk, a mount owned by another account, append-only or WORM storage) or ship each
new line off the host (syslog, log shipper, object storage with retention).
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from suraksha.config import get_settings


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURAKSHA_AUDIT_", extra="ignore")

    # JSON lines, one anchor per line, appended; default $SURAKSHA_HOME/audit-anchors.jsonl.
    anchor_file: Path | None = None
    # The dispatcher (in `suraksha serve`, or `suraksha dispatch`) publishes an anchor when the file's
    # newest one is older than this; 0 turns scheduled publishing off (`suraksha audit anchor` still works).
    anchor_every_s: float = 3600.0

    @property
    def resolved_anchor_file(self) -> Path:
        return self.anchor_file if self.anchor_file is not None else get_settings().home / "audit-anchors.jsonl"


def get_audit_settings() -> AuditSettings:
    """Read afresh each time (cheap; called hourly and by the CLI), so tests and operators changing
    the environment are seen without a restart hook."""
    return AuditSettings()
