"""Jurisdiction profiles: deadlines, retention, report destinations and required ranks, as data.

The law changes more often than code should. Every value lives in ``<code>.yaml`` next to this
module with the citation it comes from and how far it was checked (``verified``); this module only
validates the files and computes with them. Periods are elapsed time from receipt (that is how the
Indian, US and UK texts state them), so a deadline is the same instant whatever time zone it is
shown in; it is returned in the jurisdiction's own zone because that is where the officer reads it.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from suraksha.errors import InvalidInput

Verified = Literal["official", "secondary", "unverified"]
IssuerKind = Literal["court", "government", "police"]

KNOWN_CODES = ("in", "us", "uk", "eu")
# The EU member states (ISO 3166-1 alpha-2): items posted there fall under the "eu" profile.
EU_COUNTRIES: tuple[str, ...] = (
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
)


class ProfileError(InvalidInput):
    """A profile is unknown, missing or invalid (the message says which and why)."""


class _Cited(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    citation: str = Field(min_length=5)
    verified: Verified = "unverified"


class Deadline(_Cited):
    """Time allowed for one request type, counted from receipt.

    ``statutory`` is true when the period is the law's; false when the law says "as soon as
    possible" or leaves the time to the order, and the period is only the platform's own target.
    """

    title: str
    hours: float | None = Field(default=None, gt=0)
    days: float | None = Field(default=None, gt=0)
    statutory: bool
    legal_basis: str = Field(min_length=3)
    required_rank: str | None = None

    @model_validator(mode="after")
    def _one_period(self) -> Deadline:
        if (self.hours is None) == (self.days is None):
            raise ValueError("give exactly one of 'hours' or 'days'")
        return self

    @property
    def period(self) -> dt.timedelta:
        if self.hours is not None:
            return dt.timedelta(hours=self.hours)
        assert self.days is not None
        return dt.timedelta(days=self.days)


class Retention(_Cited):
    days: int = Field(gt=0)
    # "minimum": the law says keep at least this long; "maximum": keep no longer than this.
    bound: Literal["minimum", "maximum"] = "minimum"

    @property
    def period(self) -> dt.timedelta:
        return dt.timedelta(days=self.days)


class RankException(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: IssuerKind
    rank: str
    condition: str


class RankRequirement(_Cited):
    """The lowest rank, per kind of issuer, that may send a request of some type."""

    minimum: dict[IssuerKind, str]
    exceptions: tuple[RankException, ...] = ()
    court_exempt: bool = True


class ReportDestination(_Cited):
    destination: str
    title: str
    when: str
    legal_basis: str


class Obligation(_Cited):
    key: str
    title: str


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z]{2}$")
    name: str
    timezone: str
    sources: tuple[str, ...] = ()
    deadlines: dict[str, Deadline]
    retention: dict[str, Retention]
    ranks: dict[str, RankRequirement] = Field(default_factory=dict)
    rank_ladders: dict[IssuerKind, tuple[str, ...]] = Field(default_factory=dict)
    reports: tuple[ReportDestination, ...] = ()
    obligations: tuple[Obligation, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> Profile:
        if "evidence" not in self.retention:
            raise ValueError("retention.evidence is required (how long preserved evidence is kept)")
        for name, deadline in self.deadlines.items():
            if deadline.required_rank and deadline.required_rank not in self.ranks:
                raise ValueError(f"deadlines.{name}.required_rank {deadline.required_rank!r} is not in ranks")
        for name, req in self.ranks.items():
            for issuer, rank in req.minimum.items():
                if rank not in self.rank_ladders.get(issuer, ()):
                    raise ValueError(f"ranks.{name}: {issuer} rank {rank!r} is not in rank_ladders.{issuer}")
            for exc in req.exceptions:
                if exc.rank not in self.rank_ladders.get(exc.issuer, ()):
                    raise ValueError(f"ranks.{name}: exception rank {exc.rank!r} is not in rank_ladders.{exc.issuer}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def deadline_for(self, request_type: str) -> Deadline:
        try:
            return self.deadlines[request_type]
        except KeyError:
            known = ", ".join(sorted(self.deadlines))
            raise ProfileError(
                f"jurisdiction {self.code!r} has no deadline for request type {request_type!r} (known: {known})"
            ) from None


def _normalise(code: str) -> str:
    if not isinstance(code, str) or not code.strip():
        raise ProfileError("jurisdiction code must be a non-empty string such as 'in' or 'us'")
    code = code.strip().lower()
    return "uk" if code == "gb" else code


def parse_profile(text: str, source: str = "<string>") -> Profile:
    """Validate one profile's YAML text (used for the packaged files and by tests)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: expected a mapping at the top level")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors())
        raise ProfileError(f"{source}: invalid profile: {problems}") from None


@cache
def load_profile(code: str) -> Profile:
    """The validated profile for ``code`` (``in``, ``us``, ``uk`` (or ``gb``), ``eu``)."""
    code = _normalise(code)
    if code not in KNOWN_CODES:
        raise ProfileError(f"unknown jurisdiction {code!r} (known: {', '.join(KNOWN_CODES)})")
    name = f"{code}.yaml"
    try:
        text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"jurisdiction profile {name} is missing from the installed package") from None
    profile = parse_profile(text, source=name)
    if profile.code != code:
        raise ProfileError(f"{name}: declares code {profile.code!r}, expected {code!r}")
    return profile


def all_profiles() -> list[Profile]:
    return [load_profile(code) for code in KNOWN_CODES]


def retention_for(codes: list[str] | tuple[str, ...], kind: str = "evidence") -> dt.timedelta:
    """The longest retention period of ``kind`` among the jurisdictions that apply.

    Keeping for the longest period satisfies every "keep at least" rule at once. A jurisdiction
    without a rule of that kind contributes nothing; if none has one, that is an error rather than
    a silent zero (which would let a purge delete evidence at once).
    """
    if not codes:
        raise ProfileError("at least one jurisdiction is needed to compute a retention period")
    periods = []
    for code in codes:
        rule = load_profile(code).retention.get(kind)
        if rule is not None:
            periods.append(rule.period)
    if not periods:
        raise ProfileError(f"none of {', '.join(codes)} defines a {kind!r} retention period")
    return max(periods)


def _require_aware(value: dt.datetime, name: str) -> None:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (a naive time is ambiguous: whose midnight?)")


def deadline(
    profile: Profile | str,
    request_type: str,
    received_at: dt.datetime,
    order_deadline: dt.datetime | None = None,
) -> dt.datetime:
    """When a request of ``request_type`` received at ``received_at`` must be answered.

    - The period runs in elapsed time from receipt (a 3-hour clock started at 22:30 IST ends at
      01:30 IST the next day; a 24-hour clock across a DST change is 24 real hours).
    - ``order_deadline``, the time written in the order itself, wins when it is earlier. When the
      law's period is statutory, a later order deadline does not extend it. When the law leaves the
      time to the order (``statutory: false``), the order's time replaces the internal target.
    - The result is aware, in the jurisdiction's own time zone.
    """
    if isinstance(profile, str):
        profile = load_profile(profile)
    _require_aware(received_at, "received_at")
    rule = profile.deadline_for(request_type)
    # In UTC: aware arithmetic in a zone with DST adds wall-clock time, not elapsed time.
    due = received_at.astimezone(dt.UTC) + rule.period
    if order_deadline is not None:
        _require_aware(order_deadline, "order_deadline")
        if order_deadline < received_at:
            raise ValueError("order_deadline is before the request was received")
        if order_deadline < due or not rule.statutory:
            due = order_deadline.astimezone(dt.UTC)
    return due.astimezone(profile.zone)


def _rank_index(profile: Profile, issuer: IssuerKind, rank: str) -> int:
    ladder = profile.rank_ladders.get(issuer, ())
    key = rank.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return ladder.index(key)
    except ValueError:
        known = ", ".join(ladder) or "none"
        raise ProfileError(f"unknown {issuer} rank {rank!r} in {profile.code!r} (known: {known})") from None


def required_rank(profile: Profile | str, request_type: str) -> RankRequirement | None:
    """The rank the sender of a ``request_type`` must hold, or None where the law sets none."""
    if isinstance(profile, str):
        profile = load_profile(profile)
    rule = profile.deadline_for(request_type)
    return profile.ranks[rule.required_rank] if rule.required_rank else None


def rank_satisfies(
    profile: Profile | str,
    request_type: str,
    issuer: IssuerKind,
    rank: str | None,
    exception_applies: bool = False,
) -> bool:
    """Whether an officer of ``rank`` (issuing as ``issuer``) may send this request type.

    ``exception_applies`` is the caller's confirmation that a profile's exception condition holds
    (for India: no Joint Secretary is appointed, so a Director may issue). Courts are exempt where
    the profile says so. Unknown ranks raise ``ProfileError`` so a typo is never read as "too low".
    """
    if isinstance(profile, str):
        profile = load_profile(profile)
    req = required_rank(profile, request_type)
    if req is None:
        return True
    if issuer == "court":
        return req.court_exempt
    minimum = req.minimum.get(issuer)
    if minimum is None:
        return False  # this kind of issuer may not send it at all
    if not rank:
        return False
    held = _rank_index(profile, issuer, rank)
    if held >= _rank_index(profile, issuer, minimum):
        return True
    if exception_applies:
        return any(e.issuer == issuer and held >= _rank_index(profile, issuer, e.rank) for e in req.exceptions)
    return False
