"""Appending to the archive: a per-process buffer written by size and age, and a rebuild from the database.

``append_scanned(results)`` runs after ``queue.finish_jobs`` has committed a batch of scans (never
inside that transaction: an archive that is slow or down cannot hold a scan back or roll it back).
Rows are buffered and written as one Parquet file per (jurisdiction, day) when the buffer holds
``SURAKSHA_ARCHIVE_FLUSH_ROWS`` rows, when its oldest row is ``SURAKSHA_ARCHIVE_FLUSH_SECONDS`` old
(a background thread), and at process exit (``atexit``; workers also call ``flush_archive``).

The guarantee: a row reaches the archive at least once if the process lives until its flush; rows
in the buffer at a ``kill -9`` or a power cut are missing from the archive but not from the
database (their scan was committed first: ``item_media`` keeps the hashes, ``items`` the links),
and ``rebuild(since)`` writes every scanned item of that period the archive lacks (by item id), so
nothing the database still holds is lost. Rotations/mirrors of a PDQ are not stored in the
database, so rebuilt rows carry the hash without them (as the database rescan looks it up).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.db import session_scope, utcnow
from suraksha.items.models import Account, Item, ItemMedia
from suraksha.settings import get_settings
from suraksha.signals.url import canonical_url, extract_links

if TYPE_CHECKING:
    from suraksha.pipeline.archive.store import Archive
    from suraksha.pipeline.scan import ScanResult

log = logging.getLogger(__name__)


def canonical_links(links: Iterable[str] | None, text: str | None) -> list[str]:
    """An item's links as a scan and a rescan look them up: given ones, then those in the text, canonical, once."""
    found = list(links or [])
    if text:
        found += [u for u in extract_links(text) if u not in found]
    out: list[str] = []
    for link in found:
        try:
            canon = canonical_url(link)
        except ValueError:
            continue
        if canon not in out:
            out.append(canon)
    return out


def _item_rows(meta: Any, media: Iterable[Any], scanned_at: dt.datetime | None) -> list[dict[str, Any]]:
    """Rows of one item: one per media with signals, one per canonical link."""
    context = meta.context or {}
    base = {
        "item_id": meta.id,
        "platform_id": meta.platform_id,
        "account": meta.account,
        "country": context.get("country"),
        "created_at": meta.created_at,
        "scanned_at": scanned_at,
    }
    rows = []
    for m in media:
        if m.sha256 is None:
            continue  # no signals (a media error before hashing)
        transforms = getattr(m, "pdq_dihedral", None)
        rows.append(
            {
                **base,
                "media_position": m.position,
                "kind": m.kind,
                "sha256": m.sha256,
                "md5": m.md5,
                "pdq": m.pdq,
                "pdq_quality": m.pdq_quality,
                "pdq_transforms": [{"transform": t, "hash": h} for t, h in transforms if t != "original"] if transforms else None,
                "vpdq": [{"second": f["second"], "pdq": f["pdq"], "quality": f["quality"]} for f in m.vpdq] if m.vpdq else None,
            }
        )
    for url in canonical_links(meta.links, meta.text):
        rows.append({**base, "kind": "link", "url": url})
    return rows


def _item_meta(session: Session, item_ids: list[int]) -> list[Any]:
    stmt = (
        select(
            Item.id,
            Item.platform_id,
            Item.context,
            Item.created_at,
            Item.scanned_at,
            Item.links,
            Item.text,
            Account.platform_account_id.label("account"),
        )
        .outerjoin(Account, Account.id == Item.account_id)
        .where(Item.id.in_(item_ids))
        .order_by(Item.id)
    )
    return list(session.execute(stmt))


def rows_for_results(results: list[ScanResult], session: Session | None = None) -> list[dict[str, Any]]:
    """Archive rows of scans just recorded (with the PDQ rotations the scan computed)."""
    if not results:
        return []
    by_item = {r.item_id: r for r in results}
    with _session(session) as s:
        metas = _item_meta(s, list(by_item))
    rows = []
    for meta in metas:
        rows += _item_rows(meta, by_item[meta.id].media, meta.scanned_at)
    return rows


def rows_for_items(session: Session, item_ids: list[int]) -> list[dict[str, Any]]:
    """Archive rows of stored items, from the database (what ``rebuild`` writes)."""
    metas = _item_meta(session, item_ids)
    media: dict[int, list[ItemMedia]] = {}
    for row in session.scalars(select(ItemMedia).where(ItemMedia.item_id.in_(item_ids)).order_by(ItemMedia.position)):
        media.setdefault(row.item_id, []).append(row)
    rows = []
    for meta in metas:
        rows += _item_rows(meta, media.get(meta.id, []), meta.scanned_at)
    return rows


@contextmanager
def _session(session: Session | None) -> Iterator[Session]:
    """The caller's session, or a unit of work of our own (committed when it closes)."""
    if session is not None:
        yield session
    else:
        with session_scope() as own:
            yield own


class ArchiveWriter:
    """A thread-safe buffer of archive rows, written as files by size and age. One per process."""

    def __init__(self, archive: Archive, *, flush_rows: int, flush_seconds: float, max_buffered_rows: int) -> None:
        self.archive = archive
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.max_buffered_rows = max_buffered_rows
        self.rows_written = 0
        self.rows_dropped = 0
        self.files_written = 0
        self._rows: list[dict[str, Any]] = []
        self._oldest: float | None = None
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one write at a time: files land in order
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="archive-flush", daemon=True)
        self._thread.start()

    def append(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self._lock:
            if self._oldest is None:
                self._oldest = time.monotonic()
            self._rows.extend(rows)
            full = len(self._rows) >= self.flush_rows
        if full:
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        """Write what is buffered; on failure keep it (bounded) for the next try. Returns rows written."""
        with self._flush_lock:
            with self._lock:
                rows, self._rows, self._oldest = self._rows, [], None
            if not rows:
                return 0
            try:
                written = self.archive.write(rows)
            except OSError:  # the store is down or full: kept for a retry (bounded)
                log.warning("signal archive: writing %d rows failed; kept for the next flush", len(rows), exc_info=True)
                with self._lock:
                    self._rows = rows + self._rows
                    self._oldest = self._oldest or time.monotonic()
                    over = len(self._rows) - self.max_buffered_rows
                    if over > 0:
                        del self._rows[:over]
                        self.rows_dropped += over
                        log.warning(
                            "signal archive: %d rows dropped from the buffer (the database holds them: suraksha archive rebuild)",
                            over,
                        )
                return 0
            except Exception:  # noqa: BLE001 - rows that cannot be written ever (a bad value) must not block the rest
                self.rows_dropped += len(rows)
                log.error(
                    "signal archive: %d rows dropped, they cannot be written (the database holds them: suraksha archive rebuild)",
                    len(rows),
                    exc_info=True,
                )
                return 0
            self.rows_written += len(rows)
            self.files_written += len(written)
            return len(rows)

    def _tick(self) -> None:
        while not self._stop.wait(min(self.flush_seconds, 1.0)):
            with self._lock:
                due = self._oldest is not None and time.monotonic() - self._oldest >= self.flush_seconds
            if due:
                self.flush()

    def close(self) -> None:
        self._stop.set()
        self.flush()


_writer: ArchiveWriter | None = None
_writer_lock = threading.Lock()


def archive_enabled() -> bool:
    return bool(get_settings().archive.url)


def get_writer() -> ArchiveWriter | None:
    """The process's writer (None when no archive is configured)."""
    global _writer
    if _writer is None and archive_enabled():
        with _writer_lock:
            if _writer is None:
                from suraksha.pipeline.archive.store import open_archive  # here: pyarrow costs ~0.5 s, only with an archive

                s = get_settings().archive
                _writer = ArchiveWriter(
                    open_archive(s.url),
                    flush_rows=s.flush_rows,
                    flush_seconds=s.flush_seconds,
                    max_buffered_rows=s.max_buffered_rows,
                )
                atexit.register(_writer.close)
    return _writer


def flush_archive() -> int:
    """Write the buffered rows now (a worker's shutdown; tests). Returns rows written."""
    return _writer.flush() if _writer is not None else 0


def reset_writer() -> None:
    """Flush and forget the process's writer (tests; after the archive URL changes)."""
    global _writer
    with _writer_lock:
        if _writer is not None:
            _writer.close()
        _writer = None


def append_scanned(results: list[ScanResult]) -> None:
    """After a batch of scans was committed: buffer their archive rows (no-op without an archive).

    Never raises: the scans are recorded already, and ``rebuild`` recovers what did not get here.
    """
    if not results or not archive_enabled():
        return
    try:
        writer = get_writer()
        if writer is not None:
            writer.append(rows_for_results(results))
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("signal archive: %d scanned items not archived (suraksha archive rebuild)", len(results), exc_info=True)


def rebuild(
    since: dt.datetime,
    until: dt.datetime | None = None,
    *,
    archive: Archive | None = None,
    batch_size: int = 1000,
    session: Session | None = None,
) -> int:
    """Write to the archive every scanned item posted in ``[since, until)`` that it lacks (by item id).

    The recovery path after a crash lost a buffer, and the way to archive history scanned before
    the archive existed. Returns rows written.
    """
    from suraksha.pipeline.archive.store import open_archive  # here: pyarrow costs ~0.5 s, only with an archive

    archive = archive or open_archive()
    since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    until = until or utcnow() + dt.timedelta(days=1)
    until = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
    present: set[int] = set()
    for f in archive.files(since.astimezone(dt.UTC).date(), until.astimezone(dt.UTC).date()):
        present.update(archive.read(f.path, columns=["item_id"]).column("item_id").to_pylist())
    written = 0
    last_id = 0
    scope = (Item.created_at >= since, Item.created_at < until, Item.status == "done")
    while True:
        with _session(session) as s:
            ids = list(s.scalars(select(Item.id).where(*scope, Item.id > last_id).order_by(Item.id).limit(batch_size)))
            if not ids:
                break
            last_id = ids[-1]
            missing = [i for i in ids if i not in present]
            rows = rows_for_items(s, missing) if missing else []
        if rows:
            archive.write(rows)
            written += len(rows)
    return written
