"""Audit log: append-only, hash-chained events of every access and decision.

``record(session, actor, action, object_type, object_id, details)`` appends in the caller's
transaction; ``verify_chain()`` finds any edited, deleted, reordered or inserted event;
``suraksha audit verify`` runs it from the command line, against the last anchor that
``audit.anchors`` published outside the database (``suraksha audit anchor``; hourly by the dispatcher).
"""

from suraksha.audit.log import Actor, VerifyResult, compute_hash, record, verify_chain

__all__ = ["Actor", "VerifyResult", "compute_hash", "record", "verify_chain"]
