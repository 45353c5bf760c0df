"""Corrupt, truncated, bomb and unsupported inputs: always a MediaError, never a crash or a hang."""

from __future__ import annotations

import io
import random
import struct
import time
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from suraksha.signals import media_signals
from suraksha.signals.errors import CorruptMedia, MediaError, MediaTooLarge, UnsupportedMedia
from suraksha.signals.pdq import pdq_from_image_bytes
from suraksha.signals.video import vpdq_from_bytes

# One decode of a small corrupt file takes milliseconds; anything near this means a decoder loops.
SLOW = 2.0


def _png(width: int, height: int, body: bytes = b"\x00" * 1000) -> bytes:
    """A valid PNG header claiming width x height, followed by the start of a (tiny) pixel stream."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(body))


def _gif(width: int, height: int) -> bytes:
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", width, height, 0, 0, 0)
        + b",\x00\x00\x00\x00"
        + struct.pack("<HH", width, height)
        + b"\x00\x02\x02D\x01\x00;"
    )


def _picture(fmt: str, **save) -> bytes:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:240, 0:320]
    arr = np.stack([(x % 256), (y % 256), ((x + y) // 2 % 256)], axis=-1).astype(np.uint8)
    arr = (arr // 2 + rng.integers(0, 128, arr.shape, dtype=np.uint8)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **save)
    return buf.getvalue()


def _only_media_errors(data: bytes, fn=media_signals) -> MediaError | None:
    """Run ``fn``; the only acceptable failure is a MediaError, and it must be quick."""
    t0 = time.perf_counter()
    try:
        fn(data)
        error = None
    except MediaError as exc:
        assert str(exc) and "\n" not in str(exc), repr(exc)  # one clear line
        error = exc
    assert time.perf_counter() - t0 < SLOW, f"{len(data)} bytes took {time.perf_counter() - t0:.1f} s"
    return error


def test_png_bomb_refused_from_header_by_our_limit():
    # 10000 x 9000 = 90 MP: over our 64 MP default, under PIL's own error threshold.
    t0 = time.perf_counter()
    with pytest.raises(MediaTooLarge, match="10000x9000"):
        media_signals(_png(10_000, 9_000))
    assert time.perf_counter() - t0 < 0.5  # refused from the header, nothing decoded


def test_png_bomb_100000_square_is_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no PIL DecompressionBombWarning may escape either
        with pytest.raises(MediaTooLarge, match="10000000000 pixels"):
            media_signals(_png(100_000, 100_000))


def test_gif_and_jpeg_headers_claiming_huge_sizes():
    with pytest.raises(MediaTooLarge):
        media_signals(_gif(65_000, 65_000))
    jpeg = bytearray(_picture("JPEG"))
    sof = jpeg.index(b"\xff\xc0")  # baseline frame header: length(2) precision(1) height(2) width(2)
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 60_000, 60_000)
    with pytest.raises(MediaTooLarge, match="3600000000 pixels"):
        media_signals(bytes(jpeg))


def test_pixel_and_byte_limits():
    data = _picture("PNG")
    with pytest.raises(MediaTooLarge, match="320x240"):
        media_signals(data, max_pixels=1000)
    with pytest.raises(MediaTooLarge, match="bytes"):
        media_signals(data, max_bytes=100)
    assert media_signals(data, max_pixels=320 * 240, max_bytes=len(data)).pdq.hashable  # limits are inclusive


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world, not media",
        b"%PDF-1.4\n1 0 obj\n",
        b"PK\x03\x04" + b"\x00" * 40,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
    ids=["empty", "text", "pdf", "zip", "svg"],
)
def test_unsupported(data):
    with pytest.raises(UnsupportedMedia):
        media_signals(data)


def test_truncated_jpeg_is_corrupt():
    data = _picture("JPEG")
    with pytest.raises(CorruptMedia, match="truncated or damaged"):
        media_signals(data[: len(data) // 2])


@pytest.mark.parametrize(
    "fmt,save",
    [
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("PNG", {}),
        ("WEBP", {}),
        ("GIF", {}),
        ("BMP", {}),
        ("TIFF", {}),
        ("TIFF", {"compression": "tiff_deflate"}),
    ],
)
def test_truncations_and_byte_flips_of_images(fmt, save):
    data = _picture(fmt, **save)
    assert media_signals(data).pdq.hashable
    rng = random.Random(f"{fmt}{save}")
    cuts = sorted({rng.randrange(1, len(data)) for _ in range(40)} | {1, 2, 8, 16, 33, 100, len(data) // 2, len(data) - 1})
    refused = 0
    for n in cuts:
        refused += _only_media_errors(data[:n]) is not None
    # A file cut anywhere before its last few bytes must not pass as a good picture.
    assert refused >= len([n for n in cuts if n < len(data) * 0.9]), f"{fmt}: only {refused} of {len(cuts)} cuts refused"
    for _ in range(40):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        _only_media_errors(bytes(mutated))  # many flips still decode; none may raise anything else


def test_random_bytes_with_real_magic_numbers():
    rng = random.Random(1)
    prefixes = [
        b"\xff\xd8\xff",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"BM",
        b"II*\x00",
        b"RIFF\x00\x00\x00\x00WEBP",
        b"\x00\x00\x00\x18ftypmp42",
        b"\x1a\x45\xdf\xa3",
        b"RIFF\x00\x00\x00\x00AVI ",
        b"FLV\x01",
    ]
    for n in range(200):
        blob = prefixes[n % len(prefixes)] + bytes(rng.randrange(256) for _ in range(rng.randint(0, 2000)))
        assert _only_media_errors(blob) is not None, blob[:16]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_any_bytes_give_a_result_or_a_media_error(blob):
    _only_media_errors(blob)
    _only_media_errors(blob, pdq_from_image_bytes)
    _only_media_errors(blob, vpdq_from_bytes)


@pytest.fixture(scope="module")
def small_video() -> bytes:
    """A 3-second 64x48 H.264 MP4 generated here (moving gradient), to fuzz quickly."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        y, x = np.mgrid[0:48, 0:64]
        for i in range(30):
            arr = np.stack([(x * 4 + i * 8) % 256, (y * 5) % 256, ((x + y) * 2 + i * 3) % 256], -1).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def test_generated_video_hashes(small_video):
    frames = vpdq_from_bytes(small_video)
    assert [f.second for f in frames] == [0, 1, 2]


def test_truncated_and_damaged_videos(small_video):
    data = small_video
    rng = random.Random(5)
    for n in sorted({rng.randrange(1, len(data)) for _ in range(40)} | {1, 8, 12, 100, len(data) // 2}):
        _only_media_errors(data[:n])
        _only_media_errors(data[:n], vpdq_from_bytes)
    for _ in range(40):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 30)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        _only_media_errors(bytes(mutated), vpdq_from_bytes)


def test_video_frame_size_limit(small_video):
    with pytest.raises(MediaTooLarge, match="64x48"):
        media_signals(small_video, max_pixels=1000)
