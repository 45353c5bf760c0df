"""Banks: list, create, configure, add signals or media, remove entries (``matching.banks``)."""

from __future__ import annotations

import json
from dataclasses import asdict

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile

from suraksha.api.auth import require_scope
from suraksha.api.errors import ApiError, require_storable
from suraksha.api.lists import DEFAULT_LIMIT, MAX_LIMIT, BadCursor, decode_cursor, encode_cursor
from suraksha.api.schemas import ERRORS, AddResultOut, BankCreate, BankList, BankOut, BankUpdate, SignalsIn
from suraksha.api.uploads import hash_pool, mime_hint, read_upload

router = APIRouter(prefix="/v1/banks", tags=["banks"], responses=ERRORS)
READ = [Depends(require_scope("banks:read"))]
WRITE = [Depends(require_scope("banks:write"))]

BankName = Path(max_length=100, description="The bank's name.")


def _bank_out(info) -> BankOut:
    return BankOut(**asdict(info))


def _result_out(res) -> AddResultOut:
    return AddResultOut(added=res.added, duplicates=res.duplicates, entry_ids=list(res.entry_ids), skipped=list(res.skipped))


@router.get("", response_model=BankList, summary="List banks with their settings and entry counts", dependencies=READ)
def list_banks(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500, description="next_cursor of the previous page."),
) -> BankList:
    """By name, one page at a time (``limit`` + ``cursor``, as every list)."""
    from suraksha.matching.banks import list_banks

    after = decode_cursor(cursor, {})
    if after is not None and not isinstance(after, str):
        raise BadCursor("cursor is not valid: pass back next_cursor exactly as it was given")
    banks = [b for b in list_banks() if after is None or b.name > after]
    page = banks[:limit]
    nxt = encode_cursor(page[-1].name, {}) if len(banks) > limit else None
    return BankList(banks=[_bank_out(b) for b in page], next_cursor=nxt)


@router.post("", response_model=BankOut, status_code=201, summary="Create a bank", dependencies=WRITE)
def create_bank(body: BankCreate) -> BankOut:
    from suraksha.matching.banks import create_bank

    return _bank_out(
        create_bank(
            body.name,
            body.label,
            negative=body.negative,
            pdq_threshold=body.pdq_threshold,
            match_transforms=body.match_transforms,
            description=body.description,
        )
    )


@router.get("/{name}", response_model=BankOut, summary="One bank", dependencies=READ)
def get_bank(name: str = BankName) -> BankOut:
    from suraksha.matching.banks import get_bank

    return _bank_out(get_bank(name))


@router.patch(
    "/{name}", response_model=BankOut, summary="Change a bank's settings (effective within a second)", dependencies=WRITE
)
def update_bank(body: BankUpdate, name: str = BankName) -> BankOut:
    from suraksha.matching.banks import update_bank

    return _bank_out(update_bank(name, **body.model_dump(exclude_none=True)))


@router.post("/{name}/signals", response_model=AddResultOut, summary="Add raw signals (all or nothing)", dependencies=WRITE)
def add_signals(body: SignalsIn, name: str = BankName) -> AddResultOut:
    from suraksha.matching.banks import SignalRow, add_signals

    return _result_out(add_signals(name, [SignalRow(s.signal_type, s.signal, s.metadata) for s in body.signals]))


@router.post(
    "/{name}/media",
    response_model=AddResultOut,
    summary="Hash an uploaded image or video and add its signals",
    dependencies=WRITE,
)
async def add_media(
    name: str = BankName,
    file: UploadFile = File(description="The image or video."),
    metadata: str | None = Form(default=None, description="JSON object stored with each entry."),
) -> AddResultOut:
    from starlette.concurrency import run_in_threadpool

    from suraksha.matching.banks import add_content, get_bank

    meta = {}
    if metadata:
        try:
            meta = json.loads(metadata)
        except json.JSONDecodeError as exc:
            raise ApiError(400, "invalid_json", f"metadata is not valid JSON ({exc.msg})") from None
        if not isinstance(meta, dict):
            raise ApiError(400, "bad_request", "metadata must be a JSON object")
        require_storable(meta, "metadata")
    await run_in_threadpool(get_bank, name)  # 404 before reading a large upload
    data = await read_upload(file)
    if file.filename:
        require_storable(file.filename, "the file name")
        meta.setdefault("file", file.filename[:200])
    # Hashing runs in the bounded hash pool (503 + Retry-After when full), as /v1/hash does.
    res = await hash_pool().run(add_content, name, data, meta, mime=mime_hint(file.content_type))
    return _result_out(res)


@router.delete("/{name}/entries/{entry_id}", status_code=204, summary="Delete one entry", dependencies=WRITE)
def delete_entry(name: str = BankName, entry_id: int = Path(ge=1, le=2**63 - 1)) -> Response:
    from suraksha.matching.banks import remove_entry

    remove_entry(name, entry_id)
    return Response(status_code=204)
