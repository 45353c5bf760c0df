"""What the officers' portal and the staff legal pages share: reading a request form into the
legal service's ``RequestIn`` fields, reading an uploaded PDF under the size limit, and the labels
and clocks both show. Rules about what a complete request is stay in ``legal.intake``; this only
turns form fields into values."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Path
from starlette.datastructures import FormData, UploadFile

from suraksha.errors import InvalidInput
from suraksha.jurisdictions import load_profile
from suraksha.legal.models import DATA_POINT_KEYS
from suraksha.legal.settings import get_legal_settings

# Request types an agency files through the portal (a grievance or a CSAM report is not filed by police).
NOT_FILED_BY_OFFICERS = ("grievance_acknowledgement", "grievance_resolution", "csam_report")
DATA_POINT_LABELS = {
    "subscriber_data": "Subscriber data (name, phone, email, registration)",
    "ip_logs": "IP logs with ports and times",
    "content_urls": "Content URLs / links shared",
    "server_details": "Server / region that hosted the content",
    "linked_accounts": "Linked accounts",
    "content_media": "The content itself (preserved media)",
}
STATUS_LABELS = {
    "received": "received: verification checks need an answer",
    "in_progress": "in progress",
    "approved": "approved, answer being prepared",
    "answered": "answered",
    "rejected": "rejected",
    "closed": "closed",
}
TARGET_FIELDS = (("accounts", "account"), ("urls", "url"), ("items", "item"))
# A row id in a path: out-of-range numbers get a 4xx, not a database overflow.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def request_types(jurisdiction: str, *, officer: bool) -> list[tuple[str, str]]:
    """(type, title) of the jurisdiction's request types, for a form's choice list."""
    deadlines = load_profile(jurisdiction).deadlines
    return [(k, d.title) for k, d in deadlines.items() if not (officer and k in NOT_FILED_BY_OFFICERS)]


def rank_suggestions(jurisdiction: str) -> list[str]:
    """Known ranks (all ladders of the profile), as people write them."""
    ladders = load_profile(jurisdiction).rank_ladders
    return [r.replace("_", " ").title() for ladder in ladders.values() for r in ladder]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def local_time_field(value: str, zone: ZoneInfo, name: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """A ``datetime-local`` or ``date`` field read in the jurisdiction's time zone (officers write
    local times); a bad value is a ValueError naming the field."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            t = dt.time(23, 59, 59) if end_of_day else dt.time(0, 0)
            # In UTC: the period is stored as given and SQLite keeps no offset.
            return dt.datetime.combine(day, t, tzinfo=zone).astimezone(dt.UTC)
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} is not a date/time (expected e.g. 2026-12-01T18:00)") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(dt.UTC)


def request_fields(form: FormData, jurisdiction: str) -> dict[str, Any]:
    """The request part of a filing form (type, case, basis, deadline, period, targets, data
    points). ValueError with a readable reason for a field that cannot be read."""
    zone = load_profile(jurisdiction).zone
    targets = []
    for field, kind in TARGET_FIELDS:
        for line in _text(form, field).splitlines():
            if line.strip():
                targets.append({"kind": kind, "value": line.strip()})
    points = [p for p in form.getlist("data_points") if isinstance(p, str)]
    unknown = [p for p in points if p not in DATA_POINT_KEYS]
    if unknown:
        raise InvalidInput(f"unknown data point {unknown[0]!r}")
    return {
        "type": _text(form, "type"),
        "jurisdiction": jurisdiction,
        "case_number": _text(form, "case_number") or None,
        "legal_basis": _text(form, "legal_basis") or None,
        "summary": _text(form, "summary") or None,
        "rank_exception": _text(form, "rank_exception") == "on",
        "order_deadline": local_time_field(_text(form, "order_deadline"), zone, "the deadline set in the order"),
        "period_from": local_time_field(_text(form, "period_from"), zone, "period from"),
        "period_to": local_time_field(_text(form, "period_to"), zone, "period to", end_of_day=True),
        "targets": targets,
        "data_points": points,
    }


async def read_pdf_upload(form: FormData, name: str = "document") -> tuple[bytes | None, str | None]:
    """The uploaded file's bytes (read at most one byte past the legal document limit, so a huge
    upload is refused by ``legal.documents.check_pdf`` without being held in memory) and name;
    (None, None) when no file was chosen."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, None
    limit = get_legal_settings().legal_max_document_bytes
    content = await upload.read(limit + 1)
    return content, upload.filename


def validation_message(exc: Exception) -> str:
    """One readable line from a pydantic ValidationError (or any ValueError)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for e in errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
            parts.append(f"{where.replace('_', ' ')}: {msg}" if where else msg)
        return "; ".join(parts)
    return str(exc)


def time_left(due: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """'3 h 20 min left' or 'overdue by 1 h 05 min' (what both the dashboard and the portal show)."""
    if due is None:
        return "-"
    now = now or dt.datetime.now(dt.UTC)
    seconds = int((due - now).total_seconds())
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    text = f"{days} d {hours} h" if days else f"{hours} h {mins:02d} min" if hours else f"{mins} min"
    return f"{text} left" if seconds > 0 else f"overdue by {text}"


def register_filters(env: Any) -> None:
    env.filters.setdefault("time_left", time_left)
    env.globals.setdefault("DATA_POINT_LABELS", DATA_POINT_LABELS)
    env.globals.setdefault("STATUS_LABELS", STATUS_LABELS)
