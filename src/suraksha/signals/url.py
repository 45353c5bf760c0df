"""URL and domain signals: one canonical form so trivially different links match.

Canonicalisation: scheme and host lower-cased, host IDNA-encoded (punycode) without a trailing dot
or credentials, default ports dropped, dot segments resolved, percent-encoding normalised, the
fragment dropped, tracking parameters dropped and the remaining query parameters sorted.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from suraksha.signals.errors import InvalidSignal

DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
     "_ga", "_gl", "ref_src", "ref_url", "si", "spm", "scid", "twclid", "ttclid", "li_fat_id", "mkt_tok", "s_cid"}
)
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "vero_")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = ":@!$'()*,;/?-._~"
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def _idna_host(host: str) -> str:
    host = unquote(host).strip().rstrip(".").lower()
    if not host:
        raise InvalidSignal("URL has no host")
    if host.startswith("[") and host.endswith("]"):  # IPv6 literal
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidSignal(f"host {host[:80]!r} is not a valid internationalised domain name") from None
    labels = ascii_host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidSignal(f"host {host[:80]!r} is not a valid domain name")
    return ascii_host


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


def canonical_url(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSignal("URL is empty")
    raw = value.strip()
    if len(raw) > 8192:
        raise InvalidSignal("URL is longer than 8192 characters")
    if "://" not in raw:
        raw = "http://" + raw.lstrip("/")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise InvalidSignal(f"not a valid URL ({exc}): {value[:80]!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidSignal(f"only http and https URLs are signals, got {scheme!r}")
    host = _idna_host(parts.hostname or "")
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE) or "/"
    path = _remove_dot_segments(path)
    params = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    query = urlencode(sorted(params), quote_via=quote, safe=_QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def domain_of(url: str) -> str:
    """The host of a URL (canonicalised, without a leading ``www.``)."""
    host = urlsplit(canonical_url(url)).hostname or ""
    return host[4:] if host.startswith("www.") else host


def normalize_domain(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSignal("domain is empty")
    v = value.strip()
    if "/" in v or ":" in v:
        return domain_of(v)
    host = _idna_host(v)
    return host[4:] if host.startswith("www.") else host


_COMMON_TLDS = (
    "com|net|org|info|biz|io|co|in|uk|us|ca|au|de|fr|nl|es|it|pl|ru|su|ua|br|cn|jp|kr|ir|pk|bd|id|ph|vn|"
    "me|tv|cc|to|ws|ly|gg|la|ai|app|dev|xyz|top|site|online|club|link|live|shop|store|icu|vip|tk|ml|ga|cf|gq|pw|bz|onion"
)
_SCHEME_LINK = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_BARE_LINK = re.compile(
    r"(?<![@\w.-])(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _COMMON_TLDS + r")\b(?:/[^\s<>\"'`]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}>'\""


def extract_links(text: str) -> list[str]:
    """Links in free text: anything with an http(s) scheme, and bare domains with a common TLD."""
    if not text:
        return []
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _SCHEME_LINK.finditer(text):
        found.append(m.group(0).rstrip(_TRAILING))
        spans.append(m.span())
    for m in _BARE_LINK.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        found.append(m.group(0).rstrip(_TRAILING))
    return list(dict.fromkeys(found))
