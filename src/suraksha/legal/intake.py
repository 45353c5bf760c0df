"""Intake: agencies, filing a request (portal, staff, email, paper), documents and reminders."""

from __future__ import annotations

import datetime as dt

from suraksha.legal.schemas import AgencyView, DocumentView, EventView, ReminderView, RequestIn, RequestView


def register_agency(name: str, kind: str, jurisdiction: str, email_domains: list[str], actor: str) -> AgencyView:
    """Register an agency that may send requests. ``email_domains`` are its official domains."""
    raise NotImplementedError


def list_agencies() -> list[AgencyView]:
    raise NotImplementedError


def get_agency(agency_id: int) -> AgencyView:
    """LookupError when unknown."""
    raise NotImplementedError


def file_request(data: RequestIn, actor: str, *, document: bytes | None = None, document_name: str | None = None,
                 now: dt.datetime | None = None) -> RequestView:
    """File a request: validate, compute its clock, store the PDF in the vault, run the checks.

    ``actor`` is ``user:<name>`` for staff entry or ``officer:<id>`` for the portal. A bad PDF is
    refused (LegalError) and nothing is stored.
    """
    raise NotImplementedError


def add_document(request_id: int, content: bytes, filename: str, actor: str, *, kind: str = "order",
                 agency_id: int | None = None) -> DocumentView:
    """Attach a (checked) PDF to a request; re-runs the document check."""
    raise NotImplementedError


def add_reminder(request_id: int, note: str, actor: str, *, officer_id: int | None = None, agency_id: int | None = None,
                 channel: str = "portal", received_at: dt.datetime | None = None, document: bytes | None = None,
                 document_name: str | None = None) -> ReminderView:
    """Log a reminder received against the request. ``agency_id`` given: must be the request's agency."""
    raise NotImplementedError


def get_request(request_id: int | str, *, agency_id: int | None = None) -> RequestView:
    """One request by id or reference. ``agency_id`` given (portal): another agency's request is
    reported as not found (RequestNotFound), so officers cannot probe for others' references."""
    raise NotImplementedError


def list_requests(*, agency_id: int | None = None, status: str | None = None, type: str | None = None,
                  limit: int = 200) -> list[RequestView]:
    """Requests, newest first; ``agency_id`` limits to one agency (the portal)."""
    raise NotImplementedError


def request_history(request_id: int, *, agency_id: int | None = None) -> list[EventView]:
    """Every step on the request in order."""
    raise NotImplementedError
