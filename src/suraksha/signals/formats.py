"""The media formats Suraksha decodes: an explicit allow-list, decided from the bytes' signature.

Submitted media reaches exactly one decoder, chosen here from its magic bytes (a declared MIME type
is whatever the uploader wanted it to be, so it chooses nothing):

- pictures: JPEG, PNG, GIF, BMP, TIFF and WebP, each opened by its one Pillow plugin
  (``Image.open(..., formats=[that plugin])``); a multi-picture JPEG opens as Pillow's MPO, which is
  the JPEG plugin's own factory;
- video: the containers below, each opened by its one FFmpeg demuxer (``av.open(format=...)``, so
  FFmpeg never probes), and only when the first video stream is one of ``VIDEO_CODECS``.

Everything else (PostScript/EPS, PDF, SVG, XCF, ICO, PSD, AVIF/HEIF, audio, archives, ...) is refused
with UnsupportedMedia naming what was seen, before any decoder runs. Pillow's general
``Image.open`` would otherwise try every plugin it has; its EPS plugin hands the file to the
system Ghostscript, which is why ``lock_down_pillow`` also switches Ghostscript off for the whole
process: no external program ever runs on submitted bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from suraksha.signals.errors import UnsupportedMedia

#: Pillow format ids of the pictures Suraksha decodes (the documented set; docs/security.md).
PICTURE_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP")
#: What ``Image.open`` may report for them: a JPEG holding several pictures (camera MPO) opens as MPO.
PICTURE_RESULT_FORMATS: frozenset[str] = frozenset(PICTURE_FORMATS) | {"MPO"}
#: FFmpeg demuxers of the video containers Suraksha decodes.
VIDEO_DEMUXERS: tuple[str, ...] = ("mov", "matroska", "avi", "flv", "mpegts", "mpeg", "mpegvideo")
#: FFmpeg codec ids (``Codec.canonical_name``) of the video streams Suraksha decodes: the codecs of
#: ordinary phone, camera, web and broadcast video. Anything else in an allowed container is refused.
VIDEO_CODECS: frozenset[str] = frozenset(
    {
        "h264",
        "hevc",
        "vp8",
        "vp9",
        "av1",
        "mpeg4",
        "mpeg1video",
        "mpeg2video",
        "mjpeg",
        "h263",
        "flv1",
    }
)
ACCEPTED = "JPEG, PNG, GIF, BMP, TIFF or WebP pictures; MP4/MOV, Matroska/WebM, AVI, FLV, MPEG-TS or MPEG video"

# ftyp brands of HEIF-family still pictures (AVIF, HEIC): not decoded, and not video either.
_PICTURE_BRANDS = (b"avif", b"avis", b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")
_MP4_BOXES = (b"moov", b"mdat", b"wide", b"free", b"skip")


@dataclass(frozen=True)
class MediaFormat:
    """One allowed format: ``kind`` is ``image`` or ``video``; ``decoder`` is the Pillow format id
    or the FFmpeg demuxer that alone may open it; ``name`` is for people."""

    kind: str
    name: str
    decoder: str


def detect(data: bytes) -> MediaFormat | None:
    """The allowed format these bytes start with, or None (refused: see ``describe``).

    Only the first bytes are read (up to 189, for the MPEG-TS sync byte of the second packet).
    """
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return MediaFormat("image", "JPEG", "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaFormat("image", "PNG", "PNG")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaFormat("image", "GIF", "GIF")
    if head.startswith(b"BM"):
        return MediaFormat("image", "BMP", "BMP")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return MediaFormat("image", "TIFF", "TIFF")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaFormat("image", "WebP", "WEBP")
    if head[4:8] == b"ftyp":
        if head[8:12] in _PICTURE_BRANDS:
            return None
        return MediaFormat("video", "MP4/QuickTime", "mov")
    if head[4:8] in _MP4_BOXES:
        return MediaFormat("video", "QuickTime", "mov")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaFormat("video", "Matroska/WebM", "matroska")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return MediaFormat("video", "AVI", "avi")
    if head.startswith(b"FLV"):
        return MediaFormat("video", "FLV", "flv")
    if head.startswith(b"\x00\x00\x01\xba"):
        return MediaFormat("video", "MPEG program stream", "mpeg")
    if head.startswith(b"\x00\x00\x01\xb3"):
        return MediaFormat("video", "MPEG video", "mpegvideo")
    if head[:1] == b"\x47" and len(data) > 188 and data[188:189] == b"\x47":
        return MediaFormat("video", "MPEG-TS", "mpegts")
    return None


# Signatures of formats that are *not* decoded, only to say what was sent (checked in order).
_REFUSED: tuple[tuple[bytes, int, str], ...] = (
    (b"%!PS-Adobe", 0, "PostScript"),  # EPS is told apart below
    (b"%!", 0, "PostScript"),
    (b"\xc5\xd0\xd3\xc6", 0, "EPS (Encapsulated PostScript, binary header)"),
    (b"%PDF", 0, "PDF"),
    (b"gimp xcf", 0, "GIMP XCF"),
    (b"8BPS", 0, "Photoshop PSD"),
    (b"icns", 0, "ICNS (Apple icon)"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "JPEG 2000"),
    (b"\xff\x4f\xff\x51", 0, "JPEG 2000 codestream"),
    (b"II+\x00", 0, "BigTIFF"),
    (b"MM\x00+", 0, "BigTIFF"),
    (b"DDS ", 0, "DDS texture"),
    (b"qoif", 0, "QOI"),
    (b"\x59\xa6\x6a\x95", 0, "Sun raster"),
    (b"\x01\xda", 0, "SGI image"),
    (b"SIMPLE  =", 0, "FITS"),
    (b"/* XPM */", 0, "XPM"),
    (b"#define", 0, "XBM"),
    (b"\x76\x2f\x31\x01", 0, "OpenEXR"),
    (b"OggS", 0, "Ogg"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", 0, "ASF/WMV"),
    (b"fLaC", 0, "FLAC audio"),
    (b"ID3", 0, "MP3 audio"),
    (b"PK\x03\x04", 0, "ZIP archive"),
    (b"\x1f\x8b", 0, "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "7-Zip archive"),
    (b"Rar!", 0, "RAR archive"),
    (b"\x7fELF", 0, "ELF executable"),
    (b"MZ", 0, "Windows executable"),
    (b"Image type:", 0, "IM"),
)


def describe(data: bytes) -> str:
    """What refused bytes look like, in a few words (never their content)."""
    head = bytes(data[:1024])
    if not head:
        return "empty"
    if head[4:8] == b"ftyp" and head[8:12] in _PICTURE_BRANDS:
        return "AVIF/HEIF picture"
    if head[:4] == b"RIFF":
        return {b"WAVE": "WAV audio", b"ACON": "animated cursor"}.get(head[8:12], "RIFF file")
    if head.startswith(b"%!PS-Adobe") and b"EPSF" in head.split(b"\n", 1)[0]:
        return "EPS (Encapsulated PostScript)"
    for magic, offset, name in _REFUSED:
        if head[offset : offset + len(magic)] == magic:
            return name
    if len(head) > 1 and head[:1] == b"P" and head[1:2] in b"1234567f" and head[2:3] in (b"\n", b"\r", b" ", b"\t"):
        return "PNM/PPM/PFM"
    if head[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00") and head[4:6] != b"\x00\x00":  # + image count
        return "ICO (Windows icon)" if head[2] == 1 else "CUR (Windows cursor)"
    if len(head) >= 18 and head[1] in (0, 1) and head[2] in (1, 2, 3, 9, 10, 11) and head[16] in (1, 8, 15, 16, 24, 32):
        return "TGA"  # no signature: id length, colour-map flag, image type, ..., bits per pixel
    if len(head) >= 3 and head[0] == 0x0A and head[1] in (0, 2, 3, 4, 5) and head[2] in (0, 1):
        return "PCX"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")) and b"<svg" in text:
        return "SVG"
    if text.startswith((b"<!doctype html", b"<html")):
        return "HTML"
    if text.startswith(b"<?xml"):
        return "XML"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head[:256]):
        return "text"
    return "unrecognised data"


def unsupported(data: bytes, *, wanted: str = "picture or video") -> UnsupportedMedia:
    """The error for bytes that are not an allowed format (raise it)."""
    return UnsupportedMedia(f"not a {wanted} format Suraksha decodes: {describe(data)} (accepted: {ACCEPTED})")


def picture_format(data: bytes) -> str:
    """The one Pillow format id allowed to open these bytes; UnsupportedMedia for anything else."""
    fmt = detect(data)
    if fmt is None:
        raise unsupported(data, wanted="picture")
    if fmt.kind != "image":
        raise UnsupportedMedia(f"not a picture format Suraksha decodes: {fmt.name} video")
    return fmt.decoder


def video_demuxer(source: bytes | bytearray | memoryview | BinaryIO) -> str:
    """The one FFmpeg demuxer allowed to open this video (bytes, or a seekable binary file whose
    position is left unchanged); UnsupportedMedia for anything else."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        head = bytes(source[:256])
    else:
        at = source.tell()
        head = source.read(256)
        source.seek(at)
    fmt = detect(head)
    if fmt is None:
        raise unsupported(head, wanted="video")
    if fmt.kind != "video":
        raise UnsupportedMedia(f"not a video format Suraksha decodes: {fmt.name} picture")
    return fmt.decoder


def check_video_codec(stream: object) -> None:
    """UnsupportedMedia unless the PyAV video ``stream`` is coded with one of ``VIDEO_CODECS``.

    Checked before the first packet is decoded, so a container may only ever feed an allowed decoder.
    """
    codec = getattr(getattr(stream, "codec_context", None), "codec", None)
    name = getattr(codec, "canonical_name", None) or getattr(codec, "name", None) or "unknown"
    if name not in VIDEO_CODECS:
        raise UnsupportedMedia(f"video codec {name} is not one Suraksha decodes (accepted: {', '.join(sorted(VIDEO_CODECS))})")


def lock_down_pillow() -> None:
    """Register the allowed picture plugins and make Pillow unable to start Ghostscript.

    Importing the six plugins up front means ``Image.open(..., formats=[...])`` never falls back to
    ``Image.init()`` (which imports every plugin). Pillow's EPS plugin is the only reader that runs
    an external program; marking the Ghostscript binary absent (``gs_binary = False``, which Pillow
    checks before every call) makes any stray EPS decode in this process fail instead of spawning
    ``gs``. Idempotent.
    """
    from PIL import (  # noqa: F401 - imported to register them
        BmpImagePlugin,
        EpsImagePlugin,
        GifImagePlugin,
        JpegImagePlugin,
        PngImagePlugin,
        TiffImagePlugin,
        WebPImagePlugin,
    )

    EpsImagePlugin.gs_binary = False
    EpsImagePlugin.gs_windows_binary = False
