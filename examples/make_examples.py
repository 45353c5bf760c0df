"""Regenerate the tour's sample files (benign, generated): ``python examples/make_examples.py``.

- photo.jpg: a generated picture (gradients and a checker pattern), 256x256;
- rotated-copy.jpg: the same picture turned 90 degrees (the tour's scan finds it via PDQ's rotations);
- clip.mp4: two seconds of moving generated frames (MPEG-4 Part 2, 8 fps);
- hashes.csv: a bank file (signal_type,signal,label,metadata) with made-up hashes and a domain;
- history.jsonl: three past posts in the POST /v1/items shape, one with photo.jpg as media.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import av
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent


def picture(w: int = 256, h: int = 256, shift: int = 0) -> Image.Image:
    x = np.arange(w)[None, :].repeat(h, 0)
    y = np.arange(h)[:, None].repeat(w, 1)
    r = (x * 255 // w + shift) % 256
    g = (y * 255 // h) % 256
    b = (((x + shift) // 20 + y // 20) % 2) * 200
    return Image.fromarray(np.stack([r, g, b], -1).astype(np.uint8), "RGB")


def main() -> None:
    photo = picture()
    photo.save(HERE / "photo.jpg", quality=90)
    photo.rotate(90, expand=True).save(HERE / "rotated-copy.jpg", quality=90)

    with av.open(str(HERE / "clip.mp4"), "w") as out:
        stream = out.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = 256, 256, "yuv420p"
        for n in range(16):
            frame = av.VideoFrame.from_image(picture(shift=n * 4))
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)

    with (HERE / "hashes.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["signal_type", "signal", "label", "metadata"])
        w.writerow(["pdq", "f" * 16 + "0" * 16 + "a5" * 16, "csam", '{"source": "example"}'])
        w.writerow(["md5", "0" * 31 + "1", "csam", ""])
        w.writerow(["sha256", "ab" * 32, "csam", ""])
        w.writerow(["domain", "bad.example", "csam", '{"note": "made up"}'])

    rows = [
        {
            "platform_id": "hist-1",
            "account": {"id": "u-1"},
            "text": "hello from 2022",
            "context": {"created_at": "2022-03-14T09:26:53+05:30", "country": "IN"},
        },
        {
            "platform_id": "hist-2",
            "account": {"id": "u-2"},
            "text": "see https://example.com/a",
            "links": ["https://example.com/a"],
            "context": {"created_at": "2023-07-01T12:00:00+00:00"},
        },
        {
            "platform_id": "hist-3",
            "account": {"id": "u-1"},
            "kind": "post",
            "media": [{"path": "photo.jpg", "mime": "image/jpeg"}],
            "context": {"created_at": "2024-01-02T08:30:00+05:30", "country": "IN"},
        },
    ]
    (HERE / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
