"""Verification checks before work starts: agency known, sender rank, legal basis, document."""

from __future__ import annotations

from suraksha.legal.schemas import CheckView


def run_checks(request_id: int, actor: str) -> list[CheckView]:
    """(Re)compute every check; passed/overridden answers are kept. Moves the request to
    ``in_progress`` when all checks are ok."""
    raise NotImplementedError


def answer_check(request_id: int, key: str, note: str, actor: str, role: str, *, override: bool = False) -> CheckView:
    """Answer a failed check with a note; ``override=True`` (role ``legal`` only) lets work start
    despite the failure. Recorded as an event and in the audit log."""
    raise NotImplementedError
