"""Search (``/search``): an item by Suraksha or platform id, an account by id, platform id or
handle, a hash of any signal type (bank entries within the bank's threshold, with the distance,
and items whose media carry it), or a URL (canonicalised first; bank entries for it and its
domain, and items whose links matched). Every result links to its item, account or bank entry.

Read-only for ``items.read`` roles; each search is an audit event (``search``) with what was looked
for. Bank entries come from the process's match index (``app.state.matcher_state``), so a PDQ
hash finds near entries with their distance; while the index loads, exact matches only, and the
page says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, or_, select
from starlette.concurrency import run_in_threadpool

from suraksha.audit.log import record
from suraksha.db import session_scope
from suraksha.errors import InvalidInput, SurakshaError
from suraksha.items.models import Account, Item, ItemMatch, ItemMedia
from suraksha.matching.models import Bank, BankEntry
from suraksha.signals.types import find_signal_type, signal_types
from suraksha.signals.url import canonical_url, domain_of_canonical
from suraksha.web import errors as error_pages
from suraksha.web.render import render
from suraksha.web.security import staff_page

router = APIRouter(include_in_schema=False)
PERMISSION = "items.read"
KINDS = ("auto", "item", "account", "hash", "url")
MAX_QUERY = 2000
LIMIT = 50
HASH_COLUMNS = {"sha256": ItemMedia.sha256, "md5": ItemMedia.md5, "pdq": ItemMedia.pdq}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass
class Results:
    kind: str
    query: str
    items: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    canonical: str | None = None
    signal_types: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.items or self.accounts or self.entries)


def _guess(query: str) -> str:
    q = query.strip()
    if "://" in q or q.lower().startswith("www."):
        return "url"
    if _HEX.match(q) and len(q) in (32, 64):
        return "hash"
    if q.startswith("@"):
        return "account"
    return "item"  # ids and platform ids; accounts are searched too (see find)


def _item_row(i: Item) -> dict[str, Any]:
    return {"id": i.id, "platform": i.platform, "platform_id": i.platform_id, "account_id": i.account_id, "at": i.created_at}


def _find_items(s: Any, q: str) -> list[dict[str, Any]]:
    cond = Item.platform_id == q
    if q.isdigit() and len(q) < 19:
        cond = or_(cond, Item.id == int(q))
    return [_item_row(i) for i in s.scalars(select(Item).where(cond).order_by(Item.id).limit(LIMIT)).all()]


def _find_accounts(s: Any, q: str) -> list[dict[str, Any]]:
    handle = q.removeprefix("@")
    cond = or_(Account.platform_account_id == q, func.lower(Account.handle) == handle.lower())
    if q.isdigit() and len(q) < 19:
        cond = or_(cond, Account.id == int(q))
    rows = s.scalars(select(Account).where(cond).order_by(Account.id).limit(LIMIT)).all()
    return [
        {"id": a.id, "platform_account_id": a.platform_account_id, "handle": a.handle, "last_seen": a.last_seen} for a in rows
    ]


def _entry_rows(s: Any, hits: list[tuple[int, int, str | None]]) -> list[dict[str, Any]]:
    """(entry id, distance, transform) -> rows with the bank and the stored value."""
    if not hits:
        return []
    ids = [h[0] for h in hits]
    found = {
        e.id: (e, name, label)
        for e, name, label in s.execute(
            select(BankEntry, Bank.name, Bank.label).join(Bank, Bank.id == BankEntry.bank_id).where(BankEntry.id.in_(ids))
        ).all()
    }
    out = []
    for entry_id, distance, transform in hits:
        if entry_id not in found:
            continue
        e, bank, label = found[entry_id]
        out.append(
            {
                "id": e.id,
                "bank": bank,
                "label": label,
                "signal_type": e.signal_type,
                "signal": e.signal,
                "distance": distance,
                "transform": transform,
            }
        )
    return out


def _exact_entries(s: Any, signal_type: str, value: str) -> list[tuple[int, int, str | None]]:
    rows = s.scalars(
        select(BankEntry.id)
        .where(BankEntry.signal_type == signal_type, BankEntry.signal == value, BankEntry.enabled.is_(True))
        .limit(LIMIT)
    ).all()
    return [(int(r), 0, None) for r in rows]


def _matcher_hits(matcher: Any, signal_type: str, value: str, related: bool = False) -> list[tuple[int, int, str | None]]:
    return [(m.entry_id, m.distance, m.transform) for m in matcher.lookup(signal_type, value, canonical=True, related=related)]


def _items_with_signal(s: Any, signal_type: str, value: str) -> list[dict[str, Any]]:
    ids: set[int] = set(
        s.scalars(select(ItemMatch.item_id).where(ItemMatch.signal_type == signal_type, ItemMatch.signal == value).limit(LIMIT))
    )
    column = HASH_COLUMNS.get(signal_type)
    if column is not None:
        ids |= set(s.scalars(select(ItemMedia.item_id).where(column == value).limit(LIMIT)))
    if not ids:
        return []
    return [_item_row(i) for i in s.scalars(select(Item).where(Item.id.in_(sorted(ids)[:LIMIT])).order_by(Item.id)).all()]


def find(query: str, kind: str, matcher: Any | None) -> Results:
    q = query.strip()
    if not q:
        raise InvalidInput("type an item id, an account id or handle, a hash or a URL")
    if len(q) > MAX_QUERY:
        raise InvalidInput(f"the search text is too long (at most {MAX_QUERY} characters)")
    if kind not in KINDS:
        raise InvalidInput(f"search for one of: {', '.join(KINDS)}")
    kind = _guess(q) if kind == "auto" else kind
    out = Results(kind=kind, query=q)
    if matcher is None and kind in ("hash", "url"):
        out.notes.append("The match index is still loading: bank entries are exact matches only (no distances) for now.")
    with session_scope() as s:
        if kind in ("item", "account"):
            out.items = _find_items(s, q) if kind == "item" else []
            out.accounts = _find_accounts(s, q)
        elif kind == "hash":
            for st in signal_types():
                if st.name in ("url", "domain", "text"):
                    continue
                try:
                    value = st.normalize(q)
                except ValueError:
                    continue
                out.signal_types.append(st.name)
                hits = _matcher_hits(matcher, st.name, value) if matcher is not None else _exact_entries(s, st.name, value)
                out.entries += _entry_rows(s, hits)
                out.items += _items_with_signal(s, st.name, value)
            if not out.signal_types:
                raise InvalidInput("not a hash of any known signal type (sha256, md5, pdq: hexadecimal)")
        else:
            try:
                canonical = canonical_url(q)
            except ValueError as exc:
                raise InvalidInput(f"not a URL: {exc}") from None
            out.canonical = canonical
            url_type = find_signal_type("url")
            if url_type is not None and matcher is not None:
                hits = _matcher_hits(matcher, "url", canonical, related=True)
            else:
                hits = _exact_entries(s, "url", canonical) + _exact_entries(s, "domain", domain_of_canonical(canonical))
            out.entries = _entry_rows(s, hits)
            out.items = _items_with_signal(s, "url", canonical)
    return out


def _audit(actor: str, results: Results, ip: str | None) -> None:
    with session_scope() as s:
        record(
            s,
            actor,
            "search",
            None,
            None,
            {
                "kind": results.kind,
                "query": results.query[:200],
                "items": len(results.items),
                "accounts": len(results.accounts),
                "entries": len(results.entries),
            },
            ip=ip,
        )


def _usable_matcher(request: Request) -> Any | None:
    state = getattr(request.app.state, "matcher_state", None)
    matcher = getattr(state, "matcher", None)
    return matcher if matcher is not None and hasattr(matcher, "lookup") else None


@router.get("/search", response_class=HTMLResponse)
@staff_page(PERMISSION)
async def search_page(request: Request) -> Response:
    query = request.query_params.get("q") or ""
    kind = request.query_params.get("kind") or "auto"
    results = None
    if query.strip():
        try:
            results = await run_in_threadpool(find, query, kind, _usable_matcher(request))
        except SurakshaError as exc:
            status, message = error_pages.describe(exc)
            return render(
                request, "search.html", {"q": query[:MAX_QUERY], "kind": kind, "kinds": KINDS, "error": message}, status=status
            )
        await run_in_threadpool(_audit, request.state.staff.actor, results, request.client.host if request.client else None)
    return render(request, "search.html", {"q": query, "kind": kind, "kinds": KINDS, "results": results, "error": None})
