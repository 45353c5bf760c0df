"""Staff accounts for the review workspace: users, roles, passwords, TOTP, sessions, lock-out.

Not in DESIGN.md's layout at first: the API authenticates integrations with keys
(``suraksha.api.keys``), but people who look at media need accounts with roles and MFA, and that
is its own area with its own tables (see docs/architecture.md).
"""
