"""Signals: values computed from content. Pure functions: no I/O beyond the bytes handed in, no DB.

What each signal type is (its name, canonical form, distance, threatexchange name, which index
holds it) lives in the registry, ``suraksha.signals.types``; names follow python-threatexchange so
banks interoperate: ``sha256``, ``md5``, ``pdq``, ``vpdq``, ``url``, ``domain``, ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from suraksha.signals.budget import ScanBudget, ScanBudgetExceeded
from suraksha.signals.crypto import md5_hex, sha256_hex
from suraksha.signals.errors import InvalidSignal, MediaError, MediaTooLarge, UnsupportedMedia
from suraksha.signals.formats import detect, unsupported
from suraksha.signals.pdq import DEFAULT_MAX_PIXELS, PdqResult
from suraksha.signals.types import get_signal_type, signal_type_names
from suraksha.signals.video import DEFAULT_MAX_SECONDS, VpdqFrame, frames_from_signal, frames_to_signal

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class MediaSignals:
    """The signals of one media file: crypto hashes always, PDQ (+ variants) for images, vPDQ for video."""

    kind: str  # "image" | "video"
    sha256: str
    md5: str
    pdq: PdqResult | None = None
    pdq_dihedral: list[tuple[str, str]] | None = None  # (transform, hex), "original" first
    vpdq: list[VpdqFrame] | None = None


def normalize_signal(signal_type: str, value: str) -> str:
    """Validate a raw signal string and return its canonical form (raises InvalidSignal, also for
    an unknown type). A read of the registry: ``get_signal_type(signal_type).normalize(value)``."""
    return get_signal_type(signal_type).normalize(value)


def __getattr__(name: str) -> Any:
    """``SIGNAL_TYPES``: the registered type names, read from the registry when asked for (so a
    type registered later is included). Kept for ``policy.conditions``; new code calls
    ``signal_type_names()``."""
    if name == "SIGNAL_TYPES":
        return signal_type_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sniff_kind(data: bytes) -> str | None:
    """'image' or 'video' when the magic bytes are a format Suraksha decodes (signals.formats);
    None for anything else, which nothing may try to decode. The declared MIME type is not trusted."""
    fmt = detect(data)
    return fmt.kind if fmt is not None else None


def media_signals(
    data: bytes,
    mime: str | None = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: int = DEFAULT_MAX_SECONDS,
    fast: bool = False,
    budget: ScanBudget | None = None,
) -> MediaSignals:
    """Everything matching needs from one piece of media, from one decode.

    The type comes from the magic bytes alone, and only the allowed formats of signals.formats are
    decoded (anything else is UnsupportedMedia naming what was seen); ``mime`` is accepted for
    callers but decides nothing, because a declared type is whatever the uploader wanted it to be.
    ``max_pixels`` bounds an image and each video frame. Bad media raises a MediaError subclass and
    nothing else.

    Decoding is paid for from ``budget``, the scan budget of the item this media belongs to (shared
    by all its media; a fresh default one when None): a picture costs its pixels, a video its
    frames (signals.budget). Over budget raises ScanBudgetExceeded carrying the exact hashes, which
    were computed first, as ``.signals``.
    """
    from suraksha.signals.pdq import open_image, pdq_dihedral_from_array, to_reference_rgb
    from suraksha.signals.video import vpdq_from_bytes

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UnsupportedMedia("media must be bytes")
    data = bytes(data)
    if not data:
        raise UnsupportedMedia("media is empty (0 bytes)")
    if len(data) > max_bytes:
        raise MediaTooLarge(f"media is {len(data)} bytes, over the limit of {max_bytes}")
    kind = sniff_kind(data)
    if kind is None:  # never "let a decoder try": Pillow would run Ghostscript on an EPS
        raise unsupported(data)
    sha, md5 = sha256_hex(data), md5_hex(data)
    budget = budget if budget is not None else ScanBudget()
    try:
        budget.check()  # the item's other media may have spent its time already
        if kind == "video":
            frames = vpdq_from_bytes(data, max_seconds=max_seconds, max_frame_pixels=max_pixels, budget=budget)
            return MediaSignals("video", sha, md5, vpdq=frames)
        # The picture is never held in a local: to_reference_rgb frees it while it works, so a
        # worker's next picture reuses that memory instead of page-faulting it in (test_worker_memory).
        rgb = to_reference_rgb(budget.pay_for_picture(open_image(data, max_pixels=max_pixels)), fast=fast)
        pdq, variants = pdq_dihedral_from_array(rgb)
    except ScanBudgetExceeded as exc:
        exc.signals = MediaSignals(kind, sha, md5)  # a known file is still matched by its exact hashes
        raise
    return MediaSignals("image", sha, md5, pdq=pdq, pdq_dihedral=variants)


def vpdq_to_signal(frames: list[VpdqFrame]) -> str:
    """Serialise vPDQ frames as threatexchange's vPDQ signal string."""
    return frames_to_signal(frames)


def vpdq_from_signal(signal: str) -> list[VpdqFrame]:
    return frames_from_signal(signal)


__all__ = [
    "MediaSignals",
    "media_signals",
    "normalize_signal",
    "sniff_kind",
    "vpdq_to_signal",
    "vpdq_from_signal",
    "PdqResult",
    "VpdqFrame",
    "MediaError",
    "InvalidSignal",
]
