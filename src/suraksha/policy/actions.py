"""Actions: one name per action, from the policy file through the tables, the API, the CLI and the UI.

An action is an ``ActionRequest(kind, argument)``: ``kind`` is an ``ActionKind`` and ``argument``
what that kind needs (the country of ``withhold_in_country``, the destination of ``report``, the
queue of ``review``; ``None`` for the others). Its text, ``str(request)``, is the spelling a policy
file uses and the one stored verdicts, the API and the CLI show: ``remove_item``,
``withhold_in_country:IN``, ``report:ncmec``, ``review:csam``. Text is parsed once, where it comes
in (``ActionRequest.parse``: the policy file, the CLI); code hands ``ActionRequest`` objects on.

The platform kinds are the ``kind`` values of the actions table: a stored row and a verdict name an
action the same way.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from suraksha.errors import InvalidInput


class ActionKind(StrEnum):
    """What an action does. The value is its one name everywhere."""

    REMOVE_ITEM = "remove_item"
    SUSPEND_ACCOUNT = "suspend_account"
    WITHHOLD_IN_COUNTRY = "withhold_in_country"
    RESTORE = "restore"  # undo a removal or suspension (people ask for it; a policy never does)
    NOTIFY_USER = "notify_user"
    PRESERVE = "preserve"
    REPORT = "report"
    REVIEW = "review"

    @property
    def on_platform(self) -> bool:
        """Delivered to the platform's connector (a row of the actions table)."""
        return self in PLATFORM_ACTIONS

    @property
    def topic(self) -> str:
        """The outbox topic that carries it: ``action`` for platform actions, else its own name."""
        return "action" if self.on_platform else self.value

    @property
    def argument_name(self) -> str | None:
        """What the argument is (``country``, ``destination``, ``queue``), or None when it takes none."""
        return _ARGUMENT_NAMES.get(self)


#: Kinds the platform's connector carries out (the actions table holds only these).
PLATFORM_ACTIONS: frozenset[ActionKind] = frozenset(
    {
        ActionKind.REMOVE_ITEM,
        ActionKind.SUSPEND_ACCOUNT,
        ActionKind.WITHHOLD_IN_COUNTRY,
        ActionKind.RESTORE,
        ActionKind.NOTIFY_USER,
    }
)
#: Kinds a policy rule may ask for (a verdict never restores).
POLICY_ACTIONS: tuple[ActionKind, ...] = tuple(k for k in ActionKind if k is not ActionKind.RESTORE)
#: Kinds that need ``verdict: remove`` in the rule that asks for them.
NEEDS_REMOVE_VERDICT: frozenset[ActionKind] = frozenset({ActionKind.REMOVE_ITEM, ActionKind.SUSPEND_ACCOUNT})
REPORT_DESTINATIONS: tuple[str, ...] = ("ncmec", "in_police", "uk_nca")
_ARGUMENT_NAMES = {ActionKind.WITHHOLD_IN_COUNTRY: "country", ActionKind.REPORT: "destination", ActionKind.REVIEW: "queue"}
_QUEUE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,49}$")


class InvalidAction(InvalidInput):
    """An action that cannot exist (unknown kind, missing or bad argument); the message says why."""


def country_code(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased, or InvalidAction."""
    if not isinstance(value, str) or len(value) != 2 or not value.isascii() or not value.isalpha():
        raise InvalidAction(f"must be a two-letter ISO 3166-1 country code such as IN, got {value!r}")
    return value.upper()


@dataclass(frozen=True)
class ActionRequest:
    """One action a verdict (or a person) asks for. Built valid or not at all.

    ``argument`` is checked against ``kind``: ``withhold_in_country`` needs a country (kept
    upper-case), ``report`` one of ``REPORT_DESTINATIONS``, ``review`` a queue name of 1-50
    lower-case letters, digits, ``-`` or ``_``; every other kind takes none.
    """

    kind: ActionKind
    argument: str | None = None

    def __post_init__(self) -> None:
        kind = self.kind
        if not isinstance(kind, ActionKind):
            raise InvalidAction(f"an action kind is an ActionKind, got {kind!r}")
        arg = self.argument
        if kind.argument_name is None:
            if arg is not None:
                raise InvalidAction(f"action {kind.value!r} takes no value, got {arg!r}")
            return
        if arg is None or arg == "":
            raise InvalidAction(f"action {kind.value!r} needs a {kind.argument_name}: {forms(kind)}")
        if kind is ActionKind.WITHHOLD_IN_COUNTRY:
            object.__setattr__(self, "argument", country_code(arg))
        elif kind is ActionKind.REPORT and arg not in REPORT_DESTINATIONS:
            raise InvalidAction(
                f"unknown report destination {arg!r}{_suggest(arg, REPORT_DESTINATIONS)}; "
                f"expected one of {', '.join(REPORT_DESTINATIONS)}"
            )
        elif kind is ActionKind.REVIEW and (not isinstance(arg, str) or not _QUEUE.match(arg)):
            raise InvalidAction(f"review queue {arg!r} must be 1-50 lower-case letters, digits, '-' or '_'")

    def __str__(self) -> str:
        return self.kind.value if self.argument is None else f"{self.kind.value}:{self.argument}"

    @classmethod
    def parse(cls, text: str) -> ActionRequest:
        """``remove_item``, ``withhold_in_country:IN``, ``report:ncmec`` ... -> ActionRequest (InvalidAction)."""
        if not isinstance(text, str):
            raise InvalidAction(f"an action is a string such as 'remove_item' or 'report:ncmec', got {text!r}")
        name, colon, arg = text.strip().partition(":")
        try:
            kind = ActionKind(name)
        except ValueError:
            raise InvalidAction(
                f"unknown action {text!r}{_suggest(text, _examples())}; expected one of {', '.join(forms(k) for k in ActionKind)}"
            ) from None
        return cls(kind, arg if colon else None)

    def to_json(self) -> dict[str, str | None]:
        """``{"kind": ..., "argument": ...}``: how an outbox message carries it."""
        return {"kind": self.kind.value, "argument": self.argument}

    @classmethod
    def from_json(cls, data: Any) -> ActionRequest:
        """The inverse of ``to_json`` (InvalidAction for anything else)."""
        if not isinstance(data, dict):
            raise InvalidAction(f"an action is {{'kind': ..., 'argument': ...}}, got {data!r}")
        try:
            kind = ActionKind(str(data.get("kind")))
        except ValueError:
            raise InvalidAction(f"unknown action kind {data.get('kind')!r}") from None
        return cls(kind, data.get("argument"))


def forms(kind: ActionKind) -> str:
    """How the kind is written: ``remove_item``, ``report:<ncmec|in_police|uk_nca>``, ``review:<queue>``..."""
    if kind is ActionKind.REPORT:
        return "report:<" + "|".join(REPORT_DESTINATIONS) + ">"
    if kind is ActionKind.WITHHOLD_IN_COUNTRY:
        return "withhold_in_country:<country code>"
    if kind is ActionKind.REVIEW:
        return "review:<queue>"
    return kind.value


def _examples() -> tuple[str, ...]:
    return tuple(k.value for k in ActionKind) + tuple(f"report:{d}" for d in REPORT_DESTINATIONS)


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
