"""First start: with no staff users at all, production mode creates ``admin`` with a one-time
password and a TOTP secret written to a file readable only by this user (its path, never the secrets,
is printed); demo mode seeds one demo user per role with known credentials.

Demo credentials are fixed (shown on the demo sign-in page) and exist only in demo mode; production
never has a default password, and refuses to start while a demo user exists (``suraksha demo purge``).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from suraksha.auth.roles import ROLES
from suraksha.auth.service import NewCredentials, count_users, create_user

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str
    totp_secret: str


# Fixed base32 secrets so the demo's authenticator codes are reproducible; demo mode only.
def _demo_secret(role: str) -> str:
    import base64

    return base64.b32encode(f"suraksha-demo-{role}-totp".encode()).decode().rstrip("=")[:32]


DEMO_USERS = tuple(
    DemoUser(
        username=f"demo-{role.replace('_', '-')}",
        role=role,
        password=f"demo-{role.replace('_', '-')}-password",
        totp_secret=_demo_secret(role),
    )
    for role in ROLES
)


def seed_demo_users() -> list[str]:
    """Create the demo users that are missing; returns the usernames created."""
    from suraksha.auth.service import AuthError

    created = []
    for u in DEMO_USERS:
        try:
            create_user(
                u.username,
                u.role,
                display_name=f"Demo {u.role.replace('_', ' ')}",
                password=u.password,
                totp_secret=u.totp_secret,
                must_change_password=False,
                actor="system:demo",
            )
            created.append(u.username)
        except AuthError:
            continue  # already there
    return created


FIRST_ADMIN_FILE = "first-admin-credentials.txt"


def _open_private() -> tuple[Path, TextIO]:
    """A new file in the home folder, readable and writable by this user only (0600 from the moment
    it exists, never through a link). Normally ``first-admin-credentials.txt``; when a file of that
    name is already there (another process's first start, or an old one) it is left alone and a
    name with a random suffix is used instead."""
    import tempfile

    from suraksha.config import get_settings

    settings = get_settings()
    settings.ensure_home()
    path = settings.home / FIRST_ADMIN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        fd, name = tempfile.mkstemp(prefix="first-admin-credentials-", suffix=".txt", dir=settings.home)
        path = Path(name)
    return path, os.fdopen(fd, "w", encoding="utf-8")


def first_start(mode: str, *, out: TextIO | None = None) -> NewCredentials | list[str] | None:
    """Run at server start. Does nothing once any staff user exists.

    Production: creates ``admin``; its one-time password and TOTP secret go to
    ``<home>/first-admin-credentials.txt`` (0600) and only that file's path is printed (to ``out``, stderr by
    default), because server output ends up in log collectors that other people read. The file is
    opened before the user is created, so a home that cannot be written stops here with no admin
    whose secrets were lost."""
    if count_users() > 0:
        return None
    if mode == "production":
        path, fh = _open_private()
        with fh:
            try:
                creds = create_user("admin", "admin", display_name="Administrator", actor="system:first-start")
            except BaseException:
                path.unlink(missing_ok=True)  # ours, and empty
                raise
            fh.write(
                "Suraksha first start: staff user 'admin' (role admin)\n"
                f"one-time password: {creds.password}\n"
                f"TOTP secret:       {creds.totp_secret}\n"
                f"TOTP URI:          {creds.totp_uri}\n"
                "Sign in at /login (the password must be changed there), add the TOTP secret to an "
                "authenticator app, then delete this file. Lost: `suraksha user reset-password admin`, "
                "`suraksha user reset-mfa admin`.\n"
            )
        stream = out or sys.stderr
        print(
            f"Suraksha first start: created staff user 'admin' (role admin); its one-time password and TOTP "
            f"secret are in {path.resolve()} (readable by this user only): sign in, change the password, then "
            f"delete that file.",
            file=stream,
            flush=True,
        )
        return creds
    created = seed_demo_users()
    log.info(
        "demo mode: seeded demo staff users %s (their sign-in details are on /login; `suraksha demo purge` removes them)",
        ", ".join(created),
    )
    return created
