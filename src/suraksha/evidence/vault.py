"""The evidence vault: preserve, read, export, hold, purge, rotate keys; with chain of custody.

Media bytes are encrypted (AES-256-GCM) with a per-object data key before they touch the disk and
written to ``$SURAKSHA_HOME/evidence/<id[:2]>/<id>.bin`` under a random id (never the media hash,
which would reveal through the file name whether a known image is held). The item's record is
encrypted with the same data key and kept in the row. SHA-256 and MD5 of the plaintext, taken at
capture, are checked on every read, export and verify, so a changed file, a changed row or a wrong
key all end in ``EvidenceTampered`` rather than in wrong bytes handed to an investigator.

Every access writes a custody event and an audit event in the same transaction as the access.

A read that fails (``EvidenceUnreadable``: tampered, blob missing, master key missing, digest
mismatch) is never quiet: besides its custody and audit event it writes one log line (evidence id
and kind, no content) and counts ``suraksha_evidence_read_errors_total{kind}`` for alerting, so a
damaged vault reaches the admins instead of passing as "media not retained".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.audit import Actor
from suraksha.audit import record as audit_record
from suraksha.audit.log import normalise_details
from suraksha.config import get_settings
from suraksha.db import session_scope, unit_of_work, utcnow
from suraksha.errors import InvalidInput, NotFound, SurakshaError, Unavailable
from suraksha.evidence.keys import EvidenceKeyError, KeyRing, decode_key, encode_key, key_id, load_keyring, open_sealed, seal
from suraksha.evidence.models import CustodyEvent, Evidence, LegalHold
from suraksha.jurisdictions import retention_for

BLOB_MAGIC = b"SRKEV1\n"

log = logging.getLogger(__name__)

# Why a stored object could not be read back. ``tamper``: something does not authenticate under
# AES-GCM (blob, wrapped data key or record changed, or another object's blob swapped in);
# ``missing_blob``: the blob file is gone; ``unreadable_blob``: it exists but cannot be read (I/O,
# permissions); ``missing_key``: the master key it is wrapped with is not configured;
# ``digest_mismatch``: it decrypts, but size, SHA-256 or MD5 differ from the capture record.
READ_ERROR_KINDS = ("tamper", "missing_blob", "unreadable_blob", "missing_key", "digest_mismatch")
READ_ERRORS = Counter(
    "suraksha_evidence_read_errors",
    "Evidence that failed to read back (tampered, blob or key missing, digest mismatch); alert on any increase.",
    ["kind"],
)
for _kind in READ_ERROR_KINDS:  # every series exists at 0, so an alert on increase() sees the first one
    READ_ERRORS.labels(kind=_kind)


class EvidenceError(SurakshaError):
    """Base class of the vault's expected failures."""


class EvidenceNotFound(EvidenceError, NotFound):
    pass


class EvidencePurged(EvidenceError, NotFound):
    """The object was purged after its retention; only its tombstone (hashes, custody) remains."""


class EvidenceUnreadable(EvidenceError, Unavailable):
    """A preserved object exists but cannot be read back intact; nothing is returned.

    ``kind`` is one of ``READ_ERROR_KINDS`` (what an alert or a reviewer's page needs to know);
    ``reason`` is a fixed sentence for admins. Neither ever holds content.
    """

    def __init__(self, evidence_id: str, reason: str, kind: str = "tamper", message: str | None = None):
        if kind not in READ_ERROR_KINDS:
            raise ValueError(f"unknown evidence read error kind {kind!r}")
        super().__init__(message or f"evidence {evidence_id} failed verification: {reason}")
        self.evidence_id = evidence_id
        self.reason = reason
        self.kind = kind


class EvidenceTampered(EvidenceUnreadable):
    """Stored bytes, row or blob file do not match what was captured (kinds ``tamper``,
    ``missing_blob``, ``unreadable_blob``, ``digest_mismatch``)."""


class EvidenceKeyMissing(EvidenceUnreadable, EvidenceKeyError):
    """The master key an object is wrapped with is not configured (kind ``missing_key``). Still an
    ``EvidenceKeyError``: configuring the key (``SURAKSHA_EVIDENCE_OLD_KEYS``) makes it readable."""

    def __init__(self, evidence_id: str, reason: str):
        super().__init__(evidence_id, reason, "missing_key", message=reason)


@dataclass(frozen=True)
class ExportedEvidence:
    evidence_id: str
    item_ref: str
    media: bytes = field(repr=False)
    record: dict[str, Any] = field(repr=False)
    sha256: str = ""
    md5: str = ""
    size: int = 0
    captured_at: dt.datetime | None = None
    jurisdictions: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifyOutcome:
    evidence_id: str
    ok: bool
    reason: str | None = None


@dataclass(frozen=True)
class PurgeResult:
    purged: list[str]
    held: list[str]


# --------------------------------------------------------------------------- plumbing
def vault_dir() -> Path:
    return get_settings().home / "evidence"


def _blob_path(blob_name: str) -> Path:
    return vault_dir() / blob_name


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _write_blob(path: Path, data: bytes) -> None:
    """Write atomically (temp file, fsync, rename) so a crash leaves no half-written blob."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _custody(session: Session, ev_id: str, actor: Actor, action: str, purpose: str, details: dict | None = None) -> None:
    session.add(
        CustodyEvent(
            evidence_id=ev_id, at=utcnow(), actor=str(actor), action=action, purpose=purpose, details=normalise_details(details)
        )
    )
    audit_record(session, actor, f"evidence.{action}", "evidence", ev_id, {"purpose": purpose, **(details or {})})


def _require_purpose(purpose: str) -> str:
    if not isinstance(purpose, str) or not purpose.strip():
        raise InvalidInput("a purpose is required for every access to evidence (it goes into the chain of custody)")
    return purpose.strip()[:1000]


def _get(session: Session, evidence_id: str, lock: bool = False) -> Evidence:
    stmt = select(Evidence).where(Evidence.id == evidence_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise EvidenceNotFound(f"no evidence {evidence_id!r}")
    return row


def _decrypt(row: Evidence, ring: KeyRing) -> tuple[bytes, dict[str, Any]]:
    """Decrypt and verify one object; raises ``EvidenceTampered`` on any mismatch."""
    if row.status == "purged" or row.wrapped_key is None:
        raise EvidencePurged(f"evidence {row.id} was purged on {row.purged_at}")
    try:
        kek = ring.get(row.key_id)
    except EvidenceKeyError as exc:
        raise EvidenceKeyMissing(row.id, str(exc)) from None
    try:
        data_key = open_sealed(kek, row.wrapped_key, row.id, "data-key")
    except InvalidTag:
        raise EvidenceTampered(row.id, "the wrapped data key does not authenticate") from None
    try:
        blob = _blob_path(row.blob_name).read_bytes()
    except FileNotFoundError:
        raise EvidenceTampered(row.id, "the blob file is missing", "missing_blob") from None
    except OSError as exc:
        raise EvidenceTampered(row.id, f"the blob file cannot be read ({type(exc).__name__})", "unreadable_blob") from None
    if not blob.startswith(BLOB_MAGIC):
        raise EvidenceTampered(row.id, "the blob file is not a vault blob")
    try:
        media = open_sealed(data_key, blob[len(BLOB_MAGIC) :], row.id, "media")
    except InvalidTag:
        raise EvidenceTampered(row.id, "the blob does not authenticate (changed or swapped)") from None
    if len(media) != row.size:
        raise EvidenceTampered(row.id, "size differs from the size recorded at capture", "digest_mismatch")
    if hashlib.sha256(media).hexdigest() != row.sha256:
        raise EvidenceTampered(row.id, "SHA-256 differs from the hash recorded at capture", "digest_mismatch")
    if hashlib.md5(media, usedforsecurity=False).hexdigest() != row.md5:
        raise EvidenceTampered(row.id, "MD5 differs from the hash recorded at capture", "digest_mismatch")
    try:
        record = json.loads(open_sealed(data_key, row.record_ciphertext or b"", row.id, "record"))
    except InvalidTag:
        raise EvidenceTampered(row.id, "the stored record does not authenticate") from None
    return media, record


def _note_read_error(session: Session | None, exc: EvidenceUnreadable, actor: Actor, purpose: str) -> None:
    """Report a failed read: one log line and the counter first (they survive anything), then the
    custody and audit event (``tamper_detected``, or ``read_failed`` for a missing key), which
    survives the caller's rollback when we own the transaction."""
    READ_ERRORS.labels(kind=exc.kind).inc()
    log.error("evidence read error: evidence_id=%s kind=%s", exc.evidence_id, exc.kind)
    action = "tamper_detected" if isinstance(exc, EvidenceTampered) else "read_failed"
    details = {"reason": exc.reason, "kind": exc.kind}
    if session is not None:
        _custody(session, exc.evidence_id, actor, action, purpose, details)
        session.flush()
        return
    with session_scope() as own:
        _custody(own, exc.evidence_id, actor, action, purpose, details)


# --------------------------------------------------------------------------- capture
def preserve(
    item_ref: str,
    media: bytes,
    record: dict[str, Any],
    jurisdictions: list[str],
    actor: Actor | str,
    *,
    session: Session | None = None,
    now: dt.datetime | None = None,
) -> Evidence:
    """Encrypt and store ``media`` and the item's ``record``; returns the new ``Evidence`` row.

    Retention runs to the longest period of the ``jurisdictions`` that apply. With ``session`` the
    row is written in the caller's transaction; if that rolls back the blob stays on disk, but its
    data key is gone with the row, so it can never be decrypted (``verify`` reports it as orphaned).
    """
    who = Actor.parse(actor)
    if not isinstance(item_ref, str) or not item_ref.strip() or len(item_ref) > 200:
        raise InvalidInput("item_ref must be 1-200 characters")
    if not isinstance(media, (bytes, bytearray, memoryview)):
        raise TypeError("media must be bytes")
    media = bytes(media)
    if not media:
        raise InvalidInput("media is empty: nothing to preserve")
    if not isinstance(record, dict):
        raise TypeError("record must be a dict (the item's record)")
    codes = [c.strip().lower() for c in jurisdictions]
    captured_at = _aware(now) if now is not None else utcnow()
    retention_until = captured_at + retention_for(codes)  # validates the codes
    record_json = json.dumps(normalise_details(record), sort_keys=True, ensure_ascii=False).encode("utf-8")

    ring = load_keyring()
    evidence_id = secrets.token_hex(16)
    data_key = os.urandom(32)
    blob_name = f"{evidence_id[:2]}/{evidence_id}.bin"
    row = Evidence(
        id=evidence_id,
        item_ref=item_ref.strip(),
        status="preserved",
        size=len(media),
        sha256=hashlib.sha256(media).hexdigest(),
        md5=hashlib.md5(media, usedforsecurity=False).hexdigest(),
        key_id=ring.current_id,
        wrapped_key=seal(ring.current, data_key, evidence_id, "data-key"),
        record_ciphertext=seal(data_key, record_json, evidence_id, "record"),
        blob_name=blob_name,
        jurisdictions=codes,
        captured_at=captured_at,
        captured_by=str(who),
        retention_until=retention_until,
    )
    _write_blob(_blob_path(blob_name), BLOB_MAGIC + seal(data_key, media, evidence_id, "media"))
    with unit_of_work(session) as s:
        s.add(row)
        s.flush()
        _custody(
            s,
            evidence_id,
            who,
            "capture",
            "preserve",
            {
                "item_ref": row.item_ref,
                "sha256": row.sha256,
                "size": row.size,
                "jurisdictions": codes,
                "retention_until": retention_until,
            },
        )
        s.flush()
    return row


# --------------------------------------------------------------------------- access
def _access(
    evidence_id: str, actor: Actor | str, purpose: str, action: str, session: Session | None
) -> tuple[Evidence, bytes, dict]:
    who = Actor.parse(actor)
    purpose = _require_purpose(purpose)
    try:
        ring = load_keyring()
    except EvidenceKeyError as exc:  # no master key at all: this object cannot be read either
        _note_read_error(session, EvidenceKeyMissing(evidence_id, str(exc)), who, purpose)
        raise
    try:
        with unit_of_work(session) as s:
            row = _get(s, evidence_id)
            media, rec = _decrypt(row, ring)
            _custody(s, evidence_id, who, action, purpose, {"sha256": row.sha256})
            s.flush()
            return row, media, rec
    except EvidenceUnreadable as exc:
        _note_read_error(session, exc, who, purpose)
        raise


def read(evidence_id: str, actor: Actor | str, purpose: str, *, session: Session | None = None) -> bytes:
    """The preserved media, verified against its capture hashes. Custody and audit: ``read``."""
    return _access(evidence_id, actor, purpose, "read", session)[1]


def read_record(evidence_id: str, actor: Actor | str, purpose: str, *, session: Session | None = None) -> dict[str, Any]:
    """The preserved item record (the media is verified too). Custody and audit: ``read``."""
    return _access(evidence_id, actor, purpose, "read", session)[2]


def check(evidence_id: str, actor: Actor | str, purpose: str, *, session: Session | None = None) -> None:
    """Decrypt and verify one object end to end without handing its bytes to anyone (a page that
    must say "damaged" before anything is fetched). Custody and audit: ``verify``; a failure is
    reported like any failed read and raised (``EvidenceUnreadable``)."""
    _access(evidence_id, actor, purpose, "verify", session)


def export(evidence_id: str, actor: Actor | str, purpose: str, *, session: Session | None = None) -> ExportedEvidence:
    """Media, record and hashes for a disclosure package, verified. Custody and audit: ``export``."""
    row, media, rec = _access(evidence_id, actor, purpose, "export", session)
    return ExportedEvidence(
        evidence_id=row.id,
        item_ref=row.item_ref,
        media=media,
        record=rec,
        sha256=row.sha256,
        md5=row.md5,
        size=row.size,
        captured_at=_aware(row.captured_at),
        jurisdictions=tuple(row.jurisdictions),
    )


def custody_log(evidence_id: str, *, session: Session | None = None) -> list[CustodyEvent]:
    with unit_of_work(session) as s:
        _get(s, evidence_id)
        return list(
            s.execute(select(CustodyEvent).where(CustodyEvent.evidence_id == evidence_id).order_by(CustodyEvent.id)).scalars()
        )


def verify(evidence_ids: Iterable[str] | None = None, actor: Actor | str = "system:evidence-verify") -> list[VerifyOutcome]:
    """Check every preserved object (or the given ones) end to end; custody ``verify`` for each."""
    who = Actor.parse(actor)
    ring = load_keyring()
    with session_scope() as s:
        if evidence_ids is None:
            ids = list(
                s.execute(select(Evidence.id).where(Evidence.status == "preserved").order_by(Evidence.captured_at)).scalars()
            )
        else:
            ids = list(evidence_ids)
    outcomes = []
    for ev_id in ids:
        try:
            with session_scope() as s:
                row = _get(s, ev_id)
                _decrypt(row, ring)
                _custody(s, ev_id, who, "verify", "integrity check", {})
            outcomes.append(VerifyOutcome(ev_id, True))
        except EvidenceUnreadable as exc:
            _note_read_error(None, exc, who, "integrity check")
            outcomes.append(VerifyOutcome(ev_id, False, exc.reason))
        except (EvidenceNotFound, EvidencePurged) as exc:
            outcomes.append(VerifyOutcome(ev_id, False, str(exc)))
        except Exception as exc:  # e.g. a key no longer configured: report it, check the rest
            outcomes.append(VerifyOutcome(ev_id, False, f"{exc.__class__.__name__}: {exc}"))
    return outcomes


def orphaned_blobs() -> list[Path]:
    """Blob files with no row (a capture whose transaction rolled back); unreadable without their key."""
    root = vault_dir()
    if not root.is_dir():
        return []
    files = {p.relative_to(root).as_posix(): p for p in root.glob("*/*.bin")}
    if not files:
        return []
    with session_scope() as s:
        known = set(s.execute(select(Evidence.blob_name)).scalars())
    return [p for name, p in sorted(files.items()) if name not in known]


# --------------------------------------------------------------------------- holds
def place_hold(
    evidence_ids: Iterable[str], reason: str, request_ref: str, actor: Actor | str = "system", *, session: Session | None = None
) -> list[LegalHold]:
    """Hold every listed object for ``request_ref`` (all or none). A held object is never purged."""
    who = Actor.parse(actor)
    ids = list(dict.fromkeys(evidence_ids))
    if not ids:
        raise InvalidInput("no evidence ids given")
    if not reason or not reason.strip():
        raise InvalidInput("a legal hold needs a reason")
    if not request_ref or not request_ref.strip() or len(request_ref) > 200:
        raise InvalidInput("a legal hold needs a request reference (1-200 characters)")
    holds = []
    with unit_of_work(session) as s:
        for ev_id in ids:
            row = _get(s, ev_id, lock=True)
            if row.status == "purged":
                raise EvidencePurged(f"evidence {ev_id} was purged on {row.purged_at}; it cannot be held")
            existing = s.execute(
                select(LegalHold).where(
                    LegalHold.evidence_id == ev_id, LegalHold.request_ref == request_ref, LegalHold.released_at.is_(None)
                )
            ).scalar_one_or_none()
            if existing is not None:
                holds.append(existing)
                continue
            hold = LegalHold(
                evidence_id=ev_id, reason=reason.strip(), request_ref=request_ref.strip(), placed_by=str(who), placed_at=utcnow()
            )
            s.add(hold)
            _custody(s, ev_id, who, "hold", reason.strip(), {"request_ref": request_ref.strip()})
            holds.append(hold)
        s.flush()
    return holds


def release_hold(
    evidence_ids: Iterable[str],
    request_ref: str,
    actor: Actor | str = "system",
    reason: str = "",
    *,
    session: Session | None = None,
) -> int:
    """Release the holds placed for ``request_ref`` on these objects; returns how many were released.

    Other requests' holds stay: an object is purgeable only when no hold at all remains.
    """
    who = Actor.parse(actor)
    released = 0
    with unit_of_work(session) as s:
        for ev_id in dict.fromkeys(evidence_ids):
            _get(s, ev_id, lock=True)
            for hold in s.execute(
                select(LegalHold).where(
                    LegalHold.evidence_id == ev_id, LegalHold.request_ref == request_ref, LegalHold.released_at.is_(None)
                )
            ).scalars():
                hold.released_at = utcnow()
                hold.released_by = str(who)
                hold.release_reason = reason or None
                _custody(s, ev_id, who, "release", reason or "hold released", {"request_ref": request_ref})
                released += 1
        s.flush()
    return released


def active_holds(evidence_id: str, *, session: Session | None = None) -> list[LegalHold]:
    with unit_of_work(session) as s:
        return list(
            s.execute(
                select(LegalHold)
                .where(LegalHold.evidence_id == evidence_id, LegalHold.released_at.is_(None))
                .order_by(LegalHold.id)
            ).scalars()
        )


# --------------------------------------------------------------------------- retention
def purge_expired(
    now: dt.datetime | None = None, actor: Actor | str = "system:evidence-purge", dry_run: bool = False
) -> PurgeResult:
    """Delete the blobs of objects past retention with no active hold, keeping tombstone rows.

    Each object is purged in its own transaction with its row locked, so a hold placed at the same
    moment either lands first (and the object is kept) or finds it purged. The blob is deleted only
    after the tombstone commits; the data key is gone with the commit either way.
    """
    who = Actor.parse(actor)
    when = _aware(now) if now is not None else utcnow()
    with session_scope() as s:
        due = list(
            s.execute(
                select(Evidence.id)
                .where(Evidence.status == "preserved", Evidence.retention_until <= when)
                .order_by(Evidence.retention_until)
            ).scalars()
        )
    purged, held = [], []
    for ev_id in due:
        blob_name = None
        with session_scope() as s:
            row = _get(s, ev_id, lock=True)
            if row.status != "preserved" or _aware(row.retention_until) > when:
                continue
            if (
                s.execute(
                    select(LegalHold.id).where(LegalHold.evidence_id == ev_id, LegalHold.released_at.is_(None)).limit(1)
                ).first()
                is not None
            ):
                held.append(ev_id)
                continue
            if dry_run:
                purged.append(ev_id)
                continue
            row.status = "purged"
            row.purged_at = when
            row.wrapped_key = None
            row.record_ciphertext = None
            blob_name = row.blob_name
            _custody(s, ev_id, who, "purge", "retention expired", {"retention_until": _aware(row.retention_until)})
        if blob_name is not None:
            _blob_path(blob_name).unlink(missing_ok=True)
            purged.append(ev_id)
    return PurgeResult(purged=purged, held=held)


# --------------------------------------------------------------------------- keys
def rotate_keys(new_key: bytes | str, actor: Actor | str = "system:key-rotation", batch: int = 500) -> int:
    """Rewrap every data key under ``new_key``; blobs are not touched. Returns how many were rewrapped.

    The keys the objects are wrapped with now must be configured. Afterwards configure ``new_key``
    as the current key (``SURAKSHA_EVIDENCE_KEY`` or the key file's first line); the old key may be
    removed once this returns.
    """
    who = Actor.parse(actor)
    new = decode_key(new_key, "new key") if isinstance(new_key, str) else bytes(new_key)
    if len(new) != 32:
        raise InvalidInput("the new master key must be 32 bytes")
    new_id = key_id(new)
    ring = load_keyring()
    done = 0
    while True:
        with session_scope() as s:
            rows = list(
                s.execute(
                    select(Evidence)
                    .where(Evidence.wrapped_key.is_not(None), Evidence.key_id != new_id)
                    .order_by(Evidence.id)
                    .limit(batch)
                    .with_for_update()
                ).scalars()
            )
            if not rows:
                break
            for row in rows:
                try:
                    data_key = open_sealed(ring.get(row.key_id), row.wrapped_key, row.id, "data-key")
                except InvalidTag:
                    raise EvidenceTampered(row.id, "the wrapped data key does not authenticate; rotation stopped") from None
                old_id = row.key_id
                row.wrapped_key = seal(new, data_key, row.id, "data-key")
                row.key_id = new_id
                s.add(
                    CustodyEvent(
                        evidence_id=row.id,
                        at=utcnow(),
                        actor=str(who),
                        action="rekey",
                        purpose="master key rotation",
                        details={"from": old_id, "to": new_id},
                    )
                )
            done += len(rows)
            audit_record(s, who, "evidence.rotate_keys", "evidence", None, {"rewrapped": len(rows), "to_key": new_id})
    return done


def new_key_b64() -> str:
    """A fresh master key, base64, for an operator to configure."""
    return encode_key(os.urandom(32))
