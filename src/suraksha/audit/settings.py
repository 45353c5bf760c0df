"""Audit's section of the one settings object (``suraksha.settings.AuditSettings``, env
``SURAKSHA_AUDIT_*``): where published anchors go and how often.

An anchor is the chain's head (``seq`` and ``hash``) written to a file **outside the database**.
Someone with write access to the database can rewrite the chain and the head consistently, or cut
its newest events and point the head at the new end; neither can be seen from inside the database.
Against an anchor kept elsewhere both can: the event at the anchor's ``seq`` must still carry its
hash. So the file only helps if the database's attacker cannot also rewrite it: put it on other
storage (another disk, a mount owned by another account, append-only or WORM storage) or ship each
new line off the host (syslog, log shipper, object storage with retention).
"""

from __future__ import annotations

from suraksha.settings import AuditSettings

__all__ = ["AuditSettings", "get_audit_settings"]


def get_audit_settings() -> AuditSettings:
    """Read afresh each time (cheap; called hourly and by the CLI), so tests and operators changing
    the environment are seen without a restart hook; the model is the one object's ``audit`` section."""
    return AuditSettings()
