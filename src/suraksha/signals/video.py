"""vPDQ: one PDQ hash per second of video, decoded in memory with PyAV (no temporary file).

Matching follows vPDQ's semantics: only frames of quality >= 50 count; a query frame matches when
any frame of the other video is within distance 31; a video matches when >= 80% of the query's
frames match.

Decoding is paid for from the item's scan budget (signals.budget): a video whose header announces
more work than is left is refused before anything is decoded, and every frame is checked before it
is decoded and charged after, so no video holds a worker longer than the budget plus one frame.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import pdqhash

from suraksha.signals.budget import DEFAULT_MAX_FRAME_PIXELS as BUDGET_FRAME_PIXELS
from suraksha.signals.budget import HASHED_FRAME_COST, ScanBudget, sci
from suraksha.signals.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia, reason
from suraksha.signals.formats import check_video_codec, video_demuxer
from suraksha.signals.pdq import HASHABLE_QUALITY

FRAME_DISTANCE = 31
MATCH_PERCENT = 80.0
DEFAULT_MAX_SECONDS = 4 * 3600
DEFAULT_MAX_FRAME_PIXELS = BUDGET_FRAME_PIXELS  # 4096x2304 (was 40 MP: 1.8 GB and 5 s for one 7000x7000 frame)
#: Decoder threads per video. FFmpeg's default is one per core (up to 16) and each thread holds
#: frames of its own: a 4000x4000 video took 1.0 GB with 16 threads, 0.6 GB with 2-3.
DECODER_THREADS = 4


@dataclass(frozen=True)
class VpdqFrame:
    """The PDQ hash of the frame shown at ``second`` (quality < 50: too flat to match on)."""

    second: int
    pdq: str
    quality: int


@dataclass(frozen=True)
class VpdqMatch:
    """How much of each video is found in the other; vPDQ calls a video matched at >= 80% of the query."""

    query_match_percent: float
    target_match_percent: float

    @property
    def matched(self) -> bool:
        return self.query_match_percent >= MATCH_PERCENT


@contextmanager
def first_video_stream(source: bytes | BinaryIO, *, max_frame_pixels: int | None = None) -> Iterator[tuple[Any, Any]]:
    """``(container, stream)``: the first video stream of in-memory media (PyAV), with the frame size
    its header announces checked before anything is decoded; the container is closed on exit.

    One way in for every reader of video (vPDQ, review posters, NudeNet). Raises UnsupportedMedia
    (not a video, no video stream), CorruptMedia (a damaged container) or MediaTooLarge.
    """
    import av

    stream_in = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    demuxer = video_demuxer(stream_in)  # only the allowed container's demuxer; FFmpeg never probes
    try:
        container = av.open(stream_in, mode="r", format=demuxer)
    except Exception as exc:
        raise CorruptMedia(f"video container is damaged ({reason(exc)})") from None
    try:
        if not container.streams.video:
            raise UnsupportedMedia("the file has no video stream")
        stream = container.streams.video[0]
        check_video_codec(stream)  # before any packet reaches a decoder
        check_frame_pixels(stream.codec_context.width, stream.codec_context.height, max_frame_pixels)
        yield container, stream
    finally:
        container.close()


def check_frame_pixels(width: int | None, height: int | None, max_frame_pixels: int | None = None) -> None:
    """MediaTooLarge for frames over the pixel limit (``DEFAULT_MAX_FRAME_PIXELS`` unless given)."""
    limit = DEFAULT_MAX_FRAME_PIXELS if max_frame_pixels is None else max_frame_pixels
    if width and height and width * height > limit:
        raise MediaTooLarge(f"video frames are {width}x{height}, over the limit of {limit} pixels")


def decode_frames(
    container: Any, stream: Any, budget: ScanBudget | None = None, *, max_frame_pixels: int | None = None
) -> Iterator[Any]:
    """The decoded frames of ``stream``, each paid for from ``budget`` (a fresh default one if None).

    The one way video frames are decoded (vPDQ, NudeNet, review posters): before a packet reaches
    the decoder the budget must have room for a frame of the size the stream declares, and each
    decoded frame is checked against the frame size limit and charged at its real size, so neither
    a long stream nor a header that lies gets more than one frame past the budget. Raises
    ScanBudgetExceeded or MediaTooLarge (decoder errors pass through to the caller).
    """
    budget = budget if budget is not None else ScanBudget()
    limit = min(budget.max_frame_pixels, max_frame_pixels or budget.max_frame_pixels)
    ctx = stream.codec_context
    for packet in container.demux(stream):
        budget.check((ctx.width or 0) * (ctx.height or 0))
        for frame in packet.decode():
            check_frame_pixels(frame.width, frame.height, limit)
            budget.charge(frame.width * frame.height)
            yield frame


def vpdq_from_bytes(
    source: bytes | BinaryIO,
    *,
    max_seconds: int = DEFAULT_MAX_SECONDS,
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS,
    budget: ScanBudget | None = None,
) -> list[VpdqFrame]:
    """Hash the frame shown at each whole second (0, 1, 2, ...) of the first video stream.

    ``source`` is bytes or any readable binary file object; it is decoded in memory, so media never
    touches the disk. The work is paid for from ``budget`` (the item's; a fresh default one when
    None): refused up front when the header's frames x size cost more than is left, then charged
    frame by frame (``decode_frames``), a full-size hash costing ``HASHED_FRAME_COST`` times the
    frame's pixels on top. Bad input raises UnsupportedMedia, CorruptMedia or MediaTooLarge
    (ScanBudgetExceeded when over budget), nothing else.
    """
    budget = budget if budget is not None else ScanBudget()
    max_frame_pixels = min(max_frame_pixels, budget.max_frame_pixels)
    frames: list[VpdqFrame] = []
    duration: float | None = None
    try:
        budget.check()
        with first_video_stream(source, max_frame_pixels=max_frame_pixels) as (container, stream):
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = DECODER_THREADS
            duration = _duration_seconds(container, stream)
            if duration is not None and duration > max_seconds:
                raise MediaTooLarge(f"video is {duration:.0f} s long, over the limit of {max_seconds} s")
            estimate = _estimated_cost(stream, duration)
            if estimate is not None:
                budget.check_estimate(*estimate)
            next_second = 0
            half_frame = 0.5 / float(stream.average_rate) if stream.average_rate else 0.0
            for frame in decode_frames(container, stream, budget, max_frame_pixels=max_frame_pixels):
                t = frame.time
                if t is None:
                    continue
                if t + half_frame < next_second:
                    continue
                if t > max_seconds:
                    raise MediaTooLarge(f"video runs past the limit of {max_seconds} s")
                hash_cost = frame.width * frame.height * HASHED_FRAME_COST
                budget.check(hash_cost)  # before the full-size conversion and hash, the costly part
                # The whole frame, not a 512 px thumbnail: vPDQ (and so every vPDQ bank) hashes full
                # frames, and that is 1-4 bits from its output where a thumbnail is 2-10 (tests).
                bits, quality = pdqhash.compute(frame.to_ndarray(format="rgb24"))
                budget.charge(hash_cost)
                pdq_hex = np.packbits(bits.astype(np.uint8)).tobytes().hex()
                # A long gap between frames (variable frame rate) covers several seconds with one frame.
                while next_second <= t + half_frame:
                    frames.append(VpdqFrame(next_second, pdq_hex, int(quality)))
                    next_second += 1
    except MediaError:
        raise
    except MemoryError:
        raise MediaTooLarge("video too large to decode") from None
    except Exception as exc:
        raise CorruptMedia(f"video data is truncated or damaged ({reason(exc)})") from None
    if not frames:
        raise CorruptMedia("video has no decodable frames")
    if duration is not None and frames[-1].second + 2 < duration:
        raise CorruptMedia(f"video is truncated: frames stop at {frames[-1].second} s of {duration:.0f} s")
    return frames


def _estimated_cost(stream: Any, duration: float | None) -> tuple[float, str] | None:
    """(pixel-frames, description) that vPDQ of this stream will cost by its header, or None when the
    header does not say (then only the frame-by-frame charges bound it)."""
    ctx = stream.codec_context
    width, height = ctx.width or 0, ctx.height or 0
    rate = float(stream.average_rate or stream.guessed_rate or 0)
    if stream.frames:
        count = float(stream.frames)
    elif duration and rate:
        count = duration * rate
    else:
        return None
    if not width or not height:
        return None
    if duration is None and rate:
        duration = count / rate
    hashed = min(count, max(1, math.ceil(duration))) if duration is not None else count  # one per second
    cost = width * height * (count + hashed * HASHED_FRAME_COST)
    seconds = f", {duration:.0f} s" if duration is not None else ""
    return cost, f"the header's {count:.0f} frames of {width}x{height}{seconds} ({sci(width * height * count)} decoded pixels)"


def _duration_seconds(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def vpdq_match(
    query: Sequence[VpdqFrame],
    target: Sequence[VpdqFrame],
    *,
    distance: int = FRAME_DISTANCE,
    quality: int = HASHABLE_QUALITY,
) -> VpdqMatch:
    """Share of each video's good frames that have a match in the other (vPDQ brute force)."""
    q = [int(f.pdq, 16) for f in query if f.quality >= quality]
    t = [int(f.pdq, 16) for f in target if f.quality >= quality]
    if not q or not t:
        return VpdqMatch(0.0, 0.0)
    q_hit = sum(1 for a in q if any((a ^ b).bit_count() <= distance for b in t))
    t_hit = sum(1 for b in t if any((a ^ b).bit_count() <= distance for a in q))
    return VpdqMatch(100.0 * q_hit / len(q), 100.0 * t_hit / len(t))


def frames_to_signal(frames: Sequence[VpdqFrame]) -> str:
    """threatexchange's vPDQ signal string: a JSON list of "pdq,quality,timestamp" strings.

    The timestamp is written as threatexchange writes it (``format(t, ".3")``: three significant
    digits, so 0.0, 12.0, 1.23e+02), so strings round-trip byte for byte with HMA banks.
    """
    import json

    return json.dumps([f"{f.pdq},{f.quality},{float(f.second):.3}" for f in frames])


def frames_from_signal(signal: str) -> list[VpdqFrame]:
    """Parse threatexchange's vPDQ signal string (raises InvalidSignal)."""
    import json

    from suraksha.signals.errors import InvalidSignal
    from suraksha.signals.pdq import normalize_pdq

    try:
        items = json.loads(signal)
    except (json.JSONDecodeError, TypeError):
        raise InvalidSignal('a vPDQ signal is a JSON list of "pdq,quality,timestamp" strings') from None
    if not isinstance(items, list) or not items:
        raise InvalidSignal('a vPDQ signal is a non-empty JSON list of "pdq,quality,timestamp" strings')
    frames = []
    for n, item in enumerate(items):
        parts = item.split(",") if isinstance(item, str) else []
        if len(parts) != 3:
            raise InvalidSignal(f'vPDQ frame {n}: expected "pdq,quality,timestamp", got {str(item)[:80]!r}')
        try:
            q = int(parts[1])
            ts = float(parts[2])
        except ValueError:
            raise InvalidSignal(f"vPDQ frame {n}: quality and timestamp must be numbers") from None
        if not 0 <= q <= 100 or ts < 0 or not math.isfinite(ts):
            raise InvalidSignal(f"vPDQ frame {n}: quality must be 0-100 and the timestamp >= 0")
        frames.append(VpdqFrame(int(ts), normalize_pdq(parts[0]), q))
    return frames
