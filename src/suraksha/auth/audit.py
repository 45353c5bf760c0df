"""One call for every audit event of the workspace (logins, views, reveals, decisions, admin changes).

Uses ``suraksha.audit.record`` (hash-chained, append-only, same transaction) when that area provides
it; the local fallback (writing the event to the log) only runs in a build without that area.
Actors are ``user:<username>`` or ``system:<component>``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger("suraksha.audit.shim")


def record(
    session: Session, actor: str, action: str, object_type: str, object_id: Any, details: dict[str, Any] | None = None
) -> None:
    try:
        from suraksha.audit import record as audit_record  # type: ignore[attr-defined]
    except ImportError:
        audit_record = None
    if audit_record is not None:
        audit_record(session, actor, action, object_type, str(object_id) if object_id is not None else None, details or {})
        return
    log.info(
        "audit %s",
        json.dumps(
            {
                "actor": actor,
                "action": action,
                "object_type": object_type,
                "object_id": None if object_id is None else str(object_id),
                "details": details or {},
            },
            default=str,
            sort_keys=True,
        ),
    )
