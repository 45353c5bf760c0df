"""NudeNet's video sampling is paid for from a scan budget (issue 11.2): out of budget it scores
the frames sampled so far, or says why it has none. Generated grey videos; the detector is a recorder."""

from __future__ import annotations

import functools

import pytest

pytest.importorskip("nudenet", reason="nudenet is not installed (pip install 'suraksha[classify]')")

from tests.signals.hostile_video import count_work, static_video  # noqa: E402

from suraksha.classify import ClassifierError, NudeNetClassifier  # noqa: E402
from suraksha.classify import nudenet as nudenet_mod  # noqa: E402
from suraksha.signals import budget as budget_mod  # noqa: E402

QVGA = 320 * 240


class Recorder:
    def __init__(self) -> None:
        self.shown = 0

    def detect(self, bgr) -> list[dict]:
        self.shown += 1
        return []


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(nudenet_mod, "_detector", rec)
    return rec


def small_budgets(monkeypatch, pixel_frames: int) -> None:
    monkeypatch.setattr(budget_mod, "ScanBudget", functools.partial(budget_mod.ScanBudget, max_pixel_frames=pixel_frames))


def test_seeking_slices_stop_at_the_budget_and_the_frames_so_far_are_scored(recorder, monkeypatch):
    video = static_video(320, 240, 120)  # 16 slices of 7.5 s, each decoded from the key frame at 0 s
    work = count_work(monkeypatch)
    assert NudeNetClassifier().score(video, "video")[0].name == "nudity"
    unbounded = (work.decoded, recorder.shown)
    assert unbounded[1] == 16
    work.decoded = recorder.shown = 0
    small_budgets(monkeypatch, 40 * QVGA)
    assert NudeNetClassifier().score(video, "video")[0].name == "nudity"
    assert 0 < recorder.shown < 16 and work.decoded <= 40 < unbounded[0]


def test_sampling_from_the_start_is_bounded_too(recorder, monkeypatch):
    small_budgets(monkeypatch, QVGA // 2)  # not even one frame
    work = count_work(monkeypatch)
    with pytest.raises(ClassifierError, match="scan budget exceeded"):
        NudeNetClassifier().score(static_video(320, 240, 10), "video")
    assert work.decoded == 0 and recorder.shown == 0
