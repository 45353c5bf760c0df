"""Legal demo data: one fictional agency, its signed-up officer and a few requests, so that after
`make run` the staff dashboard (/legal) shows every urgency group and the officers' portal
(/portal) can be tried with known credentials.

Demo mode only (``suraksha.demo.seed_demo`` refuses production, and so does this module). The
officer's password and TOTP secret are fixed, like the staff demo users', and shown on the demo
/portal/login page. Every value is fictional and reserved: the agency's domain is
``police.example``, targets are on ``platform.example``, addresses in 203.0.113.0/24 and
198.51.100.0/24 (RFC 5737). Requests go through the legal service (checks, clock, vault, history);
their receipt times are set in the past through ``received_at`` so the clocks are already running.
Running it again files nothing new: each demo request is known by its case number.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from suraksha.db.base import utcnow
from suraksha.errors import Forbidden

DEMO_AGENCY_NAME = "Demo Cyber Crime Police Station (fictional)"
DEMO_AGENCY_DOMAIN = "police.example"
DEMO_ACTOR = "system:demo"
DEMO_CASE_SUFFIX = "(demo)"


@dataclass(frozen=True)
class DemoOfficer:
    email: str
    name: str
    rank: str
    password: str
    totp_secret: str


# A fixed base32 secret so the demo officer's codes are reproducible; demo mode only.
DEMO_OFFICER = DemoOfficer(
    email=f"demo.officer@{DEMO_AGENCY_DOMAIN}",
    name="Demo Officer",
    rank="Deputy Inspector General",
    password="demo-officer-password",
    totp_secret=base64.b32encode(b"suraksha-demo-portal-officer").decode().rstrip("=")[:32],
)


@dataclass(frozen=True)
class DemoRequest:
    """One demo request; ``age`` is how long ago it was received (its clock is that far along)."""

    case_number: str
    type: str
    age: dt.timedelta
    summary: str
    targets: tuple[tuple[str, str], ...]
    data_points: tuple[str, ...] = ()
    legal_basis: str = ""
    portal: bool = False  # filed by the demo officer on the portal (else entered by staff from email)
    work: str | None = None  # "preserve": answered by preserving and holding the evidence


DEMO_REQUESTS = (
    # Received on the portal 20 minutes ago: 72 h clock, plenty of time ("due").
    DemoRequest(
        "FIR 101/2026 " + DEMO_CASE_SUFFIX,
        "data_request",
        dt.timedelta(minutes=20),
        "Demo: subscriber details and IP logs of an account that posted a reported link.",
        (("url", "https://platform.example/u/demo-account-1"),),
        ("subscriber_data", "ip_logs"),
        "IT Rules 2021 Rule 3(1)(j); BNSS s.94",
        portal=True,
    ),
    # A 3-hour takedown order received 1 h 45 min ago: past half its period ("at risk").
    DemoRequest(
        "FIR 102/2026 " + DEMO_CASE_SUFFIX,
        "takedown_order",
        dt.timedelta(hours=1, minutes=45),
        "Demo: remove two reported posts (fictional; reserved example addresses).",
        (("url", "https://platform.example/p/demo-post-2"), ("url", "http://203.0.113.20/demo/gallery")),
        legal_basis="IT Rules 2021 Rule 3(1)(d)",
    ),
    # A 36-hour removal request received 40 hours ago ("overdue").
    DemoRequest(
        "FIR 103/2026 " + DEMO_CASE_SUFFIX,
        "removal_request",
        dt.timedelta(hours=40),
        "Demo: remove a post (fictional); nobody has acted on it yet.",
        (("url", "https://platform.example/p/demo-post-3"),),
        legal_basis="IT Rules 2021 Rule 3(1)(b)",
    ),
    # A preservation request received 6 hours ago, answered by holding the evidence ("answered").
    DemoRequest(
        "FIR 104/2026 " + DEMO_CASE_SUFFIX,
        "preservation_request",
        dt.timedelta(hours=6),
        "Demo: preserve the records of an account seen at 198.51.100.7 (fictional).",
        (("url", "https://platform.example/u/demo-account-4"),),
        legal_basis="IT Rules 2021 Rule 3(1)(g); IT Act s.67C",
        work="preserve",
    ),
)


def demo_pdf(case_number: str, summary: str) -> bytes:
    """A one-page PDF standing in for the signed order, marked as a fictional demo document."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=14)
    pdf.multi_cell(0, 9, "DEMO DOCUMENT - FICTIONAL, NOT A REAL ORDER", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(
        0, 7, f"{DEMO_AGENCY_NAME}\nCase: {case_number}\n\n{summary}\n\nSigned: {DEMO_OFFICER.name}, {DEMO_OFFICER.rank}"
    )
    return bytes(pdf.output())


def _refuse_production() -> None:
    from suraksha.config import get_settings

    if get_settings().mode == "production":
        raise Forbidden("refusing to seed legal demo data in production mode (SURAKSHA_MODE=production)")


def _demo_agency() -> tuple[int, bool]:
    """The demo agency's id, registering it when missing; and whether it was created."""
    from suraksha import legal

    for agency in legal.list_agencies():
        if agency.name == DEMO_AGENCY_NAME:
            return agency.id, False
    return legal.register_agency(DEMO_AGENCY_NAME, "police", "in", [DEMO_AGENCY_DOMAIN], DEMO_ACTOR).id, True


def _demo_officer(agency_id: int) -> tuple[int, bool]:
    """The demo officer's id, signing them up when missing; and whether anything changed.

    Sign-up goes through the portal's own steps (register, confirmation link, password, first
    code), except that the authenticator secret is the fixed demo one instead of a random one."""
    from urllib.parse import parse_qs, urlparse

    import pyotp
    from sqlalchemy import select

    from suraksha.db.session import session_scope
    from suraksha.legal import officers

    with session_scope() as session:
        row = session.scalar(select(officers.Officer).where(officers.Officer.email == DEMO_OFFICER.email))
        if row is not None and row.mfa_enrolled_at is not None:
            return row.id, False
    view = officers.register_officer(
        agency_id,
        DEMO_OFFICER.email,
        DEMO_OFFICER.name,
        DEMO_OFFICER.rank,
        authority=DEMO_AUTHORITY_PDF,
        authority_name="demo-authorisation.pdf",
        mode="demo",
    )
    officers.approve_officer(view.id, "system:demo", "legal", "demo officer: authorisation letter is the demo's")
    message = officers.outbox(DEMO_OFFICER.email, unsent_only=True)[-1]
    token = parse_qs(urlparse(message.link or "").query)["token"][0]
    officers.set_password_and_begin_enrolment(token, DEMO_OFFICER.password)
    with session_scope() as session:
        session.get(officers.Officer, view.id).totp_secret = officers.seal_totp_secret(view.id, DEMO_OFFICER.totp_secret)
    # The previous step's code: the current one (shown on /portal/login) stays unused for sign-in.
    officers.complete_enrolment(token, pyotp.TOTP(DEMO_OFFICER.totp_secret).at(utcnow().timestamp() - 30))
    officers.mark_sent([message.id])  # delivered, in the demo's sense: the link is used up
    return view.id, True


# A one-page PDF saying what it is (a demo authorisation letter), small enough to keep inline.
DEMO_AUTHORITY_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%% demo authorisation letter\n%%EOF\n"
)


def _file(spec: DemoRequest, agency_id: int, officer_id: int, now: dt.datetime) -> None:
    from suraksha import legal

    data = legal.RequestIn(
        type=spec.type,
        jurisdiction="in",
        channel="portal" if spec.portal else "email",
        agency_id=agency_id,
        officer_id=officer_id if spec.portal else None,
        officer_name=DEMO_OFFICER.name,
        officer_rank=DEMO_OFFICER.rank,
        officer_email=DEMO_OFFICER.email,
        issuer_kind="police",
        case_number=spec.case_number,
        legal_basis=spec.legal_basis,
        summary=spec.summary,
        received_at=now - spec.age,
        targets=[legal.TargetIn(kind=k, value=v) for k, v in spec.targets],
        data_points=list(spec.data_points),
    )
    actor = f"officer:{officer_id}" if spec.portal else DEMO_ACTOR
    view = legal.file_request(
        data, actor, document=demo_pdf(spec.case_number, spec.summary), document_name=f"{spec.type}-demo.pdf", now=now
    )
    if spec.work == "preserve":
        legal.preserve_for_request(view.id, DEMO_ACTOR)


def seed_legal_demo() -> list[str]:
    """Create what is missing of the legal demo; returns one line per thing created (empty when
    everything was already there)."""
    _refuse_production()
    from suraksha import legal

    lines: list[str] = []
    agency_id, created = _demo_agency()
    if created:
        lines.append(f"legal demo: registered agency {DEMO_AGENCY_NAME!r} (domain {DEMO_AGENCY_DOMAIN})")
    officer_id, created = _demo_officer(agency_id)
    if created:
        lines.append(f"legal demo: officer {DEMO_OFFICER.email} can sign in at /portal/login (credentials shown there)")
    have = {r.case_number for r in legal.list_requests(agency_id=agency_id, limit=1000)}
    now = utcnow()
    filed = [spec for spec in DEMO_REQUESTS if spec.case_number not in have]
    for spec in filed:
        _file(spec, agency_id, officer_id, now)
    if filed:
        lines.append(f"legal demo: {len(filed)} requests on the deadlines dashboard (/legal, sign in as demo-legal)")
    return lines
