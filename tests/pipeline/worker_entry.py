"""Runs ``suraksha worker`` for the crash test (the real scanner, matcher and policy).

Usage: python tests/pipeline/worker_entry.py worker [options]
SURAKSHA_TEST_SCAN_DELAY (seconds) adds a pause to every scan, widening the window in which a
``kill -9`` lands in the middle of a batch.
"""

from __future__ import annotations

import os
import sys
import time

from suraksha.pipeline import scan as scan_mod


def _scanner() -> scan_mod.Scanner:
    scanner = scan_mod.Scanner()
    delay = float(os.environ.get("SURAKSHA_TEST_SCAN_DELAY", "0"))
    if delay:
        real = scanner.scan_many

        def slow(item_ids: list[int]):
            time.sleep(delay * len(item_ids))
            return real(item_ids)

        scanner.scan_many = slow  # type: ignore[method-assign]
    return scanner


if __name__ == "__main__":
    scan_mod.set_scanner(_scanner())
    from suraksha.cli import app

    app(sys.argv[1:], prog_name="suraksha")
