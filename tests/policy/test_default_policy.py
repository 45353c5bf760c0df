"""The shipped default policy: each rule fires with the actions and reasons a reviewer expects."""

from __future__ import annotations

import pytest

from suraksha.policy import ActionKind, ActionRequest, MatchFact, ScanFacts, ScoreFact, TextFact, default_policy

ONION = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"


def facts(matches=(), scores=(), text=(), country=None, kind="post") -> ScanFacts:
    return ScanFacts(matches=list(matches), scores=list(scores), text_hits=list(text), item_kind=kind, country=country)


@pytest.fixture(scope="module")
def policy():
    return default_policy()


def test_nothing_found_is_allowed_with_no_rule(policy):
    v = policy.evaluate(facts())
    assert (v.verdict, v.actions, v.rule, v.reasons, v.priority, v.fired, v.facts) == ("allow", [], None, [], 0, [], [])


def test_csam_match_removes_suspends_preserves_reports_and_queues_review(policy):
    v = policy.evaluate(facts([MatchFact("known", "csam", "pdq", 4)]))
    assert v.verdict == "remove"
    assert v.rule == "csam-match"
    assert v.actions == [
        ActionRequest(ActionKind.REMOVE_ITEM),
        ActionRequest(ActionKind.SUSPEND_ACCOUNT),
        ActionRequest(ActionKind.PRESERVE),
        ActionRequest(ActionKind.REPORT, "ncmec"),
        ActionRequest(ActionKind.REVIEW, "csam"),
    ]
    assert v.stored_actions() == ["remove_item", "suspend_account", "preserve", "report:ncmec", "review:csam"]
    assert v.priority == 100
    assert v.reasons == ["csam-match: match in bank 'known' (label csam, pdq distance 4)"]


def test_csam_match_from_india_is_also_reported_to_indian_police(policy):
    v = policy.evaluate(facts([MatchFact("known", "csam", "sha256", 0)], country="in"))
    assert "report:in_police" in v.stored_actions() and "report:ncmec" in v.stored_actions()
    assert "report:uk_nca" not in v.stored_actions()
    assert v.fired == ["csam-match", "csam-match-india"]
    assert "csam-match-india: country IN" in v.reasons


def test_csam_match_from_the_uk_is_also_reported_to_the_nca(policy):
    v = policy.evaluate(facts([MatchFact("known", "csam", "md5", 0)], country="GB"))
    assert "report:uk_nca" in v.stored_actions() and "report:in_police" not in v.stored_actions()


def test_ncii_match_removes_and_preserves_without_reporting_or_suspending(policy):
    v = policy.evaluate(facts([MatchFact("stopncii", "ncii", "pdq", 12, transform="rotate90")]))
    assert (v.verdict, v.rule, v.priority) == ("remove", "ncii-match", 80)
    assert v.stored_actions() == ["remove_item", "preserve", "review:ncii"]
    assert not any(a.kind in (ActionKind.REPORT, ActionKind.SUSPEND_ACCOUNT) for a in v.actions)
    assert v.reasons == ["ncii-match: match in bank 'stopncii' (label ncii, pdq distance 12, transform rotate90)"]


def test_onion_link_goes_to_review_with_high_priority(policy):
    v = policy.evaluate(facts(text=[TextFact("onion", ONION)]))
    assert (v.verdict, v.rule, v.stored_actions(), v.priority) == ("review", "csam-links", ["review:links"], 90)
    assert v.reasons == [f"csam-links: onion address {ONION} in the text"]


@pytest.mark.parametrize("signal_type", ["url", "domain"])
def test_csam_url_match_goes_to_review(policy, signal_type):
    v = policy.evaluate(facts([MatchFact("iwf-urls", "csam_url", signal_type, 0)]))
    assert (v.verdict, v.rule, v.priority) == ("review", "csam-links", 90)


def test_keyword_and_plain_link_hits_alone_are_allowed(policy):
    v = policy.evaluate(facts(text=[TextFact("keyword", "hello"), TextFact("link", "https://example.com/")]))
    assert v.verdict == "allow"


@pytest.mark.parametrize(("value", "verdict"), [(0.8, "review"), (0.97, "review"), (0.79, "allow"), (0.0, "allow")])
def test_nudity_score_threshold_is_inclusive_at_0_8(policy, value, verdict):
    v = policy.evaluate(facts(scores=[ScoreFact("nudity", value)]))
    assert v.verdict == verdict
    if verdict == "review":
        assert (v.rule, v.stored_actions(), v.priority) == ("nudity", ["review:nudity"], 50)
        assert v.reasons == [f"nudity: score nudity {value:.4g} (>= 0.8)"]


def test_nudity_never_removes_on_its_own(policy):
    v = policy.evaluate(facts(scores=[ScoreFact("nudity", 1.0)]))
    assert v.verdict == "review" and not v.asks_for(ActionKind.REMOVE_ITEM)


def test_several_rules_fire_strictest_verdict_wins_and_actions_are_the_union(policy):
    v = policy.evaluate(facts([MatchFact("known", "csam", "pdq", 2)], [ScoreFact("nudity", 0.9)], [TextFact("onion", ONION)]))
    assert v.verdict == "remove" and v.rule == "csam-match" and v.priority == 100
    assert v.fired == ["csam-match", "csam-links", "nudity"]
    assert v.stored_actions() == [
        "remove_item",
        "suspend_account",
        "preserve",
        "report:ncmec",
        "review:csam",
        "review:links",
        "review:nudity",
    ]
    assert [r.split(":")[0] for r in v.reasons] == ["csam-match", "csam-links", "nudity"]


def test_default_settings_require_review_before_any_report(policy):
    assert policy.settings.two_person_rule is False
    assert all(policy.review_required_before_report(d) for d in ("ncmec", "in_police", "uk_nca"))


def test_default_policy_is_loaded_once():
    assert default_policy() is default_policy()


def test_evaluation_is_deterministic(policy):
    f = facts([MatchFact("b", "ncii", "pdq", 3), MatchFact("a", "csam", "pdq", 9)], [ScoreFact("nudity", 0.85)])
    first = policy.evaluate(f)
    assert all(policy.evaluate(f) == first for _ in range(20))
