"""The figures count the facts a verdict recorded as data, never the words of its reasons.

Rewording every reason (as a new version of the policy's wording would) leaves every figure as it
was; migration p0005 fills the facts of verdicts stored before it from their reasons, once, so
their figures are what they were. SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import JSON, column, insert, select, table, update

from suraksha.db import session_scope

from .history import build_history, utc

NOW = utc(2026, 12, 1, 8)
#: The outbox table by its columns (its model moves between areas; the migration sees the table).
OUTBOX = table(
    "outbox_messages",
    column("id"),
    column("topic"),
    column("dedupe_key"),
    column("item_id"),
    column("status"),
    column("payload", JSON),
    column("attempts"),
    column("next_attempt_at"),
    column("created_at"),
)


def _figures():
    from suraksha.transparency.figures import figures

    return [
        dataclasses.asdict(figures("2022-01-01", "2025-12-31", by=by, jurisdiction=j, now=NOW))
        for by, j in (("year", None), ("month", "in"))
    ]


def _reasons() -> dict[str, list[str]]:
    from suraksha.items.models import Item

    with session_scope() as s:
        return {pid: list(r or []) for pid, r in s.execute(select(Item.platform_id, Item.reasons))}


def test_rewording_every_reason_changes_no_figure(db_url):
    from suraksha.items.models import Item

    build_history()
    before = _figures()
    assert before[0]["total"]["by_signal"] == {"hash": 2, "classifier": 1, "link": 1, "text": 0, "human": 2}
    with session_scope() as s:
        for item in s.scalars(select(Item).where(Item.reasons != [])):
            # What a reworded policy might write: no ": score ", no "match in bank", no "keyword".
            item.reasons = [
                r.replace(": score ", ": the classifier said ").replace("match in bank", "hit in list").replace("keyword", "word")
                for r in item.reasons
            ]
    reasons = _reasons()
    assert reasons["post-I2"] == ["nudity: the classifier said nudity 0.93 (>= 0.8)"]
    assert not any(": score " in r for rs in reasons.values() for r in rs)
    assert _figures() == before
    # And the other way round: a reason that reads like a score does not make a classifier finding.
    with session_scope() as s:
        s.execute(update(Item).where(Item.platform_id == "post-I4").values(reasons=["grooming-words: score nudity 1 (>= 0)"]))
    assert _figures() == before


def _migrate(url: str, action: str, revision: str) -> None:
    from alembic import command

    from suraksha.db.migrate import alembic_config
    from suraksha.db.session import reset_engine

    reset_engine()  # no pooled connection of the app while tables are altered
    getattr(command, action)(alembic_config(url), revision)


def test_p0005_fills_facts_from_stored_reasons_and_renames_actions_once(db_url):
    """A database from before p0005: verdicts with reasons only, actions and outbox keys with the old
    names. Upgrading gives each verdict the facts its reasons describe and the actions one name."""
    from sqlalchemy import text

    from suraksha.db import utcnow
    from suraksha.items.models import Item

    ids = build_history()
    expected = _figures()
    with session_scope() as s:
        facts_before = dict(s.execute(select(Item.platform_id, Item.facts)).all())
        i1, now = ids["I1"], utcnow()
        s.execute(
            insert(OUTBOX),
            [
                {
                    "topic": topic,
                    "dedupe_key": f"{i1}:{key}",
                    "item_id": i1,
                    "status": status,
                    "payload": payload,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for topic, key, status, payload in (
                    ("action", "action:remove", "pending", {"action": "remove", "item_id": i1}),
                    ("action", "action:withhold:IN", "pending", {"action": "withhold:IN", "country": "IN", "item_id": i1}),
                    ("action", "action:suspend_account", "delivered", {"action": "suspend_account", "item_id": i1}),
                    ("report", "report:ncmec", "pending", {"action": "report:ncmec", "destination": "ncmec"}),
                )
            ],
        )
    _migrate(db_url, "downgrade", "p0004")
    with session_scope() as s:  # as p0004 stored them: reasons only, old action names
        s.execute(
            text("UPDATE items SET actions = :a WHERE platform_id = 'post-I1'"),
            {"a": '["remove", "suspend_account", "preserve", "report:ncmec", "review:csam", "withhold:IN"]'},
        )
        s.execute(
            text("UPDATE items SET reasons = :r WHERE platform_id = 'post-I4'"),
            {
                "r": '["grooming-words: keyword \'example\' in the text", "grooming-words: country US", '
                '"grooming-words: no match (label csam)", "a hand-written note"]'
            },
        )
    _migrate(db_url, "upgrade", "heads")

    assert _figures() == expected
    with session_scope() as s:
        rows = {r.platform_id: r for r in s.execute(select(Item.platform_id, Item.facts, Item.actions))}
        boxes = {
            m.dedupe_key.partition(":")[2]: (m.status, m.payload)
            for m in s.execute(select(OUTBOX.c.dedupe_key, OUTBOX.c.status, OUTBOX.c.payload))
        }
    for pid in ("post-I1", "post-I3", "post-I5", "post-I7", "post-I9", "post-I11"):
        got = rows[pid].facts
        assert [{k: v for k, v in f.items() if k != "match"} for f in got] == [
            {k: v for k, v in f.items() if k != "match"} for f in facts_before[pid]
        ], pid
        for new, old in zip(got, facts_before[pid]):  # the same match, except what the words never said
            if "match" in old:
                assert new["match"] == {**old["match"], "entry_id": None}
    # The words never named the classifier: the filled fact says so (None) rather than guess.
    assert rows["post-I2"].facts == [
        {"kind": "classifier", "rule": "nudity", "score": {"classifier": None, "name": "nudity", "value": 0.93}}
    ]
    assert rows["post-I4"].facts == [
        {"kind": "text", "rule": "grooming-words", "text": {"kind": "keyword", "value": "example"}},
        {"kind": "context", "rule": "grooming-words", "condition": "country", "value": "US"},
        {"kind": "context", "rule": "grooming-words", "condition": "not", "value": "match (label csam)"},
        {"kind": "context", "rule": "", "condition": "legacy_reason", "value": "a hand-written note"},
    ]
    assert rows["post-I8"].facts is None  # nothing fired: nothing to fill
    assert rows["post-I1"].actions == [
        "remove_item",
        "suspend_account",
        "preserve",
        "report:ncmec",
        "review:csam",
        "withhold_in_country:IN",
    ]
    assert boxes["action:remove_item"] == ("pending", {"action": {"kind": "remove_item", "argument": None}, "item_id": i1})
    assert boxes["action:withhold_in_country:IN"][1]["action"] == {"kind": "withhold_in_country", "argument": "IN"}
    assert boxes["action:suspend_account"] == ("delivered", {"action": "suspend_account", "item_id": i1})  # history
    assert boxes["report:ncmec"][1]["action"] == "report:ncmec"  # only action messages are read back by name

    # The pending messages the migration rewrote are the actions enforcement takes, by their one name.
    from suraksha.enforcement.actions import message_action
    from suraksha.policy.actions import ActionKind, ActionRequest

    assert [
        message_action(payload, None)
        for key, (status, payload) in sorted(boxes.items())
        if key.startswith("action:") and status == "pending"
    ] == [ActionRequest(ActionKind.REMOVE_ITEM), ActionRequest(ActionKind.WITHHOLD_IN_COUNTRY, "IN")]


@pytest.mark.parametrize(
    "reason, fact",
    [
        (
            "r: match in bank 'b' (label csam, pdq distance 4, transform rotate90)",
            {
                "kind": "hash",
                "rule": "r",
                "match": {
                    "bank": "b",
                    "label": "csam",
                    "signal_type": "pdq",
                    "distance": 4,
                    "transform": "rotate90",
                    "entry_id": None,
                },
            },
        ),
        (
            'r: match in bank "it\'s" (label csam_url, domain distance 0)',
            {
                "kind": "link",
                "rule": "r",
                "match": {
                    "bank": "it's",
                    "label": "csam_url",
                    "signal_type": "domain",
                    "distance": 0,
                    "transform": None,
                    "entry_id": None,
                },
            },
        ),
        (
            "r: match in bank 't' (label grooming, text distance 0)",
            {
                "kind": "text",
                "rule": "r",
                "match": {
                    "bank": "t",
                    "label": "grooming",
                    "signal_type": "text",
                    "distance": 0,
                    "transform": None,
                    "entry_id": None,
                },
            },
        ),
        (
            "r: score nudity 0.8 (>= 0.8, < 1)",
            {"kind": "classifier", "rule": "r", "score": {"classifier": None, "name": "nudity", "value": 0.8}},
        ),
        (
            "r: onion address abc.onion in the text",
            {"kind": "link", "rule": "r", "text": {"kind": "onion", "value": "abc.onion"}},
        ),
        ("r: link https://x.example/a", {"kind": "link", "rule": "r", "text": {"kind": "link", "value": "https://x.example/a"}}),
        ("r: text matching a regex: 'meet me'", {"kind": "text", "rule": "r", "text": {"kind": "regex", "value": "meet me"}}),
        ("r: item kind message", {"kind": "context", "rule": "r", "condition": "item_kind", "value": "message"}),
        ("r: always", {"kind": "context", "rule": "r", "condition": "always", "value": None}),
        (
            "pdq match in review-demo-csam",
            {"kind": "context", "rule": "", "condition": "legacy_reason", "value": "pdq match in review-demo-csam"},
        ),
    ],
)
def test_p0005_reads_every_wording_the_policy_ever_wrote(reason, fact):
    import importlib

    from suraksha.policy.model import Fact

    p0005 = importlib.import_module("suraksha.db.migrations.versions.p0005_verdict_facts_action_names")
    assert p0005.parse_reason(reason) == fact
    assert Fact.from_json(fact).to_json() == fact  # a fact this version reads and writes the same way
