"""A known history, 2021-2026, inserted with explicit timestamps (the services stamp "now").

Rows are inserted as each area's own models; where a service takes an explicit time it is used
(staff user; the Indian police packages' sending and acknowledgement). Every expected figure in the tests follows from the table
below by hand; the comments say which item carries which fact.

item  posted (UTC)            country  how found / what happened
I1    2022-03-10 10:00        IN       pdq match (csam); removed +2 h; NCMEC finished +3 h after scan;
                                       Indian police package sent +24 h after scan (submitted, recorded
                                       with reporting.service.record_delivery)
I2    2022-07-01 00:00        IN       classifier (nudity 0.93) -> review -> final decision csam; removed +4 h;
                                       NCMEC report failed; item restore requested 2023-06-01 (pending)
I3    2023-02-15 08:00        GB       url match (csam_url) + onion text hit; withheld in GB; NCA report queued
I4    2023-11-20 12:00        US       keyword text hit -> review -> final decision not_violating (cleared)
I5    2024-05-05 00:00        IN       backfilled (items.retroactive), scanned 2026-11-20 09:00: sha256 csam;
                                       removed +1 h after scan; NCMEC finished +2 h after scan
I6    2024-08-09 00:00        IN       complaint (context.source), verdict allow; removed by hand +6 h; decision csam
I7    2024-12-31 19:00        IN       (= 2025-01-01 00:30 IST) allow at scan; rescan md5 csam match on
                                       2026-11-25 10:00 (retroactive); Indian police sent +4 h (given as
                                       19:30 IST), acknowledged (record_delivery / record_acknowledgement)
I8    2025-06-15 00:00        IN       allow, nothing found: not identified
I9    2025-09-30 23:00        IN       (= 2025-10-01 04:30 IST) vpdq match (ncii); removed +30 min
I10   2025-03-03 07:00        IN       allow; named in a legal complaint (LR3); withheld in IN
I11   2021-12-31 12:00        IN       pdq csam, removed: before the range

accounts: A1 posts I1 I2 I6; A2 posts I3 I4; A3 posts I5 I7 I9 I10 I11; A4 posts I8.
suspensions (acknowledged): A1 2022-03-10 12:30, A1 again 2023-03-01 (after a restore), A2 2025-02-01;
A3's suspension is still pending. Restores: account A1 requested 2023-01-10, acknowledged 2023-01-11.
Each flagged item carries the reasons and the facts (``items.facts``) its verdict recorded; the
figures count the facts (``VERDICTS`` below says which item has which).
legal: LR1 takedown (IN) 2024-02-01 10:00 due +3 h answered +2 h; LR2 data request (IN) 2024-02-05
due +72 h answered +80 h; LR3 ncii_complaint from a user (IN) 2025-03-03 08:00 due +2 h answered +1 h;
LR4 data request (UK) 2024-03-01 due +72 h, never answered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

H = dt.timedelta(hours=1)


def _match(rule: str, signal_type: str, label: str) -> tuple[str, dict[str, Any]]:
    """The reason and the fact a rule firing on a match of ``label`` records (as the policy writes them)."""
    from suraksha.policy.conditions import describe_match
    from suraksha.policy.model import Fact, MatchFact, match_kind

    m = MatchFact(f"bank-{label}", label, signal_type, 0)
    return f"{rule}: {describe_match(m)}", Fact(match_kind(signal_type), rule, match=m).to_json()


def _score(rule: str, name: str, value: float, bound: float) -> tuple[str, dict[str, Any]]:
    from suraksha.policy.model import Fact, FactKind, ScoreFact

    return (
        f"{rule}: score {name} {value:.4g} (>= {bound:.4g})",
        Fact(FactKind.CLASSIFIER, rule, score=ScoreFact(name, value, "nudenet")).to_json(),
    )


def _text(rule: str, kind: str, value: str) -> tuple[str, dict[str, Any]]:
    from suraksha.policy.conditions import describe_text
    from suraksha.policy.model import Fact, TextFact, text_kind

    t = TextFact(kind, value)
    return f"{rule}: {describe_text(t)}", Fact(text_kind(kind), rule, text=t).to_json()


#: What each flagged item's verdict recorded: (reason, fact) per condition that fired.
VERDICTS: dict[str, list[tuple[str, dict[str, Any]]]] = {}


def _verdicts() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    return {
        "I1": [_match("csam-match", "pdq", "csam")],
        "I2": [_score("nudity", "nudity", 0.93, 0.8)],
        "I3": [_match("csam-links", "url", "csam_url"), _text("csam-links", "onion", "abcdefghijklmnop.onion")],
        "I4": [_text("grooming-words", "keyword", "example")],
        "I5": [_match("csam-match", "sha256", "csam")],
        "I7": [_match("csam-match", "md5", "csam")],  # written by the rescan that found the match
        "I9": [_match("ncii-match", "vpdq", "ncii")],
        "I11": [_match("csam-match", "pdq", "csam")],
    }


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def build_history() -> dict[str, Any]:
    import pyotp

    from suraksha.auth.service import create_user
    from suraksha.cases.models import ReviewDecision, ReviewTask
    from suraksha.db import session_scope
    from suraksha.enforcement.models import Action, ActionItem
    from suraksha.items.models import Account, Item, ItemMatch, ItemScore
    from suraksha.legal.models import LegalRequest, LegalTarget
    from suraksha.reporting.models import Report, ReportEvent

    reviewer = create_user(
        "t-history-reviewer",
        "reviewer",
        password="correct horse battery staple",
        totp_secret=pyotp.random_base32(),
        must_change_password=False,
    )
    ids: dict[str, Any] = {}
    with session_scope() as s:
        from sqlalchemy import select

        from suraksha.auth.models import StaffUser

        reviewer_id = s.scalar(select(StaffUser.id).where(StaffUser.username == reviewer.username))
        accounts = {}
        for name in ("A1", "A2", "A3", "A4"):
            a = Account(platform_account_id=f"acct-{name}", handle=name, first_seen=utc(2021, 1, 1), last_seen=utc(2026, 1, 1))
            s.add(a)
            s.flush()
            accounts[name] = a.id

        VERDICTS.update(_verdicts())

        def item(
            name: str,
            created: dt.datetime,
            country: str,
            account: str,
            verdict: str,
            *,
            scanned: dt.datetime | None = None,
            retroactive: bool = False,
            text_hits: list[dict] | None = None,
            source: str | None = None,
        ) -> int:
            context: dict[str, Any] = {"country": country}
            if source:
                context["source"] = source
            fired = VERDICTS.get(name, [])
            row = Item(
                platform_id=f"post-{name}",
                account_id=accounts[account],
                kind="post",
                text=None,
                links=[],
                context=context,
                status="done",
                created_at=created,
                received_at=(scanned or created + dt.timedelta(minutes=5)) - dt.timedelta(minutes=4),
                retroactive=retroactive,
                verdict=verdict,
                rule=fired[0][1]["rule"] if fired else None,
                reasons=[r for r, _ in fired],
                facts=[f for _, f in fired] if fired else None,
                actions=[],
                text_hits=text_hits or [],
                scanned_at=scanned or created + dt.timedelta(minutes=5),
            )
            s.add(row)
            s.flush()
            ids[name] = row.id
            return row.id

        def match(
            item_id: int, signal_type: str, label: str, *, retroactive: bool = False, matched_at: dt.datetime | None = None
        ) -> None:
            s.add(
                ItemMatch(
                    item_id=item_id,
                    media_position=0 if signal_type in ("pdq", "md5", "sha256", "vpdq") else None,
                    bank=f"bank-{label}",
                    label=label,
                    signal_type=signal_type,
                    signal="x",
                    distance=0,
                    retroactive=retroactive,
                    matched_at=matched_at,
                )
            )

        def action(
            kind: str,
            *,
            item_id: int | None = None,
            account: str | None = None,
            created: dt.datetime,
            acked: dt.datetime | None,
            country: str | None = None,
            key: str | None = None,
        ) -> int:
            a = Action(
                kind=kind,
                idempotency_key=key or f"{kind}:{item_id}:{account}:{created.isoformat()}",
                item_id=item_id,
                account_id=accounts[account] if account else None,
                country=country,
                reason="test",
                details={},
                source="outbox",
                status="acknowledged" if acked else "pending",
                created_at=created,
                updated_at=created,
                next_attempt_at=created,
                acknowledged_at=acked,
            )
            s.add(a)
            s.flush()
            if item_id is not None:
                s.add(ActionItem(action_id=a.id, item_id=item_id, added_at=created))
            return a.id

        def report(
            item_id: int,
            dest: str,
            state: str,
            *,
            created: dt.datetime,
            submitted: dt.datetime | None = None,
            finished: dt.datetime | None = None,
        ) -> int:
            r = Report(
                destination=dest,
                subject=f"item:{item_id}",
                item_id=item_id,
                state=state,
                created_at=created,
                updated_at=created,
                next_attempt_at=created,
                submitted_at=submitted,
                finished_at=finished,
            )
            s.add(r)
            s.flush()
            s.add(ReportEvent(report_id=r.id, at=created, from_state=None, to_state="draft", actor="system:test"))
            for at, to in ((submitted, "submitted"), (finished, "finished")):
                if at is not None:
                    s.add(ReportEvent(report_id=r.id, at=at, from_state=None, to_state=to, actor="system:test"))
            return r.id

        def decide(item_id: int, category: str, at: dt.datetime) -> None:
            t = ReviewTask(
                item_id=item_id, queue="csam", priority=0, status="done", reasons=[], created_at=at, due_at=at + H, decided_at=at
            )
            s.add(t)
            s.flush()
            d = ReviewDecision(
                task_id=t.id,
                item_id=item_id,
                reviewer_id=reviewer_id,
                stage="primary",
                category=category,
                annotation="",
                final=True,
                bank_result={},
                created_at=at,
            )
            s.add(d)
            s.flush()
            t.final_decision_id = d.id

        # I1: hash, removed +2 h, NCMEC +3 h after scan, police package sent +24 h after scan
        i1 = item("I1", utc(2022, 3, 10, 10), "IN", "A1", "remove", scanned=utc(2022, 3, 10, 10, 5))
        match(i1, "pdq", "csam")
        action("remove_item", item_id=i1, created=utc(2022, 3, 10, 10, 5), acked=utc(2022, 3, 10, 12))
        report(
            i1,
            "ncmec",
            "finished",
            created=utc(2022, 3, 10, 10, 5),
            submitted=utc(2022, 3, 10, 13),
            finished=utc(2022, 3, 10, 13, 5),
        )
        police_reports = {"I1": report(i1, "in_police", "queued", created=utc(2022, 3, 10, 10, 5))}
        # I2: classifier, decision csam, removed +4 h, NCMEC failed
        i2 = item("I2", utc(2022, 7, 1), "IN", "A1", "review", scanned=utc(2022, 7, 1, 0, 5))
        s.add(ItemScore(item_id=i2, media_position=0, classifier="nudenet", name="nudity", value=0.93))
        decide(i2, "csam", utc(2022, 7, 1, 2))
        action("remove_item", item_id=i2, created=utc(2022, 7, 1, 2), acked=utc(2022, 7, 1, 4))
        report(i2, "ncmec", "failed", created=utc(2022, 7, 1, 2), submitted=utc(2022, 7, 1, 2, 1))
        # I3: link (url match + onion), withheld in GB, NCA queued
        i3 = item(
            "I3", utc(2023, 2, 15, 8), "GB", "A2", "review", text_hits=[{"kind": "onion", "value": "abcdefghijklmnop.onion"}]
        )
        match(i3, "url", "csam_url")
        action("withhold_in_country", item_id=i3, country="GB", created=utc(2023, 2, 15, 9), acked=utc(2023, 2, 15, 10))
        report(i3, "uk_nca", "queued", created=utc(2023, 2, 15, 9))
        # I4: text (keyword), cleared on review
        i4 = item(
            "I4",
            utc(2023, 11, 20, 12),
            "US",
            "A2",
            "review",
            text_hits=[{"kind": "keyword", "value": "example", "start": 0, "end": 7}],
        )
        decide(i4, "not_violating", utc(2023, 11, 20, 14))
        # I5: backfilled, scanned 2026-11-20 09:00, sha256 csam, removed +1 h, NCMEC +2 h
        i5 = item("I5", utc(2024, 5, 5), "IN", "A3", "remove", scanned=utc(2026, 11, 20, 9), retroactive=True)
        match(i5, "sha256", "csam")
        action("remove_item", item_id=i5, created=utc(2026, 11, 20, 9), acked=utc(2026, 11, 20, 10))
        report(
            i5, "ncmec", "finished", created=utc(2026, 11, 20, 9), submitted=utc(2026, 11, 20, 10), finished=utc(2026, 11, 20, 11)
        )
        # I6: complaint, allow, removed by hand +6 h, decision csam
        i6 = item("I6", utc(2024, 8, 9), "IN", "A1", "allow", source="complaint", scanned=utc(2024, 8, 9, 1, 5))
        action("remove_item", item_id=i6, created=utc(2024, 8, 9, 3), acked=utc(2024, 8, 9, 6))
        decide(i6, "csam", utc(2024, 8, 9, 2))
        # I7: allow at scan; rescan md5 csam on 2026-11-25 10:00; police sent +4 h and acknowledged
        i7 = item("I7", utc(2024, 12, 31, 19), "IN", "A3", "remove", scanned=utc(2024, 12, 31, 19, 1))
        match(i7, "md5", "csam", retroactive=True, matched_at=utc(2026, 11, 25, 10))
        police_reports["I7"] = report(i7, "in_police", "queued", created=utc(2026, 11, 25, 10))
        # I8: nothing found
        item("I8", utc(2025, 6, 15), "IN", "A4", "allow")
        # I9: vpdq ncii, removed +30 min
        i9 = item("I9", utc(2025, 9, 30, 23), "IN", "A3", "remove", scanned=utc(2025, 9, 30, 23, 1))
        match(i9, "vpdq", "ncii")
        action("remove_item", item_id=i9, created=utc(2025, 9, 30, 23, 1), acked=utc(2025, 9, 30, 23, 30))
        # I10: named in LR3, withheld in IN
        i10 = item("I10", utc(2025, 3, 3, 7), "IN", "A3", "allow")
        action("withhold_in_country", item_id=i10, country="IN", created=utc(2025, 3, 3, 8, 30), acked=utc(2025, 3, 3, 8, 45))
        # I11: before the range
        i11 = item("I11", utc(2021, 12, 31, 12), "IN", "A3", "remove")
        match(i11, "pdq", "csam")
        action("remove_item", item_id=i11, created=utc(2021, 12, 31, 13), acked=utc(2021, 12, 31, 14))

        # suspensions, restores
        action("suspend_account", account="A1", created=utc(2022, 3, 10, 10, 5), acked=utc(2022, 3, 10, 12, 30), key="s:A1")
        action("restore", account="A1", created=utc(2023, 1, 10), acked=utc(2023, 1, 11), key="restore:account:A1:1")
        action("suspend_account", account="A1", created=utc(2023, 3, 1), acked=utc(2023, 3, 1, 1), key="s:A1:g1")
        action("suspend_account", account="A2", created=utc(2025, 2, 1), acked=utc(2025, 2, 1, 1), key="s:A2")
        action("suspend_account", account="A3", created=utc(2024, 5, 5), acked=None, key="s:A3")
        action("restore", item_id=i2, created=utc(2023, 6, 1), acked=None, key="restore:item:I2:1")

        # legal requests
        def request(
            ref: str,
            type_: str,
            jurisdiction: str,
            received: dt.datetime,
            due: dt.timedelta,
            answered: dt.timedelta | None,
            issuer: str = "police",
        ) -> int:
            r = LegalRequest(
                reference=ref,
                type=type_,
                jurisdiction=jurisdiction,
                issuer_kind=issuer,
                received_at=received,
                due_at=received + due,
                status="answered" if answered else "in_progress",
                answered_at=received + answered if answered else None,
                created_by="test",
                created_at=received,
                updated_at=received,
            )
            s.add(r)
            s.flush()
            return r.id

        request("LR-1", "takedown_order", "in", utc(2024, 2, 1, 10), 3 * H, 2 * H)
        request("LR-2", "data_request", "in", utc(2024, 2, 5), 72 * H, 80 * H)
        lr3 = request("LR-3", "ncii_complaint", "in", utc(2025, 3, 3, 8), 2 * H, 1 * H, issuer="user")
        s.add(LegalTarget(request_id=lr3, kind="item", value="post-I10", item_id=i10))
        request("LR-4", "data_request", "uk", utc(2024, 3, 1), 72 * H, None)
    # The Indian police packages go through the reporting service, which takes the real sending time.
    from suraksha.reporting.service import record_acknowledgement, record_delivery

    record_delivery(
        police_reports["I1"],
        "portal",
        "user:t-legal",
        reference="CCRP-2022-1",
        police_unit="Cyber PS, Pune",
        sent_at=utc(2022, 3, 11, 10, 5),
    )
    record_delivery(
        police_reports["I7"],
        "email",
        "user:t-legal",
        police_unit="SJPU Bengaluru",
        sent_at=dt.datetime(2026, 11, 25, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    )
    record_acknowledgement(police_reports["I7"], "user:t-legal", fir_number="FIR 0457/2026", at=utc(2026, 11, 26, 9))
    ids["accounts"] = accounts
    ids["police_reports"] = police_reports
    return ids
