"""Account networks: the connected group around one account, and every group, from stored rows.

``network_for(account)`` walks the graph breadth-first from the account (each step a handful of
indexed queries, see ``graph.py``), so an account page costs what its neighbourhood costs, not what
the whole platform costs. ``groups()`` finds every edge at once and joins them with a union-find.
Both refresh the key index first (``index.refresh_keys``). ``suspend.suspend_network`` uses
``build_network``, so "the network" has one definition everywhere.

Only **strong** links (matched media, banked or rare flagged links) make a group: the walk and the
union-find follow them alone. Accounts tied to a group by **weak** links only (an IP or a device
near a flagged item) are listed beside it as ``weak_members``, with those links, and are never
counted, suspended or disclosed as members unless a person confirms each one
(``suspend.suspend_network(confirm_weak=...)``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from suraksha.db import session_scope
from suraksha.db.sql import aware
from suraksha.errors import InvalidInput, NotFound
from suraksha.items.models import Account, Item, ItemMatch
from suraksha.networks.graph import EDGE_KINDS, FLAGGED_VERDICTS, Edge, find_edges, parse_ranges, strength_of
from suraksha.networks.index import refresh_keys
from suraksha.networks.settings import get_network_settings

EXAMPLES = 5


class AccountNotFound(NotFound):
    pass


@dataclass
class NetworkMember:
    account_id: int
    platform_account_id: str
    handle: str | None
    first_activity: dt.datetime | None
    last_activity: dt.datetime | None
    items: int
    matched_items: int
    flagged_items: int
    suspended: bool  # a suspension is on record (requested or delivered) and not restored since
    suspension_status: str | None
    linked_by: list[str] = field(default_factory=list)  # "kind value" of the links it is part of
    tie: str = "strong"  # strong: in the group by strong links; weak: only weak links tie it to the group

    @property
    def linked_kinds(self) -> list[str]:
        """The kinds of link that join it to the group, in EDGE_KINDS order (media first)."""
        kinds = {label.split(" ", 1)[0] for label in self.linked_by}
        return [k for k in EDGE_KINDS if k in kinds]

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "platform_account_id": self.platform_account_id,
            "handle": self.handle,
            "first_activity": _iso(self.first_activity),
            "last_activity": _iso(self.last_activity),
            "items": self.items,
            "matched_items": self.matched_items,
            "flagged_items": self.flagged_items,
            "suspended": self.suspended,
            "suspension_status": self.suspension_status,
            "linked_by": list(self.linked_by),
            "tie": self.tie,
        }


@dataclass
class NetworkLink:
    """What links members: one shared key (kind media|link|ip|device), its accounts and example items."""

    kind: str
    value: str
    detail: str
    accounts: list[int]
    item_count: int
    examples: list[int]
    via: dict[int, set[str]] = field(default_factory=dict, repr=False)  # media: per account, files / entries

    @property
    def label(self) -> str:
        return f"{self.kind} {self.value}"

    @property
    def strength(self) -> str:
        """``strong`` (media, link) or ``weak`` (ip, device)."""
        return strength_of(self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "strength": self.strength,
            "value": self.value,
            "detail": self.detail,
            "accounts": list(self.accounts),
            "account_count": len(self.accounts),
            "item_count": self.item_count,
            "examples": list(self.examples),
        }


@dataclass
class Network:
    """A connected group of accounts (around ``account_id``, or one of ``groups()`` when None)."""

    account_id: int | None
    members: list[NetworkMember]
    links: list[NetworkLink]
    window_hours: int
    max_accounts: int
    truncated: bool  # more accounts are linked than max_accounts; members holds the first ones found
    accounts_total: int | None = None  # every account of the group when known (groups), None for a walk
    weak_members: list[NetworkMember] = field(default_factory=list)  # tied to the group by weak links only

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def first_activity(self) -> dt.datetime | None:
        return min((m.first_activity for m in self.members if m.first_activity), default=None)

    @property
    def last_activity(self) -> dt.datetime | None:
        return max((m.last_activity for m in self.members if m.last_activity), default=None)

    @property
    def linked_by(self) -> dict[str, dict[str, Any]]:
        """Per kind: how many links of that kind, and up to five of their values."""
        out: dict[str, dict[str, Any]] = {}
        for link in self.links:
            entry = out.setdefault(link.kind, {"links": 0, "examples": []})
            entry["links"] += 1
            if len(entry["examples"]) < EXAMPLES:
                entry["examples"].append(link.value)
        return out

    @property
    def total_known(self) -> int | None:
        """Every account of the group: counted by ``groups``; a walk knows it only if not truncated."""
        if self.accounts_total is not None:
            return self.accounts_total
        return None if self.truncated else self.size

    def member(self, account_id: int) -> NetworkMember | None:
        return next((m for m in self.members if m.account_id == account_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "size": self.size,
            "truncated": self.truncated,
            "accounts_total": self.total_known,
            "max_accounts": self.max_accounts,
            "window_hours": self.window_hours,
            "first_activity": _iso(self.first_activity),
            "last_activity": _iso(self.last_activity),
            "linked_by": self.linked_by,
            "members": [m.to_dict() for m in self.members],
            "weak_members": [m.to_dict() for m in self.weak_members],
            "links": [link.to_dict() for link in self.links],
        }


def _iso(value: dt.datetime | None) -> str | None:
    return aware(value).isoformat() if value is not None else None


# ------------------------------------------------------------------------------------- building
def _resolve(session: Session, account: int | str) -> Account:
    """By our id, else by the platform's account id (as ``GET /v1/accounts/{id}`` does)."""
    found = session.get(Account, account) if isinstance(account, int) and 0 < account < 2**63 else None
    if found is None:
        found = session.scalars(select(Account).where(Account.platform_account_id == str(account))).first()
    if found is None:
        raise AccountNotFound(f"account {account} not found")
    return found


def _suspensions(session: Session, ids: list[int]) -> dict[int, str]:
    """Account -> status of its latest suspension, for accounts not restored since."""
    from suraksha.enforcement.models import Action

    latest: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(Action.account_id, Action.kind, func.max(Action.id))
        .where(
            Action.account_id.in_(ids),
            Action.kind.in_(("suspend_account", "restore")),
            (Action.kind == "suspend_account") | Action.item_id.is_(None),
        )
        .group_by(Action.account_id, Action.kind)
    )
    for account_id, kind, action_id in rows:
        latest.setdefault(account_id, {})[kind] = action_id
    live = {a: k["suspend_account"] for a, k in latest.items() if k.get("suspend_account", 0) > k.get("restore", 0)}
    if not live:
        return {}
    status = dict(session.execute(select(Action.id, Action.status).where(Action.id.in_(list(live.values())))).all())
    return {a: status[action_id] for a, action_id in live.items()}


def _members(session: Session, ids: list[int], links: list[NetworkLink], tie: str = "strong") -> list[NetworkMember]:
    out: list[NetworkMember] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(chunk)))}
        activity = {
            a: (first, last, n, flagged)
            for a, first, last, n, flagged in session.execute(
                select(
                    Item.account_id,
                    func.min(Item.created_at),
                    func.max(Item.created_at),
                    func.count(),
                    func.sum(case((Item.verdict.in_(FLAGGED_VERDICTS), 1), else_=0)),
                )
                .where(Item.account_id.in_(chunk))
                .group_by(Item.account_id)
            )
        }
        matched = dict(
            session.execute(
                select(Item.account_id, func.count(ItemMatch.item_id.distinct()))
                .join(ItemMatch, ItemMatch.item_id == Item.id)
                .where(Item.account_id.in_(chunk))
                .group_by(Item.account_id)
            ).all()
        )
        suspended = _suspensions(session, chunk)
        for account_id in chunk:
            a = accounts[account_id]
            first, last, n, flagged = activity.get(account_id, (None, None, 0, 0))
            out.append(
                NetworkMember(
                    account_id=a.id,
                    platform_account_id=a.platform_account_id,
                    handle=a.handle,
                    first_activity=aware(first),
                    last_activity=aware(last),
                    items=n,
                    matched_items=matched.get(account_id, 0),
                    flagged_items=flagged or 0,
                    suspended=account_id in suspended,
                    suspension_status=suspended.get(account_id),
                    linked_by=[link.label for link in links if account_id in link.accounts],
                    tie=tie,
                )
            )
    return out


def _links(edges: list[Edge], members: set[int], weak: set[int] = frozenset()) -> list[NetworkLink]:  # type: ignore[assignment]
    """The links among ``members``, and the weak links from them to ``weak`` accounts."""
    out = []
    for e in edges:
        accounts = sorted(e.accounts & (members | weak if e.strength == "weak" else members))
        if len(accounts) < 2 or not members.intersection(accounts):
            continue
        out.append(
            NetworkLink(
                e.kind,
                e.value,
                e.detail,
                accounts,
                len(e.items),
                sorted(e.items)[:EXAMPLES],
                {a: set(v) for a, v in e.via.items() if a in accounts},
            )
        )
    order = {k: n for n, k in enumerate(EDGE_KINDS)}
    return sorted(out, key=lambda link: (order[link.kind], -len(link.accounts), link.value))


def _caps(window_hours: int | None) -> dict[str, int]:
    s = get_network_settings()
    if window_hours is not None and not 1 <= window_hours <= 24 * 366:
        raise InvalidInput(f"window_hours must be between 1 and {24 * 366}, got {window_hours}")
    return {
        "window_hours": window_hours or s.window_hours,
        "link_cap": s.link_max_accounts,
        "ip_cap": s.ip_max_accounts,
        "shared": parse_ranges(s.shared_ranges),
    }


def _weak_of(edges: Iterable[Edge], members: set[int]) -> set[int]:
    """Accounts outside ``members`` that a weak edge ties to one of them."""
    out: set[int] = set()
    for e in edges:
        if e.strength == "weak" and e.accounts & members:
            out |= e.accounts - members
    return out


def build_network(session: Session, account: int | str, *, window_hours: int | None = None, max_accounts: int = 500) -> Network:
    """The group around ``account`` inside an open session (for callers that act on it in the same
    transaction, like ``suspend.suspend_network``)."""
    if max_accounts < 1:
        raise InvalidInput("max_accounts must be at least 1")
    caps = _caps(window_hours)
    root = _resolve(session, account)
    refresh_keys(session)
    members: set[int] = {root.id}
    order: list[int] = [root.id]
    edges: dict[tuple[str, str], Edge] = {}
    frontier = {root.id}
    truncated = False
    while frontier and not truncated:
        new: set[int] = set()
        for e in find_edges(session, frontier, **caps):
            if e.key in edges:
                edges[e.key].merge(e)
            else:
                edges[e.key] = e
            if e.strength == "strong":  # a weak link alone never brings an account into the group
                new |= e.accounts - members
        if len(members) + len(new) > max_accounts:
            truncated = True
            new = set(sorted(new)[: max_accounts - len(members)])
        members |= new
        order.extend(sorted(new))
        frontier = new
    weak = _weak_of(edges.values(), members)
    links = _links(list(edges.values()), members, weak)
    return Network(
        root.id,
        _members(session, order, links),
        links,
        caps["window_hours"],
        max_accounts,
        truncated,
        weak_members=_members(session, sorted(weak), links, tie="weak"),
    )


def network_for(account_id: int | str, *, window_hours: int | None = None, max_accounts: int = 500) -> Network:
    """The connected group of accounts around ``account_id`` (our id; a string is the platform's id).

    Raises ``AccountNotFound`` (a LookupError) for an unknown account.
    """
    with session_scope() as session:
        return build_network(session, account_id, window_hours=window_hours, max_accounts=max_accounts)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class GroupPage:
    """One page of ``groups``: the groups at ``offset``, and how many there are in all."""

    total: int
    offset: int
    limit: int
    min_size: int
    groups: list[Network]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "min_size": self.min_size,
            "groups": [g.to_dict() for g in self.groups],
        }


MAX_PAGE = 500


def _first_activity(session: Session, ids: set[int]) -> dict[int, dt.datetime]:
    out: dict[int, dt.datetime] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for account_id, first in session.execute(
            select(Item.account_id, func.min(Item.created_at)).where(Item.account_id.in_(chunk)).group_by(Item.account_id)
        ):
            if first is not None:
                out[account_id] = aware(first)
    return out


def group_page(
    *,
    min_size: int = 2,
    limit: int = 50,
    offset: int = 0,
    window_hours: int | None = None,
    max_accounts: int = 500,
    actor: str | None = None,
) -> GroupPage:
    """Connected groups with at least ``min_size`` accounts, largest first, then the earliest active
    (then the lowest account id), so pages are stable; ``limit`` groups from ``offset``.

    A group larger than ``max_accounts`` lists its first ``max_accounts`` members with ``truncated``
    set; ``accounts_total`` always counts them all. With ``actor`` (a staff page) the view is an
    audit event, like an account page's ``account.view``: the list names many accounts at once.
    """
    if not 2 <= min_size <= 10**9:
        raise InvalidInput("min_size must be at least 2 (a group links two or more accounts)")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    if not 0 <= offset <= 10**9:
        raise InvalidInput(f"offset must be 0 or more, got {offset}")
    if max_accounts < 1:
        raise InvalidInput("max_accounts must be at least 1")
    caps = _caps(window_hours)
    with session_scope() as session:
        refresh_keys(session)
        edges = find_edges(session, None, **caps)
        uf = _UnionFind()
        for e in edges:
            if e.strength == "weak":
                continue  # groups are made of strong links; weak ones are listed beside them
            first, *rest = sorted(e.accounts)
            for other in rest:
                uf.union(first, other)
        components: dict[int, set[int]] = {}
        for account_id in list(uf.parent):
            components.setdefault(uf.find(account_id), set()).add(account_id)
        big = [c for c in components.values() if len(c) >= min_size]
        first = _first_activity(session, set().union(*big)) if big else {}
        never = dt.datetime.max.replace(tzinfo=dt.UTC)
        big.sort(key=lambda c: (-len(c), min((first.get(a, never) for a in c), default=never), min(c)))
        out = []
        for component in big[offset : offset + limit]:
            ids = sorted(component)[:max_accounts]
            touching = [e for e in edges if e.accounts & component]
            weak = _weak_of(touching, component)
            links = _links(touching, set(ids), weak)
            out.append(
                Network(
                    None,
                    _members(session, ids, links),
                    links,
                    caps["window_hours"],
                    max_accounts,
                    len(component) > max_accounts,
                    accounts_total=len(component),
                    weak_members=_members(session, sorted(weak)[:max_accounts], links, tie="weak"),
                )
            )
        if actor is not None:
            from suraksha.auth import audit

            audit.record(
                session,
                actor,
                "network.groups_view",
                "network",
                None,
                {
                    "min_size": min_size,
                    "offset": offset,
                    "limit": limit,
                    "groups": len(out),
                    "accounts": sorted(m.account_id for g in out for m in g.members),
                },
            )
        return GroupPage(len(big), offset, limit, min_size, out)


def groups(*, min_size: int = 2, window_hours: int | None = None, limit: int = 100, max_accounts: int = 500) -> list[Network]:
    """The first ``limit`` groups of ``group_page`` (largest first, then earliest)."""
    return group_page(min_size=min_size, limit=limit, window_hours=window_hours, max_accounts=max_accounts).groups


def shared_keys(network: Network, *, weak: Collection[int] = ()) -> dict[int, set[str]]:
    """Member -> what links it, in the short form enforcement records with a suspension; the weak
    members in ``weak`` (confirmed by a person) are included with their weak links."""
    out: dict[int, set[str]] = {m.account_id: set() for m in network.members}
    out.update({m.account_id: set() for m in network.weak_members if m.account_id in weak})
    for link in network.links:
        for account_id in link.accounts:
            if account_id not in out:
                continue
            via = link.via.get(account_id) if link.kind == "media" else None
            out[account_id].update(via or {f"{link.kind} {link.value}"})
    return out


@dataclass(frozen=True)
class LinkedAccount:
    """One account of a network as a disclosure states it: what links it and how strongly."""

    account_id: int
    links: tuple[tuple[str, str], ...]  # (strength, "kind value" or "sha256:<16>" / "entry:<id>"), strong first


def network_of(session: Session, account_id: int, *, max_accounts: int = 500) -> dict[int, LinkedAccount]:
    """The accounts of ``account_id``'s group (strong links only: weak ties are never disclosed as
    linked accounts) and each link with its strength, inside an open session (legal's gathering)."""
    network = build_network(session, account_id, max_accounts=max_accounts)
    out: dict[int, list[tuple[str, str]]] = {m.account_id: [] for m in network.members}
    for link in network.links:
        for member in link.accounts:
            if member in out:
                via = link.via.get(member) if link.kind == "media" else None
                out[member].extend((link.strength, v) for v in sorted(via or {link.label}))
    rank = {"strong": 0, "weak": 1}
    return {a: LinkedAccount(a, tuple(sorted(set(v), key=lambda x: (rank[x[0]], x[1])))) for a, v in out.items()}
