"""Corrupt, truncated, bomb and unsupported inputs: always a MediaError, never a crash or a hang."""

from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from suraksha.signals import media_signals
from suraksha.signals.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = zlib.compress(b"\x00" * 1000)  # the start of a huge, highly compressible pixel stream
    idat_chunk = b"IDAT" + idat
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(idat)) + idat_chunk + struct.pack(">I", zlib.crc32(idat_chunk))
    )


def _picture(fmt: str) -> bytes:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:240, 0:320]
    arr = np.stack([(x % 256), (y % 256), ((x + y) // 2 % 256)], axis=-1).astype(np.uint8)
    arr = (arr // 2 + rng.integers(0, 128, arr.shape, dtype=np.uint8)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


def test_decompression_bomb_refused_from_header():
    with pytest.raises(MediaTooLarge, match="100000x100000"):
        media_signals(_png_header(100_000, 100_000) + b"\x00" * 100)


def test_pixel_and_byte_limits():
    data = _picture("PNG")
    with pytest.raises(MediaTooLarge):
        media_signals(data, max_pixels=1000)
    with pytest.raises(MediaTooLarge, match="bytes"):
        media_signals(data, max_bytes=100)


@pytest.mark.parametrize("data,error", [(b"", UnsupportedMedia), (b"hello world, not media", UnsupportedMedia), (b"%PDF-1.4\n", UnsupportedMedia)])
def test_unsupported(data, error):
    with pytest.raises(error):
        media_signals(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_truncations_and_bit_flips_of_images(fmt):
    data = _picture(fmt)
    assert media_signals(data).pdq is not None
    rng = random.Random(fmt)
    cases = [data[:n] for n in sorted({rng.randrange(1, len(data) - 1) for _ in range(40)} | {8, 16, 33, len(data) // 2})]
    for _ in range(40):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        cases.append(bytes(mutated))
    for case in cases:
        try:
            media_signals(case)
        except MediaError:
            pass  # expected for most; some bit flips still decode, which is fine


def test_random_bytes_never_escape_as_other_errors():
    rng = random.Random(1)
    for n in range(200):
        blob = bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
        if n % 3 == 0:
            blob = b"\xff\xd8\xff" + blob  # pretend JPEG
        elif n % 3 == 1:
            blob = b"\x00\x00\x00\x18ftypmp42" + blob  # pretend MP4
        with pytest.raises(MediaError):
            media_signals(blob)


def test_truncated_jpeg_is_corrupt():
    data = _picture("JPEG")
    with pytest.raises(CorruptMedia, match="truncated or damaged"):
        media_signals(data[: len(data) // 2])
