"""The archive's files: one Parquet schema, a layout partitioned by jurisdiction and day, retention.

Layout under the archive's root (a local folder, ``s3://bucket/prefix``, or any URL pyarrow or
fsspec opens)::

    jurisdiction=in/day=2026-12-01/part-20261201T201500Z-1a2b3c4d.parquet

One row per scanned media (its SHA-256, MD5, PDQ with quality and its seven rotations/mirrors,
vPDQ frames) and one per canonical link, each with the item id, platform id, account, country,
post time and scan time. A row holds everything one lookup needs, so any split of the files into
batches (Ray Data's blocks) matches the same. The day is the post time's (``created_at``, UTC):
retention and retro-hunts by "posted since" read whole partitions. Jurisdiction comes from the
item's ``context.country`` (``IN`` -> ``in``, ``GB`` -> ``uk``, an EU member state -> ``eu``,
``US`` -> ``us``, anything else ``other``), so each partition is purged by its own profile.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from suraksha.errors import InvalidInput
from suraksha.jurisdictions import ProfileError, load_profile
from suraksha.jurisdictions.profiles import EU_COUNTRIES
from suraksha.settings import get_settings

_TRANSFORM = pa.struct([("transform", pa.string()), ("hash", pa.string())])
_FRAME = pa.struct([("second", pa.float64()), ("pdq", pa.string()), ("quality", pa.int16())])

SCHEMA = pa.schema(
    [
        ("item_id", pa.int64()),
        ("platform_id", pa.string()),
        ("account", pa.string()),  # the platform's account id
        ("country", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),  # posted (the partition's day)
        ("scanned_at", pa.timestamp("us", tz="UTC")),
        ("media_position", pa.int32()),  # null on a link row
        ("kind", pa.string()),  # image | video | other | link
        ("sha256", pa.string()),
        ("md5", pa.string()),
        ("pdq", pa.string()),
        ("pdq_quality", pa.int16()),
        ("pdq_transforms", pa.list_(_TRANSFORM)),  # the 7 rotations/mirrors (the scan computes them)
        ("vpdq", pa.list_(_FRAME)),
        ("url", pa.string()),  # canonical link
    ]
)

_COUNTRY_TO_PROFILE = {"IN": "in", "US": "us", "GB": "uk", "UK": "uk"}
OTHER = "other"
_PART = re.compile(r"jurisdiction=([a-z]+)/day=(\d{4}-\d{2}-\d{2})/([^/]+\.parquet)$")


def jurisdiction_of(country: str | None) -> str:
    """The profile whose retention applies to an item posted in ``country`` (``other``: none)."""
    c = (country or "").upper()
    return _COUNTRY_TO_PROFILE.get(c) or ("eu" if c in EU_COUNTRIES else OTHER)


def retention_days(jurisdiction: str) -> int:
    """Days a partition is kept after its day ends: the profile's ``signal_archive`` retention, else
    its ``evidence`` one (archived signals are records associated with the content); ``other`` and
    a profile with neither: ``SURAKSHA_ARCHIVE_DEFAULT_RETENTION_DAYS``."""
    if jurisdiction != OTHER:
        try:
            profile = load_profile(jurisdiction)
        except ProfileError:
            profile = None
        if profile is not None:
            rule = profile.retention.get("signal_archive") or profile.retention.get("evidence")
            if rule is not None:
                return rule.days
    return get_settings().archive.default_retention_days


@dataclass(frozen=True)
class ArchiveFile:
    jurisdiction: str
    day: dt.date
    path: str
    size: int


@dataclass
class PurgeSummary:
    partitions_deleted: int = 0
    files_deleted: int = 0
    rows_deleted: int = 0
    bytes_deleted: int = 0
    kept_days: dict[str, int] = field(default_factory=dict)  # jurisdiction -> retention used
    deleted: list[str] = field(default_factory=list)  # "in/2026-05-01"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _filesystem(url: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's own filesystems (local, s3, gcs, hdfs), else fsspec's (any protocol it knows)."""
    if "://" not in url or url.startswith("file://"):
        from pathlib import Path

        path = Path(url.removeprefix("file://")).expanduser().resolve()
        return pafs.LocalFileSystem(), str(path)
    try:
        fs, path = pafs.FileSystem.from_uri(url)
        return fs, str(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        import fsspec  # here: only for protocols pyarrow lacks (fsspec comes with ray[data])

        fs, path = fsspec.core.url_to_fs(url)
        return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


class Archive:
    """One archive root. Writes are whole files (never appended to), so readers see complete files only."""

    def __init__(self, url: str) -> None:
        if not url:
            raise InvalidInput("no signal archive configured (set SURAKSHA_ARCHIVE_URL)")
        self.url = url
        self.fs, self.root = _filesystem(url)
        self.local = isinstance(self.fs, pafs.LocalFileSystem)

    # ------------------------------------------------------------- writing
    def write(self, rows: list[dict[str, Any]]) -> list[str]:
        """Write rows as one file per (jurisdiction, day) they fall in; returns the paths written."""
        groups: dict[tuple[str, dt.date], list[dict[str, Any]]] = {}
        for r in rows:
            created = r["created_at"]
            groups.setdefault((jurisdiction_of(r.get("country")), created.astimezone(dt.UTC).date()), []).append(r)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        written = []
        for (jur, day), group in sorted(groups.items()):
            folder = f"{self.root}/jurisdiction={jur}/day={day.isoformat()}"
            name = f"part-{stamp}-{uuid.uuid4().hex[:12]}.parquet"
            table = pa.Table.from_pylist(group, schema=SCHEMA)
            self.fs.create_dir(folder, recursive=True)
            final = f"{folder}/{name}"
            if self.local:
                # Written beside, then renamed: a reader (or a crash) never meets half a file.
                tmp = f"{folder}/.{name}.tmp"
                pq.write_table(table, tmp, filesystem=self.fs, compression="zstd")
                self.fs.move(tmp, final)
            else:  # object stores publish an object whole, on close
                pq.write_table(table, final, filesystem=self.fs, compression="zstd")
            written.append(final)
        return written

    # ------------------------------------------------------------- reading
    def files(
        self, since: dt.date | None = None, until: dt.date | None = None, jurisdictions: Iterable[str] | None = None
    ) -> list[ArchiveFile]:
        """The archive's files with ``since <= day <= until``, oldest day first."""
        wanted = set(jurisdictions) if jurisdictions is not None else None
        try:
            infos = self.fs.get_file_info(pafs.FileSelector(self.root, recursive=True, allow_not_found=True))
        except FileNotFoundError:
            return []
        out = []
        for info in infos:
            if info.type != pafs.FileType.File:
                continue
            m = _PART.search(info.path.replace("\\", "/"))
            if m is None or m.group(3).startswith("."):
                continue
            day = dt.date.fromisoformat(m.group(2))
            if (since and day < since) or (until and day > until) or (wanted is not None and m.group(1) not in wanted):
                continue
            out.append(ArchiveFile(m.group(1), day, info.path, int(info.size or 0)))
        return sorted(out, key=lambda f: (f.day, f.jurisdiction, f.path))

    def read(self, path: str, columns: list[str] | None = None) -> pa.Table:
        return pq.read_table(path, filesystem=self.fs, columns=columns, schema=SCHEMA)

    def batches(self, files: Iterable[ArchiveFile | str], batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Record batches of the files (or paths), one file open at a time (memory: one batch)."""
        for f in files:
            with self.fs.open_input_file(f if isinstance(f, str) else f.path) as handle:
                yield from pq.ParquetFile(handle).iter_batches(batch_size=batch_rows)

    def count_rows(self, files: Iterable[ArchiveFile]) -> int:
        return sum(pq.read_metadata(f.path, filesystem=self.fs).num_rows for f in files)

    # ------------------------------------------------------------- retention
    def purge(self, now: dt.datetime | None = None, *, dry_run: bool = False) -> PurgeSummary:
        """Delete each partition whose day ended more than its jurisdiction's retention ago."""
        now = now or dt.datetime.now(dt.UTC)
        if now.tzinfo is None:
            raise InvalidInput("purge time must be timezone-aware")
        today = now.astimezone(dt.UTC).date()
        summary = PurgeSummary()
        partitions: dict[tuple[str, dt.date], list[ArchiveFile]] = {}
        for f in self.files():
            partitions.setdefault((f.jurisdiction, f.day), []).append(f)
        for (jur, day), files in sorted(partitions.items()):
            keep = summary.kept_days.setdefault(jur, retention_days(jur))
            if day + dt.timedelta(days=1 + keep) > today:  # kept for `keep` whole days after the day ends
                continue
            summary.partitions_deleted += 1
            summary.files_deleted += len(files)
            summary.rows_deleted += self.count_rows(files)
            summary.bytes_deleted += sum(f.size for f in files)
            summary.deleted.append(f"{jur}/{day.isoformat()}")
            if not dry_run:
                self.fs.delete_dir(f"{self.root}/jurisdiction={jur}/day={day.isoformat()}")
        return summary


def open_archive(url: str | None = None) -> Archive:
    """The archive at ``url`` (default: ``SURAKSHA_ARCHIVE_URL``)."""
    return Archive(url if url is not None else (get_settings().archive.url or ""))
