"""Audit log: append-only, hash-chained events of every access and decision.

``record(session, actor, action, object_type, object_id, details)`` appends in the caller's
transaction; ``verify_chain()`` finds any edited, deleted, reordered or inserted event;
``suraksha audit verify`` runs it from the command line.
"""

from suraksha.audit.log import Actor, VerifyResult, compute_hash, record, verify_chain

__all__ = ["Actor", "VerifyResult", "compute_hash", "record", "verify_chain"]
