"""A few thousand items: the ring is found exactly, strangers stay out, and lookups use the indexes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from .helpers import bulk_platform


def test_a_ring_among_thousands_of_ordinary_items(env):
    from suraksha.networks.service import groups, network_for

    data = bulk_platform(accounts=800, items=4000)
    net = network_for(data["ring"][3])
    assert net.size == 10 and sorted(m.account_id for m in net.members) == sorted(data["ring"])
    assert {(x.kind, x.value) for x in net.links} == {("link", "https://rare.example/folder/77"), ("ip", "10.9.8.7")}
    assert network_for(data["user"]).size == 1  # popular links, shared IPs and devices, nothing flagged
    assert [g.size for g in groups()] == [10]


def test_key_lookups_use_the_indexes(env):
    from suraksha.db import session_scope
    from suraksha.networks.index import refresh_keys

    if not env.startswith("sqlite"):
        pytest.skip("the query plan is checked on SQLite; PostgreSQL picks plans by table statistics")
    bulk_platform(accounts=100, items=300)
    with session_scope() as s:
        assert refresh_keys(s) == 310
        plans = {
            "by value": "SELECT account_id, item_id FROM network_keys WHERE kind = 'link' AND value IN ('a', 'b')",
            "by time": "SELECT item_id FROM network_keys WHERE kind = 'ip' AND value = 'x' AND created_at BETWEEN '2026' AND '2027'",
            "by account": "SELECT value FROM network_keys WHERE account_id IN (1, 2) AND kind = 'link'",
        }
        for name, sql in plans.items():
            plan = " ".join(str(r[-1]) for r in s.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "USING INDEX ix_network_keys_" in plan or "USING COVERING INDEX ix_network_keys_" in plan, (name, plan)
        assert refresh_keys(s) == 0  # every item indexed once
