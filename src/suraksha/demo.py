"""`suraksha demo seed`: a small, benign demo so `make run` shows something on a fresh machine;
`suraksha demo purge`: removes the demo's sign-ins before the database serves in production.

Creates, when missing: a ``csam`` bank filled from the benign reference photo
``../shared/reference/pdq/bridge-mods/aaa-orig.jpg`` (a bridge; only when that folder exists), an
``ncii`` bank, a ``csam_url`` bank with a reserved example domain and URL, a negative bank for
known false positives, a ``demo`` API key printed once, review demo items, and the legal demo
(``suraksha.legal.demo``: an agency, a portal officer, requests on the deadlines dashboard). Running it again changes nothing.
Refused in production mode.

The demo's sign-ins have secrets published in this source code: the staff users ``demo-<role>``
(``suraksha.auth.bootstrap.DEMO_USERS``, password and TOTP secret), the portal officer
``demo.officer@police.example`` (``suraksha.legal.demo.DEMO_OFFICER``) and the API key named
``demo`` (its secret is random, but it was printed by `demo seed` and `make run`). No table stores a
"demo" marker, so they are found by these fixed identities. Production mode refuses to start while
any of them exists (``suraksha.cli_support``); ``purge_demo`` removes them.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, select

from suraksha.api.keys import clear_key_cache
from suraksha.api.models import ApiKey
from suraksha.audit import record
from suraksha.auth.bootstrap import DEMO_USERS
from suraksha.auth.models import StaffSession, StaffUser
from suraksha.auth.service import hash_password
from suraksha.cases.models import MediaReveal, ReviewDecision
from suraksha.db.session import session_scope
from suraksha.errors import Forbidden
from suraksha.legal.demo import DEMO_OFFICER
from suraksha.legal.officers import Officer

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
        raise Forbidden("refusing to seed demo data in production mode (SURAKSHA_MODE=production)")
    from suraksha.api.keys import DEMO_KEY_SCOPES, create_key, get_key
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
        _info, secret = create_key(DEMO_KEY_NAME, scopes=DEMO_KEY_SCOPES)
        report.api_key = secret
        report.lines.append(f"created API key {DEMO_KEY_NAME!r}")
        report.changed = True

    # Review workspace: a few benign demo items waiting in the review queues, so /login leads somewhere.
    from sqlalchemy import func, select

    from suraksha.cases.demo import seed_review_demo
    from suraksha.db import session_scope
    from suraksha.items.models import Item

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

    # Escalations of the demo requests go to staff with the legal role: the demo staff exist first
    # (the server's first start makes them too, but a seed run before it found nobody to tell), then
    # the escalations due now are made, so each names its recipients.
    from suraksha.auth.bootstrap import seed_demo_users
    from suraksha.legal import escalate_due

    created_users = seed_demo_users()
    if created_users:
        report.lines.append(f"demo staff users: {', '.join(created_users)} (sign-in details on /login)")
        report.changed = True
    escalations = escalate_due()
    for n in escalations:
        report.lines.append(f"escalation: {n.reference} to the {n.level} officer -> {', '.join(n.recipients) or 'nobody'}")
    report.changed = report.changed or bool(escalations)

    if report.changed:
        from suraksha.matching.matcher import get_matcher

        get_matcher().save()  # `serve` then starts from an up-to-date snapshot
    return report


# ------------------------------------------------------------------------------ demo sign-ins
DEMO_USERNAMES = tuple(u.username for u in DEMO_USERS)
PURGE_ACTOR = "system:demo-purge"


@dataclass(frozen=True)
class DemoCredentials:
    """The demo sign-ins present in the database (their secrets are public)."""

    users: tuple[str, ...] = ()
    officers: tuple[str, ...] = ()
    api_keys: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.users or self.officers or self.api_keys)

    def describe(self) -> str:
        parts = []
        if self.users:
            parts.append("staff users " + ", ".join(self.users))
        if self.officers:
            parts.append("portal officer " + ", ".join(self.officers))
        if self.api_keys:
            parts.append("API key " + ", ".join(repr(k) for k in self.api_keys))
        return "; ".join(parts)


def find_demo_credentials() -> DemoCredentials:
    """Which demo sign-ins exist, by their fixed identities (staff username, officer email, key name)."""
    with session_scope() as session:
        users = session.scalars(
            select(StaffUser.username).where(StaffUser.username.in_(DEMO_USERNAMES)).order_by(StaffUser.id)
        ).all()
        officers = session.scalars(select(Officer.email).where(Officer.email == DEMO_OFFICER.email)).all()
        keys = session.scalars(select(ApiKey.name).where(ApiKey.name == DEMO_KEY_NAME)).all()
    return DemoCredentials(tuple(users), tuple(officers), tuple(keys))


def production_refusal(found: DemoCredentials) -> str:
    """The one line production mode stops with while demo sign-ins exist."""
    return (
        f"production mode refused: this database still holds demo sign-ins whose secrets are published in "
        f"Suraksha's source ({found.describe()}); remove them with `suraksha demo purge` "
        f"(allowed in production mode), then start again"
    )


@dataclass
class PurgeReport:
    deleted_users: list[str] = field(default_factory=list)
    retired_users: list[tuple[str, str]] = field(default_factory=list)  # (demo name, name it keeps in the record)
    officers: list[str] = field(default_factory=list)
    api_keys: list[str] = field(default_factory=list)
    active_admins: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.deleted_users or self.retired_users or self.officers or self.api_keys)


def purge_demo(actor: str = PURGE_ACTOR) -> PurgeReport:
    """Remove every demo sign-in, in one transaction with one ``demo.purge`` audit event. Running it
    again finds nothing and changes nothing.

    A demo staff user is deleted (its sessions and reveal counters go with it), unless the record
    names it: one that made review decisions or revealed media is kept as history but can never sign
    in again (deactivated, renamed ``retired-<name>-<id>`` so the demo name is free, password replaced
    by an unknown one, authenticator cleared, sessions ended). The demo officer is deleted (requests
    keep the officer's name and email as filed), and so is the ``demo`` API key. Demo banks, items
    and requests are benign data and stay.
    """
    report = PurgeReport()
    with session_scope() as session:
        for user in session.scalars(select(StaffUser).where(StaffUser.username.in_(DEMO_USERNAMES)).order_by(StaffUser.id)).all():
            referenced = session.scalar(
                select(ReviewDecision.id).where(ReviewDecision.reviewer_id == user.id).limit(1)
            ) or session.scalar(select(MediaReveal.id).where(MediaReveal.user_id == user.id).limit(1))
            session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
            if referenced is None:
                report.deleted_users.append(user.username)
                session.delete(user)
                continue
            retired = f"retired-{user.username}-{user.id}"[:50]
            report.retired_users.append((user.username, retired))
            user.username, user.active, user.totp_secret = retired, False, None
            user.password_hash = hash_password(secrets.token_urlsafe(32))
        session.flush()
        for officer in session.scalars(select(Officer).where(Officer.email == DEMO_OFFICER.email)).all():
            report.officers.append(officer.email)
            session.delete(officer)  # its sessions, tokens and notifications cascade
        for key in session.scalars(select(ApiKey).where(ApiKey.name == DEMO_KEY_NAME)).all():
            report.api_keys.append(key.name)
            session.delete(key)
        session.flush()
        if report.changed:
            record(
                session,
                actor,
                "demo.purge",
                "demo",
                None,
                {
                    "deleted_users": report.deleted_users,
                    "retired_users": [new for _, new in report.retired_users],
                    "officers": report.officers,
                    "api_keys": report.api_keys,
                },
            )
        report.active_admins = (
            session.scalar(
                select(func.count()).select_from(StaffUser).where(StaffUser.role == "admin", StaffUser.active.is_(True))
            )
            or 0
        )
    if report.api_keys:
        clear_key_cache()  # this process forgets the key at once (other processes are refused at start-up)
    return report
