"""Reading a platform's export for ``suraksha backfill``: JSON Lines or Parquet, streamed.

An export holds one item per line (JSONL) or per row (Parquet) in the shape of ``POST /v1/items``
(``ItemIn``), with two additions for files made offline: a media may be ``{"path": ...}`` (a
local file, relative to the export's folder) or, in Parquet, ``{"data": <binary>}``. Nothing is
loaded whole: JSONL is read line by line (a line is never longer than ``max_line_bytes``, so a
broken file cannot make us buffer gigabytes), Parquet by record batches of the remaining row
groups. Every row carries its position so the caller can checkpoint after it and seek back to it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from suraksha.errors import InvalidInput
from suraksha.pipeline.schemas import ItemIn

FORMATS = ("jsonl", "parquet")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_CHUNK = 1 << 20
KEY_PREFIX = "backfill:"


class BadRow(InvalidInput):
    """One row of the export cannot be backfilled; the message says why (the run goes on)."""


@dataclass(frozen=True)
class Row:
    """One row as read: ``line`` is 1-based (JSONL line / Parquet row); ``position`` and
    ``offset`` are where a resumed read starts after this row (rows done, byte offset)."""

    line: int
    position: int
    offset: int
    data: dict[str, Any] | None
    error: str | None = None  # the row could not even be parsed


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The export's format from ``--format`` or its name; Parquet also by its magic bytes."""
    if fmt:
        if fmt not in FORMATS:
            raise InvalidInput(f"unknown export format {fmt!r} (use {' or '.join(FORMATS)})")
        return fmt
    if path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    if path.suffix.lower() in _JSONL_SUFFIXES:
        return "jsonl"
    with path.open("rb") as f:
        return "parquet" if f.read(4) == b"PAR1" else "jsonl"


def fingerprint(path: Path) -> str:
    """SHA-256 of the whole file, read in 1 MiB chunks: identifies the export across renames
    and copies, and tells an edited file from the one a checkpoint belongs to (~1-2 s per GB)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def total_of(path: Path, fmt: str) -> int:
    """What progress is measured against: bytes (JSONL) or rows (Parquet)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return path.stat().st_size


# ---------------------------------------------------------------- JSONL
def iter_jsonl(path: Path, *, start_line: int = 0, start_offset: int = 0, max_line_bytes: int) -> Iterator[Row]:
    """Rows from ``start_offset`` (the byte where line ``start_line + 1`` begins), one line at a time."""
    line, offset = start_line, start_offset
    with path.open("rb") as f:
        f.seek(start_offset)
        while True:
            raw = f.readline(max_line_bytes + 1)
            if not raw:
                return
            line += 1
            if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
                # Too long: skip to the end of this line without holding it.
                skipped = len(raw)
                while raw and not raw.endswith(b"\n"):
                    raw = f.readline(_CHUNK)
                    skipped += len(raw)
                offset += skipped
                yield Row(line, line, offset, None, f"line is longer than {max_line_bytes} bytes")
                continue
            offset += len(raw)
            text = raw.strip()
            if not text:
                continue  # blank lines are not rows
            try:
                data = json.loads(text)
            except (ValueError, UnicodeDecodeError) as exc:
                yield Row(line, line, offset, None, f"not valid JSON ({exc})")
                continue
            if not isinstance(data, dict):
                yield Row(line, line, offset, None, f"expected a JSON object, got {type(data).__name__}")
                continue
            yield Row(line, line, offset, data)


# ---------------------------------------------------------------- Parquet
def iter_parquet(path: Path, *, start_row: int = 0, batch_rows: int = 1024) -> Iterator[Row]:
    """Rows from row ``start_row`` on, by record batches of the row groups not yet done."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    first, groups, start = 0, [], 0  # first: the row where the first group still to read begins
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if start + n > start_row:
            if not groups:
                first = start
            groups.append(g)
        start += n
    if not groups:
        return
    skip = start_row - first
    row = first
    for batch in pf.iter_batches(batch_size=batch_rows, row_groups=groups):
        for data in batch.to_pylist():
            row += 1
            if skip > 0:
                skip -= 1
                continue
            yield Row(row, row, 0, _drop_nulls(data))


def _drop_nulls(value: Any) -> Any:
    """Parquet has a column for every field; a null means 'not given' (as a missing JSON key)."""
    if isinstance(value, dict):
        out = {k: _drop_nulls(v) for k, v in value.items() if v is not None}
        return out
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


# ---------------------------------------------------------------- row -> ItemIn
def backfill_key(platform_id: str, given: str | None) -> str:
    """The deterministic idempotency key of a backfilled item (a rerun can never store it twice)."""
    key = f"{KEY_PREFIX}{given or platform_id}"
    if len(key) > 200:
        key = KEY_PREFIX + hashlib.sha256((given or platform_id).encode()).hexdigest()
    return key


def to_item(data: dict[str, Any], *, base_dir: Path, max_media_bytes: int, media_root: Path | None = None) -> ItemIn:
    """Validate one row as an ``ItemIn`` (media paths and bytes made inline); raises ``BadRow``.

    Media paths are relative to ``base_dir`` (the export's folder) and must lie, symlinks resolved,
    inside ``media_root`` (default: ``base_dir``), so an export cannot make us read other files.
    """
    data = dict(data)
    media = data.get("media")
    root = (media_root or base_dir).resolve()
    if isinstance(media, list):
        data["media"] = [_inline_media(n, m, base_dir, root, max_media_bytes) for n, m in enumerate(media)]
    try:
        item = ItemIn.model_validate(data)
    except ValidationError as exc:
        raise BadRow(_reason(exc)) from None
    if item.context.created_at is None:
        raise BadRow("context.created_at is required for backfill (the time the content was posted)")
    # Stored in UTC: SQLite keeps no zone, and statistics group by the instant, not the wall clock.
    context = item.context.model_copy(update={"created_at": item.context.created_at.astimezone(dt.UTC)})
    return item.model_copy(update={"idempotency_key": backfill_key(item.platform_id, item.idempotency_key), "context": context})


def _inline_media(n: int, media: Any, base_dir: Path, root: Path, max_bytes: int) -> Any:
    if not isinstance(media, dict) or ("path" not in media and "data" not in media):
        return media  # ItemIn says what is wrong with it
    media = dict(media)
    if "data" in media:
        data = media.pop("data")
        if not isinstance(data, (bytes, bytearray)):
            raise BadRow(f"media[{n}].data must be binary (use data_base64 in JSON)")
    else:
        data = _read_media_file(n, str(media.pop("path")), base_dir, root, max_bytes)
    if len(data) > max_bytes:
        raise BadRow(f"media[{n}] is {len(data)} bytes, over the {max_bytes}-byte media limit")
    media["data_base64"] = base64.b64encode(data).decode("ascii")
    return media


def _read_media_file(n: int, name: str, base_dir: Path, root: Path, max_bytes: int) -> bytes:
    path = (base_dir / name).resolve()  # an absolute name replaces base_dir
    if not path.is_relative_to(root):
        raise BadRow(f"media[{n}].path {name!r} is outside the media folder {str(root)!r} (see --media-root)")
    if not path.is_file():
        raise BadRow(f"media[{n}].path {name!r}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise BadRow(f"media[{n}].path {name!r} is {size} bytes, over the {max_bytes}-byte media limit")
    try:
        with path.open("rb") as f:
            return f.read(max_bytes + 1)
    except OSError as exc:
        raise BadRow(f"media[{n}].path {name!r}: {exc.strerror or exc}") from None


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
