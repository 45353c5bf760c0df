"""Fixtures for the legal area: a PDF order, agencies, officers' requests."""

from __future__ import annotations

import datetime as dt

import pytest
from fpdf import FPDF

from suraksha.legal.settings import reset_legal_settings

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def make_pdf(text: str = "Notice under Rule 3(1)(j), FIR 123/2026") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


@pytest.fixture(autouse=True)
def _fresh_legal_settings():
    reset_legal_settings()
    yield
    reset_legal_settings()


@pytest.fixture
def order_pdf() -> bytes:
    return make_pdf()


@pytest.fixture
def agencies(db_url):
    """Two police agencies: A (Mumbai cyber police) and B (Delhi police)."""
    from suraksha import legal

    a = legal.register_agency("Cyber Police Station, Mumbai", "police", "in", ["mhpolice.gov.in"], "user:admin")
    b = legal.register_agency("Delhi Police IFSO", "police", "in", ["delhipolice.gov.in"], "user:admin")
    return a, b
