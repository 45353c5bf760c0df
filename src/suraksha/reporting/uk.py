"""UK: the report of CSEA content to the National Crime Agency (Online Safety Act 2023 s.66).

s.66 obliges regulated providers to report detected, unreported CSEA content to the NCA; the
content and form of reports are set by regulations under s.67 and the submission route is the
NCA's own reporting service for providers (a portal), not a public API Suraksha could call. So, as
for India, Suraksha builds the report from the same facts, stores it with the report row, and a
person submits it and records the NCA's reference (``reporting.service``). ``FIELD_MAP`` says
which Suraksha fact fills which part; docs/enforcement.md repeats it for operators.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from suraksha.reporting.subject import SubjectFacts

FORMAT = "suraksha.uk.nca-csea/1"

#: NCA report part -> where Suraksha takes it from.
FIELD_MAP: dict[str, str] = {
    "reporting_organisation": "SURAKSHA_REPORTER_* settings (platform, organisation, contact person)",
    "content.files": "item_media hashes (SHA-256, MD5, PDQ), size and type; evidence vault id of the preserved copy",
    "content.detection": "item_matches (bank, label, signal type, distance)",
    "content.assessment": "the final review decision (category, industry class A1/A2/B1/B2, reviewers)",
    "incident": "the item: platform id, kind, where displayed (context.url), posted time, hosting server",
    "suspect_user": "the account: platform id, handle, first/last seen, suspension time",
    "suspect_user.ip_events": "item context ip/port at the posting time",
    "suspect_user.devices": "item context device_id, user_agent",
    "uk_link": "item context country (GB) and the rule that sent the report",
    "actions_taken": "actions on the item/account and their acknowledgement times",
    "submission": "how and when a person submitted it, and the NCA's reference",
}


def _iso(at: dt.datetime | None) -> str | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


def build_nca_report(
    facts: SubjectFacts,
    *,
    reference: str,
    reporter: dict[str, Any],
    submission: dict[str, Any] | None = None,
    generated_at: dt.datetime | None = None,
    supplemental_to: str | None = None,
    extra_info: str | None = None,
) -> dict[str, Any]:
    from suraksha.jurisdictions import load_profile

    profile = load_profile("uk")
    submission = dict(submission or {})
    citations = [{"legal_basis": d.legal_basis, "citation": d.citation, "verified": d.verified} for d in profile.reports]
    return {
        "format": FORMAT,
        "reference": reference,
        "supplemental_to": supplemental_to,
        "generated_at": _iso(generated_at or dt.datetime.now(dt.UTC)),
        "legal_basis": citations,
        "reporting_organisation": reporter,
        "content": {
            "category": "CSEA",
            "files": [
                {
                    "sha256": m.sha256,
                    "md5": m.md5,
                    "pdq": m.pdq,
                    "size": m.size,
                    "mime": m.mime,
                    "matched": m.matched,
                    "preserved_evidence_id": m.evidence_id,
                }
                for m in facts.media
            ],
            "detection": [
                {"bank": m["bank"], "label": m["label"], "signal_type": m["signal_type"], "distance": m["distance"]}
                for m in facts.matches
            ],
            "assessment": {
                "category": facts.decision.category,
                "industry_class": facts.decision.industry_class,
                "decided_at": _iso(facts.decision.decided_at),
                "reviewers": facts.decision.reviewers,
            }
            if facts.decision
            else None,
        },
        "incident": {
            "service": reporter.get("platform"),
            "platform_item_id": facts.platform_item_id,
            "item_kind": facts.item_kind,
            "url": facts.url,
            "posted_at": _iso(facts.posted_at),
            "server": facts.context.get("server"),
        },
        "suspect_user": {
            "platform_account_id": facts.platform_account_id,
            "handle": facts.handle,
            "first_seen": _iso(facts.account_first_seen),
            "last_seen": _iso(facts.account_last_seen),
            "suspended_at": _iso(facts.suspended_at),
            "ip_events": [{"ip": facts.ip, "port": facts.port, "at": _iso(facts.posted_at), "event": "upload"}]
            if facts.ip
            else [],
            "devices": [{"device_id": facts.device_id, "user_agent": facts.context.get("user_agent")}] if facts.device_id else [],
        }
        if facts.platform_account_id
        else None,
        "uk_link": {"country": facts.country, "rule": facts.rule},
        "actions_taken": [
            {"action": a.kind, "status": a.status, "acknowledged_at": _iso(a.acknowledged_at)} for a in facts.actions
        ],
        "additional_information": extra_info,
        "submission": {
            "route": "NCA reporting service for online service providers (portal; submitted by a person)",
            "reference": submission.get("reference"),
            "sent_at": _iso(submission.get("sent_at")),
            "acknowledged_at": _iso(submission.get("acknowledged_at")),
        },
    }
