"""Benign generated files in formats Suraksha must refuse, and a guard that no child process starts.

Shared by tests/signals/test_format_allowlist.py and tests/api/test_media_allowlist.py. Every sample
is made here from a flat colour or a few drawing commands; none is decodable by Suraksha, most are
decodable by Pillow or FFmpeg when left to themselves (which is the point).
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

# A complete, tiny EPS that Ghostscript would render (a diagonal line): benign on purpose.
EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n%%EndComments\nnewpath 0 0 moveto 16 16 lineto stroke\nshowpage\n%%EOF\n"
)
PS = b"%!PS\n/Helvetica findfont 12 scalefont setfont 10 10 moveto (benign) show showpage\n"
# DOS EPS binary header (C5D0D3C6, offsets of the PostScript section), then the same EPS.
DOS_EPS = b"\xc5\xd0\xd3\xc6" + struct.pack("<IIIIIIH", 30, len(EPS), 0, 0, 0, 0, 0xFFFF) + EPS
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="red"/></svg>'
SVG_XML = b'<?xml version="1.0" encoding="UTF-8"?>\n' + SVG
# GIMP XCF header: magic, version, width, height, base type (RGB), then (empty) property list.
XCF = b"gimp xcf v011\x00" + struct.pack(">IIII", 16, 16, 0, 0) + b"\x00" * 16


def _psd() -> bytes:
    """A raw (uncompressed) 3-channel 8-bit Photoshop file Pillow's PSD plugin would decode."""
    w, h = 8, 6
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, h, w, 8, 3)
    sections = struct.pack(">III", 0, 0, 0)  # colour mode data, image resources, layers: empty
    return header + sections + struct.pack(">H", 0) + bytes([200] * w * h + [100] * w * h + [50] * w * h)


def _saved(fmt: str, mode: str = "RGB") -> Callable[[], bytes]:
    def make() -> bytes:
        img = Image.new("RGB", (32, 24), (200, 100, 50)).convert(mode)
        buf = io.BytesIO()
        img.save(buf, fmt)
        return buf.getvalue()

    return make


def _video(container: str, codec: str, pix_fmt: str = "yuv420p") -> Callable[[], bytes]:
    def make() -> bytes:
        import av

        buf = io.BytesIO()
        with av.open(buf, "w", format=container) as out:
            stream = out.add_stream(codec, rate=5)
            stream.width, stream.height, stream.pix_fmt = 64, 48, pix_fmt
            y, x = np.mgrid[0:48, 0:64]
            for i in range(10):
                arr = np.stack([(x * 4 + i * 8) % 256, (y * 5) % 256, (x + y) % 256], -1).astype(np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        return buf.getvalue()

    return make


#: name -> (bytes maker, what the refusal must name). Pictures and documents Suraksha does not decode.
REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "eps": (lambda: EPS, "EPS"),
    "eps-pillow": (_saved("EPS"), "PostScript"),
    "eps-dos-binary": (lambda: DOS_EPS, "EPS"),
    "ps": (lambda: PS, "PostScript"),
    "pdf": (_saved("PDF"), "PDF"),
    "svg": (lambda: SVG, "SVG"),
    "svg-xml": (lambda: SVG_XML, "SVG"),
    "xcf": (lambda: XCF, "XCF"),
    "psd": (_psd, "PSD"),
    "ico": (_saved("ICO"), "ICO"),
    "icns": (_saved("ICNS"), "ICNS"),
    "pcx": (_saved("PCX"), "PCX"),
    "ppm": (_saved("PPM"), "PNM"),
    "tga": (_saved("TGA"), "TGA"),
    "sgi": (_saved("SGI"), "SGI"),
    "dds": (_saved("DDS"), "DDS"),
    "qoi": (_saved("QOI"), "QOI"),
    "jpeg2000": (_saved("JPEG2000"), "JPEG 2000"),
    "im": (_saved("IM"), "IM"),
    "xbm": (_saved("XBM", "1"), "XBM"),
    "spider": (_saved("SPIDER", "F"), "unrecognised"),
    "dib": (_saved("DIB"), "unrecognised"),
    "avif": (_saved("AVIF"), "AVIF"),
}

#: Allowed containers holding a video codec that is not on the allow-list.
REFUSED_CODECS: dict[str, tuple[Callable[[], bytes], str]] = {
    "mkv-ffv1": (_video("matroska", "ffv1", "yuv420p"), "ffv1"),
    "mov-png": (_video("mov", "png", "rgb24"), "png"),
    "avi-huffyuv": (_video("avi", "huffyuv", "yuv422p"), "huffyuv"),
    "mov-qtrle": (_video("mov", "qtrle", "rgb24"), "qtrle"),
}

#: Allowed containers and codecs other than the MP4/H.264 the other tests use.
ALLOWED_VIDEOS: dict[str, Callable[[], bytes]] = {
    "mkv-vp9": _video("matroska", "libvpx-vp9"),
    "webm-vp8": _video("webm", "libvpx"),
    "avi-mpeg4": _video("avi", "mpeg4"),
    "mpegts-h264": _video("mpegts", "libx264"),
    "mpeg-mpeg2": _video("mpeg", "mpeg2video"),
    "mov-mjpeg": _video("mov", "mjpeg", "yuvj420p"),
    "flv-flv1": _video("flv", "flv"),
    "mkv-hevc": _video("matroska", "libx265"),
    "mkv-av1": _video("matroska", "libsvtav1"),
}


def _children() -> set[int]:
    """Ids of this process's live (or unreaped) child processes, from /proc."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            found.add(int(entry.name))
    return found


_SPAWNERS = (
    "fork",
    "forkpty",
    "posix_spawn",
    "posix_spawnp",
    "system",
    "popen",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "execl",
    "execle",
    "execlp",
    "execlpe",
    "spawnv",
    "spawnve",
    "spawnvp",
    "spawnvpe",
    "spawnl",
    "spawnle",
    "spawnlp",
    "spawnlpe",
)


@contextmanager
def no_child_process(monkeypatch, tmp_path: Path) -> Iterator[list[str]]:
    """Fail any attempt to start a program inside the block, and record it.

    Three layers: every Python way to spawn (subprocess, _posixsubprocess, os.*) is replaced by a
    recorder that refuses; a fake ``gs`` first on PATH writes a marker if anything (C code
    included) runs it; and /proc must show no new child of this process afterwards.
    """
    import _posixsubprocess
    import subprocess

    calls: list[str] = []

    def refuse(name: str) -> Callable[..., object]:
        def spawn(*args: object, **kwargs: object) -> object:
            calls.append(f"{name}{args[:1]!r}")
            raise PermissionError(f"test: {name} is not allowed while decoding media")

        return spawn

    monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
    monkeypatch.setattr(_posixsubprocess, "fork_exec", refuse("_posixsubprocess.fork_exec"))
    for name in _SPAWNERS:
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse(f"os.{name}"))
    marker = tmp_path / "gs-ran"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("gs", "gsc", "gsx", "djpeg", "ffmpeg", "convert", "magick", "inkscape", "rsvg-convert"):
        fake = bin_dir / tool
        fake.write_text(f"#!/bin/sh\necho {tool} \"$@\" >> '{marker}'\necho 10.0\n")
        fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    before = _children()
    yield calls
    assert not marker.exists(), f"an external program ran on submitted bytes: {marker.read_text()}"
    assert _children() <= before, f"new child processes: {_children() - before}"
    assert not calls, f"tried to start a program: {calls}"
