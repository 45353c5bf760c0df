"""The real classifiers and the default policy inside a scan: scores stored, review queued, failures noted."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from suraksha.classify import HttpClassifier, NudeNetClassifier
from suraksha.db import session_scope
from suraksha.policy import default_policy


class NoBanks:
    """A matcher with empty banks: only classifiers can make these items interesting."""

    def lookup_media(self, ms):
        return []

    def lookup(self, signal_type, value):
        return []


def landscape_jpeg() -> bytes:
    yy, xx = np.mgrid[0:360, 0:480]
    img = np.stack([120 + yy * 0.2, 170 + yy * 0.1, 230 - xx * 0.05], -1)
    img[yy > 220 + 30 * np.sin(xx / 50.0)] = (60, 140, 70)
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def service(answer: httpx.Response) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: answer)


@pytest.fixture
def run_scan(db_url):
    pytest.importorskip("nudenet", reason="nudenet is not installed")
    from suraksha.pipeline import queue, views
    from suraksha.pipeline import scan as scan_mod
    from suraksha.pipeline.ingest import submit_item
    from suraksha.pipeline.schemas import ItemIn
    from suraksha.pipeline.worker import process_batch

    def run(classifiers):
        scanner = scan_mod.Scanner(matcher=NoBanks(), policy=default_policy(), classifiers=classifiers)
        item = submit_item(
            ItemIn(
                platform_id="p1",
                account={"id": "a1"},
                media=[{"data_base64": base64.b64encode(landscape_jpeg()).decode(), "mime": "image/jpeg"}],
            )
        )[0]
        while jobs := queue.claim_jobs("t", 8, 60):
            process_batch("t", jobs, scanner, max_attempts=2)
        return views.get_item(item.id)

    return run


def outbox_topics(item_id: int) -> list[tuple[str, str]]:
    from suraksha.outbox.models import OutboxMessage

    with session_scope() as s:
        return sorted(
            s.execute(select(OutboxMessage.topic, OutboxMessage.dedupe_key).where(OutboxMessage.item_id == item_id)).all()
        )


def test_benign_picture_is_scored_low_and_allowed(run_scan):
    view = run_scan([NudeNetClassifier()])
    assert (view.status, view.verdict, view.rule, view.error) == ("done", "allow", None, None)
    assert [(s.classifier, s.name, s.media_position) for s in view.scores] == [("nudenet", "nudity", 0)]
    assert view.scores[0].value < 0.2
    assert outbox_topics(view.id) == []


def test_high_external_score_sends_the_item_to_nudity_review(run_scan):
    http = HttpClassifier(
        "https://cls.example/score",
        name="partner",
        response_mapping={"nudity": "adult"},
        transport=service(httpx.Response(200, json={"adult": 0.93})),
    )
    view = run_scan([NudeNetClassifier(), http])
    assert (view.verdict, view.rule, view.priority) == ("review", "nudity", 50)
    assert view.actions == ["review:nudity"] and view.reasons == ["nudity: score nudity 0.93 (>= 0.8)"]
    assert sorted((s.classifier, s.value) for s in view.scores if s.value > 0.5) == [("partner", 0.93)]
    assert outbox_topics(view.id) == [("review", f"{view.id}:review:nudity")]


def test_a_classifier_that_is_down_is_noted_and_the_item_still_gets_its_verdict(run_scan):
    http = HttpClassifier(
        "https://cls.example/score",
        name="partner",
        response_mapping={"nudity": "adult"},
        transport=service(httpx.Response(503, text="maintenance")),
    )
    view = run_scan([http, NudeNetClassifier()])
    assert (view.status, view.verdict) == ("done", "allow")
    assert "partner" in view.error and "HTTP 503" in view.error and "maintenance" in view.error
    assert [s.classifier for s in view.scores] == ["nudenet"]
