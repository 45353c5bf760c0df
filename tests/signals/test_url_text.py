"""URL canonical form, domains, link extraction, keyword/regex rules and onion addresses."""

from __future__ import annotations

import pytest

from suraksha.signals import normalize_signal
from suraksha.signals.errors import InvalidSignal
from suraksha.signals.text import TextRules, find_onion_addresses, scan_text
from suraksha.signals.url import canonical_url, domain_of, extract_links

ONION_V3 = "a" * 55 + "d"


@pytest.mark.parametrize(
    "raw,canonical",
    [
        ("HTTP://Example.COM:80/a/b?b=2&a=1#frag", "http://example.com/a/b?a=1&b=2"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("example.com/path", "http://example.com/path"),
        ("https://example.com/p?utm_source=x&utm_medium=y&id=5&fbclid=abc&gclid=1", "https://example.com/p?id=5"),
        ("https://bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/%7Euser/a%2fb", "https://example.com/~user/a/b"),
        ("https://user:pw@Example.com./x", "https://example.com/x"),
        ("https://example.com/search?q=a b", "https://example.com/search?q=a%20b"),
    ],
)
def test_canonical_url(raw, canonical):
    assert canonical_url(raw) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize("raw", ["", "ftp://example.com/x", "javascript:alert(1)", "http://exa mple.com/", "https://-bad-.com/", "http://example.com:99999/"])
def test_invalid_urls(raw):
    with pytest.raises(InvalidSignal):
        canonical_url(raw)


def test_domains():
    assert domain_of("https://WWW.Example.com/x") == "example.com"
    assert normalize_signal("domain", "Sub.Example.COM.") == "sub.example.com"
    assert normalize_signal("domain", "https://www.example.com/a") == "example.com"
    with pytest.raises(InvalidSignal):
        normalize_signal("domain", "not a domain")


def test_extract_links_from_text():
    text = (
        "join us at https://chat.example.com/invite?c=1, or toolkit.xyz/get. "
        f"mirror: {ONION_V3}.onion and photo.jpg and e.g. this. mail me@host.com"
    )
    links = extract_links(text)
    assert "https://chat.example.com/invite?c=1" in links
    assert "toolkit.xyz/get" in links
    assert f"{ONION_V3}.onion" in links
    assert not any("photo.jpg" in x or "host.com" in x or x == "e.g" for x in links)


def test_keywords_and_regexes():
    rules = TextRules(keywords=["secret meetup", "cp"], regexes=[r"\bage\s*1[0-5]\b"])
    hits = scan_text("Want a SECRET   meetup? I am age 13. no cpu here", rules)
    assert [(h.kind, h.value) for h in hits] == [("keyword", "secret meetup"), ("regex", r"\bage\s*1[0-5]\b")]
    assert scan_text("", rules) == [] and scan_text("hello", TextRules()) == []
    with pytest.raises(InvalidSignal, match="invalid regex"):
        TextRules(regexes=["(unclosed"])


def test_onion_addresses_v2_and_v3():
    text = f"see http://{ONION_V3.upper()}.onion/path and abcdefghijklmnop.onion, not short.onion"
    assert find_onion_addresses(text) == [f"{ONION_V3}.onion", "abcdefghijklmnop.onion"]
    assert find_onion_addresses("nothing here") == []
