"""What goes into and comes out of the legal service: validated input and plain read-only views.

``RequestIn`` is shared by every way a request arrives (portal form, staff entry, REST API, CLI),
so one set of rules decides what a complete request is. Views are frozen dataclasses holding
no ORM objects, safe to use after the session has closed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.legal.models import DATA_POINT_KEYS

Channel = Literal["portal", "staff", "email", "paper"]
IssuerKind = Literal["court", "government", "police", "commission", "ngo", "user"]
TargetKind = Literal["account", "url", "item"]
DataPointKey = Literal["subscriber_data", "ip_logs", "content_urls", "server_details", "linked_accounts", "content_media"]


class LegalError(InvalidInput):
    """Bad input or a step not allowed in the request's state (HTTP 400 / 409; CLI one line)."""


class LegalConflict(Conflict, LegalError):
    """A step not allowed in the request's state (409)."""


class LegalForbidden(Forbidden, LegalError):
    """The actor may not do this (wrong role, another agency's request)."""


class RequestNotFound(NotFound):
    pass


class DisclosureNotFound(NotFound):
    pass


class TargetIn(BaseModel):
    """One account / URL / item the request concerns, as the requester names it."""

    model_config = ConfigDict(extra="forbid")

    kind: TargetKind
    value: str = Field(min_length=1, max_length=2000)

    @field_validator("value")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("a target needs a value (account id, URL or item id)")
        return v


class RequestIn(BaseModel):
    """A legal request as filed. ``type`` must be a request type of ``jurisdiction``'s profile."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=3, max_length=40)
    jurisdiction: str = Field(default="in", min_length=2, max_length=2)
    channel: Channel = "staff"
    agency_id: int | None = None
    officer_id: int | None = None
    officer_name: str | None = Field(default=None, max_length=200)
    officer_rank: str | None = Field(default=None, max_length=100)
    officer_email: str | None = Field(default=None, max_length=320)
    issuer_kind: IssuerKind
    rank_exception: bool = False  # the sender confirms the profile's exception (e.g. no JS appointed)
    case_number: str | None = Field(default=None, max_length=200)  # FIR / case / summons number
    legal_basis: str | None = Field(default=None, max_length=5000)
    summary: str | None = Field(default=None, max_length=20000)
    received_at: dt.datetime | None = None  # default: now
    order_deadline: dt.datetime | None = None  # the time written in the order itself
    period_from: dt.datetime | None = None
    period_to: dt.datetime | None = None
    targets: list[TargetIn] = Field(default_factory=list, max_length=5000)
    data_points: list[DataPointKey] = Field(default_factory=list)

    @field_validator("type", "jurisdiction")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()

    @field_validator("officer_name", "officer_rank", "officer_email", "case_number", "legal_basis", "summary")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        return v or None

    @field_validator("received_at", "order_deadline", "period_from", "period_to")
    @classmethod
    def _aware(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and (v.tzinfo is None or v.utcoffset() is None):
            raise ValueError("times must carry a time zone (e.g. 2026-12-01T22:30:00+05:30)")
        return v

    @field_validator("data_points")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _period(self) -> RequestIn:
        if self.period_from and self.period_to and self.period_from > self.period_to:
            raise ValueError("period_from is after period_to")
        return self


# --------------------------------------------------------------------------- views
@dataclass(frozen=True)
class AgencyView:
    id: int
    name: str
    kind: str
    jurisdiction: str
    email_domains: list[str]
    created_at: dt.datetime


@dataclass(frozen=True)
class TargetView:
    id: int
    kind: str
    value: str
    account_id: int | None
    item_id: int | None
    action_id: int | None
    action_kind: str | None
    outcome: str | None
    done_at: dt.datetime | None
    done_source: str | None = None  # platform (acknowledged) | manual (recorded by legal staff)
    done_by: str | None = None
    done_what: str | None = None
    done_evidence: str | None = None
    action_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CheckView:
    key: str
    passed: bool
    reason: str
    overridden: bool
    answer_note: str | None
    answered_by: str | None
    answered_at: dt.datetime | None

    @property
    def ok(self) -> bool:
        """Passed, or failed and overridden by a legal user (with a recorded note)."""
        return self.passed or self.overridden


@dataclass(frozen=True)
class DataPointView:
    key: str
    status: str  # pending | found | withheld | unavailable
    sources: list[str]
    rows: list[dict[str, Any]]
    reason: str | None
    updated_by: str | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class DocumentView:
    id: int
    kind: str
    filename: str
    size: int
    sha256: str
    pages: int | None
    evidence_id: str
    created_at: dt.datetime


@dataclass(frozen=True)
class ReminderView:
    id: int
    received_at: dt.datetime
    officer_id: int | None
    channel: str
    note: str
    document_id: int | None
    recorded_by: str


@dataclass(frozen=True)
class EventView:
    at: dt.datetime
    actor: str
    action: str
    details: dict[str, Any]


@dataclass(frozen=True)
class NotificationView:
    id: int
    request_id: int
    reference: str
    level: str
    recipients: list[str]
    threshold: float
    message: str
    at: dt.datetime


@dataclass(frozen=True)
class DisclosureView:
    id: int
    request_id: int
    agency_id: int | None
    filename: str
    size: int
    sha256: str
    public_key: str
    created_by: str
    created_at: dt.datetime
    downloads: int


@dataclass(frozen=True)
class RequestView:
    """One request with everything the portal and the staff dashboard show about it."""

    id: int
    reference: str
    type: str
    type_title: str
    jurisdiction: str
    agency_id: int | None
    agency_name: str | None
    officer_id: int | None
    officer_name: str | None
    officer_rank: str | None
    officer_email: str | None
    issuer_kind: str
    case_number: str | None
    legal_basis: str | None
    summary: str | None
    received_at: dt.datetime
    order_deadline: dt.datetime | None
    due_at: dt.datetime  # in the jurisdiction's time zone
    deadline_citation: str
    status: str
    status_reason: str | None
    channel: str
    period_from: dt.datetime | None
    period_to: dt.datetime | None
    answer: dict[str, Any]
    approved_by: str | None
    approved_at: dt.datetime | None
    answered_at: dt.datetime | None
    created_by: str
    created_at: dt.datetime
    targets: list[TargetView] = field(default_factory=list)
    checks: list[CheckView] = field(default_factory=list)
    data_points: list[DataPointView] = field(default_factory=list)
    documents: list[DocumentView] = field(default_factory=list)
    reminders: list[ReminderView] = field(default_factory=list)
    disclosures: list[DisclosureView] = field(default_factory=list)

    @property
    def checks_ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed_checks(self) -> list[CheckView]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class DashboardEntry:
    id: int
    reference: str
    type: str
    status: str
    agency_name: str | None
    received_at: dt.datetime
    due_at: dt.datetime
    remaining: dt.timedelta  # negative when overdue
    elapsed_fraction: float  # share of the period used; >= 1.0 when overdue


@dataclass(frozen=True)
class Dashboard:
    """Open requests by urgency. ``at_risk``: past the at-risk share of the period, not yet due."""

    now: dt.datetime
    overdue: list[DashboardEntry]
    at_risk: list[DashboardEntry]
    due: list[DashboardEntry]

    def counts(self) -> dict[str, int]:
        return {"overdue": len(self.overdue), "at_risk": len(self.at_risk), "due": len(self.due)}


@dataclass(frozen=True)
class DownloadedDisclosure:
    disclosure_id: int
    filename: str
    content: bytes
    sha256: str


@dataclass(frozen=True)
class PackageVerification:
    """Result of checking a disclosure ZIP: ``ok`` only when the signature and every hash match."""

    ok: bool
    errors: list[str]
    files_checked: int
    public_key: str | None
    reference: str | None


__all__ = [
    "DATA_POINT_KEYS",
    "AgencyView",
    "CheckView",
    "Dashboard",
    "DashboardEntry",
    "DataPointView",
    "DisclosureNotFound",
    "DisclosureView",
    "DocumentView",
    "DownloadedDisclosure",
    "EventView",
    "LegalConflict",
    "LegalError",
    "LegalForbidden",
    "NotificationView",
    "PackageVerification",
    "ReminderView",
    "RequestIn",
    "RequestNotFound",
    "RequestView",
    "TargetIn",
    "TargetView",
]
