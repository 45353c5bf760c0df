"""Jurisdiction profiles (``in``, ``us``, ``uk``, ``eu``): legal deadlines, retention, report
destinations and required ranks, each value with its citation. See ``docs/jurisdictions.md``."""

from suraksha.jurisdictions.profiles import (
    KNOWN_CODES,
    Deadline,
    Profile,
    ProfileError,
    RankRequirement,
    ReportDestination,
    Retention,
    all_profiles,
    deadline,
    load_profile,
    parse_profile,
    rank_satisfies,
    required_rank,
    retention_for,
)

__all__ = [
    "KNOWN_CODES",
    "Deadline",
    "Profile",
    "ProfileError",
    "RankRequirement",
    "ReportDestination",
    "Retention",
    "all_profiles",
    "deadline",
    "load_profile",
    "parse_profile",
    "rank_satisfies",
    "required_rank",
    "retention_for",
]
