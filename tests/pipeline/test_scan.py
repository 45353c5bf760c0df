"""Scanning end to end with in-process workers: verdicts, outbox, media errors, accounts."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import func, select

from suraksha.db import session_scope
from suraksha.items.models import ItemMedia, PendingMedia
from suraksha.outbox.models import OutboxMessage
from suraksha.pipeline import queue, views
from suraksha.pipeline.ingest import submit_item
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.schemas import ItemIn
from suraksha.pipeline.worker import process_batch, scan_now, start_background_workers

from .conftest import BENIGN_IMAGE, CSAM_IMAGE, NCII_IMAGE, b64

ONION = "a" * 55 + "d.onion"  # a v3 address ends in "d" (its version byte)


_POSTS = itertools.count(1)


def submit(**kw) -> int:
    kw.setdefault("platform_id", f"p{next(_POSTS)}")  # one platform item is one item: each post its own id
    kw.setdefault("account", {"id": "acct-1"})
    return submit_item(ItemIn(**kw))[0].id


def drain(scanner) -> None:
    while jobs := queue.claim_jobs("test-worker", 16, 60):
        process_batch("test-worker", jobs, scanner, max_attempts=3)


def outbox(item_id: int) -> list[tuple[str, str]]:
    with session_scope() as s:
        return sorted(
            s.execute(select(OutboxMessage.topic, OutboxMessage.dedupe_key).where(OutboxMessage.item_id == item_id)).all()
        )


def test_known_csam_image_is_removed_reported_and_preserved(scanner):
    item_id = submit(media=[{"data_base64": b64(CSAM_IMAGE), "mime": "image/jpeg"}])
    drain(scanner)
    view = views.get_item(item_id)
    assert (view.status, view.verdict, view.rule) == ("done", "remove", "csam-match")
    assert [(m.bank, m.label, m.signal_type, m.media_position) for m in view.matches] == [("local-csam", "csam", "sha256", 0)]
    assert view.media[0].signals["sha256"] and view.media[0].signals["pdq"]
    assert outbox(item_id) == [
        ("action", f"{item_id}:action:remove_item"),
        ("action", f"{item_id}:action:suspend_account"),
        ("preserve", f"{item_id}:preserve"),
        ("report", f"{item_id}:report:in_police"),
        ("report", f"{item_id}:report:ncmec"),
    ]
    with session_scope() as s:
        msg = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == "report")).first()
        assert msg.payload["labels"] == ["csam"] and msg.payload["platform_account_id"] == "acct-1" and msg.status == "pending"
        # preserve: the bytes stay, held for the evidence vault
        held = s.execute(select(PendingMedia.data, PendingMedia.held_for_evidence)).all()
        assert held == [(CSAM_IMAGE, True)]


def test_benign_image_is_allowed_and_its_bytes_deleted_but_signals_kept(scanner):
    item_id = submit(media=[{"data_base64": b64(BENIGN_IMAGE)}])
    drain(scanner)
    view = views.get_item(item_id)
    assert (view.verdict, view.actions, view.matches) == ("allow", [], [])
    assert outbox(item_id) == []
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(PendingMedia)) == 0
        assert s.scalar(select(ItemMedia.sha256)) is not None


def test_corrupt_media_is_recorded_and_the_item_still_gets_a_verdict(scanner):
    item_id = submit(text=f"see {ONION}", media=[{"data_base64": b64(b"CORRUPT jpeg")}, {"data_base64": b64(NCII_IMAGE)}])
    drain(scanner)
    view = views.get_item(item_id)
    assert view.status == "done" and view.verdict == "remove" and view.rule == "ncii-match"
    assert view.media[0].error.startswith("CorruptMedia") and view.media[1].error is None
    assert "media[0]: CorruptMedia" in view.error
    assert {"kind": "onion", "value": ONION} in view.text_hits


def test_onion_link_goes_to_review_high_once(scanner):
    item_id = submit(text=f"join http://{ONION}/x")
    drain(scanner)
    view = views.get_item(item_id)
    assert (view.verdict, view.priority) == ("review", 90)
    assert outbox(item_id) == [("review", f"{item_id}:review:high")]


def test_links_match_by_canonical_url_and_domain(scanner):
    a = submit(platform_id="a", links=["HTTP://BAD.example/abuse/page1#frag"])
    b = submit(platform_id="b", text="look http://evil-host.example/whatever")
    c = submit(platform_id="c", links=["https://fine.example/"])
    drain(scanner)
    assert [(m.bank, m.signal_type) for m in views.get_item(a).matches] == [("csam-urls", "url")]
    assert [(m.bank, m.signal_type) for m in views.get_item(b).matches] == [("csam-domains", "domain")]
    assert views.get_item(c).verdict == "allow"


def test_url_media_fetched_and_fetch_errors_recorded(scanner, fetched):
    fetched["https://cdn.example/ok.jpg"] = CSAM_IMAGE
    item_id = submit(media=[{"url": "https://cdn.example/ok.jpg"}, {"url": "https://cdn.example/missing.jpg"}])
    drain(scanner)
    view = views.get_item(item_id)
    assert view.verdict == "remove"
    assert view.media[1].error == "FetchError: media url answered HTTP 404"
    with session_scope() as s:  # fetched bytes are kept only because the verdict says preserve
        assert s.execute(select(PendingMedia.position, PendingMedia.held_for_evidence)).all() == [(0, True)]


def test_rescan_uses_stored_signals_without_bytes(scanner, matcher):
    import hashlib

    item_id = submit(media=[{"data_base64": b64(BENIGN_IMAGE)}])
    drain(scanner)
    assert views.get_item(item_id).verdict == "allow"
    matcher.add("sha256", hashlib.sha256(BENIGN_IMAGE).hexdigest(), "new-csam", "csam", 9)  # bank grew later
    assert scan_now(item_id) is True
    view = views.get_item(item_id)
    assert view.verdict == "remove" and [m.bank for m in view.matches] == ["new-csam"]
    assert len(outbox(item_id)) == 5
    assert scan_now(item_id) is True  # scanning again replaces, never duplicates
    assert len(views.get_item(item_id).matches) == 1 and len(outbox(item_id)) == 5


def test_unexpected_scan_error_is_retried_not_fatal(scanner, monkeypatch):
    item_id = submit(text="hello")
    calls = {"n": 0}
    real = scanner._scan

    def flaky(*args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("matcher unavailable")
        return real(*args)

    monkeypatch.setattr(scanner, "_scan", flaky)
    [job] = queue.claim_jobs("w", 1, 60)
    assert process_batch("w", [job], scanner, max_attempts=3) == 0
    with session_scope() as s:
        j = s.get(ScanJob, job.id)
        assert (j.state, j.last_error) == ("queued", "RuntimeError: matcher unavailable")
        s.execute(ScanJob.__table__.update().values(available_at=j.created_at))
    drain(scanner)
    assert views.get_item(item_id).verdict == "allow"


def test_account_history_shows_matched_items_and_counts(scanner):
    ids = [
        submit(platform_id=f"p{n}", media=[{"data_base64": b64(img)}])
        for n, img in enumerate([CSAM_IMAGE, BENIGN_IMAGE, NCII_IMAGE, CSAM_IMAGE])
    ]
    submit(platform_id="other", account={"id": "acct-2"}, media=[{"data_base64": b64(CSAM_IMAGE)}])
    drain(scanner)
    acct = views.get_account("acct-1")
    assert (acct.items_total, acct.items_matched) == (4, 3)
    assert acct.verdicts == {"remove": 3, "allow": 1}
    assert acct.labels == {"csam": 2, "ncii": 1}
    assert sorted(i.id for i in acct.matched_items) == sorted([ids[0], ids[2], ids[3]])
    assert views.get_account(acct.id).platform_account_id == "acct-1"
    sha = views.get_item(ids[0]).media[0].signals["sha256"]
    assert len(views.accounts_sharing_media(sha)) == 2
    with pytest.raises(views.AccountNotFound):
        views.get_account("nobody")


def test_text_keyword_rules_from_settings(scanner, monkeypatch):
    from suraksha.pipeline.settings import reset_pipeline_settings

    monkeypatch.setenv("SURAKSHA_TEXT_KEYWORDS", '["trade pics"]')
    reset_pipeline_settings()
    item_id = submit(text="anyone want to TRADE PICS?")
    drain(scanner)
    assert [h["kind"] for h in views.get_item(item_id).text_hits] == ["keyword"]


def test_a_regex_no_scan_can_run_stops_workers_at_start_with_the_reason(db_url, monkeypatch):
    import threading

    from typer.testing import CliRunner

    from suraksha.cli import app
    from suraksha.pipeline.scan import ScanSettingsError, _text_rules
    from suraksha.pipeline.settings import reset_pipeline_settings
    from suraksha.pipeline.worker import run_worker

    monkeypatch.setenv("SURAKSHA_TEXT_REGEXES", '["(?<=trade )pics"]')
    reset_pipeline_settings()
    try:
        item_id = submit(text="trade pics")
        with pytest.raises(ScanSettingsError, match="lookbehind"):
            run_worker(threading.Event())
        with pytest.raises(ScanSettingsError, match="lookbehind"):
            start_background_workers(1)  # what `serve` starts: it refuses to come up
        result = CliRunner().invoke(app, ["worker"])
        assert result.exit_code == 2 and "lookbehind" in result.output
        with session_scope() as s:  # nothing was claimed: the item waits for a fixed setting
            assert s.get(ScanJob, 1).state == "queued" and s.get(ScanJob, 1).item_id == item_id
    finally:
        monkeypatch.delenv("SURAKSHA_TEXT_REGEXES")
        reset_pipeline_settings()
    assert _text_rules() is None


def test_text_rules_are_compiled_once_per_setting(db_url, monkeypatch):
    from suraksha.pipeline.scan import _text_rules
    from suraksha.pipeline.settings import reset_pipeline_settings

    monkeypatch.setenv("SURAKSHA_TEXT_REGEXES", '["trade +pics"]')
    reset_pipeline_settings()
    try:
        assert _text_rules() is _text_rules()
    finally:
        reset_pipeline_settings()


def test_background_workers_and_wait_for_verdict(scanner):
    workers = start_background_workers(2, poll_interval=0.05)
    try:
        item_id = submit(media=[{"data_base64": b64(CSAM_IMAGE)}])
        view = views.wait_for_verdict(item_id, timeout=5)
        assert view.status == "done" and view.verdict == "remove"
    finally:
        workers.stop()
    assert not workers._thread.is_alive()
    with pytest.raises(views.ItemNotFound):
        views.get_item(10**9)


def test_wait_for_verdict_gives_up_at_its_timeout(db_url):
    import time

    item_id = submit(text="nobody scans me")
    t0 = time.monotonic()
    view = views.wait_for_verdict(item_id, timeout=0.3)
    assert view.status == "queued" and 0.25 < time.monotonic() - t0 < 2


def test_an_ipv6_literal_link_does_not_fail_the_scan_with_the_real_matcher(db_url):
    """Normalising the host of http://[2001:db8::1]/ as a domain raised, so the item failed after
    its retries; it now gets a verdict like any other link."""
    from suraksha.matching.matcher import get_matcher
    from suraksha.pipeline.scan import Scanner

    from . import fakes

    scanner = Scanner(matcher=get_matcher(), policy=fakes.FakePolicy(), classifiers=[])
    item_id = submit(links=["http://[2001:db8::1]:8443/v"], text="and http://[2001:db8::2]/w")
    result = scanner.scan(item_id)
    assert result.verdict.verdict == "allow" and not result.matches
