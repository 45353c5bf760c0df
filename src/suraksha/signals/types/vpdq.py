"""``vpdq``: a video as the PDQ hashes of its frames (threatexchange's vPDQ signal string).

Two videos match when at least ``MATCH_PERCENT`` of the query's good frames (quality >= 50) are
within ``FRAME_DISTANCE`` of some good frame of the banked video, as vPDQ defines it; the distance
reported is the nearest pair of frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suraksha.signals.pdq import HASHABLE_QUALITY
from suraksha.signals.types.base import Comparison, IndexKind, SignalCategory, SignalType
from suraksha.signals.video import FRAME_DISTANCE, MATCH_PERCENT, VpdqFrame, frames_from_signal, frames_to_signal, vpdq_match

if TYPE_CHECKING:
    from suraksha.signals import MediaSignals

#: A frame this flat (PDQ quality below it) is neither indexed nor counted.
FRAME_QUALITY = HASHABLE_QUALITY
NO_DISTANCE = 256  # farther than any two PDQ hashes can be


def good_frames(frames: list[VpdqFrame]) -> list[VpdqFrame]:
    """The frames vPDQ matches on."""
    return [f for f in frames if f.quality >= FRAME_QUALITY]


class VpdqSignal(SignalType):
    name = "vpdq"
    te_name = "vpdq"
    index_kind = IndexKind.FRAMES
    category = SignalCategory.HASH
    default_threshold = FRAME_DISTANCE  # per frame
    match_percent = MATCH_PERCENT  # of the query's good frames
    description = 'vPDQ of a video (threatexchange\'s JSON list of "pdq,quality,second" frames): re-encoded copies'

    def normalize(self, value: str) -> str:
        return frames_to_signal(frames_from_signal(value))

    def distance(self, query: str, banked: str) -> int:
        """The nearest pair of good frames (256 when either video has none)."""
        q = [int(f.pdq, 16) for f in good_frames(frames_from_signal(query))]
        b = [int(f.pdq, 16) for f in good_frames(frames_from_signal(banked))]
        return min(((x ^ y).bit_count() for x in q for y in b), default=NO_DISTANCE)

    def compare(self, query: str, banked: str, threshold: int | None = None) -> Comparison:
        """Matched when ``match_percent`` of the query's good frames are within ``threshold`` of the banked video's."""
        frame_distance = self.default_threshold if threshold is None else threshold
        result = vpdq_match(frames_from_signal(query), frames_from_signal(banked), distance=frame_distance, quality=FRAME_QUALITY)
        return Comparison(result.query_match_percent >= self.match_percent, self.distance(query, banked))

    def examples(self) -> tuple[str, ...]:
        return (
            frames_to_signal(
                [
                    VpdqFrame(0, "e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54", 100),
                    VpdqFrame(1, "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", 90),
                ]
            ),
            frames_to_signal([VpdqFrame(0, "0f" * 32, 80), VpdqFrame(2, "33" * 32, 75)]),
        )

    def from_media(self, media: MediaSignals) -> list[tuple[str, str]]:
        return [("original", frames_to_signal(media.vpdq))] if media.vpdq else []
