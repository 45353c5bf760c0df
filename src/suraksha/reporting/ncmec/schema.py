"""Child order and required children of the elements we write, as data.

NCMEC's XSD uses sequences, so a document whose elements are out of order is rejected. The
builders in ``xml.py`` write children in exactly this order; ``check_document`` verifies a
document against it. The tests check the reference snapshots against these tables too, so the
builders, the tables and the reference cannot drift apart silently. The test simulator of the
API uses ``check_document`` to reject what NCMEC would reject.

Tables are keyed by element name. That is unambiguous for the elements below: where a name is
reused (``address`` inside ``address``), the inner element is a leaf with no children to check.
"""

from __future__ import annotations

from lxml import etree

_CONTACT = ("firstName", "lastName", "phone", "email", "address")
_PERSON = (*_CONTACT, "age", "dateOfBirth")
_ADDRESS = ("address", "city", "zipCode", "state", "nonUsaState", "country")

#: element name -> allowed children, in schema order.
CHILD_ORDER: dict[str, tuple[str, ...]] = {
    "report": (
        "incidentSummary",
        "internetDetails",
        "lawEnforcement",
        "reporter",
        "personOrUserReported",
        "intendedRecipient",
        "victim",
        "additionalInfo",
    ),
    "incidentSummary": (
        "incidentType",
        "platform",
        "escalateToHighPriority",
        "reportAnnotations",
        "incidentDateTime",
        "incidentDateTimeDescription",
    ),
    "reportAnnotations": ("sextortion", "csamSolicitation", "minorToMinorInteraction", "spam", "sadisticOnlineExploitation"),
    "internetDetails": (
        "webPageIncident",
        "emailIncident",
        "newsgroupIncident",
        "chatImIncident",
        "onlineGamingIncident",
        "cellPhoneIncident",
        "nonInternetIncident",
        "peer2peerIncident",
    ),
    "webPageIncident": ("url", "additionalInfo"),
    "emailIncident": ("emailAddress", "content", "additionalInfo"),
    "newsgroupIncident": ("name", "emailAddress", "content", "additionalInfo"),
    "chatImIncident": ("chatClient", "chatRoomName", "content", "additionalInfo"),
    "onlineGamingIncident": ("gameName", "console", "content", "additionalInfo"),
    "cellPhoneIncident": ("phoneNumber", "latitude", "longitude", "additionalInfo"),
    "nonInternetIncident": ("locationName", "incidentAddress", "additionalInfo"),
    "peer2peerIncident": ("client", "ipCaptureEvent", "fileNames", "additionalInfo"),
    "lawEnforcement": (
        "agencyName",
        "caseNumber",
        "officerContact",
        "reportedToLe",
        "servedLegalProcessDomestic",
        "servedLegalProcessInternational",
    ),
    "reporter": ("reportingPerson", "contactPerson", "companyTemplate", "termsOfService", "legalURL"),
    "reportingPerson": _CONTACT,
    "contactPerson": _CONTACT,
    "officerContact": _CONTACT,
    "person": _PERSON,
    "personOrUserReportedPerson": _PERSON,
    "intendedRecipientPerson": _PERSON,
    "victimPerson": _PERSON,
    "address": _ADDRESS,
    "incidentAddress": _ADDRESS,
    "personOrUserReported": (
        "personOrUserReportedPerson",
        "vehicleDescription",
        "espIdentifier",
        "espService",
        "screenName",
        "displayName",
        "profileUrl",
        "ipCaptureEvent",
        "deviceId",
        "thirdPartyUserReported",
        "priorCTReports",
        "groupIdentifier",
        "accountTemporarilyDisabled",
        "accountPermanentlyDisabled",
        "estimatedLocation",
        "additionalInfo",
    ),
    "intendedRecipient": (
        "intendedRecipientPerson",
        "espIdentifier",
        "espService",
        "screenName",
        "displayName",
        "profileUrl",
        "ipCaptureEvent",
        "deviceId",
        "priorCTReports",
        "groupIdentifier",
        "accountTemporarilyDisabled",
        "accountPermanentlyDisabled",
        "estimatedLocation",
        "additionalInfo",
    ),
    "victim": (
        "victimPerson",
        "espIdentifier",
        "espService",
        "screenName",
        "displayName",
        "profileUrl",
        "ipCaptureEvent",
        "deviceId",
        "schoolName",
        "priorCTReports",
        "estimatedLocation",
        "additionalInfo",
    ),
    "ipCaptureEvent": ("ipAddress", "eventName", "dateTime", "possibleProxy", "port"),
    "deviceId": ("idType", "idValue", "eventName", "dateTime"),
    "estimatedLocation": ("city", "region", "countryCode"),
    "fileDetails": (
        "reportId",
        "fileId",
        "fileName",
        "originalFileName",
        "uploadedToEspTimestamp",
        "locationOfFile",
        "fileViewedByEsp",
        "exifViewedByEsp",
        "publiclyAvailable",
        "fileRelevance",
        "fileAnnotations",
        "industryClassification",
        "originalFileHash",
        "ipCaptureEvent",
        "deviceId",
        "details",
        "additionalInfo",
    ),
    "fileAnnotations": (
        "animeDrawingVirtualHentai",
        "potentialMeme",
        "viral",
        "possibleSelfProduction",
        "physicalHarm",
        "violenceGore",
        "bestiality",
        "liveStreaming",
        "infant",
        "generativeAi",
    ),
    "details": ("nameValuePair",),
    "nameValuePair": ("name", "value"),
}

#: element name -> children that must be present.
REQUIRED_CHILDREN: dict[str, tuple[str, ...]] = {
    "report": ("incidentSummary", "reporter"),
    "incidentSummary": ("incidentType", "incidentDateTime"),
    "reporter": ("reportingPerson",),
    "lawEnforcement": ("agencyName",),
    "ipCaptureEvent": ("ipAddress",),
    "deviceId": ("idType", "idValue"),
    "fileDetails": ("reportId", "fileId"),
    "nameValuePair": ("name", "value"),
}

#: elements that may appear at most once in their parent.
SINGLE: frozenset[str] = frozenset(
    {
        "incidentSummary", "lawEnforcement", "reporter", "personOrUserReported", "incidentType",
        "escalateToHighPriority", "reportAnnotations", "incidentDateTime",
        "incidentDateTimeDescription", "reportingPerson", "contactPerson", "officerContact",
        "firstName", "lastName", "age", "dateOfBirth", "ipAddress", "eventName", "dateTime",
        "possibleProxy", "port", "idType", "idValue", "reportId", "fileId", "fileName", "originalFileName", "uploadedToEspTimestamp", "platform",
        "locationOfFile", "fileViewedByEsp", "exifViewedByEsp", "publiclyAvailable",
        "fileRelevance", "fileAnnotations", "industryClassification", "screenName",
        "estimatedLocation", "city", "region", "countryCode", "zipCode", "state", "country",
    }
)  # fmt: skip


def check_element(element: etree._Element, path: str = "") -> list[str]:
    """Problems in ``element`` and below: unknown children, wrong order, missing or repeated
    children. An empty list means the structure is what the schema expects."""
    tag = element.tag if isinstance(element.tag, str) else ""
    here = f"{path}/{tag}" if path else tag
    problems: list[str] = []
    order = CHILD_ORDER.get(tag)
    children = [c for c in element if isinstance(c.tag, str)]
    if order is not None:
        last = -1
        seen: dict[str, int] = {}
        for child in children:
            if child.tag not in order:
                problems.append(f"{here}: unexpected element <{child.tag}>")
                continue
            position = order.index(child.tag)
            if position < last:
                problems.append(f"{here}: <{child.tag}> is out of order (must come before <{order[last]}>)")
            last = max(last, position)
            seen[child.tag] = seen.get(child.tag, 0) + 1
        for name, count in seen.items():
            if count > 1 and name in SINGLE:
                problems.append(f"{here}: <{name}> appears {count} times (at most once)")
        for name in REQUIRED_CHILDREN.get(tag, ()):
            if name not in seen:
                problems.append(f"{here}: required element <{name}> is missing")
    for child in children:
        problems.extend(check_element(child, here))
    return problems


def check_document(root: etree._Element) -> list[str]:
    """``check_element`` for a whole submitted document (``report`` or ``fileDetails``)."""
    if root.tag not in ("report", "fileDetails"):
        return [f"root element must be <report> or <fileDetails>, not <{root.tag}>"]
    return check_element(root)
