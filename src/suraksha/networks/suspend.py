"""Suspend an account's whole network in one call: one suspension action per member, one transaction.

"The network" is ``service.build_network``'s (the one definition the account page shows); each
member's suspension is enforcement's (``actions.enqueue_suspension``: one action per account, so a
member already suspended is listed, not suspended twice). Here because it builds a network:
enforcement, above networks in the layer order, never needs to know what a network is.

Only members tied by strong links are suspended by default. An account tied to the group by weak
links alone (an IP or device near a flagged item) is suspended only when a person names it in
``confirm_weak`` after reading its links; every member's links are recorded with its suspension.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from suraksha.audit import record
from suraksha.db import session_scope
from suraksha.enforcement.actions import ActionError, enqueue_suspension
from suraksha.errors import InvalidInput
from suraksha.items.models import Account
from suraksha.networks.service import AccountNotFound, build_network, shared_keys


@dataclass
class SuspendedMember:
    account_id: int
    platform_account_id: str
    action_id: int
    enqueued: bool  # False: a suspension was already on record
    shared: list[str]  # what links it: "sha256:<first 16>", "entry:<bank entry id>", "<kind> <value>"
    tie: str = "strong"  # weak: tied by weak links only, suspended because a person confirmed it


@dataclass
class NetworkSuspension:
    account_id: int
    members: list[SuspendedMember]

    @property
    def enqueued(self) -> list[SuspendedMember]:
        return [m for m in self.members if m.enqueued]


def suspend_network(
    account_id: int, reason: str, actor: str, *, max_accounts: int = 500, confirm_weak: Collection[int] = ()
) -> NetworkSuspension:
    """Suspend ``account_id`` and every account of its network, in one transaction (audited).

    ``confirm_weak``: weakly tied accounts a person has checked and confirmed (each must be one of
    the network's ``weak_members``, else the call is refused and nothing is suspended).

    Accounts already suspended (pipeline or an earlier call) are listed with ``enqueued=False``.
    More than ``max_accounts`` linked accounts is refused: a common image wrongly in a bank must not
    suspend thousands of people by one click; raise the limit deliberately if it is right.
    """
    if not reason or not reason.strip():
        raise ActionError("a reason is required to suspend an account network")
    with session_scope() as session:
        if session.get(Account, account_id) is None:
            raise AccountNotFound(f"account {account_id} not found")
        network = build_network(session, account_id, max_accounts=max_accounts)
        if network.truncated:
            raise ActionError(
                f"the network of account {account_id} has more than max_accounts={max_accounts} "
                f"accounts; check the matches, then raise the limit to proceed"
            )
        weak_ids = {m.account_id for m in network.weak_members}
        unknown = sorted(set(confirm_weak) - weak_ids)
        if unknown:
            raise InvalidInput(
                f"account(s) {', '.join(map(str, unknown[:10]))} are not weakly tied to the network of account "
                f"{account_id}; reload the group and confirm from its list"
            )
        confirmed = set(confirm_weak)
        linked = shared_keys(network, weak=confirmed)
        accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(list(linked)))).all()}
        members = []
        for acc_id in sorted(linked):
            acc = accounts[acc_id]
            shared = sorted(linked[acc_id])
            tie = "weak" if acc_id in confirmed else "strong"
            action_id, created = enqueue_suspension(
                session,
                acc_id,
                acc.platform_account_id,
                reason=reason,
                actor=actor,
                source="network",
                details={"network_of": account_id, "shared": shared, "tie": tie},
            )
            members.append(SuspendedMember(acc_id, acc.platform_account_id, action_id, created, shared, tie))
        record(
            session,
            actor,
            "action.suspend_network",
            "action",
            None,
            {
                "account_id": account_id,
                "reason": reason[:500],
                "accounts": [m.account_id for m in members],
                "enqueued": [m.account_id for m in members if m.enqueued],
                "confirmed_weak": sorted(confirmed),
            },
        )
        return NetworkSuspension(account_id, members)
