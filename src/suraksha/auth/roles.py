"""Roles and what each may do. Every web route names one permission; this table is the whole policy.

Analysts see hashes and metadata, never media; auditors see the audit log only; admins manage
staff accounts (and read the audit log) but do not review.
"""

from __future__ import annotations

from suraksha.errors import InvalidInput

ROLES = ("admin", "reviewer", "senior_reviewer", "legal", "analyst", "auditor")

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"users.manage", "audit.read", "agencies.manage"}),
    "reviewer": frozenset({"review.work", "media.view", "items.read", "items.act", "accounts.read", "cases.read", "banks.read"}),
    "senior_reviewer": frozenset(
        {
            "review.work",
            "review.escalated",
            "media.view",
            "items.read",
            "items.act",
            "accounts.read",
            "cases.read",
            "cases.write",
            "accounts.suspend",
            "banks.read",
            "banks.manage",
            "reports.read",
            "actions.read",
            "actions.work",
        }
    ),
    "legal": frozenset(
        {
            "media.view",
            "items.read",
            "items.act",
            "accounts.read",
            "cases.read",
            "cases.write",
            "transparency.read",
            "accounts.suspend",
            "legal.read",
            "legal.work",
            "legal.approve",
            "agencies.manage",
            "banks.read",
            "reports.read",
            "reports.work",
            "actions.read",
            "actions.work",
        }
    ),
    "analyst": frozenset(
        {"items.read", "accounts.read", "cases.read", "transparency.read", "banks.read", "reports.read", "actions.read"}
    ),
    "auditor": frozenset({"audit.read"}),
}

# Every role must use TOTP: media roles by the rule, admins because they can grant media
# roles, analysts and auditors because they see account metadata and who looked at what.
MFA_REQUIRED = frozenset(ROLES)


def validate_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    return role


def can(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def home_path(role: str) -> str:
    """Where a role lands after signing in."""
    if can(role, "review.work"):
        return "/review"
    if can(role, "legal.work"):
        return "/legal"
    if can(role, "cases.read"):
        return "/cases"
    if role == "admin":
        return "/admin/users"
    return "/audit"
