"""A video's review poster is decoded within a budget of its own (issue 11.2): when it runs out the
reviewer gets the placeholder with the reason, not a request held by the decoder. Generated videos."""

from __future__ import annotations

import functools

from tests.signals.hostile_video import count_work, static_video

from suraksha.cases import media
from suraksha.signals import budget as budget_mod


def test_a_poster_is_made_from_the_first_frame_within_its_budget(monkeypatch):
    work = count_work(monkeypatch)
    preview = media.make_preview(static_video(320, 240, 600))
    assert preview.kind == "poster" and work.decoded == 1


def test_out_of_budget_the_poster_is_a_placeholder_with_the_reason(monkeypatch):
    monkeypatch.setattr(budget_mod, "ScanBudget", functools.partial(budget_mod.ScanBudget, max_pixel_frames=1000))
    work = count_work(monkeypatch)
    preview = media.make_preview(static_video(320, 240, 5))
    assert preview.kind == "placeholder" and preview.reason.startswith("scan budget exceeded")
    assert work.decoded == 0
