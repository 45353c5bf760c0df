"""Input and output shapes of the pipeline (``POST /v1/items``, ``GET /v1/items/{id}``, accounts).

The REST layer uses these models directly; every limit is checked here, before anything is
stored, so bad input gets one clear reason and leaves the database untouched.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from suraksha.policy.model import ITEM_KINDS  # the policy's item_kind condition validates against the same kinds

# NUL cannot be stored in a PostgreSQL text or jsonb value, and a lone surrogate (U+D800-U+DFFF
# without its pair; JSON's "\ud800" escape makes one) is not Unicode at all: no UTF-8 encoder
# writes it. Both were 500s on PostgreSQL (and the lone surrogate on SQLite). They are refused
# wherever a string arrives, before anything is stored, with the field named.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = "unstorable_text"  # the pydantic error type (the API shows its message as is)


def _what(char: str) -> str:
    if char == "\x00":
        return "a NUL character (U+0000)"
    return f"a lone surrogate (U+{ord(char):04X}: half of a UTF-16 pair, not Unicode text)"


def find_unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first string in ``value`` (a string, or JSON-like lists and dicts, keys included) that
    holds NUL or a lone surrogate: ``(where, what)``, e.g. ``("context.note", "a NUL character
    (U+0000)")``; None when every string can be stored. The string itself is never echoed."""
    if isinstance(value, str):
        if value.isascii():  # O(1) in CPython; then only NUL is possible, and memchr finds it
            return (path or "value", _what("\x00")) if "\x00" in value else None
        found = _UNSTORABLE.search(value)
        return (path or "value", _what(found.group())) if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (found := _UNSTORABLE.search(key)):
                return (f"{path} (a key)" if path else "a key"), _what(found.group())
            hit = find_unstorable(item, f"{path}.{str(key)[:100]}" if path else str(key)[:100])
            if hit:
                return hit
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            hit = find_unstorable(item, f"{path}[{n}]")
            if hit:
                return hit
    return None


def refuse_unstorable(value: Any, path: str = "") -> None:
    """Raise the validation error for ``find_unstorable``'s hit (for a ``mode="before"`` validator)."""
    hit = find_unstorable(value, path)
    if hit:
        raise PydanticCustomError(
            UNSTORABLE_TEXT,
            "{field} contains {what}, which cannot be stored; remove it and send again",
            {"field": hit[0], "what": hit[1]},
        )


class StorableText(BaseModel):
    """A request body whose every string (nested ones and dict keys too) must be storable text."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        refuse_unstorable(data)
        return data


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="The platform's account id.")
    handle: str | None = Field(default=None, max_length=200)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class MediaIn(BaseModel):
    """Exactly one of ``url`` (fetched by the worker) or ``data_base64`` (the bytes themselves)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=4096)
    data_base64: str | None = None
    mime: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _one_source(self) -> MediaIn:
        if (self.url is None) == (self.data_base64 is None):
            raise ValueError("each media needs exactly one of 'url' or 'data_base64'")
        if self.url is not None and not self.url.lower().startswith(("http://", "https://")):
            raise ValueError("media url must start with http:// or https://")
        return self

    def decoded(self) -> bytes | None:
        """The inline bytes (validated base64), or None for a URL."""
        if self.data_base64 is None:
            return None
        try:
            data = base64.b64decode(self.data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("media data_base64 is not valid base64") from None
        if not data:
            raise ValueError("media data_base64 is empty")
        return data


class ContextIn(BaseModel):
    """Where and when the content was posted (kept for reports and legal requests)."""

    model_config = ConfigDict(extra="allow")

    ip: str | None = None
    port: int | None = Field(default=None, ge=0, le=65535)
    device_id: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    server: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime | None = None

    @field_validator("ip")
    @classmethod
    def _ip(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            raise ValueError(f"context.ip {v!r} is not an IP address") from None

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.isalpha():
            raise ValueError("context.country must be a two-letter ISO 3166 code")
        return v.upper()

    @field_validator("created_at")
    @classmethod
    def _aware(cls, v: dt.datetime | None) -> dt.datetime | None:
        # Stored as UTC: SQLite keeps a datetime's wall-clock digits and drops the offset, so a
        # "+05:30" time kept as given would be read back 5 h 30 min late.
        if v is None:
            return v
        if v.tzinfo is None:
            return v.replace(tzinfo=dt.UTC)
        return v.astimezone(dt.UTC)


class ItemIn(BaseModel):
    """Body of ``POST /v1/items``."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(
        default="default",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="Which platform the item comes from (one install may serve several); with `platform_id` it "
        "names the item: a repeat answers with the stored item.",
    )
    platform_id: str = Field(min_length=1, max_length=200)
    account: AccountIn | None = None
    kind: str = Field(default="post", max_length=20)
    text: str | None = None
    links: list[str] = Field(default_factory=list)
    media: list[MediaIn] = Field(default_factory=list)
    context: ContextIn = Field(default_factory=ContextIn)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        """Every string of the item (text, ids, handle, links, context keys and values, media urls
        and types) is checked before any other rule; inline media bytes are base64 (ASCII) and
        skipped: that validation refuses anything else, and a 64 MB string is not searched twice."""
        if isinstance(data, dict):
            refuse_unstorable({k: v for k, v in data.items() if k != "media"})
            media = data.get("media")
            if isinstance(media, list):
                for n, m in enumerate(media):
                    refuse_unstorable(
                        {k: v for k, v in m.items() if k != "data_base64"} if isinstance(m, dict) else m, f"media[{n}]"
                    )
        return data

    @field_validator("platform_id", mode="before")
    @classmethod
    def _pid_as_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in ITEM_KINDS:
            raise ValueError(f"kind must be one of {', '.join(ITEM_KINDS)}")
        return v

    @field_validator("links")
    @classmethod
    def _links(cls, v: list[str]) -> list[str]:
        for link in v:
            if not link or len(link) > 4096:
                raise ValueError("each link must be 1..4096 characters")
        return v


class ItemCreated(BaseModel):
    id: int
    status: str
    created: bool


class MediaView(BaseModel):
    position: int
    source: Literal["url", "inline"]
    url: str | None
    mime: str | None
    size: int | None
    kind: str | None
    signals: dict[str, Any]
    error: str | None


class MatchView(BaseModel):
    media_position: int | None
    bank: str
    label: str
    signal_type: str
    signal: str
    entry_id: int | None
    distance: int
    transform: str | None


class ScoreView(BaseModel):
    media_position: int | None
    classifier: str
    name: str
    value: float


class ItemView(BaseModel):
    """Body of ``GET /v1/items/{id}``."""

    id: int
    platform_id: str
    account: dict[str, Any] | None
    kind: str
    status: str
    verdict: str | None
    rule: str | None
    reasons: list[str]
    actions: list[str]  # one name per action: "remove_item", "withhold_in_country:IN", "report:ncmec"
    facts: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What made the policy's rules fire, as data: one object per fact with its kind (hash, link, "
        "text, classifier, user_report, context), the rule, and its details (match, score, text or "
        "condition). The same facts as `reasons`, which are words for people.",
    )
    priority: int
    text_hits: list[dict[str, Any]]
    links: list[str]
    context: dict[str, Any]
    created_at: dt.datetime
    received_at: dt.datetime
    scanned_at: dt.datetime | None
    error: str | None
    media: list[MediaView]
    matches: list[MatchView]
    scores: list[ScoreView]


class AccountItemView(BaseModel):
    id: int
    platform_id: str
    created_at: dt.datetime
    status: str
    verdict: str | None
    rule: str | None
    labels: list[str]


class AccountView(BaseModel):
    """Body of ``GET /v1/accounts/{id}``: the account and its history of matched items."""

    id: int
    platform_account_id: str
    handle: str | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    items_total: int
    items_matched: int
    verdicts: dict[str, int]
    labels: dict[str, int]
    matched_items: list[AccountItemView]
