"""URL and domain signals: one canonical form so trivially different links match.

Canonicalisation: scheme and host lower-cased, host IDNA-encoded (punycode) without a trailing dot
or credentials, default ports dropped, dot segments resolved, percent-encoding normalised, the
fragment dropped, tracking parameters dropped and the remaining query parameters sorted.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import idna

from suraksha.signals.errors import InvalidSignal

DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "si",
        "spm",
        "scid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mkt_tok",
        "s_cid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "vero_")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_CHARS = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_CHARS = _UNRESERVED | frozenset("!$'()*,;:@/?")  # '&', '=' and '+' are encoded inside values


def _idna_host(host: str) -> str:
    """Punycode host as browsers resolve it (UTS #46, non-transitional: faß.de stays faß.de)."""
    host = unquote(host).strip().rstrip(".").lower()
    if not host:
        raise InvalidSignal("URL has no host")
    if ":" in host:  # IPv6 literal (urlsplit has removed the brackets)
        try:
            return f"[{ipaddress.IPv6Address(host.strip('[]')).compressed}]"
        except ValueError:
            raise InvalidSignal(f"host {host[:80]!r} is not a valid IPv6 address") from None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError:
            try:  # IDNA 2003 still resolves some names IDNA 2008 refuses (symbols)
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise InvalidSignal(f"host {host[:80]!r} is not a valid internationalised domain name") from None
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidSignal(f"host {host[:80]!r} is not a valid domain name")
    return host


def _normalize_escapes(text: str, allowed: frozenset[str]) -> str:
    """RFC 3986 6.2.2: decode escaped unreserved characters, upper-case other escapes, escape the rest.

    Escaped reserved characters (``%2F``, ``%3F``...) stay escaped: decoding them changes the URL.
    """

    def unescape_unreserved(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    out = []
    for piece in re.split(r"(%[0-9A-Fa-f]{2})", text):
        if _PCT.fullmatch(piece):
            out.append(_PCT.sub(unescape_unreserved, piece))
        else:
            out.append("".join(c if c in allowed else quote(c, safe="") for c in piece))
    return "".join(out)


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


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _query(query: str) -> str:
    """Tracking parameters dropped, the rest sorted; '+' and %20 are the same space in a query."""
    if not query:
        return ""
    params = []
    for part in query.split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        name = _normalize_escapes(name.replace("+", "%20"), _QUERY_CHARS)
        if _is_tracking(unquote(name)):
            continue
        value = _normalize_escapes(value.replace("+", "%20"), _QUERY_CHARS | {"="})
        params.append(f"{name}={value}" if eq else name)
    return "&".join(sorted(params))


def canonical_url(value: str) -> str:
    """One spelling per link, so banked URLs match however a poster wrote them.

    Accepts a bare ``example.com/path`` (taken as http). Raises InvalidSignal for anything that is
    not an http(s) URL with a valid host.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidSignal("URL is empty")
    raw = value.strip()
    if len(raw) > 8192:
        raise InvalidSignal("URL is longer than 8192 characters")
    scheme = _SCHEME.match(raw)
    if scheme and "://" not in raw and not re.match(r"^[^:/]+:\d*(/|$|\?|#)", raw):
        raise InvalidSignal(f"only http and https URLs are signals, got {scheme.group(1).lower()!r}")
    if "://" not in raw:
        raw = "http://" + raw.lstrip("/")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise InvalidSignal(f"not a valid URL ({exc}): {value[:80]!r}") from None
    scheme_name = parts.scheme.lower()
    if scheme_name not in DEFAULT_PORTS:
        raise InvalidSignal(f"only http and https URLs are signals, got {scheme_name!r}")
    host = _idna_host(parts.hostname or "")
    netloc = host if port in (None, DEFAULT_PORTS[scheme_name]) else f"{host}:{port}"
    path = _remove_dot_segments(_normalize_escapes(parts.path, _PATH_CHARS) or "/")
    return urlunsplit((scheme_name, netloc, path, _query(parts.query), ""))


def domain_of(url: str) -> str:
    """The host of a URL (canonicalised, without a leading ``www.``)."""
    return domain_of_canonical(canonical_url(url))


def domain_of_canonical(canonical: str) -> str:
    """``domain_of`` for a URL that ``canonical_url`` already returned (not canonicalised again)."""
    host = urlsplit(canonical).hostname or ""
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
