"""Over HTTP: /media/<item>/<pos> answers a server-blurred preview; the original only through the
one-time link an audited reveal returns, once, to the revealing user; analysts get neither; bad
media gives a placeholder, never a 500."""

from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image

from .conftest import csrf_of, sign_in


def _reviewer_client(app_client, seeded, role: str = "reviewer"):
    c = app_client()
    assert sign_in(c, seeded["staff"][role]).status_code == 303
    return c, {"X-CSRF-Token": csrf_of(c)}


def _edge_energy(img: Image.Image) -> float:
    a = np.asarray(img.convert("L"), dtype=np.float64)
    return float(np.mean(np.diff(a, axis=0) ** 2) + np.mean(np.diff(a, axis=1) ** 2))


def test_default_media_response_is_a_small_blurred_grey_preview(app_client, seeded, reference_dir):
    original = (reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    c, _ = _reviewer_client(app_client, seeded)
    r = c.get(f"/media/{seeded['items'][0]}/0")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "no-store" and r.headers["x-suraksha-media"] == "image"
    assert hashlib.sha256(r.content).hexdigest() != hashlib.sha256(original).hexdigest()
    preview = Image.open(io.BytesIO(r.content))
    assert max(preview.size) == 160 and preview.mode == "L"
    sharp = Image.open(io.BytesIO(original)).resize(preview.size, Image.Resampling.LANCZOS)
    assert _edge_energy(preview) < _edge_energy(sharp) * 0.02


def test_preview_follows_the_users_settings(app_client, seeded):
    from suraksha.auth.service import set_preferences

    set_preferences(seeded["staff"]["reviewer"].user_id, {"grayscale": False, "thumb": 240})
    c, _ = _reviewer_client(app_client, seeded)
    preview = Image.open(io.BytesIO(c.get(f"/media/{seeded['items'][0]}/0").content))
    assert preview.mode == "RGB" and max(preview.size) == 240


def test_original_only_after_an_audited_reveal_once_and_only_for_the_revealer(app_client, seeded, reference_dir):
    from suraksha.cases.service import exposure_today

    original = (reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    item = seeded["items"][0]
    c, headers = _reviewer_client(app_client, seeded)
    assert c.get(f"/media/{item}/0?token=guessed").status_code == 403
    r = c.post(f"/media/{item}/0/reveal", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["exposure_today"] == 1 == exposure_today(seeded["staff"]["reviewer"].user_id)
    url = body["original_url"]
    assert url.startswith(f"/media/{item}/0?token=")

    # A senior reviewer signed in elsewhere cannot use this reviewer's link; an analyst neither.
    other, _ = _reviewer_client(app_client, seeded, "senior_reviewer")
    assert other.get(url).status_code == 403
    analyst, _ = _reviewer_client(app_client, seeded, "analyst")
    r = analyst.get(url)
    assert r.status_code == 403 and b"\xff\xd8" not in r.content

    r = c.get(url)
    assert r.status_code == 200 and r.content == original
    assert r.headers["cache-control"] == "no-store" and r.headers["x-suraksha-media"] == "original"
    again = c.get(url)
    assert again.status_code == 403 and "reveal the media again" in again.text and again.content != original
    # Without a token the same route still answers only the preview.
    assert c.get(f"/media/{item}/0").content != original


def test_reveal_and_original_fetch_are_audit_events(app_client, seeded):
    from sqlalchemy import select

    from suraksha.audit.models import AuditEvent
    from suraksha.db import session_scope

    item = seeded["items"][0]
    c, headers = _reviewer_client(app_client, seeded)
    url = c.post(f"/media/{item}/0/reveal", headers=headers).json()["original_url"]
    c.get(url)
    c.get(url)
    with session_scope() as s:
        events = [
            (e.action, e.actor, (e.details or {}).get("served"))
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_id == str(item), AuditEvent.action.like("media.%"))
                .order_by(AuditEvent.id)
            )
        ]
    who = seeded["staff"]["reviewer"].username  # actor_type 'user' is stored apart
    assert events[-3:] == [("media.reveal", who, None), ("media.view", who, "original"), ("media.original_refused", who, None)]


def test_analyst_gets_no_preview_and_cannot_reveal(app_client, seeded):
    item = seeded["items"][0]
    c, headers = _reviewer_client(app_client, seeded, "analyst")
    r = c.get(f"/media/{item}/0")
    assert r.status_code == 403 and b"\xff\xd8" not in r.content
    assert c.post(f"/media/{item}/0/reveal", headers=headers).status_code == 403


def test_undecodable_media_gives_a_placeholder_not_a_500(app_client, seeded):
    from suraksha.db import session_scope
    from suraksha.items.models import PendingMedia

    item = seeded["items"][1]
    with session_scope() as s:
        s.add(PendingMedia(item_id=item, position=0, data=b"\xff\xd8\xff\xe0 truncated garbage", held_for_evidence=True))
    c, headers = _reviewer_client(app_client, seeded)
    r = c.get(f"/media/{item}/0")
    assert r.status_code == 200 and r.headers["x-suraksha-media"] == "placeholder"
    assert "x-suraksha-media-reason" in r.headers
    lo, hi = Image.open(io.BytesIO(r.content)).convert("L").getextrema()
    assert hi - lo <= 2
    # The original is still what was held, after a reveal: reviewers can see what is broken.
    url = c.post(f"/media/{item}/0/reveal", headers=headers).json()["original_url"]
    assert c.get(url).content == b"\xff\xd8\xff\xe0 truncated garbage"


def test_task_page_shows_previews_and_no_original_url(app_client, seeded):
    from sqlalchemy import select

    from suraksha.cases.models import ReviewTask
    from suraksha.db import session_scope

    with session_scope() as s:
        task = s.scalar(select(ReviewTask.id).where(ReviewTask.item_id == seeded["items"][0]))
    c, _ = _reviewer_client(app_client, seeded)
    page = c.get(f"/review/tasks/{task}").text
    assert page.count('class="preview"') == 2 and "token=" not in page
    assert "<video" not in page  # video (if any) would show as a blurred poster frame


def test_video_shows_a_blurred_poster_until_revealed(app_client, seeded, reference_dir):
    from suraksha.db import session_scope
    from suraksha.items.models import ItemMedia, PendingMedia

    video = sorted((reference_dir / "video").glob("*.mp4"))[0].read_bytes()
    item = seeded["items"][1]
    with session_scope() as s:
        s.add(
            ItemMedia(
                item_id=item,
                position=1,
                mime="video/mp4",
                size=len(video),
                kind="video",
                sha256=hashlib.sha256(video).hexdigest(),
                md5=hashlib.md5(video).hexdigest(),
            )
        )
        s.add(PendingMedia(item_id=item, position=1, data=video, held_for_evidence=True))
    c, headers = _reviewer_client(app_client, seeded)
    r = c.get(f"/media/{item}/1")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.headers["x-suraksha-media"] == "poster"
    assert max(Image.open(io.BytesIO(r.content)).size) == 160 and len(r.content) < len(video) // 20
    page = c.get(f"/items/{item}").text
    assert "<video" not in page and 'data-kind="video"' in page
    url = c.post(f"/media/{item}/1/reveal", headers=headers).json()["original_url"]
    r = c.get(url)
    assert r.status_code == 200 and r.content == video and r.headers["content-type"] == "video/mp4"
