"""Policies that would silently change, stall or contradict themselves are refused at load time."""

from __future__ import annotations

import time

import pytest

from suraksha.policy import MatchFact, PolicyError, ScanFacts, load_policy


def test_a_rule_key_given_twice_is_refused_with_both_lines():
    text = (
        "rules:\n"
        "  - name: known\n"
        "    when: {match: {label: csam}}\n"
        "    when: {match: {label: ncii}}\n"  # plain YAML would keep only this one: csam no longer removed
        "    verdict: remove\n"
        "    actions: [remove_item]\n"
    )
    with pytest.raises(PolicyError) as err:
        load_policy(text)
    assert str(err.value) == "policy: not valid YAML at line 4, column 5: key 'when' given twice in one mapping (first at line 3)"


def test_a_condition_key_given_twice_is_refused():
    text = "rules: [{name: a, when: {match: {label: csam}, match: {label: ncii}}, verdict: remove, actions: [remove_item]}]"
    with pytest.raises(PolicyError, match="key 'match' given twice"):
        load_policy(text)


def test_merge_keys_may_still_override_shared_defaults():
    policy = load_policy(
        "rules:\n"
        "  - &known {name: known-a, when: {match: {label: csam}}, verdict: review}\n"
        "  - {<<: *known, name: known-b, verdict: remove, actions: [remove_item]}\n"
    )
    verdict = policy.evaluate(ScanFacts([MatchFact("b", "csam", "sha256", 0)], [], []))
    assert (verdict.verdict, verdict.rule, verdict.fired) == ("remove", "known-b", ["known-a", "known-b"])


def test_an_alias_bomb_is_refused_quickly():
    lines = ["rules:", "  - {name: r0, when: &a0 {match: {label: csam}}, verdict: review}"]
    for i in range(1, 9):  # 9 ** 8 = 43 million conditions from under 1 KB of text
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"  - {{name: r{i}, when: &a{i} {{any: [{refs}]}}, verdict: review}}")
    text = "\n".join(lines) + "\n"
    assert len(text) < 1200
    started = time.monotonic()
    with pytest.raises(PolicyError, match="expands to over 100000 values"):
        load_policy(text)
    assert time.monotonic() - started < 2


def test_an_allow_rule_cannot_report():
    text = "rules: [{name: trusted, when: {match: {label: csam}}, verdict: allow, actions: ['report:ncmec']}]"
    with pytest.raises(PolicyError) as err:
        load_policy(text)
    assert str(err.value) == (
        "rule #1 'trusted': actions[0]: action 'report:ncmec' needs verdict review or remove: an allowed item is not reported"
    )
