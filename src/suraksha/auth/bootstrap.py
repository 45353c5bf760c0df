"""First start: with no staff users at all, production mode creates ``admin`` with a one-time
password printed once (to stderr); demo mode seeds one demo user per role with known credentials.

Demo credentials are fixed (shown on the demo sign-in page) and exist only in demo mode; production
never has a default password.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import pyotp

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
    DemoUser(username=f"demo-{role.replace('_', '-')}", role=role, password=f"demo-{role.replace('_', '-')}-password",
             totp_secret=_demo_secret(role))
    for role in ROLES
)


def seed_demo_users() -> list[str]:
    """Create the demo users that are missing; returns the usernames created."""
    from suraksha.auth.service import AuthError

    created = []
    for u in DEMO_USERS:
        try:
            create_user(u.username, u.role, display_name=f"Demo {u.role.replace('_', ' ')}", password=u.password,
                        totp_secret=u.totp_secret, must_change_password=False, actor="system:demo")
            created.append(u.username)
        except AuthError:
            continue  # already there
    return created


def first_start(mode: str, *, out=None) -> NewCredentials | list[str] | None:
    """Run at server start. Does nothing once any staff user exists."""
    if count_users() > 0:
        return None
    if mode == "production":
        creds = create_user("admin", "admin", display_name="Administrator", actor="system:first-start")
        stream = out or sys.stderr
        print("=" * 72, file=stream)
        print("Suraksha first start: created staff user 'admin' (role admin).", file=stream)
        print(f"  one-time password: {creds.password}   (must be changed at first sign-in)", file=stream)
        print(f"  TOTP secret:       {creds.totp_secret}", file=stream)
        print(f"  TOTP URI:          {creds.totp_uri}", file=stream)
        print("This is shown once and not stored in clear; `suraksha user reset-mfa admin` if lost.", file=stream)
        print("=" * 72, file=stream, flush=True)
        return creds
    created = seed_demo_users()
    log.info("demo mode: seeded demo staff users %s", ", ".join(created))
    return created
