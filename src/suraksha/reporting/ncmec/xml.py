"""Render the models of ``models.py`` to the XML that NCMEC's CyberTipline API accepts.

One ``build_*`` function per element, each returning an ``lxml`` element whose children are in
the XSD's order (see ``schema.CHILD_ORDER``); ``report_xml`` and ``file_details_xml`` return the
bytes of the two documents that are sent. Values are formatted the way NCMEC expects:
booleans ``true``/``false``, datetimes in UTC with milliseconds (``2024-01-15T14:30:00.000Z``),
dates ``YYYY-MM-DD``.

Missing required data raises ``ReportValidationError`` (a ``ValueError``) naming the element, so
an incomplete report fails here, before any request is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from enum import Enum

from lxml import etree

from suraksha.errors import InvalidInput

from .enums import (
    SCHEMA_LOCATION,
    XSI_NAMESPACE,
    EventName,
    FileAnnotation,
    FileDetailType,
    FileRelevance,
    HashType,
    IncidentType,
    IndustryClassification,
    ReportAnnotation,
)
from .models import (
    AccountDisabled,
    Address,
    CellPhoneIncident,
    ChatImIncident,
    ContactPerson,
    DeviceId,
    Email,
    EmailIncident,
    EstimatedLocation,
    FileDetails,
    FileDetailsBlock,
    IncidentSummary,
    IntendedRecipient,
    IpCaptureEvent,
    LawEnforcement,
    NewsgroupIncident,
    NonInternetIncident,
    OnlineGamingIncident,
    OriginalFileHash,
    Peer2PeerIncident,
    Person,
    PersonOrUserReported,
    Phone,
    Report,
    Reporter,
    ServedLegalProcessInternational,
    Victim,
    WebPageIncident,
)
from .schema import check_element

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'

Element = etree._Element


class ReportValidationError(InvalidInput):
    """The report (or file details) lacks something NCMEC requires, or has a value outside
    NCMEC's value set. Raised before anything is sent."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


# --- value formatting ----------------------------------------------------------------------------


def format_datetime(value: datetime, where: str = "dateTime") -> str:
    """UTC with milliseconds and a ``Z``; naive datetimes are refused (see ``models``)."""
    if not isinstance(value, datetime):
        raise ReportValidationError(where, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ReportValidationError(where, "datetime must be timezone-aware")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _format(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value, where)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _add(parent: Element, tag: str, value: object, **attributes: object) -> Element | None:
    """Append ``<tag>value</tag>`` unless ``value`` is None."""
    if value is None:
        return None
    child = etree.SubElement(parent, tag)
    child.text = _format(value, tag)
    _set_attributes(child, attributes)
    return child


def _add_all(parent: Element, tag: str, values: Iterable[object]) -> None:
    for value in values:
        _add(parent, tag, value)


def _set_attributes(element: Element, attributes: dict[str, object]) -> None:
    for name, value in attributes.items():
        if value is not None:
            element.set(name, _format(value, f"{element.tag}@{name}"))


def _append(parent: Element, child: Element | None) -> None:
    if child is not None:
        parent.append(child)


def _require(value: object, where: str, what: str = "is required") -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ReportValidationError(where, what)


def _member(enum: type[Enum], value: object, where: str) -> Enum:
    """The enum member for ``value``, or a ReportValidationError listing the allowed values."""
    try:
        return enum(value)  # type: ignore[call-arg]
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in enum)  # type: ignore[attr-defined]
        raise ReportValidationError(where, f"{value!r} is not one of {allowed}") from None


def _flags(parent: Element, enum: type[Enum], values: Iterable[object], where: str) -> None:
    """Empty flag elements (annotations) in the enum's (schema) order, each once."""
    chosen = {_member(enum, v, where) for v in values}
    for member in enum:  # type: ignore[attr-defined]
        if member in chosen:
            etree.SubElement(parent, member.value)


# --- common elements -------------------------------------------------------------------------------


def build_address(address: Address, tag: str = "address") -> Element:
    el = etree.Element(tag)
    _set_attributes(el, {"type": address.type})
    _add(el, "address", address.address)
    _add(el, "city", address.city)
    _add(el, "zipCode", address.zip_code)
    _add(el, "state", address.state)
    _add(el, "nonUsaState", address.non_usa_state)
    _add(el, "country", address.country)
    return el


def build_phone(phone: Phone, tag: str = "phone") -> Element:
    _require(phone.number, tag, "phone number is required")
    el = etree.Element(tag)
    _set_attributes(
        el,
        {
            "type": phone.type,
            "verified": phone.verified,
            "verificationDate": phone.verification_date,
            "countryCallingCode": phone.country_calling_code,
            "extension": phone.extension,
        },
    )
    el.text = phone.number
    return el


def build_email(email: Email, tag: str = "email") -> Element:
    _require(email.email, tag, "email address is required")
    el = etree.Element(tag)
    _set_attributes(
        el,
        {"type": email.type, "verified": email.verified, "verificationDate": email.verification_date},
    )
    el.text = email.email
    return el


def _contact_fields(el: Element, person: ContactPerson | Person) -> None:
    _add(el, "firstName", person.first_name)
    _add(el, "lastName", person.last_name)
    for phone in person.phone:
        el.append(build_phone(phone))
    for email in person.email:
        el.append(build_email(email))
    for address in person.address:
        el.append(build_address(address))


def build_contact_person(person: ContactPerson, tag: str = "contactPerson") -> Element:
    el = etree.Element(tag)
    _contact_fields(el, person)
    return el


def build_person(person: Person, tag: str = "person") -> Element:
    el = etree.Element(tag)
    _contact_fields(el, person)
    _add(el, "age", person.age)
    _add(el, "dateOfBirth", person.date_of_birth)
    return el


def build_ip_capture_event(event: IpCaptureEvent) -> Element:
    _require(event.ip_address, "ipCaptureEvent/ipAddress")
    if event.event_name is not None:
        _member(EventName, event.event_name, "ipCaptureEvent/eventName")
    el = etree.Element("ipCaptureEvent")
    _add(el, "ipAddress", event.ip_address)
    _add(el, "eventName", event.event_name)
    _add(el, "dateTime", event.date_time)
    _add(el, "possibleProxy", event.possible_proxy)
    _add(el, "port", event.port)
    return el


def build_device_id(device: DeviceId) -> Element:
    _require(device.id_type, "deviceId/idType")
    _require(device.id_value, "deviceId/idValue")
    if device.event_name is not None:
        _member(EventName, device.event_name, "deviceId/eventName")
    el = etree.Element("deviceId")
    _add(el, "idType", device.id_type)
    _add(el, "idValue", device.id_value)
    _add(el, "eventName", device.event_name)
    _add(el, "dateTime", device.date_time)
    return el


def build_estimated_location(location: EstimatedLocation) -> Element:
    el = etree.Element("estimatedLocation")
    _set_attributes(el, {"verified": location.verified, "timestamp": location.timestamp})
    _add(el, "city", location.city)
    _add(el, "region", location.region)
    _add(el, "countryCode", location.country_code)
    return el


def _account_disabled(parent: Element, tag: str, value: bool | AccountDisabled | None) -> None:
    if value is None:
        return
    if isinstance(value, AccountDisabled):
        _add(parent, tag, True, disabledDate=value.disabled_date, reenabledDate=value.reenabled_date)
    else:
        _add(parent, tag, value)


# --- incident details ------------------------------------------------------------------------------


def build_incident_summary(summary: IncidentSummary) -> Element:
    _require(summary.incident_type, "incidentSummary/incidentType")
    _member(IncidentType, summary.incident_type, "incidentSummary/incidentType")
    _require(summary.incident_date_time, "incidentSummary/incidentDateTime")
    el = etree.Element("incidentSummary")
    _add(el, "incidentType", summary.incident_type)
    _add(el, "platform", summary.platform)
    _add(el, "escalateToHighPriority", summary.escalate_to_high_priority)
    annotations = etree.SubElement(el, "reportAnnotations")
    _flags(annotations, ReportAnnotation, summary.report_annotations, "reportAnnotations")
    _add(el, "incidentDateTime", format_datetime(summary.incident_date_time, "incidentDateTime"))
    _add(el, "incidentDateTimeDescription", summary.incident_date_time_description)
    return el


def build_web_page_incident(incident: WebPageIncident) -> Element:
    el = etree.Element("webPageIncident")
    _set_attributes(el, {"thirdPartyHostedContent": incident.third_party_hosted_content})
    _add_all(el, "url", incident.url)
    _add(el, "additionalInfo", incident.additional_info)
    return el


def build_email_incident(incident: EmailIncident) -> Element:
    el = etree.Element("emailIncident")
    for email in incident.email_address:
        el.append(build_email(email, "emailAddress"))
    _add(el, "content", incident.content)
    _add(el, "additionalInfo", incident.additional_info)
    return el


def build_newsgroup_incident(incident: NewsgroupIncident) -> Element:
    el = etree.Element("newsgroupIncident")
    _add(el, "name", incident.name)
    for email in incident.email_address:
        el.append(build_email(email, "emailAddress"))
    _add(el, "content", incident.content)
    _add(el, "additionalInfo", incident.additional_info)
    return el


def build_chat_im_incident(incident: ChatImIncident) -> Element:
    el = etree.Element("chatImIncident")
    _add(el, "chatClient", incident.chat_client)
    _add(el, "chatRoomName", incident.chat_room_name)
    _add(el, "content", incident.content)
    _add(el, "additionalInfo", incident.additional_info)
    return el


def build_online_gaming_incident(incident: OnlineGamingIncident) -> Element:
    el = etree.Element("onlineGamingIncident")
    _add(el, "gameName", incident.game_name)
    _add(el, "console", incident.console)
    _add(el, "content", incident.content)
    _add(el, "additionalInfo", incident.additional_info)
    return el


def build_cell_phone_incident(incident: CellPhoneIncident) -> Element:
    el = etree.Element("cellPhoneIncident")
    if incident.phone_number is not None:
        el.append(build_phone(incident.phone_number, "phoneNumber"))
    _add(el, "latitude", incident.latitude)
    _add(el, "longitude", incident.longitude)
    _add(el, "additionalInfo", incident.additional_info)
    return el


def build_non_internet_incident(incident: NonInternetIncident) -> Element:
    el = etree.Element("nonInternetIncident")
    _add(el, "locationName", incident.location_name)
    for address in incident.incident_address:
        el.append(build_address(address, "incidentAddress"))
    _add(el, "additionalInfo", incident.additional_info)
    return el


def build_peer2peer_incident(incident: Peer2PeerIncident) -> Element:
    el = etree.Element("peer2peerIncident")
    _add(el, "client", incident.client)
    for event in incident.ip_capture_event:
        el.append(build_ip_capture_event(event))
    _add_all(el, "fileNames", incident.file_names)
    _add(el, "additionalInfo", incident.additional_info)
    return el


# --- people and parties ----------------------------------------------------------------------------


def build_law_enforcement(le: LawEnforcement) -> Element:
    _require(le.agency_name, "lawEnforcement/agencyName")
    el = etree.Element("lawEnforcement")
    _add(el, "agencyName", le.agency_name)
    _add(el, "caseNumber", le.case_number)
    if le.officer_contact is not None:
        el.append(build_contact_person(le.officer_contact, "officerContact"))
    _add(el, "reportedToLe", le.reported_to_le)
    _add(el, "servedLegalProcessDomestic", le.served_legal_process_domestic)
    served = le.served_legal_process_international
    if isinstance(served, ServedLegalProcessInternational):
        _add(el, "servedLegalProcessInternational", True, fleaCountry=served.flea_country)
    else:
        _add(el, "servedLegalProcessInternational", served)
    return el


def build_reporter(reporter: Reporter) -> Element:
    person = reporter.reporting_person
    if person is None:
        raise ReportValidationError("reporter/reportingPerson", "is required")
    _require(person.first_name, "reporter/reportingPerson/firstName")
    _require(person.last_name, "reporter/reportingPerson/lastName")
    if not person.email:
        raise ReportValidationError("reporter/reportingPerson/email", "at least one email is required so NCMEC can reach you")
    el = etree.Element("reporter")
    el.append(build_contact_person(person, "reportingPerson"))
    if reporter.contact_person is not None:
        el.append(build_contact_person(reporter.contact_person, "contactPerson"))
    _add(el, "companyTemplate", reporter.company_template)
    _add(el, "termsOfService", reporter.terms_of_service)
    _add(el, "legalURL", reporter.legal_url)
    return el


def _online_identity(el: Element, party: PersonOrUserReported | IntendedRecipient | Victim) -> None:
    _add(el, "espIdentifier", party.esp_identifier)
    _add(el, "espService", party.esp_service)
    _add(el, "screenName", party.screen_name)
    _add_all(el, "displayName", party.display_name)
    _add_all(el, "profileUrl", party.profile_url)
    for event in party.ip_capture_event:
        el.append(build_ip_capture_event(event))
    for device in party.device_id:
        el.append(build_device_id(device))


def build_person_or_user_reported(reported: PersonOrUserReported) -> Element:
    el = etree.Element("personOrUserReported")
    if reported.person is not None:
        el.append(build_person(reported.person, "personOrUserReportedPerson"))
    _add(el, "vehicleDescription", reported.vehicle_description)
    _online_identity(el, reported)
    _add(el, "thirdPartyUserReported", reported.third_party_user_reported)
    _add_all(el, "priorCTReports", reported.prior_ct_reports)
    _add(el, "groupIdentifier", reported.group_identifier)
    _account_disabled(el, "accountTemporarilyDisabled", reported.account_temporarily_disabled)
    _account_disabled(el, "accountPermanentlyDisabled", reported.account_permanently_disabled)
    if reported.estimated_location is not None:
        el.append(build_estimated_location(reported.estimated_location))
    _add(el, "additionalInfo", reported.additional_info)
    return el


def build_intended_recipient(recipient: IntendedRecipient) -> Element:
    el = etree.Element("intendedRecipient")
    if recipient.person is not None:
        el.append(build_person(recipient.person, "intendedRecipientPerson"))
    _online_identity(el, recipient)
    _add_all(el, "priorCTReports", recipient.prior_ct_reports)
    _add(el, "groupIdentifier", recipient.group_identifier)
    _account_disabled(el, "accountTemporarilyDisabled", recipient.account_temporarily_disabled)
    _account_disabled(el, "accountPermanentlyDisabled", recipient.account_permanently_disabled)
    if recipient.estimated_location is not None:
        el.append(build_estimated_location(recipient.estimated_location))
    _add(el, "additionalInfo", recipient.additional_info)
    return el


def build_victim(victim: Victim) -> Element:
    el = etree.Element("victim")
    if victim.person is not None:
        el.append(build_person(victim.person, "victimPerson"))
    _online_identity(el, victim)
    _add(el, "schoolName", victim.school_name)
    _add_all(el, "priorCTReports", victim.prior_ct_reports)
    if victim.estimated_location is not None:
        el.append(build_estimated_location(victim.estimated_location))
    _add(el, "additionalInfo", victim.additional_info)
    return el


# --- documents -------------------------------------------------------------------------------------


def _document_root(tag: str) -> Element:
    root = etree.Element(tag, nsmap={"xsi": XSI_NAMESPACE})
    root.set(f"{{{XSI_NAMESPACE}}}noNamespaceSchemaLocation", SCHEMA_LOCATION)
    return root


def build_report(report: Report) -> Element:
    if report.incident_summary is None:
        raise ReportValidationError("report/incidentSummary", "is required")
    if report.reporter is None:
        raise ReportValidationError("report/reporter", "is required")
    root = _document_root("report")
    root.append(build_incident_summary(report.incident_summary))
    details = report.incident_details
    if details is not None:
        builders = (
            (details.web_page, build_web_page_incident),
            (details.email, build_email_incident),
            (details.newsgroup, build_newsgroup_incident),
            (details.chat_im, build_chat_im_incident),
            (details.online_gaming, build_online_gaming_incident),
            (details.cell_phone, build_cell_phone_incident),
            (details.non_internet, build_non_internet_incident),
            (details.peer2peer, build_peer2peer_incident),
        )
        for incidents, build in builders:
            for incident in incidents:
                wrapper = etree.SubElement(root, "internetDetails")
                wrapper.append(build(incident))  # type: ignore[arg-type]
    if report.law_enforcement is not None:
        root.append(build_law_enforcement(report.law_enforcement))
    root.append(build_reporter(report.reporter))
    if report.person_or_user_reported is not None:
        root.append(build_person_or_user_reported(report.person_or_user_reported))
    for recipient in report.intended_recipient:
        root.append(build_intended_recipient(recipient))
    for victim in report.victim:
        root.append(build_victim(victim))
    _add(root, "additionalInfo", report.additional_info)
    return root


def build_original_file_hash(file_hash: OriginalFileHash) -> Element:
    _require(file_hash.value, "originalFileHash")
    _member(HashType, file_hash.hash_type, "originalFileHash@hashType")
    el = etree.Element("originalFileHash")
    _set_attributes(el, {"hashType": file_hash.hash_type})
    el.text = file_hash.value
    return el


def build_file_details_block(block: FileDetailsBlock) -> Element:
    _member(FileDetailType, block.type, "details@type")
    el = etree.Element("details")
    _set_attributes(el, {"type": block.type})
    for pair in block.name_value_pair:
        _require(pair.name, "details/nameValuePair/name")
        pair_el = etree.SubElement(el, "nameValuePair")
        _add(pair_el, "name", pair.name)
        _add(pair_el, "value", pair.value if pair.value is not None else "")
    return el


def build_file_details(details: FileDetails) -> Element:
    if details.report_id is None:
        raise ReportValidationError("fileDetails/reportId", "is required (from /submit)")
    _require(details.file_id, "fileDetails/fileId", "is required (from /upload)")
    if details.file_relevance is not None:
        _member(FileRelevance, details.file_relevance, "fileDetails/fileRelevance")
    if details.industry_classification is not None:
        _member(IndustryClassification, details.industry_classification, "fileDetails/industryClassification")
        if details.file_relevance not in (None, FileRelevance.REPORTED):
            raise ReportValidationError(
                "fileDetails/industryClassification",
                'only files with relevance "Reported" may carry an industry classification',
            )
    root = _document_root("fileDetails")
    _add(root, "reportId", details.report_id)
    _add(root, "fileId", details.file_id)
    _add(root, "fileName", details.file_name)
    _add(root, "originalFileName", details.original_file_name)
    _add(root, "uploadedToEspTimestamp", details.uploaded_to_esp_timestamp)
    _add(root, "locationOfFile", details.location_of_file)
    _add(root, "fileViewedByEsp", details.file_viewed_by_esp)
    _add(root, "exifViewedByEsp", details.exif_viewed_by_esp)
    _add(root, "publiclyAvailable", details.publicly_available)
    _add(root, "fileRelevance", details.file_relevance)
    annotations = etree.SubElement(root, "fileAnnotations")
    _flags(annotations, FileAnnotation, details.file_annotations, "fileAnnotations")
    _add(root, "industryClassification", details.industry_classification)
    for file_hash in details.original_file_hash:
        root.append(build_original_file_hash(file_hash))
    if details.ip_capture_event is not None:
        root.append(build_ip_capture_event(details.ip_capture_event))
    for device in details.device_id:
        root.append(build_device_id(device))
    for block in details.details:
        root.append(build_file_details_block(block))
    _add_all(root, "additionalInfo", details.additional_info)
    return root


def to_bytes(element: Element, *, declaration: bool = False) -> bytes:
    """Serialise without whitespace; with ``declaration`` the XML declaration NCMEC's examples use."""
    body = etree.tostring(element, encoding="UTF-8", xml_declaration=False)
    return XML_DECLARATION + body if declaration else body


def _checked(root: Element) -> Element:
    problems = check_element(root)
    if problems:  # a builder bug, not a caller error; fail loudly before sending
        raise RuntimeError("builder produced out-of-schema XML: " + "; ".join(problems))
    return root


def report_xml(report: Report) -> bytes:
    """The document for ``POST /submit``."""
    return to_bytes(_checked(build_report(report)), declaration=True)


def file_details_xml(details: FileDetails) -> bytes:
    """The document for ``POST /fileinfo``."""
    return to_bytes(_checked(build_file_details(details)), declaration=True)
