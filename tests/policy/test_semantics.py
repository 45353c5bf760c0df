"""The rule language: conditions, combinators, precedence, stop, priority, reasons."""

from __future__ import annotations

import textwrap

import pytest

from suraksha.policy import MatchFact, ScanFacts, ScoreFact, TextFact, load_policy


def policy(rules: str, settings: str = ""):
    return load_policy(textwrap.dedent(settings) + "rules:\n" + textwrap.indent(textwrap.dedent(rules), "  "))


def facts(matches=(), scores=(), text=(), country=None, kind="post") -> ScanFacts:
    return ScanFacts(matches=list(matches), scores=list(scores), text_hits=list(text), item_kind=kind, country=country)


def test_pdq_max_distance_is_inclusive_and_other_signal_types_do_not_count():
    p = policy("""
        - name: close-ncii
          when: {match: {label: ncii, signal_type: pdq, max_distance: 20}}
          verdict: remove
          actions: [remove_item]
    """)
    assert p.evaluate(facts([MatchFact("b", "ncii", "pdq", 20)])).verdict == "remove"
    assert p.evaluate(facts([MatchFact("b", "ncii", "pdq", 21)])).verdict == "allow"
    assert p.evaluate(facts([MatchFact("b", "ncii", "vpdq", 0)])).verdict == "allow"
    assert p.evaluate(facts([MatchFact("b", "csam", "pdq", 0)])).verdict == "allow"


def test_match_by_bank_and_transform_and_any_match():
    p = policy("""
        - name: partner-bank
          when: {match: {bank: [partner-a, partner-b]}}
          verdict: review
          actions: ["review:partner"]
        - name: flipped
          when: {match: {transform: flip_x}}
          verdict: review
          actions: ["review:flipped"]
        - name: anything
          when: {match: {}}
          verdict: review
    """)
    v = p.evaluate(facts([MatchFact("partner-b", "spam", "md5", 0)]))
    assert v.fired == ["partner-bank", "anything"]
    v = p.evaluate(facts([MatchFact("x", "spam", "pdq", 3, transform="flip_x")]))
    assert v.fired == ["flipped", "anything"] and v.stored_actions() == ["review:flipped"]


def test_score_bounds_combine_and_other_scores_are_ignored():
    p = policy("""
        - name: mid
          when: {score: {name: [nudity, explicit], gt: 0.5, lt: 0.9}}
          verdict: review
    """)
    assert p.evaluate(facts(scores=[ScoreFact("nudity", 0.7)])).verdict == "review"
    assert p.evaluate(facts(scores=[ScoreFact("explicit", 0.6)])).verdict == "review"
    assert p.evaluate(facts(scores=[ScoreFact("nudity", 0.5)])).verdict == "allow"  # gt is strict
    assert p.evaluate(facts(scores=[ScoreFact("nudity", 0.9)])).verdict == "allow"
    assert p.evaluate(facts(scores=[ScoreFact("violence", 0.7)])).verdict == "allow"
    assert p.evaluate(facts(scores=[ScoreFact("nudity", float("nan"))])).verdict == "allow"


def test_text_kind_and_value_are_case_insensitive_on_value():
    p = policy("""
        - name: grooming-phrase
          when: {text: {kind: keyword, value: [Meet Me Alone]}}
          verdict: review
          actions: ["review:grooming", "priority:70"]
    """)
    v = p.evaluate(facts(text=[TextFact("keyword", "meet me alone")]))
    assert (v.verdict, v.priority, v.stored_actions()) == ("review", 70, ["review:grooming"])
    assert v.reasons == ["grooming-phrase: keyword 'meet me alone' in the text"]
    assert p.evaluate(facts(text=[TextFact("regex", "meet me alone")])).verdict == "allow"


def test_all_any_not_combinators_and_reasons():
    p = policy("""
        - name: nudity-not-known
          when:
            all:
              - {score: {name: nudity, gte: 0.8}}
              - not: {match: {label: [csam, ncii]}}
              - any: [{item_kind: [message, comment]}, {country: [IN, "NO"]}]
          verdict: review
          actions: ["review:nudity"]
    """)
    v = p.evaluate(facts(scores=[ScoreFact("nudity", 0.9)], kind="message"))
    assert v.verdict == "review"
    assert v.reasons == [
        "nudity-not-known: score nudity 0.9 (>= 0.8)",
        "nudity-not-known: no match (label csam/ncii)",
        "nudity-not-known: item kind message",
    ]
    assert p.evaluate(facts(scores=[ScoreFact("nudity", 0.9)], country="no")).verdict == "review"
    assert p.evaluate(facts(scores=[ScoreFact("nudity", 0.9)], kind="post")).verdict == "allow"
    assert p.evaluate(facts([MatchFact("b", "ncii", "pdq", 0)], [ScoreFact("nudity", 0.9)], kind="message")).verdict == "allow"


def test_several_keys_in_one_condition_all_must_hold():
    p = policy("""
        - name: withhold-in-india
          when: {match: {label: obscene}, country: IN}
          verdict: review
          actions: ["withhold_in_country:in"]
    """)
    assert p.evaluate(facts([MatchFact("b", "obscene", "md5", 0)], country="IN")).stored_actions() == ["withhold_in_country:IN"]
    assert p.evaluate(facts([MatchFact("b", "obscene", "md5", 0)], country="US")).verdict == "allow"
    assert p.evaluate(facts([MatchFact("b", "obscene", "md5", 0)])).verdict == "allow"  # country unknown


def test_strictest_verdict_wins_regardless_of_order_and_the_first_such_rule_decides():
    p = policy("""
        - name: first-review
          when: {always: true}
          verdict: review
          actions: ["review:a", "priority:10"]
        - name: remover
          when: {match: {label: x}}
          verdict: remove
          actions: [remove_item]
          priority: 5
        - name: second-remover
          when: {match: {label: x}}
          verdict: remove
          actions: [remove_item, notify_user]
    """)
    v = p.evaluate(facts([MatchFact("b", "x", "md5", 0)]))
    assert (v.verdict, v.rule) == ("remove", "remover")
    assert v.stored_actions() == ["review:a", "remove_item", "notify_user"]  # union, first appearance order, no duplicates
    assert v.priority == 10  # the max, even from a rule that did not decide
    assert v.fired == ["first-review", "remover", "second-remover"]


def test_stop_ends_evaluation_but_earlier_rules_still_count():
    p = policy("""
        - name: known-x
          when: {match: {label: x}}
          verdict: review
          actions: ["review:x"]
        - name: test-accounts
          when: {country: ZZ}
          verdict: allow
          stop: true
        - name: nudity
          when: {score: {name: nudity, gte: 0.5}}
          verdict: review
          actions: ["review:nudity"]
    """)
    v = p.evaluate(facts([MatchFact("b", "x", "md5", 0)], [ScoreFact("nudity", 0.9)], country="ZZ"))
    assert v.fired == ["known-x", "test-accounts"] and v.verdict == "review" and v.stored_actions() == ["review:x"]
    v = p.evaluate(facts(scores=[ScoreFact("nudity", 0.9)], country="ZZ"))
    assert (v.verdict, v.rule, v.stored_actions()) == ("allow", "test-accounts", [])
    assert p.evaluate(facts(scores=[ScoreFact("nudity", 0.9)], country="IN")).verdict == "review"


def test_the_same_fact_in_several_media_is_one_reason():
    p = policy("""
        - name: x
          when: {match: {label: csam}}
          verdict: remove
    """)
    m = MatchFact("b", "csam", "pdq", 0)
    assert p.evaluate(facts([m, m, m])).reasons == ["x: match in bank 'b' (label csam, pdq distance 0)"]


def test_settings_are_read():
    p = policy(
        """
        - name: x
          when: {always: true}
          verdict: allow
    """,
        settings="""
        settings:
          require_review_before_report: [ncmec]
          two_person_rule: true
    """,
    )
    assert p.settings.two_person_rule is True
    assert p.review_required_before_report("ncmec") and not p.review_required_before_report("uk_nca")
    p = policy(
        """
        - name: x
          when: {always: true}
          verdict: allow
    """,
        settings="settings: {require_review_before_report: false}\n",
    )
    assert not p.review_required_before_report("ncmec")


def test_load_from_path_and_mapping(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("rules:\n  - {name: a, when: {match: {label: csam}}, verdict: remove, actions: [remove_item]}\n")
    for source in (f, str(f)):
        p = load_policy(source)
        assert p.source == str(f)
        assert p.evaluate(facts([MatchFact("b", "csam", "md5", 0)])).rule == "a"
    p = load_policy({"rules": [{"name": "a", "when": {"always": True}, "verdict": "review"}]})
    assert p.evaluate(facts()).verdict == "review"


@pytest.mark.parametrize("signal_type", ["url", "domain"])
def test_signal_type_list(signal_type):
    p = policy("""
        - name: links
          when: {match: {label: csam_url, signal_type: [url, domain]}}
          verdict: review
    """)
    assert p.evaluate(facts([MatchFact("b", "csam_url", signal_type, 0)])).verdict == "review"
    assert p.evaluate(facts([MatchFact("b", "csam_url", "text", 0)])).verdict == "allow"
