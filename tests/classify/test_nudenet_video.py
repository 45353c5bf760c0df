"""Videos are scored across their whole length, not only their opening seconds (benign generated video)."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("nudenet", reason="nudenet is not installed (pip install 'suraksha[classify]')")
av = pytest.importorskip("av")

from suraksha.classify import ClassifierError, NudeNetClassifier  # noqa: E402
from suraksha.classify import nudenet as nudenet_mod  # noqa: E402


def clock_video(seconds: int, fps: int = 1, size: tuple[int, int] = (64, 48)) -> bytes:
    """Grey frames a little brighter every second, so a frame tells when it is shown."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(seconds * fps):
            level = min(255, 4 * (i // fps))
            frame = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), level, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def when_shown(video: bytes, brightness: list[float]) -> list[int]:
    """The second at which each of these frame brightnesses is shown (decoded here as ground truth)."""
    with av.open(io.BytesIO(video)) as container:
        truth = [(float(f.to_ndarray(format="rgb24").mean()), round(f.time)) for f in container.decode(video=0)]
    return [min(truth, key=lambda t: abs(t[0] - b))[1] for b in brightness]


class RecordingDetector:
    """Stands in for NudeNet: remembers the brightness of every frame it is shown."""

    def __init__(self) -> None:
        self.brightness: list[float] = []

    def detect(self, bgr: np.ndarray) -> list[dict]:
        self.brightness.append(float(bgr.mean()))
        return []


@pytest.fixture
def recorder(monkeypatch) -> RecordingDetector:
    rec = RecordingDetector()
    monkeypatch.setattr(nudenet_mod, "_detector", rec)
    return rec


def test_a_long_video_is_sampled_from_start_to_end(recorder):
    video = clock_video(60)
    result = NudeNetClassifier(max_video_frames=8).score(video, "video")
    assert [f.name for f in result] == ["nudity"]
    seconds = when_shown(video, recorder.brightness)
    assert len(seconds) == 8 and seconds == sorted(seconds)
    assert seconds[0] < 8 and seconds[-1] > 50  # the last slice is scored too, not only the opening


def test_a_short_video_gets_a_frame_every_interval(recorder):
    video = clock_video(10)
    NudeNetClassifier(video_interval_seconds=2.0, max_video_frames=16).score(video, "video")
    assert when_shown(video, recorder.brightness) == [0, 2, 4, 6, 8]


def test_huge_frames_are_refused_before_decoding(recorder, monkeypatch):
    monkeypatch.setattr("suraksha.signals.video.DEFAULT_MAX_FRAME_PIXELS", 1000)
    with pytest.raises(ClassifierError, match="64x48, over the limit"):
        NudeNetClassifier().score(clock_video(3), "video")
    assert recorder.brightness == []


def test_real_model_scores_a_long_benign_video_low():
    result = NudeNetClassifier(max_video_frames=4).score(clock_video(40, size=(160, 120)), "video")
    assert result[0].name == "nudity" and result[0].value < 0.2
