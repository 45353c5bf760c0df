"""From a Suraksha case to a CyberTipline report, without touching the database.

``CaseSummary`` is the neutral shape of what a reviewed case knows: the items (with their media
and hashes), the account that posted them (with its IP and device events), the review decision
(incident type, industry classification) and who reports. The enforcement/reporting service maps
its rows into it; this module maps it into ``Report`` + one ``FileDetails`` per media file.

Choices made here (see docs/reporting.md):
* Items with a URL become one ``webPageIncident``; messages become a ``chatImIncident`` per
  conversation. Item text is not copied into the report: the files and the URLs are the
  evidence, and free text about a child should only go to NCMEC when a reviewer writes it
  (``ReviewDecision.additional_info``).
* MD5 and SHA-1 go in ``originalFileHash`` (the types NCMEC accepts there); SHA-256 and PDQ go in
  a ``details type="HASH"`` block, so no hash Suraksha computed is lost.
* A suspended account is reported as ``accountPermanentlyDisabled`` with the suspension time.
* Every file is "Reported" and carries the decision's industry classification unless the
  media has its own.
* ``fileViewedByEsp`` is true only when a person at the platform was shown the original file
  (an audited reveal; ``viewed_by_reviewer``); otherwise false, and the file's ``additionalInfo``
  says how it was identified (``identified_by``: a hash match to a named list).
* A file whose bytes were not kept cannot be uploaded; ``CaseSummary.unavailable_files`` lists it
  with its hashes and the reason, in the report's ``additionalInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .enums import (
    EventName,
    FileDetailType,
    FileRelevance,
    HashType,
    IncidentType,
    IndustryClassification,
    ReportAnnotation,
)
from .filing import ReportFile
from .models import (
    AccountDisabled,
    ChatImIncident,
    ContactPerson,
    DeviceId,
    Email,
    EstimatedLocation,
    FileDetails,
    FileDetailsBlock,
    IncidentDetails,
    IncidentSummary,
    IpCaptureEvent,
    NameValuePair,
    OriginalFileHash,
    Person,
    PersonOrUserReported,
    Phone,
    Report,
    Reporter,
    WebPageIncident,
)
from .xml import ReportValidationError

_case = dataclass(kw_only=True)


@_case
class CaseIpEvent:
    ip: str
    at: datetime | None = None
    event: str = EventName.OTHER  # an EventName
    port: int | None = None
    possible_proxy: bool | None = None


@_case
class CaseDevice:
    id_type: str
    id_value: str
    event: str | None = None
    at: datetime | None = None


@_case
class CaseMedia:
    media_id: str  # Suraksha's key for the bytes (evidence vault)
    filename: str  # the name we upload it under (fileName)
    original_name: str | None = None  # the platform's name for the file, when known (originalFileName)
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    url: str | None = None  # where the platform served it
    uploaded_at: datetime | None = None
    upload_ip: CaseIpEvent | None = None
    publicly_available: bool | None = None
    viewed_by_reviewer: bool = False  # true only when an audited reveal showed a person the original
    viewed_note: str | None = None  # who/when, or why not, in words
    identified_by: str | None = None  # how the file was identified, in words
    industry_classification: str | None = None  # overrides the decision's for this file
    annotations: list[str] = field(default_factory=list)  # FileAnnotation values


@_case
class CaseItem:
    platform_item_id: str
    kind: str = "post"  # post | message | profile | file
    url: str | None = None
    conversation_id: str | None = None  # for messages
    posted_at: datetime | None = None
    media: list[CaseMedia] = field(default_factory=list)


@_case
class CaseAccount:
    platform_account_id: str
    screen_name: str | None = None
    display_names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    profile_url: str | None = None
    ip_events: list[CaseIpEvent] = field(default_factory=list)
    devices: list[CaseDevice] = field(default_factory=list)
    city: str | None = None
    region: str | None = None
    country_code: str | None = None
    suspended_at: datetime | None = None
    prior_report_ids: list[int] = field(default_factory=list)
    group_identifier: str | None = None  # the organised group (network) the account belongs to


@_case
class ReviewDecision:
    incident_type: str = IncidentType.CHILD_PORNOGRAPHY
    industry_classification: str | None = None  # A1 | A2 | B1 | B2
    decided_at: datetime | None = None
    report_annotations: list[str] = field(default_factory=list)
    escalate_reason: str | None = None  # set => escalateToHighPriority
    additional_info: str | None = None  # reviewer's note for NCMEC


@_case
class ReporterProfile:
    """Who files: from configuration, the same for every report of one platform."""

    platform: str  # espService, e.g. the platform's product name
    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    contact: ContactPerson | None = None
    company_template: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None


@_case
class CaseSummary:
    case_id: str
    reporter: ReporterProfile
    decision: ReviewDecision
    items: list[CaseItem] = field(default_factory=list)
    account: CaseAccount | None = None
    incident_at: datetime | None = None  # default: the earliest item time
    unavailable_files: list[str] = field(default_factory=list)  # files not kept: hashes and why, in words


@_case
class CaseFile:
    """A file to attach: the vault key of its bytes, its upload name and its details."""

    media_id: str
    filename: str
    details: FileDetails


@_case
class CaseReport:
    report: Report
    files: list[CaseFile]

    def with_content(self, fetch) -> list[ReportFile]:
        """``ReportFile``s for ``file_report``; ``fetch(media_id) -> bytes`` reads the vault."""
        return [ReportFile(filename=f.filename, content=fetch(f.media_id), details=f.details) for f in self.files]


def _ip(event: CaseIpEvent, default_event: str | None = None) -> IpCaptureEvent:
    return IpCaptureEvent(
        ip_address=event.ip,
        event_name=event.event or default_event,
        date_time=event.at,
        possible_proxy=event.possible_proxy,
        port=event.port,
    )


def _incident_time(case: CaseSummary) -> datetime:
    if case.incident_at is not None:
        return case.incident_at
    times = [i.posted_at for i in case.items if i.posted_at is not None]
    times += [m.uploaded_at for i in case.items for m in i.media if m.uploaded_at is not None]
    if times:
        return min(times)
    if case.decision.decided_at is not None:
        return case.decision.decided_at
    raise ReportValidationError("case.incident_at", "no incident time: set it or give items a posted_at")


def _reporter(profile: ReporterProfile) -> Reporter:
    return Reporter(
        reporting_person=ContactPerson(
            first_name=profile.first_name,
            last_name=profile.last_name,
            email=[Email(email=profile.email)] if profile.email else [],
            phone=[Phone(number=profile.phone)] if profile.phone else [],
        ),
        contact_person=profile.contact,
        company_template=profile.company_template,
        terms_of_service=profile.terms_of_service,
        legal_url=profile.legal_url,
    )


def _reported_user(account: CaseAccount, platform: str) -> PersonOrUserReported:
    person = None
    if account.emails or account.phones:
        person = Person(
            email=[Email(email=e) for e in account.emails],
            phone=[Phone(number=p) for p in account.phones],
        )
    location = None
    if account.city or account.region or account.country_code:
        location = EstimatedLocation(city=account.city, region=account.region, country_code=account.country_code)
    return PersonOrUserReported(
        person=person,
        esp_identifier=account.platform_account_id,
        esp_service=platform,
        screen_name=account.screen_name,
        display_name=list(account.display_names),
        profile_url=[account.profile_url] if account.profile_url else [],
        ip_capture_event=[_ip(e) for e in account.ip_events],
        device_id=[DeviceId(id_type=d.id_type, id_value=d.id_value, event_name=d.event, date_time=d.at) for d in account.devices],
        prior_ct_reports=list(dict.fromkeys(account.prior_report_ids)),
        group_identifier=account.group_identifier,
        account_permanently_disabled=(AccountDisabled(disabled_date=account.suspended_at) if account.suspended_at else None),
        estimated_location=location,
    )


def _file_details(media: CaseMedia, item: CaseItem, decision: ReviewDecision) -> FileDetails:
    hashes = []
    if media.md5:
        hashes.append(OriginalFileHash(value=media.md5, hash_type=HashType.MD5))
    if media.sha1:
        hashes.append(OriginalFileHash(value=media.sha1, hash_type=HashType.SHA1))
    extra = [NameValuePair(name="SHA256", value=media.sha256)] if media.sha256 else []
    if media.pdq:
        extra.append(NameValuePair(name="PDQ", value=media.pdq))
    classification = media.industry_classification or decision.industry_classification
    if classification is not None and classification not in set(IndustryClassification):
        raise ReportValidationError(f"media {media.media_id}", f"industry classification {classification!r} is not A1/A2/B1/B2")
    notes = [n for n in (media.identified_by and f"Identified by {media.identified_by}.", media.viewed_note) if n]
    return FileDetails(
        file_name=media.filename,
        original_file_name=media.original_name,
        uploaded_to_esp_timestamp=media.uploaded_at or item.posted_at,
        location_of_file=media.url or item.url,
        file_viewed_by_esp=bool(media.viewed_by_reviewer),
        publicly_available=media.publicly_available,
        file_relevance=FileRelevance.REPORTED,
        file_annotations=list(media.annotations),
        industry_classification=classification,
        original_file_hash=hashes,
        ip_capture_event=_ip(media.upload_ip, EventName.UPLOAD) if media.upload_ip else None,
        details=[FileDetailsBlock(type=FileDetailType.HASH, name_value_pair=extra)] if extra else [],
        additional_info=notes,
    )


def build_case_report(case: CaseSummary) -> CaseReport:
    """The report and file list for ``case``. Raises ``ReportValidationError`` (a ValueError)
    when the case cannot make a valid report (no items, bad classification, no time)."""
    if not case.items:
        raise ReportValidationError(f"case {case.case_id}", "a report needs at least one item")
    decision = case.decision
    annotations = [ReportAnnotation(a) for a in decision.report_annotations]
    web_urls = [i.url for i in case.items if i.kind != "message" and i.url]
    chats: dict[str, ChatImIncident] = {}
    for item in case.items:
        if item.kind == "message":
            room = item.conversation_id or item.platform_item_id
            chats.setdefault(room, ChatImIncident(chat_client=case.reporter.platform, chat_room_name=room))
    details = IncidentDetails(
        web_page=[WebPageIncident(url=list(dict.fromkeys(web_urls)))] if web_urls else [],
        chat_im=list(chats.values()),
    )
    report = Report(
        incident_summary=IncidentSummary(
            incident_type=decision.incident_type,
            incident_date_time=_incident_time(case),
            platform=case.reporter.platform,
            escalate_to_high_priority=decision.escalate_reason,
            report_annotations=annotations,
        ),
        incident_details=details,
        reporter=_reporter(case.reporter),
        person_or_user_reported=_reported_user(case.account, case.reporter.platform) if case.account else None,
        additional_info="\n".join(
            x for x in (decision.additional_info, *(f"File not attached: {u}" for u in case.unavailable_files)) if x
        )
        or None,
    )
    files: list[CaseFile] = []
    seen: set[str] = set()
    for item in case.items:
        for media in item.media:
            if media.media_id in seen:
                continue
            seen.add(media.media_id)
            files.append(CaseFile(media_id=media.media_id, filename=media.filename, details=_file_details(media, item, decision)))
    return CaseReport(report=report, files=files)
