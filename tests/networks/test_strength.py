"""Strong links make groups; weak ones (IP, device) never do; shared addresses link nobody (issue 13.4)."""

from __future__ import annotations

import datetime as dt

import pytest

from .helpers import T0, account_id, scan_all, submit


def _cgnat_pair_beside_the_ring() -> None:
    """The issue's case: two unrelated users share one carrier-NAT address with ring members within hours."""
    for n, name in enumerate(("commuter-1", "commuter-2")):
        submit(f"{name}-post", name, text="on the train", at=T0 + dt.timedelta(minutes=10 + n), ip="100.64.10.10")
    for n in (0, 1):  # ring-00 and ring-01 posted from the same address (ring-post-0/1 are at T0, T0+1h)
        submit(f"ring-extra-{n}", f"ring-{n:02d}", text="x", at=T0 + dt.timedelta(minutes=n), ip="100.64.10.10")
    scan_all()


def test_the_ring_plus_two_users_on_one_carrier_nat_address_stays_23(ring):
    from suraksha.networks.service import groups, network_for

    _cgnat_pair_beside_the_ring()
    commuters = {account_id("commuter-1"), account_id("commuter-2")}
    [group] = groups()
    assert group.size == 23 and {m.account_id for m in group.members} == set(ring["ring"])
    assert not commuters & {m.account_id for m in group.weak_members}  # not even a weak tie: a shared address
    net = network_for(ring["ring"][0])
    assert net.size == 23 and net.weak_members == []
    assert all(link.kind != "ip" for link in net.links)
    alone = network_for(account_id("commuter-1"))
    assert alone.size == 1 and alone.weak_members == [] and alone.links == []


def test_configured_mobile_or_vpn_ranges_link_nobody(env, monkeypatch):
    from suraksha.networks.service import network_for
    from suraksha.networks.settings import reset_network_settings

    from .helpers import bank_pictures, picture

    bad = picture(31)
    bank_pictures(bad)
    submit("f1", "flagged", media=[bad], at=T0, ip="198.18.4.2")
    submit("n1", "nearby", text="hello", at=T0 + dt.timedelta(hours=1), ip="198.18.4.2")
    scan_all()
    assert [m.platform_account_id for m in network_for(account_id("flagged")).weak_members] == ["nearby"]
    monkeypatch.setenv("SURAKSHA_NETWORK_SHARED_RANGES", "203.0.113.0/24, 198.18.0.0/15")
    reset_network_settings()
    assert network_for(account_id("flagged")).weak_members == []
    monkeypatch.setenv("SURAKSHA_NETWORK_SHARED_RANGES", "198.18.0.0/15, not-a-range")
    reset_network_settings()
    with pytest.raises(ValueError, match="not-a-range"):
        network_for(account_id("flagged"))


def test_a_weak_tie_is_listed_beside_the_group_and_suspended_only_when_confirmed(ring):
    from sqlalchemy import select

    from suraksha.db import session_scope
    from suraksha.enforcement.models import Action
    from suraksha.errors import InvalidInput
    from suraksha.networks.service import groups, network_for
    from suraksha.networks.suspend import suspend_network

    # An ordinary address (not a shared range) near ring-02's flagged post: a weak tie.
    from .helpers import picture

    # ring-02 posts the banked picture again (flagged) from an ordinary address; a visitor posts from it minutes later.
    submit("ring-ip", "ring-02", media=[picture(1)], at=T0 + dt.timedelta(hours=2), ip="203.0.113.50")
    submit("visitor-post", "visitor", text="hello", at=T0 + dt.timedelta(hours=2, minutes=5), ip="203.0.113.50")
    scan_all()
    visitor = account_id("visitor")
    net = network_for(ring["ring"][2])
    assert net.size == 23 and [m.account_id for m in net.weak_members] == [visitor]
    [weak] = net.weak_members
    assert weak.tie == "weak" and weak.linked_by == ["ip 203.0.113.50"]
    [ip_link] = [x for x in net.links if x.kind == "ip"]
    assert ip_link.strength == "weak" and ip_link.to_dict()["strength"] == "weak"
    assert {x.strength for x in net.links if x.kind in ("media", "link")} == {"strong"}
    data = net.to_dict()
    assert data["size"] == 23 and [m["tie"] for m in data["weak_members"]] == ["weak"]
    [group] = groups()
    assert group.size == 23 and [m.account_id for m in group.weak_members] == [visitor]

    # Naming an account that is not weakly tied is refused and suspends nobody.
    with pytest.raises(InvalidInput, match="not weakly tied"):
        suspend_network(ring["ring"][2], "ring", "analyst-1", confirm_weak=[ring["unrelated"]])
    with session_scope() as s:
        assert s.scalars(select(Action).where(Action.kind == "suspend_account")).all() == []

    done = suspend_network(ring["ring"][2], "ring", "analyst-1")
    assert sorted(m.account_id for m in done.members) == sorted(ring["ring"])  # the visitor is not suspended
    again = suspend_network(ring["ring"][2], "visitor checked by a person", "analyst-1", confirm_weak=[visitor])
    [confirmed] = [m for m in again.members if m.enqueued]
    assert confirmed.account_id == visitor and confirmed.tie == "weak" and confirmed.shared == ["ip 203.0.113.50"]
    with session_scope() as s:
        action = s.scalars(select(Action).where(Action.account_id == visitor)).one()
        assert action.details["tie"] == "weak"
