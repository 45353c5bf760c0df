"""Stand-ins for collaborators of the pipeline that other areas write (signals, policy, matcher).

``install_missing()`` registers a fake module only where the real one cannot be imported yet, so
the same tests run against the real modules as soon as they land. The fakes follow the documented
contracts (names, fields, errors), nothing more.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import sys
import types
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select


# ------------------------------------------------------------------------- signals
class MediaError(ValueError):
    pass


class CorruptMedia(MediaError):
    pass


class UnsupportedMedia(MediaError):
    pass


class MediaTooLarge(MediaError):
    pass


@dataclass(frozen=True)
class PdqResult:
    hash: str
    quality: int


@dataclass(frozen=True)
class MediaSignals:
    kind: str
    sha256: str
    md5: str
    pdq: PdqResult | None = None
    pdq_dihedral: list | None = None
    vpdq: list | None = None


def media_signals(data: bytes, mime: str | None = None, *, max_pixels: int, max_bytes: int, budget: Any = None) -> MediaSignals:
    """Fake: 'images' are any bytes starting with b'IMG'; b'CORRUPT' raises CorruptMedia (``budget``
    is accepted as the real function's is, and not spent: fake hashing costs nothing)."""
    if len(data) > max_bytes:
        raise MediaTooLarge(f"{len(data)} bytes over {max_bytes}")
    if data.startswith(b"CORRUPT"):
        raise CorruptMedia("truncated image data")
    if not data.startswith(b"IMG"):
        raise UnsupportedMedia("not an image or video")
    pdq = hashlib.sha256(b"pdq" + data).hexdigest()
    return MediaSignals("image", hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(), PdqResult(pdq, 100), None, None)


def canonical_url(s: str) -> str:
    s = s.strip()
    if "://" not in s:
        s = "http://" + s
    scheme, rest = s.split("://", 1)
    host, _, path = rest.partition("/")
    if not host or " " in host:
        raise ValueError(f"not a URL: {s!r}")
    return f"{scheme.lower()}://{host.lower()}/{path.split('#', 1)[0]}"


def domain_of(url: str) -> str:
    return canonical_url(url).split("://", 1)[1].split("/", 1)[0].split(":")[0]


def extract_links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s]+", text or "")


def find_onion_addresses(text: str) -> list[str]:
    return [m.lower() for m in re.findall(r"\b[a-z2-7]{55}d\.onion\b", text or "", flags=re.I)]


@dataclass
class TextRules:
    keywords: list[str] = field(default_factory=list)
    regexes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TextHit:
    kind: str
    value: str
    start: int
    end: int


def scan_text(text: str, rules: TextRules) -> list[TextHit]:
    hits = []
    for kw in rules.keywords:
        for m in re.finditer(r"\b" + re.escape(kw) + r"\b", text, flags=re.I):
            hits.append(TextHit("keyword", kw, m.start(), m.end()))
    for rx in rules.regexes:
        for m in re.finditer(rx, text):
            hits.append(TextHit("regex", m.group(0), m.start(), m.end()))
    return hits


# ------------------------------------------------------------------------- policy
@dataclass(frozen=True)
class MatchFact:
    bank: str
    label: str
    signal_type: str
    distance: int
    transform: str | None = None


@dataclass(frozen=True)
class ScoreFact:
    name: str
    value: float


@dataclass(frozen=True)
class TextFact:
    kind: str
    value: str


@dataclass
class ScanFacts:
    matches: list
    scores: list
    text_hits: list
    item_kind: str = "post"
    country: str | None = None


@dataclass
class Verdict:
    verdict: str
    actions: list[str]
    rule: str | None
    reasons: list[str]
    priority: int = 0


class FakePolicy:
    """The shipped default, in miniature: csam -> remove+suspend+preserve+report; ncii -> remove+preserve;
    onion -> review high; nudity >= 0.8 -> review. Answers with the real ``Verdict`` and ``ActionRequest``s."""

    def evaluate(self, facts: ScanFacts) -> Any:
        from suraksha.policy.actions import ActionRequest
        from suraksha.policy.model import Verdict as RealVerdict

        def verdict(name: str, actions: list[str], rule: str | None, reasons: list[str], priority: int) -> Any:
            return RealVerdict(name, [ActionRequest.parse(a) for a in actions], rule, reasons, priority)

        labels = {m.label for m in facts.matches}
        if "csam" in labels:
            return verdict(
                "remove",
                ["remove_item", "suspend_account", "preserve", "report:ncmec", "report:in_police"],
                "csam-match",
                ["match in a csam bank"],
                100,
            )
        if "ncii" in labels:
            return verdict("remove", ["remove_item", "preserve"], "ncii-match", ["match in an ncii bank"], 80)
        if any(t.kind == "onion" for t in facts.text_hits) or "csam_url" in labels:
            return verdict("review", ["review:high"], "csam-links", ["onion or csam link"], 90)
        if any(s.name == "nudity" and s.value >= 0.8 for s in facts.scores):
            return verdict("review", ["review:nudity"], "nudity", ["nudity score"], 50)
        return verdict("allow", [], None, [], 0)


def default_policy() -> FakePolicy:
    return FakePolicy()


def load_policy(path_or_text: Any) -> FakePolicy:
    return FakePolicy()


# ------------------------------------------------------------------------- matcher
@dataclass(frozen=True)
class Match:
    bank: str
    bank_id: int
    label: str
    signal_type: str
    signal: str
    entry_id: int
    distance: int
    transform: str | None = None


class DictMatcher:
    """Exact lookups against a {(signal_type, value): [(bank, label, entry_id)]} table."""

    def __init__(self, entries: dict[tuple[str, str], list[tuple[str, str, int]]] | None = None) -> None:
        self.entries = entries or {}

    def add(self, signal_type: str, value: str, bank: str, label: str, entry_id: int) -> None:
        self.entries.setdefault((signal_type, value), []).append((bank, label, entry_id))

    def lookup(self, signal_type: str, value: str) -> list[Match]:
        return [Match(b, 1, label, signal_type, value, e, 0) for b, label, e in self.entries.get((signal_type, value), [])]

    def lookup_media(self, ms: Any) -> list[Match]:
        out = self.lookup("sha256", ms.sha256) + self.lookup("md5", ms.md5)
        if ms.pdq is not None:
            out += self.lookup("pdq", ms.pdq.hash)
        return out

    def lookup_text(self, text: str) -> list[Match]:
        return []


class DbBankMatcher(DictMatcher):
    """Reads every enabled bank entry from the database once (the crash test's 'fake bank')."""

    def __init__(self) -> None:
        super().__init__()
        from suraksha.db import session_scope
        from suraksha.matching.models import Bank, BankEntry

        with session_scope() as session:
            rows = session.execute(
                select(BankEntry.id, BankEntry.signal_type, BankEntry.signal, Bank.name, Bank.label)
                .join(Bank, Bank.id == BankEntry.bank_id)
                .where(BankEntry.enabled.is_(True), Bank.enabled.is_(True))
            ).all()
        for r in rows:
            self.add(r.signal_type, r.signal, r.name, r.label, r.id)


# ------------------------------------------------------------------------- installation
def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


def _install(name: str, **attrs: Any) -> None:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    mod.__fake__ = True
    sys.modules[name] = mod
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, mod)


def install_missing() -> list[str]:
    """Register fakes for whichever contract modules do not exist yet; returns their names."""
    installed = []
    if not _importable("suraksha.signals.errors"):
        _install(
            "suraksha.signals.errors",
            MediaError=MediaError,
            CorruptMedia=CorruptMedia,
            UnsupportedMedia=UnsupportedMedia,
            MediaTooLarge=MediaTooLarge,
        )
        installed.append("suraksha.signals.errors")
    if not hasattr(importlib.import_module("suraksha.signals"), "media_signals"):
        sig = sys.modules["suraksha.signals"]
        sig.media_signals = media_signals
        sig.__fake_media_signals__ = True
        installed.append("suraksha.signals.media_signals")
    if not _importable("suraksha.signals.url"):
        _install("suraksha.signals.url", canonical_url=canonical_url, domain_of=domain_of, extract_links=extract_links)
        installed.append("suraksha.signals.url")
    if not _importable("suraksha.signals.text"):
        _install(
            "suraksha.signals.text",
            find_onion_addresses=find_onion_addresses,
            TextRules=TextRules,
            TextHit=TextHit,
            scan_text=scan_text,
        )
        installed.append("suraksha.signals.text")
    if not _importable("suraksha.policy.model"):
        _install(
            "suraksha.policy.model",
            MatchFact=MatchFact,
            ScoreFact=ScoreFact,
            TextFact=TextFact,
            ScanFacts=ScanFacts,
            Verdict=Verdict,
        )
        installed.append("suraksha.policy.model")
    pol = importlib.import_module("suraksha.policy")
    if not hasattr(pol, "default_policy"):
        pol.default_policy = default_policy
        pol.load_policy = load_policy
        installed.append("suraksha.policy.default_policy")
    return installed


def real_matcher_usable() -> bool:
    try:
        importlib.import_module("suraksha.matching.matcher")
        importlib.import_module("suraksha.signals").normalize_signal  # noqa: B018
        return True
    except (ImportError, AttributeError):
        return False
