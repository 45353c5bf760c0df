"""Runs ``suraksha worker`` for the crash test, with fakes only for modules not written yet.

Usage: python tests/pipeline/worker_entry.py worker [options]
SURAKSHA_TEST_SCAN_DELAY (seconds) adds a pause to every scan, widening the window in which a
``kill -9`` lands in the middle of a batch.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import fakes  # noqa: E402

fakes.install_missing()

from suraksha.pipeline import scan as scan_mod  # noqa: E402


def _scanner() -> scan_mod.Scanner:
    kwargs = {}
    if not fakes.real_matcher_usable():
        kwargs["matcher"] = fakes.DbBankMatcher()
    import suraksha.policy as policy

    if policy.default_policy is fakes.default_policy:
        kwargs["policy"] = fakes.FakePolicy()
    scanner = scan_mod.Scanner(**kwargs)
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
