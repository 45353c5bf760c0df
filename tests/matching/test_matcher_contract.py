"""One contract, two implementations: the real matcher and the pipeline tests' ``DictMatcher``.

The pipeline tests scan against the dictionary double; these cases run against both, so the double
cannot drift from what the real matcher answers for the signals the double claims to support
(exact hashes, links and their domains, text keywords, a media's exact signals).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from tests.pipeline.fakes import DictMatcher

from suraksha.matching import banks
from suraksha.matching.banks import SignalRow
from suraksha.matching.matcher import Matcher
from suraksha.signals import media_signals
from suraksha.signals.url import canonical_url


def _picture() -> bytes:
    img = Image.new("RGB", (96, 64))
    img.putdata([((x * 5) % 256, (y * 9) % 256, (x * y) % 256) for y in range(64) for x in range(96)])
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


PICTURE = _picture()
SIGNALS = media_signals(PICTURE, max_pixels=10_000_000, max_bytes=10_000_000)
LINK = canonical_url("http://bad.example/abuse/page1")

# (bank, label, signal_type, value) — values already canonical.
ENTRIES = [
    ("hashes", "csam", "sha256", SIGNALS.sha256),
    ("md5s", "csam", "md5", SIGNALS.md5),
    ("links", "csam_url", "url", LINK),
    ("hosts", "csam_url", "domain", "evil-host.example"),
    ("words", "grooming", "text", "secretword"),
]


@dataclass
class Subject:
    matcher: Any
    add: Callable[[str, str, str, str], None]


@pytest.fixture(params=["real", "double"])
def subject(request, db_url, tmp_path) -> Subject:
    if request.param == "double":
        double = DictMatcher()
        counter = iter(range(1, 1000))
        return Subject(double, lambda bank, label, st, value: double.add(st, value, bank, label, next(counter)))
    real = Matcher.open(tmp_path / "index")

    def add(bank: str, label: str, st: str, value: str) -> None:
        if bank not in {b.name for b in banks.list_banks()}:
            banks.create_bank(bank, label)
        banks.add_signals(bank, [SignalRow(st, value)])
        real.refresh(force=True)

    return Subject(real, add)


def _key(matches: list) -> list[tuple[str, str, str, int]]:
    return sorted((m.bank, m.label, m.signal_type, m.distance) for m in matches)


@pytest.fixture
def filled(subject: Subject) -> Subject:
    for bank, label, st, value in ENTRIES:
        subject.add(bank, label, st, value)
    return subject


def test_an_exact_hash_matches_its_bank_at_distance_zero(filled):
    assert _key(filled.matcher.lookup("sha256", SIGNALS.sha256)) == [("hashes", "csam", "sha256", 0)]
    assert _key(filled.matcher.lookup("md5", SIGNALS.md5)) == [("md5s", "csam", "md5", 0)]


def test_an_unknown_value_matches_nothing(filled):
    assert filled.matcher.lookup("sha256", "0" * 64) == []
    assert filled.matcher.lookup_link(canonical_url("http://good.example/")) == []
    assert filled.matcher.lookup_text("an ordinary sentence") == []


def test_a_link_matches_its_url_and_its_domain(filled):
    assert _key(filled.matcher.lookup_link(LINK)) == [("links", "csam_url", "url", 0)]
    other = canonical_url("http://evil-host.example/any/page")
    assert _key(filled.matcher.lookup_link(other)) == [("hosts", "csam_url", "domain", 0)]


def test_a_keyword_matches_as_a_whole_word_in_any_case(filled):
    assert _key(filled.matcher.lookup_text("send me the SecretWord now")) == [("words", "grooming", "text", 0)]
    assert filled.matcher.lookup_text("secretwords are not the word") == []


def test_a_media_matches_by_each_of_its_exact_hashes(filled):
    assert _key(filled.matcher.lookup_media(SIGNALS)) == [("hashes", "csam", "sha256", 0), ("md5s", "csam", "md5", 0)]
