"""One call for every audit event of the workspace (logins, views, reveals, decisions, admin changes).

Appends to the hash-chained log (``suraksha.audit.record``) in the caller's transaction; the object
id is stored as text whatever its type. Actors are ``user:<username>`` or ``system:<component>``.
There is no fallback: an audit event that cannot be written fails the operation it records.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from suraksha.audit import record as audit_record


def record(
    session: Session, actor: str, action: str, object_type: str, object_id: Any, details: dict[str, Any] | None = None
) -> None:
    audit_record(session, actor, action, object_type, None if object_id is None else str(object_id), details or {})
