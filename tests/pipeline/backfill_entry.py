"""Runs ``suraksha backfill`` for the crash test, slowed down so a ``kill -9`` lands mid-run.

Usage: python tests/pipeline/backfill_entry.py backfill FILE [options]
SURAKSHA_TEST_STORE_DELAY (seconds) pauses inside each batch's transaction, after its items are
stored and before the checkpoint moves, so the kill usually lands between the two.
"""

from __future__ import annotations

import os
import sys
import time

from suraksha.pipeline import backfill

if __name__ == "__main__":
    delay = float(os.environ.get("SURAKSHA_TEST_STORE_DELAY", "0"))
    if delay:
        real_store = backfill._store_many

        def slow_store(session, preps):
            ids = real_store(session, preps)
            session.flush()
            time.sleep(delay)
            return ids

        backfill._store_many = slow_store
    from suraksha.cli import app

    app(sys.argv[1:], prog_name="suraksha")
