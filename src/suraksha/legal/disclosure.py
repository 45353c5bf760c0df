"""Legal approval, the signed disclosure package, its audited download and verification.

Approval is the legal role's and is refused while any check fails or any data point asked for is
still ``pending``: every point is either given or marked withheld / unavailable with a reason,
which the cover letter repeats. The package is kept encrypted in the evidence vault (like the
order it answers), so reading it is a custody event; an officer can download only their own
agency's package, and a refused attempt is audited too.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from suraksha import evidence
from suraksha.audit import record
from suraksha.db.base import utcnow
from suraksha.db.session import session_scope
from suraksha.jurisdictions import load_profile
from suraksha.legal import package, signing, store
from suraksha.legal.gathering import enforcement_record, reports_record
from suraksha.legal.models import Disclosure, LegalCheck, LegalDataPoint, LegalRequest
from suraksha.legal.schemas import (
    DisclosureNotFound,
    DisclosureView,
    DownloadedDisclosure,
    LegalConflict,
    LegalForbidden,
    PackageVerification,
    RequestView,
)
from suraksha.legal.settings import get_legal_settings

__all__ = ["approve", "build_package", "download_disclosure", "list_disclosures", "public_key_b64", "verify_package"]


def approve(request_id: int | str, actor: str, role: str, note: str | None = None) -> RequestView:
    """Legal review: only role ``legal``; refused while a check fails or a data point is pending."""
    store.require_legal(role, "approving an answer")
    with session_scope() as session:
        req = store.load(session, request_id, lock=True)
        if req.status != "in_progress":
            raise LegalConflict(
                f"{req.reference} is {req.status}"
                + (f" ({req.status_reason})" if req.status_reason else "")
                + "; only a request in progress can be approved"
            )
        failed = [
            c.key
            for c in session.scalars(select(LegalCheck).where(LegalCheck.request_id == req.id)).all()
            if not (c.passed or c.overridden)
        ]
        if failed:
            raise LegalConflict(f"{req.reference}: checks not passed: {', '.join(failed)}")
        pending = [
            p.key
            for p in session.scalars(select(LegalDataPoint).where(LegalDataPoint.request_id == req.id)).all()
            if p.status == "pending"
        ]
        if pending:
            raise LegalConflict(
                f"{req.reference}: data points not gathered and without a reason: {', '.join(pending)} "
                "(gather them, or mark them withheld / unavailable with the reason)"
            )
        now = utcnow()
        req.status, req.status_reason, req.approved_by, req.approved_at = "approved", None, actor, now
        store.event(session, req, actor, "request.approved", {"note": (note or "")[:2000], "role": role}, at=now)
        return store.request_view(session, req)


def _media_files(req: LegalRequest, media_rows: list[dict[str, Any]] | None, actor: str, session: Any) -> dict[str, bytes]:
    """Preserved media for a ``content_media`` point that was found: exported from the vault
    (custody ``export``); each row gets the file name it has in the ZIP."""
    if not media_rows or not get_legal_settings().legal_disclose_media:
        return {}
    files: dict[str, bytes] = {}
    for row in media_rows:
        ev_id = row.get("evidence_id")
        if not ev_id:
            continue
        exported = evidence.export(ev_id, actor, f"disclosure for {req.reference}", session=session)
        ext = mimetypes.guess_extension(row.get("mime") or "") or ".bin"
        name = f"media/{row.get('platform_item_id')}_{row.get('position')}{ext}".replace("..", "_")
        files[name] = exported.media
        row["file"] = name
    return files


def build_package(request_id: int | str, actor: str, role: str) -> DisclosureView:
    """Build and store the signed ZIP (data CSV+JSON, media where lawful, cover letter PDF,
    manifest.json signed with Ed25519). The request must be approved; it becomes answered."""
    store.require_legal(role, "building a disclosure package")
    signing.signing_key()  # refuse early (production without a key) before exporting anything
    with session_scope() as session:
        req = store.load(session, request_id, lock=True)
        if req.status not in ("approved", "answered") or req.approved_at is None:
            raise LegalConflict(f"{req.reference} is {req.status}; a package is built only after legal approval")
        view = store.request_view(session, req)
        points = list(
            session.scalars(select(LegalDataPoint).where(LegalDataPoint.request_id == req.id).order_by(LegalDataPoint.id)).all()
        )
        rows = {p.key: [dict(r) for r in (p.data or [])] for p in points}
        found_media = next((rows[p.key] for p in points if p.key == "content_media" and p.status == "found"), None)
        media = _media_files(req, found_media, actor, session)
        zone = load_profile(req.jurisdiction).zone  # CSV times in UTC and the jurisdiction's zone (IST)
        files: dict[str, bytes] = {f"data/{k}.csv": package.rows_csv(v, zone) for k, v in rows.items() if v}
        now = utcnow()
        not_given = [p for p in points if p.status in ("withheld", "unavailable")]
        completeness = (
            "Every data point asked for is given."
            if not not_given
            else "Not everything asked for is given: "
            + "; ".join(f"{p.key.replace('_', ' ')} {p.status} ({p.reason})" for p in not_given)
            + "."
        )
        body = {
            "reference": req.reference,
            "type": req.type,
            "jurisdiction": req.jurisdiction,
            "agency": view.agency_name,
            "officer": {"id": req.officer_id, "name": req.officer_name, "rank": req.officer_rank, "email": req.officer_email},
            "case_number": req.case_number,
            "legal_basis": req.legal_basis,
            "received_at": view.received_at,
            "due_at": view.due_at,
            "deadline_citation": view.deadline_citation,
            "period": {"from": req.period_from, "to": req.period_to},
            "targets": [{"kind": t.kind, "value": t.value} for t in view.targets],
            "data_points": [
                {"key": p.key, "status": p.status, "reason": p.reason, "sources": list(p.sources or []), "rows": rows[p.key]}
                for p in points
            ],
            "actions_taken": enforcement_record(session, req),
            "reports_filed": reports_record(session, req),
            "answer": dict(req.answer or {}),
            "approved_by": req.approved_by,
            "approved_at": req.approved_at,
            "generated_at": now,
            "complete": not not_given,
        }
        files["data/request.json"] = json.dumps(store.jsonable(body), indent=2, sort_keys=True, ensure_ascii=False).encode(
            "utf-8"
        )
        files.update(media)
        pub_raw = signing.public_key_raw(signing.signing_key())
        fmt = "%d %b %Y %H:%M %Z"
        files["cover_letter.pdf"] = package.cover_letter(
            {
                "reference": req.reference,
                "type_title": view.type_title,
                "agency": view.agency_name,
                "officer": ", ".join(x for x in (req.officer_name, req.officer_rank) if x),
                "case_number": req.case_number,
                "legal_basis": req.legal_basis,
                "received_at": view.received_at.strftime(fmt),
                "due_at": view.due_at.strftime(fmt),
                "answered_at": store.local(req, now).strftime(fmt),
                "approved_by": req.approved_by,
                "approved_at": store.local(req, req.approved_at).strftime(fmt),
                "data_points": [{"key": p.key, "status": p.status, "reason": p.reason, "rows": len(rows[p.key])} for p in points],
                "media_files": len(media),
                "completeness": completeness,
                "fingerprint": signing.fingerprint(pub_raw),
            }
        )
        n = (session.scalar(select(func.count()).select_from(Disclosure).where(Disclosure.request_id == req.id)) or 0) + 1
        data, manifest, pub = package.build_zip(
            files, {"reference": req.reference, "disclosure": n, "created_at": now.isoformat(), "complete": not not_given}
        )
        ev = evidence.preserve(
            f"legal:{req.reference}:disclosure:{n}",
            data,
            {"legal_request": req.reference, "disclosure": n, "manifest": manifest},
            [req.jurisdiction],
            actor,
            session=session,
            now=now,
        )
        d = Disclosure(
            request_id=req.id,
            agency_id=req.agency_id,
            filename=f"{req.reference}-disclosure-{n}.zip",
            size=len(data),
            sha256=ev.sha256,
            evidence_id=ev.id,
            public_key=pub,
            manifest=manifest,
            created_by=actor,
            created_at=now,
        )
        session.add(d)
        session.flush()
        req.status, req.answered_at = "answered", now
        req.answer = {
            **dict(req.answer or {}),
            "kind": "disclosure",
            "disclosure_id": d.id,
            "complete": not not_given,
            "not_given": {p.key: f"{p.status}: {p.reason}" for p in not_given},
        }
        store.event(
            session,
            req,
            actor,
            "disclosure.built",
            {
                "disclosure_id": d.id,
                "sha256": d.sha256,
                "size": d.size,
                "files": len(manifest["files"]),
                "media": len(media),
                "complete": not not_given,
            },
            at=now,
        )
        return store.disclosure_view(d)


def download_disclosure(disclosure_id: int, actor: str, agency_id: int | None) -> DownloadedDisclosure:
    """The ZIP bytes; audited. ``agency_id`` is the downloading officer's agency (None: staff):
    another agency's disclosure is refused (LegalForbidden), and the refusal is audited."""
    with session_scope() as session:
        d = session.get(Disclosure, disclosure_id)
        if d is None:
            raise DisclosureNotFound(f"disclosure {disclosure_id} not found")
        owner = d.agency_id
    if agency_id is not None and owner != agency_id:
        with session_scope() as session:
            record(
                session,
                actor,
                "legal.disclosure.download_refused",
                "legal_disclosure",
                disclosure_id,
                {"agency_id": agency_id, "owner_agency_id": owner},
            )
        raise LegalForbidden(f"disclosure {disclosure_id} was made for another agency")
    with session_scope() as session:
        d = session.get(Disclosure, disclosure_id, with_for_update=True)
        req = session.get(LegalRequest, d.request_id)
        content = evidence.read(d.evidence_id, actor, f"download of {req.reference} disclosure {d.id}", session=session)
        d.downloads += 1
        d.last_downloaded_at = utcnow()
        store.event(
            session, req, actor, "disclosure.downloaded", {"disclosure_id": d.id, "agency_id": agency_id, "sha256": d.sha256}
        )
        return DownloadedDisclosure(d.id, d.filename, content, d.sha256)


def list_disclosures(request_id: int | str, *, agency_id: int | None = None) -> list[DisclosureView]:
    with session_scope() as session:
        req = store.load(session, request_id, agency_id=agency_id)
        return [
            store.disclosure_view(d)
            for d in session.scalars(select(Disclosure).where(Disclosure.request_id == req.id).order_by(Disclosure.id)).all()
        ]


def verify_package(zip_data: bytes | Path, public_key: bytes | str | None = None) -> PackageVerification:
    """Check the manifest signature and every file's SHA-256; ``public_key`` (raw or base64 or
    PEM) pins the expected key, else the key in the ZIP is used."""
    return package.verify_zip(zip_data, public_key)


def public_key_b64() -> str:
    """The platform's disclosure signing public key (base64 raw Ed25519)."""
    return signing.public_key_b64()
