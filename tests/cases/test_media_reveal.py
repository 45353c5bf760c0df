"""What leaves the server of possibly abusive media: by default a small, heavily blurred, grey
preview without metadata; the original only once, through the one-time link of an audited reveal,
for the revealing user; never for roles without media. Undecodable media gives a placeholder."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, update

from suraksha.cases import media
from suraksha.cases.service import exposure_today
from suraksha.errors import Forbidden


def _detailed_picture(size=(480, 360)) -> bytes:
    """A benign generated test card: fine stripes, a checkerboard and text-like marks (lots of detail)."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([(x * 7) % 256, ((x // 8 + y // 8) % 2) * 255, (y * 5 + (x % 3) * 60) % 256], -1).astype(np.uint8)
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x010E] = "secret-description-marker"  # ImageDescription
    exif[0x0131] = "camera-software-marker"
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=92, exif=exif.tobytes(), icc_profile=b"fake-icc-profile-marker" * 4)
    return out.getvalue()


def _hf_energy(img: Image.Image) -> float:
    """Mean squared difference between neighbouring pixels (grey): edges, text and faces live here."""
    a = np.asarray(img.convert("L"), dtype=np.float64)
    return float(np.mean(np.diff(a, axis=0) ** 2) + np.mean(np.diff(a, axis=1) ** 2))


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
    )


def test_preview_is_small_grey_blurred_and_carries_no_metadata():
    original = _detailed_picture()
    p = media.make_preview(original, thumb=160, grayscale=True)
    assert p.kind == "image" and p.mime == "image/jpeg"
    assert hashlib.sha256(p.data).digest() != hashlib.sha256(original).digest()
    img = Image.open(io.BytesIO(p.data))
    assert img.mode == "L" and max(img.size) == 160 and img.size == (160, 120)
    # Compared with the original shrunk to the same size (sharp), almost no edge energy is left.
    reference = Image.open(io.BytesIO(original)).convert("L").resize(img.size, Image.Resampling.LANCZOS)
    assert _hf_energy(reference) > 1000
    assert _hf_energy(img) < _hf_energy(reference) * 0.01
    # No EXIF, ICC profile or any of the original's metadata strings.
    assert "exif" not in img.info and "icc_profile" not in img.info
    for marker in (b"secret-description-marker", b"camera-software-marker", b"fake-icc-profile-marker"):
        assert marker in original and marker not in p.data


def test_preview_follows_size_and_colour_settings():
    original = _detailed_picture()
    colour = Image.open(io.BytesIO(media.make_preview(original, thumb=320, grayscale=False).data))
    assert colour.mode == "RGB" and colour.size == (320, 240)
    # A red-and-blue picture stays red and blue (softly) when greyscale is off.
    halves = np.zeros((200, 300, 3), np.uint8)
    halves[:, :150, 0] = 220
    halves[:, 150:, 2] = 220
    buf = io.BytesIO()
    Image.fromarray(halves).save(buf, format="PNG")
    arr = np.asarray(Image.open(io.BytesIO(media.make_preview(buf.getvalue(), grayscale=False).data)), dtype=np.int16)
    assert arr[:, :20, 0].mean() - arr[:, :20, 2].mean() > 100 and arr[:, -20:, 2].mean() - arr[:, -20:, 0].mean() > 100
    # Out-of-range sizes are clamped to the settings' bounds (64-480).
    assert max(Image.open(io.BytesIO(media.make_preview(original, thumb=5000).data)).size) == 480


def test_video_gets_a_blurred_poster_frame_not_the_video(reference_dir):
    video = sorted((reference_dir / "video").glob("*.mp4"))[0].read_bytes()
    p = media.make_preview(video, thumb=160, grayscale=True)
    assert p.kind == "poster" and p.mime == "image/jpeg"
    img = Image.open(io.BytesIO(p.data))
    assert img.format == "JPEG" and img.mode == "L" and max(img.size) == 160
    assert len(p.data) < len(video) // 20


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda ref: _detailed_picture()[:2500], id="truncated-jpeg"),
        pytest.param(lambda ref: b"\xff\xd8\xff" + bytes(range(256)) * 8, id="jpeg-magic-then-garbage"),
        pytest.param(lambda ref: _png_claiming(100_000, 100_000), id="png-bomb-header"),
        pytest.param(lambda ref: b"just some text, not media", id="not-media"),
        pytest.param(lambda ref: sorted((ref / "video").glob("*.mp4"))[0].read_bytes()[:2000], id="truncated-video"),
        pytest.param(lambda ref: b"", id="empty"),
    ],
)
def test_undecodable_media_gives_a_neutral_placeholder(bad, reference_dir):
    p = media.make_preview(bad(reference_dir), thumb=160)
    assert p.kind == "placeholder" and p.reason
    img = Image.open(io.BytesIO(p.data))
    assert img.size == (160, 120)
    lo, hi = img.convert("L").getextrema()
    assert hi - lo <= 2  # flat: shows nothing


def test_bomb_placeholder_names_the_limit():
    p = media.make_preview(_png_claiming(100_000, 100_000))
    assert "over the limit" in p.reason


# ---------------------------------------------------------------------------- with a database
def _audits(action: str) -> list[dict]:
    from suraksha.audit.models import AuditEvent
    from suraksha.db import session_scope

    with session_scope() as s:
        return [e.details for e in s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def test_default_view_is_the_preview_and_is_audited(review_env, actors, reference_dir):
    item = review_env["items"][0]
    original = (reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    p = media.media_preview(item, 0, actors["rita"], thumb=160, grayscale=True)
    assert p is not None and p.data != original and max(Image.open(io.BytesIO(p.data)).size) == 160
    assert {"position": 0, "retained": True, "served": "preview"}.items() <= _audits("media.view")[-1].items()
    # Media whose bytes were not kept: None (the page says "not retained").
    assert media.media_preview(review_env["items"][2], 0, actors["rita"]) is None


def test_original_only_once_only_for_the_revealing_user_after_an_audited_reveal(review_env, actors, reference_dir):
    item = review_env["items"][0]
    original = (reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    rita, raj = actors["rita"], actors["raj"]

    with pytest.raises(media.RevealLinkRefused):
        media.original_for_reveal(rita, item, 0, "made-up-token")
    grant = media.reveal(rita, item, 0)
    assert grant.exposure_today == 1 == exposure_today(rita.user_id)
    assert _audits("media.reveal")[-1]["position"] == 0
    # Another reviewer cannot use it, nor can it open another media of the item.
    with pytest.raises(media.RevealLinkRefused):
        media.original_for_reveal(raj, item, 0, grant.token)
    with pytest.raises(media.RevealLinkRefused):
        media.original_for_reveal(rita, item, 1, grant.token)
    data, mime = media.original_for_reveal(rita, item, 0, grant.token)
    assert data == original and mime == "image/jpeg"
    assert _audits("media.view")[-1]["served"] == "original"
    with pytest.raises(media.RevealLinkRefused, match="already used"):
        media.original_for_reveal(rita, item, 0, grant.token)
    assert len(_audits("media.original_refused")) == 4


def test_a_new_reveal_cancels_the_previous_link_and_links_expire(review_env, actors):
    from suraksha.cases.models import MediaRevealToken
    from suraksha.db import session_scope

    item = review_env["items"][0]
    rita = actors["rita"]
    first = media.reveal(rita, item, 0)
    second = media.reveal(rita, item, 1)  # one at a time: the first link is gone
    with pytest.raises(media.RevealLinkRefused):
        media.original_for_reveal(rita, item, 0, first.token)
    with session_scope() as s:
        s.execute(update(MediaRevealToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    with pytest.raises(media.RevealLinkRefused, match="expired"):
        media.original_for_reveal(rita, item, 1, second.token)
    assert exposure_today(rita.user_id) == 2  # both reveals counted


def test_analysts_get_neither_previews_nor_reveals(review_env, actors):
    item = review_env["items"][0]
    ana = actors["ana"]
    with pytest.raises(Forbidden, match="analyst"):
        media.media_preview(item, 0, ana)
    with pytest.raises(Forbidden, match="analyst"):
        media.reveal(ana, item, 0)
    grant = media.reveal(actors["rita"], item, 0)
    with pytest.raises(Forbidden):
        media.original_for_reveal(ana, item, 0, grant.token)
    assert exposure_today(ana.user_id) == 0


def test_reveal_of_missing_media_changes_nothing(review_env, actors):
    from suraksha.cases.models import MediaRevealToken
    from suraksha.db import session_scope

    with pytest.raises(LookupError, match="has no media 7"):
        media.reveal(actors["rita"], review_env["items"][0], 7)
    with session_scope() as s:
        assert s.scalars(select(MediaRevealToken)).all() == []
    assert exposure_today(actors["rita"].user_id) == 0
