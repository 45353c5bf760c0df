"""What a reviewer's browser receives of media that may be abusive.

By default it receives a **preview** made here: a small, heavily blurred (and, per the reviewer's
settings, grey) JPEG with no metadata, so the real picture never reaches the browser unless someone
asked to see it. The page's CSS blur is a second layer on top. Video gets a blurred poster frame in
the same way instead of the video; anything that cannot be decoded safely gets a neutral
placeholder, never an error page.

The **original** bytes leave the server only through a reveal: the audited reveal (which also
counts towards the daily exposure counter) grants a one-time, short-lived link for that one media,
bound to the revealing user. Fetching it consumes it (an atomic update, so it works the same with
many web processes sharing the database); a new reveal cancels the user's other unused links, so
at most one original is obtainable at a time. Roles without the ``media.view`` permission get
neither previews nor links.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageOps
from sqlalchemy import delete, update

from suraksha.auth import audit
from suraksha.auth.roles import can
from suraksha.cases.models import MediaRevealToken
from suraksha.cases.service import Actor, add_reveal, exposure_today, media_bytes
from suraksha.cases.settings import get_review_settings
from suraksha.db import session_scope
from suraksha.db.base import utcnow
from suraksha.errors import Forbidden

MIN_THUMB, MAX_THUMB = 64, 480
# The preview keeps at most this many cells along its longer side before it is enlarged and
# blurred again: whatever the thumbnail size, nothing finer than a 12x12 grid of soft colour
# patches survives (tests measure that the high-frequency energy is gone).
PREVIEW_CELLS = 12
PREVIEW_QUALITY = 70
PLACEHOLDER_GREY = 168
#: Seconds of decoding a video's poster frame may take (one frame takes milliseconds).
POSTER_BUDGET_SECONDS = 5.0


@dataclass(frozen=True)
class Preview:
    """The bytes sent by default: ``kind`` is ``image``, ``poster`` (a video's first frame) or
    ``placeholder`` (nothing could be decoded safely; ``reason`` says why)."""

    data: bytes
    mime: str
    kind: str
    reason: str = ""


@dataclass(frozen=True)
class RevealGrant:
    """An audited reveal: today's exposure count and the one-time link to the original."""

    exposure_today: int
    token: str
    expires_at: dt.datetime


class RevealLinkRefused(Forbidden, PermissionError):
    """The original was asked for without a valid, unused, unexpired link of this user."""


def _require_media_role(actor: Actor) -> None:
    if not can(actor.role, "media.view"):
        raise Forbidden(f"the {actor.role} role may not see media")


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


# ----------------------------------------------------------------------------------------- preview
def media_preview(item_id: int, position: int, actor: Actor, *, thumb: int = 160, grayscale: bool = True) -> Preview | None:
    """The default view of one media (audited as a ``media.view`` of a preview); None when the
    bytes are no longer held (only hashes were kept)."""
    _require_media_role(actor)
    found = media_bytes(item_id, position, actor, served="preview")
    if found is None:
        return None
    return make_preview(found[0], thumb=thumb, grayscale=grayscale)


def make_preview(data: bytes, *, thumb: int = 160, grayscale: bool = True) -> Preview:
    """Blurred, downscaled, optionally grey JPEG of an image or a video's first frame; a
    placeholder when the bytes cannot be decoded within the pipeline's safety limits."""
    from suraksha.signals import sniff_kind
    from suraksha.signals.errors import MediaError
    from suraksha.signals.formats import unsupported

    thumb = max(MIN_THUMB, min(MAX_THUMB, int(thumb)))
    kind = sniff_kind(data)
    try:
        if kind == "image":
            picture, made = _decode_image(data, thumb), "image"
        elif kind == "video":
            picture, made = _first_frame(data), "poster"
        else:
            # Only the allowed formats reach a decoder (signals.formats), exactly as when hashing.
            return placeholder(thumb, str(unsupported(data)))
        return Preview(_blurred_jpeg(picture, thumb, grayscale), "image/jpeg", made)
    except MediaError as exc:
        return placeholder(thumb, str(exc))
    except (MemoryError, Image.DecompressionBombError):
        return placeholder(thumb, "media too large to decode")
    except Exception as exc:  # any decoder's complaint about damaged bytes  # noqa: BLE001
        return placeholder(thumb, f"media could not be decoded ({type(exc).__name__})")


def placeholder(thumb: int = 160, reason: str = "") -> Preview:
    """A flat grey tile of the thumbnail's size: says "something is here" and shows nothing."""
    thumb = max(MIN_THUMB, min(MAX_THUMB, int(thumb)))
    tile = Image.new("L", (thumb, thumb * 3 // 4), PLACEHOLDER_GREY)
    return Preview(_jpeg(tile), "image/jpeg", "placeholder", reason)


def _decode_image(data: bytes, thumb: int) -> Image.Image:
    """Decode under the same pixel limit and header-first checks as hashing (signals.pdq.open_image);
    JPEGs decode at reduced scale straight away, so a big photo costs little."""
    from suraksha.config import get_settings
    from suraksha.signals.pdq import open_image

    img = open_image(data, max_pixels=get_settings().max_image_pixels)
    if img.format == "JPEG":
        img.draft("RGB", (thumb, thumb))
    img.load()
    return ImageOps.exif_transpose(img)


def _first_frame(data: bytes) -> Image.Image:
    """The first decodable frame of the first video stream (PyAV, in memory), refusing frames over
    the pixel limit vPDQ uses (signals.video), within ``POSTER_BUDGET_SECONDS`` of decoding: a
    stream whose packets never give a frame cannot hold the page's request (a placeholder says why)."""
    from suraksha.signals.budget import ScanBudget
    from suraksha.signals.errors import CorruptMedia
    from suraksha.signals.video import decode_frames, first_video_stream

    with first_video_stream(data) as (container, stream):
        for frame in decode_frames(container, stream, ScanBudget(seconds=POSTER_BUDGET_SECONDS)):
            return frame.to_image()
        raise CorruptMedia("video has no decodable frames")


def _blurred_jpeg(picture: Image.Image, thumb: int, grayscale: bool) -> bytes:
    img = picture.convert("L" if grayscale else "RGB")
    img.thumbnail((thumb, thumb), Image.Resampling.BILINEAR)
    size = img.size
    # Down to a coarse grid of averages, back up smoothly, then a wide Gaussian: no edge, face or
    # text survives, only the overall colours a reviewer needs to tell "photo" from "blank".
    cells = (max(1, round(size[0] * PREVIEW_CELLS / max(size))), max(1, round(size[1] * PREVIEW_CELLS / max(size))))
    img = img.resize(cells, Image.Resampling.BOX).resize(size, Image.Resampling.BICUBIC)
    img = img.filter(ImageFilter.GaussianBlur(radius=max(size) / PREVIEW_CELLS))
    return _jpeg(img)


def _jpeg(img: Image.Image) -> bytes:
    """Re-encode from pixels only: no EXIF, ICC, XMP or comment of the original can ride along."""
    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=PREVIEW_QUALITY, optimize=True)
    return out.getvalue()


# ------------------------------------------------------------------------------------------ reveal
def reveal(actor: Actor, item_id: int, position: int) -> RevealGrant:
    """Audit and count a reveal and grant a one-time link to this media's original, in one
    transaction. The user's other unused links are cancelled: one original at a time."""
    _require_media_role(actor)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + dt.timedelta(seconds=max(1, get_review_settings().reveal_link_seconds))
    with session_scope() as session:
        session.execute(delete(MediaRevealToken).where(MediaRevealToken.user_id == actor.user_id))
        grant = add_reveal(session, actor, item_id, position, {"original_link_expires": expires.isoformat()})
        session.add(
            MediaRevealToken(
                token_sha256=_sha(token),
                reveal_id=grant.id,
                user_id=actor.user_id,
                item_id=item_id,
                media_position=position,
                expires_at=expires,
            )
        )
    return RevealGrant(exposure_today(actor.user_id), token, expires)


def original_for_reveal(actor: Actor, item_id: int, position: int, token: str) -> tuple[bytes, str] | None:
    """The original bytes, once, for the user whose reveal granted ``token`` for this media;
    ``RevealLinkRefused`` otherwise (the refusal is audited). None when the bytes are gone."""
    _require_media_role(actor)
    now = utcnow()
    with session_scope() as session:
        used = session.execute(
            update(MediaRevealToken)
            .where(
                MediaRevealToken.token_sha256 == _sha(token),
                MediaRevealToken.user_id == actor.user_id,
                MediaRevealToken.item_id == item_id,
                MediaRevealToken.media_position == position,
                MediaRevealToken.used_at.is_(None),
                MediaRevealToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if used != 1:
            audit.record(
                session,
                actor.name,
                "media.original_refused",
                "item",
                item_id,
                {"position": position, "reason": "no valid reveal link"},
            )
    if used != 1:
        raise RevealLinkRefused(
            "this reveal link is not valid for you: it expired, was already used or "
            "belongs to another reveal; reveal the media again"
        )
    return media_bytes(item_id, position, actor, served="original")
