"""Bank import and export formats.

- ``csv``: a header ``signal_type,signal,label,metadata`` (metadata is a JSON object, may be empty).
- ``te``: python-threatexchange's signal file format, one ``<te signal type name> <signal>`` per line,
  as read by its ``LocalFileSignalExchangeAPI`` and written by its ``report_opinion``. Signal type
  names are threatexchange's (``pdq``, ``vpdq``, ``video_md5``, ``video_sha256``, ``url``, ``raw_text``),
  so a bank moves between HMA / threatexchange and Suraksha unchanged.

Readers are streaming generators; errors name the line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import IO

from suraksha.matching.banks import EntryView, SignalRow

FORMATS = ("csv", "te")
CSV_HEADER = ["signal_type", "signal", "label", "metadata"]

# Our signal type name -> threatexchange's SignalType.get_name(). `domain` has no threatexchange type.
TE_NAMES = {
    "pdq": "pdq",
    "vpdq": "vpdq",
    "md5": "video_md5",
    "sha256": "video_sha256",
    "url": "url",
    "text": "raw_text",
}
FROM_TE = {v: k for k, v in TE_NAMES.items()}
# Older threatexchange files also use these names for the same signals.
FROM_TE.update({"md5": "md5", "sha256": "sha256", "photo_md5": "md5", "domain": "domain"})


class FormatError(ValueError):
    """A malformed import file; the message names the line."""


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def read_rows(stream: IO[str], fmt: str) -> Iterator[SignalRow]:
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
        ours = FROM_TE.get(te_name)
        if ours is None:
            raise FormatError(f"line {lineno}: unsupported threatexchange signal type {te_name!r}")
        yield SignalRow(ours, signal.strip(), {})


def write_entries(entries: Iterable[EntryView], stream: IO[str], fmt: str, *, label: str = "") -> dict[str, int]:
    """Write entries; returns counts of written and skipped (no equivalent in the format) rows."""
    _check_format(fmt)
    counts = {"written": 0, "skipped": 0}
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for e in entries:
            meta = {k: v for k, v in e.metadata.items() if k != "label"}
            writer.writerow([e.signal_type, e.signal, e.metadata.get("label", label), json.dumps(meta, sort_keys=True) if meta else ""])
            counts["written"] += 1
    else:
        for e in entries:
            te_name = TE_NAMES.get(e.signal_type)
            if te_name is None or "\n" in e.signal:
                counts["skipped"] += 1
                continue
            stream.write(f"{te_name} {e.signal}\n")
            counts["written"] += 1
    return counts


def rows_from_text(text: str, fmt: str) -> list[SignalRow]:
    return list(read_rows(io.StringIO(text), fmt))
