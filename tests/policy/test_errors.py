"""Invalid policies are refused at load time, naming the rule, the field and the reason."""

from __future__ import annotations

import textwrap

import pytest

from suraksha.policy import PolicyError, load_policy

GOOD = {"name": "ok", "when": {"match": {"label": "csam"}}, "verdict": "remove", "actions": ["remove_item"]}


def rule(**changes):
    r = {**GOOD, **changes}
    return {k: v for k, v in r.items() if v is not None}


def error_of(source) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy(source)
    assert isinstance(info.value, ValueError)
    return info.value


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        (
            rule(actions=["remove_item", "reprot:ncmec"]),
            "actions[1]",
            ["unknown action 'reprot:ncmec'", "did you mean 'report:ncmec'"],
        ),
        (rule(actions=["report:fbi"]), "actions[0]", ["unknown report destination 'fbi'", "ncmec, in_police, uk_nca"]),
        (rule(actions=["report"]), "actions[0]", ["needs a value", "report:<ncmec|in_police|uk_nca>"]),
        (rule(actions=["review:High Priority"]), "actions[0]", ["review queue"]),
        (rule(actions=["priority:101"]), "actions[0]", ["0 to 100"]),
        (rule(actions=["priority:high"]), "actions[0]", ["whole number"]),
        (rule(actions=["withhold_in_country:india"]), "actions[0]", ["two-letter"]),
        (rule(actions=["withhold:india"]), "actions[0]", ["two-letter"]),
        (rule(actions=["withhold_in_country"]), "actions[0]", ["needs a value", "withhold_in_country:<country code>"]),
        (rule(actions=["restore"]), "actions[0]", ["not one a policy can ask for"]),
        (rule(actions=["preserve:yes"]), "actions[0]", ["takes no value"]),
        (rule(actions=[{"report": "ncmec"}]), "actions[0]", ["quote actions with a colon"]),
        (rule(actions="remove_item"), "actions", ["must be a list"]),
        (rule(verdict="review", actions=["remove_item"]), "actions[0]", ["needs verdict remove"]),
        (rule(verdict="review", actions=["remove"]), "actions[0]", ["needs verdict remove"]),
        (rule(verdict="delete"), "verdict", ["unknown verdict 'delete'", "allow, review, remove"]),
        (rule(verdict=None), "verdict", ["missing"]),
        (rule(when=None), "when", ["missing"]),
        (rule(when={}), "when", ["empty condition", "always: true"]),
        (rule(when="csam"), "when", ["must be a mapping"]),
        (rule(when={"match": {"lable": "csam"}}), "when.match", ["unknown key 'lable'", "did you mean 'label'"]),
        (rule(when={"macth": {"label": "csam"}}), "when", ["unknown key 'macth'", "did you mean 'match'"]),
        (rule(when={"match": {"label": 5}}), "when.match.label", ["non-empty string"]),
        (rule(when={"match": {"signal_type": "phash"}}), "when.match.signal_type", ["'phash' is not one of"]),
        (rule(when={"match": {"signal_type": ["url", "dns"]}}), "when.match.signal_type[1]", ["'dns'"]),
        (rule(when={"match": {"max_distance": -1}}), "when.match.max_distance", [">= 0"]),
        (rule(when={"match": {"max_distance": "20"}}), "when.match.max_distance", ["whole number"]),
        (rule(when={"score": {"name": "nudity"}}), "when.score", ["at least one bound"]),
        (rule(when={"score": {"gte": 0.8}}), "when.score.name", ["missing"]),
        (rule(when={"score": {"name": "nudity", "gte": "high"}}), "when.score.gte", ["must be a number"]),
        (rule(when={"score": {"name": "nudity", "gte": True}}), "when.score.gte", ["must be a number"]),
        (rule(when={"text": {"kind": "onions"}}), "when.text.kind", ["'onions' is not one of", "did you mean 'onion'"]),
        (rule(when={"all": []}), "when.all", ["non-empty list"]),
        (rule(when={"any": [{"match": {}}, {"score": {"name": "x"}}]}), "when.any[1].score", ["at least one bound"]),
        (rule(when={"not": {"all": [{"match": {"bank": ""}}]}}), "when.not.all[0].match.bank", ["non-empty string"]),
        (rule(when={"country": "India"}), "when.country", ["two-letter"]),
        (rule(when={"country": False}), "when.country", ["quote the country code"]),
        (rule(when={"item_kind": "tweet"}), "when.item_kind", ["'tweet' is not one of"]),
        (rule(when={"always": "yes"}), "when.always", ["must be true"]),
        (rule(when={"user_report": False}), "when.user_report", ["must be true", "not: {user_report: true}"]),
        (rule(priority=500), "priority", ["0 to 100"]),
        (rule(priority=5, actions=["remove_item", "priority:6"]), "priority", ["disagrees"]),
        (rule(stop="yes"), "stop", ["true or false"]),
        (rule(colour="red"), "colour", ["unknown key 'colour'"]),
        (rule(name="bad name!"), "name", ["letters, digits"]),
        (rule(name=None), "name", ["missing"]),
    ],
)
def test_bad_rule_fields(bad, field, words):
    err = error_of({"rules": [GOOD | {"name": "first"}, bad]})
    assert err.index == 2 and err.field == field
    assert err.rule == (bad["name"] if isinstance(bad.get("name"), str) else None)
    for w in words:
        assert w in str(err), str(err)
    assert str(err).startswith("rule #2") and f": {field}: " in str(err)
    assert "\n" not in str(err)


def test_message_names_the_rule_field_and_reason_in_one_line():
    err = error_of({"rules": [rule(name="csam-match", actions=["remove_item", "reprot:ncmec"])]})
    assert str(err) == (
        "rule #1 'csam-match': actions[1]: unknown action 'reprot:ncmec' "
        "(did you mean 'report:ncmec'?); expected one of remove_item, suspend_account, "
        "withhold_in_country:<country code>, notify_user, preserve, report:<ncmec|in_police|uk_nca>, "
        "review:<queue>, priority:<0-100>"
    )


def test_duplicate_rule_names():
    err = error_of({"rules": [GOOD, rule(verdict="review", actions=[])]})
    assert (err.rule, err.index, err.field) == ("ok", 2, "name")
    assert "duplicate" in str(err) and "#1" in str(err)


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        ("rules: []", "rules", ["empty"]),
        ("version: 1", "rules", ["missing"]),
        ("rules: {name: x}", "rules", ["must be a list"]),
        ("version: 2\nrules: []", "version", ["unsupported version 2"]),
        ("rule: []", "rule", ["unknown key 'rule'", "did you mean 'rules'"]),
        ("settings: {two_person_rule: maybe}\nrules: []", "settings.two_person_rule", ["true or false"]),
        (
            "settings: {require_review_before_report: [ncmec, fbi]}\nrules: []",
            "settings.require_review_before_report[1]",
            ["'fbi'"],
        ),
        (
            "settings: {review_before_report: true}\nrules: []",
            "settings.review_before_report",
            ["did you mean 'require_review_before_report'"],
        ),
        ("rules:\n  - just a string", None, ["a rule is a mapping"]),
    ],
)
def test_bad_documents(doc, field, words):
    err = error_of(doc)
    assert err.field == field
    for w in words:
        assert w in str(err), str(err)


def test_yaml_syntax_error_gives_the_line():
    err = error_of(
        textwrap.dedent("""
        rules:
          - name: a
            when: {match: {label: csam}
            verdict: remove
    """)
    )
    assert "not valid YAML at line" in str(err)


def test_empty_document_and_non_mapping():
    assert "empty" in str(error_of(""))
    assert "mapping" in str(error_of("- a\n- b\n"))


def test_missing_file_is_a_policy_error(tmp_path):
    err = error_of(str(tmp_path / "nope.yaml"))
    assert "not found" in str(err)


def test_yaml_tags_are_not_executed():
    err = error_of("rules: !!python/object/apply:os.system ['echo hi']\n")
    assert "not valid YAML" in str(err)


def test_a_missing_path_without_yaml_extension_is_not_read_as_a_policy(tmp_path):
    err = error_of(str(tmp_path / "policy"))
    assert "neither an existing policy file nor a YAML policy" in str(err)
