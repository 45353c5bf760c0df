"""The retro-hunt engine: archived signals against the banks, in process or on a Ray cluster.

One function, ``match_table``, turns a table of archive rows into a table of findings (the match
columns a scan stores, plus the item id), by the very lookups a scan makes: ``lookup_media`` for a
media row (exact hashes, PDQ with its rotations/mirrors for banks that match them, vPDQ) and
``link_matches`` for a link row. In process it runs over the files one record batch at a time with
the process's matcher. On Ray, Ray Data reads the Parquet files (blocks spread over the cluster)
and ``map_batches`` hands them to a pool of actors, each of which opens the matcher ONCE (the
index snapshot plus the bank change log, as every worker does) and matches every block it is
given; only findings come back to the driver. Both paths run the same ``match_table`` on the same
rows, so they find the same matches; the driver stores them (``rescan``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from suraksha.pipeline.archive.store import Archive, ArchiveFile

FINDINGS = pa.schema(
    [
        ("item_id", pa.int64()),
        ("media_position", pa.int32()),
        ("bank", pa.string()),
        ("bank_id", pa.int64()),
        ("label", pa.string()),
        ("signal_type", pa.string()),
        ("signal", pa.string()),
        ("entry_id", pa.int64()),
        ("distance", pa.int32()),
        ("transform", pa.string()),
    ]
)


def media_signals(row: dict[str, Any]) -> SimpleNamespace:
    """An archive row shaped like ``MediaSignals`` for ``Matcher.lookup_media``."""
    pdq = SimpleNamespace(hash=row["pdq"], quality=row["pdq_quality"] or 0) if row["pdq"] else None
    transforms = row["pdq_transforms"]
    dihedral = [("original", row["pdq"]), *((t["transform"], t["hash"]) for t in transforms)] if transforms and pdq else None
    vpdq = [SimpleNamespace(**f) for f in row["vpdq"]] if row["vpdq"] else None
    return SimpleNamespace(kind=row["kind"], sha256=row["sha256"], md5=row["md5"], pdq=pdq, pdq_dihedral=dihedral, vpdq=vpdq)


def match_table(
    matcher: Any, table: pa.Table | pa.RecordBatch, since: dt.datetime | None = None, bank: str | None = None
) -> pa.Table:
    """Findings of archive rows (posted at or after ``since``; matches of ``bank`` only, if given)."""
    from suraksha.pipeline.scan import link_matches

    if since is not None:
        table = table.filter(pc.greater_equal(table["created_at"], pa.scalar(since, type=pa.timestamp("us", tz="UTC"))))
    out: list[dict[str, Any]] = []
    for row in table.to_pylist():
        if row["kind"] == "link":
            found = link_matches(matcher, row["url"]) if row["url"] else []
        else:
            found = matcher.lookup_media(media_signals(row))
        for m in found:
            if bank is not None and m.bank != bank:
                continue
            out.append(
                {
                    "item_id": row["item_id"],
                    "media_position": row["media_position"],
                    "bank": m.bank,
                    "bank_id": m.bank_id,
                    "label": m.label,
                    "signal_type": m.signal_type,
                    "signal": m.signal,
                    "entry_id": m.entry_id,
                    "distance": m.distance,
                    "transform": m.transform,
                }
            )
    return pa.Table.from_pylist(out, schema=FINDINGS)


def hunt_in_process(
    archive: Archive,
    files: list[ArchiveFile],
    matcher: Any,
    *,
    since: dt.datetime | None = None,
    bank: str | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[pa.Table]:
    """Findings, one table per record batch of the files (``on_rows(n)`` after each batch)."""
    for batch in archive.batches(files):
        yield match_table(matcher, batch, since, bank)
        if on_rows:
            on_rows(batch.num_rows)


class HuntActor:
    """A Ray Data actor: opens the matcher once, then reads and matches every partition file it is handed."""

    def __init__(
        self,
        env: dict[str, str],
        archive_url: str,
        since: str | None,
        bank: str | None,
        matcher_factory: Callable[[], Any] | None,
    ) -> None:
        os.environ.update(env)
        from suraksha.db import reset_engine
        from suraksha.settings import reset_settings

        reset_settings()
        reset_engine()
        if matcher_factory is None:
            from suraksha.matching.matcher import Matcher

            self.matcher = Matcher.open()
        else:
            self.matcher = matcher_factory()
        self.archive = Archive(archive_url)
        self.since = dt.datetime.fromisoformat(since) if since else None
        self.bank = bank

    def __call__(self, batch: dict[str, Any]) -> pa.Table:
        paths = [str(p) for p in batch["path"]]
        found = [match_table(self.matcher, b, self.since, self.bank) for b in self.archive.batches(paths)]
        return pa.concat_tables(found) if found else FINDINGS.empty_table()


def actor_env() -> dict[str, str]:
    """What an actor needs to open the same database and index snapshot as this process."""
    from suraksha.settings import get_settings

    core = get_settings().core
    return {"SURAKSHA_DATABASE_URL": core.resolved_database_url, "SURAKSHA_HOME": str(core.home)}


def connect_ray(address: str) -> Any:
    """Join the cluster at ``address`` (``local``: start one on this machine); reuses a connection."""
    import ray  # here: ray costs 1-4 s to import, only for --ray

    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, include_dashboard=False, log_to_driver=False)
    return ray


def hunt_on_ray(
    address: str,
    archive: Archive,
    files: list[ArchiveFile],
    *,
    since: dt.datetime | None = None,
    bank: str | None = None,
    workers: int = 0,
    matcher_factory: Callable[[], Any] | None = None,
) -> Iterator[pa.Table]:
    """Findings from a pool of ``workers`` actors (0: one per CPU of the cluster) over the files' blocks."""
    if not files:
        return
    ray = connect_ray(address)
    size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    # The dataset is the list of partition files; each actor reads the files it is handed. (With
    # ``read_parquet`` the read tasks wait for a CPU the actor pool holds: a pool as large as the
    # cluster never starts reading.) Files are whole Parquet files of at most a flush's rows.
    ds = ray.data.from_items([{"path": f.path} for f in files], override_num_blocks=min(len(files), size * 4))
    ds = ds.map_batches(
        HuntActor,
        batch_format="numpy",
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=size),
        num_cpus=1,
        fn_constructor_kwargs={
            "env": actor_env(),
            "archive_url": archive.url,
            "since": since.isoformat() if since else None,
            "bank": bank,
            "matcher_factory": matcher_factory,
        },
    )
    for block in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        yield block.cast(FINDINGS)
