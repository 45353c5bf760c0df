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
import re
import time
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from suraksha.api.auth import require_scope_for_hma
from suraksha.api.errors import ApiError, require_storable
from suraksha.api.metrics import count_matches
from suraksha.api.uploads import hash_in_pool, hash_pool, mime_hint, read_upload
from suraksha.matching.banks import CONTENT_TYPE
from suraksha.matching.hma import DISABLED, ENABLED
from suraksha.signals.types import SignalType, find_signal_type, signal_types, te_signal_type

hashing = APIRouter(prefix="/h", tags=["HMA-compatible"], dependencies=[Depends(require_scope_for_hma("scan"))])
matching = APIRouter(prefix="/m", tags=["HMA-compatible"], dependencies=[Depends(require_scope_for_hma("scan"))])
curation = APIRouter(prefix="/c", tags=["HMA-compatible"])  # per route: banks:read or banks:write
BANKS_READ = [Depends(require_scope_for_hma("banks:read"))]
BANKS_WRITE = [Depends(require_scope_for_hma("banks:write"))]
router = APIRouter()

CONTENT_TYPES = ("photo", "video")
#: The label of a bank created through HMA's routes, which have none: no policy rule names it
#: until someone gives the bank its real label (``PATCH /v1/banks/{name}``).
DEFAULT_LABEL = "hma"
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


def _media_lookup(matcher: Any, ms: Any, signals: dict[str, str], banks: set[str] | None) -> dict[str, list[Any]]:
    """A file's matches through the matcher's media lookup (each bank's rotation/mirror setting
    applies, as on /v1), under the HMA signal type each hash was reported as."""
    matches = matcher.lookup_media(ms)
    if banks is not None:
        matches = [m for m in matches if m.bank in banks]
    count_matches(matches, "hma")
    by_type: dict[str, list[Any]] = {name: [] for name in signals}
    for m in matches:
        for name in signals:
            if _our_type(name) == m.signal_type:
                by_type[name].append(m)
    return by_type


def _content_map(matches: list[Any]) -> dict[int, int]:
    from suraksha.matching.hma import content_ids

    return content_ids(m.entry_id for m in matches) if matches else {}


def _by_bank(matches: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """HMA's ``{bank: [{bank_content_id, distance}]}``: one row per content and bank, its best distance."""
    content = _content_map(matches)
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, int]] = set()
    for m in sorted(matches, key=lambda m: m.distance):
        cid = content.get(m.entry_id, m.entry_id)
        if (m.bank, cid) in seen:
            continue
        seen.add((m.bank, cid))
        out.setdefault(m.bank, []).append({"bank_content_id": cid, "distance": str(m.distance)})
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
    content = _content_map(matches)
    best: dict[int, int] = {}
    for m in matches:
        cid = content.get(m.entry_id, m.entry_id)
        best[cid] = min(best.get(cid, m.distance), m.distance)
    if not with_distance:
        return {"matches": list(best)}
    return {"matches": [{"bank_content_id": i, "distance": str(d)} for i, d in best.items()]}


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
        ms = await hash_in_pool(await _fetch(url), None)
        signals = _signals_of(ms, _selected_types(types))
        found = await run_in_threadpool(_media_lookup, matcher, ms, signals, wanted)
        resp = {st: await run_in_threadpool(_by_bank, found[st]) for st in signals}
        if signal_type is not None:
            return resp.get(signal_type, {})
        return resp
    if not signal or not signal_type:
        raise ApiError(400, "bad_request", "Either url or both signal and signal_type are required")
    matches = await run_in_threadpool(_lookup, matcher, signal_type, signal, wanted)
    return await run_in_threadpool(_by_bank, matches)


@matching.post("/lookup", summary="HMA: hash an uploaded file and look it up", openapi_extra=MULTIPART_DOC)
async def lookup_post(request: Request, banks: str | None = Query(None), types: str | None = Query(None)) -> dict[str, Any]:
    matcher = _matcher(request)
    _field, data, mime = await _form_media(request)
    ms = await hash_in_pool(data, mime)
    signals = _signals_of(ms, _selected_types(types))
    found = await run_in_threadpool(_media_lookup, matcher, ms, signals, _banks_param(banks))
    return {st: await run_in_threadpool(_by_bank, found[st]) for st in signals}


def _hma_types() -> dict[str, str]:
    """HMA signal type name -> Suraksha's, for every registered type that has one (``pdq``,
    ``video_md5``, ``vpdq``, ``video_sha256``, ``url``, ``raw_text``)."""
    out: dict[str, str] = {}
    for st in signal_types():
        if st.te_name is not None:
            out[st.te_name] = st.name
    return out


def _one_type(signal_type: str | None) -> dict[str, str]:
    types = _hma_types()
    if signal_type is None:
        return types
    if signal_type not in types:
        raise ApiError(400, "bad_request", f"No such signal type '{signal_type[:40]}'")
    return {signal_type: types[signal_type]}


@matching.get("/index/status", summary="HMA: the match index per signal type (present, built_to, size)")
def index_status(request: Request, signal_type: str | None = Query(None, max_length=32)) -> dict[str, Any]:
    """Suraksha's index is never rebuilt: each process tails the change log and applies a change
    within a second. ``built_to`` is the time of the newest change this process has applied to the
    type, ``size`` the entries (videos for vPDQ) in its index."""
    from suraksha.matching.hma import index_state

    wanted = _one_type(signal_type)
    matcher = request.app.state.matcher_state.matcher
    if matcher is None:
        return {name: {"present": False, "built_to": -1, "size": 0} for name in wanted}
    matcher.refresh()  # what a lookup now would see
    stats = matcher.stats()
    out = {}
    for name, ours in wanted.items():
        state = index_state(ours, stats.get("change_floor", 0))
        out[name] = {"present": True, "built_to": state.built_to, "size": int(stats.get(ours, 0))}
    return out


@matching.post("/compare", summary="HMA: distances between pairs of hashes ({signal_type: [left, right]})")
async def compare(request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "Request input was not a dict")
    out: dict[str, Any] = {}
    for name, pair in body.items():
        if not isinstance(pair, list):
            raise ApiError(400, "bad_request", f"Comparison hashes for {str(name)[:40]} was not a list")
        if len(pair) != 2:
            raise ApiError(400, "bad_request", "Comparison hash list length must be exactly 2")
        st, _content = _resolve(name)
        try:
            left, right = (st.normalize(str(v)) for v in pair)
            distance = st.distance(left, right)
        except ValueError as exc:
            raise ApiError(400, "bad_request", f"Invalid {str(name)[:40]} hash: {exc}") from None
        threshold = st.default_threshold
        out[name] = [distance <= threshold, {"distance": distance}]
    return out


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "request body is not valid JSON") from None


# ----------------------------------------------------------------------------------- curation
def _ratio(enabled: bool) -> float:
    return 1.0 if enabled else 0.0


def _hma_bank(info: Any) -> dict[str, Any]:
    return {"name": info.name, "matching_enabled_ratio": _ratio(info.enabled)}


def _enabled_from(ratio: Any, enabled: Any) -> bool | None:
    """HMA's ``enabled_ratio`` (0.0-1.0) or ``enabled``: Suraksha matches a bank fully or not at all."""
    if ratio is not None:
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio not in (0, 1):
            raise ApiError(400, "bad_request", "enabled_ratio must be 0.0 or 1.0: Suraksha enables a bank fully or not at all")
        return ratio == 1
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise ApiError(400, "bad_request", "enabled must be true or false")
        return enabled
    return None


def _bank_or_404(bank_name: str) -> Any:
    from suraksha.matching.banks import BankNotFound, get_bank

    try:
        return get_bank(bank_name)
    except BankNotFound:
        raise ApiError(404, "not_found", f"bank '{bank_name}' not found") from None


@curation.get("/banks", summary="HMA: list banks", dependencies=BANKS_READ)
def banks_index() -> list[dict[str, Any]]:
    from suraksha.matching.banks import list_banks

    return [_hma_bank(b) for b in list_banks()]


@curation.post("/banks", status_code=201, summary="HMA: create a bank", dependencies=BANKS_WRITE)
async def bank_create(request: Request) -> dict[str, Any]:
    """HMA's body ``{name, enabled_ratio?, enabled?}``; Suraksha's optional ``label`` (default
    ``hma``: a label no policy rule names until someone gives the bank its real one)."""
    from suraksha.matching.banks import BankExists, create_bank, update_bank

    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise ApiError(400, "bad_request", "name is required")
    require_storable(body, "")
    enabled = _enabled_from(body.get("enabled_ratio"), body.get("enabled"))
    label = body.get("label", DEFAULT_LABEL)
    try:
        info = await run_in_threadpool(create_bank, body["name"], label if isinstance(label, str) else "")
    except BankExists:
        raise ApiError(403, "conflict", "Bank already exists") from None
    if enabled is False:
        info = await run_in_threadpool(lambda: update_bank(info.name, enabled=False))
    return _hma_bank(info)


@curation.get("/bank/{bank_name}", summary="HMA: one bank", dependencies=BANKS_READ)
def bank_show(bank_name: str = Path(max_length=100)) -> dict[str, Any]:
    return _hma_bank(_bank_or_404(bank_name))


@curation.put("/bank/{bank_name}", summary="HMA: rename, enable or disable a bank", dependencies=BANKS_WRITE)
async def bank_update(request: Request, bank_name: str = Path(max_length=100)) -> dict[str, Any]:
    from suraksha.matching.banks import BankExists, update_bank
    from suraksha.matching.hma import rename_bank

    await run_in_threadpool(_bank_or_404, bank_name)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "this endpoint expects a json object payload")
    require_storable(body, "")
    enabled = _enabled_from(body.get("enabled_ratio"), body.get("enabled"))
    name = bank_name
    if body.get("name") is not None:
        try:
            await run_in_threadpool(rename_bank, bank_name, body["name"])
        except BankExists:
            raise ApiError(403, "conflict", "Bank name already exists") from None
        name = body["name"]
    info = await run_in_threadpool(lambda: update_bank(name, enabled=enabled))
    return _hma_bank(info)


@curation.delete("/bank/{bank_name}", summary="HMA: delete a bank and its content", dependencies=BANKS_WRITE)
def bank_delete(bank_name: str = Path(max_length=100)) -> dict[str, Any]:
    from suraksha.matching.banks import BankNotFound
    from suraksha.matching.hma import delete_bank

    try:
        delete_bank(bank_name)
    except BankNotFound:
        raise ApiError(404, "not_found", f"bank '{bank_name}' not found") from None
    return {"message": "Done"}


def _parse_metadata(raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ApiError(400, "bad_request", "metadata should be a json object") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "bad_request", "metadata should be a json object")
    raw = {k: v for k, v in raw.items() if k != "collab"}
    if set(raw) - {"content_id", "content_uri", "json"}:
        raise ApiError(400, "bad_request", "Invalid metadata: keys may be content_id, content_uri, json")
    for key in ("content_id", "content_uri"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ApiError(400, "bad_request", f"Invalid metadata: {key} should be a string")
    if raw.get("json") is not None and not isinstance(raw["json"], dict):
        raise ApiError(400, "bad_request", "Invalid metadata: json should be an object")
    require_storable(raw, "metadata")
    return {k: v for k, v in raw.items() if v is not None}


def _parse_note(note: Any) -> str | None:
    if not note:
        return None
    if not isinstance(note, str):
        raise ApiError(400, "bad_request", "note should be a string")
    if len(note) > 255:
        raise ApiError(400, "bad_request", "note must be at most 255 characters")
    require_storable(note, "note")
    return note


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
    """Every signal Suraksha takes from the media is banked as one content (its cryptographic
    hashes too); the answer lists the signals HMA's hasher reports (``pdq`` for a photo,
    ``video_md5`` and ``vpdq`` for a video)."""
    from suraksha.matching.banks import content_rows
    from suraksha.matching.hma import add_content

    await run_in_threadpool(_bank_or_404, bank_name)
    meta = _parse_metadata(metadata)
    note = None
    if url:
        data, mime = await _fetch(url), None
    elif request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        form = await request.form(max_files=2, max_fields=5)  # parsed once: _form_media reads it again and closes it
        if isinstance(form.get("metadata"), str):
            meta = _parse_metadata(form["metadata"])
        if isinstance(form.get("note"), str):
            note = _parse_note(form["note"])
        _field, data, mime = await _form_media(request)
    else:
        raise ApiError(400, "bad_request", "Neither `url` nor multipart file upload was received")
    if note:
        meta["note"] = note
    ms = await hash_in_pool(data, mime)
    signals = _signals_of(ms, None)
    if not signals:
        raise ApiError(400, "bad_request", "No signals given")
    rows, _skipped = await hash_pool().run(content_rows, data, meta, mime=mime)  # hashes again: same pool
    content_id, _stored = await run_in_threadpool(add_content, bank_name, rows)
    return {"id": content_id, "signals": signals}


@curation.post("/bank/{bank_name}/signal", summary="HMA: add hashes directly ({signal_type: signal})", dependencies=BANKS_WRITE)
async def bank_add_signal(request: Request, bank_name: str = Path(max_length=100)) -> dict[str, Any]:
    from suraksha.matching.banks import SignalRow
    from suraksha.matching.hma import add_content

    await run_in_threadpool(_bank_or_404, bank_name)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "No signals given")
    require_storable(body, "")
    note = _parse_note(body.pop("note", None))
    if not body:
        raise ApiError(400, "bad_request", "No signals given")
    rows = []
    for name, value in body.items():
        if not isinstance(value, str):
            raise ApiError(400, "bad_request", f"Invalid {name} signal: must be a string")
        st, content = _resolve(name)  # video_md5: an MD5 of a video, recorded so bank files say so
        try:
            canonical = st.normalize(value)
        except ValueError as exc:
            raise ApiError(400, "bad_request", f"Invalid {name} signal: {exc}") from None
        meta: dict[str, Any] = {CONTENT_TYPE: content} if content else {}
        if note:
            meta["note"] = note
        rows.append(SignalRow(st.name, canonical, meta))
    content_id, _stored = await run_in_threadpool(add_content, bank_name, rows)
    return {"id": content_id, "signals": {name: row.signal for name, row in zip(body, rows, strict=True)}}


def _content_body(view: Any, *, signals: bool, metadata: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": view.id,
        "disable_until_ts": ENABLED if view.enabled else DISABLED,
        "original_media_uri": None,
        "bank": {"name": view.bank, "matching_enabled_ratio": _ratio(view.bank_enabled)},
    }
    if signals:
        out["signals"] = dict(view.signals)
    meta = {k: v for k, v in view.metadata.items() if k in ("content_id", "content_uri", "json")}
    if metadata and meta:
        out["metadata"] = meta
    note = view.metadata.get("note")
    if isinstance(note, str) and note:
        out["note"] = note
    return out


def _content_or_404(bank_name: str, content_id: int) -> Any:
    from suraksha.errors import NotFound
    from suraksha.matching.hma import get_content

    _bank_or_404(bank_name)
    try:
        return get_content(bank_name, content_id)
    except NotFound:
        raise ApiError(404, "not_found", f"content '{content_id}' not found") from None


@curation.get("/bank/{bank_name}/content/{content_id}", summary="HMA: one banked content", dependencies=BANKS_READ)
def bank_get_content(
    bank_name: str = Path(max_length=100),
    content_id: int = Path(ge=1, le=2**63 - 1),
    include_signals: str = Query("false"),
    include_metadata: str = Query("true"),
) -> dict[str, Any]:
    view = _content_or_404(bank_name, content_id)
    return _content_body(view, signals=_bool_param(include_signals), metadata=_bool_param(include_metadata))


@curation.put(
    "/bank/{bank_name}/content/{content_id}",
    summary="HMA: disable or enable a banked content (disable_until_ts 0 or 1)",
    dependencies=BANKS_WRITE,
)
async def bank_update_content(
    request: Request, bank_name: str = Path(max_length=100), content_id: int = Path(ge=1, le=2**63 - 1)
) -> dict[str, Any]:
    """``disable_until_ts``: HMA's 0 (disabled) and 1 (enabled), or a time already past (enabled).
    A time still ahead is refused: Suraksha has no timer that would re-enable the content then, and
    saying it would be untrue."""
    from suraksha.matching.hma import set_content_enabled

    await run_in_threadpool(_content_or_404, bank_name, content_id)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "this endpoint expects a json object payload")
    if "note" in body:
        raise ApiError(400, "bad_request", "a note is set when content is added; it cannot be changed here")
    if "disable_until_ts" in body:
        raw = body["disable_until_ts"]
        try:
            ts = int(raw) if not isinstance(raw, bool) else -1
        except (TypeError, ValueError):
            raise ApiError(400, "bad_request", f"Invalid int: '{str(raw)[:40]}'") from None
        if ts < 0:
            raise ApiError(400, "bad_request", "disable_until_ts must be a non-negative integer")
        if ts > ENABLED and ts > time.time():
            raise ApiError(
                400,
                "bad_request",
                "disable_until_ts must be 0 (disabled) or 1 (enabled): Suraksha does not re-enable content at a set time",
            )
        await run_in_threadpool(set_content_enabled, bank_name, content_id, ts != DISABLED)
    view = await run_in_threadpool(_content_or_404, bank_name, content_id)
    return _content_body(view, signals=False, metadata=True)


@curation.delete("/bank/{bank_name}/content/{content_id}", summary="HMA: remove a banked content", dependencies=BANKS_WRITE)
def bank_delete_content(bank_name: str = Path(max_length=100), content_id: int = Path(ge=1, le=2**63 - 1)) -> dict[str, int]:
    from suraksha.matching.hma import remove_content

    _bank_or_404(bank_name)
    return {"deleted": remove_content(bank_name, content_id)}


# ----------------------------------------------------------------------------- signal and content types
@curation.get("/signal_type", summary="HMA: signal types and their enabled ratio", dependencies=BANKS_READ)
def signal_type_list() -> list[dict[str, Any]]:
    return [{"name": name, "enabled_ratio": 1.0} for name in _hma_types()]


@curation.put("/signal_type/{signal_type_name}", status_code=204, summary="HMA: signal type setting", dependencies=BANKS_WRITE)
async def signal_type_update(request: Request, signal_type_name: str = Path(max_length=32)) -> Response:
    """Suraksha matches every registered signal type; ``enabled_ratio`` 1.0 is accepted (no change),
    anything else is refused with the reason (disable a bank, or a bank's content, instead)."""
    _one_type(signal_type_name)
    body = await _json_body(request)
    ratio = body.get("enabled_ratio") if isinstance(body, dict) else None
    if ratio is None:
        raise ApiError(400, "bad_request", "enabled_ratio is required")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio != 1:
        raise ApiError(
            400, "bad_request", "Suraksha matches every signal type (enabled_ratio 1.0); disable a bank or its content instead"
        )
    return Response(status_code=204)


@curation.get("/signal_type/index", summary="HMA: database and index sizes per signal type", dependencies=BANKS_READ)
def signal_type_index_status(request: Request, signal_type: str | None = Query(None, max_length=32)) -> dict[str, Any]:
    from suraksha.matching.hma import index_state

    wanted = _one_type(signal_type)
    matcher = request.app.state.matcher_state.matcher
    if matcher is not None:
        matcher.refresh()
    stats = matcher.stats() if matcher is not None else {}
    out = {}
    for name, ours in wanted.items():
        state = index_state(ours, stats.get("change_floor", 0))
        size = int(stats.get(ours, 0))
        out[name] = {
            "db_size": state.db_size,
            "index_size": size,
            "index_out_of_date": matcher is None or state.built_to < state.newest_db_item,
            "newest_db_item": state.newest_db_item,
            "index_built_to": state.built_to,
        }
    return out


@curation.get("/content_type", summary="HMA: content types", dependencies=BANKS_READ)
def content_type_list() -> list[dict[str, Any]]:
    return [{"name": name, "enabled": True} for name in CONTENT_TYPES]


# ----------------------------------------------------------------------------------- exchanges
def _api_classes() -> dict[str, Any]:
    from suraksha.matching.exchanges import exchange_apis

    return exchange_apis()


@curation.get("/exchanges/apis", summary="HMA: exchange API types", dependencies=BANKS_READ)
def exchange_api_list() -> list[str]:
    return list(_api_classes())


def _auth_state(api_cls: Any) -> dict[str, bool]:
    from threatexchange.exchanges.auth import SignalExchangeWithAuth

    with_auth = issubclass(api_cls, SignalExchangeWithAuth)
    has = False
    if with_auth:
        try:
            has = api_cls.get_credential_cls().get(api_cls) is not None
        except Exception:  # noqa: BLE001 - threatexchange raises its own error types when nothing is set
            has = False
    return {"supports_authentification": with_auth, "has_set_authentification": has}


@curation.get("/exchanges/api/{api_name}", summary="HMA: an exchange API's credential state", dependencies=BANKS_READ)
def exchange_api_config_get(api_name: str = Path(max_length=50)) -> dict[str, bool]:
    api_cls = _api_classes().get(api_name)
    if api_cls is None:
        raise ApiError(400, "bad_request", f"no such Exchange API '{api_name}'")
    return _auth_state(api_cls)


@curation.post("/exchanges/api/{api_name}", summary="HMA: set an exchange API's credentials", dependencies=BANKS_WRITE)
def exchange_api_config_update(api_name: str = Path(max_length=50)) -> dict[str, bool]:
    """Refused: exchange credentials stay out of the database and out of API bodies; threatexchange
    reads them from its environment and files on the server (see docs/security.md)."""
    if api_name not in _api_classes():
        raise ApiError(400, "bad_request", f"no such Exchange API '{api_name}'")
    raise ApiError(
        400,
        "bad_request",
        "Suraksha does not take exchange credentials over the API; set them on the server (environment or file)",
    )


@curation.get("/exchanges/api/{api_name}/schema", summary="HMA: an exchange API's config fields", dependencies=BANKS_READ)
def exchange_api_schema(api_name: str = Path(max_length=50)) -> dict[str, Any]:
    from suraksha.matching.exchanges import config_fields

    api_cls = _api_classes().get(api_name)
    if api_cls is None:
        raise ApiError(404, "not_found", f"Exchange API '{api_name}' not found")
    return {"config_schema": {"fields": config_fields(api_cls)}, "credentials_schema": None}


def _link_or_404(name: str) -> Any:
    from suraksha.matching.hma import exchange_links

    link = exchange_links().get(name)
    if link is None:
        raise ApiError(404, "not_found", f"Exchange '{name}' not found")
    return link


@curation.post("/exchanges", status_code=201, summary="HMA: create an exchange (and its bank)", dependencies=BANKS_WRITE)
async def exchange_create(request: Request) -> dict[str, str]:
    from suraksha.matching.banks import BankExists, create_bank
    from suraksha.matching.exchanges import configure_exchange
    from suraksha.matching.hma import delete_bank

    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "this endpoint expects a json object payload")
    bank = body.get("bank")
    if not isinstance(bank, str) or not bank:
        raise ApiError(400, "bad_request", "bank is required")
    if not re.match(r"^[A-Z0-9_]+$", bank):
        raise ApiError(400, "bad_request", "Field `bank` must match /^[A-Z0-9_]+$/")
    api_json = body.get("api_json", {})
    if not isinstance(api_json, dict):
        raise ApiError(400, "bad_request", "Field `api_json` must be object")
    api = body.get("api")
    if api is None:
        raise ApiError(400, "bad_request", "Field `api_type` is required")
    if api not in _api_classes():
        raise ApiError(400, "bad_request", f"No such exchange type '{str(api)[:40]}'")
    require_storable(body, "")
    config = {k: v for k, v in api_json.items() if k not in ("name", "api", "enabled")}
    label = body.get("label", DEFAULT_LABEL)
    try:
        await run_in_threadpool(create_bank, bank, label if isinstance(label, str) else "")
    except BankExists:
        raise ApiError(400, "bad_request", f"a bank or exchange named '{bank}' already exists") from None
    try:
        await run_in_threadpool(configure_exchange, bank, api, config)
    except Exception:
        await run_in_threadpool(delete_bank, bank)  # nothing half-made stays behind
        raise
    return {"message": "Created successfully"}


@curation.get("/exchanges", summary="HMA: exchange names", dependencies=BANKS_READ)
def exchange_list() -> list[str]:
    from suraksha.matching.hma import exchange_links

    return sorted(exchange_links())


def _exchange_body(link: Any) -> dict[str, Any]:
    return {**link.config, "name": link.bank, "api": link.api, "enabled": link.enabled}


@curation.get("/exchange/{exchange_name}", summary="HMA: one exchange's configuration", dependencies=BANKS_READ)
def exchange_show(exchange_name: str = Path(max_length=100)) -> dict[str, Any]:
    return _exchange_body(_link_or_404(exchange_name))


@curation.get("/exchange/{exchange_name}/status", summary="HMA: an exchange's fetch status", dependencies=BANKS_READ)
def exchange_status(exchange_name: str = Path(max_length=100)) -> dict[str, Any]:
    """``last_fetch_time``: when a fetch last stored its checkpoint (unix seconds, 0: never);
    ``success``: whether one has. A failed fetch stores nothing, so it does not show here."""
    link = _link_or_404(exchange_name)
    fetched = int(link.fetched_at.timestamp()) if link.fetched_at else 0
    return {"last_fetch_time": fetched, "checkpoint_time": fetched, "success": link.fetched_at is not None}


@curation.put("/exchange/{exchange_name}", summary="HMA: enable or disable an exchange", dependencies=BANKS_WRITE)
async def exchange_update(request: Request, exchange_name: str = Path(max_length=100)) -> dict[str, Any]:
    from suraksha.matching.banks import update_bank

    await run_in_threadpool(_link_or_404, exchange_name)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "this endpoint expects a json object payload")
    enabled = body.get("enabled")
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise ApiError(400, "bad_request", "enabled must be true or false")
        await run_in_threadpool(lambda: update_bank(exchange_name, enabled=enabled))
    return _exchange_body(await run_in_threadpool(_link_or_404, exchange_name))


@curation.delete("/exchange/{exchange_name}", summary="HMA: delete an exchange and its bank", dependencies=BANKS_WRITE)
def exchange_delete(exchange_name: str = Path(max_length=100)) -> dict[str, str]:
    from suraksha.matching.hma import delete_bank

    _link_or_404(exchange_name)
    delete_bank(exchange_name)
    return {"message": "Exchange deleted"}


for _r in (hashing, matching, curation):
    router.include_router(_r)
