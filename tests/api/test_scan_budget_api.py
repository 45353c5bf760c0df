"""Issue 11, point 2 through the API: ``/v1/hash`` decodes under the workers' scan budget
(``SURAKSHA_SCAN_BUDGET_*``); over it is 413 with the reason, before anything is decoded."""

from __future__ import annotations

from tests.api.conftest import error_of
from tests.signals.hostile_video import count_work, moving_video, static_video

from suraksha.pipeline.settings import reset_pipeline_settings


def test_hash_refuses_a_video_over_the_scan_budget_with_413_and_the_reason(fake_client, auth, monkeypatch):
    work = count_work(monkeypatch)
    hostile = static_video(3840, 2160, 4 * 3600)  # ~0.5 MB announcing 4 hours of 4K
    r = fake_client.post("/v1/hash", files={"file": ("v.mp4", hostile, "video/mp4")}, headers=auth)
    assert r.status_code == 413, r.text
    err = error_of(r)
    assert err["code"] == "media_too_large" and err["message"].startswith("scan budget exceeded: the header's 14400 frames")
    assert work.decoded == 0

    normal = moving_video(320, 240, seconds=4, fps=10)
    r = fake_client.post("/v1/hash", files={"file": ("n.mp4", normal, "video/mp4")}, headers=auth)
    assert r.status_code == 200 and len(r.json()["vpdq"]) == 4
    monkeypatch.setenv("SURAKSHA_SCAN_BUDGET_PIXEL_FRAMES", "1000000")  # the setting is what applies
    reset_pipeline_settings()
    try:
        r = fake_client.post("/v1/hash", files={"file": ("n.mp4", normal, "video/mp4")}, headers=auth)
        assert r.status_code == 413 and "over the 1.0e6 left of 1.0e6" in error_of(r)["message"], r.text
    finally:
        monkeypatch.delenv("SURAKSHA_SCAN_BUDGET_PIXEL_FRAMES")
        reset_pipeline_settings()
