"""The demo seed's legal escalations go to staff with the legal role (issue 14: "nodal → :" was an
escalation to nobody, made before any staff user existed), and a second seed makes none twice."""

from __future__ import annotations


def test_seed_escalates_demo_requests_to_legal_staff(db_url):
    from sqlalchemy import select

    from suraksha.db import session_scope
    from suraksha.demo import seed_demo
    from suraksha.legal.models import LegalNotification

    first = seed_demo()
    assert any(line.startswith("escalation: ") for line in first.lines), first.lines
    with session_scope() as s:
        made = s.scalars(select(LegalNotification)).all()
        assert made and all(n.recipients for n in made)
        assert all(r == "user:demo-legal" for n in made for r in n.recipients)
        count = len(made)
    again = seed_demo()
    assert not any(line.startswith("escalation: ") for line in again.lines)
    with session_scope() as s:
        assert len(s.scalars(select(LegalNotification)).all()) == count
