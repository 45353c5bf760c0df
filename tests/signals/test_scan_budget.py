"""The scan budget (issue 11.2): hostile videos are refused before the expensive work, with the reason.

A tiny file can announce hours of big frames; before the budget, a 4000x4000 static video at 1 fps
held a worker 15 s and ~1 GB, and a 1 MB file at the 4-hour limit hours. Every video here is
generated (flat grey or a moving gradient). The work done is counted, not timed: frames decoded
(``decode_frames``) and frames hashed (``pdqhash.compute``).
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image
from tests.signals.hostile_video import Work, count_work, moving_video, static_video

from suraksha.signals import media_signals
from suraksha.signals import video as video_mod
from suraksha.signals.budget import (
    DEFAULT_MAX_FRAME_PIXELS,
    DEFAULT_MAX_PIXEL_FRAMES,
    DEFAULT_SCAN_SECONDS,
    HASHED_FRAME_COST,
    ScanBudget,
    ScanBudgetExceeded,
)
from suraksha.signals.errors import MediaTooLarge
from suraksha.signals.video import vpdq_from_bytes

QVGA = 320 * 240


@pytest.fixture
def work(monkeypatch) -> Work:
    return count_work(monkeypatch)


def test_a_tiny_file_announcing_hours_of_4k_is_refused_before_anything_is_decoded(work):
    hostile = static_video(3840, 2160, 4 * 3600)  # 4 hours at 1 fps: the duration limit allows it
    assert len(hostile) < 1_000_000
    budget = ScanBudget()  # the defaults
    with pytest.raises(
        ScanBudgetExceeded,
        match=r"scan budget exceeded: the header's 14400 frames of 3840x2160"
        r".* pixel-frames, over the 4\.0e10 left of 4\.0e10",
    ) as caught:
        media_signals(hostile, budget=budget)
    assert (work.decoded, work.hashed, budget.used_pixel_frames) == (0, 0, 0)
    # The exact hashes were computed all the same, so a known file still matches by them.
    assert caught.value.signals.sha256 == hashlib.sha256(hostile).hexdigest() and caught.value.signals.kind == "video"
    assert isinstance(caught.value, MediaTooLarge)  # 413 in the API, a media error in the worker


def test_frames_over_the_size_limit_are_refused_before_decoding(work):
    hostile = static_video(4000, 4000, 3)  # 16 MP frames: ~0.3 s and ~500 MB each to hash
    with pytest.raises(MediaTooLarge, match=f"4000x4000, over the limit of {DEFAULT_MAX_FRAME_PIXELS} pixels"):
        media_signals(hostile)
    assert (work.decoded, work.hashed) == (0, 0)
    # A smaller limit from the caller's settings is honoured too.
    with pytest.raises(MediaTooLarge, match="320x240, over the limit of 1000 pixels"):
        vpdq_from_bytes(static_video(320, 240, 2), budget=ScanBudget(max_frame_pixels=1000))


def test_an_ordinary_video_still_hashes_within_the_default_budget(work):
    data = moving_video(320, 240, seconds=10, fps=30)
    budget = ScanBudget()
    ms = media_signals(data, budget=budget)
    assert [f.second for f in ms.vpdq] == list(range(10))
    assert work.decoded == 300 and work.hashed == 10
    # Every decoded frame paid its pixels, each hashed one HASHED_FRAME_COST times more.
    assert budget.used_pixel_frames == QVGA * (300 + 10 * HASHED_FRAME_COST)
    assert ms.vpdq == vpdq_from_bytes(data, budget=ScanBudget(10**6, 10**15))  # the budget changes no hash


def test_without_a_header_estimate_the_budget_stops_decoding_frame_by_frame(work, monkeypatch):
    monkeypatch.setattr(video_mod, "_estimated_cost", lambda stream, duration: None)  # a header that says nothing
    data = static_video(320, 240, 100)
    per_second = QVGA * (1 + HASHED_FRAME_COST)
    budget = ScanBudget(max_pixel_frames=10 * per_second + QVGA // 2)
    with pytest.raises(
        ScanBudgetExceeded, match=r"scan budget exceeded: .* of 1\.3e7 pixel-frames used and the next frame needs"
    ):
        vpdq_from_bytes(data, budget=budget)
    assert work.hashed == 10 and work.decoded <= 11  # of 100: stopped before the next costly step
    assert budget.used_pixel_frames <= budget.max_pixel_frames


def test_the_deadline_stops_decoding_between_frames(work):
    now = [0.0]

    def clock() -> float:  # every look at the clock finds a second gone: decoding is slow
        now[0] += 1.0
        return now[0]

    budget = ScanBudget(seconds=5, clock=clock)
    with pytest.raises(ScanBudgetExceeded, match=r"scan budget exceeded: \d+\.0 s of decoding, over the limit of 5 s"):
        vpdq_from_bytes(static_video(320, 240, 60), budget=budget)
    assert work.decoded <= 3 and work.hashed <= 3  # of 60


def test_the_media_of_one_item_share_one_budget(work):
    data = moving_video(320, 240, seconds=4, fps=10)
    one = QVGA * (40 + 4 * HASHED_FRAME_COST)
    budget = ScanBudget(max_pixel_frames=one + one // 2)
    assert len(media_signals(data, budget=budget).vpdq) == 4
    decoded, hashed = work.decoded, work.hashed
    with pytest.raises(ScanBudgetExceeded, match=r"would cost about 8\.0e6 pixel-frames, over the 4\.0e6 left of 1\.2e7"):
        media_signals(data, budget=budget)  # the second video of the item: refused up front
    assert (work.decoded, work.hashed) == (decoded, hashed)
    # And once the time is spent, nothing more is decoded at all, pictures included.
    spent = ScanBudget(seconds=1, clock=iter([0.0, 5.0, 5.0, 5.0]).__next__)
    with pytest.raises(ScanBudgetExceeded, match="5.0 s of decoding, over the limit of 1 s"):
        media_signals(_jpeg(64, 48), budget=spent)


def test_a_picture_costs_its_pixels():
    budget = ScanBudget()
    media_signals(_jpeg(640, 480), budget=budget)
    assert budget.used_pixel_frames == 640 * 480
    with pytest.raises(ScanBudgetExceeded, match=r"3\.1e5 of 1\.0e5 pixel-frames"):
        media_signals(_jpeg(640, 480), budget=ScanBudget(max_pixel_frames=100_000))


def test_the_pipeline_settings_default_to_the_budget_defaults():
    from suraksha.pipeline.settings import PipelineSettings, new_scan_budget

    s = PipelineSettings()
    assert (s.scan_budget_seconds, s.scan_budget_pixel_frames, s.max_video_frame_pixels) == (
        DEFAULT_SCAN_SECONDS,
        DEFAULT_MAX_PIXEL_FRAMES,
        DEFAULT_MAX_FRAME_PIXELS,
    )
    made = new_scan_budget(PipelineSettings(scan_budget_seconds=5, scan_budget_pixel_frames=7, max_video_frame_pixels=9))
    assert (made.seconds, made.max_pixel_frames, made.max_frame_pixels, made.used_pixel_frames) == (5, 7, 9, 0)
    with pytest.raises(ValueError):
        PipelineSettings(scan_budget_seconds=0)


def _jpeg(width: int, height: int) -> bytes:
    y, x = np.mgrid[0:height, 0:width]
    buf = io.BytesIO()
    Image.fromarray(((x + y) % 256).astype(np.uint8)).convert("RGB").save(buf, "JPEG")
    return buf.getvalue()
