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

from suraksha.reporting.subject import SubjectFacts, identification, unavailable_reason

FORMAT = "suraksha.uk.nca-csea/1"

#: NCA report part -> where Suraksha takes it from.
FIELD_MAP: dict[str, str] = {
    "reporting_organisation": "SURAKSHA_REPORTER_* settings (platform, organisation, contact person)",
    "content.files": "item_media hashes (SHA-256, MD5, PDQ), size and type; evidence vault id of the preserved copy",
    "content.detection": "item_matches (bank, label, signal type, distance)",
    "content.assessment": "the final review decision per item (category, industry class A1/A2/B1/B2, reviewers)",
    "content.viewed_by_person": "audited reveals that showed a person the original file (audit media.view served=original)",
    "incident": "the account's items in the report: platform id, kind, where displayed (context.url), surface, posted time, server",
    "suspect_user": "the account: platform id, handle, first/last seen, suspension time",
    "suspect_user.ip_events": "item context ip/port at the posting time",
    "suspect_user.devices": "item context device_id, user_agent",
    "network": "the group of linked accounts the account belongs to (networks area), with its identifier",
    "prior_reports": "the account's earlier finished NCA reports",
    "uk_link": "item context country (GB) and the rule that sent the report",
    "actions_taken": "actions on the item/account and their acknowledgement times",
    "submission": "how and when a person submitted it, and the NCA's reference",
}


def _iso(at: dt.datetime | None) -> str | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


def _files(facts: SubjectFacts) -> list[dict[str, Any]]:
    return [
        {
            "platform_item_id": facts.platform_item_id,
            "position": m.position,
            "file_name": m.file_name,
            "sha256": m.sha256,
            "md5": m.md5,
            "pdq": m.pdq,
            "size": m.size,
            "mime": m.mime,
            "matched": m.matched,
            "identified_by": identification(m) if m.matched else None,
            "preserved_evidence_id": m.evidence_id,
            "not_available": unavailable_reason(facts, m),
        }
        for m in facts.media
    ]


def build_nca_report(
    items: list[SubjectFacts] | SubjectFacts,
    *,
    reference: str,
    reporter: dict[str, Any],
    submission: dict[str, Any] | None = None,
    generated_at: dt.datetime | None = None,
    supplemental_to: str | None = None,
    extra_info: str | None = None,
    prior_reports: list[dict[str, Any]] | None = None,
    network: dict[str, Any] | None = None,
    viewed: dict[tuple[int, int], Any] | None = None,
) -> dict[str, Any]:
    """The NCA report for one account and incident (``items``: the account's items in the report)."""
    from suraksha.jurisdictions import load_profile

    items = [items] if isinstance(items, SubjectFacts) else list(items)
    if not items:
        raise ValueError("a report needs at least one item")
    facts = items[0]
    viewed = viewed or {}
    profile = load_profile("uk")
    submission = dict(submission or {})
    citations = [{"legal_basis": d.legal_basis, "citation": d.citation, "verified": d.verified} for d in profile.reports]
    network = dict(network or {})
    return {
        "format": FORMAT,
        "reference": reference,
        "supplemental_to": supplemental_to,
        "prior_reports": [
            {
                **p,
                "finished_at": _iso(p["finished_at"]) if isinstance(p.get("finished_at"), dt.datetime) else p.get("finished_at"),
            }
            for p in prior_reports or []
        ],
        "generated_at": _iso(generated_at or dt.datetime.now(dt.UTC)),
        "legal_basis": citations,
        "reporting_organisation": reporter,
        "content": {
            "category": "CSEA",
            "files": [f for i in items for f in _files(i)],
            "viewed_by_person": [
                {"platform_item_id": i.platform_item_id, "position": m.position, "at": _iso(viewed[(i.item_id, m.position)].at)}
                for i in items
                for m in i.media
                if (i.item_id, m.position) in viewed
            ],
            "detection": [
                {
                    "platform_item_id": i.platform_item_id,
                    "bank": m["bank"],
                    "label": m["label"],
                    "signal_type": m["signal_type"],
                    "distance": m["distance"],
                }
                for i in items
                for m in i.matches
            ],
            "assessment": [
                {
                    "platform_item_id": i.platform_item_id,
                    "category": i.decision.category,
                    "industry_class": i.decision.industry_class,
                    "decided_at": _iso(i.decision.decided_at),
                    "reviewers": i.decision.reviewers,
                }
                for i in items
                if i.decision
            ],
        },
        "incident": {
            "service": reporter.get("platform"),
            "platform_item_id": facts.platform_item_id,
            "item_kind": facts.item_kind,
            "url": facts.url,
            "posted_at": _iso(facts.posted_at),
            "server": facts.context.get("server"),
            "items": [
                {
                    "platform_item_id": i.platform_item_id,
                    "item_kind": i.item_kind,
                    "url": i.url,
                    "surface": i.surface,
                    "publicly_available": i.publicly_available,
                    "posted_at": _iso(i.posted_at),
                    "server": i.context.get("server"),
                }
                for i in items
            ],
        },
        "suspect_user": {
            "platform_account_id": facts.platform_account_id,
            "handle": facts.handle,
            "first_seen": _iso(facts.account_first_seen),
            "last_seen": _iso(facts.account_last_seen),
            "suspended_at": _iso(next((i.suspended_at for i in items if i.suspended_at), None)),
            "ip_events": [
                {"ip": i.ip, "port": i.port, "at": _iso(i.posted_at), "event": "upload", "platform_item_id": i.platform_item_id}
                for i in items
                if i.ip
            ],
            "devices": list(
                {
                    i.device_id: {"device_id": i.device_id, "user_agent": i.context.get("user_agent")}
                    for i in items
                    if i.device_id
                }.values()
            ),
            "group_identifier": network.get("group_identifier"),
        }
        if facts.platform_account_id
        else None,
        "network": network,
        "uk_link": {"country": facts.country, "rule": facts.rule},
        "actions_taken": list(
            {
                (a.kind, a.status): {"action": a.kind, "status": a.status, "acknowledged_at": _iso(a.acknowledged_at)}
                for i in items
                for a in i.actions
            }.values()
        ),
        "additional_information": extra_info,
        "submission": {
            "route": "NCA reporting service for online service providers (portal; submitted by a person)",
            "reference": submission.get("reference"),
            "sent_at": _iso(submission.get("sent_at")),
            "acknowledged_at": _iso(submission.get("acknowledged_at")),
        },
    }
