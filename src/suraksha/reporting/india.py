"""India: the POCSO rule 11 police report package (structured JSON + PDF).

POCSO Act 2012 s.19-21 and POCSO Rules 2020 rule 11(1) require anyone (an intermediary included)
who learns of child sexual abuse material to report it to the Special Juvenile Police Unit, the local
police or the national cyber-crime portal (cybercrime.gov.in), giving the material's source, the
device where it was noticed and the platform where it was displayed. There is no API: the package is
uploaded to the portal, emailed, or handed over in person, and the police answer with an
acknowledgement and, when they register a case, an FIR number. Suraksha builds the package, stores
it with the report, and records how and when it was sent and acknowledged (``reporting.service``).

One package per reported account and incident: every item of the account in the report, each file
with its hashes (and, when its bytes were not kept, why), the IP addresses and devices with their
times, the network of linked accounts the account belongs to, earlier reports on the same account,
and the FIR once the police give one. ``build_package`` is pure (plain data in, JSON-ready dict out);
``render_pdf`` lays the same data out as a letter to the Station House Officer followed by tables
the officer can work from. Times are given in IST (Asia/Kolkata), which is what the officer reads,
and in UTC.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from suraksha.policy.model import FactKind
from suraksha.reporting.subject import SubjectFacts, identification, unavailable_reason

FORMAT = "suraksha.in.pocso-rule11/2"
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


def _detected_by(items: list[SubjectFacts]) -> str:
    """What identified the material, from the verdicts' facts (data, not the words of their reasons)."""
    kinds = frozenset().union(*(f.detected_by for f in items)) if items else frozenset()
    words = [w for kind, w in _DETECTED_BY if kind in kinds]
    if words:
        return " and ".join(words)
    return "by a match against a hash bank of known material" if any(f.matches for f in items) else "by automated detection"


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


def _review(facts: SubjectFacts) -> dict[str, Any] | None:
    d = facts.decision
    if d is None:
        return None
    return {
        "category": d.category,
        "industry_class": d.industry_class,
        "decided_at": _times(d.decided_at),
        "reviewers": d.reviewers,
    }


def _item(facts: SubjectFacts, viewed: dict[tuple[int, int], Any]) -> dict[str, Any]:
    return {
        "platform_item_id": facts.platform_item_id,
        "item_kind": facts.item_kind,
        "displayed_at": facts.url,
        "surface": facts.surface,
        "publicly_available": facts.publicly_available,
        "posted_at": _times(facts.posted_at),
        "received_by_suraksha_at": _times(facts.received_at),
        "identified": _detected_by([facts]) + (" (found later by a rescan)" if facts.retroactive else ""),
        "review": _review(facts),
        "ip": facts.ip,
        "port": facts.port,
        "device_id": facts.device_id,
        "server": facts.context.get("server"),
        "country": facts.country,
        "files": [
            {
                "position": m.position,
                "file_name": m.file_name,
                "mime": m.mime,
                "size": m.size,
                "sha256": m.sha256,
                "md5": m.md5,
                "pdq": m.pdq,
                "matched": m.matched,
                "identified_by": identification(m) if m.matched else None,
                "preserved_evidence_id": m.evidence_id,
                "not_available": unavailable_reason(facts, m),
                "viewed_by_person_at": _times(viewed[(facts.item_id, m.position)].at)
                if (facts.item_id, m.position) in viewed
                else None,
            }
            for m in facts.media
        ],
    }


def _network_part(network: dict[str, Any] | None) -> dict[str, Any]:
    network = dict(network or {})
    if not network.get("looked_up"):
        return {"group_identifier": None, "note": f"network not looked up: {network.get('reason') or 'unknown'}"}
    if not network.get("group_identifier"):
        return {"group_identifier": None, "note": "the account is not linked to other accounts"}
    return {
        "group_identifier": network.get("group_identifier"),
        "accounts": network.get("size"),
        "truncated": network.get("truncated", False),
        "members": list(network.get("members") or []),
        "linked_by": dict(network.get("linked_by") or {}),
    }


def build_package(
    items: list[SubjectFacts] | SubjectFacts,
    *,
    reference: str,
    reporter: dict[str, Any],
    police_unit: str | None = None,
    fir_number: str | None = None,
    delivery: dict[str, Any] | None = None,
    generated_at: dt.datetime | None = None,
    supplemental_to: str | None = None,
    extra_info: str | None = None,
    prior_reports: list[dict[str, Any]] | None = None,
    network: dict[str, Any] | None = None,
    viewed: dict[tuple[int, int], Any] | None = None,
) -> dict[str, Any]:
    """The rule 11 package for one account and incident (``items``: the account's items in the
    report). ``delivery``: method (portal/email/in_person), reference, sent_at, acknowledged_at.
    Raises ValueError for a bad delivery method or no item."""
    from suraksha.jurisdictions import load_profile

    items = [items] if isinstance(items, SubjectFacts) else list(items)
    if not items:
        raise ValueError("a package needs at least one item")
    viewed = viewed or {}
    profile = load_profile("in")
    delivery = dict(delivery or {})
    method = delivery.get("method")
    if method is not None and method not in DELIVERY_METHODS:
        raise ValueError(f"delivery method must be one of {', '.join(DELIVERY_METHODS)}, not {method!r}")
    destination = "sjpu_or_local_police" if police_unit else "national_cybercrime_portal"
    dest = next((d for d in profile.reports if d.destination == destination), None)
    first = items[0]
    posted = sorted(f.posted_at for f in items if f.posted_at is not None)
    ip_events, devices, hosting, actions = [], [], [], []
    seen_devices: dict[str, dict[str, Any]] = {}
    for f in items:
        if f.ip:
            ip_events.append(
                {"ip": f.ip, "port": f.port, "event": "upload", "at": _times(f.posted_at), "platform_item_id": f.platform_item_id}
            )
        if f.device_id:
            entry = seen_devices.setdefault(
                f.device_id, {"device_id": f.device_id, "user_agent": f.context.get("user_agent"), "items": []}
            )
            entry["items"].append(f.platform_item_id)
        host = {"server": f.context.get("server"), "country": f.country}
        if host not in hosting:
            hosting.append(host)
        for a in f.actions:
            act = {"action": a.kind, "status": a.status, "acknowledged_at": _times(a.acknowledged_at)}
            if act not in actions:
                actions.append(act)
    devices = list(seen_devices.values())
    decided = [f for f in items if f.decision]
    files = sum(len(f.media) for f in items)
    summary = f"{len(items)} item(s) with {files} file(s) posted by one account, identified {_detected_by(items)}; " + (
        f"reviewed by a person as {', '.join(sorted({f.decision.category for f in decided if f.decision}))}"
        + ("" if len(decided) == len(items) else f" ({len(decided)} of {len(items)} items reviewed)")
        if decided
        else "not yet reviewed by a person"
    )
    return {
        "format": FORMAT,
        "reference": reference,
        "supplemental_to": supplemental_to,
        "generated_at": _times(generated_at or dt.datetime.now(dt.UTC)),
        "legal_basis": _citations(profile),
        "reporting_intermediary": reporter,
        "receiving_unit": {"name": police_unit, "destination": destination, "title": dest.title if dest else None},
        "fir_number": fir_number,
        "prior_reports": [
            {
                **p,
                "finished_at": _times(p.get("finished_at"))
                if isinstance(p.get("finished_at"), dt.datetime)
                else p.get("finished_at"),
            }
            for p in prior_reports or []
        ],
        "incident": {
            "summary": summary,
            "platform": reporter.get("platform"),
            "items": len(items),
            "files": files,
            "first_posted_at": _times(posted[0]) if posted else None,
            "last_posted_at": _times(posted[-1]) if posted else None,
        },
        "account": {
            "platform_account_id": first.platform_account_id,
            "handle": first.handle,
            "first_seen": _times(first.account_first_seen),
            "last_seen": _times(first.account_last_seen),
            "suspended_at": _times(next((f.suspended_at for f in items if f.suspended_at), None)),
        }
        if first.platform_account_id
        else None,
        "network": _network_part(network),
        "items": [_item(f, viewed) for f in items],
        "devices": devices,
        "network_evidence": ip_events,
        "hosting": hosting,
        "actions_taken": actions,
        "evidence_preservation": {
            "preserved": [m.evidence_id for f in items for m in f.media if m.evidence_id],
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
def _t(value: Any, zone: str) -> str:
    return value.get(zone, "-") if isinstance(value, dict) else "-"


def _v(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


class _Pdf:
    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_subject("Report of child sexual abuse material under POCSO Act 2012 s.19-21 and POCSO Rules 2020 rule 11")
        self.pdf.set_creator("Suraksha")
        if _FONT.is_file() and _FONT_BOLD.is_file():
            self.pdf.add_font("body", "", str(_FONT))
            self.pdf.add_font("body", "B", str(_FONT_BOLD))
            self.family = "body"
            self.clean = lambda s: s
        else:  # core font: Latin-1 only; the JSON keeps the exact values
            self.family = "helvetica"
            self.clean = lambda s: s.encode("latin-1", "replace").decode("latin-1")
        self.pdf.set_auto_page_break(True, margin=15)
        self.pdf.add_page()
        self.width = self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    def text(self, text: str, size: int = 10, bold: bool = False, height: float = 5.5) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(self.width, height, self.clean(text), new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self.text(text, 11, bold=True, height=7)

    def table(self, header: list[str], rows: list[list[Any]], widths: tuple[float, ...] | None = None) -> None:
        if not rows:
            self.text("None.", 9)
            return
        self.pdf.set_font(self.family, "", 7)
        with self.pdf.table(
            col_widths=widths or tuple([1.0] * len(header)), text_align="LEFT", line_height=4, first_row_as_headings=True
        ) as table:
            for values in [header, *rows]:
                row = table.row()
                for v in values:
                    row.cell(self.clean(_v(v)))

    def output(self) -> bytes:
        return bytes(self.pdf.output())


#: The tables after the letter, in order (the test checks every one is present).
TABLES = (
    "Table 1. Items posted by the account",
    "Table 2. Files and their hashes",
    "Table 3. IP addresses and times",
    "Table 4. Account and devices",
    "Table 5. Linked accounts (network)",
    "Table 6. Action taken by the platform",
    "Table 7. Earlier reports, delivery and acknowledgement",
    "Table 8. Legal basis",
)


def _letter(doc: _Pdf, p: dict[str, Any]) -> None:
    unit = p.get("receiving_unit") or {}
    reporter = p.get("reporting_intermediary") or {}
    account = p.get("account") or {}
    incident = p.get("incident") or {}
    network = p.get("network") or {}
    gen = p.get("generated_at") or {}
    doc.text("To", 10)
    doc.text("The Station House Officer / Officer in charge", 10)
    doc.text(_v(unit.get("name") or unit.get("title") or "National Cyber Crime Reporting Portal (cybercrime.gov.in)"), 10)
    doc.pdf.ln(3)
    doc.text(f"Date: {_t(gen, 'ist')}  ({_t(gen, 'utc')} UTC)", 9)
    doc.text(f"Our reference: {p.get('reference')}" + (f"    FIR: {p['fir_number']}" if p.get("fir_number") else ""), 9)
    if p.get("supplemental_to"):
        doc.text(f"Supplementary to our report {p['supplemental_to']}", 9)
    doc.pdf.ln(2)
    who = _v(account.get("platform_account_id")) + (f" ({account['handle']})" if account.get("handle") else "")
    doc.text(
        "Subject: Report of child sexual abuse material under section 19 of the POCSO Act, 2012 and rule 11 of the "
        f"POCSO Rules, 2020: account {who} on {_v(incident.get('platform'))}",
        10,
        bold=True,
    )
    doc.pdf.ln(2)
    doc.text("Sir/Madam,", 10)
    when = ""
    if incident.get("first_posted_at"):
        first, last = incident["first_posted_at"], incident.get("last_posted_at") or incident["first_posted_at"]
        when = f" between {_t(first, 'ist')} and {_t(last, 'ist')}" if first != last else f" on {_t(first, 'ist')}"
    lines = [
        f"{_v(reporter.get('organisation'))}, an intermediary operating {_v(incident.get('platform'))}, reports material "
        f"identified as child sexual abuse material posted by the account {who}{when}: {incident.get('summary')}.",
    ]
    if network.get("group_identifier"):
        lines.append(
            f"The account is linked to {_v(network.get('accounts'))} accounts in all (group {network['group_identifier']}); "
            "they are listed in Table 5."
        )
    if p.get("prior_reports"):
        lines.append(
            "This account was reported before: "
            + ", ".join(
                f"{r.get('reference')}" + (f" (FIR {r['fir_number']})" if r.get("fir_number") else "") for r in p["prior_reports"]
            )
            + "."
        )
    done = [a for a in p.get("actions_taken") or [] if a.get("status") == "acknowledged"]
    if done:
        lines.append(
            "The platform has taken the actions in Table 6 (" + ", ".join(a["action"].replace("_", " ") for a in done) + ")."
        )
    lines.append(
        "Copies of the material and the records are preserved "
        f"({(p.get('evidence_preservation') or {}).get('retention') or 'IT Rules 2021, Rule 3(1)(g)'}) and will be produced on a "
        "lawful request; the material itself is not attached to this letter. Where a file was not kept, Table 2 gives its "
        "hashes and the reason. Times are given in IST with UTC alongside."
    )
    for line in lines:
        doc.text(line, 10)
        doc.pdf.ln(1)
    doc.pdf.ln(2)
    doc.text("Yours faithfully,", 10)
    doc.text(_v(reporter.get("contact_person")) + f", for {_v(reporter.get('organisation'))}", 10)
    contact = "  ".join(_v(reporter.get(k)) for k in ("email", "phone") if reporter.get(k))
    if contact:
        doc.text(contact, 9)
    if reporter.get("address"):
        doc.text(str(reporter["address"]), 9)


def render_pdf(package: dict[str, Any]) -> bytes:
    """A printable copy of the package (A4): a letter to the Station House Officer, then tables.
    The JSON stays the authoritative, complete form."""
    p = package
    doc = _Pdf(f"POCSO rule 11 report {p.get('reference')}")
    _letter(doc, p)
    items = p.get("items") or []
    doc.heading(TABLES[0])
    doc.table(
        ["No.", "Item", "Kind", "Where displayed", "Posted (IST)", "Posted (UTC)", "Public", "Identified", "Review"],
        [
            [
                n,
                i.get("platform_item_id"),
                i.get("item_kind"),
                " ".join(x for x in (i.get("displayed_at"), i.get("surface") and f"({i['surface']})") if x) or None,
                _t(i.get("posted_at"), "ist"),
                _t(i.get("posted_at"), "utc"),
                {True: "yes", False: "no"}.get(i.get("publicly_available"), "not known"),
                i.get("identified"),
                (i["review"]["category"] + (f" {i['review']['industry_class']}" if i["review"].get("industry_class") else ""))
                if i.get("review")
                else "not reviewed",
            ]
            for n, i in enumerate(items, 1)
        ],
        (0.5, 1.2, 0.7, 1.8, 1.3, 1.6, 0.6, 2.0, 0.9),
    )
    doc.heading(TABLES[1])
    doc.table(
        ["Item", "File", "Name", "SHA-256 / MD5", "Identified by", "Preserved copy or why not"],
        [
            [
                i.get("platform_item_id"),
                f["position"],
                f.get("file_name"),
                f"{_v(f.get('sha256'))} / {_v(f.get('md5'))}",
                f.get("identified_by") or ("not matched" if not f.get("matched") else None),
                f.get("preserved_evidence_id") or f"not available: {f.get('not_available')}",
            ]
            for i in items
            for f in i.get("files") or []
        ],
        (1.1, 0.4, 1.1, 2.6, 2.2, 2.0),
    )
    doc.heading(TABLES[2])
    doc.table(
        ["IP address", "Port", "Event", "Time (IST)", "Time (UTC)", "Item"],
        [
            [
                e.get("ip"),
                e.get("port"),
                e.get("event"),
                _t(e.get("at"), "ist"),
                _t(e.get("at"), "utc"),
                e.get("platform_item_id"),
            ]
            for e in p.get("network_evidence") or []
        ],
        (1.3, 0.5, 0.6, 1.4, 1.8, 1.2),
    )
    doc.heading(TABLES[3])
    account = p.get("account") or {}
    doc.table(
        ["Field", "Value"],
        [
            ["Account id on the platform", account.get("platform_account_id")],
            ["Handle", account.get("handle")],
            ["First seen", f"{_t(account.get('first_seen'), 'ist')} ({_t(account.get('first_seen'), 'utc')})"],
            ["Last seen", f"{_t(account.get('last_seen'), 'ist')} ({_t(account.get('last_seen'), 'utc')})"],
            ["Suspended", f"{_t(account.get('suspended_at'), 'ist')} ({_t(account.get('suspended_at'), 'utc')})"],
        ]
        + [
            [f"Device {d.get('device_id')}", f"user agent {_v(d.get('user_agent'))}; items {', '.join(d.get('items') or [])}"]
            for d in p.get("devices") or []
        ]
        + [
            [f"Hosting {n}", f"server {_v(h.get('server'))}, country {_v(h.get('country'))}"]
            for n, h in enumerate(p.get("hosting") or [], 1)
        ],
        (1.0, 2.5),
    )
    doc.heading(TABLES[4])
    network = p.get("network") or {}
    if network.get("group_identifier"):
        doc.text(
            f"Group {network['group_identifier']}: {_v(network.get('accounts'))} accounts"
            + (" (list truncated)" if network.get("truncated") else ""),
            9,
        )
        doc.table(
            ["Account", "Handle", "Linked by"],
            [
                [m.get("platform_account_id"), m.get("handle"), ", ".join(m.get("linked_by") or [])]
                for m in network.get("members") or []
            ],
            (1.2, 1.2, 2.5),
        )
    else:
        doc.text(_v(network.get("note")), 9)
    doc.heading(TABLES[5])
    doc.table(
        ["Action", "Status", "Acknowledged (IST)", "Acknowledged (UTC)"],
        [
            [a.get("action"), a.get("status"), _t(a.get("acknowledged_at"), "ist"), _t(a.get("acknowledged_at"), "utc")]
            for a in p.get("actions_taken") or []
        ],
    )
    doc.heading(TABLES[6])
    delivery = p.get("delivery") or {}
    doc.table(
        ["What", "Value"],
        [
            [
                f"Earlier report {r.get('reference')}",
                f"acknowledgement {_v(r.get('acknowledgement'))}, FIR {_v(r.get('fir_number'))}",
            ]
            for r in p.get("prior_reports") or []
        ]
        + [
            ["FIR number", p.get("fir_number")],
            ["Sent by", delivery.get("method")],
            ["Delivery reference", delivery.get("reference")],
            ["Sent at", f"{_t(delivery.get('sent_at'), 'ist')} ({_t(delivery.get('sent_at'), 'utc')})"],
            ["Acknowledged at", f"{_t(delivery.get('acknowledged_at'), 'ist')} ({_t(delivery.get('acknowledged_at'), 'utc')})"],
            ["Additional information", p.get("additional_information")],
        ],
        (1.0, 2.5),
    )
    doc.heading(TABLES[7])
    doc.table(
        ["Legal basis", "Citation"],
        [[c.get("legal_basis"), c.get("citation")] for c in p.get("legal_basis") or []],
        (1.5, 2.5),
    )
    return doc.output()
