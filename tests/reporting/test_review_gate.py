"""A final decision in any reportable category lets its report go; the others withdraw it."""

from __future__ import annotations

import datetime as dt

import pytest

from suraksha.cases import service as cases_service
from suraksha.reporting import service, subject
from suraksha.reporting.subject import DecisionFacts


@pytest.mark.parametrize(
    ("category", "filed"),
    [("csam", True), ("csam_link", True), ("grooming", True), ("sextortion", True), ("not_violating", False), ("adult", False)],
)
def test_each_reportable_category_is_filed_and_the_others_withdrawn(monkeypatch, category, filed):
    decision = DecisionFacts(category, None, dt.datetime(2026, 12, 1, tzinfo=dt.UTC), 2, "")
    monkeypatch.setattr(subject, "decision_for", lambda item_id: decision)
    monkeypatch.setattr(cases_service, "decision_satisfies_report_rule", lambda item_id, two_person: True)
    ok, why = service.review_gate("ncmec", 1)
    assert ok is filed, why
    assert (category in why) if filed else ("not reportable" in why)
