"""Bank import and export formats.

- ``csv``: a header ``signal_type,signal,label,metadata`` (metadata is a JSON object, may be empty).
- ``te``: python-threatexchange's signal file format, one ``<te signal type name> <signal>`` per line,
  as read by its ``LocalFileSignalExchangeAPI`` and written by its ``report_opinion``. Signal type
  names are threatexchange's, from the registry (``SignalType.te_name``: ``pdq``, ``vpdq``,
  ``video_md5``, ``video_sha256``, ``url``, ``raw_text``), so a bank moves between HMA /
  threatexchange and Suraksha unchanged. A picture's MD5 / SHA-256 (entries whose metadata says
  ``content_type: photo``, as media added to a bank records) is written ``photo_md5`` /
  ``photo_sha256``, never as a video's: threatexchange has no photo hash type and skips those
  lines, Suraksha reads them back. Reading a name that implies the content (``video_md5``) records
  it as ``content_type`` in the entry's metadata.

Readers are streaming generators; errors name the line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO

from suraksha.errors import InvalidInput
from suraksha.matching.banks import CONTENT_TYPE, EntryView, SignalRow
from suraksha.signals.types import find_signal_type, te_signal_type

FORMATS = ("csv", "te")
CSV_HEADER = ["signal_type", "signal", "label", "metadata"]


class FormatError(InvalidInput):
    """A malformed import file; the message names the line."""


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def read_rows(stream: IO[str], fmt: str) -> Iterator[SignalRow]:
    """Rows of a bank file, one at a time (raises FormatError naming the line)."""
    _check_format(fmt)
    return _read_csv(stream) if fmt == "csv" else _read_te(stream)


def _read_csv(stream: IO[str]) -> Iterator[SignalRow]:
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return
    header = [h.strip().lower() for h in header]
    if header[:2] != CSV_HEADER[:2]:
        raise FormatError(f"line 1: expected the header {','.join(CSV_HEADER)}, got {','.join(header)}")
    for lineno, record in enumerate(reader, start=2):
        if not record or all(not c.strip() for c in record):
            continue
        if len(record) < 2 or len(record) > len(CSV_HEADER):
            raise FormatError(f"line {lineno}: expected {len(CSV_HEADER)} columns ({','.join(CSV_HEADER)}), got {len(record)}")
        signal_type, signal = record[0].strip(), record[1].strip()
        label = record[2].strip() if len(record) > 2 else ""
        raw_meta = record[3].strip() if len(record) > 3 else ""
        try:
            metadata = json.loads(raw_meta) if raw_meta else {}
        except json.JSONDecodeError as exc:
            raise FormatError(f"line {lineno}: metadata is not valid JSON ({exc.msg})") from None
        if not isinstance(metadata, dict):
            raise FormatError(f"line {lineno}: metadata must be a JSON object")
        if label:
            metadata.setdefault("label", label)
        yield SignalRow(signal_type, signal, metadata)


def _read_te(stream: IO[str]) -> Iterator[SignalRow]:
    for lineno, line in enumerate(stream, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        te_name, _, signal = line.partition(" ")
        if not signal.strip():
            raise FormatError(f"line {lineno}: expected '<signal type> <signal>', got {line[:80]!r}")
        found = te_signal_type(te_name)
        if found is None:
            raise FormatError(f"line {lineno}: unsupported threatexchange signal type {te_name[:40]!r}")
        st, content = found
        yield SignalRow(st.name, signal.strip(), {CONTENT_TYPE: content} if content else {})


def write_entries(entries: Iterable[EntryView], stream: IO[str], fmt: str, *, label: str = "") -> dict[str, int]:
    """Write entries; returns counts of written and skipped (no equivalent in the format) rows."""
    _check_format(fmt)
    counts = {"written": 0, "skipped": 0}
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for e in entries:
            meta = {k: v for k, v in e.metadata.items() if k != "label"}
            writer.writerow(
                [e.signal_type, e.signal, e.metadata.get("label", label), json.dumps(meta, sort_keys=True) if meta else ""]
            )
            counts["written"] += 1
    else:
        for e in entries:
            st = find_signal_type(e.signal_type)
            content = e.metadata.get(CONTENT_TYPE)
            te_name = st.te_name_for(content if isinstance(content, str) else None) if st is not None else None
            if te_name is None or "\n" in e.signal:
                counts["skipped"] += 1
                continue
            stream.write(f"{te_name} {e.signal}\n")
            counts["written"] += 1
    return counts


def rows_from_text(text: str, fmt: str) -> list[SignalRow]:
    """Every row of a small bank file held in memory."""
    return list(read_rows(io.StringIO(text), fmt))
