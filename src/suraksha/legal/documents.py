"""The PDFs that come with requests: checked before anything is stored, then kept in the vault.

The check is deliberately cheap and strict (no PDF library parses untrusted input here): the
``%PDF-`` header, the ``%%EOF`` trailer near the end (a truncated upload lacks it), at least one
indirect object, and the size limit. The bytes are then encrypted in the evidence vault like any
other evidence, so the order itself has retention, custody and audit.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha import evidence
from suraksha.legal.models import LegalDocument, LegalRequest
from suraksha.legal.schemas import LegalError
from suraksha.legal.settings import get_legal_settings

_OBJ = re.compile(rb"\d+\s+\d+\s+obj\b")
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
DOCUMENT_KINDS = ("order", "reminder", "reply", "other")


@dataclass(frozen=True)
class CheckedPdf:
    content: bytes
    filename: str
    sha256: str
    pages: int | None  # None: pages are inside compressed object streams (not counted)


def check_pdf(content: bytes | None, filename: str | None) -> CheckedPdf:
    """Validate an uploaded PDF; LegalError with the reason when it is not one we accept."""
    if content is None or len(content) == 0:
        raise LegalError("the document is empty")
    limit = get_legal_settings().legal_max_document_bytes
    if len(content) > limit:
        raise LegalError(f"the document is {len(content)} bytes, more than the {limit}-byte limit")
    if not content.startswith(b"%PDF-"):
        raise LegalError("the document is not a PDF (it does not start with %PDF-)")
    if b"%%EOF" not in content[-2048:]:
        raise LegalError("the PDF is truncated or damaged (no %%EOF trailer at its end)")
    if not _OBJ.search(content):
        raise LegalError("the PDF is damaged (it contains no objects)")
    name = PurePath((filename or "document.pdf").replace("\\", "/")).name.strip() or "document.pdf"
    name = re.sub(r"[^\w.\- ()]+", "_", name)[:200]
    pages = len(_PAGE.findall(content)) or None
    return CheckedPdf(bytes(content), name, hashlib.sha256(content).hexdigest(), pages)


def store_document(session: Session, req: LegalRequest, pdf: CheckedPdf, actor: str, kind: str = "order") -> LegalDocument:
    """Preserve the checked PDF in the vault (in the caller's transaction) and record it."""
    if kind not in DOCUMENT_KINDS:
        raise LegalError(f"document kind must be one of {', '.join(DOCUMENT_KINDS)}")
    n = session.scalar(select(func.count()).select_from(LegalDocument).where(LegalDocument.request_id == req.id)) or 0
    ev = evidence.preserve(
        f"legal:{req.reference}:document:{n + 1}",
        pdf.content,
        {"legal_request": req.reference, "document": pdf.filename, "kind": kind, "sha256": pdf.sha256},
        [req.jurisdiction],
        actor,
        session=session,
    )
    doc = LegalDocument(
        request_id=req.id,
        kind=kind,
        filename=pdf.filename,
        size=len(pdf.content),
        sha256=pdf.sha256,
        pages=pdf.pages,
        evidence_id=ev.id,
        uploaded_by=actor,
    )
    session.add(doc)
    session.flush()
    return doc
