"""Bank pages (``/banks``): list and create banks, enable/disable them, set the PDQ threshold and
transform matching, search, add (a file or a hash) and remove (with a reason) entries, import and
export bank files, and see an exchange's last fetch.

Adapters only: every change goes through ``suraksha.matching.curation`` (which calls
``matching.banks`` and books the audit event). Reading needs ``banks.read``; changing and exporting
need ``banks.manage`` (senior reviewers). No media is ever shown here: a bank holds signals only.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi import Path as FastApiPath
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from suraksha.auth.roles import can
from suraksha.errors import InvalidInput, SurakshaError, TooLarge
from suraksha.matching import banks as bank_service
from suraksha.matching import curation
from suraksha.matching.formats import FORMATS
from suraksha.settings import get_settings
from suraksha.signals.types import signal_type_names
from suraksha.web import errors as error_pages
from suraksha.web.headers import harden
from suraksha.web.paging import Pager, page_number
from suraksha.web.render import render
from suraksha.web.security import staff_page

router = APIRouter(include_in_schema=False)
READ, MANAGE = "banks.read", "banks.manage"
PER_PAGE = 50
MAX_IMPORT_BYTES = 64 * 1024 * 1024
BankName = Annotated[str, FastApiPath(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
EntryId = Annotated[int, FastApiPath(ge=1, le=2**63 - 1)]


def _redirect(url: str) -> Response:
    return harden(RedirectResponse(url, status_code=303))


def _bank_url(name: str, msg: str | None = None) -> str:
    return f"/banks/{quote(name, safe='')}" + (f"?msg={quote(msg)}" if msg else "")


async def _form(request: Request) -> tuple[dict[str, str], dict[str, UploadFile]]:
    form = await request.form()
    texts = {k: v for k, v in form.items() if isinstance(v, str)}
    files = {k: v for k, v in form.items() if isinstance(v, UploadFile) and v.filename}
    return texts, files


def _threshold(raw: str) -> int:
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 3:
        raise InvalidInput(f"PDQ threshold must be a whole number from 0 to {bank_service.MAX_PDQ_THRESHOLD}")
    return int(raw)


async def _read_upload(upload: UploadFile, limit: int, what: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{what} is larger than {limit // (1024 * 1024)} MiB")
    return data


def _add_message(result: bank_service.AddResult) -> str:
    text = f"Added {result.added} entr{'y' if result.added == 1 else 'ies'}"
    if result.duplicates:
        text += f"; {result.duplicates} already in the bank"
    if result.skipped:
        text += "; not added: " + "; ".join(result.skipped)
    return text + "."


@router.get("/banks", response_class=HTMLResponse)
@staff_page(READ)
async def banks_page(request: Request) -> Response:
    infos = await run_in_threadpool(bank_service.list_banks)
    status = {b.name: await run_in_threadpool(curation.exchange_status, b.name) for b in infos if b.source != "local"}
    return render(
        request,
        "banks.html",
        {"banks": infos, "exchanges": status, "msg": request.query_params.get("msg"), "error": None, "form": {}},
    )


@router.post("/banks")
@staff_page(MANAGE)
async def bank_create(request: Request) -> Response:
    form, _ = await _form(request)
    name = form.get("name", "").strip()
    try:
        await run_in_threadpool(
            lambda: curation.create(
                request.state.staff.actor,
                name,
                form.get("label", "").strip(),
                negative=form.get("negative") == "on",
                pdq_threshold=_threshold(form.get("pdq_threshold", "31") or "31"),
                match_transforms=form.get("match_transforms") == "on",
                description=form.get("description", "").strip()[:2000],
            )
        )
    except SurakshaError as exc:
        status, message = error_pages.describe(exc)
        infos = await run_in_threadpool(bank_service.list_banks)
        return render(
            request, "banks.html", {"banks": infos, "exchanges": {}, "msg": None, "error": message, "form": form}, status=status
        )
    return _redirect(_bank_url(name, f"Bank {name} created."))


@router.get("/banks/{name}", response_class=HTMLResponse)
@staff_page(READ)
async def bank_page(request: Request, name: BankName) -> Response:
    query = (request.query_params.get("q") or "").strip()
    signal_type = (request.query_params.get("type") or "").strip()
    try:
        info = await run_in_threadpool(bank_service.get_bank, name)
        page = page_number(request)
        found = await run_in_threadpool(
            lambda: curation.entry_page(
                name, query=query or None, signal_type=signal_type or None, limit=PER_PAGE, offset=(page - 1) * PER_PAGE
            )
        )
        exchange = await run_in_threadpool(curation.exchange_status, name)
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    params = {k: v for k, v in (("q", query), ("type", signal_type)) if v}
    return render(
        request,
        "bank.html",
        {
            "bank": info,
            "found": found,
            "pager": Pager(page=page, per_page=PER_PAGE, total=found.total, base=_bank_url(name), params=params),
            "q": query,
            "type": signal_type,
            "types": signal_type_names(),
            "formats": FORMATS,
            "exchange": exchange,
            "manage": can(request.state.staff.role, MANAGE),
            "msg": request.query_params.get("msg"),
        },
    )


@router.post("/banks/{name}/settings")
@staff_page(MANAGE)
async def bank_settings(request: Request, name: BankName) -> Response:
    form, _ = await _form(request)
    try:
        info = await run_in_threadpool(
            lambda: curation.configure(
                request.state.staff.actor,
                name,
                enabled=form.get("enabled") == "on",
                pdq_threshold=_threshold(form.get("pdq_threshold", "")),
                match_transforms=form.get("match_transforms") == "on",
                description=form["description"].strip()[:2000] if "description" in form else None,
            )
        )
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    state = "enabled" if info.enabled else "disabled (matches nothing)"
    return _redirect(_bank_url(name, f"Saved: {state}, PDQ threshold {info.pdq_threshold}."))


@router.post("/banks/{name}/entries")
@staff_page(MANAGE)
async def bank_add(request: Request, name: BankName) -> Response:
    form, files = await _form(request)
    note = form.get("note", "")
    actor = request.state.staff.actor
    try:
        upload = files.get("file")
        if upload is not None:
            data = await _read_upload(upload, get_settings().core.max_media_bytes, "the file")
            result = await run_in_threadpool(
                lambda: curation.add_file(actor, name, data, mime=upload.content_type or None, note=note)
            )
        else:
            value = form.get("signal", "").strip()
            if not value:
                raise InvalidInput("choose a file to hash, or type a hash or URL and its signal type")
            result = await run_in_threadpool(
                lambda: curation.add_hash(actor, name, form.get("signal_type", ""), value, note=note)
            )
    except (SurakshaError, ValidationError) as exc:
        return error_pages.error_page(request, exc)
    return _redirect(_bank_url(name, _add_message(result)))


@router.post("/banks/{name}/entries/{entry_id}/remove")
@staff_page(MANAGE)
async def bank_remove(request: Request, name: BankName, entry_id: EntryId) -> Response:
    form, _ = await _form(request)
    try:
        gone = await run_in_threadpool(curation.remove, request.state.staff.actor, name, entry_id, form.get("reason", ""))
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return _redirect(_bank_url(name, f"Removed entry {gone.id} ({gone.signal_type}). It no longer matches."))


@router.post("/banks/{name}/import")
@staff_page(MANAGE)
async def bank_import(request: Request, name: BankName) -> Response:
    form, files = await _form(request)
    fmt = form.get("format", "csv")
    try:
        upload = files.get("file")
        if upload is None:
            raise InvalidInput("choose a bank file to import (CSV or threatexchange text)")
        data = await _read_upload(upload, MAX_IMPORT_BYTES, "the bank file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("the bank file is not UTF-8 text") from None
        result = await run_in_threadpool(
            lambda: curation.import_text(request.state.staff.actor, name, text, fmt, filename=upload.filename or "")
        )
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return _redirect(_bank_url(name, f"Imported {result.added} entries; {result.duplicates} already in the bank."))


@router.get("/banks/{name}/export.{fmt}")
@staff_page(MANAGE)
async def bank_export(request: Request, name: BankName, fmt: str) -> Response:
    if fmt not in FORMATS:
        return error_pages.page(request, 404, f"no export as {fmt[:20]!r}: choose CSV or threatexchange text on the bank page")
    try:
        text, _ = await run_in_threadpool(curation.export_text, request.state.staff.actor, name, fmt)
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    ext = "csv" if fmt == "csv" else "txt"
    headers: dict[str, Any] = {"Content-Disposition": f'attachment; filename="{name}.{ext}"', "Cache-Control": "no-store"}
    return Response(text, media_type="text/csv" if fmt == "csv" else "text/plain", headers=headers)
