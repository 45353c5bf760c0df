"""Links: ``url`` (one canonical spelling per link) and ``domain`` (its host, without ``www.``).

A URL carries its domain: looking a link up looks both up, so a bank of domains catches every
page of a site.
"""

from __future__ import annotations

from suraksha.signals.types.base import IndexKind, SignalCategory, SignalType
from suraksha.signals.url import canonical_url, domain_of_canonical, normalize_domain


class UrlSignal(SignalType):
    name = "url"
    te_name = "url"
    index_kind = IndexKind.EXACT
    category = SignalCategory.LINK
    description = "an http(s) URL, canonicalised (case, default port, dot segments, tracking parameters)"

    def normalize(self, value: str) -> str:
        return canonical_url(value)

    def examples(self) -> tuple[str, ...]:
        return ("https://example.com/a", "http://known-bad.example.net/gallery/1?id=2")

    def related(self, canonical: str) -> list[tuple[str, str]]:
        """The link's domain, in the domain type's canonical form.

        The host of a canonical URL is already canonical but for a doubled ``www.`` (a bank holds
        ``www.www.x`` as ``x``: normalised once more); an IPv6 literal is no domain signal and is
        passed as it is, where it matches nothing (normalising it would refuse the link).
        """
        domain = domain_of_canonical(canonical)
        if not domain:
            return []
        if domain.startswith("www.") and ":" not in domain:
            domain = normalize_domain(domain)
        return [(DomainSignal.name, domain)]


class DomainSignal(SignalType):
    name = "domain"
    te_aliases = ("domain",)  # threatexchange has no domain type; Suraksha's own files use the name
    index_kind = IndexKind.EXACT
    category = SignalCategory.LINK
    description = "a host name (a URL is reduced to its host), without a leading www."

    def normalize(self, value: str) -> str:
        return normalize_domain(value)

    def examples(self) -> tuple[str, ...]:
        return ("example.com", "known-bad.example.com")
