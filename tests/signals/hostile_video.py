"""Benign generated videos for the scan-budget tests: flat grey or moving gradients, made in memory.

``static_video`` makes what an attacker would: a tiny file announcing many big frames. Two frames
are encoded (a key frame and one "nothing changed" frame) and the second packet is muxed again for
every further second, so a 4-hour 4K video is ~0.5 MB and takes well under a second to make,
while decoding it takes minutes and hashing it hours.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest

av = pytest.importorskip("av")

CODEC = "libx264"


def _need_x264() -> None:
    if CODEC not in av.codecs_available:
        pytest.skip("PyAV was built without libx264")


def static_video(width: int, height: int, seconds: int, fps: int = 1) -> bytes:
    """An MP4 (H.264) of ``seconds`` x ``fps`` identical grey frames of ``width`` x ``height``."""
    _need_x264()
    enc = av.CodecContext.create(CODEC, "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.time_base, enc.framerate = Fraction(1, fps), Fraction(fps, 1)
    enc.options = {"preset": "ultrafast", "tune": "zerolatency"}
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane in frame.planes:
        plane.update(bytes([128]) * plane.buffer_size)
    packets = []
    for pts in range(2):
        frame.pts = pts
        packets += enc.encode(frame)
    packets += enc.encode(None)
    key, repeat = bytes(packets[0]), bytes(packets[1])
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream(CODEC, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.extradata = enc.extradata
        stream.time_base = Fraction(1, fps)
        for i in range(seconds * fps):
            packet = av.Packet(key if i == 0 else repeat)
            packet.pts = packet.dts = i
            packet.time_base, packet.stream, packet.is_keyframe = Fraction(1, fps), stream, i == 0
            out.mux(packet)
    return buf.getvalue()


def moving_video(width: int = 320, height: int = 240, seconds: int = 10, fps: int = 30) -> bytes:
    """An ordinary MP4 (H.264): a gradient sliding sideways, every frame different."""
    _need_x264()
    y, x = np.mgrid[0:height, 0:width]
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream(CODEC, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(seconds * fps):
            grey = ((x * 2 + y + i * 5) % 256).astype(np.uint8)
            rgb = np.stack([grey, np.roll(grey, 40, axis=1), 255 - grey], -1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


@dataclass
class Work:
    """Frames decoded (``decode_frames``) and hashed (``pdqhash.compute``) while a test runs."""

    decoded: int = 0
    hashed: int = 0


def count_work(monkeypatch: pytest.MonkeyPatch) -> Work:
    """Count the work of every vPDQ decode from now on: the proof that a refusal came before it."""
    import pdqhash

    from suraksha.signals import video as video_mod

    counts = Work()
    real_decode, real_hash = video_mod.decode_frames, pdqhash.compute

    def decode_frames(*args, **kwargs):
        for frame in real_decode(*args, **kwargs):
            counts.decoded += 1
            yield frame

    def compute(*args, **kwargs):
        counts.hashed += 1
        return real_hash(*args, **kwargs)

    monkeypatch.setattr(video_mod, "decode_frames", decode_frames)
    monkeypatch.setattr(pdqhash, "compute", compute)
    return counts
