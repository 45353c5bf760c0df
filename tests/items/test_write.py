"""One item per platform item (issue 14.2), the one way to write an item, and migration i0001 on a
database that already holds duplicates. Both databases."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text

from suraksha.db import session_scope
from suraksha.items.models import Item
from suraksha.pipeline.ingest import IdempotencyConflict, submit_item, submit_items
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.schemas import ItemIn


def _counts() -> tuple[int, int]:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Item)), s.scalar(select(func.count()).select_from(ScanJob))


def test_a_repeat_of_a_platform_item_answers_with_the_stored_item(db_url):
    first, created = submit_item(ItemIn(platform_id="post-1", text="hello", account={"id": "u1"}))
    again, created_again = submit_item(ItemIn(platform_id="post-1", text="hello", account={"id": "u1"}))
    assert created and not created_again and again.id == first.id
    assert _counts() == (1, 1)  # one item, one scan


def test_the_same_platform_item_id_on_another_platform_is_another_item(db_url):
    a, _ = submit_item(ItemIn(platform_id="42", text="hi"))
    b, created = submit_item(ItemIn(platform="forum", platform_id="42", text="hi"))
    assert created and b.id != a.id and b.platform == "forum" and a.platform == "default"


def test_a_repeat_with_another_body_is_refused_naming_the_stored_item(db_url):
    first, _ = submit_item(ItemIn(platform_id="post-1", text="hello"))
    with pytest.raises(IdempotencyConflict, match=f"platform item default/post-1 is already stored as item {first.id}") as caught:
        submit_item(ItemIn(platform_id="post-1", text="edited"))
    assert caught.value.item_id == first.id and caught.value.http_status == 409
    assert _counts() == (1, 1)


def test_a_batch_stores_each_new_item_once_and_answers_each_payload(db_url):
    out = submit_items(
        [
            ItemIn(platform_id="a", text="1"),
            ItemIn(platform_id="b", text="2", account={"id": "u1"}),
            ItemIn(platform_id="a", text="1"),  # a repeat inside the batch
            ItemIn(platform_id="a", text="changed"),  # a conflict inside the batch
            ItemIn(platform_id="c", text="3", account={"id": "u1"}),
        ]
    )
    (a, ca), (b, cb), (a2, ca2), conflict, (c, cc) = out
    assert (ca, cb, ca2, cc) == (True, True, False, True)
    assert a2.id == a.id and isinstance(conflict, IdempotencyConflict) and b.account_id == c.account_id
    assert _counts() == (3, 3)


# ---------------------------------------------------------------- migration i0001 with duplicates
PG_URL = os.environ.get("SURAKSHA_TEST_DATABASE_URL")
BACKENDS = [pytest.param("sqlite", id="sqlite")]
if PG_URL:
    BACKENDS.append(pytest.param("postgresql", id="pg", marks=pytest.mark.postgres))


@pytest.fixture(params=BACKENDS)
def old_db(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"suraksha_i0001_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_i0001_keeps_the_oldest_duplicate_under_the_index_and_marks_the_rest(old_db):
    from suraksha.db.migrate import alembic_config, upgrade

    script = ScriptDirectory.from_config(alembic_config(old_db))
    for head in script.get_heads():  # every branch but items: the state before this release
        if not head.startswith("i"):
            upgrade(old_db, head)
    engine = create_engine(old_db)
    insert = text(
        "INSERT INTO items (platform_id, kind, links, context, status, created_at, received_at, retroactive, reasons, "
        "actions, text_hits, priority) VALUES (:pid, 'post', '[]', '{}', 'done', :t, :t, false, '[]', '[]', '[]', 0)"
    )
    with engine.begin() as conn:
        for pid in ("dup", "dup", "single", "dup"):
            conn.execute(insert, {"pid": pid, "t": "2026-11-01 10:00:00+00:00"})
    upgrade(old_db, "heads")
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, platform, platform_id, duplicate_of FROM items ORDER BY id")).all()
    engine.dispose()
    assert [(r.platform, r.platform_id, r.duplicate_of) for r in rows] == [
        ("default", "dup", None),  # the oldest stays the platform item
        ("default", "dup", rows[0].id),
        ("default", "single", None),
        ("default", "dup", rows[0].id),
    ]
