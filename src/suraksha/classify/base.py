"""The classifier interface: media bytes in, named scores out.

A classifier is anything with a ``name`` and a ``score(media, kind)`` method. It returns
``ScoreFact`` values (the policy's input type) and raises ``ClassifierError`` when it cannot score:
the scan then records "no score" plus the error and carries on, because a classifier that is down
must never block a verdict on known material.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from suraksha.policy.model import ScoreFact

__all__ = ["Classifier", "ClassifierConfigError", "ClassifierError", "ScoreFact"]


class ClassifierError(RuntimeError):
    """A classifier could not score this media (bad bytes, service down, unexpected response).

    The message is one line meant for the item's error note, prefixed with the classifier's name.
    """


class ClassifierConfigError(ValueError):
    """A classifier is configured wrongly; raised when it is built, never while scanning."""


@runtime_checkable
class Classifier(Protocol):
    """Scores one piece of media. ``kind`` is ``"image"`` or ``"video"``.

    Returns an empty list when the classifier does not apply to ``kind`` (that is not an error).
    Implementations must be safe to call from several threads at once.
    """

    name: str

    def score(self, media: bytes, kind: str) -> list[ScoreFact]: ...
