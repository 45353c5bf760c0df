"""The one error the policy loader raises."""

from __future__ import annotations

from suraksha.errors import InvalidInput


class PolicyError(InvalidInput):
    """An invalid policy. The message is one line: where (rule, field) and why.

    ``rule`` is the rule's name when it has one; ``index`` its 1-based position in the rule list;
    ``field`` a dotted path inside the rule or the policy (``when.match.max_distance``); both are
    ``None`` for problems with the policy as a whole. Example message:
    ``rule #2 'csam-match': when.match.max_distance: must be a whole number >= 0, got '20'``.
    """

    def __init__(self, reason: str, *, rule: str | None = None, index: int | None = None, field: str | None = None) -> None:
        self.rule = rule
        self.index = index
        self.field = field
        self.reason = reason
        where = []
        if index is not None or rule is not None:
            where.append(
                " ".join(
                    p for p in ("rule", f"#{index}" if index is not None else None, repr(rule) if rule is not None else None) if p
                )
            )
        if field:
            where.append(field)
        super().__init__(f"{': '.join(where)}: {reason}" if where else f"policy: {reason}")
