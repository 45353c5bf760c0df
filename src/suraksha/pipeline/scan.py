"""Scan orchestration: one item in, a ``ScanResult`` out (nothing written here).

media (inline bytes or fetched by URL) -> signals -> bank matches -> classifiers;
links -> canonical URL and domain matches; text -> onion addresses, keyword rules, text banks;
all facts -> policy -> verdict, actions -> outbox messages.

A bad media file (corrupt, unsupported, too large, unreachable URL) is recorded on that media and
the item still gets a verdict; only unexpected failures (database down, a bug) raise, and the
worker retries those. The result is recorded by ``queue.finish_jobs`` in one transaction.

All media of one item share one scan budget (``signals.budget``: wall time from the first fetch or
decode, and decoded pixels): media over it get an error with the reason (their exact hashes are
still matched) and the scan goes on, so a hostile video costs a worker the budget, not hours.

Every collaborator (matcher, policy, classifiers, the signal function, the fetcher) is injectable,
so tests and benchmarks can swap one without touching the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from suraksha.config import get_settings
from suraksha.db import get_engine
from suraksha.db.sql import autocommit_engine, dialect_name
from suraksha.errors import InvalidInput
from suraksha.items.models import Account, Item, ItemCount, ItemMedia, PendingMedia
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.settings import get_pipeline_settings
from suraksha.policy.actions import ActionKind
from suraksha.policy.model import USER_REPORT_SOURCES, MatchFact, ScanFacts, ScoreFact, TextFact, Verdict
from suraksha.signals.errors import MediaError

log = logging.getLogger(__name__)


@dataclass
class MediaOutcome:
    position: int
    source_url: str | None
    mime: str | None
    size: int | None = None
    kind: str | None = None
    sha256: str | None = None
    md5: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    vpdq: list[dict[str, Any]] | None = None
    error: str | None = None
    data: bytes | None = field(default=None, repr=False)  # kept only until the result is recorded
    pdq_dihedral: list[tuple[str, str]] | None = field(default=None, repr=False)  # for the signal archive only


@dataclass(frozen=True)
class OutboxSpec:
    topic: str  # action | report | review | preserve
    dedupe_key: str
    account_id: int | None
    payload: dict[str, Any]


@dataclass
class ScanResult:
    item_id: int
    verdict: Verdict
    media: list[MediaOutcome] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)  # ItemMatch columns
    scores: list[dict[str, Any]] = field(default_factory=list)  # ItemScore columns
    text_hits: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[OutboxSpec] = field(default_factory=list)
    preserve: bool = False
    error: str | None = None  # non-fatal problems (a classifier down, a bad link), joined


def outbox_for(item_id: int, account_id: int | None, verdict: Verdict, base: dict[str, Any]) -> list[OutboxSpec]:
    """The messages a verdict calls for, each with a dedupe key unique per item and action.

    Every payload carries its action as data (``{"kind": ..., "argument": ...}``, the verdict's
    ``ActionRequest``); consumers read that, never a string to split. Keys: ``<item>:action:<action>``
    (``42:action:remove_item``, ``42:action:withhold_in_country:IN``), ``<item>:report:<destination>``,
    ``<item>:review:<queue>``, ``<item>:preserve``.
    """
    out: list[OutboxSpec] = []
    has_review = False
    for action in verdict.actions:
        kind = action.kind
        payload = {**base, "action": action.to_json()}
        if kind.on_platform:
            if kind is ActionKind.WITHHOLD_IN_COUNTRY:
                payload["country"] = action.argument
            out.append(OutboxSpec("action", f"{item_id}:action:{action}", account_id, payload))
        elif kind is ActionKind.REPORT:
            payload["destination"] = action.argument
            out.append(OutboxSpec("report", f"{item_id}:report:{action.argument}", account_id, payload))
        elif kind is ActionKind.REVIEW:
            # One review task per item, in the first queue the policy names (rule order): a reviewer
            # should meet the same material once, not once per rule that fired. The other queues
            # travel with it so the reviewer sees every reason.
            queue = action.argument or "default"
            if has_review:
                first = next(o for o in out if o.topic == "review")
                first.payload.setdefault("also_queues", []).append(queue)
                continue
            has_review = True
            payload["queue"] = queue
            out.append(OutboxSpec("review", f"{item_id}:review:{queue}", account_id, payload))
        elif kind is ActionKind.PRESERVE:
            out.append(OutboxSpec("preserve", f"{item_id}:preserve", account_id, payload))
    if verdict.verdict == "review" and not has_review:
        payload = {**base, "action": {"kind": ActionKind.REVIEW.value, "argument": "default"}, "queue": "default"}
        out.append(OutboxSpec("review", f"{item_id}:review:default", account_id, payload))
    return out


def _stored_signals(row: ItemMedia) -> Any:
    """Signals kept from an earlier scan, shaped like ``MediaSignals`` for the matcher."""
    vpdq = [SimpleNamespace(**f) for f in row.vpdq] if row.vpdq else None
    pdq = SimpleNamespace(hash=row.pdq, quality=row.pdq_quality or 0) if row.pdq else None
    return SimpleNamespace(kind=row.kind, sha256=row.sha256, md5=row.md5, pdq=pdq, pdq_dihedral=None, vpdq=vpdq)


@dataclass(frozen=True)
class _AccountRef:
    """The account columns a scan needs (id and the platform's id), read with the item."""

    id: int
    platform_account_id: str
    handle: str | None


_items, _accounts = Item.__table__, Account.__table__
_media, _pending = ItemMedia.__table__, PendingMedia.__table__
_ids = bindparam("ids", expanding=True)
_read_items = (
    select(
        _items,
        _accounts.c.platform_account_id.label("account_platform_id"),
        _accounts.c.handle.label("account_handle"),
        exists().where(_media.c.item_id == _items.c.id).label("has_media"),
    )
    .outerjoin(_accounts, _accounts.c.id == _items.c.account_id)
    .where(_items.c.id.in_(_ids))
)
_read_media = (
    select(_media, _pending.c.data)
    .outerjoin(_pending, and_(_pending.c.item_id == _media.c.item_id, _pending.c.position == _media.c.position))
    .where(_media.c.item_id.in_(_ids))
    .order_by(_media.c.item_id, _media.c.position)
)


class Scanner:
    """Holds the collaborators of a scan; one per process (``get_scanner``)."""

    def __init__(
        self,
        *,
        matcher: Any = None,
        policy: Any = None,
        classifiers: list[Any] | None = None,
        media_signals: Callable[..., Any] | None = None,
        fetch: Callable[[str], bytes] | None = None,
        scan_budget: Callable[[], Any] | None = None,
    ) -> None:
        self._matcher = matcher
        self._policy = policy
        self._classifiers = classifiers
        self._media_signals = media_signals
        self._fetch = fetch
        self._scan_budget = scan_budget  # makes one item's ScanBudget; default: from the settings

    # Lazy defaults: the real modules are imported only when first needed.
    @property
    def matcher(self) -> Any:
        if self._matcher is None:
            from suraksha.matching.matcher import get_matcher

            self._matcher = get_matcher()
        return self._matcher

    @property
    def policy(self) -> Any:
        if self._policy is None:
            from suraksha.policy import default_policy, load_policy

            path = get_pipeline_settings().policy_path
            self._policy = load_policy(path) if path else default_policy()
        return self._policy

    @property
    def classifiers(self) -> list[Any]:
        if self._classifiers is None:
            names = get_pipeline_settings().classifiers
            loaded = []
            if names:
                from suraksha import classify

                for name in names:
                    loaded.append(classify.get_classifier(name))
            self._classifiers = loaded
        return self._classifiers

    def new_budget(self) -> Any:
        """A fresh ``ScanBudget`` for the media of one item (``new_scan_budget`` from the settings)."""
        if self._scan_budget is not None:
            return self._scan_budget()
        from suraksha.pipeline.settings import new_scan_budget

        return new_scan_budget()

    def signals_of(self, data: bytes, mime: str | None, budget: Any = None) -> Any:
        """The media's signals, paid for from ``budget`` (the item's; a fresh one when None)."""
        s = get_settings()
        if self._media_signals is None:
            from functools import partial

            from suraksha.signals import media_signals

            # Scanning decodes JPEGs at the smallest DCT scale that covers the hash's 512 px
            # (a few bits from the reference, ~2x faster: docs/benchmarks.md). Bank entries stay exact.
            self._media_signals = partial(media_signals, fast=get_pipeline_settings().pdq_fast_decode)
        if budget is None:
            budget = self.new_budget()
        return self._media_signals(data, mime, max_pixels=s.max_image_pixels, max_bytes=s.max_media_bytes, budget=budget)

    def fetch(self, url: str) -> bytes:
        if self._fetch is None:
            from suraksha.pipeline.fetch import fetch_media

            self._fetch = fetch_media
        return self._fetch(url)

    # ------------------------------------------------------------------ the scan
    def scan(self, item_id: int) -> ScanResult:
        result = self.scan_many([item_id])[item_id]
        if isinstance(result, Exception):
            raise result
        return result

    def scan_many(self, item_ids: list[int]) -> dict[int, ScanResult | Exception]:
        """Scan several items, loading them in two reads; a failure is returned in place of its result.

        Core rows, not ORM objects, and no transaction around the reads (each is one statement;
        an item's rows were committed together): on PostgreSQL two round trips per batch instead
        of seven, which is most of what a worker spent on a text item besides the scan itself.
        """
        with autocommit_engine().connect() as conn:
            items = {r.id: r for r in conn.execute(_read_items, {"ids": item_ids})}
            media: dict[int, list[Any]] = {}
            pending: dict[int, dict[int, bytes]] = {}
            if any(r.has_media for r in items.values()):
                for row in conn.execute(_read_media, {"ids": item_ids}):
                    rows = media.setdefault(row.item_id, [])
                    if not rows or rows[-1].position != row.position:  # one row per media
                        rows.append(row)
                    if row.data is not None:
                        pending.setdefault(row.item_id, {}).setdefault(row.position, row.data)
        accounts = {
            r.account_id: _AccountRef(r.account_id, r.account_platform_id, r.account_handle)
            for r in items.values()
            if r.account_id is not None
        }
        out: dict[int, ScanResult | Exception] = {}
        for item_id in item_ids:
            item = items.get(item_id)
            if item is None:
                out[item_id] = LookupError(f"item {item_id} not found")
                continue
            try:
                out[item_id] = self._scan(item, accounts.get(item.account_id), media.get(item_id, []), pending.get(item_id, {}))
            except Exception as exc:  # noqa: BLE001 - the worker decides (retry with backoff)
                out[item_id] = exc
        return out

    def scan_unstored(self, prep: Any) -> ScanResult:
        """Scan a validated request (``ingest.prepare``) that is stored nowhere (findings-only stream
        intake): the same scan as a stored item's, from the request instead of rows. Its ``item_id``
        is 0 and its outbox is only for judging: the item is stored (and scanned again by a worker,
        which enqueues for real) when ``is_benign`` says it is not benign."""
        p = prep.payload
        item = SimpleNamespace(
            id=0,
            platform_id=p.platform_id,
            kind=p.kind,
            text=p.text,
            links=list(p.links),
            context=p.context.model_dump(mode="json", exclude_none=True),
        )
        account = _AccountRef(0, p.account.id, p.account.handle) if p.account else None
        media_rows = [
            SimpleNamespace(position=n, source_url=m.url, mime=m.mime, size=None, sha256=None) for n, m in enumerate(p.media)
        ]
        pending = {n: data for n, data in enumerate(prep.inline) if data is not None}
        return self._scan(item, account, media_rows, pending)

    def _scan(self, item: Any, account: Any, media_rows: list[Any], pending: dict[int, bytes]) -> ScanResult:
        """`item`, `account` and `media_rows` are read-only rows with the columns of Item, Account, ItemMedia."""
        errors: list[str] = []
        matches: list[dict[str, Any]] = []
        scores: list[dict[str, Any]] = []
        media_out: list[MediaOutcome] = []

        def add_matches(found: list[Any], position: int | None) -> None:
            for m in found:
                matches.append(
                    {
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
                )

        # ---- media (one scan budget for all of this item's media)
        budget = self.new_budget() if media_rows else None
        for row in media_rows:
            out = MediaOutcome(position=row.position, source_url=row.source_url, mime=row.mime, size=row.size)
            media_out.append(out)
            data = pending.get(row.position)
            ms = None
            try:
                if data is None and row.source_url and row.sha256 is None:
                    budget.check()  # no fetch once the item's time is spent
                    data = self.fetch(row.source_url)
                if data is not None:
                    out.size = len(data)
                    ms = self.signals_of(data, row.mime, budget)
                elif row.sha256 is not None:
                    ms = _stored_signals(row)  # a rescan: the bytes are gone, the signals are not
                else:
                    raise ValueError("no bytes and no stored signals")
            except Exception as exc:  # noqa: BLE001 - every media problem is recorded, never fatal
                if not _is_media_problem(exc):
                    raise
                out.error = f"{type(exc).__name__}: {exc}"
                # Over the scan budget the exact hashes were computed all the same (they cost next to
                # nothing): a known file is still matched by them, and its bytes kept like any other.
                ms = getattr(exc, "signals", None) if _is_over_budget(exc) else None
                if ms is None:
                    continue
            out.data = data
            out.kind = getattr(ms, "kind", None)
            out.sha256, out.md5 = ms.sha256, ms.md5
            if ms.pdq is not None:
                out.pdq, out.pdq_quality = ms.pdq.hash, int(ms.pdq.quality)
                out.pdq_dihedral = getattr(ms, "pdq_dihedral", None)
            if ms.vpdq:
                out.vpdq = [{"second": f.second, "pdq": f.pdq, "quality": f.quality} for f in ms.vpdq]
            add_matches(self.matcher.lookup_media(ms), row.position)
            if data is not None and out.error is None:  # a classifier would decode it again
                for clf in self.classifiers:
                    try:
                        facts = clf.score(data, out.kind or "image")
                    except Exception as exc:  # noqa: BLE001 - a classifier down must not block verdicts
                        errors.append(f"classifier {getattr(clf, 'name', clf)} on media[{row.position}]: {exc}")
                        continue
                    for f in facts:
                        scores.append(
                            {"media_position": row.position, "classifier": clf.name, "name": f.name, "value": float(f.value)}
                        )

        # ---- links (given and found in the text)
        from suraksha.signals.text import find_onion_addresses, scan_text
        from suraksha.signals.url import canonical_url, extract_links

        links = list(item.links or [])
        if item.text:
            links += [u for u in extract_links(item.text) if u not in links]
        seen: set[str] = set()
        for link in links:
            try:
                canon = canonical_url(link)
            except Exception as exc:  # noqa: BLE001 - a malformed link is noted, not fatal
                errors.append(f"link {link[:100]!r}: {exc}")
                continue
            if canon in seen:
                continue
            seen.add(canon)
            add_matches(link_matches(self.matcher, canon), None)

        # ---- text
        text_hits: list[dict[str, Any]] = []
        corpus = "\n".join([item.text or "", *links])
        for onion in dict.fromkeys(find_onion_addresses(corpus)):
            text_hits.append({"kind": "onion", "value": onion})
        rules = _text_rules()
        if rules is not None and item.text:
            for hit in scan_text(item.text, rules):
                text_hits.append({"kind": hit.kind, "value": hit.value, "start": hit.start, "end": hit.end})
        if item.text and hasattr(self.matcher, "lookup_text"):
            add_matches(self.matcher.lookup_text(item.text), None)

        # ---- policy
        verdict, outbox = decide(self.policy, item, account, matches, scores, text_hits)
        media_errors = [f"media[{m.position}]: {m.error}" for m in media_out if m.error]
        return ScanResult(
            item_id=item.id,
            verdict=verdict,
            media=media_out,
            matches=matches,
            scores=scores,
            text_hits=text_hits,
            outbox=outbox,
            preserve=verdict.asks_for(ActionKind.PRESERVE),
            error="; ".join(media_errors + errors) or None,
        )


# ---------------------------------------------------------------- findings-only storage
def is_benign(result: ScanResult, source: str | None) -> bool:
    """True when nothing about the item needs keeping: verdict ``allow`` with no action, no match,
    no text hit, every media hashed (an error means we could not look), and not sent in because a
    person reported it. Anything else is a finding and is stored in full."""
    v = result.verdict
    return (
        v.verdict == "allow"
        and not v.actions
        and not result.matches
        and not result.text_hits
        and not result.outbox
        and not result.preserve
        and result.error is None
        and source not in USER_REPORT_SOURCES
    )


_counts = ItemCount.__table__


def count_benign(kinds: Iterable[tuple[str, str]], *, day: dt.date, session: Session | Connection | None = None) -> None:
    """Add benign items to ``item_counts`` (``(platform, kind)`` per item): one upsert per batch.
    Commits only when it opened the unit of work."""
    totals: dict[tuple[str, str], int] = {}
    for key in kinds:
        totals[key] = totals.get(key, 0) + 1
    if not totals:
        return
    if session is None:
        with get_engine().begin() as conn:
            _add_counts(conn, totals, day)
    else:
        _add_counts(session, totals, day)


def _add_counts(conn: Session | Connection, totals: dict[tuple[str, str], int], day: dt.date) -> None:
    insert_fn = pg_insert if dialect_name(conn) == "postgresql" else sqlite_insert
    stmt = insert_fn(_counts).values(
        [{"day": day, "platform": p, "kind": k, "benign": n} for (p, k), n in sorted(totals.items())]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "platform", "kind"], set_={"benign": _counts.c.benign + stmt.excluded.benign}
    )
    conn.execute(stmt)


_item_cols = Item.__table__.c


def forget_benign(
    conn: Session | Connection,
    worker_id: str,
    done: list[tuple[int, ScanResult]],
    *,
    before_delete: Callable[[list[ScanResult]], None] | None = None,
) -> list[int]:
    """Findings-only storage: the benign items among ``done`` (job id, result) leave no row -- the
    item and, by cascade, its media, bytes and job -- and are counted instead, by the day they were
    received, in the caller's transaction. Only an item's first scan, only a job still leased to
    ``worker_id``, and never an item a person reported: a rescan never deletes a stored item.
    ``before_delete(results)`` runs in the transaction while the rows still exist (the signal
    archive reads them). Returns the job ids taken this way."""
    by_job = {job_id: r for job_id, r in done if is_benign(r, None)}
    if not by_job:
        return []
    jobs = ScanJob.__table__.c
    rows = conn.execute(
        select(
            jobs.id.label("job_id"),
            _item_cols.id,
            _item_cols.platform,
            _item_cols.kind,
            _item_cols.received_at,
            _item_cols.context,
        )
        .join(Item.__table__, _item_cols.id == jobs.item_id)
        .where(
            jobs.id.in_(list(by_job)),
            jobs.lease_owner == worker_id,
            jobs.state == "running",
            _item_cols.scanned_at.is_(None),
            _item_cols.status != "done",
        )
    ).all()
    forget = [r for r in rows if (r.context or {}).get("source") not in USER_REPORT_SOURCES and by_job[r.job_id].item_id == r.id]
    if not forget:
        return []
    by_day: dict[dt.date, list[tuple[str, str]]] = {}
    for r in forget:
        by_day.setdefault(r.received_at.astimezone(dt.UTC).date(), []).append((r.platform, r.kind))
    for day, kinds in by_day.items():
        count_benign(kinds, day=day, session=conn)
    if before_delete is not None:
        before_delete([by_job[r.job_id] for r in forget])
    conn.execute(delete(Item.__table__).where(_item_cols.id.in_([r.id for r in forget])))  # cascades: media, bytes, job
    return [r.job_id for r in forget]


def benign_counts(start: dt.date, end: dt.date, session: Session | None = None) -> dict[str, int]:
    """Benign items counted (not stored) per platform between two days, both included."""
    q = (
        select(_counts.c.platform, func.sum(_counts.c.benign))
        .where(_counts.c.day >= start, _counts.c.day <= end)
        .group_by(_counts.c.platform)
    )
    if session is not None:
        return {p: int(n) for p, n in session.execute(q)}
    with get_engine().connect() as conn:
        return {p: int(n) for p, n in conn.execute(q)}


def link_matches(matcher: Any, canonical: str) -> list[Any]:
    """Matches of a canonical link, by URL and by domain (scan and rescan)."""
    if hasattr(matcher, "lookup_link"):  # the real matcher: looked up without canonicalising again
        return matcher.lookup_link(canonical)
    from suraksha.signals.url import domain_of

    domain = domain_of(canonical)
    return matcher.lookup("url", canonical) + (matcher.lookup("domain", domain) if domain else [])


def decide(
    policy: Any,
    item: Item,
    account: Account | None,
    matches: list[dict[str, Any]],
    scores: list[dict[str, Any]],
    text_hits: list[dict[str, Any]],
) -> tuple[Verdict, list[OutboxSpec]]:
    """An item's facts (match, score and text-hit rows) -> the policy's verdict and its outbox messages.

    One function for the scan and for ``pipeline.rescan`` (stored signals matched against new bank
    entries), so both reach the same verdict, the same facts and the same dedupe keys from the same rows.
    """
    context = item.context or {}
    facts = ScanFacts(
        matches=[
            MatchFact(
                bank=m["bank"],
                label=m["label"],
                signal_type=m["signal_type"],
                distance=m["distance"],
                transform=m["transform"],
                entry_id=m.get("entry_id"),
            )
            for m in matches
        ],
        scores=[ScoreFact(name=s["name"], value=float(s["value"]), classifier=s.get("classifier")) for s in scores],
        text_hits=[TextFact(kind=t["kind"], value=t["value"]) for t in text_hits],
        item_kind=item.kind,
        country=context.get("country"),
        source=context.get("source"),
    )
    verdict = policy.evaluate(facts)
    account_id = account.id if account else None
    base = {
        "item_id": item.id,
        "platform_id": item.platform_id,
        "account_id": account_id,
        "platform_account_id": account.platform_account_id if account else None,
        "verdict": verdict.verdict,
        "rule": verdict.rule,
        "reasons": list(verdict.reasons),
        "priority": verdict.priority,
        "labels": sorted({m["label"] for m in matches}),
        "context": item.context or {},
    }
    return verdict, outbox_for(item.id, account_id, verdict, base)


def _is_media_problem(exc: Exception) -> bool:
    """Errors that belong to one media (bad bytes, refused URL), as opposed to our own failures."""
    from suraksha.pipeline.fetch import FetchError

    return isinstance(exc, (FetchError, ValueError, MediaError))


def _is_over_budget(exc: Exception) -> bool:
    from suraksha.signals.budget import ScanBudgetExceeded

    return isinstance(exc, ScanBudgetExceeded)


def _text_rules() -> Any:
    ps = get_pipeline_settings()
    if not ps.text_keywords and not ps.text_regexes:
        return None
    return _compiled_text_rules(tuple(ps.text_keywords), tuple(ps.text_regexes))


@lru_cache(maxsize=4)
def _compiled_text_rules(keywords: tuple[str, ...], regexes: tuple[str, ...]) -> Any:
    """Compiled once per setting (it was compiled again for every scanned item)."""
    from suraksha.signals.text import TextRules

    return TextRules(keywords=list(keywords), regexes=list(regexes))


class ScanSettingsError(InvalidInput):
    """A scan setting that can never work; raised when workers start, not at every scan."""


def check_scan_settings() -> None:
    """Compile what every scan will need from the settings, so a bad one stops the worker at start
    with its reason (a regex RE2 cannot run, say) instead of failing each item after its retries."""
    try:
        _text_rules()
    except ValueError as exc:
        raise ScanSettingsError(f"SURAKSHA_TEXT_REGEXES / SURAKSHA_TEXT_KEYWORDS: {exc}") from None


_scanner: Scanner | None = None
_scanner_lock = threading.Lock()


def get_scanner() -> Scanner:
    """The process-wide scanner (real matcher, policy, classifiers)."""
    global _scanner
    if _scanner is None:
        with _scanner_lock:
            if _scanner is None:
                _scanner = Scanner()
    return _scanner


def set_scanner(scanner: Scanner | None) -> None:
    """Replace the process-wide scanner (tests, benchmarks); None goes back to the default."""
    global _scanner
    _scanner = scanner


def scan_item(item_id: int, scanner: Scanner | None = None) -> ScanResult:
    """Compute the scan of one item (reads only; ``queue.finish_jobs`` records it)."""
    return (scanner or get_scanner()).scan(item_id)
