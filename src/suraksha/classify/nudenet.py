"""NudeNet as an explicit-nudity probability: ``nudity`` = the highest detection score among the
explicit classes (exposed genitalia, anus, buttocks, female breast), 0.0 when none is detected.

NudeNet ships its ONNX detector (``320n.onnx``) inside the wheel, so this runs offline. The model is
loaded once per process on first use (about 0.3 s), behind a lock; onnxruntime sessions are safe
to call from several threads. Bytes are decoded in memory with the same bomb-safe opener the
signals use and handed to NudeNet as an array: no temporary files.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from suraksha.classify.base import ClassifierError, Score

#: NudeNet 3.4 labels counted as explicit nudity (the other 13 are covered parts, faces, feet, ...).
EXPLICIT_CLASSES: frozenset[str] = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)

_detector: Any = None
_detector_lock = threading.Lock()


def _get_detector() -> Any:
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                try:
                    from nudenet import NudeDetector
                except ImportError as exc:
                    raise ClassifierError("nudenet is not installed (pip install 'suraksha[classify]')") from exc
                try:
                    _detector = NudeDetector()
                except Exception as exc:  # noqa: BLE001 - a damaged model file, onnxruntime missing a provider
                    raise ClassifierError(f"NudeNet model failed to load: {exc}") from exc
    return _detector


class NudeNetClassifier:
    """``score(bytes, 'image'|'video') -> [Score('nudity', p)]``; other kinds get no score."""

    def __init__(
        self,
        name: str = "nudenet",
        *,
        score_name: str = "nudity",
        max_pixels: int | None = None,
        video_interval_seconds: float = 2.0,
        max_video_frames: int = 16,
    ) -> None:
        if video_interval_seconds <= 0 or max_video_frames < 1:
            raise ValueError("video_interval_seconds must be > 0 and max_video_frames >= 1")
        self.name = name
        self.score_name = score_name
        self._max_pixels = max_pixels
        self.video_interval_seconds = video_interval_seconds
        self.max_video_frames = max_video_frames

    def load(self) -> None:
        """Load the model now (e.g. at worker start) instead of on the first media."""
        _get_detector()

    def score(self, media: bytes, kind: str) -> list[Score]:
        if kind == "image":
            frames = [self._decode_image(media)]
        elif kind == "video":
            frames = self._video_frames(media)
        else:
            return []
        detector = _get_detector()
        best = 0.0
        for bgr in frames:
            try:
                detections = detector.detect(bgr)
            except Exception as exc:  # noqa: BLE001 - onnxruntime/cv2 errors become one clear note
                raise ClassifierError(f"NudeNet failed on this media: {exc}") from exc
            for d in detections:
                if d.get("class") in EXPLICIT_CLASSES:
                    best = max(best, float(d.get("score", 0.0)))
        return [Score(self.score_name, round(best, 4))]

    # ------------------------------------------------------------------ decoding
    def _limit(self) -> int:
        if self._max_pixels is not None:
            return self._max_pixels
        from suraksha.config import get_settings

        return get_settings().max_image_pixels

    def _decode_image(self, media: bytes) -> np.ndarray:
        from suraksha.signals.errors import MediaError
        from suraksha.signals.pdq import open_image, to_reference_rgb

        try:
            # At most 512 px a side, EXIF orientation applied: NudeNet resizes to 320 px anyway.
            rgb = to_reference_rgb(open_image(media, max_pixels=self._limit()))
        except MediaError as exc:
            raise ClassifierError(f"cannot decode image: {exc}") from exc
        return np.ascontiguousarray(rgb[:, :, ::-1])  # NudeNet expects OpenCV's BGR order

    def _video_frames(self, media: bytes) -> list[np.ndarray]:
        """At most ``max_video_frames`` frames, decoded in memory, spread over the whole video.

        Short videos: a frame every ``video_interval_seconds`` from the start. Longer ones (duration
        known): one frame in the middle of each of ``max_video_frames`` equal slices, reached by
        seeking, so what comes after a harmless opening is scored too and a long video costs about
        ``max_video_frames`` short decodes, not a full one.

        Every frame decoded on the way is paid for from a scan budget of its own (signals.budget:
        the defaults, ~60 s): a stream whose frame times never advance, or slices far from their
        key frames, cannot make sampling a full decode. Out of budget, the frames sampled so far are
        scored (none: ClassifierError with the reason).
        """
        from suraksha.signals.budget import ScanBudget
        from suraksha.signals.errors import MediaError
        from suraksha.signals.video import first_video_stream

        budget = ScanBudget()
        try:
            with first_video_stream(media) as (container, stream):
                duration = _duration_seconds(container, stream)
                if duration and stream.time_base and duration > self.video_interval_seconds * self.max_video_frames:
                    frames = self._frames_at(container, stream, duration, budget)
                else:
                    frames = self._frames_from_start(container, stream, budget)
        except ClassifierError:
            raise
        except MediaError as exc:  # not a video, no video stream, frames over the limit
            raise ClassifierError(f"cannot open video: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - truncated or damaged streams
            raise ClassifierError(f"cannot decode video: {exc}") from exc
        if not frames:
            raise ClassifierError("video has no decodable frames")
        return frames

    def _frames_from_start(self, container: Any, stream: Any, budget: Any) -> list[np.ndarray]:
        from suraksha.signals.video import decode_frames

        frames: list[np.ndarray] = []
        next_t = 0.0
        try:
            for frame in decode_frames(container, stream, budget):
                if frame.time is not None and frame.time < next_t:
                    continue
                frames.append(_bgr(frame))
                next_t = (frame.time or 0.0) + self.video_interval_seconds
                if len(frames) >= self.max_video_frames:
                    break
        except ClassifierError:
            raise
        except Exception:  # noqa: BLE001 - a damaged tail or the budget spent: keep the frames so far
            if not frames:
                raise
        return frames

    def _frames_at(self, container: Any, stream: Any, duration: float, budget: Any) -> list[np.ndarray]:
        from suraksha.signals.budget import ScanBudgetExceeded
        from suraksha.signals.video import decode_frames

        frames: list[np.ndarray] = []
        n = self.max_video_frames
        for i in range(n):
            target = duration * (i + 0.5) / n
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
                for decoded, frame in enumerate(decode_frames(container, stream, budget)):
                    # The keyframe before the target, then forward to it (at most ~10 s of frames).
                    if frame.time is None or frame.time >= target - 1e-3 or decoded >= 300:
                        frames.append(_bgr(frame))
                        break
            except ClassifierError:
                raise
            except ScanBudgetExceeded:
                if not frames:
                    raise
                break  # score the slices sampled within the budget
            except Exception:  # noqa: BLE001 - one damaged slice does not lose the others
                continue
        return frames


def _bgr(frame: Any) -> np.ndarray:
    """A PyAV frame as NudeNet's input: at most 512 px a side, OpenCV's BGR order."""
    from PIL import Image

    from suraksha.signals.video import DEFAULT_MAX_FRAME_PIXELS

    if frame.width * frame.height > DEFAULT_MAX_FRAME_PIXELS:  # the stream header may not have said
        raise ClassifierError(f"video frames are {frame.width}x{frame.height}, over the limit")
    img = frame.to_image()
    img.thumbnail((512, 512), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"))[:, :, ::-1])


def _duration_seconds(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None
