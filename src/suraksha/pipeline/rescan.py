"""Rescan: match the STORED signals of past items against the banks as they are now.

Media bytes are not kept after a scan, but their signals are (``item_media``: sha256, md5, PDQ,
vPDQ), and so are an item's links and text. When new entries enter a bank (a hash list from an
exchange, a reviewer's decision), ``rescan`` looks those signals up again, records the matches
that are new, and for each item that gained one asks the policy again (``scan.decide``, the very
function a scan uses) and enqueues the actions, reports and review tasks it now calls for, in the
same transaction as the matches and the new verdict (the outbox rule). Outbox dedupe keys are the
scan's (``<item>:action:remove_item``...), so nothing already enqueued is enqueued twice, and matches
already stored are never added again: a second rescan adds nothing.

New matches are stored with ``retroactive=True`` and ``matched_at`` (when the rescan found them),
and their item gets ``retroactive=True``: it was identified after the fact, which transparency
figures report apart from live detection. Only items whose scan is done are rescanned (a queued
item will be scanned against the current banks anyway). Limits: rotated/mirrored PDQ variants are
not looked up (only the original hash is stored), and matches whose bank entry was removed since
are kept (a rescan adds, it does not retract).

With ``source="archive"`` the signals come from the Parquet signal archive instead
(``pipeline.archive``): every archived row posted since ``since`` is looked up (in this process,
or on a Ray cluster with ``ray_address``), and only the items with findings are read from the
database and go through the same step as above (``_rescan_batch`` with the findings), so the
matches, verdicts and outbox messages are the database path's. The archive keeps the PDQ's
rotations and mirrors, so banks that match transforms find those too; it keeps no text, so text
banks are looked up by the database path only.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update

from suraksha.db import session_scope, utcnow
from suraksha.errors import InvalidInput
from suraksha.items.models import Account, Item, ItemMatch, ItemMedia, ItemScore
from suraksha.matching.banks import get_bank
from suraksha.outbox import enqueue_many, existing_keys
from suraksha.pipeline.archive.hunt import hunt_in_process, hunt_on_ray
from suraksha.pipeline.archive.store import open_archive
from suraksha.pipeline.scan import Scanner, _stored_signals, decide, get_scanner, link_matches
from suraksha.settings import get_settings

_MATCH_COLUMNS = ("media_position", "bank", "bank_id", "label", "signal_type", "signal", "entry_id", "distance", "transform")


@dataclass
class RescanSummary:
    since: str
    bank: str | None
    source: str = "database"  # database | archive
    engine: str = "in-process"  # in-process | ray
    signals_checked: int = 0  # archive rows read (archive source)
    items_checked: int = 0
    items_matched: int = 0  # items that gained at least one match
    new_matches: int = 0
    verdict_changes: dict[str, int] = field(default_factory=dict)  # "allow->remove": n
    messages_enqueued: int = 0  # actions, reports, review tasks, preservation (new outbox rows)
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _key(m: dict[str, Any]) -> tuple:
    return (m["media_position"], m["bank_id"], m["entry_id"], m["signal_type"])


def _as_row(m: Any, position: int | None) -> dict[str, Any]:
    return {
        "media_position": position,
        "bank": m.bank,
        "bank_id": m.bank_id,
        "label": m.label,
        "signal_type": m.signal_type,
        "signal": m.signal,
        "entry_id": m.entry_id,
        "distance": m.distance,
        "transform": m.transform,
    }


def stored_matches(matcher: Any, item: Item, media: list[ItemMedia]) -> list[dict[str, Any]]:
    """Every current match of an item's stored signals: media hashes, links (and their domains), text."""
    from suraksha.signals.url import canonical_url, extract_links

    found: list[dict[str, Any]] = []
    for row in media:
        if row.sha256 is not None:
            found += [_as_row(m, row.position) for m in matcher.lookup_media(_stored_signals(row))]
    links = list(item.links or [])
    if item.text:
        links += [u for u in extract_links(item.text) if u not in links]
    seen: set[str] = set()
    for link in links:
        try:
            canon = canonical_url(link)
        except ValueError:
            continue  # the scan noted it already
        if canon in seen:
            continue
        seen.add(canon)
        found += [_as_row(m, None) for m in link_matches(matcher, canon)]
    if item.text and hasattr(matcher, "lookup_text"):
        found += [_as_row(m, None) for m in matcher.lookup_text(item.text)]
    return found


def _rescan_batch(
    items: list[Item],
    scanner: Scanner,
    bank: str | None,
    summary: RescanSummary,
    found: dict[int, list[dict[str, Any]]] | None = None,
) -> None:
    """One transaction: new matches, new verdicts and their outbox messages for a batch of items.

    ``found``: the items' current matches when already known (the archive's findings); otherwise
    they are looked up from the stored signals."""
    ids = [i.id for i in items]
    now = utcnow()
    with session_scope() as session:
        media: dict[int, list[ItemMedia]] = {}
        for row in session.scalars(select(ItemMedia).where(ItemMedia.item_id.in_(ids)).order_by(ItemMedia.position)):
            media.setdefault(row.item_id, []).append(row)
        existing: dict[int, list[dict[str, Any]]] = {}
        for m in session.scalars(select(ItemMatch).where(ItemMatch.item_id.in_(ids)).order_by(ItemMatch.id)):
            existing.setdefault(m.item_id, []).append({c: getattr(m, c) for c in _MATCH_COLUMNS})
        scores: dict[int, list[dict[str, Any]]] = {}
        for s in session.scalars(select(ItemScore).where(ItemScore.item_id.in_(ids))):
            scores.setdefault(s.item_id, []).append({"classifier": s.classifier, "name": s.name, "value": s.value})
        account_ids = {i.account_id for i in items if i.account_id}
        accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(account_ids)))} if account_ids else {}

        for item in items:
            summary.items_checked += 1
            old = existing.get(item.id, [])
            have = {_key(m) for m in old}
            new: list[dict[str, Any]] = []
            current = (
                found.get(item.id, []) if found is not None else stored_matches(scanner.matcher, item, media.get(item.id, []))
            )
            for m in current:
                if (bank is None or m["bank"] == bank) and _key(m) not in have:
                    have.add(_key(m))
                    new.append(m)
            if not new:
                continue
            verdict, outbox = decide(
                scanner.policy,
                item,
                accounts.get(item.account_id),
                old + new,
                scores.get(item.id, []),
                list(item.text_hits or []),
            )
            # Conditional on the scan being done: a worker rescanning it now records the full picture itself.
            taken = session.execute(
                update(Item)
                .where(Item.id == item.id, Item.status == "done")
                .values(
                    verdict=verdict.verdict,
                    rule=verdict.rule,
                    reasons=list(verdict.reasons),
                    actions=verdict.stored_actions(),
                    facts=verdict.stored_facts(),
                    priority=verdict.priority,
                    retroactive=True,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                continue
            session.execute(insert(ItemMatch), [{"item_id": item.id, **m, "retroactive": True, "matched_at": now} for m in new])
            if outbox:
                keys = [o.dedupe_key for o in outbox]
                there = existing_keys(session, keys)
                enqueue_many(
                    session,
                    [
                        {
                            "topic": o.topic,
                            "dedupe_key": o.dedupe_key,
                            "item_id": item.id,
                            "account_id": o.account_id,
                            "payload": o.payload,
                        }
                        for o in outbox
                    ],
                )
                summary.messages_enqueued += len(set(keys) - there)
            summary.items_matched += 1
            summary.new_matches += len(new)
            if verdict.verdict != item.verdict:
                change = f"{item.verdict}->{verdict.verdict}"
                summary.verdict_changes[change] = summary.verdict_changes.get(change, 0) + 1


def rescan(
    since: dt.datetime,
    *,
    bank: str | None = None,
    batch_size: int = 500,
    scanner: Scanner | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    source: str = "database",
    ray_address: str | None = None,
    ray_workers: int | None = None,
    archive_url: str | None = None,
) -> RescanSummary:
    """Rescan every scanned item posted since ``since`` (its ``created_at``), in batches by id.

    ``bank`` limits the new matches to one bank (e.g. the bank that has just received a hash
    list). ``on_progress(checked, total, new_matches)`` is called after each batch (archive: rows).
    ``source="archive"`` reads the signal archive (``archive_url``, default the configured one),
    on the Ray cluster at ``ray_address`` when given (``local``: one on this machine).
    """
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    if source not in ("database", "archive"):
        raise InvalidInput(f"unknown rescan source {source!r} (database or archive)")
    if ray_address is not None and source != "archive":
        raise InvalidInput("--ray runs a retro-hunt over the signal archive: add --from-archive")
    scanner = scanner or get_scanner()
    if bank is not None:
        get_bank(bank)  # a clear error for a misspelt bank name
    refresh = getattr(scanner.matcher, "refresh", None)
    if refresh is not None:
        refresh(force=True)  # entries banked a moment ago count (the matcher re-reads its log at most every 0.5 s)
    started = time.monotonic()
    summary = RescanSummary(since=since.isoformat(), bank=bank, source=source)
    if source == "archive":
        _rescan_archive(since, bank, batch_size, scanner, summary, on_progress, ray_address, ray_workers, archive_url)
        summary.elapsed_s = round(time.monotonic() - started, 3)
        return summary
    scope = (Item.created_at >= since, Item.status == "done")
    with session_scope() as session:
        total = session.scalar(select(func.count()).select_from(Item).where(*scope)) or 0
    last_id = 0
    while True:
        with session_scope() as session:
            items = list(session.scalars(select(Item).where(*scope, Item.id > last_id).order_by(Item.id).limit(batch_size)))
            session.expunge_all()
        if not items:
            break
        last_id = items[-1].id
        _rescan_batch(items, scanner, bank, summary)
        if on_progress:
            on_progress(summary.items_checked, total, summary.new_matches)
    summary.elapsed_s = round(time.monotonic() - started, 3)
    return summary


def _rescan_archive(
    since: dt.datetime,
    bank: str | None,
    batch_size: int,
    scanner: Scanner,
    summary: RescanSummary,
    on_progress: Callable[[int, int, int], None] | None,
    ray_address: str | None,
    ray_workers: int | None,
    archive_url: str | None,
) -> None:
    """Archive rows since ``since`` -> findings (in process or on Ray) -> the items with findings, stored."""
    archive = open_archive(archive_url)
    files = archive.files(since=since.astimezone(dt.UTC).date())
    total = archive.count_rows(files)
    summary.signals_checked = total
    found: dict[int, list[dict[str, Any]]] = {}

    def collect(table: Any) -> None:
        for f in table.to_pylist():
            found.setdefault(f.pop("item_id"), []).append(f)

    if ray_address is None:
        done = 0

        def rows_done(n: int) -> None:
            nonlocal done
            done += n
            if on_progress:
                on_progress(done, total, sum(len(v) for v in found.values()))

        for table in hunt_in_process(archive, files, scanner.matcher, since=since, bank=bank, on_rows=rows_done):
            collect(table)
    else:
        summary.engine = "ray"
        workers = ray_workers if ray_workers is not None else get_settings().archive.ray_workers
        for table in hunt_on_ray(ray_address, archive, files, since=since, bank=bank, workers=workers):
            collect(table)
        if on_progress:
            on_progress(total, total, sum(len(v) for v in found.values()))
    # Only items with findings touch the database; a scanned (done) item posted since `since`, as the database path.
    ids = sorted(found)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with session_scope() as session:
            items = list(
                session.scalars(
                    select(Item).where(Item.id.in_(chunk), Item.created_at >= since, Item.status == "done").order_by(Item.id)
                )
            )
            session.expunge_all()
        if items:
            _rescan_batch(items, scanner, bank, summary, found={i.id: found[i.id] for i in items})
