"""`suraksha demo seed`: a small, benign demo so `make run` shows something on a fresh machine.

Creates, when missing: a ``csam`` bank filled from the benign reference photo
``../shared/reference/pdq/bridge-mods/aaa-orig.jpg`` (a bridge; only when that folder exists), an
``ncii`` bank, a ``csam_url`` bank with a reserved example domain and URL, a negative bank for
known false positives, a ``demo`` API key printed once, review demo items, and the legal demo
(``suraksha.legal.demo``: an agency, a portal officer, requests on the deadlines dashboard). Running it again changes nothing.
Refused in production mode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEMO_KEY_NAME = "demo"
REFERENCE_IMAGE = Path("pdq") / "bridge-mods" / "aaa-orig.jpg"
DEMO_BANKS = [
    # name, label, negative, description
    ("demo-csam", "csam", False, "Demo: known-material bank holding a benign reference photo (a bridge)."),
    ("demo-ncii", "ncii", False, "Demo: non-consensual intimate imagery bank (empty)."),
    ("demo-csam-urls", "csam_url", False, "Demo: links to known material (reserved example domains only)."),
    ("demo-false-positives", "csam", True, "Demo: negative bank; a match here suppresses every other match."),
]
DEMO_URL_SIGNALS = [("domain", "known-bad.example.com"), ("url", "https://known-bad.example.net/gallery/1")]


@dataclass
class SeedReport:
    lines: list[str] = field(default_factory=list)
    changed: bool = False
    api_key: str | None = None


def reference_image() -> Path | None:
    """The benign reference photo, from SURAKSHA_REFERENCE_DIR, ../shared/reference next to the
    checkout, or ../shared/reference from the working directory."""
    candidates = []
    if os.environ.get("SURAKSHA_REFERENCE_DIR"):
        candidates.append(Path(os.environ["SURAKSHA_REFERENCE_DIR"]))
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "reference")
    candidates.append(Path.cwd().parent / "shared" / "reference")
    for base in candidates:
        path = base / REFERENCE_IMAGE
        if path.is_file():
            return path
    return None


def seed_demo() -> SeedReport:
    from suraksha.config import get_settings

    if get_settings().mode == "production":
        raise ValueError("refusing to seed demo data in production mode (SURAKSHA_MODE=production)")
    from suraksha.api.keys import create_key, get_key
    from suraksha.matching.banks import BankNotFound, SignalRow, add_content, add_signals, create_bank, get_bank

    report = SeedReport()

    for name, label, negative, description in DEMO_BANKS:
        try:
            get_bank(name)
        except BankNotFound:
            create_bank(name, label, negative=negative, description=description)
            report.lines.append(f"created bank {name} (label {label}{', negative' if negative else ''})")
            report.changed = True

    image = reference_image()
    if image is None:
        report.lines.append("reference image not found (../shared/reference); demo-csam left empty")
    else:
        res = add_content("demo-csam", image.read_bytes(), {"file": image.name, "demo": True}, mime="image/jpeg")
        if res.added:
            report.lines.append(f"demo-csam: added {res.added} signals of {image.name}")
            report.changed = True

    res = add_signals("demo-csam-urls", [SignalRow(t, v, {"demo": True}) for t, v in DEMO_URL_SIGNALS])
    if res.added:
        report.lines.append(f"demo-csam-urls: added {res.added} example link signals")
        report.changed = True

    if get_key(DEMO_KEY_NAME) is None:
        _info, secret = create_key(DEMO_KEY_NAME)
        report.api_key = secret
        report.lines.append(f"created API key {DEMO_KEY_NAME!r}")
        report.changed = True

    # Review workspace: a few benign demo items waiting in the review queues, so /login leads somewhere.
    from sqlalchemy import func, select

    from suraksha.cases.demo import seed_review_demo
    from suraksha.db import session_scope
    from suraksha.pipeline.models import Item

    def count_items() -> int:
        with session_scope() as session:
            return session.scalar(select(func.count()).select_from(Item)) or 0

    before = count_items()
    seed_review_demo(reference_image())
    if count_items() > before:
        report.lines.append(f"review demo: {count_items() - before} items waiting in the review queues (sign in at /login)")
        report.changed = True

    # Legal area: a demo agency, its officer (portal sign-in shown on /portal/login) and requests in
    # every state of the deadlines dashboard.
    from suraksha.legal.demo import seed_legal_demo

    legal_lines = seed_legal_demo()
    if legal_lines:
        report.lines.extend(legal_lines)
        report.changed = True

    if report.changed:
        from suraksha.matching.matcher import get_matcher

        get_matcher().save()  # `serve` then starts from an up-to-date snapshot
    return report
