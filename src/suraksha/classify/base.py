"""The classifier interface: media bytes in, named scores out.

A classifier is anything with a ``name`` and a ``score(media, kind)`` method. It returns ``Score``
values and raises ``ClassifierError`` when it cannot score:
the scan then records "no score" plus the error and carries on, because a classifier that is down
must never block a verdict on known material.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from suraksha.errors import InvalidInput, Unavailable

__all__ = ["Classifier", "ClassifierConfigError", "ClassifierError", "Score"]


@dataclass(frozen=True)
class Score:
    """One named output of a classifier, e.g. ``nudity`` = 0.93 (probabilities are 0..1).

    Defined here, where it is produced: classify sits above policy in the layer order, so the scan
    turns these into the policy's ``ScoreFact`` (adding the classifier's name) rather than
    classify importing the policy's type.
    """

    name: str
    value: float


class ClassifierError(Unavailable, RuntimeError):
    """A classifier could not score this media (bad bytes, service down, unexpected response).

    The message is one line meant for the item's error note, prefixed with the classifier's name.
    """


class ClassifierConfigError(InvalidInput):
    """A classifier is configured wrongly; raised when it is built, never while scanning."""


@runtime_checkable
class Classifier(Protocol):
    """Scores one piece of media. ``kind`` is ``"image"`` or ``"video"``.

    Returns an empty list when the classifier does not apply to ``kind`` (that is not an error).
    Implementations must be safe to call from several threads at once.
    """

    name: str

    def score(self, media: bytes, kind: str) -> list[Score]: ...
