"""Nothing about banks or agencies is visible without signing in (issue 14.4): the landing page
lists no bank, the officers' registration page lists no agency or domain, and its answers name an
agency only to someone who typed an address on that agency's domain."""

from __future__ import annotations

import re


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert m, html
    return m.group(1)


def test_landing_page_shows_no_bank(fake_client):
    from suraksha.matching.banks import SignalRow, add_signals, create_bank

    create_bank("hidden-bank-7f3", "csam")
    add_signals("hidden-bank-7f3", [SignalRow("md5", "d41d8cd98f00b204e9800998ecf8427e")])
    r = fake_client.get("/")
    assert r.status_code == 200
    assert "hidden-bank-7f3" not in r.text and "csam" not in r.text
    assert 'href="/login"' in r.text and 'href="/portal/"' in r.text  # the ways forward stay


def _authority_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="Authorisation: the bearer may send notices to intermediaries")
    return bytes(pdf.output())


def _register(client, email: str, agency_id: str = "") -> str:
    page = client.get("/portal/register")
    assert page.status_code == 200
    r = client.post(
        "/portal/register",
        data={
            "csrf_token": _csrf(page.text),
            "agency_id": agency_id,
            "email": email,
            "name": "A Officer",
            "rank": "Deputy Inspector General",
        },
        files={"authority": ("authority.pdf", _authority_pdf(), "application/pdf")},  # the portal may ask for it
    )
    return r.text


def test_registration_lists_no_agency_and_finds_it_by_domain(fake_client):
    from suraksha import legal
    from suraksha.legal import officers

    one = legal.register_agency("Hidden Cyber Cell", "police", "in", ["cell-7f3.gov.in"], "tests")
    two = legal.register_agency("Shared Unit North", "police", "in", ["shared-7f3.gov.in"], "tests")
    three = legal.register_agency("Shared Unit South", "police", "in", ["shared-7f3.gov.in"], "tests")

    page = fake_client.get("/portal/register").text
    for secret in ("Hidden Cyber Cell", "cell-7f3.gov.in", "Shared Unit", "shared-7f3.gov.in"):
        assert secret not in page
    assert 'name="agency_id"' not in page

    # A stranger's address: no agency named, none of their domains either.
    text = _register(fake_client, "someone@gmail.com")
    assert "gmail.com is not an official email domain" in text
    assert "Hidden Cyber Cell" not in text and "cell-7f3" not in text
    # Naming another agency's id by hand reveals nothing either.
    text = _register(fake_client, "someone@gmail.com", agency_id=str(one.id))
    assert "Hidden Cyber Cell" not in text and "cell-7f3" not in text

    # The agency's own domain: registered with that agency, no choice needed.
    text = _register(fake_client, "si.one@cell-7f3.gov.in")
    assert officers.outbox("si.one@cell-7f3.gov.in"), "the confirmation link was sent"

    # A domain two agencies share: only those two are offered, then the chosen one is used.
    text = _register(fake_client, "si.two@shared-7f3.gov.in")
    assert "choose yours" in text and "Shared Unit North" in text and "Shared Unit South" in text
    assert "Hidden Cyber Cell" not in text
    assert not officers.outbox("si.two@shared-7f3.gov.in")
    _register(fake_client, "si.two@shared-7f3.gov.in", agency_id=str(three.id))
    assert officers.outbox("si.two@shared-7f3.gov.in")
    assert two.id != three.id
