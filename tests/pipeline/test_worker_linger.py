"""After a small batch a worker waits a moment, so items arriving one by one are scanned together."""

from __future__ import annotations

import threading

from suraksha.pipeline import views
from suraksha.pipeline.ingest import submit_item
from suraksha.pipeline.schemas import ItemIn
from suraksha.pipeline.settings import reset_pipeline_settings
from suraksha.pipeline.worker import run_worker


def test_items_arriving_during_the_linger_are_one_batch(scanner, monkeypatch):
    monkeypatch.setenv("SURAKSHA_WORKER_LINGER_MS", "1000")
    reset_pipeline_settings()
    sizes: list[int] = []
    real = scanner.scan_many
    monkeypatch.setattr(scanner, "scan_many", lambda ids: sizes.append(len(ids)) or real(ids))
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(stop,), kwargs={"scanner": scanner, "poll_interval": 0.05})
    worker.start()
    try:
        first, _ = submit_item(ItemIn(platform_id="first", text="hello"))
        assert views.wait_for_verdict(first.id, 5).status == "done"  # an idle worker starts at once
        rest = [submit_item(ItemIn(platform_id=f"next-{n}", text="hello"))[0] for n in range(5)]  # within the 1 s linger
        assert all(views.wait_for_verdict(item.id, 5).status == "done" for item in rest)
    finally:
        stop.set()
        worker.join(10)
        reset_pipeline_settings()
    assert sizes == [1, 5]


def test_the_linger_is_bounded_and_can_be_switched_off(monkeypatch):
    import pytest
    from pydantic import ValidationError

    from suraksha.pipeline.settings import PipelineSettings

    monkeypatch.setenv("SURAKSHA_WORKER_LINGER_MS", "0")
    assert PipelineSettings().worker_linger_ms == 0
    monkeypatch.setenv("SURAKSHA_WORKER_LINGER_MS", "5000")
    with pytest.raises(ValidationError):
        PipelineSettings()
