"""Findings-only storage through the worker path (REST/CLI items): with SURAKSHA_FINDINGS_ONLY a
benign item's first scan leaves no row (item, media, bytes, job) and one count in item_counts; a
finding is stored in full; without the setting nothing changes. Both databases."""

from __future__ import annotations

from sqlalchemy import func, select

from suraksha.db import session_scope
from suraksha.items.models import Item, ItemCount, ItemMedia, PendingMedia
from suraksha.pipeline import queue
from suraksha.pipeline.ingest import submit_item
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.schemas import ItemIn
from suraksha.pipeline.settings import reset_pipeline_settings

from .conftest import BENIGN_IMAGE, CSAM_IMAGE, b64


def _rows() -> dict[str, int]:
    with session_scope() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in (Item, ItemMedia, PendingMedia, ScanJob)}


def _scan_all(scanner) -> list[int]:
    jobs = queue.claim_jobs("w", 16, 60)
    return queue.finish_jobs("w", [(j.id, scanner.scan(j.item_id)) for j in jobs])


def test_a_benign_item_leaves_only_a_count_and_a_finding_is_kept(scanner, monkeypatch):
    monkeypatch.setenv("SURAKSHA_FINDINGS_ONLY", "true")
    reset_pipeline_settings()
    benign, _ = submit_item(ItemIn(platform_id="b1", text="lunch", media=[{"data_base64": b64(BENIGN_IMAGE)}]))
    finding, _ = submit_item(ItemIn(platform_id="f1", media=[{"data_base64": b64(CSAM_IMAGE)}], account={"id": "u1"}))
    reported, _ = submit_item(ItemIn(platform_id="r1", text="lunch", context={"source": "user_report"}))
    recorded = _scan_all(scanner)
    assert len(recorded) == 3  # every job answered: the benign one is done by being forgotten
    with session_scope() as s:
        kept = {i.platform_id: i for i in s.scalars(select(Item))}
        counts = [(c.platform, c.kind, c.benign) for c in s.scalars(select(ItemCount))]
    assert set(kept) == {"f1", "r1"}  # the finding, and the item a person reported
    assert kept["f1"].verdict != "allow" and kept["r1"].status == "done"
    assert counts == [("default", "post", 1)]
    rows = _rows()
    assert (rows["items"], rows["item_media"], rows["scan_jobs"]) == (2, 1, 2)  # the benign media and job went too


def test_a_rescan_never_forgets_a_stored_item(scanner, monkeypatch):
    item, _ = submit_item(ItemIn(platform_id="b1", text="lunch"))
    _scan_all(scanner)  # stored in full (setting off)
    monkeypatch.setenv("SURAKSHA_FINDINGS_ONLY", "true")
    reset_pipeline_settings()
    with session_scope() as s:
        queue.enqueue_scan(s, item.id)
    _scan_all(scanner)
    assert _rows()["items"] == 1


def test_without_the_setting_a_benign_item_is_stored_in_full(scanner):
    submit_item(ItemIn(platform_id="b1", text="lunch"))
    _scan_all(scanner)
    assert _rows()["items"] == 1
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ItemCount)) == 0
