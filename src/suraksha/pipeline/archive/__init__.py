"""The signal archive: every scanned item's signals in Parquet files partitioned by jurisdiction and day.

- ``store``: the files (schema, layout ``jurisdiction=<code>/day=<YYYY-MM-DD>/part-*.parquet`` on a
  local folder or any pyarrow/fsspec filesystem), reading by day, retention purge.
- ``writer``: the buffer a worker appends to after each recorded scan (flushed by size, age and at
  exit), and ``rebuild`` which writes from the database what the archive misses.
- ``hunt``: the retro-hunt engine (in process, or Ray Data with actors that open the matcher once).

Names are resolved on first use (PEP 562): ``pipeline.queue`` imports this package on every
worker's start, and pyarrow costs ~0.3-0.9 s to import, for an archive that is off by default.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "SCHEMA": "store",
    "Archive": "store",
    "ArchiveFile": "store",
    "PurgeSummary": "store",
    "jurisdiction_of": "store",
    "open_archive": "store",
    "retention_days": "store",
    "ArchiveWriter": "writer",
    "append_scanned": "writer",
    "archive_enabled": "writer",
    "flush_archive": "writer",
    "get_writer": "writer",
    "rebuild": "writer",
    "reset_writer": "writer",
    "rows_for_items": "writer",
    "rows_for_results": "writer",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
