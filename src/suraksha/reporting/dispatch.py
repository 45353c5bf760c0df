"""Filing claimed NCMEC reports: rows -> ``CaseSummary`` -> ``build_case_report`` -> ``file_report``.

Crash safety: NCMEC's report id is stored the moment ``/submit`` returns (a wrapper around the
client), in its own transaction, while the report is ``submitted`` and leased to this dispatcher.
If the dispatcher dies afterwards, the next claim finds the id and asks NCMEC by retracting
(``settle_open_report``): "already finished" means the report was filed (-> ``finished``, never a
second filing); a successful retract means it was not (file again from ``/submit``). A dispatcher
killed between NCMEC opening a report and our storing its id leaves an open report NCMEC never
processes (only finished reports are); the refiling is the only one that gets finished.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select, update

from suraksha.db import session_scope, utcnow
from suraksha.reporting.models import Report
from suraksha.reporting.service import REPORTS_FAILED, REPORTS_FINISHED, SYSTEM, backoff_seconds, transition
from suraksha.reporting.settings import get_report_settings, get_reporter_settings

log = logging.getLogger(__name__)

PURPOSE = "report to NCMEC CyberTipline (18 U.S.C. 2258A)"
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "video/mp4": "mp4"}


class _RecordingClient:
    """Delegates to the real client; stores NCMEC's report id as soon as ``submit`` returns it."""

    def __init__(self, client: Any, on_submit) -> None:
        self._client = client
        self._on_submit = on_submit

    def submit(self, report: Any) -> int:
        report_id = self._client.submit(report)
        self._on_submit(report_id)
        return report_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _read_bytes(session: Any, facts: Any, m: Any) -> tuple[bytes | None, str | None]:
    """The file's bytes (the preserved copy, else the bytes still held for the scan) or why there are none."""
    from suraksha import evidence
    from suraksha.items.models import PendingMedia
    from suraksha.reporting.subject import unavailable_reason

    if m.evidence_id:
        try:
            return evidence.read(m.evidence_id, SYSTEM, PURPOSE, session=session), None
        except evidence.EvidencePurged:
            return None, f"the preserved copy {m.evidence_id} was purged under the retention policy"
        except evidence.EvidenceNotFound:
            return None, f"the preserved copy {m.evidence_id} is missing from the evidence vault"
        except evidence.EvidenceUnreadable as exc:
            return None, f"the preserved copy {m.evidence_id} could not be read back intact ({type(exc).__name__})"
    data = session.scalar(
        select(PendingMedia.data).where(PendingMedia.item_id == facts.item_id, PendingMedia.position == m.position).limit(1)
    )
    if data:
        return data, None
    return None, unavailable_reason(facts, m)


def _hashes_text(m: Any) -> str:
    parts = [f"{name} {value}" for name, value in (("MD5", m.md5), ("SHA-256", m.sha256), ("PDQ", m.pdq)) if value]
    return ", ".join(parts) if parts else "no hash was computed"


def case_summary(session: Any, report: Report) -> tuple[Any, dict[str, bytes]]:
    """The NCMEC ``CaseSummary`` of a report (every item of the account in it) and the bytes of its
    files (by media id)."""
    from suraksha.reporting.ncmec.case import (
        CaseAccount,
        CaseDevice,
        CaseIpEvent,
        CaseItem,
        CaseMedia,
        CaseSummary,
        ReporterProfile,
        ReviewDecision,
    )
    from suraksha.reporting.ncmec.enums import EventName
    from suraksha.reporting.service import prior_reports, report_facts
    from suraksha.reporting.subject import identification, original_views

    items = report_facts(session, report)
    if not items:
        raise ValueError(f"report {report.id} covers no item")
    rs = get_reporter_settings()
    missing = [
        n
        for n, v in (
            ("SURAKSHA_REPORTER_FIRST_NAME", rs.first_name),
            ("SURAKSHA_REPORTER_LAST_NAME", rs.last_name),
            ("SURAKSHA_REPORTER_EMAIL", rs.email),
        )
        if not v
    ]
    if missing:
        raise ValueError(f"NCMEC needs the reporting person: set {', '.join(missing)}")
    views = original_views(session, [f.item_id for f in items])
    contents: dict[str, bytes] = {}
    case_items: list[CaseItem] = []
    unavailable: list[str] = []
    for facts in items:
        upload_ip = CaseIpEvent(ip=facts.ip, at=facts.posted_at, event=EventName.UPLOAD, port=facts.port) if facts.ip else None
        media = []
        for m in facts.media:
            if not m.matched:
                # Only the media that matched: another picture in the same post is preserved with the
                # item but is not "Reported" material, and must not carry the item's classification.
                continue
            how = identification(m)
            data, why = _read_bytes(session, facts, m)
            if not data:
                unavailable.append(
                    f"item {facts.platform_item_id} file {m.position}"
                    + (f" ({m.file_name})" if m.file_name else "")
                    + f": {_hashes_text(m)}; identified by {how}; not attached because {why or 'its bytes are empty'}."
                )
                continue
            media_id = m.evidence_id or f"pending:{facts.item_id}:{m.position}"
            contents[media_id] = data
            view = views.get((facts.item_id, m.position))
            media.append(
                CaseMedia(
                    media_id=media_id,
                    filename=f"item{facts.item_id}-media{m.position}.{_EXT.get(m.mime or '', 'bin')}",
                    original_name=m.file_name,
                    md5=m.md5,
                    sha256=m.sha256,
                    pdq=m.pdq,
                    url=m.source_url,
                    uploaded_at=facts.posted_at,
                    upload_ip=upload_ip,
                    publicly_available=facts.publicly_available,
                    viewed_by_reviewer=view is not None,
                    viewed_note=(
                        f"Viewed by a person at the platform at {view.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC (audited)."
                        if view
                        else "Not viewed by a person at the platform before this report."
                    ),
                    identified_by=how,
                    industry_classification=facts.decision.industry_class if facts.decision else None,
                )
            )
        case_items.append(
            CaseItem(
                platform_item_id=facts.platform_item_id,
                kind="message" if facts.item_kind == "message" else "post",
                url=facts.url,
                conversation_id=facts.context.get("conversation_id"),
                posted_at=facts.posted_at,
                media=media,
            )
        )
    decisions = [f.decision for f in items if f.decision]
    prior: list[int] = []
    extra = report.extra_info
    if report.supplemental_to:
        first = session.get(Report, report.supplemental_to)
        if first is not None and first.external_id and first.external_id.isdigit():
            prior.append(int(first.external_id))
            extra = f"Supplemental to CyberTipline report {first.external_id}. {extra or ''}".strip()
    prior += [int(p.external_id) for p in prior_reports(session, report) if p.external_id and p.external_id.isdigit()]
    head = items[0]
    account = None
    if head.platform_account_id:
        ip_events = [CaseIpEvent(ip=f.ip, at=f.posted_at, event=EventName.UPLOAD, port=f.port) for f in items if f.ip]
        devices = {
            f.device_id: CaseDevice(id_type="device_id", id_value=f.device_id, event=EventName.UPLOAD, at=f.posted_at)
            for f in reversed(items)
            if f.device_id
        }
        account = CaseAccount(
            platform_account_id=head.platform_account_id,
            screen_name=head.handle,
            ip_events=ip_events,
            devices=list(reversed(devices.values())),
            country_code=head.country,
            suspended_at=next((f.suspended_at for f in items if f.suspended_at), None),
            prior_report_ids=prior,
            group_identifier=report.group_identifier,
        )
    posted = [f.posted_at for f in items if f.posted_at is not None]
    summary = CaseSummary(
        case_id=f"report-{report.id}",
        reporter=ReporterProfile(
            platform=rs.platform, first_name=rs.first_name, last_name=rs.last_name, email=rs.email, phone=rs.phone
        ),
        decision=ReviewDecision(
            industry_classification=decisions[0].industry_class if len({d.industry_class for d in decisions}) == 1 else None,
            decided_at=max(d.decided_at for d in decisions) if decisions else None,
            additional_info=extra,
        ),
        items=case_items,
        account=account,
        incident_at=min(posted) if posted else None,
        unavailable_files=unavailable,
    )
    return summary, contents


def _store_submitted_id(report_id: int, dispatcher: str, ncmec_id: int) -> None:
    with session_scope() as session:
        session.execute(
            update(Report)
            .where(Report.id == report_id, Report.lease_owner == dispatcher, Report.state == "submitted")
            .values(external_id=str(ncmec_id), updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _mine(dispatcher: str):
    return Report.lease_owner == dispatcher


def file_claimed(report_id: int, client: Any, dispatcher: str) -> str:
    """File one report this dispatcher has claimed; returns its new state."""
    from suraksha.reporting.ncmec import CyberTiplineError, FilingError, build_case_report, file_report, settle_open_report

    with session_scope() as session:
        report = session.get(Report, report_id)
        attempts, open_id = report.attempts, report.external_id
    done = {"lease_owner": None, "lease_expires_at": None}
    # A previous attempt may have opened (or even finished) a report at NCMEC: ask first.
    if open_id:
        try:
            finished = settle_open_report(client, int(open_id))
        except CyberTiplineError as exc:
            return _failed(
                report_id,
                dispatcher,
                attempts,
                f"could not settle open NCMEC report {open_id}: {exc}",
                exc.retryable,
                exc.request_id,
                keep_id=True,
            )
        with session_scope() as session:
            if finished:
                transition(
                    session,
                    report_id,
                    ("submitted",),
                    "finished",
                    SYSTEM,
                    f"NCMEC report {open_id} was finished by an earlier attempt",
                    {"ncmec_report_id": open_id},
                    extra_where=_mine(dispatcher),
                    finished_at=utcnow(),
                    **done,
                )
                REPORTS_FINISHED.labels("ncmec").inc()
                return "finished"
            session.execute(
                update(Report)
                .where(Report.id == report_id, _mine(dispatcher))
                .values(external_id=None)
                .execution_options(synchronize_session=False)
            )
    try:
        with session_scope() as session:
            report = session.get(Report, report_id)
            summary, contents = case_summary(session, report)
        built = build_case_report(summary)
        recording = _RecordingClient(client, lambda ncmec_id: _store_submitted_id(report_id, dispatcher, ncmec_id))
        result = file_report(recording, built.report, built.with_content(contents.__getitem__), attempts=1)
    except FilingError as exc:
        if exc.outcome_unknown:
            return _failed(report_id, dispatcher, attempts, f"outcome unknown: {exc}", True, exc.request_id, keep_id=True)
        return _failed(report_id, dispatcher, attempts, str(exc), exc.retryable, exc.request_id)
    except CyberTiplineError as exc:
        return _failed(report_id, dispatcher, attempts, str(exc), exc.retryable, exc.request_id)
    except ValueError as exc:  # the report cannot be built: a person must fix the data or the settings
        return _failed(report_id, dispatcher, attempts, f"cannot build the report: {exc}", False, None)
    with session_scope() as session:
        ok = transition(
            session,
            report_id,
            ("submitted",),
            "finished",
            SYSTEM,
            f"filed: NCMEC report {result.report_id}",
            {"ncmec_report_id": result.report_id, "files": list(result.files)},
            extra_where=_mine(dispatcher),
            external_id=str(result.report_id),
            finished_at=utcnow(),
            **done,
        )
    if ok:
        REPORTS_FINISHED.labels("ncmec").inc()
    return "finished" if ok else "lost"


def _failed(
    report_id: int, dispatcher: str, attempts: int, error: str, retryable: bool, request_id: str | None, keep_id: bool = False
) -> str:
    rs = get_report_settings()
    give_up = not retryable or attempts >= rs.max_attempts
    values: dict[str, Any] = {
        "lease_owner": None,
        "lease_expires_at": None,
        "request_id": request_id,
        "gave_up": give_up,
        "next_attempt_at": utcnow() + dt.timedelta(seconds=backoff_seconds(attempts)),
    }
    state = "failed"
    if keep_id:
        # The report may be open or finished at NCMEC: keep it 'submitted' so the next claim settles it first.
        state = "submitted"
        values["lease_expires_at"] = values.pop("next_attempt_at")
        values["lease_owner"] = None
        values["gave_up"] = False
    else:
        values["external_id"] = None
    with session_scope() as session:
        ok = transition(
            session,
            report_id,
            ("submitted",),
            state,
            SYSTEM,
            error[:2000],
            {"retryable": retryable, "request_id": request_id, "attempt": attempts, "gave_up": values["gave_up"]},
            extra_where=_mine(dispatcher),
            **values,
        )
    if ok and values["gave_up"]:
        REPORTS_FAILED.labels("ncmec").inc()
        log.error(
            "ALERT report %s failed for good after %s attempt(s): %s; retry with 'suraksha reports retry %s'",
            report_id,
            attempts,
            error,
            report_id,
        )
    return state if ok else "lost"


def file_due(client: Any, dispatcher: str, n: int = 5) -> dict[str, int]:
    """Claim due NCMEC reports and file each; returns counts by resulting state."""
    from suraksha.reporting.service import claim_reports

    counts: dict[str, int] = {}
    for report_id in claim_reports(dispatcher, n):
        try:
            state = file_claimed(report_id, client, dispatcher)
        except Exception as exc:  # noqa: BLE001 - a bug on one report must not stop the others
            log.exception("filing report %s raised", report_id)
            state = _failed(report_id, dispatcher, 1, f"{type(exc).__name__}: {exc}", True, None)
        counts[state] = counts.get(state, 0) + 1
    return counts
