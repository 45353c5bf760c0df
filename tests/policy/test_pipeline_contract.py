"""The default policy's verdicts turn into the outbox messages the pipeline enqueues."""

from __future__ import annotations

from suraksha.pipeline.scan import outbox_for
from suraksha.policy import MatchFact, ScanFacts, ScoreFact, TextFact, default_policy


def topics(verdict) -> list[tuple[str, str]]:
    return sorted((o.topic, o.dedupe_key) for o in outbox_for(7, 3, verdict, {"item_id": 7}))


def test_csam_verdict_enqueues_removal_suspension_preservation_report_and_review():
    v = default_policy().evaluate(ScanFacts([MatchFact("known", "csam", "pdq", 4)], [], []))
    assert topics(v) == [
        ("action", "7:action:remove_item"),
        ("action", "7:action:suspend_account"),
        ("preserve", "7:preserve"),
        ("report", "7:report:ncmec"),
        ("review", "7:review:csam"),
    ]


def test_review_verdicts_enqueue_one_review_task_in_their_queue():
    onion = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
    v = default_policy().evaluate(ScanFacts([], [ScoreFact("nudity", 0.95)], [TextFact("onion", onion)]))
    # Two review rules fired, but the reviewer meets the item once: in the first queue named,
    # with the other queue carried along.
    assert topics(v) == [("review", "7:review:links")]
    [msg] = outbox_for(7, 3, v, {"item_id": 7})
    assert msg.payload["queue"] == "links" and msg.payload["also_queues"] == ["nudity"]
    assert v.priority == 90


def test_allow_enqueues_nothing():
    assert topics(default_policy().evaluate(ScanFacts([], [ScoreFact("nudity", 0.1)], []))) == []
