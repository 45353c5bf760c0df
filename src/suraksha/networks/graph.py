"""What links accounts: the edges of the account graph, found with indexed SQL.

Every edge is anchored in evidence, so that chains of ordinary coincidences (the same news link,
the same café Wi-Fi) never join strangers to a group:

* **media**: the same bytes (SHA-256) as media that matched a bank somewhere, or a match on the same
  bank entry (e.g. a near-duplicate PDQ of one known image); one edge per picture, named after its
  first bank entry (``entry:<id>``);
* **link**: a canonical URL or a domain that is in a bank (enabled, not negative; always), or a URL
  that appears in a flagged item and was posted by at most ``SURAKSHA_NETWORK_LINK_MAX_ACCOUNTS``
  accounts;
* **ip** / **device**: items from the same IP address or device within the window of a *flagged*
  item, unless more than ``SURAKSHA_NETWORK_IP_MAX_ACCOUNTS`` accounts were there in that window.
  An address in a shared range (RFC 6598 carrier NAT ``100.64.0.0/10``, and the mobile and VPN
  ranges configured in ``SURAKSHA_NETWORK_SHARED_RANGES``) links nobody: thousands of strangers
  leave through one such address.

Each edge has a **strength**: media and link edges are *strong* (the same known picture, a banked
link, or a rare link inside flagged items: evidence about the content itself); ip and device edges
are *weak* (who was near whom in time). ``service`` builds groups from strong edges only and lists
accounts tied by weak edges alone beside the group, never in it.

``find_edges(session, scope)`` returns the edges touching the accounts in ``scope`` (None: all
edges), so a breadth-first walk from one account and a pass over the whole graph agree.
"""

from __future__ import annotations

import bisect
import datetime as dt
import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from suraksha.items.models import Item, ItemMatch, ItemMedia
from suraksha.networks.models import NetworkKey

EDGE_KINDS = ("media", "link", "ip", "device")
STRONG_KINDS = frozenset({"media", "link"})
CARRIER_NAT = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 shared address space
FLAGGED_VERDICTS = ("review", "remove")
CHUNK = 500


@dataclass
class Edge:
    """One shared key and the accounts (and their items) that share it."""

    kind: str  # media | link | ip | device
    value: str  # sha256:<hex> | entry:<id> | a canonical URL | domain:<host> | an IP | a device id
    detail: str = ""  # why it counts, e.g. "bank known-csam (csam)" or "in flagged items, 3 accounts"
    accounts: set[int] = field(default_factory=set)
    items: set[int] = field(default_factory=set)
    via: dict[int, set[str]] = field(default_factory=dict)  # media: per account, "sha256:<16>" / "entry:<id>"

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.value

    @property
    def strength(self) -> str:
        """``strong`` (media, link) or ``weak`` (ip, device)."""
        return strength_of(self.kind)

    def add(self, account_id: int, item_id: int) -> None:
        self.accounts.add(account_id)
        self.items.add(item_id)

    def merge(self, other: Edge) -> None:
        self.accounts |= other.accounts
        self.items |= other.items
        for account_id, keys in other.via.items():
            self.via.setdefault(account_id, set()).update(keys)
        self.detail = self.detail or other.detail


def strength_of(kind: str) -> str:
    return "strong" if kind in STRONG_KINDS else "weak"


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ranges(text: str) -> tuple[IpNetwork, ...]:
    """``"10.0.0.0/8, 2001:db8::/32"`` -> networks (with the carrier-NAT range always included).

    Raises ``ValueError`` naming the first entry that is not a network."""
    out: list[IpNetwork] = [CARRIER_NAT]
    for part in text.replace(";", ",").replace(" ", ",").split(","):
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ValueError(f"not an IP range: {part[:60]!r}") from exc
    return tuple(out)


def in_shared_range(value: str, ranges: tuple[IpNetwork, ...]) -> bool:
    """Whether an item's IP is a shared address (carrier NAT, a listed mobile or VPN range)."""
    try:
        address = ipaddress.ip_address(value.strip().split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in ranges)


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    values = sorted(set(values))
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _in_scope(column: Any, scope: set[int] | None) -> Iterator[Any]:
    """``column IN scope`` in chunks (a single True-ish condition when scope is None)."""
    if scope is None:
        yield None
        return
    for chunk in _chunks(scope):
        yield column.in_(chunk)


def _where(stmt: Any, cond: Any) -> Any:
    return stmt if cond is None else stmt.where(cond)


def _flagged() -> Any:
    return case((Item.verdict.in_(FLAGGED_VERDICTS), 1), else_=0)


def _flagged_items(session: Session) -> list[Any]:
    """``network_keys.item_id IN (flagged items)``, in chunks: the ids come from the verdict index and
    the keys are then found by item (a subquery lets SQLite scan every key of a kind instead)."""
    ids = session.scalars(select(Item.id).where(Item.verdict.in_(FLAGGED_VERDICTS))).all()
    return [NetworkKey.item_id.in_(chunk) for chunk in _chunks(ids)]


class _Edges:
    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], Edge] = {}

    def get(self, kind: str, value: str, detail: str = "") -> Edge:
        edge = self.by_key.get((kind, value))
        if edge is None:
            edge = self.by_key[(kind, value)] = Edge(kind, value, detail)
        return edge

    def linking(self) -> list[Edge]:
        """Edges that link at least two accounts."""
        return [e for e in self.by_key.values() if len(e.accounts) >= 2]


# --------------------------------------------------------------------------------------- media
def _media_keys(
    session: Session,
    shas: set[str],
    entries: set[int],
    rows: dict[tuple[int, int], tuple[int, set[str]]],
    details: dict[str, str],
) -> tuple[set[str], set[int]]:
    """Record the media rows carrying these SHA-256s / matching these entries; returns the keys
    those rows bring in (the entries a copy matched, the files that matched an entry)."""
    new_shas: set[str] = set()
    new_entries: set[int] = set()
    matched_media = and_(ItemMatch.item_id == ItemMedia.item_id, ItemMatch.media_position == ItemMedia.position)
    for chunk in _chunks(shas):
        for account_id, item_id, position, sha, entry_id in session.execute(
            select(Item.account_id, Item.id, ItemMedia.position, ItemMedia.sha256, ItemMatch.entry_id)
            .join(Item, Item.id == ItemMedia.item_id)
            .outerjoin(ItemMatch, matched_media)
            .where(ItemMedia.sha256.in_(chunk), Item.account_id.is_not(None))
        ):
            rows.setdefault((item_id, position), (account_id, set()))[1].add(f"sha256:{sha}")
            if entry_id is not None:
                new_entries.add(entry_id)
    for chunk in _chunks(entries):
        for account_id, item_id, position, entry_id, bank, label, sha in session.execute(
            select(
                Item.account_id,
                Item.id,
                ItemMatch.media_position,
                ItemMatch.entry_id,
                ItemMatch.bank,
                ItemMatch.label,
                ItemMedia.sha256,
            )
            .join(Item, Item.id == ItemMatch.item_id)
            .outerjoin(ItemMedia, matched_media)
            .where(ItemMatch.entry_id.in_(chunk), ItemMatch.media_position.is_not(None), Item.account_id.is_not(None))
        ):
            rows.setdefault((item_id, position), (account_id, set()))[1].add(f"entry:{entry_id}")
            details.setdefault(f"entry:{entry_id}", f"bank {bank} ({label})")
            if sha is not None:
                new_shas.add(sha)
    return new_shas, _active_entries(session, new_entries)


def _active_entries(session: Session, ids: set[int]) -> set[int]:
    """The entries that still count: present, enabled, in an enabled bank that is not negative. A
    picture taken out of a bank as a false positive stops linking the accounts that posted it."""
    from suraksha.matching.models import Bank, BankEntry

    out: set[int] = set()
    for chunk in _chunks(ids):
        out.update(
            session.scalars(
                select(BankEntry.id)
                .join(Bank, Bank.id == BankEntry.bank_id)
                .where(BankEntry.id.in_(chunk), BankEntry.enabled.is_(True), Bank.enabled.is_(True), Bank.negative.is_(False))
            ).all()
        )
    return out


def _media_edges(session: Session, scope: set[int] | None, out: _Edges) -> None:
    """One edge per matched picture: the files (SHA-256) and bank entries that one media carried,
    closed over every media sharing any of them, so the edge is the same from wherever it is found."""
    matched_media = and_(ItemMatch.item_id == ItemMedia.item_id, ItemMatch.media_position == ItemMedia.position)
    media_match = and_(ItemMatch.entry_id.is_not(None), ItemMatch.media_position.is_not(None))
    matched_files = select(ItemMedia.sha256, ItemMatch.entry_id).join(ItemMatch, matched_media).distinct()
    if scope is None:
        hits = set(session.execute(matched_files.where(ItemMedia.sha256.is_not(None))).all())
        entries = set(session.scalars(select(ItemMatch.entry_id).where(media_match).distinct()).all())
    else:
        mine: set[str] = set()
        entries = set()
        for cond in _in_scope(Item.account_id, scope):
            mine.update(
                session.scalars(
                    select(ItemMedia.sha256)
                    .join(Item, Item.id == ItemMedia.item_id)
                    .where(cond, ItemMedia.sha256.is_not(None))
                    .distinct()
                ).all()
            )
            entries.update(
                session.scalars(
                    select(ItemMatch.entry_id).join(Item, Item.id == ItemMatch.item_id).where(cond, media_match).distinct()
                ).all()
            )
        hits = set()  # only files that matched somewhere link anyone
        for chunk in _chunks(mine):
            hits.update(session.execute(matched_files.where(ItemMedia.sha256.in_(chunk))).all())
    active = _active_entries(session, entries | {e for _, e in hits if e is not None})
    shas = {sha for sha, e in hits if e is None or e in active}
    entries &= active
    rows: dict[tuple[int, int], tuple[int, set[str]]] = {}
    details: dict[str, str] = {}
    seen_shas, seen_entries = set(shas), set(entries)
    while shas or entries:
        more_shas, more_entries = _media_keys(session, shas, entries, rows, details)
        shas, entries = more_shas - seen_shas, more_entries - seen_entries
        seen_shas |= shas
        seen_entries |= entries
    # Keys carried by one media belong to one picture.
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        parent.setdefault(k, k)
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for _, keys in rows.values():
        first, *rest = sorted(keys)
        for k in rest:
            a, b = find(first), find(k)
            if a != b:
                parent[max(a, b)] = min(a, b)
    clusters: dict[str, set[str]] = {}
    for _, keys in rows.values():
        for k in keys:
            clusters.setdefault(find(k), set()).add(k)
    for root, keys in clusters.items():
        entry_ids = sorted(int(k[6:]) for k in keys if k.startswith("entry:"))
        files = sum(1 for k in keys if k.startswith("sha256:"))
        value = f"entry:{entry_ids[0]}" if entry_ids else min(keys)
        banks = sorted({details[f"entry:{e}"] for e in entry_ids})
        detail = "; ".join(banks) + f"; {len(entry_ids)} bank entr{'y' if len(entry_ids) == 1 else 'ies'}, {files} file(s)"
        edge = out.get("media", value, detail)
        for (item_id, _), (account_id, media_keys) in rows.items():
            if find(next(iter(media_keys))) == root:
                edge.add(account_id, item_id)
                edge.via.setdefault(account_id, set()).update(k[:23] if k.startswith("sha256:") else k for k in media_keys)


# ---------------------------------------------------------------------------------------- links
def _signal_type(kind: str) -> str:
    return "url" if kind == "link" else "domain"


def _scope_values(session: Session, kind: str, scope: set[int] | None) -> set[str]:
    """Values of ``kind`` the scope posted (None: values that appear in a flagged item or a bank)."""
    from suraksha.matching.models import BankEntry

    values: set[str] = set()
    if scope is not None:
        for cond in _in_scope(NetworkKey.account_id, scope):
            values.update(session.scalars(select(NetworkKey.value).where(cond, NetworkKey.kind == kind)).all())
        return values
    for cond in _flagged_items(session):
        values.update(session.scalars(select(NetworkKey.value).where(cond, NetworkKey.kind == kind)).all())
    banked = select(BankEntry.signal).where(BankEntry.signal_type == _signal_type(kind))
    values.update(
        session.scalars(select(NetworkKey.value).where(NetworkKey.kind == kind, NetworkKey.value.in_(banked)).distinct()).all()
    )
    return values


def _banked(session: Session, kind: str, values: set[str]) -> dict[str, str]:
    """Which of these links/domains are in an enabled, non-negative bank now: value -> "bank <name> (<label>)"."""
    from suraksha.matching.models import Bank, BankEntry

    out: dict[str, str] = {}
    for chunk in _chunks(values):
        for value, bank, label in session.execute(
            select(BankEntry.signal, Bank.name, Bank.label)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(
                BankEntry.signal_type == _signal_type(kind),
                BankEntry.signal.in_(chunk),
                BankEntry.enabled.is_(True),
                Bank.enabled.is_(True),
                Bank.negative.is_(False),
            )
        ):
            out.setdefault(value, f"bank {bank} ({label})")
    return out


def _rare_and_flagged(session: Session, value: str, link_cap: int) -> int | None:
    """How many accounts posted this link, if at most ``link_cap`` did and one of its items is flagged.

    Reads at most ``link_cap + 1`` accounts of the link (index on kind + value): a popular link is
    recognised as popular without counting all its posts.
    """
    posters = session.scalars(
        select(NetworkKey.account_id).where(NetworkKey.kind == "link", NetworkKey.value == value).distinct().limit(link_cap + 1)
    ).all()
    if not 2 <= len(posters) <= link_cap:
        return None
    flagged = session.scalar(
        select(NetworkKey.item_id)
        .join(Item, Item.id == NetworkKey.item_id)
        .where(NetworkKey.kind == "link", NetworkKey.value == value, Item.verdict.in_(FLAGGED_VERDICTS))
        .limit(1)
    )
    return len(posters) if flagged is not None else None


def _link_edges(session: Session, scope: set[int] | None, out: _Edges, link_cap: int) -> None:
    for kind in ("link", "domain"):
        candidates = _scope_values(session, kind, scope)
        qualifying = _banked(session, kind, candidates)
        if kind == "link":  # a domain counts only when banked: a shared unbanked domain is too broad
            for value in sorted(candidates - set(qualifying)):
                posters = _rare_and_flagged(session, value, link_cap)
                if posters is not None:
                    qualifying[value] = f"in flagged items, posted by {posters} accounts"
        for chunk in _chunks(qualifying):
            for account_id, value, item_id in session.execute(
                select(NetworkKey.account_id, NetworkKey.value, NetworkKey.item_id).where(
                    NetworkKey.kind == kind, NetworkKey.value.in_(chunk)
                )
            ):
                shown = value if kind == "link" else f"domain:{value}"
                out.get("link", shown, qualifying[value]).add(account_id, item_id)


# ----------------------------------------------------------------------------------- ip, device
@dataclass(frozen=True)
class _Seen:
    at: dt.datetime
    account_id: int
    item_id: int
    flagged: bool


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _rows(session: Session, kind: str, cond: Any, extra: Any = None) -> list[tuple[str, _Seen]]:
    stmt = (
        select(NetworkKey.value, NetworkKey.created_at, NetworkKey.account_id, NetworkKey.item_id, _flagged())
        .join(Item, Item.id == NetworkKey.item_id)
        .where(NetworkKey.kind == kind)
    )
    stmt = _where(_where(stmt, cond), extra)
    return [(v, _Seen(_aware(at), acc, item, bool(f))) for v, at, acc, item, f in session.execute(stmt)]


def _spans(times: list[dt.datetime], pad: dt.timedelta) -> list[tuple[dt.datetime, dt.datetime]]:
    """[t - pad, t + pad] around each (sorted) time, overlapping ones merged."""
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    for t in times:
        if spans and t - pad <= spans[-1][1]:
            spans[-1] = (spans[-1][0], t + pad)
        else:
            spans.append((t - pad, t + pad))
    return spans


def _context_edges(
    session: Session, scope: set[int] | None, out: _Edges, window: dt.timedelta, cap: int, shared: tuple[IpNetwork, ...]
) -> None:
    for kind in ("ip", "device"):
        if scope is None:
            mine = [r for cond in _flagged_items(session) for r in _rows(session, kind, cond)]
        else:
            mine = [r for cond in _in_scope(NetworkKey.account_id, scope) for r in _rows(session, kind, cond)]
        if not mine:
            continue
        by_value: dict[str, list[_Seen]] = {}
        for value, seen in mine:
            by_value.setdefault(value, []).append(seen)
        for value, own in by_value.items():
            if kind == "ip" and in_shared_range(value, shared):
                continue  # a carrier NAT / mobile / VPN address is shared by strangers: it links nobody
            # Only the stretches of time around the scope's own items (an IP shared for years by a
            # carrier is read around these posts, not in full).
            found: dict[int, _Seen] = {}
            for lo, hi in _spans(sorted(s.at for s in own), 2 * window):
                for _, seen in _rows(
                    session, kind, NetworkKey.value == value, and_(NetworkKey.created_at >= lo, NetworkKey.created_at <= hi)
                ):
                    found[seen.item_id] = seen
            around = sorted(found.values(), key=lambda s: s.at)
            times = [s.at for s in around]

            def near(t: dt.datetime, around: list[_Seen] = around, times: list[dt.datetime] = times) -> list[_Seen]:
                return around[bisect.bisect_left(times, t - window) : bisect.bisect_right(times, t + window)]

            # Anchors: flagged items of the scope, and flagged items near any item of the scope.
            anchors = {s for s in own if s.flagged}
            for s in own:
                anchors.update(x for x in near(s.at) if x.flagged)
            for anchor in anchors:
                crowd = near(anchor.at)
                accounts = {x.account_id for x in crowd}
                if 2 <= len(accounts) <= cap:
                    hours = int(window.total_seconds() // 3600)
                    edge = out.get(kind, value, f"within {hours} h of a flagged item")
                    for x in crowd:
                        edge.add(x.account_id, x.item_id)


def find_edges(
    session: Session,
    scope: set[int] | None,
    *,
    window_hours: int,
    link_cap: int,
    ip_cap: int,
    shared: tuple[IpNetwork, ...] = (CARRIER_NAT,),
) -> list[Edge]:
    """Every edge that links at least two accounts and touches ``scope`` (None: the whole graph);
    IPs in ``shared`` ranges link nobody."""
    out = _Edges()
    _media_edges(session, scope, out)
    _link_edges(session, scope, out, link_cap)
    _context_edges(session, scope, out, dt.timedelta(hours=window_hours), ip_cap, shared)
    return out.linking()
