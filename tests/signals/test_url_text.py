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
        # unreserved escapes decoded, reserved ones (%2F is not '/') kept and upper-cased
        ("https://example.com/%7Euser/a%2fb", "https://example.com/~user/a%2Fb"),
        ("https://user:pw@Example.com./x", "https://example.com/x"),
        ("https://example.com/search?q=a b", "https://example.com/search?q=a%20b"),
        ("https://example.com/search?q=a+b&x=%41%2b", "https://example.com/search?q=a%20b&x=A%2B"),
        ("https://example.com/p?UTM_Campaign=x&flag&igshid=1&mc_cid=2", "https://example.com/p?flag"),
        ("https://example.com/100%", "https://example.com/100%25"),
        ("https://example.com/?a=1&&b=2&", "https://example.com/?a=1&b=2"),
        ("example.com:8080", "http://example.com:8080/"),
        ("//Example.com/x", "http://example.com/x"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("https://faß.de/", "https://xn--fa-hia.de/"),  # UTS 46 non-transitional, as browsers resolve it
        ("https://ＥＸＡＭＰＬＥ。com/", "https://example.com/"),  # full-width letters and dot
        ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
    ],
)
def test_canonical_url(raw, canonical):
    assert canonical_url(raw) == canonical
    assert canonical_url(canonical) == canonical  # idempotent


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "mailto:someone@example.com",
        "data:text/html,hi",
        "http://exa mple.com/",
        "https://-bad-.com/",
        "http://example.com:99999/",
        "http://a..b/",
        "http:///nohost",
        "http://[not:an:ipv6::::]/",
        "http://" + "a" * 64 + ".com/",
    ],
)
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


def _real_v3() -> str:
    """A v3 address built as Tor builds one (checksum over a public key), from a fixed fake key."""
    import base64
    import hashlib

    key = bytes(range(32))
    checksum = hashlib.sha3_256(b".onion checksum" + key + b"\x03").digest()[:2]
    return base64.b32encode(key + checksum + b"\x03").decode().lower() + ".onion"


def test_onion_addresses_v2_and_v3():
    text = f"see http://{ONION_V3.upper()}.onion/path and abcdefghijklmnop.onion, not short.onion"
    assert find_onion_addresses(text) == [f"{ONION_V3}.onion", "abcdefghijklmnop.onion"]
    assert find_onion_addresses("nothing here") == []
    # v3 ends in 'd' (version 3); 56 characters ending otherwise, or 57, are not onion hosts
    assert find_onion_addresses(f"{'a' * 56}.onion {'a' * 56}d.onion {ONION_V3}x.onion") == []
    real = _real_v3()
    assert find_onion_addresses(f"mirror www.{real}/x (copy: {real})") == [real]


def test_onion_checksum_filter():
    from suraksha.signals.text import onion_v3_checksum_ok

    real = _real_v3()
    assert onion_v3_checksum_ok(real) and not onion_v3_checksum_ok(f"{ONION_V3}.onion")
    text = f"{real} {ONION_V3}.onion abcdefghijklmnop.onion"
    assert find_onion_addresses(text, verify_checksum=True) == [real, "abcdefghijklmnop.onion"]


@pytest.mark.parametrize(
    "signal_type,raw,canonical",
    [
        ("md5", " D41D8CD98F00B204E9800998ECF8427E ", "d41d8cd98f00b204e9800998ecf8427e"),
        (
            "sha256",
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        ("pdq", "F" * 64, "f" * 64),
        ("url", "HTTPS://Example.com/?utm_source=a", "https://example.com/"),
        ("domain", "WWW.Bücher.example", "xn--bcher-kva.example"),
        ("text", "  Secret   MEETUP ", "secret meetup"),
        (
            "vpdq",
            '["' + "A" * 64 + ',100,0.0", "' + "b" * 64 + ',49,1.0"]',
            '["' + "a" * 64 + ',100,0.0", "' + "b" * 64 + ',49,1.0"]',
        ),
    ],
)
def test_normalize_signal(signal_type, raw, canonical):
    assert normalize_signal(signal_type, raw) == canonical
    assert normalize_signal(signal_type, canonical) == canonical


@pytest.mark.parametrize(
    "signal_type,raw",
    [
        ("md5", "d41d8cd98f00b204e9800998ecf8427"),
        ("sha256", "z" * 64),
        ("pdq", "0" * 63),
        ("url", "ftp://x.com"),
        ("domain", "exa mple.com"),
        ("text", "   "),
        ("vpdq", "not json"),
        ("vpdq", '["' + "a" * 64 + ',101,0.0"]'),
        ("unknown", "x"),
    ],
)
def test_normalize_signal_rejects(signal_type, raw):
    with pytest.raises(InvalidSignal):
        normalize_signal(signal_type, raw)


@pytest.mark.parametrize(
    "link",
    [
        "HTTP://WWW.Example.COM:80/a/../b/./c?x=1&y=%7e#frag",
        "https://bücher.example/straße?q=ä",
        "example.org/path/",
        "https://xn--bcher-kva.example/",
        "http://a.b.c.example.:8080/%2F%41?",
        "https://user@site.example/p",
        "http://192.0.2.7/x",
        "https://www.www.example.net",
        "http://[2001:db8::1]:8443/v",
    ],
)
def test_canonical_forms_are_fixed_points(link):
    """The scan looks up canonical URLs and their domains without normalising them again."""
    from suraksha.signals import normalize_signal
    from suraksha.signals.url import canonical_url, domain_of, domain_of_canonical

    canon = canonical_url(link)
    assert normalize_signal("url", canon) == canon
    domain = domain_of_canonical(canon)
    assert domain == domain_of(link)
    if ":" not in domain and not domain.startswith("www."):  # the matcher normalises those two itself
        assert normalize_signal("domain", domain) == domain
