"""Every figure of the known history (history.py), exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from .history import build_history, utc

NOW = utc(2026, 12, 1, 8)
H = 3600.0


@pytest.fixture
def history(db_url):
    return build_history()


def by_label(f):
    return {p.label: p for p in f.periods}


def interp(values, q):
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def test_yearly_figures_are_exactly_the_history(history):
    from suraksha.transparency.figures import figures

    f = figures("2022-01-01", "2025-12-31", by="year", now=NOW)
    assert [p.label for p in f.periods] == ["2022", "2023", "2024", "2025"]
    assert f.timezone == "UTC" and f.jurisdiction is None
    y = by_label(f)
    # Booked when it happened: I5 and I7 (posted in 2024) were found, removed and reported in 2026.
    assert [y[k].identified for k in ("2022", "2023", "2024", "2025")] == [2, 1, 1, 2]
    assert [y[k].flagged for k in ("2022", "2023", "2024", "2025")] == [2, 2, 0, 1]
    assert [y[k].posted for k in ("2022", "2023", "2024", "2025")] == [2, 1, 3, 2]
    assert [y[k].by_complaint for k in ("2022", "2023", "2024", "2025")] == [0, 0, 1, 1]
    assert [y[k].retroactive for k in ("2022", "2023", "2024", "2025")] == [0, 0, 0, 0]
    assert [y[k].removed for k in ("2022", "2023", "2024", "2025")] == [2, 0, 1, 1]
    assert [y[k].withheld for k in ("2022", "2023", "2024", "2025")] == [0, 1, 0, 1]
    assert [y[k].items_reported for k in ("2022", "2023", "2024", "2025")] == [1, 0, 0, 0]
    assert [y[k].accounts_suspended for k in ("2022", "2023", "2024", "2025")] == [1, 1, 0, 1]
    assert [y[k].appeals for k in ("2022", "2023", "2024", "2025")] == [0, 2, 0, 0]
    assert [y[k].restorations for k in ("2022", "2023", "2024", "2025")] == [0, 1, 0, 0]
    # 2023: I3 (a url match and an onion link); I4 was flagged by a keyword and cleared on review.
    assert y["2023"].cleared_on_review == 1 and y["2023"].by_signal == {
        "hash": 0,
        "classifier": 0,
        "link": 1,
        "text": 0,
        "human": 0,
    }
    assert y["2022"].by_signal == {"hash": 1, "classifier": 1, "link": 0, "text": 0, "human": 0}
    assert y["2024"].by_signal == {"hash": 0, "classifier": 0, "link": 0, "text": 0, "human": 1}

    t = f.total
    assert (t.identified, t.proactive, t.by_complaint, t.retroactive, t.flagged, t.posted) == (6, 4, 2, 0, 5, 8)
    assert t.by_signal == {"hash": 2, "classifier": 1, "link": 1, "text": 0, "human": 2}
    assert t.automated == 4 and t.automated_share == pytest.approx(4 / 6)
    assert (t.removed, t.withheld, t.removed_proactive_automated, t.cleared_on_review) == (4, 2, 3, 1)
    assert t.items_reported == 1
    # An account suspended in two years counts once in the total.
    assert t.accounts_suspended == 2 and (t.appeals, t.restorations) == (2, 1)
    assert (t.complaints_received, t.complaints_actioned) == (2, 2)


def test_a_closed_year_is_the_same_after_later_findings(history):
    """I5 and I7 (posted in 2024) were found in 2026: 2024 and 2025 as published at the end of
    2025 are what the figures say now, and 2026 carries the findings."""
    from suraksha.transparency.figures import figures

    f = figures("2024-01-01", "2026-11-30", by="year", now=NOW)
    y = by_label(f)
    assert (y["2024"].identified, y["2024"].removed, y["2024"].items_reported) == (1, 1, 0)
    assert (y["2026"].identified, y["2026"].retroactive, y["2026"].removed, y["2026"].items_reported) == (2, 2, 1, 2)
    assert y["2026"].abuse.identified == 2 and y["2024"].posted == 3


def test_reports_per_authority_and_their_states(history):
    from suraksha.transparency.figures import figures

    t = figures("2022-01-01", "2025-12-31", by="year", now=NOW).total
    ncmec, police, nca = t.reports["ncmec"], t.reports["in_police"], t.reports["uk_nca"]
    # Reports are booked when made and when filed: I5's and I7's (made in 2026) are not in 2022-2025.
    assert (ncmec.reports, ncmec.filed) == (2, 1)
    assert {k: v for k, v in ncmec.states.items() if v} == {"finished": 1, "failed": 1}
    assert (police.reports, police.filed) == (1, 1)
    assert {k: v for k, v in police.states.items() if v} == {"submitted": 1}
    assert (nca.reports, nca.filed) == (1, 0) and nca.states["queued"] == 1


def test_legal_requests_received_answered_in_time(history):
    from suraksha.transparency.figures import figures

    y = by_label(figures("2022-01-01", "2025-12-31", by="year", now=NOW))
    lg = y["2024"].legal
    assert (lg.received, lg.answered, lg.answered_in_time, lg.answered_late, lg.open_overdue) == (3, 2, 1, 1, 1)
    assert lg.by_type == {"data_request": 2, "takedown_order": 1}
    lg = y["2025"].legal
    assert (lg.received, lg.answered, lg.answered_in_time, lg.answered_late, lg.open_overdue) == (1, 1, 1, 0, 0)
    assert y["2023"].legal.received == 0
    # A deadline that has not passed yet is not "overdue".
    early = by_label(figures("2024-01-01", "2024-12-31", by="year", now=utc(2024, 3, 2)))
    assert early["2024"].legal.open_overdue == 0


def test_medians_and_95th_percentiles(history):
    from suraksha.transparency.figures import figures

    f = figures("2022-01-01", "2025-12-31", by="year", now=NOW)
    backfilled = (utc(2026, 11, 20, 10) - utc(2024, 5, 5)).total_seconds()
    # Removals and reports of the range (I5's removal and the 2026 reports are booked in 2026).
    removal = [2 * H, 4 * H, 6 * H, 0.5 * H]
    t = f.total.upload_to_removal
    assert t.count == 4 and t.median_seconds == 3 * H
    assert t.p95_seconds == pytest.approx(interp(removal, 0.95))
    r = f.total.detection_to_report
    assert r.count == 2 and r.median_seconds == pytest.approx(13.5 * H)
    assert r.p95_seconds == pytest.approx(3 * H + (24 * H - 3 * H) * 0.95)
    later = figures("2026-01-01", "2026-11-30", by="year", now=NOW).total.upload_to_removal
    assert later.count == 1 and later.median_seconds == (utc(2026, 11, 20, 10) - utc(2024, 5, 5)).total_seconds() == backfilled
    y2022 = by_label(f)["2022"]
    assert y2022.upload_to_removal.median_seconds == 3 * H
    assert y2022.upload_to_removal.p95_seconds == pytest.approx(2 * H + 0.95 * 2 * H)
    assert y2022.detection_to_report.median_seconds == pytest.approx(13.5 * H)
    assert by_label(f)["2023"].upload_to_removal == type(t)(0, None, None)


def test_jurisdiction_filters_items_requests_accounts_and_uses_its_time_zone(history):
    from suraksha.transparency.figures import figures

    f = figures("2022-01-01", "2025-12-31", by="year", jurisdiction="in", now=NOW)
    assert f.timezone == "Asia/Kolkata"
    y = by_label(f)
    # I9 is detected 2025-09-30 23:01 UTC = 2025-10-01 IST; GB/US items are gone; I5 and I7 were
    # found in 2026. I7 is posted 2024-12-31 19:00 UTC = 2025-01-01 00:30 IST.
    assert [y[k].identified for k in ("2022", "2023", "2024", "2025")] == [2, 0, 1, 2]
    assert [y[k].posted for k in ("2022", "2023", "2024", "2025")] == [2, 0, 2, 3]
    assert f.total.by_signal == {"hash": 2, "classifier": 1, "link": 0, "text": 0, "human": 2}
    assert [y[k].legal.received for k in ("2022", "2023", "2024", "2025")] == [0, 0, 2, 1]
    # A2 posted only in GB/US: its suspension is not India's; A1's two are.
    assert [y[k].accounts_suspended for k in ("2022", "2023", "2024", "2025")] == [1, 1, 0, 0]
    assert f.total.reports["uk_nca"].reports == 0 and f.total.reports["in_police"].filed == 1


def test_month_and_quarter_boundaries_in_utc_and_ist(history):
    from suraksha.transparency.figures import figures

    utc_months = by_label(figures("2024-12-01", "2025-01-31", by="month", now=NOW))
    ist_months = by_label(figures("2024-12-01", "2025-01-31", by="month", jurisdiction="in", now=NOW))
    # I7 (found in 2026) is posted 2024-12-31 19:00 UTC = 2025-01-01 00:30 IST.
    assert (utc_months["2024-12"].posted, utc_months["2025-01"].posted) == (1, 0)
    assert (ist_months["2024-12"].posted, ist_months["2025-01"].posted) == (0, 1)
    assert ist_months["2025-01"].start == dt.datetime(2025, 1, 1, tzinfo=ist_months["2025-01"].start.tzinfo)
    assert ist_months["2025-01"].start.utcoffset() == dt.timedelta(hours=5, minutes=30)
    # I9: 2025-09-30 23:00 UTC is Q3 in UTC and 2025-10-01 04:30, Q4, in IST.
    q = by_label(figures("2025-07-01", "2025-12-31", by="quarter", now=NOW))
    qi = by_label(figures("2025-07-01", "2025-12-31", by="quarter", jurisdiction="in", now=NOW))
    assert list(q) == ["2025-Q3", "2025-Q4"]
    assert (q["2025-Q3"].identified, q["2025-Q4"].identified) == (1, 0)
    assert (qi["2025-Q3"].identified, qi["2025-Q4"].identified) == (0, 1)
    # An item posted exactly at midnight on the 1st belongs to the month that starts then.
    m = by_label(figures("2022-06-01", "2022-07-31", by="month", now=NOW))
    assert (m["2022-06"].identified, m["2022-07"].identified) == (0, 1)
    # The last day is included; ranges are clipped to the days asked for.
    one = figures("2022-03-10", "2022-03-10", by="month", now=NOW)
    assert [p.label for p in one.periods] == ["2022-03"] and one.total.identified == 1
    assert figures("2022-03-09", "2022-03-09", by="month", now=NOW).total.identified == 0
    assert figures("2022-03-11", "2022-03-31", by="month", now=NOW).total.identified == 0


def test_commission_summary_answers_the_question(history):
    from suraksha.transparency.summary import QUESTION, commission_summary

    s = commission_summary("2022-01-01", "2025-12-31", now=NOW)
    assert s.question == QUESTION and "past four years" in s.question
    rows = {r.period: r for r in s.years}
    # Booked when it happened: I5 and I7 (posted 2024, found and reported in 2026) are not here.
    assert [(rows[y].identified, rows[y].deleted, rows[y].reported) for y in ("2022", "2023", "2024", "2025")] == [
        (2, 2, 1),
        (0, 0, 0),
        (1, 1, 0),
        (0, 0, 0),
    ]
    assert rows["2024"].found_retroactively == 0
    t = s.total
    assert (t.identified, t.deleted, t.reported, t.found_by_automated_tools) == (3, 3, 1, 2)
    assert t.automated_share == pytest.approx(2 / 3) and t.by_tool == {"hash": 1, "classifier": 1, "link": 0, "text": 0}
    assert s.automated_tools_used is True
    assert t.reported_to == {"ncmec": 1, "in_police": 1, "uk_nca": 0}
    assert rows["2022"].reported_to == {"ncmec": 1, "in_police": 1, "uk_nca": 0}
    # I3's link to CSAM is counted apart from posts depicting it.
    assert (t.links_to_csam, t.solicitation) == (1, 0)
    assert t.report_latency["ncmec"].count == 1 and t.report_latency["ncmec"].median_seconds == 3 * H
    assert t.report_latency["in_police"].median_seconds == 24 * H
    assert s.answer.startswith(
        "From 2022-01-01 to 2025-12-31, 3 posts depicting child sexual abuse or rape were "
        "identified, 3 were deleted and 1 were reported to the authorities (NCMEC 1, "
        "Indian police 1)."
    )
    assert "Automated tools used: yes; they found 2 of the 3 posts (66.7%): hash matching 1, image classifiers 1" in s.answer
    assert "Counted apart: 1 links to such material" in s.answer
    assert "NCMEC: 1 reports, median 3.0 h" in s.answer and "Indian police: 1 reports, median 24.0 h" in s.answer
    later = commission_summary("2022-01-01", "2026-11-30", now=NOW)
    assert later.total.found_retroactively == 2 and "2 of the posts were found retroactively" in later.answer


def test_compliance_report_for_india_by_ist_month(history):
    from suraksha.transparency.compliance import compliance_report

    c = compliance_report("2025-03-01", "2025-10-31", now=NOW)
    assert [m.month for m in c.months][:2] == ["2025-03", "2025-04"] and c.months[-1].month == "2025-10"
    assert any("Rule 4(1)(d)" in x for x in c.citations) and any("Rule 4(4)" in x for x in c.citations)
    march = c.months[0]
    assert march.value("Complaints received") == 1 and march.value("Complaints on which action was taken") == 1
    assert march.value("Items identified through complaints") == 1
    assert march.value("Answered within the deadline") == 1
    october = c.months[-1]
    assert october.value("Items removed or disabled after proactive monitoring with automated tools") == 1
    assert october.value("Items identified by hash signals") == 1
    assert october.value("Share of identified items found by automated tools") == 1.0
    assert c.months[1].value("Items identified by proactive monitoring") == 0


def test_empty_database_and_no_legal_requests_give_zeros(db_url):
    from suraksha.transparency.figures import figures
    from suraksha.transparency.summary import commission_summary

    f = figures("2022-01-01", "2022-12-31", by="quarter", now=NOW)
    assert len(f.periods) == 4 and f.total.identified == 0 and f.total.automated_share is None
    assert f.total.upload_to_removal.median_seconds is None and f.total.legal.received == 0
    s = commission_summary("2022-01-01", "2025-12-31", now=NOW)
    assert s.automated_tools_used is False and "Automated tools used: no." in s.answer


@pytest.mark.parametrize(
    ("start", "end", "by", "jurisdiction", "message"),
    [
        ("2025-12-31", "2022-01-01", "month", None, "is before 'from'"),
        ("2022-13-01", "2022-12-31", "month", None, "is not a date"),
        ("yesterday", "2022-12-31", "month", None, "is not a date"),
        ("1900-01-01", "1950-12-31", "year", None, "before 1990"),
        ("1990-01-01", "2026-11-30", "year", None, "longer than 30 years"),
        ("2027-01-01", "2027-12-31", "year", None, "in the future"),
        ("2022-01-01", "2022-12-31", "week", None, "'by' must be one of"),
        ("2022-01-01", "2022-12-31", "month", "fr", "unknown jurisdiction"),
    ],
)
def test_bad_periods_are_refused_with_the_reason(db_url, start, end, by, jurisdiction, message):
    from suraksha.transparency.figures import figures
    from suraksha.transparency.periods import PeriodError

    with pytest.raises(PeriodError, match=message):
        figures(start, end, by=by, jurisdiction=jurisdiction, now=NOW)


def test_a_review_calling_it_legal_adult_content_clears_it(db_url):
    """A csam hash match that a reviewer then decided is legal adult content: flagged (identified),
    cleared on review, and not in the commission's child-abuse count."""
    import pyotp
    from sqlalchemy import select

    from suraksha.auth.models import StaffUser
    from suraksha.auth.service import create_user
    from suraksha.cases.models import ReviewDecision, ReviewTask
    from suraksha.db import session_scope
    from suraksha.items.models import Item, ItemMatch
    from suraksha.policy.model import Fact, FactKind, MatchFact
    from suraksha.transparency.figures import figures

    create_user(
        "t-adult-reviewer",
        "reviewer",
        password="correct horse battery staple",
        totp_secret=pyotp.random_base32(),
        must_change_password=False,
    )
    at = utc(2023, 5, 1)
    with session_scope() as s:
        reviewer = s.scalar(select(StaffUser.id).where(StaffUser.username == "t-adult-reviewer"))
        fact = Fact(FactKind.HASH, "csam-match", match=MatchFact("b", "csam", "pdq", 3)).to_json()
        item = Item(
            platform_id="p-adult",
            kind="post",
            links=[],
            context={},
            status="done",
            created_at=at,
            received_at=at,
            verdict="review",
            reasons=[],
            facts=[fact],
            actions=[],
            text_hits=[],
            scanned_at=at,
        )
        s.add(item)
        s.flush()
        s.add(ItemMatch(item_id=item.id, bank="b", label="csam", signal_type="pdq", signal="x", distance=3))
        task = ReviewTask(item_id=item.id, queue="csam", status="done", reasons=[], created_at=at, due_at=at)
        s.add(task)
        s.flush()
        s.add(
            ReviewDecision(
                task_id=task.id,
                item_id=item.id,
                reviewer_id=reviewer,
                stage="primary",
                category="adult",
                annotation="",
                final=True,
                bank_result={},
                created_at=at,
            )
        )
    t = figures("2023-01-01", "2023-12-31", by="year", now=NOW).total
    # Cleared by a reviewer: flagged, not a finding.
    assert (t.identified, t.flagged, t.cleared_on_review, t.by_signal["hash"]) == (0, 1, 1, 0)
    assert t.abuse.identified == 0


def test_requests_from_people_and_ngos_are_complaints_orders_are_not(db_url):
    from suraksha.db import session_scope
    from suraksha.legal.models import LegalRequest
    from suraksha.transparency.figures import figures

    at = utc(2024, 6, 1, 9)
    with session_scope() as s:
        for n, (issuer, kind) in enumerate(
            [("ngo", "takedown_order"), ("user", "data_request"), ("police", "takedown_order"), ("court", "removal_request")]
        ):
            s.add(
                LegalRequest(
                    reference=f"LR-C-{n}",
                    type=kind,
                    jurisdiction="in",
                    issuer_kind=issuer,
                    received_at=at,
                    due_at=at + dt.timedelta(hours=3),
                    status="received",
                    created_by="test",
                )
            )
    t = figures("2024-06-01", "2024-06-30", by="month", jurisdiction="in", now=NOW).total
    # ngo + user by issuer; the court's removal_request by type; the police order is not a complaint.
    assert (t.complaints_received, t.complaints_actioned, t.legal.received, t.legal.open_overdue) == (3, 0, 4, 4)
