"""HMA 2.0-compatible routes: same paths, parameters and response shapes as Meta's
Hasher-Matcher-Actioner (OpenMediaMatch), so an HMA client switches by changing its base URL.

Shapes (HMA's blueprints ``hashing``, ``matching``, ``curation``):
- ``GET /h/hash?url=`` / ``POST /h/hash`` (multipart, one file whose field name is the content type,
  ``photo`` or ``video``) -> ``{"<signal type>": "<hash>", ...}``: photos give ``pdq``; videos
  ``video_md5`` and ``vpdq``.
- ``GET /m/raw_lookup?signal_type=&signal=[&include_distance=true][&banks=a,b]`` ->
  ``{"matches": [<content id>, ...]}`` or ``{"matches": [{"bank_content_id": id, "distance": "d"}]}``.
- ``GET /m/lookup?signal_type=&signal=`` -> ``{"<bank>": [{"bank_content_id": id, "distance": "d"}]}``;
  ``GET /m/lookup?url=`` and ``POST /m/lookup`` (multipart) -> the same keyed by signal type.
- ``GET /c/banks`` -> ``[{"name": ..., "matching_enabled_ratio": 1.0|0.0}]``.
- ``POST /c/bank/<name>/content`` (multipart or ``?url=``) -> ``{"id": <content id>, "signals": {...}}``.
- Errors: HMA's ``{"message": ...}`` (Suraksha's ``error`` object is included too).

A "content id" is the id of the bank entry that holds the content's PDQ (photos) or vPDQ/MD5
(videos), which is also the ``bank_content_id`` that lookups return for it.
Signal type names accepted: HMA/threatexchange names (``pdq``, ``video_md5``, ``vpdq``,
``video_sha256``, ``url``, ``raw_text``) and Suraksha's (``md5``, ``sha256``, ``domain``, ``text``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from suraksha.api.auth import require_scope_for_hma
from suraksha.api.errors import ApiError, require_storable
from suraksha.api.metrics import count_matches
from suraksha.api.uploads import hash_in_pool, hash_pool, mime_hint, read_upload
from suraksha.matching.banks import CONTENT_TYPE
from suraksha.signals.types import SignalType, find_signal_type, get_signal_type, te_signal_type

hashing = APIRouter(prefix="/h", tags=["HMA-compatible"], dependencies=[Depends(require_scope_for_hma("scan"))])
matching = APIRouter(prefix="/m", tags=["HMA-compatible"], dependencies=[Depends(require_scope_for_hma("scan"))])
curation = APIRouter(prefix="/c", tags=["HMA-compatible"])  # per route: banks:read or banks:write
BANKS_READ = [Depends(require_scope_for_hma("banks:read"))]
BANKS_WRITE = [Depends(require_scope_for_hma("banks:write"))]
router = APIRouter()

CONTENT_TYPES = ("photo", "video")
MULTIPART_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "photo": {"type": "string", "format": "binary"},
                        "video": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
        "required": True,
    }
}


def _resolve(name: str) -> tuple[SignalType, str | None]:
    """A signal type named the HMA / threatexchange way (``video_md5``, ``raw_text``) or Suraksha's
    (``md5``, ``text``), from the registry, with the content type the name implies (``video``)."""
    ours = find_signal_type(name)
    if ours is not None:
        return ours, None
    found = te_signal_type(name)
    if found is None:
        raise ApiError(400, "bad_request", f"No such SignalType '{str(name)[:40]}'")
    return found


def _our_type(name: str) -> str:
    return _resolve(name)[0].name


def _selected_types(types: str | None) -> set[str] | None:
    if types is None:
        return None
    names = {t.strip() for t in types.split(",") if t.strip()}
    if not names:
        raise ApiError(400, "bad_request", "empty signal type selection")
    return names


def _signals_of(ms: Any, types: set[str] | None) -> dict[str, str]:
    """HMA's hash output for one media: signal type name -> hash string."""
    out: dict[str, str] = {}
    if ms.kind == "video" or ms.vpdq is not None:
        from suraksha.signals import vpdq_to_signal

        out["video_md5"] = ms.md5
        if ms.vpdq:
            out["vpdq"] = vpdq_to_signal(ms.vpdq)
    elif ms.pdq is not None:
        out["pdq"] = ms.pdq.hash
    if types is not None:
        unknown = types - set(out)
        if unknown:
            raise ApiError(400, "bad_request", f"signal type '{sorted(unknown)[0]}' doesn't exist or is disabled")
        out = {k: v for k, v in out.items() if k in types}
    return out


async def _form_media(request: Request) -> tuple[str, bytes, str | None]:
    """The single uploaded file; its field name must be a content type (``photo`` or ``video``)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise ApiError(400, "bad_request", "Missing multipart/form-data file upload")
    form = await request.form(max_files=2, max_fields=5)
    try:
        files = [(k, v) for k, v in form.multi_items() if not isinstance(v, str)]
        if not files:
            raise ApiError(400, "bad_request", "Missing multipart/form-data file upload")
        if len(files) > 1:
            raise ApiError(400, "bad_request", "Only one file allowed per request")
        field, upload = files[0]
        if field not in CONTENT_TYPES:
            raise ApiError(400, "bad_request", f"no such content_type: '{field}'")
        data = await read_upload(upload)
        return field, data, mime_hint(upload.content_type)
    finally:
        await form.close()


async def _fetch(url: str) -> bytes:
    """Media by URL through the pipeline's SSRF-safe fetcher (allow-list, public addresses only, size limit)."""
    from suraksha.pipeline.fetch import FetchError, fetch_media

    try:
        return await run_in_threadpool(fetch_media, url)
    except FetchError as exc:
        raise ApiError(400, "fetch_failed", str(exc)) from None


async def _hash(data: bytes, mime: str | None, types: set[str] | None) -> dict[str, str]:
    ms = await hash_in_pool(data, mime)  # the bounded hash pool: 503 + Retry-After when full
    return _signals_of(ms, types)


# ----------------------------------------------------------------------------------- hashing
@hashing.get("/hash", summary="HMA: fetch media by URL and hash it")
async def hash_get(url: str | None = Query(None, max_length=4096), types: str | None = Query(None)) -> dict[str, str]:
    if not url:
        raise ApiError(400, "bad_request", "url is required")
    return await _hash(await _fetch(url), None, _selected_types(types))


@hashing.post("/hash", summary="HMA: hash an uploaded file (field name: photo or video)", openapi_extra=MULTIPART_DOC)
async def hash_post(request: Request, types: str | None = Query(None)) -> dict[str, str]:
    _field, data, mime = await _form_media(request)
    return await _hash(data, mime, _selected_types(types))


# ----------------------------------------------------------------------------------- matching
def _matcher(request: Request) -> Any:
    try:
        return request.app.state.matcher_state.require()
    except ApiError:
        raise ApiError(503, "index_loading", "index not yet ready") from None


def _lookup(matcher: Any, hma_type: str, signal: str, banks: set[str] | None) -> list[Any]:
    ours = _our_type(hma_type)
    try:
        matches = matcher.lookup(ours, signal, related=True)  # a URL carries its domain (SignalType.related)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"invalid signal: {exc}") from None
    if banks is not None:
        matches = [m for m in matches if m.bank in banks]
    count_matches(matches, "hma")
    return matches


def _by_bank(matches: list[Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, int]] = set()
    for m in matches:
        if (m.bank, m.entry_id) in seen:
            continue
        seen.add((m.bank, m.entry_id))
        out.setdefault(m.bank, []).append({"bank_content_id": m.entry_id, "distance": str(m.distance)})
    return out


def _banks_param(banks: str | None) -> set[str] | None:
    return {b for b in banks.split(",") if b} if banks else None


def _bool_param(value: str) -> bool:
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ApiError(400, "bad_request", "invalid boolean parameter - prefer true/false")


@matching.get("/raw_lookup", summary="HMA: look up one hash; content ids (optionally with distances)")
def raw_lookup(
    request: Request,
    signal: str | None = Query(None, max_length=100_000),
    signal_type: str | None = Query(None, max_length=32),
    include_distance: str = Query("false"),
    banks: str | None = Query(None),
) -> dict[str, list[Any]]:
    if signal is None:
        raise ApiError(400, "bad_request", "signal is required")
    if signal_type is None:
        raise ApiError(400, "bad_request", "signal_type is required")
    with_distance = _bool_param(include_distance)
    matches = _lookup(_matcher(request), signal_type, signal, _banks_param(banks))
    ids = list(dict.fromkeys(m.entry_id for m in matches))
    if not with_distance:
        return {"matches": ids}
    best = {}
    for m in matches:
        best.setdefault(m.entry_id, m.distance)
    return {"matches": [{"bank_content_id": i, "distance": str(best[i])} for i in ids]}


@matching.get("/lookup", summary="HMA: look up a hash (or media by URL); matching banks")
async def lookup_get(
    request: Request,
    url: str | None = Query(None, max_length=4096),
    signal: str | None = Query(None, max_length=100_000),
    signal_type: str | None = Query(None, max_length=32),
    types: str | None = Query(None),
    banks: str | None = Query(None),
    content_type: str | None = Query(None),
    seed: str | None = Query(None),
    bypass_coinflip: str | None = Query(None),
) -> dict[str, Any]:
    matcher = _matcher(request)
    wanted = _banks_param(banks)
    if url:
        hashes = await _hash(await _fetch(url), None, _selected_types(types))
        resp = {st: _by_bank(await run_in_threadpool(_lookup, matcher, st, value, wanted)) for st, value in hashes.items()}
        if signal_type is not None:
            return resp.get(signal_type, {})
        return resp
    if not signal or not signal_type:
        raise ApiError(400, "bad_request", "Either url or both signal and signal_type are required")
    return _by_bank(await run_in_threadpool(_lookup, matcher, signal_type, signal, wanted))


@matching.post("/lookup", summary="HMA: hash an uploaded file and look it up", openapi_extra=MULTIPART_DOC)
async def lookup_post(request: Request, banks: str | None = Query(None), types: str | None = Query(None)) -> dict[str, Any]:
    matcher = _matcher(request)
    _field, data, mime = await _form_media(request)
    hashes = await _hash(data, mime, _selected_types(types))
    wanted = _banks_param(banks)
    return {st: _by_bank(await run_in_threadpool(_lookup, matcher, st, value, wanted)) for st, value in hashes.items()}


# ----------------------------------------------------------------------------------- curation
def _hma_bank(info: Any) -> dict[str, Any]:
    return {"name": info.name, "matching_enabled_ratio": 1.0 if info.enabled else 0.0}


@curation.get("/banks", summary="HMA: list banks", dependencies=BANKS_READ)
def banks_index() -> list[dict[str, Any]]:
    from suraksha.matching.banks import list_banks

    return [_hma_bank(b) for b in list_banks()]


@curation.get("/bank/{bank_name}", summary="HMA: one bank", dependencies=BANKS_READ)
def bank_show(bank_name: str = Path(max_length=100)) -> dict[str, Any]:
    from suraksha.matching.banks import BankNotFound, get_bank

    try:
        return _hma_bank(get_bank(bank_name))
    except BankNotFound:
        raise ApiError(404, "not_found", f"bank '{bank_name}' not found") from None


def _entry_id_of(bank_name: str, signal_type: str, signal: str) -> int | None:
    """Id of the (enabled) entry holding this canonical signal in the bank. A read of the matching
    area's tables; the bank service has no such lookup yet (AddResult lists only new entries)."""
    from sqlalchemy import select

    from suraksha.db import session_scope
    from suraksha.matching.models import Bank, BankEntry

    with session_scope() as session:
        return session.scalar(
            select(BankEntry.id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Bank.name == bank_name, BankEntry.signal_type == signal_type, BankEntry.signal == signal)
        )


def _content_id(bank_name: str, signals: dict[str, str]) -> int | None:
    """The entry id standing for the content: its PDQ entry (photo) or vPDQ, else MD5 (video)."""
    for hma_type in ("pdq", "vpdq", "video_md5"):  # HMA's order of preference for a content id
        if hma_type in signals:
            found = _entry_id_of(bank_name, _our_type(hma_type), signals[hma_type])
            if found is not None:
                return found
    return None


def _parse_metadata(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        raise ApiError(400, "bad_request", "metadata should be a json object") from None
    if not isinstance(meta, dict) or set(meta) - {"content_id", "content_uri", "json"}:
        raise ApiError(400, "bad_request", "Invalid metadata: keys may be content_id, content_uri, json")
    require_storable(meta, "metadata")
    return meta


@curation.post(
    "/bank/{bank_name}/content",
    summary="HMA: add media to a bank (upload or ?url=)",
    openapi_extra=MULTIPART_DOC,
    dependencies=BANKS_WRITE,
)
async def bank_add_content(
    request: Request,
    bank_name: str = Path(max_length=100),
    url: str | None = Query(None, max_length=4096),
    metadata: str | None = Query(None, description="JSON: {content_id, content_uri, json}"),
) -> dict[str, Any]:
    from suraksha.matching.banks import BankNotFound, add_content, get_bank

    try:
        await run_in_threadpool(get_bank, bank_name)
    except BankNotFound:
        raise ApiError(404, "not_found", f"bank '{bank_name}' not found") from None
    meta = _parse_metadata(metadata)
    if url:
        data, mime = await _fetch(url), None
    elif request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        _field, data, mime = await _form_media(request)
    else:
        raise ApiError(400, "bad_request", "Neither `url` nor multipart file upload was received")
    ms = await hash_in_pool(data, mime)
    signals = _signals_of(ms, None)
    if not signals:
        raise ApiError(400, "bad_request", "No signals given")
    await hash_pool().run(add_content, bank_name, data, meta, mime=mime)  # hashes again: same pool
    content_id = await run_in_threadpool(_content_id, bank_name, signals)
    return {"id": content_id, "signals": signals}


@curation.post("/bank/{bank_name}/signal", summary="HMA: add hashes directly ({signal_type: signal})", dependencies=BANKS_WRITE)
async def bank_add_signal(request: Request, bank_name: str = Path(max_length=100)) -> dict[str, Any]:
    from suraksha.matching.banks import BankNotFound, SignalRow, add_signals, get_bank

    try:
        await run_in_threadpool(get_bank, bank_name)
    except BankNotFound:
        raise ApiError(404, "not_found", f"bank '{bank_name}' not found") from None
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "request body is not valid JSON") from None
    if not isinstance(body, dict) or not body:
        raise ApiError(400, "bad_request", "No signals given")
    require_storable(body, "")
    rows = []
    for name, value in body.items():
        if not isinstance(value, str):
            raise ApiError(400, "bad_request", f"Invalid {name} signal: must be a string")
        st, content = _resolve(name)  # video_md5: an MD5 of a video, recorded so bank files say so
        rows.append(SignalRow(st.name, value, {CONTENT_TYPE: content} if content else {}))
    await run_in_threadpool(add_signals, bank_name, rows)
    first = next(iter(body))
    content_id = await run_in_threadpool(_entry_id, bank_name, _our_type(first), body[first])
    return {"id": content_id, "signals": body}


def _entry_id(bank_name: str, signal_type: str, signal: str) -> int | None:
    return _entry_id_of(bank_name, signal_type, get_signal_type(signal_type).normalize(signal))


for _r in (hashing, matching, curation):
    router.include_router(_r)
