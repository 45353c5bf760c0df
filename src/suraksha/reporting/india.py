"""India: the POCSO rule 11 police report package (structured JSON + PDF).

POCSO Act 2012 s.19-21 and POCSO Rules 2020 rule 11(1) require anyone (an intermediary included)
who learns of child sexual abuse material to report it to the Special Juvenile Police Unit, the local
police or the national cyber-crime portal (cybercrime.gov.in), giving the material's source, the
device where it was noticed and the platform where it was displayed. There is no API: the package is
uploaded to the portal, emailed, or handed over in person, and the police answer with an
acknowledgement and, when they register a case, an FIR number. Suraksha builds the package, stores
it with the report, and records how and when it was sent and acknowledged (``reporting.service``).

``build_package`` is pure (plain data in, JSON-ready dict out); ``render_pdf`` lays the same data out
for a printed copy. Times are given in UTC and in IST (Asia/Kolkata), which is what the officer reads.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from suraksha.policy.model import FactKind
from suraksha.reporting.subject import SubjectFacts

FORMAT = "suraksha.in.pocso-rule11/1"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
DELIVERY_METHODS = ("portal", "email", "in_person")
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def _times(at: dt.datetime | None) -> dict[str, str] | None:
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return {"utc": at.astimezone(dt.UTC).isoformat(), "ist": at.astimezone(IST).strftime("%d-%m-%Y %H:%M:%S IST")}


#: How the package says what identified the material, per kind of fact that fired, in this order.
_DETECTED_BY = (
    (FactKind.HASH, "by a match against a hash bank of known material"),
    (FactKind.LINK, "by a link to known material"),
    (FactKind.CLASSIFIER, "by an automated classifier"),
    (FactKind.TEXT, "by the words of its text"),
    (FactKind.USER_REPORT, "after a user reported it"),
)


def _detected_by(facts: SubjectFacts) -> str:
    """What identified the material, from the verdict's facts (data, not the words of its reasons)."""
    kinds = facts.detected_by
    words = [w for kind, w in _DETECTED_BY if kind in kinds]
    if words:
        return " and ".join(words)
    return "by a match against a hash bank of known material" if facts.matches else "by automated detection"


def _citations(profile: Any) -> list[dict[str, str]]:
    out = []
    rule = profile.deadlines.get("csam_report")
    if rule is not None:
        out.append({"legal_basis": rule.legal_basis, "citation": rule.citation, "verified": rule.verified})
    for dest in profile.reports:
        out.append({"legal_basis": dest.legal_basis, "citation": dest.citation, "verified": dest.verified})
    ev = profile.retention.get("evidence")
    if ev is not None:
        out.append({"legal_basis": "IT Rules 2021, Rule 3(1)(g)", "citation": ev.citation, "verified": ev.verified})
    return out


def build_package(
    facts: SubjectFacts,
    *,
    reference: str,
    reporter: dict[str, Any],
    police_unit: str | None = None,
    fir_number: str | None = None,
    delivery: dict[str, Any] | None = None,
    generated_at: dt.datetime | None = None,
    supplemental_to: str | None = None,
    extra_info: str | None = None,
) -> dict[str, Any]:
    """The rule 11 package for one subject. ``delivery``: method (portal/email/in_person), reference,
    sent_at, acknowledged_at. Raises ValueError for a bad delivery method."""
    from suraksha.jurisdictions import load_profile

    profile = load_profile("in")
    delivery = dict(delivery or {})
    method = delivery.get("method")
    if method is not None and method not in DELIVERY_METHODS:
        raise ValueError(f"delivery method must be one of {', '.join(DELIVERY_METHODS)}, not {method!r}")
    destination = "sjpu_or_local_police" if police_unit else "national_cybercrime_portal"
    dest = next((d for d in profile.reports if d.destination == destination), None)
    ip_events = []
    if facts.ip:
        ip_events.append({"ip": facts.ip, "port": facts.port, "event": "upload", "at": _times(facts.posted_at)})
    return {
        "format": FORMAT,
        "reference": reference,
        "supplemental_to": supplemental_to,
        "generated_at": _times(generated_at or dt.datetime.now(dt.UTC)),
        "legal_basis": _citations(profile),
        "reporting_intermediary": reporter,
        "receiving_unit": {
            "name": police_unit,
            "destination": destination,
            "title": dest.title if dest else None,
        },
        "fir_number": fir_number,
        "material": {
            "summary": "Material identified as child sexual abuse material"
            + (
                f" (review: {facts.decision.category}"
                + (f", industry class {facts.decision.industry_class}" if facts.decision.industry_class else "")
                + ")"
                if facts.decision
                else f" {_detected_by(facts)} (not yet reviewed by a person)"
            ),
            "detection": [
                {
                    "method": f"{m['signal_type']} match",
                    "bank": m["bank"],
                    "label": m["label"],
                    "distance": m["distance"],
                    "media_position": m["media_position"],
                }
                for m in facts.matches
            ],
            "files": [
                {
                    "position": m.position,
                    "mime": m.mime,
                    "size": m.size,
                    "sha256": m.sha256,
                    "md5": m.md5,
                    "pdq": m.pdq,
                    "matched": m.matched,
                    "preserved_evidence_id": m.evidence_id,
                }
                for m in facts.media
            ],
            "review": {
                "category": facts.decision.category,
                "industry_class": facts.decision.industry_class,
                "decided_at": _times(facts.decision.decided_at),
                "reviewers": facts.decision.reviewers,
            }
            if facts.decision
            else None,
        },
        "source": {
            "platform": reporter.get("platform"),
            "platform_item_id": facts.platform_item_id,
            "item_kind": facts.item_kind,
            "displayed_at": facts.url,
            "surface": facts.context.get("surface"),
            "posted_at": _times(facts.posted_at),
            "received_by_suraksha_at": _times(facts.received_at),
        },
        "account": {
            "platform_account_id": facts.platform_account_id,
            "handle": facts.handle,
            "first_seen": _times(facts.account_first_seen),
            "last_seen": _times(facts.account_last_seen),
            "suspended_at": _times(facts.suspended_at),
        }
        if facts.platform_account_id
        else None,
        "device": {
            "device_id": facts.device_id,
            "user_agent": facts.context.get("user_agent"),
        },
        "network_evidence": ip_events,
        "hosting": {"server": facts.context.get("server"), "country": facts.country},
        "actions_taken": [
            {"action": a.kind, "status": a.status, "acknowledged_at": _times(a.acknowledged_at)} for a in facts.actions
        ],
        "evidence_preservation": {
            "preserved": [m.evidence_id for m in facts.media if m.evidence_id],
            "retention": profile.retention["evidence"].citation,
        },
        "additional_information": extra_info,
        "delivery": {
            "method": method,
            "reference": delivery.get("reference"),
            "sent_at": _times(delivery.get("sent_at")),
            "acknowledged": delivery.get("acknowledged_at") is not None,
            "acknowledged_at": _times(delivery.get("acknowledged_at")),
        },
    }


# --------------------------------------------------------------------------- PDF
def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        if set(value) == {"utc", "ist"}:
            return [(prefix, f"{value['ist']}  ({value['utc']})")]
        for k, v in value.items():
            rows += _flatten(v, f"{prefix}.{k}" if prefix else k)
        return rows
    if isinstance(value, list):
        if not value:
            return [(prefix, "-")]
        rows = []
        for i, v in enumerate(value, 1):
            rows += _flatten(v, f"{prefix} {i}")
        return rows
    return [(prefix, "-" if value is None or value == "" else str(value))]


_SECTIONS = [
    ("1. Receiving police unit and case", ["receiving_unit", "fir_number", "delivery"]),
    ("2. Reporting intermediary", ["reporting_intermediary"]),
    ("3. The material", ["material"]),
    ("4. Source: platform and where it was displayed", ["source"]),
    ("5. Account it came from", ["account"]),
    ("6. Device", ["device"]),
    ("7. IP address and time evidence", ["network_evidence", "hosting"]),
    ("8. Action taken by the platform", ["actions_taken", "evidence_preservation"]),
    ("9. Additional information", ["additional_information", "supplemental_to"]),
    ("10. Legal basis", ["legal_basis"]),
]


def render_pdf(package: dict[str, Any]) -> bytes:
    """A printable copy of the package (A4). The JSON stays the authoritative, complete form."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_title(f"POCSO rule 11 report {package.get('reference')}")
    pdf.set_subject("Report of child sexual abuse material under POCSO Act 2012 s.19-21 and POCSO Rules 2020 rule 11")
    pdf.set_creator("Suraksha")
    if _FONT.is_file() and _FONT_BOLD.is_file():
        pdf.add_font("body", "", str(_FONT))
        pdf.add_font("body", "B", str(_FONT_BOLD))
        family, clean = "body", (lambda s: s)
    else:  # core font: Latin-1 only; the JSON keeps the exact values
        family, clean = "helvetica", (lambda s: s.encode("latin-1", "replace").decode("latin-1"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(family, "B", 14)
    pdf.multi_cell(
        width,
        8,
        clean("Report of child sexual abuse material (POCSO Act 2012 s.19-21; POCSO Rules 2020 rule 11)"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(family, "", 10)
    gen = package.get("generated_at") or {}
    pdf.multi_cell(
        width,
        6,
        clean(f"Reference: {package.get('reference')}    Generated: {gen.get('ist', '-')}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    for title, keys in _SECTIONS:
        pdf.set_font(family, "B", 11)
        pdf.multi_cell(width, 7, clean(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)
        for key in keys:
            for label, text in _flatten(package.get(key), key):
                pdf.multi_cell(width, 5, clean(f"{label.replace('_', ' ')}: {text}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())
