"""Review demo data: a few items with benign pictures waiting in review queues, so the workspace
(and its browser tests and screenshots) has something to show. Benign images only: the shared
reference photo of a bridge when available, otherwise generated gradients.

Rows are written the way a finished scan leaves them (item, media signals, held bytes, matches,
``review`` outbox messages); the dispatcher (or opening a review queue) turns the messages into tasks.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from suraksha.db import session_scope
from suraksha.db.base import utcnow

DEMO_BANK = "review-demo-csam"
DEMO_NEGATIVE_BANK = "review-demo-false-positives"


def generated_picture(seed: int, size: int = 256) -> bytes:
    """A benign, textured JPEG (gradients and stripes) whose PDQ quality is high enough to bank."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size))
    px = img.load()
    for y in range(size):
        for x in range(size):
            px[x, y] = ((x * (3 + seed)) % 256, (y * (5 + seed)) % 256, ((x + y) * (7 + seed)) % 256)
    draw = ImageDraw.Draw(img)
    for i in range(6):
        o = (seed * 37 + i * 41) % size
        draw.rectangle([o // 2, o // 3, o // 2 + 60, o // 3 + 40], fill=((seed * 50) % 256, 200 - i * 20, 90 + i * 25))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _image(reference: Path | None, seed: int) -> bytes:
    if reference is not None and reference.is_file():
        return reference.read_bytes()
    return generated_picture(seed)


def seed_review_demo(reference: Path | None = None) -> dict[str, Any]:
    """Create demo banks, three accounts and four items in the ``csam`` and ``default`` queues.

    Accounts ``sunrise_42`` and ``moonlight_7`` share a picture and an IP address; ``riverbank``
    shares a link with ``sunrise_42``. Returns the ids created.
    """
    from sqlalchemy import select

    from suraksha.items.models import Account, Item, ItemMatch, ItemMedia, PendingMedia
    from suraksha.matching.banks import BankError, create_bank
    from suraksha.outbox import enqueue
    from suraksha.signals import media_signals

    for name, negative, desc in (
        (DEMO_BANK, False, "Review demo: confirmed material (benign demo pictures)."),
        (DEMO_NEGATIVE_BANK, True, "Review demo: known false positives."),
    ):
        try:
            create_bank(name, "csam", negative=negative, description=desc)
        except BankError:
            pass

    bridge = _image(reference, 1)
    pictures = [bridge, generated_picture(2), generated_picture(3), generated_picture(4)]
    signals = [media_signals(p, "image/jpeg") for p in pictures]
    shared_link = "https://files.example.org/share/abc123"
    plan = [
        # platform id, account, media indexes (retained?), queue, priority, links, ip, reasons
        (
            "demo-post-1",
            "acct-sunrise",
            [(0, True), (1, True)],
            "csam",
            10,
            [shared_link],
            "203.0.113.7",
            ["pdq match in review-demo-csam"],
        ),
        ("demo-post-2", "acct-moonlight", [(0, True)], "csam", 5, [], "203.0.113.7", ["pdq match in review-demo-csam"]),
        ("demo-post-3", "acct-riverbank", [(2, False)], "default", 1, [shared_link], "198.51.100.23", ["classifier score 0.71"]),
        ("demo-post-4", "acct-sunrise", [(3, True)], "default", 0, [], "203.0.113.7", ["user report"]),
    ]
    handles = {"acct-sunrise": "sunrise_42", "acct-moonlight": "moonlight_7", "acct-riverbank": "riverbank"}
    ids: dict[str, Any] = {"items": [], "accounts": {}}
    with session_scope() as session:
        for pid, handle in handles.items():
            acc = session.scalar(select(Account).where(Account.platform_account_id == pid))
            if acc is None:
                acc = Account(platform_account_id=pid, handle=handle)
                session.add(acc)
                session.flush()
            ids["accounts"][handle] = acc.id
        for platform_id, acct, media, queue, priority, links, ip, reasons in plan:
            existing = session.scalar(select(Item).where(Item.platform_id == platform_id))
            if existing is not None:
                ids["items"].append(existing.id)
                continue
            account_id = ids["accounts"][handles[acct]]
            item = Item(
                platform_id=platform_id,
                account_id=account_id,
                kind="post",
                text=f"demo {platform_id}",
                links=links,
                context={"ip": ip, "country": "IN"},
                status="done",
                verdict="review",
                rule="demo-review",
                reasons=reasons,
                actions=[f"review:{queue}"],
                text_hits=[],
                priority=priority,
                scanned_at=utcnow(),
            )
            session.add(item)
            session.flush()
            for position, (idx, retained) in enumerate(media):
                ms = signals[idx]
                session.add(
                    ItemMedia(
                        item_id=item.id,
                        position=position,
                        mime="image/jpeg",
                        size=len(pictures[idx]),
                        kind="image",
                        sha256=ms.sha256,
                        md5=ms.md5,
                        pdq=ms.pdq.hash if ms.pdq else None,
                        pdq_quality=ms.pdq.quality if ms.pdq else None,
                    )
                )
                if retained:
                    session.add(PendingMedia(item_id=item.id, position=position, data=pictures[idx], held_for_evidence=True))
                if queue == "csam" and idx == 0 and ms.pdq:
                    session.add(
                        ItemMatch(
                            item_id=item.id,
                            media_position=position,
                            bank=DEMO_BANK,
                            label="csam",
                            signal_type="pdq",
                            signal=ms.pdq.hash,
                            distance=4,
                        )
                    )
            enqueue(
                session,
                "review",
                {
                    "item_id": item.id,
                    "queue": queue,
                    "priority": priority,
                    "reasons": reasons,
                    "action": f"review:{queue}",
                    "verdict": "review",
                },
                f"{item.id}:review:{queue}",
                item_id=item.id,
                account_id=account_id,
            )
            ids["items"].append(item.id)
    return ids
