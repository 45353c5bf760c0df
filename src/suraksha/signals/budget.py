"""The scan budget: how much decoding one item's media may cost, in wall time and in pixels.

A video's cost is not its size: a 119 KB file of a static 4000x4000 picture at 1 fps decodes to
16 MP per second, and a 1 MB file can announce hours of frames. Limits on bytes, duration and frame
size alone let such a file hold a worker for minutes and hundreds of megabytes, so every item's
media share one ``ScanBudget``:

- **wall time** (``seconds``): checked before each media, before each frame is decoded and after
  each decoded frame. One frame's decode and hash cannot be interrupted, so the frame size limit
  (``max_frame_pixels``) is what bounds the overshoot: at most one frame of that size.
- **pixel-frames** (``max_pixel_frames``): a machine-independent measure of the work. Every
  decoded frame costs its pixels; a frame that is also hashed at full size (vPDQ hashes one frame
  per second) costs ``HASHED_FRAME_COST`` times its pixels more, because converting and hashing a
  pixel takes about that much longer than decoding it (measured: ~1.3 ns to decode, ~21 ns to
  convert and PDQ-hash a pixel of H.264 on one core). A picture costs its pixels. A video's cost is
  first *estimated* from its header (frames x width x height) and refused before anything is
  decoded when the estimate is over what is left; the real cost is then charged frame by frame,
  so a header that lies gains nothing.

Pure: no I/O, and the clock is injectable. One budget belongs to one item being scanned in one
thread; it is not shared between threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from suraksha.signals.errors import MediaTooLarge

if TYPE_CHECKING:  # pragma: no cover
    from suraksha.signals import MediaSignals


class _Picture(Protocol):
    """What ``pay_for_picture`` reads of a picture (a Pillow image, opened but not decoded)."""

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...


PictureT = TypeVar("PictureT", bound=_Picture)

#: Wall-clock seconds of decoding one item's media may take.
DEFAULT_SCAN_SECONDS = 60.0
#: Pixel-frames one item's media may cost: about 60 s of decoding and hashing on one core of the
#: reference 2-core VM. Ordinary video passes: 1080p at 30 fps costs ~9.5e7 per second of video
#: (7 minutes fit), 720p ~4.2e7 (16 minutes), 4K ~3.8e8 (1.7 minutes), 320x240 ~5e6 (2 hours).
DEFAULT_MAX_PIXEL_FRAMES = 40_000_000_000
#: Largest video frame decoded at all: 4096x2304, so UHD and DCI 4K in either orientation pass.
#: It is the unit of work the deadline cannot interrupt: a frame at the limit took 0.2-1 s to decode
#: and hash and the process peaked at ~440 MB (a 7000x7000 frame: 1.7 GB and 3.5-10 s).
DEFAULT_MAX_FRAME_PIXELS = 4096 * 2304
#: A frame hashed at full size costs this many times its pixels on top of decoding it.
HASHED_FRAME_COST = 16


def sci(value: float) -> str:
    """A count in short scientific notation for messages: 2.1e9, 4.0e10."""
    if not value:
        return "0"
    mantissa, _, exponent = f"{value:.1e}".partition("e")
    return f"{mantissa}e{int(exponent)}"


class ScanBudgetExceeded(MediaTooLarge):
    """Media whose decoding would exceed (or has exceeded) the item's scan budget.

    ``signals`` holds what was computed before the budget ran out (the exact hashes, computed from
    the bytes, cost nothing to speak of), so a known file is still matched by them.
    """

    def __init__(self, message: str, signals: MediaSignals | None = None) -> None:
        super().__init__(message)
        self.signals = signals


class ScanBudget:
    """A deadline and a pixel-frame counter for the media of one item (see the module docstring)."""

    def __init__(
        self,
        seconds: float = DEFAULT_SCAN_SECONDS,
        max_pixel_frames: int = DEFAULT_MAX_PIXEL_FRAMES,
        *,
        max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if seconds <= 0 or max_pixel_frames <= 0 or max_frame_pixels <= 0:
            raise ValueError("a scan budget needs seconds, pixel-frames and frame pixels above 0")
        self.seconds = float(seconds)
        self.max_pixel_frames = int(max_pixel_frames)
        self.max_frame_pixels = int(max_frame_pixels)
        self._clock = clock
        self._started = clock()
        self.used_pixel_frames = 0

    @property
    def elapsed(self) -> float:
        """Seconds since the budget was made (the item's scan started)."""
        return self._clock() - self._started

    @property
    def remaining_pixel_frames(self) -> int:
        return max(0, self.max_pixel_frames - self.used_pixel_frames)

    def check(self, upcoming: int = 0) -> None:
        """ScanBudgetExceeded when the time is up, or when ``upcoming`` more pixel-frames (the next
        frame, at the size its stream declares) would go over: called *before* that work."""
        elapsed = self.elapsed
        if elapsed > self.seconds:
            raise ScanBudgetExceeded(
                f"scan budget exceeded: {elapsed:.1f} s of decoding, over the limit of {self.seconds:g} s ({self._pixels_text()})"
            )
        if upcoming > 0 and self.used_pixel_frames + upcoming > self.max_pixel_frames:
            raise ScanBudgetExceeded(
                f"scan budget exceeded: {elapsed:.1f} s of decoding, {self._pixels_text()} used "
                f"and the next frame needs {sci(upcoming)}"
            )

    def charge(self, pixel_frames: int) -> None:
        """Book work done (a decoded frame, a decoded picture), then ``check`` the budget."""
        self.used_pixel_frames += max(0, int(pixel_frames))
        elapsed = self.elapsed
        if self.used_pixel_frames > self.max_pixel_frames:
            raise ScanBudgetExceeded(f"scan budget exceeded: {elapsed:.1f} s of decoding, {self._pixels_text()}")
        self.check()

    def pay_for_picture(self, image: PictureT) -> PictureT:
        """Charge a picture's pixels (from its header, before any is decoded) and hand it back."""
        self.charge(image.width * image.height)
        return image

    def check_estimate(self, pixel_frames: float, what: str) -> None:
        """Refuse up front, before anything is decoded, work estimated (from a header) to cost more
        than is left; ``what`` says where the estimate came from, for the message."""
        if pixel_frames > self.remaining_pixel_frames:
            raise ScanBudgetExceeded(
                f"scan budget exceeded: {what} would cost about {sci(pixel_frames)} "
                f"pixel-frames, over the {sci(self.remaining_pixel_frames)} left of "
                f"{sci(self.max_pixel_frames)}"
            )

    def _pixels_text(self) -> str:
        return f"{sci(self.used_pixel_frames)} of {sci(self.max_pixel_frames)} pixel-frames"

    def __repr__(self) -> str:
        return f"ScanBudget({self.elapsed:.1f}/{self.seconds:g} s, {self._pixels_text()}, frames <= {self.max_frame_pixels} px)"
