"""Typed actions and facts: the policy emits ``ActionRequest`` objects with one name per action, and
records as data (``Fact`` with a ``FactKind``) which kinds of condition made each rule fire."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from suraksha.policy import (
    ActionKind,
    ActionRequest,
    Fact,
    FactKind,
    InvalidAction,
    MatchFact,
    ScanFacts,
    ScoreFact,
    TextFact,
    default_policy,
    load_policy,
)
from suraksha.policy.model import fact_kinds

ONION = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"


# --------------------------------------------------------------------------- actions
@pytest.mark.parametrize(
    "text, kind, argument",
    [
        ("remove_item", ActionKind.REMOVE_ITEM, None),
        ("suspend_account", ActionKind.SUSPEND_ACCOUNT, None),
        ("withhold_in_country:IN", ActionKind.WITHHOLD_IN_COUNTRY, "IN"),
        ("restore", ActionKind.RESTORE, None),
        ("notify_user", ActionKind.NOTIFY_USER, None),
        ("preserve", ActionKind.PRESERVE, None),
        ("report:ncmec", ActionKind.REPORT, "ncmec"),
        ("review:csam", ActionKind.REVIEW, "csam"),
    ],
)
def test_every_action_has_one_text_that_parses_back(text, kind, argument):
    request = ActionRequest.parse(text)
    assert (request.kind, request.argument, str(request)) == (kind, argument, text)
    assert ActionRequest.from_json(request.to_json()) == request
    assert kind.topic == ("action" if kind.on_platform else kind.value)


def test_platform_kinds_are_the_actions_table_names():
    from suraksha.enforcement.models import ACTION_KINDS

    assert ACTION_KINDS == ("remove_item", "suspend_account", "withhold_in_country", "restore", "notify_user")
    assert all(ActionKind(k).on_platform for k in ACTION_KINDS)


@pytest.mark.parametrize(
    "kind, argument, words",
    [
        (ActionKind.WITHHOLD_IN_COUNTRY, None, "needs a country"),
        (ActionKind.WITHHOLD_IN_COUNTRY, "India", "two-letter"),
        (ActionKind.REPORT, "fbi", "unknown report destination 'fbi'"),
        (ActionKind.REVIEW, "High Priority", "review queue"),
        (ActionKind.REMOVE_ITEM, "now", "takes no value"),
    ],
)
def test_an_action_is_built_valid_or_not_at_all(kind, argument, words):
    with pytest.raises(InvalidAction, match=words):
        ActionRequest(kind, argument)


def test_an_action_is_a_value():
    a = ActionRequest(ActionKind.WITHHOLD_IN_COUNTRY, "in")
    assert (
        a.argument == "IN" and a == ActionRequest.parse("withhold_in_country:IN") and len({a, ActionRequest.parse(str(a))}) == 1
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.argument = "GB"  # type: ignore[misc]
    with pytest.raises(InvalidAction, match="did you mean 'remove_item'"):
        ActionRequest.parse("remove_itme")


def test_the_policy_emits_action_requests_never_strings():
    v = default_policy().evaluate(ScanFacts([MatchFact("known", "csam", "pdq", 4)], country="IN"))
    assert v.actions and all(isinstance(a, ActionRequest) for a in v.actions)
    assert v.asks_for(ActionKind.REMOVE_ITEM) and v.asks_for(ActionKind.PRESERVE)
    assert ActionRequest(ActionKind.REPORT, "in_police") in v.actions


def test_old_action_names_are_read_as_the_new_ones_with_a_note_logged_once(caplog):
    text = (
        "rules:\n"
        "  - {name: obscene-in-india, when: {match: {label: obscene}}, verdict: remove, actions: [remove, 'withhold:in']}\n"
    )
    caplog.set_level(logging.WARNING, logger="suraksha.policy.loader")
    p = load_policy(text)
    assert p.rules[0].actions == (ActionRequest(ActionKind.REMOVE_ITEM), ActionRequest(ActionKind.WITHHOLD_IN_COUNTRY, "IN"))
    assert p.deprecations == (
        "rule #1 'obscene-in-india': actions[0]: 'remove' is the old name of 'remove_item'; write 'remove_item' "
        "(the old name is still read, for now)",
        "rule #1 'obscene-in-india': actions[1]: 'withhold:in' is the old name of 'withhold_in_country:IN'; "
        "write 'withhold_in_country:IN' (the old name is still read, for now)",
    )
    load_policy(text)  # some callers load the file again: the note is not repeated
    notes = [r.getMessage() for r in caplog.records if "old name" in r.getMessage()]
    assert len(notes) == 2 and all("obscene-in-india" in n for n in notes)
    assert default_policy().deprecations == ()  # the shipped policy uses the one names


# --------------------------------------------------------------------------- facts
def _policy():
    return load_policy("""
rules:
  - {name: known, when: {match: {label: csam}}, verdict: remove, actions: [remove_item]}
  - {name: links, when: {any: [{text: {kind: onion}}, {match: {signal_type: [url, domain]}}]}, verdict: review}
  - {name: words, when: {any: [{text: {kind: keyword}}, {match: {signal_type: text}}]}, verdict: review}
  - {name: nudity, when: {score: {name: nudity, gte: 0.8}}, verdict: review}
  - {name: reported-in-india, when: {user_report: true, country: IN}, verdict: review}
  - {name: messages-not-known, when: {item_kind: message, not: {match: {label: ncii}}}, verdict: review}
  - {name: everything, when: {always: true}, verdict: allow}
""")


def test_each_kind_of_condition_is_recorded_as_a_fact_of_its_kind():
    facts = ScanFacts(
        matches=[
            MatchFact("known", "csam", "pdq", 4, entry_id=17),
            MatchFact("urls", "csam_url", "url", 0, entry_id=3),
            MatchFact("words", "grooming", "text", 0, entry_id=9),
        ],
        scores=[ScoreFact("nudity", 0.93, "nudenet")],
        text_hits=[TextFact("onion", ONION), TextFact("keyword", "meet me")],
        item_kind="message",
        country="in",
        source="user_report",
    )
    v = _policy().evaluate(facts)
    assert [(f.kind, f.rule) for f in v.facts] == [
        (FactKind.HASH, "known"),
        (FactKind.LINK, "links"),
        (FactKind.LINK, "links"),
        (FactKind.TEXT, "words"),
        (FactKind.TEXT, "words"),
        (FactKind.CLASSIFIER, "nudity"),
        (FactKind.USER_REPORT, "reported-in-india"),
        (FactKind.CONTEXT, "reported-in-india"),
        (FactKind.CONTEXT, "messages-not-known"),
        (FactKind.CONTEXT, "messages-not-known"),
        (FactKind.CONTEXT, "everything"),
    ]
    assert len(v.facts) == len(v.reasons)  # one fact per reason, in the same order
    assert [r.split(": ")[0] for r in v.reasons] == [f.rule for f in v.facts]
    known, onion, url, keyword, text_bank, score, report, country, kind, absent, always = v.facts  # branch order
    assert known.match == MatchFact("known", "csam", "pdq", 4, entry_id=17)
    assert (url.match.signal_type, onion.text) == ("url", TextFact("onion", ONION))
    assert (keyword.text, text_bank.match.entry_id) == (TextFact("keyword", "meet me"), 9)
    assert score.score == ScoreFact("nudity", 0.93, "nudenet")
    assert (report.condition, report.value) == ("user_report", "user_report")
    assert [(f.condition, f.value) for f in (country, kind, absent, always)] == [
        ("country", "IN"),
        ("item_kind", "message"),
        ("not", "match (label ncii)"),
        ("always", None),
    ]


def test_facts_survive_their_stored_form_and_unknown_kinds_are_not_counted():
    v = _policy().evaluate(
        ScanFacts(
            [MatchFact("known", "csam", "vpdq", 0)],
            [ScoreFact("nudity", 0.8)],
            [TextFact("link", "https://x.example/")],
            source="complaint",
            country="IN",
        )
    )
    stored = v.stored_facts()
    assert [Fact.from_json(f) for f in stored] == v.facts
    assert fact_kinds(stored) == {FactKind.HASH, FactKind.CLASSIFIER, FactKind.USER_REPORT, FactKind.CONTEXT}
    assert fact_kinds(stored + [{"kind": "from-a-newer-version"}]) == fact_kinds(stored)
    assert fact_kinds(None) == frozenset()


def test_a_fact_has_exactly_one_detail():
    with pytest.raises(ValueError, match="exactly one"):
        Fact(FactKind.HASH, "r")
    with pytest.raises(ValueError, match="exactly one"):
        Fact(FactKind.HASH, "r", match=MatchFact("b", "l", "pdq", 0), condition="country")


def test_user_report_fires_only_for_items_a_person_reported():
    p = load_policy("rules: [{name: r, when: {user_report: true}, verdict: review, actions: ['review:reports']}]")
    for source, fires in (("complaint", True), ("user_report", True), ("api", False), (None, False)):
        v = p.evaluate(ScanFacts(source=source))
        assert (v.verdict == "review") is fires, source
        assert (FactKind.USER_REPORT in {f.kind for f in v.facts}) is fires
    assert p.evaluate(ScanFacts(source="complaint")).reasons == ["r: reported by a user (complaint)"]


def test_the_default_policy_records_what_transparency_counts():
    v = default_policy().evaluate(ScanFacts([MatchFact("iwf", "csam_url", "domain", 0)], [ScoreFact("nudity", 0.9, "nudenet")]))
    assert {f.kind for f in v.facts} == {FactKind.LINK, FactKind.CLASSIFIER}
    assert default_policy().evaluate(ScanFacts()).facts == []
