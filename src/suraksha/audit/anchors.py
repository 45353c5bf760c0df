"""Published anchors: the audit chain's head written outside the database, and checked against.

The hash chain finds any edit, deletion or insertion *inside* the chain, but someone with write
access to the database can re-chain it: recompute every hash after an edit, or cut the newest
events and point the head row at the new end. Both leave a chain that verifies. An anchor — the
head's ``seq`` and ``hash`` at some moment — kept where that person cannot write catches both: the
event at that ``seq`` must still carry that hash, and the chain may not end before it.

``publish_anchor`` appends the current head to the anchors file (JSON lines:
``{"seq": …, "hash": …, "at": …}``), after checking that the chain still holds since the last
anchor, so a chain already rewritten is never blessed. It runs on demand (``suraksha audit
anchor``) and on a schedule (``publish_if_due``, called by the dispatcher in ``suraksha serve`` /
``suraksha dispatch``). ``suraksha audit verify`` checks the file's last anchor by default.

The file is only as good as where it lives: see ``audit.settings`` (other storage, shipped off the
host). It holds hashes and times only, nothing of any event.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from suraksha.audit.log import VerifyResult, verify_chain
from suraksha.audit.settings import get_audit_settings
from suraksha.errors import Conflict, InvalidInput

log = logging.getLogger(__name__)

_HASH = re.compile(r"[0-9a-f]{64}")
_TAIL_BYTES = 8192  # a line is ~110 bytes; the last one is all that is read


class AnchorFileError(InvalidInput):
    """The anchors file exists but its last line is not an anchor (edited, or a torn write)."""


class AnchorRefused(Conflict, RuntimeError):
    """No anchor was published: the chain does not verify since the last published anchor."""

    def __init__(self, result: VerifyResult, path: Path) -> None:
        where = f" at seq {result.first_bad_seq}" if result.first_bad_seq is not None else ""
        super().__init__(f"audit chain TAMPERED{where}: {result.reason}; no anchor appended to {path}")
        self.result = result


@dataclass(frozen=True)
class Anchor:
    """The chain's head at ``at``: event ``seq`` carried ``hash``."""

    seq: int
    hash: str
    at: dt.datetime | None = None

    @property
    def pair(self) -> tuple[int, str]:
        return self.seq, self.hash

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def anchor_path() -> Path:
    """``SURAKSHA_AUDIT_ANCHOR_FILE``, else ``$SURAKSHA_HOME/audit-anchors.jsonl``."""
    return get_audit_settings().resolved_anchor_file


def parse_anchor_line(line: str) -> Anchor:
    """One line of the anchors file; ``AnchorFileError`` with the reason when it is not one."""
    try:
        data = json.loads(line)
        seq, digest = data["seq"], data["hash"]
    except (ValueError, KeyError, TypeError):
        raise AnchorFileError("not a JSON object with seq and hash") from None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise AnchorFileError("seq is not a positive whole number")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise AnchorFileError("hash is not 64 lowercase hex digits")
    at = None
    if isinstance(data.get("at"), str):
        try:
            at = dt.datetime.fromisoformat(data["at"])
        except ValueError:
            raise AnchorFileError("at is not an ISO 8601 time") from None
        if at.tzinfo is None:
            raise AnchorFileError("at has no time zone")
    return Anchor(seq, digest, at)


def read_last_anchor(path: Path | None = None) -> Anchor | None:
    """The newest anchor in the file (its last line); None when the file is missing or empty.

    A last line that is not an anchor is an error, not skipped: falling back to an older anchor
    would quietly accept a chain cut back to it.
    """
    path = path or anchor_path()
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _TAIL_BYTES))
            tail = fh.read()
    except FileNotFoundError:
        return None
    lines = [ln for ln in tail.split(b"\n") if ln.strip()]
    if not lines:
        return None
    try:
        text = lines[-1].decode("utf-8")
    except UnicodeDecodeError:
        raise AnchorFileError(f"{path}: the last line is not an anchor (not UTF-8)") from None
    try:
        return parse_anchor_line(text)
    except AnchorFileError as exc:
        raise AnchorFileError(
            f"{path}: the last line is not an anchor ({exc}); restore the file from its off-host copy"
        ) from None


def _append(path: Path, anchor: Anchor) -> None:
    """One line, appended with O_APPEND and fsynced (a crash leaves whole lines); 0600, folder 0700."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = (
        json.dumps(
            {"seq": anchor.seq, "hash": anchor.hash, "at": (anchor.at or dt.datetime.now(dt.UTC)).isoformat()}, sort_keys=True
        )
        + "\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_anchor(path: Path | None = None) -> Anchor | None:
    """Append the current head to the anchors file and return it; None when the log is empty.

    First the chain is checked from the last published anchor to the head (the whole chain when
    there is none yet): a chain that no longer holds raises ``AnchorRefused`` and nothing is
    written, so a rewritten chain never gets an anchor of its own.
    """
    path = path or anchor_path()
    last = read_last_anchor(path)
    result = verify_chain(since=last.pair if last else None)
    if not result.ok:
        log.error(
            "audit anchor refused: the chain does not verify since the last anchor (first bad seq %s)", result.first_bad_seq
        )
        raise AnchorRefused(result, path)
    if result.head_seq == 0:
        return None
    anchor = Anchor(result.head_seq, result.head_hash, dt.datetime.now(dt.UTC))
    if last is not None and last.pair == anchor.pair:
        return last  # nothing new since the last anchor: the file need not grow
    _append(path, anchor)
    log.info("audit anchor published: seq=%s hash=%s file=%s", anchor.seq, anchor.hash, path)
    return anchor


def publish_if_due(every_s: float, path: Path | None = None, now: dt.datetime | None = None) -> Anchor | None:
    """Publish when the file's newest anchor is older than ``every_s`` seconds (or there is none);
    the anchor written, or None when none was (not due, log empty, or the head has not moved).

    Deciding by the file rather than by a process clock lets many dispatchers share one file (on
    shared storage) without each adding a line per period, and makes a restart publish at once.
    """
    path = path or anchor_path()
    last = read_last_anchor(path)
    now = now or dt.datetime.now(dt.UTC)
    if last is not None and last.at is not None and (now - last.at).total_seconds() < every_s:
        return None
    published = publish_anchor(path)
    if published is None or (last is not None and published.pair == last.pair):
        return None
    return published
