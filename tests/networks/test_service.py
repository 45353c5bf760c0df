"""The account graph: the issue's 23-account ring, the popularity cap, IP/device windows, groups."""

from __future__ import annotations

import datetime as dt

import pytest

from .helpers import POPULAR_LINK, RING_LINK_CANONICAL, T0, account_id, bank_pictures, picture, scan_all, submit


def test_23_accounts_sharing_two_banked_pictures_and_a_link_form_one_group(ring):
    from suraksha.networks.service import groups, network_for

    net = network_for(ring["ring"][0])
    assert net.size == 23 and not net.truncated
    assert sorted(m.account_id for m in net.members) == sorted(ring["ring"])
    assert set(net.linked_by) == {"media", "link"}
    [link] = [x for x in net.links if x.kind == "link"]
    assert link.value == RING_LINK_CANONICAL and len(link.accounts) == 23 and link.item_count == 23
    entries = [x for x in net.links if x.kind == "media" and x.value.startswith("entry:")]
    assert sorted(len(x.accounts) for x in entries) == [11, 12]  # one edge per picture; the re-encoded copy is in A's
    assert all("known-csam" in x.detail for x in entries)
    assert net.first_activity == T0 and net.last_activity == T0 + dt.timedelta(hours=22)
    member = net.member(ring["ring"][5])
    assert member.items == 1 and member.matched_items == 1 and member.flagged_items == 1 and member.handle == "@ring-05"

    # The unrelated account shares only the popular link: it does not join, and is in no group.
    assert ring["unrelated"] not in {m.account_id for m in net.members}
    assert POPULAR_LINK not in {x.value for x in net.links}
    assert network_for(ring["unrelated"]).size == 1
    assert network_for("unrelated").account_id == ring["unrelated"]  # the platform's id works too
    found = groups()
    assert [g.size for g in found] == [23]
    assert {m.account_id for m in found[0].members} == set(ring["ring"])


def test_the_popularity_cap_is_what_keeps_a_popular_link_out(ring, monkeypatch):
    from suraksha.networks.service import network_for
    from suraksha.networks.settings import reset_network_settings

    monkeypatch.setenv("SURAKSHA_NETWORK_LINK_MAX_ACCOUNTS", "100")
    reset_network_settings()
    net = network_for(ring["ring"][0])
    assert net.size == 23 + 40 + 1 and ring["unrelated"] in {m.account_id for m in net.members}
    monkeypatch.setenv("SURAKSHA_NETWORK_LINK_MAX_ACCOUNTS", "20")  # below the ring's own link (23 posters)
    reset_network_settings()
    net = network_for(ring["ring"][0])
    assert net.size == 11 and set(net.linked_by) == {"media"}  # only picture A's half


def test_max_accounts_truncates_and_says_so(ring):
    from suraksha.networks.service import network_for

    net = network_for(ring["ring"][0], max_accounts=5)
    assert net.truncated and net.size == 5 and net.members[0].account_id == ring["ring"][0]
    assert net.to_dict()["truncated"] is True


def test_ip_and_device_link_within_the_window_only(env):
    from suraksha.networks.service import network_for

    bad = picture(7)
    bank_pictures(bad)
    submit("f1", "flagged", media=[bad], at=T0, ip="203.0.113.5", device_id="dev-1")
    submit("n1", "near-ip", text="hello", at=T0 + dt.timedelta(hours=3), ip="203.0.113.5")
    submit("o1", "far-ip", text="hello", at=T0 + dt.timedelta(hours=30), ip="203.0.113.5")
    submit("d1", "near-device", text="hi", at=T0 - dt.timedelta(hours=2), device_id="dev-1")
    submit("e1", "far-device", text="hi", at=T0 + dt.timedelta(hours=50), device_id="dev-1")
    # Two ordinary accounts on one IP at the same time, nothing flagged: no link.
    submit("b1", "home-1", text="x", at=T0, ip="198.51.100.7")
    submit("b2", "home-2", text="y", at=T0, ip="198.51.100.7")
    scan_all()

    net = network_for(account_id("flagged"))
    # IP and device are weak links: listed beside the group, never in it.
    assert [m.platform_account_id for m in net.members] == ["flagged"] and net.size == 1
    assert {m.platform_account_id for m in net.weak_members} == {"near-ip", "near-device"}
    assert {m.tie for m in net.weak_members} == {"weak"}
    assert {(x.kind, x.value, x.strength) for x in net.links} == {("ip", "203.0.113.5", "weak"), ("device", "dev-1", "weak")}
    seen_from_near = network_for(account_id("near-ip"))  # the same tie seen from the other side
    assert seen_from_near.size == 1 and [m.platform_account_id for m in seen_from_near.weak_members] == ["flagged"]
    assert network_for(account_id("far-ip")).weak_members == []
    assert network_for(account_id("home-1")).weak_members == []

    wide = network_for(account_id("flagged"), window_hours=48)
    assert {m.platform_account_id for m in wide.weak_members} == {"near-ip", "near-device", "far-ip"}
    assert wide.window_hours == 48
    with pytest.raises(ValueError, match="window_hours"):
        network_for(account_id("flagged"), window_hours=0)


def test_an_ip_shared_by_a_crowd_links_nobody(env, monkeypatch):
    from suraksha.networks.service import network_for
    from suraksha.networks.settings import reset_network_settings

    bad = picture(8)
    bank_pictures(bad)
    submit("f1", "flagged", media=[bad], at=T0, ip="203.0.113.1")
    for n in range(3):
        submit(f"c{n}", f"carrier-{n}", text="hi", at=T0 + dt.timedelta(minutes=n), ip="203.0.113.1")
    scan_all()
    assert len(network_for(account_id("flagged")).weak_members) == 3
    monkeypatch.setenv("SURAKSHA_NETWORK_IP_MAX_ACCOUNTS", "3")  # 4 accounts there: a carrier NAT
    reset_network_settings()
    assert network_for(account_id("flagged")).weak_members == []


def test_groups_agree_with_network_for_and_respect_min_size(env):
    from suraksha.networks.service import groups, network_for

    a, b = picture(11), picture(12)
    bank_pictures(a, b)
    for n in range(4):
        submit(f"a{n}", f"alpha-{n}", media=[a], at=T0)
    for n in range(2):
        submit(f"b{n}", f"beta-{n}", media=[b], at=T0)
    submit("z", "alone", media=[a, b], at=T0 - dt.timedelta(days=400))  # old, joins both: one group of 7
    submit("y", "other", media=[picture(13)], at=T0)
    scan_all()
    [g] = groups()
    assert g.size == 7 and g.first_activity == T0 - dt.timedelta(days=400)
    assert {m.account_id for m in g.members} == {m.account_id for m in network_for(account_id("beta-0")).members}
    assert groups(min_size=8) == []
    with pytest.raises(ValueError, match="min_size"):
        groups(min_size=1)


def test_unknown_account_is_a_lookup_error(env):
    from suraksha.networks.service import network_for

    with pytest.raises(LookupError, match="account 424242 not found"):
        network_for(424242)


def test_to_dict_is_json(ring):
    import json

    from suraksha.networks.service import network_for

    data = json.loads(json.dumps(network_for(ring["ring"][3]).to_dict()))
    assert data["size"] == 23 and data["account_id"] == ring["ring"][3]
    assert data["linked_by"]["link"] == {"links": 1, "examples": [RING_LINK_CANONICAL]}
    assert data["linked_by"]["media"]["links"] == 2  # two pictures
    m = data["members"][0]
    assert set(m) >= {
        "account_id",
        "platform_account_id",
        "handle",
        "first_activity",
        "last_activity",
        "items",
        "matched_items",
        "suspended",
        "linked_by",
    }
    assert data["first_activity"] == T0.isoformat()


def test_a_banked_link_or_domain_links_however_many_posted_it_and_a_negative_bank_does_not(env):
    from suraksha.matching import banks
    from suraksha.matching.matcher import reset_matcher
    from suraksha.networks.service import network_for

    banks.create_bank("bad-links", label="csam_url")
    banks.add_signals(
        "bad-links", [banks.SignalRow("url", "https://bad.example/folder/1"), banks.SignalRow("domain", "evil.example")]
    )
    banks.create_bank("fp-links", label="csam_url", negative=True)
    banks.add_signals("fp-links", [banks.SignalRow("url", "https://fine.example/a")])
    reset_matcher()
    for n in range(60):  # more posters than the popularity cap (50): banked, so it still links
        submit(f"b{n}", f"poster-{n}", links=["https://BAD.example/folder/1?utm_source=feed#x"], at=T0)
    submit("d1", "dom-1", text="see https://www.evil.example/other/page", at=T0)
    submit("d2", "dom-2", links=["https://evil.example/third"], at=T0)
    submit("f1", "fp-1", links=["https://fine.example/a"], at=T0)
    submit("f2", "fp-2", links=["https://fine.example/a"], at=T0)
    scan_all()
    net = network_for(account_id("poster-0"))
    assert net.size == 60 and [(x.value, x.detail) for x in net.links] == [
        ("https://bad.example/folder/1", "bank bad-links (csam_url)")
    ]
    dom = network_for(account_id("dom-1"))
    assert {m.platform_account_id for m in dom.members} == {"dom-1", "dom-2"}
    assert [x.value for x in dom.links] == ["domain:evil.example"]
    assert network_for(account_id("fp-1")).size == 1


def test_new_posts_join_on_the_next_view_and_late_commits_are_still_indexed(env):
    from sqlalchemy import delete, select

    from suraksha.db import session_scope
    from suraksha.networks.models import NetworkIndexedItem, NetworkIndexState, NetworkKey
    from suraksha.networks.service import network_for

    bad = picture(21)
    bank_pictures(bad)
    submit("f1", "flagged", media=[bad], links=["https://rare.example/x"], at=T0)
    scan_all()
    assert network_for(account_id("flagged")).size == 1
    late = submit("n1", "newcomer", links=["https://rare.example/x"], at=T0)
    assert network_for(account_id("flagged")).size == 2  # indexed on this view

    # An item whose transaction committed after a refresh had passed its id (PostgreSQL hands out
    # ids before commit): items younger than the settle time stay above the floor and are re-checked.
    with session_scope() as s:
        s.execute(delete(NetworkKey).where(NetworkKey.item_id == late))
        s.execute(delete(NetworkIndexedItem).where(NetworkIndexedItem.item_id == late))
        assert s.scalar(select(NetworkIndexState.floor)) < late
    assert network_for(account_id("flagged")).size == 2


def test_a_picture_taken_out_of_the_bank_stops_linking(env):
    from suraksha.matching import banks
    from suraksha.networks.service import network_for

    common = picture(31)
    bank_pictures(common)
    for n in range(3):
        submit(f"c{n}", f"sharer-{n}", media=[common], at=T0)
    scan_all()
    assert network_for(account_id("sharer-0")).size == 3
    for entry in list(banks.iter_entries("known-csam")):  # a false positive: removed from the bank
        banks.remove_entry("known-csam", entry.id)
    assert network_for(account_id("sharer-0")).size == 1
