"""Search as an analyst: an item by Suraksha id and platform id, an account by handle, a PDQ hash
one bit away from a bank entry (found with its distance, plus the items whose media carry the
exact hash), a URL canonicalised; bad input is a 400 with the reason; every search is audited."""

from __future__ import annotations

import pytest

from .conftest import sign_in


@pytest.fixture
def search_client(seeded):
    from fastapi.testclient import TestClient

    from suraksha.api import create_app
    from suraksha.matching.matcher import Matcher

    with TestClient(create_app(matcher_loader=lambda: Matcher.open()), raise_server_exceptions=False) as c:
        import time

        deadline = time.monotonic() + 20
        while c.app.state.matcher_state.matcher is None and time.monotonic() < deadline:
            time.sleep(0.05)
        yield c


def _flip_first_bit(hex_hash: str) -> str:
    return f"{int(hex_hash[0], 16) ^ 8:x}" + hex_hash[1:]


def test_analyst_finds_items_accounts_hashes_and_urls(search_client, seeded):
    from suraksha.audit.listing import AuditFilter, list_events
    from suraksha.db import session_scope
    from suraksha.items.models import ItemMedia
    from suraksha.matching.banks import SignalRow, add_signals, create_bank

    c = search_client
    assert sign_in(c, seeded["staff"]["analyst"]).status_code in (200, 303)
    item = seeded["items"][0]

    by_id = c.get(f"/search?q={item}")
    assert by_id.status_code == 200 and f'href="/items/{item}"' in by_id.text
    by_platform = c.get("/search?q=demo-post-3&kind=item")
    assert f'href="/items/{seeded["items"][2]}"' in by_platform.text
    handle = c.get("/search?q=%40sunrise_42")
    assert f'href="/accounts/{seeded["accounts"]["sunrise_42"]}"' in handle.text

    with session_scope() as s:
        pdq = s.query(ItemMedia.pdq).filter(ItemMedia.item_id == item, ItemMedia.position == 0).scalar()
    create_bank("search-bank", "csam", pdq_threshold=31)
    entry = add_signals("search-bank", [SignalRow("pdq", pdq)]).entry_ids[0]
    c.app.state.matcher_state.matcher.refresh(force=True)
    near = c.get(f"/search?q={_flip_first_bit(pdq)}&kind=hash")
    assert near.status_code == 200
    assert f'href="/banks/search-bank?q={entry}"' in near.text
    assert '<td class="distance">1' in near.text  # one bit away, found with its distance
    exact = c.get(f"/search?q={pdq.upper()}&kind=hash")
    assert f'href="/items/{item}"' in exact.text and '<td class="distance">0' in exact.text

    create_bank("search-links", "csam_url")
    add_signals("search-links", [SignalRow("url", "https://example.org/a/b")])
    c.app.state.matcher_state.matcher.refresh(force=True)  # the index tails changes every REFRESH_SECONDS
    url = c.get("/search", params={"q": "HTTPS://Example.ORG/a/./b?utm_source=x", "kind": "url"})
    assert url.status_code == 200 and "https://example.org/a/b" in url.text and "search-links" in url.text

    assert c.get("/search?q=zzzz&kind=hash").status_code == 400
    assert "not a hash" in c.get("/search?q=zzzz&kind=hash").text
    assert c.get("/search?q=x&kind=bogus").status_code == 400
    assert "Nothing found" in c.get("/search?q=no-such-platform-id").text
    searches = list_events(AuditFilter(kind="search", actor=seeded["staff"]["analyst"].username), limit=50)
    assert searches.total >= 7 and {"kind", "query", "items"} <= set(searches.events[0].details)


def test_auditor_cannot_search(app_client, seeded):
    c = app_client()
    sign_in(c, seeded["staff"]["auditor"])
    assert c.get("/search?q=1").status_code == 403
