"""Every setting of Suraksha, in one object composed of one section per area.

``get_settings()`` returns the one :class:`Settings`; ``get_settings().pipeline.worker_batch``,
``get_settings().core.home``. Each area owns its section (the class is named after the area and
only that area reads it), but all sections are defined here, at the bottom of the layer order, so
the whole configuration can be listed, documented and checked in one place (Warehouse's
``configure()``, Sentry's options registry): ``suraksha settings`` prints each with its value and
where it came from, ``python -m suraksha.settings --markdown`` writes the README's table, and a
test fails when two fields read one environment variable or a field's variable is not documented.

Environment variable names are the ones operators already set: each section keeps its prefix
(``SURAKSHA_``, ``SURAKSHA_REVIEW_``, ``SURAKSHA_NCMEC_``...), so a variable is the section's prefix
plus the field's name in capitals. A section is read from the environment the first time it is
used (an invalid NCMEC setting fails NCMEC filing, not every command); ``reset_settings()`` forgets
them all (tests change the environment between cases).

Settings are read from the process environment only; there is no ``.env`` file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import sys
import threading
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, overload

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

_ROOT = SettingsConfigDict(env_prefix="SURAKSHA_", extra="ignore")


class CoreSettings(BaseSettings):
    """Where the data lives and the media limits every area applies (env ``SURAKSHA_*``)."""

    model_config = _ROOT

    home: Path = Field(
        default=Path("./var"),
        description=(
            "Data folder: SQLite file, persisted indexes, evidence (created 0700, the SQLite file 0600); unset and "
            "no `./var` in the current folder, commands stop and say so (`suraksha db upgrade` creates it)."
        ),
    )
    database_url: str | None = Field(
        default=None,
        description=("SQLAlchemy URL, e.g. `postgresql+psycopg://user@host/db`; default: the SQLite file in SURAKSHA_HOME."),
    )
    mode: str = Field(
        default="demo",
        description=(
            "`demo` or `production`: production refuses default passwords, and refuses to start while demo sign-ins "
            "exist (`suraksha demo purge` removes them)."
        ),
    )
    max_media_bytes: int = Field(
        default=64 * 1024 * 1024, description=("Largest media accepted (bytes), checked before any decoder sees it.")
    )
    max_image_pixels: int = Field(
        default=64_000_000, description=("Largest image decoded (pixels), checked from the header before decoding.")
    )
    default_pdq_threshold: int = Field(
        default=31,
        description=(
            "Kept for deployed configurations; read by nothing: each signal type has its own default threshold (signals/types)."
        ),
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'suraksha.db').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def home_is_set(self) -> bool:
        """Whether SURAKSHA_HOME was given (else ``./var`` of the current folder is used): a command
        run from another folder must not quietly start a new, empty installation there."""
        return "home" in self.model_fields_set

    @property
    def embedded_database(self) -> bool:
        """The default SQLite file in the home folder (no SURAKSHA_DATABASE_URL)."""
        return not self.database_url

    def ensure_home(self) -> None:
        """Create the home folder and its index folder, readable by this user only (0700): the home
        holds the SQLite database with pending media, keys and evidence. An existing folder that
        others may read is tightened, with a warning."""
        make_private(self.home, folder=True)
        make_private(self.index_dir, folder=True)


def make_private(path: Path, *, folder: bool) -> None:
    """Create ``path`` (a folder, 0700, or an empty file, 0600) unless it exists; an existing one
    whose group or other permission bits are set loses them, with a warning naming the change.

    Created with the mode in the same system call (never a window in which another user could open
    it), whatever the process umask. A path this user does not own is left as it is, with a warning.
    """
    try:
        if folder:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.mkdir(mode=0o700)
        else:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    tighten(path)


def tighten(path: Path) -> None:
    """Drop the group and other permission bits of an existing file or folder (warn when it had any)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & 0o077:
        return
    try:
        os.chmod(path, mode & ~0o077)
    except OSError as exc:
        log.warning("%s is readable by other users (mode %04o) and could not be tightened: %s", path, mode, exc.strerror or exc)
        return
    log.warning(
        "tightened the permissions of %s from %04o to %04o (it holds the database, pending media, keys or evidence)",
        path,
        mode,
        mode & ~0o077,
    )


class ApiSettings(BaseSettings):
    """The HTTP API (env ``SURAKSHA_*``)."""

    model_config = _ROOT

    hma_require_key: bool = Field(
        default=True,
        description=(
            "Require `Authorization: Bearer KEY` on the HMA-compatible routes (/h, /m, /c); set false only behind a "
            "trusted network boundary (HMA itself has no authentication)."
        ),
    )
    max_request_bytes: int | None = Field(
        default=None,
        description=(
            "Largest request body accepted; default: room for one base64-encoded media at SURAKSHA_MAX_MEDIA_BYTES "
            "plus 1 MiB of JSON."
        ),
    )
    default_rate_limit_per_minute: int = Field(default=600, description="Rate limit of a new API key (requests a minute).")
    key_cache_seconds: float = Field(
        default=5.0,
        description=("How long a verified API key is trusted without re-reading it (revocation delay in other processes)."),
    )
    index_save_seconds: float = Field(default=300.0, description="`serve`: persist the match index this often when it changed.")
    wait_timeout_seconds: float = Field(default=10.0, description="Longest `?wait=true` on POST /v1/items (seconds).")
    max_inflight_body_bytes: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Request body bytes the server holds at once (large bodies beyond it answer 503 with Retry-After before "
            "being read); default: twice the request size limit."
        ),
    )
    hash_concurrency: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "Media hashed at once by the API (/v1/hash, /h/hash, HMA lookups, bank uploads by media), in its own "
            "threads; one more answers 503 with Retry-After."
        ),
    )


class AuthSettings(BaseSettings):
    """Staff and officer sign-in (env ``SURAKSHA_*``)."""

    model_config = _ROOT

    session_idle_minutes: int = Field(default=30, description="A web session ends after this many minutes without a request.")
    session_max_hours: int = Field(default=12, description="A web session ends this many hours after sign-in, however active.")
    login_max_failures: int = Field(default=5, description="Failed sign-ins in a row before the account is locked.")
    lockout_minutes: int = Field(default=15, description="How long a locked account stays locked.")
    min_password_length: int = Field(default=12, description="Shortest password accepted for staff and officers.")
    cookie_secure: bool | None = Field(
        default=None, description=("Mark session cookies Secure; default: on in production mode or over https.")
    )
    login_ip_burst: int = Field(
        default=20,
        description=("Sign-in attempts one client address may make at once (per server process; 0 turns this bucket off)."),
    )
    login_ip_per_minute: float = Field(default=10.0, description="Sign-in attempts a minute one client address regains.")
    login_account_burst: int = Field(
        default=10, description=("Sign-in attempts against one account name (existing or not) at once (0 turns this bucket off).")
    )
    login_account_per_minute: float = Field(default=5.0, description="Sign-in attempts a minute one account name regains.")
    login_hash_concurrency: int = Field(default=2, description="Password verifications (argon2, 64 MiB each) at once.")
    login_hash_wait_seconds: float = Field(
        default=3.0, description=("How long a sign-in waits for a verification slot before answering 429.")
    )


class AuditSettings(BaseSettings):
    """Published audit anchors (env ``SURAKSHA_AUDIT_*``); see ``suraksha.audit.settings`` for why."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_AUDIT_", extra="ignore")

    anchor_file: Path | None = Field(
        default=None,
        description=(
            "Where audit anchors (the chain's head, `seq` + `hash`) are appended, one JSON line each; default "
            "`$SURAKSHA_HOME/audit-anchors.jsonl`. Put it on other storage or ship it off the host (docs/review.md)."
        ),
    )
    anchor_every_s: float = Field(
        default=3600.0,
        description=(
            "The dispatcher (`serve`, `dispatch`) publishes an anchor when the newest is older than this (seconds); "
            "0 = off (`suraksha audit anchor` still works)."
        ),
    )

    @property
    def resolved_anchor_file(self) -> Path:
        return self.anchor_file if self.anchor_file is not None else get_settings().core.home / "audit-anchors.jsonl"


class EvidenceSettings(BaseSettings):
    """The master key for data at rest (env ``SURAKSHA_EVIDENCE_*``; ``suraksha.db.keyring``)."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_EVIDENCE_", extra="ignore")

    key: SecretStr | None = Field(
        default=None,
        description=(
            "The current master key, base64 of 32 bytes; without it or a key file, demo mode creates "
            "`$SURAKSHA_HOME/keys/evidence.key` and production mode refuses to start."
        ),
    )
    key_file: Path | None = Field(
        default=None, description=("A file with one base64 master key per line, the first current (`#` comments allowed).")
    )
    old_keys: SecretStr | None = Field(default=None, description="Comma-separated base64 master keys that stay readable.")


class ClassifySettings(BaseSettings):
    """Classifier configuration (env ``SURAKSHA_*``; ``suraksha.classify.registry``)."""

    model_config = _ROOT

    classifier_config: str | None = Field(
        default=None, description=("YAML or JSON file: a list of classifier specs (each with a `type` and a `name`).")
    )
    http_classifier_url: str | None = Field(default=None, description="URL of the built-in `http` classifier.")
    http_classifier_timeout: float = Field(default=10.0, description="Seconds the `http` classifier may take per call.")
    http_classifier_encoding: str = Field(default="json_base64", description="How the `http` classifier sends media.")
    http_classifier_headers: dict[str, str] = Field(
        default_factory=dict,
        json_schema_extra={"secret": True},
        description=("Headers of the `http` classifier (JSON object; `${VAR}` in a value is read from the environment)."),
    )
    http_classifier_mapping: dict[str, Any] = Field(
        default_factory=lambda: {"nudity": "nudity"},
        description=("Which fields of the `http` classifier's answer are which scores (JSON object)."),
    )


class ArchiveSettings(BaseSettings):
    """The Parquet signal archive and retro-hunts (env ``SURAKSHA_ARCHIVE_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_ARCHIVE_", extra="ignore")

    url: str | None = Field(
        default=None,
        description=(
            "Where scanned items' signals are archived as Parquet (a folder, `s3://bucket/prefix` or any fsspec URL); "
            "empty: no archive."
        ),
    )
    flush_rows: int = Field(default=50_000, gt=0, description="Archive rows a worker buffers before writing a file.")
    flush_seconds: float = Field(
        default=60.0, gt=0, description="Longest time an archive row waits in a worker's buffer before its file is written."
    )
    max_buffered_rows: int = Field(
        default=1_000_000,
        gt=0,
        description=(
            "Rows kept in memory while the archive cannot be written; older ones are dropped with a warning "
            "(the database still holds them: `suraksha archive rebuild`)."
        ),
    )
    default_retention_days: int = Field(
        default=365, gt=0, description="Days archived signals of items with no jurisdiction profile are kept."
    )
    ray_workers: int = Field(default=0, ge=0, description="Retro-hunt actors on a Ray cluster (0: one per CPU of the cluster).")


class PipelineSettings(BaseSettings):
    """Ingest, media fetch, scan workers, text rules, scan budget (env ``SURAKSHA_*``)."""

    model_config = _ROOT

    fetch_allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "Hosts media may be fetched from (`cdn.example.com`, `*.example.com`), JSON list; empty: any public host. "
            "A listed host may also resolve to a private address (your own CDN)."
        ),
    )
    fetch_timeout_seconds: float = Field(default=10.0, description="Deadline of one media fetch by URL (seconds).")
    fetch_max_redirects: int = Field(default=3, description="Redirects followed by one media fetch.")
    max_media_per_item: int = Field(default=20, description="Media one item may carry (more: 4xx with the reason).")
    max_links_per_item: int = Field(default=200, description="Links one item may carry.")
    max_text_chars: int = Field(default=100_000, description="Characters of text one item may carry.")
    lease_seconds: int = Field(
        default=60,
        description=("How long a worker holds the scan jobs it claimed; a worker that died leaves them to others after this."),
    )
    max_scan_attempts: int = Field(default=5, description="Tries of one scan before the job fails for good.")
    worker_batch: int = Field(default=8, description="Scan jobs a worker claims and records at once.")
    worker_linger_ms: float = Field(
        default=5.0,
        ge=0,
        le=1000,
        description=(
            "After a smaller batch, wait this long before claiming again (items arriving one by one are scanned "
            "together; 0 = off)."
        ),
    )
    text_keywords: list[str] = Field(
        default_factory=list, description=("Keywords matched in item text besides the `text` banks (JSON list).")
    )
    text_regexes: list[str] = Field(
        default_factory=list, description=("Regular expressions matched in item text besides the `text` banks (JSON list).")
    )
    scan_budget_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Wall-clock seconds decoding one item's media (all of it together) may take, in workers and in `/v1/hash`; "
            "over it, that media gets an error with the reason (413 on `/v1/hash`)."
        ),
    )
    scan_budget_pixel_frames: int = Field(
        default=40_000_000_000,
        gt=0,
        description=(
            "Pixels one item's media may decode (a frame hashed at full size counts 17x); a video whose header "
            "announces more is refused before decoding. 1080p30 fits ~7 minutes, 720p30 ~16, 4K30 ~1.7."
        ),
    )
    max_video_frame_pixels: int = Field(
        default=4096 * 2304,
        gt=0,
        description=("Largest video frame decoded at all (4096x2304); also bounds the one decode the deadline cannot interrupt."),
    )
    pdq_fast_decode: bool = Field(
        default=True,
        description=("Downscale while decoding for PDQ when scanning (false: bit-exact with the reference decoder, slower)."),
    )
    classifiers: list[str] = Field(
        default_factory=list,
        description=(
            "Classifiers run on each item, by name (`nudenet`, `http`, or one from SURAKSHA_CLASSIFIER_CONFIG), JSON list."
        ),
    )
    policy_path: str | None = Field(default=None, description="Policy file (YAML); empty: the shipped default policy.")
    findings_only: bool = Field(
        default=False,
        description=(
            "Findings-only storage: a benign item (verdict allow, no match, no text hit, not user-reported) leaves no "
            "item row, only a per-day count in `item_counts`; items with a finding are stored in full."
        ),
    )


class EnforcementSettings(BaseSettings):
    """The platform connector and action delivery (env ``SURAKSHA_*``; docs/enforcement.md)."""

    model_config = _ROOT

    connector_url: str | None = Field(default=None, description="The platform's webhook URL (https:// in production).")
    connector_secret: SecretStr | None = Field(default=None, description="Shared HMAC-SHA256 secret for webhook signatures.")
    connector_timeout_s: float = Field(default=10.0, gt=0, description="Deadline of one webhook call (seconds).")
    connector_replay_window_s: int = Field(
        default=300,
        gt=0,
        description=("How old a signed timestamp may be; documented for the platform's verifier, read by nothing in Suraksha."),
    )
    action_max_attempts: int = Field(default=8, ge=1, description="Deliveries of an action before it is dead-lettered.")
    action_backoff_base_s: float = Field(default=2.0, gt=0, description="First wait after a failed delivery; doubled each try.")
    action_backoff_max_s: float = Field(default=3600.0, gt=0, description="Longest wait between two deliveries of an action.")
    action_lease_s: int = Field(default=60, ge=1, description="How long a dispatcher holds a claimed action.")
    dispatch_batch: int = Field(default=20, ge=1, description="Actions a dispatcher claims at once.")
    preserve_jurisdictions: list[str] = Field(
        default_factory=lambda: ["us"],
        description=("Jurisdictions whose retention applies to every preserved copy besides the item's country (JSON list)."),
    )


class OutboxSettings(BaseSettings):
    """The outbox's claim and retry (env ``SURAKSHA_OUTBOX_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_OUTBOX_", extra="ignore")

    lease_s: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How long a dispatcher holds the outbox messages it claimed; a dispatcher that died leaves them to be "
            "claimed again after this."
        ),
    )
    max_attempts: int = Field(
        default=20,
        ge=1,
        description=("Tries before an outbox message is dead-lettered (ALERT in the log; `suraksha outbox retry`)."),
    )
    backoff_base_s: float = Field(default=2.0, gt=0, description="First wait after a failed try; doubled each try.")
    backoff_max_s: float = Field(default=3600.0, gt=0, description="Longest wait between two tries of one message.")


class ReviewSettings(BaseSettings):
    """Review queues (env ``SURAKSHA_REVIEW_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_REVIEW_", extra="ignore")

    sla_minutes: int = Field(
        default=24 * 60, description="Minutes from enqueue to the SLA deadline, for queues SLA does not name."
    )
    sla: str = Field(default="csam=60,ncii=120", description="SLA minutes per queue, as `csam=60,ncii=120`.")
    second_review: str = Field(
        default="csam",
        description=(
            "Categories whose decision a second, different reviewer must confirm before it is final (comma-separated; "
            "empty: one reviewer suffices)."
        ),
    )
    break_every: int = Field(
        default=20, description="Suggest a break after this many reveals in a day (a user's own setting overrides)."
    )
    reveal_link_seconds: int = Field(
        default=60, description="A reveal's one-time link to the original bytes is valid this many seconds."
    )

    def sla_for(self, queue: str) -> int:
        for part in self.sla.split(","):
            name, _, minutes = part.partition("=")
            if name.strip() == queue and minutes.strip().isdigit():
                return int(minutes)
        return self.sla_minutes

    @property
    def second_review_categories(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.second_review.split(",") if c.strip())


class WebSettings(BaseSettings):
    """The staff workspace pages (env ``SURAKSHA_WEB_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_WEB_", extra="ignore")

    display_time_zone: str = Field(
        default="Asia/Kolkata",
        description=(
            "IANA time zone the staff pages show times in (with the zone's abbreviation, e.g. `1 Dec 2026, 20:15 IST`); "
            "stored times stay UTC."
        ),
    )

    @model_validator(mode="after")
    def _known_zone(self) -> WebSettings:
        try:
            zoneinfo.ZoneInfo(self.display_time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.display_time_zone!r} (use an IANA name such as Asia/Kolkata)") from None
        return self


class NetworkSettings(BaseSettings):
    """Account networks (env ``SURAKSHA_NETWORK_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_NETWORK_", extra="ignore")

    window_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 366,
        description=("Two items from the same IP or device link their accounts if this close in time."),
    )
    link_max_accounts: int = Field(
        default=50,
        ge=2,
        description=(
            "A link not in a bank links accounts only if at most this many accounts ever posted it (a popular benign "
            "link must not join strangers)."
        ),
    )
    ip_max_accounts: int = Field(
        default=20,
        ge=2,
        description=("An IP address or device seen with more accounts than this inside the window (a carrier NAT) links nobody."),
    )
    index_settle_s: int = Field(
        default=120,
        ge=0,
        description=("Items younger than this are re-checked by every key refresh (an ingest transaction may commit late)."),
    )
    shared_ranges: str = Field(
        default="",
        description=(
            "Comma-separated IP ranges (CIDR) shared by many users: mobile carriers' NAT pools and VPN exits. With the RFC "
            "6598 carrier-NAT range 100.64.0.0/10 (always), an address in them never links accounts."
        ),
    )

    @model_validator(mode="after")
    def _ranges(self) -> NetworkSettings:
        import ipaddress  # only here: the one section that reads IP ranges

        for part in self.shared_ranges.replace(";", ",").replace(" ", ",").split(","):
            if part:
                try:
                    ipaddress.ip_network(part, strict=False)
                except ValueError:
                    raise ValueError(f"SURAKSHA_NETWORK_SHARED_RANGES: not an IP range: {part[:60]!r}") from None
        return self


class LegalSettings(BaseSettings):
    """Legal requests and disclosures (env ``SURAKSHA_*``; docs/legal.md)."""

    model_config = _ROOT

    legal_max_document_bytes: int = Field(default=20 * 1024 * 1024, gt=0, description="Largest PDF accepted with a request.")
    nodal_officer_email: str | None = Field(default=None, description="Who gets the first escalation.")
    compliance_officer_email: str | None = Field(default=None, description="Who gets the second escalation.")
    legal_escalate_nodal_at: float = Field(
        default=0.5, gt=0, lt=1, description=("Share of the period used before the nodal officer is alerted.")
    )
    legal_escalate_compliance_at: float = Field(
        default=0.8, gt=0, lt=1, description=("Share used before the compliance officer is alerted.")
    )
    legal_at_risk_at: float = Field(
        default=0.5, gt=0, lt=1, description=("Share used from which the dashboard lists a request as at risk.")
    )
    legal_escalation_webhook: bool = Field(
        default=False, description=("Also send each escalation to the platform connector (event legal_escalation).")
    )
    disclosure_signing_key: SecretStr | None = Field(
        default=None, description="Base64 raw Ed25519 private key (32 bytes) signing disclosures."
    )
    legal_disclose_media: bool = Field(
        default=True, description="Include preserved media in packages when content_media is asked for."
    )

    @model_validator(mode="after")
    def _ordered(self) -> LegalSettings:
        if self.legal_escalate_nodal_at >= self.legal_escalate_compliance_at:
            raise ValueError("SURAKSHA_LEGAL_ESCALATE_NODAL_AT must be below SURAKSHA_LEGAL_ESCALATE_COMPLIANCE_AT")
        return self


class ReporterSettings(BaseSettings):
    """Who files reports (env ``SURAKSHA_REPORTER_*``): the same for every report of one platform."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_REPORTER_", extra="ignore")

    platform: str = Field(default="Example Platform", description="The service's name (NCMEC espService).")
    organisation: str | None = Field(default=None, description="Legal name of the intermediary (India/UK packages).")
    first_name: str | None = Field(default=None, description="First name of the person reports name as reporter.")
    last_name: str | None = Field(default=None, description="Last name of the reporting person.")
    email: str | None = Field(default=None, description="Email of the reporting person.")
    phone: str | None = Field(default=None, description="Phone of the reporting person.")
    address: str | None = Field(default=None, description="Postal address (India: the nodal contact officer's, for service).")


class ReportSettings(BaseSettings):
    """How reports are filed and retried (env ``SURAKSHA_REPORT_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_REPORT_", extra="ignore")

    max_attempts: int = Field(default=8, ge=1, description="Filing attempts before a report fails for good.")
    backoff_base_s: float = Field(default=30.0, gt=0, description="First wait after a failed filing; doubled each try.")
    backoff_max_s: float = Field(default=6 * 3600.0, gt=0, description="Longest wait between two filings of a report.")
    lease_s: int = Field(default=600, ge=1, description="How long a dispatcher holds a report it is filing.")
    india_police_unit: str | None = Field(
        default=None, description="India: the police unit that receives reports when the case names none."
    )


class NcmecSettings(BaseSettings):
    """The CyberTipline client (env ``SURAKSHA_NCMEC_*``)."""

    model_config = SettingsConfigDict(env_prefix="SURAKSHA_NCMEC_", extra="ignore")

    environment: Literal["test", "production"] = Field(default="test", description="NCMEC's `test` or `production` CyberTipline.")
    base_url: str | None = Field(default=None, description="Override of the environment's base URL (a proxy, a simulator).")
    username: str | None = Field(default=None, description="CyberTipline user name (with the password: NCMEC filing is on).")
    password: SecretStr | None = Field(default=None, description="CyberTipline password.")
    timeout_s: float = Field(default=60.0, description="Deadline of one CyberTipline call (seconds).")
    attempts: int = Field(default=1, ge=1, description="Whole-filing attempts per dispatch.")

    @model_validator(mode="after")
    def _production_needs_https(self) -> NcmecSettings:
        if self.environment == "production" and self.base_url and not self.base_url.startswith("https://"):
            raise ValueError("SURAKSHA_NCMEC_BASE_URL must be https:// in production")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.username) and self.password is not None


S = TypeVar("S", bound=BaseSettings)


class _Section(Generic[S]):
    """A section of :class:`Settings`, read from the environment on first use and kept."""

    def __init__(self, cls: type[S]) -> None:
        self.cls = cls
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _Section[S]: ...
    @overload
    def __get__(self, obj: Settings, owner: type) -> S: ...
    def __get__(self, obj: Settings | None, owner: type) -> S | _Section[S]:
        if obj is None:
            return self
        value = obj.__dict__.get(self.name)
        if value is None:
            with obj._lock:
                value = obj.__dict__.get(self.name)
                if value is None:
                    value = obj.__dict__[self.name] = self.cls()
        return value


class Settings:
    """All settings, one section per area (each a pydantic model with its own environment prefix)."""

    core = _Section(CoreSettings)
    api = _Section(ApiSettings)
    auth = _Section(AuthSettings)
    audit = _Section(AuditSettings)
    evidence = _Section(EvidenceSettings)
    classify = _Section(ClassifySettings)
    pipeline = _Section(PipelineSettings)
    archive = _Section(ArchiveSettings)
    enforcement = _Section(EnforcementSettings)
    outbox = _Section(OutboxSettings)
    review = _Section(ReviewSettings)
    networks = _Section(NetworkSettings)
    web = _Section(WebSettings)
    legal = _Section(LegalSettings)
    reporter = _Section(ReporterSettings)
    report = _Section(ReportSettings)
    ncmec = _Section(NcmecSettings)

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @classmethod
    def sections(cls) -> dict[str, type[BaseSettings]]:
        """Section name -> its model class, in the order above."""
        return {name: attr.cls for name, attr in vars(cls).items() if isinstance(attr, _Section)}


_settings: Settings | None = None
_settings_lock = threading.Lock()


def get_settings() -> Settings:
    """The process's settings (each section read from the environment on first use)."""
    global _settings
    current = _settings
    if current is None:
        with _settings_lock:
            if _settings is None:
                _settings = Settings()
            current = _settings
    return current


def reset_settings() -> None:
    """Forget every section (tests change the environment between cases)."""
    global _settings
    with _settings_lock:
        _settings = None


# -- listing, documenting and checking -------------------------------------------------------------

_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
SECRET_WORDS = ("key", "secret", "password", "token")  # a field so named holds a secret unless it is a flag


@dataclass(frozen=True)
class SettingInfo:
    """One setting: where it lives, the variable that sets it, its default and description."""

    section: str
    field: str
    env: str
    default: str
    description: str
    secret: bool


def _env_prefix(cls: type[BaseSettings]) -> str:
    return str(cls.model_config.get("env_prefix") or "")


def _show(value: Any) -> str:
    if isinstance(value, Path) and not value.is_absolute() and not str(value).startswith("."):
        return f"./{value}"
    if isinstance(value, list | dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _is_secret(name: str, annotation: Any, extra: Any = None) -> bool:
    """A ``SecretStr`` field, one marked ``json_schema_extra={"secret": True}`` (headers may carry an
    API key), or one named like a secret that is not a number, a flag or a path (``hma_require_key``,
    ``key_cache_seconds`` and ``key_file`` are not secrets)."""
    if "SecretStr" in str(annotation) or (isinstance(extra, dict) and extra.get("secret")):
        return True
    words = {w.rstrip("s") for w in name.split("_")}
    return bool(words & set(SECRET_WORDS)) and not any(t in str(annotation) for t in ("bool", "int", "float", "Path"))


def describe() -> list[SettingInfo]:
    """Every field of every section, in section order (no environment is read)."""
    out = []
    for section, cls in Settings.sections().items():
        prefix = _env_prefix(cls)
        for name, info in cls.model_fields.items():
            default = info.get_default(call_default_factory=True)
            out.append(
                SettingInfo(
                    section,
                    name,
                    (prefix + name).upper(),
                    _show(default),
                    info.description or "",
                    _is_secret(name, info.annotation, info.json_schema_extra),
                )
            )
    return out


def current(environ: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """Each setting with its effective value and source (``default`` or ``environment``), secrets masked.

    A section the environment makes invalid gives each of its settings an ``error`` (the reasons,
    never the offending value) instead of stopping the listing."""
    env = {k.upper(): v for k, v in (environ if environ is not None else os.environ).items()}
    settings = get_settings()
    broken: dict[str, str] = {}
    for info in describe():
        if info.section in broken:
            yield _invalid(info, env, broken[info.section])
            continue
        try:
            section = getattr(settings, info.section)
        except ValidationError as exc:  # the reasons only: an input may be a secret
            broken[info.section] = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or info.section}: {e['msg']}" for e in exc.errors()
            )
            yield _invalid(info, env, broken[info.section])
            continue
        value = getattr(section, info.field)
        source = "environment" if info.env in env else "default"
        shown = _show(value.get_secret_value() if isinstance(value, SecretStr) else value)
        if info.secret and shown:
            shown = "********"
        shown = _URL_PASSWORD.sub(r"\1********@", shown)  # a database URL's password
        yield {
            "section": info.section,
            "name": info.field,
            "env": info.env,
            "value": shown,
            "source": source,
            "description": info.description,
        }


def _invalid(info: SettingInfo, env: dict[str, str], reason: str) -> dict[str, str]:
    return {
        "section": info.section,
        "name": info.field,
        "env": info.env,
        "value": f"<invalid: {reason}>",
        "source": "environment" if info.env in env else "default",
        "description": info.description,
        "error": reason,
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table() -> str:
    """The README's configuration table, generated from the model (a test keeps them equal)."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for info in describe():
        default = "" if info.secret else info.default
        lines.append(f"| `{info.env}` | {f'`{_cell(default)}`' if default else ''} | {_cell(info.description)} |")
    return "\n".join(lines) + "\n"


README_BEGIN = "<!-- settings table: generated by `python -m suraksha.settings --markdown`; do not edit -->"
README_END = "<!-- end of settings table -->"


def readme_table(readme: str) -> str:
    """The generated part of a README's text (between the two markers)."""
    start = readme.index(README_BEGIN) + len(README_BEGIN)
    return readme[start : readme.index(README_END)].strip("\n") + "\n"


def write_readme(path: Path) -> None:
    """Replace the table between the markers with the model's."""
    text = path.read_text(encoding="utf-8")
    start = text.index(README_BEGIN) + len(README_BEGIN)
    end = text.index(README_END)
    path.write_text(text[:start] + "\n" + markdown_table() + text[end:], encoding="utf-8")


def main(argv: list[str]) -> int:
    """``python -m suraksha.settings --markdown`` prints the table; ``--write-readme FILE`` updates one."""
    if argv[:1] == ["--markdown"]:
        sys.stdout.write(markdown_table())
        return 0
    if len(argv) == 2 and argv[0] == "--write-readme":
        write_readme(Path(argv[1]))
        return 0
    sys.stderr.write("usage: python -m suraksha.settings --markdown | --write-readme README.md\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
