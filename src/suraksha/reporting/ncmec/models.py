"""Typed inputs of a CyberTipline report, one dataclass per element of NCMEC's schema.

Field names are the Python spelling of the XML element names (``ip_address`` for
``ipAddress``), so a reader can go from the XSD to the code and back. Every field that NCMEC
treats as optional defaults to ``None`` (or an empty list for repeated elements); ``None`` means
"not rendered", which is different from ``False`` ("rendered as false").

Validation of required fields happens when a model is rendered (``xml.py``): the builders raise
``ReportValidationError`` (a ``ValueError``) naming the element, before anything is sent.

Datetimes must be timezone-aware: a wrong offset on an IP capture event sends investigators to
the wrong subscriber, so a naive datetime is refused instead of guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .enums import (
    FileAnnotation,
    FileDetailType,
    FileRelevance,
    HashType,
    IncidentType,
    IndustryClassification,
    ReportAnnotation,
)

_model = dataclass(kw_only=True, slots=True)


# --- common building blocks -------------------------------------------------------------------


@_model
class Address:
    address: str | None = None
    city: str | None = None
    zip_code: str | None = None
    state: str | None = None  # two-letter US state code
    non_usa_state: str | None = None  # region name outside the US
    country: str | None = None  # ISO 3166-1 alpha-2
    type: str | None = None  # e.g. "Home", "Business", "Billing"


@_model
class Phone:
    number: str
    type: str | None = None  # e.g. "Mobile", "Home", "Business"
    verified: bool | None = None
    verification_date: datetime | None = None
    country_calling_code: str | None = None  # e.g. "+91"
    extension: str | None = None


@_model
class Email:
    email: str
    type: str | None = None  # e.g. "Home", "Work", "Business"
    verified: bool | None = None
    verification_date: datetime | None = None


@_model
class ContactPerson:
    """A person NCMEC can contact: the reporting person, a company contact, an officer."""

    first_name: str | None = None
    last_name: str | None = None
    phone: list[Phone] = field(default_factory=list)
    email: list[Email] = field(default_factory=list)
    address: list[Address] = field(default_factory=list)


@_model
class Person:
    """A natural person in the report: reported person, victim, intended recipient."""

    first_name: str | None = None
    last_name: str | None = None
    phone: list[Phone] = field(default_factory=list)
    email: list[Email] = field(default_factory=list)
    address: list[Address] = field(default_factory=list)
    age: int | None = None
    date_of_birth: date | None = None


@_model
class IpCaptureEvent:
    ip_address: str
    event_name: str | None = None  # an ``EventName``
    date_time: datetime | None = None
    possible_proxy: bool | None = None
    port: int | None = None


@_model
class DeviceId:
    id_type: str  # free text, e.g. "IMEI", "ICCID"
    id_value: str
    event_name: str | None = None  # an ``EventName``
    date_time: datetime | None = None


@_model
class EstimatedLocation:
    city: str | None = None
    region: str | None = None
    country_code: str | None = None
    verified: bool | None = None
    timestamp: datetime | None = None


@_model
class AccountDisabled:
    """An account disabled by the platform; rendered as ``true`` with optional dates."""

    disabled_date: datetime | None = None
    reenabled_date: datetime | None = None


# --- report sections ---------------------------------------------------------------------------


@_model
class IncidentSummary:
    incident_type: IncidentType | str
    incident_date_time: datetime
    platform: str | None = None  # the full application name where the content occurred
    escalate_to_high_priority: str | None = None  # the reason, free text
    report_annotations: list[ReportAnnotation | str] = field(default_factory=list)
    incident_date_time_description: str | None = None


@_model
class WebPageIncident:
    url: list[str] = field(default_factory=list)
    third_party_hosted_content: bool | None = None
    additional_info: str | None = None


@_model
class EmailIncident:
    email_address: list[Email] = field(default_factory=list)
    content: str | None = None
    additional_info: str | None = None


@_model
class NewsgroupIncident:
    name: str | None = None
    email_address: list[Email] = field(default_factory=list)
    content: str | None = None
    additional_info: str | None = None


@_model
class ChatImIncident:
    chat_client: str | None = None
    chat_room_name: str | None = None
    content: str | None = None
    additional_info: str | None = None


@_model
class OnlineGamingIncident:
    game_name: str | None = None
    console: str | None = None
    content: str | None = None
    additional_info: str | None = None


@_model
class CellPhoneIncident:
    phone_number: Phone | None = None
    latitude: float | None = None
    longitude: float | None = None
    additional_info: str | None = None


@_model
class NonInternetIncident:
    location_name: str | None = None
    incident_address: list[Address] = field(default_factory=list)
    additional_info: str | None = None


@_model
class Peer2PeerIncident:
    client: str | None = None
    ip_capture_event: list[IpCaptureEvent] = field(default_factory=list)
    file_names: list[str] = field(default_factory=list)
    additional_info: str | None = None


@_model
class IncidentDetails:
    """Where the incident happened. Each entry becomes its own ``<internetDetails>``."""

    web_page: list[WebPageIncident] = field(default_factory=list)
    email: list[EmailIncident] = field(default_factory=list)
    newsgroup: list[NewsgroupIncident] = field(default_factory=list)
    chat_im: list[ChatImIncident] = field(default_factory=list)
    online_gaming: list[OnlineGamingIncident] = field(default_factory=list)
    cell_phone: list[CellPhoneIncident] = field(default_factory=list)
    non_internet: list[NonInternetIncident] = field(default_factory=list)
    peer2peer: list[Peer2PeerIncident] = field(default_factory=list)


@_model
class ServedLegalProcessInternational:
    """Legal process served by a foreign law enforcement agency (``flea``)."""

    flea_country: str | None = None


@_model
class LawEnforcement:
    agency_name: str
    case_number: str | None = None
    officer_contact: ContactPerson | None = None
    reported_to_le: bool | None = None
    served_legal_process_domestic: bool | None = None
    served_legal_process_international: bool | ServedLegalProcessInternational | None = None


@_model
class Reporter:
    reporting_person: ContactPerson
    contact_person: ContactPerson | None = None
    company_template: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None


@_model
class PersonOrUserReported:
    person: Person | None = None
    vehicle_description: str | None = None
    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_name: list[str] = field(default_factory=list)
    profile_url: list[str] = field(default_factory=list)
    ip_capture_event: list[IpCaptureEvent] = field(default_factory=list)
    device_id: list[DeviceId] = field(default_factory=list)
    third_party_user_reported: bool | None = None
    prior_ct_reports: list[int] = field(default_factory=list)
    group_identifier: str | None = None
    account_temporarily_disabled: bool | AccountDisabled | None = None
    account_permanently_disabled: bool | AccountDisabled | None = None
    estimated_location: EstimatedLocation | None = None
    additional_info: str | None = None


@_model
class IntendedRecipient:
    person: Person | None = None
    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_name: list[str] = field(default_factory=list)
    profile_url: list[str] = field(default_factory=list)
    ip_capture_event: list[IpCaptureEvent] = field(default_factory=list)
    device_id: list[DeviceId] = field(default_factory=list)
    prior_ct_reports: list[int] = field(default_factory=list)
    group_identifier: str | None = None
    account_temporarily_disabled: bool | AccountDisabled | None = None
    account_permanently_disabled: bool | AccountDisabled | None = None
    estimated_location: EstimatedLocation | None = None
    additional_info: str | None = None


@_model
class Victim:
    person: Person | None = None
    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_name: list[str] = field(default_factory=list)
    profile_url: list[str] = field(default_factory=list)
    ip_capture_event: list[IpCaptureEvent] = field(default_factory=list)
    device_id: list[DeviceId] = field(default_factory=list)
    school_name: str | None = None
    prior_ct_reports: list[int] = field(default_factory=list)
    estimated_location: EstimatedLocation | None = None
    additional_info: str | None = None


@_model
class Report:
    """The ``<report>`` document sent to ``/submit``. Files are not part of it: they are
    uploaded to the opened report afterwards, each with its own ``FileDetails``."""

    incident_summary: IncidentSummary
    reporter: Reporter
    incident_details: IncidentDetails | None = None
    law_enforcement: LawEnforcement | None = None
    person_or_user_reported: PersonOrUserReported | None = None
    intended_recipient: list[IntendedRecipient] = field(default_factory=list)
    victim: list[Victim] = field(default_factory=list)
    additional_info: str | None = None


# --- files -------------------------------------------------------------------------------------


@_model
class OriginalFileHash:
    value: str
    hash_type: HashType | str


@_model
class NameValuePair:
    name: str
    value: str


@_model
class FileDetailsBlock:
    """A ``<details>`` block: EXIF fields, or further hashes (SHA-256, PDQ, PhotoDNA...)."""

    type: FileDetailType | str
    name_value_pair: list[NameValuePair] = field(default_factory=list)


@_model
class FileDetails:
    """The ``<fileDetails>`` document sent to ``/fileinfo`` for one uploaded file.

    ``report_id`` and ``file_id`` come from NCMEC (``/submit`` and ``/upload``); the filing flow
    fills them in, so callers may leave them ``None`` until then.
    """

    report_id: int | None = None
    file_id: str | None = None
    file_name: str | None = None  # the name the reporting company gives the file
    original_file_name: str | None = None  # the name the user uploaded it under, when the platform knows it
    uploaded_to_esp_timestamp: datetime | None = None
    location_of_file: str | None = None
    file_viewed_by_esp: bool | None = None
    exif_viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    file_relevance: FileRelevance | str | None = None
    file_annotations: list[FileAnnotation | str] = field(default_factory=list)
    industry_classification: IndustryClassification | str | None = None
    original_file_hash: list[OriginalFileHash] = field(default_factory=list)
    ip_capture_event: IpCaptureEvent | None = None
    device_id: list[DeviceId] = field(default_factory=list)
    details: list[FileDetailsBlock] = field(default_factory=list)
    additional_info: list[str] = field(default_factory=list)
