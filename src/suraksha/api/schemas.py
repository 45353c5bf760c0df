"""Request and response shapes of the API's own routes (items reuse ``pipeline.schemas``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from suraksha.pipeline.schemas import StorableText


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class BankOut(BaseModel):
    id: int
    name: str
    label: str
    negative: bool
    enabled: bool
    pdq_threshold: int
    match_transforms: bool
    source: str
    description: str
    entries: int


class BankList(BaseModel):
    banks: list[BankOut]
    next_cursor: str | None = Field(default=None, description="Pass as ?cursor= for the next page; null on the last.")


class BankCreate(StorableText):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1-100 letters, digits, '_', '.', '-'.")
    label: str = Field(description="What the bank holds: csam, ncii, csam_url, ...")
    negative: bool = Field(default=False, description="Matches here suppress all other matches (known false positives).")
    pdq_threshold: int = Field(default=31, description="PDQ distance threshold, 0-63.")
    match_transforms: bool = Field(default=True, description="Also match rotated and mirrored images.")
    description: str = Field(default="", max_length=10_000)


class BankUpdate(StorableText):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    pdq_threshold: int | None = None
    match_transforms: bool | None = None
    label: str | None = None
    description: str | None = Field(default=None, max_length=10_000)


class SignalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signal_type: str = Field(description="sha256, md5, pdq, vpdq, url, domain or text.")
    signal: str = Field(max_length=1_000_000)
    metadata: dict[str, Any] = Field(default_factory=dict)


class SignalsIn(StorableText):
    """Every string (signals, metadata keys and values) must be storable: NUL or a lone surrogate is a 422."""

    model_config = ConfigDict(extra="forbid")

    signals: list[SignalIn] = Field(min_length=1, max_length=10_000)


class AddResultOut(BaseModel):
    added: int
    duplicates: int
    entry_ids: list[int]
    skipped: list[str]


class MatchOut(BaseModel):
    bank: str
    label: str
    signal_type: str
    signal: str
    entry_id: int
    distance: int
    transform: str | None
    detail: dict[str, Any] = Field(default_factory=dict)


class LookupOut(BaseModel):
    signal_type: str
    signal: str
    matched: bool
    matches: list[MatchOut]


class VpdqFrameOut(BaseModel):
    second: float
    pdq: str
    quality: int


class HashOut(BaseModel):
    kind: str
    size: int
    sha256: str
    md5: str
    pdq: str | None = None
    pdq_quality: int | None = None
    vpdq: list[VpdqFrameOut] | None = None


class HashJsonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_base64: str
    mime: str | None = Field(default=None, max_length=100)


class ItemAccepted(BaseModel):
    id: int
    status: str


class IdempotencyConflictResponse(ErrorResponse):
    """409 on ``POST /v1/items``: the key was used with another body; ``id`` is the item stored under it."""

    id: int


def match_out(m: Any) -> MatchOut:
    return MatchOut(
        bank=m.bank,
        label=m.label,
        signal_type=m.signal_type,
        signal=m.signal,
        entry_id=m.entry_id,
        distance=m.distance,
        transform=m.transform,
        detail=dict(m.detail or {}),
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad input (the message says what)."},
    401: {"model": ErrorResponse, "description": "Missing, invalid or revoked API key."},
    413: {"model": ErrorResponse, "description": "Request or media too large."},
    422: {"model": ErrorResponse, "description": "Invalid request fields."},
    429: {"model": ErrorResponse, "description": "Rate limit exceeded (see Retry-After)."},
    503: {
        "model": ErrorResponse,
        "description": "Busy (too many large request bodies at once) or the index is "
        "loading: nothing was read or stored; retry after Retry-After seconds.",
    },
}
