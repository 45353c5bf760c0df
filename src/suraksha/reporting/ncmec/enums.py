"""Closed value sets of NCMEC's CyberTipline Reporting API, and its base URLs.

The values are NCMEC's exact spellings (the XSD compares strings), so they are ``StrEnum``s: a
member *is* its wire value and can be passed wherever a ``str`` is expected. Fields whose value
set NCMEC leaves open (device id types, address/phone/email types) stay plain ``str`` in the
models; the constants below for them are conveniences, not a limit.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

PRODUCTION_BASE_URL = "https://report.cybertip.org/ispws"
TEST_BASE_URL = "https://exttest.cybertip.org/ispws"

#: ``xsi:noNamespaceSchemaLocation`` written on the root of every document we submit.
SCHEMA_LOCATION = "https://report.cybertip.org/ispws/xsd"
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"


class Environment(StrEnum):
    """Which CyberTipline the client talks to. Credentials differ between the two."""

    TEST = "test"
    PRODUCTION = "production"

    @property
    def base_url(self) -> str:
        return PRODUCTION_BASE_URL if self is Environment.PRODUCTION else TEST_BASE_URL


class IncidentType(StrEnum):
    CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
    CHILD_SEX_TOURISM = "Child Sex Tourism"
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation"
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name"
    MISLEADING_WORDS_OR_IMAGES = "Misleading Words or Digital Images on the Internet"
    ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"  # plural, as in NCMEC's XSD
    UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"


class ReportAnnotation(StrEnum):
    """Flags on the whole report; rendered as empty elements, in this (schema) order."""

    SEXTORTION = "sextortion"
    CSAM_SOLICITATION = "csamSolicitation"
    MINOR_TO_MINOR_INTERACTION = "minorToMinorInteraction"
    SPAM = "spam"
    SADISTIC_ONLINE_EXPLOITATION = "sadisticOnlineExploitation"


class FileAnnotation(StrEnum):
    """Flags on one file; rendered as empty elements, in this (schema) order."""

    ANIME_DRAWING_VIRTUAL_HENTAI = "animeDrawingVirtualHentai"
    POTENTIAL_MEME = "potentialMeme"
    VIRAL = "viral"
    POSSIBLE_SELF_PRODUCTION = "possibleSelfProduction"
    PHYSICAL_HARM = "physicalHarm"
    VIOLENCE_GORE = "violenceGore"
    BESTIALITY = "bestiality"
    LIVE_STREAMING = "liveStreaming"
    INFANT = "infant"
    GENERATIVE_AI = "generativeAi"


class IndustryClassification(StrEnum):
    """The industry categorisation scheme: A = prepubescent, B = pubescent;
    1 = sex act, 2 = lascivious exhibition. Only files with relevance "Reported" may carry one."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"


class FileRelevance(StrEnum):
    REPORTED = "Reported"
    SUPPLEMENTAL_REPORTED = "Supplemental Reported"


class HashType(StrEnum):
    """Hash types NCMEC accepts in ``originalFileHash``. Other hashes (SHA-256, PDQ) go in a
    ``details type="HASH"`` block instead."""

    MD5 = "MD5"
    SHA1 = "SHA1"


class FileDetailType(StrEnum):
    EXIF = "EXIF"
    HASH = "HASH"


class EventName(StrEnum):
    """What the user was doing when an IP address or device id was captured."""

    LOGIN = "Login"
    REGISTRATION = "Registration"
    PURCHASE = "Purchase"
    UPLOAD = "Upload"
    OTHER = "Other"
    UNKNOWN = "Unknown"


class ResponseCode(IntEnum):
    """``responseCode`` values in NCMEC's responses. 0 is success; anything else is an error."""

    SUCCESS = 0
    SERVER_ERROR = 1000
    SAVE_FAILED = 1100
    UPLOAD_FAILED = 1110
    FILE_UPLOAD_FAILED = 1111
    RESOURCE_NOT_FOUND = 1210
    UPDATE_FAILED = 1300
    AUTHENTICATION_REQUIRED = 2000
    NOT_AUTHORIZED = 3000
    NOT_AUTHORIZED_FOR_SUBMISSIONS = 3100
    NOT_AUTHORIZED_FOR_UPDATES = 3300
    INVALID_REQUEST = 4000
    VALIDATION_FAILED = 4100
    MALFORMED_XML_SUBMITTAL = 4110
    MALFORMED_FILE_SUBMITTAL = 4200
    REPORT_DOES_NOT_EXIST = 5001
    FILE_DOES_NOT_EXIST = 5002
    REPORT_ALREADY_RETRACTED = 5101
    REPORT_ALREADY_FINISHED = 5102

    @property
    def is_server_side(self) -> bool:
        """1xxx codes: NCMEC failed to save/store; trying again later can succeed."""
        return 1000 <= self.value < 2000


# Open value sets: common values, for convenience only.
DEVICE_ID_TYPES = ("IMEI", "MEID", "ICCID", "IMSI", "Serial Number", "Advertising ID")
