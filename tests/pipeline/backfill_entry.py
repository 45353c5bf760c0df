"""Runs ``suraksha backfill`` for the crash test, slowed down so a ``kill -9`` lands mid-run.

Usage: python tests/pipeline/backfill_entry.py backfill FILE [options]
SURAKSHA_TEST_STORE_DELAY (seconds) pauses inside the batch transaction after each stored item,
so the kill usually lands between an item's insert and the checkpoint's commit.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import fakes  # noqa: E402

fakes.install_missing()

from suraksha.pipeline import backfill  # noqa: E402

if __name__ == "__main__":
    delay = float(os.environ.get("SURAKSHA_TEST_STORE_DELAY", "0"))
    if delay:
        real_store = backfill.ingest._store

        def slow_store(session, prep):
            item = real_store(session, prep)
            time.sleep(delay)
            return item

        backfill.ingest._store = slow_store
    from suraksha.cli import app

    app(sys.argv[1:], prog_name="suraksha")
