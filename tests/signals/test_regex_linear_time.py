"""Operator regexes run in linear time (RE2): a catastrophic pattern returns, and constructs that
need backtracking are refused at load, naming the construct."""

from __future__ import annotations

import pytest

from suraksha.signals.errors import InvalidSignal
from suraksha.signals.text import TextRules, scan_text


def test_catastrophic_backtracking_pattern_returns():
    # With Python's re this takes longer than the universe's age; RE2 answers in one pass.
    rules = TextRules(regexes=[r"(a+)+$"])
    assert scan_text("a" * 50_000 + "!", rules) == []
    hits = scan_text("b" + "a" * 50_000, rules)
    assert [(h.start, h.end) for h in hits] == [(1, 50_001)]


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(a)\1", "a backreference"),
        (r"(?P<x>a)(?P=x)", "a backreference"),
        (r"(?=secret)meet", "a lookahead"),
        (r"meet(?!ing)", "a negative lookahead"),
        (r"(?<=age )1[0-5]", "a lookbehind"),
        (r"(?<!under)age", "a negative lookbehind"),
        (r"(?>a+)b", "an atomic group"),
        (r"a*+b", "a possessive quantifier"),
        (r"(a)?(?(1)b|c)", "a conditional group"),
    ],
)
def test_constructs_needing_backtracking_are_refused_with_the_reason(pattern, construct):
    with pytest.raises(InvalidSignal) as info:
        TextRules(regexes=[r"\bage\s*1[0-5]\b", pattern])
    message = str(info.value)
    assert f"uses {construct}" in message and "not allowed: patterns must run in linear time" in message
    assert repr(pattern) in message


def test_plain_syntax_errors_still_say_invalid_regex():
    with pytest.raises(InvalidSignal, match=r"invalid regex '\(unclosed': missing \)"):
        TextRules(regexes=["(unclosed"])


def test_regex_hits_are_case_insensitive_with_character_offsets_in_non_ascii_text():
    text = "नमस्ते, AGE 12? meet ME alone"
    hits = scan_text(text, TextRules(regexes=[r"age\s*1[0-5]", r"meet\s+me"]))
    assert [text[h.start : h.end] for h in hits] == ["AGE 12", "meet ME"]
    assert [h.value for h in hits] == [r"age\s*1[0-5]", r"meet\s+me"]


def test_offsets_after_and_inside_indian_scripts_are_character_offsets():
    text = "ನಮಸ್ಕಾರ 😀 नमस्ते meet me, ನಮಸ್ಕಾರ"
    hits = scan_text(text, TextRules(regexes=[r"meet\s+me", r"\p{Kannada}+", r"\p{Devanagari}+"]))
    assert [text[h.start : h.end] for h in hits] == ["ನಮಸ್ಕಾರ", "नमस्ते", "meet me", "ನಮಸ್ಕಾರ"]
